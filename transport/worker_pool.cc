// The request steps the socket and MPI executors share. Requests to workers are sent before the
// coordinator's own share runs, so the workers compute while it does.
#include "transport/worker_pool.h"

#include <algorithm>

namespace thalia::transport {

Status WorkerPoolExecutor::Usable() const {
  if (!started_) return Status::Internal(std::string(executor_) + " was not started");
  if (failed_ || shut_down_)
    return Status::Worker(std::string(workers_) + " have stopped after an earlier failure or shutdown");
  return Status::Ok();
}

int WorkerPoolExecutor::PlacedWorkers() const {
  int count = 0;
  for (int w : placement_) count = std::max(count, w + 1);
  return count;
}

void WorkerPoolExecutor::AssignRegions(int index, PoolWorker* w) const {
  w->index = w->stats.worker = index;
  for (size_t r = 0; r < placement_.size(); ++r)
    if (placement_[r] == index) w->regions.push_back(static_cast<RegionId>(r));
  w->stats.regions = w->regions;
}

uint16_t WorkerPoolExecutor::ProcessOf(const PoolWorker& w) { return w.local ? 0 : static_cast<uint16_t>(w.index + 1); }

Status WorkerPoolExecutor::SendEach(const Encode& encode) {
  for (size_t i = 0; i < WorkerCount(); ++i) {
    PoolWorker& w = WorkerAt(i);
    if (w.local) continue;
    encode(w, &OutFor(w));
    THALIA_RETURN_IF_ERROR(Send(w));
  }
  return Status::Ok();
}

std::string WorkerPoolExecutor::PhaseText() const {
  return in_epoch_ ? "epoch " + std::to_string(epoch_) : std::string(phase_);
}

std::string WorkerPoolExecutor::RegionList(const PoolWorker& w) const {
  std::string names;
  for (RegionId r : w.regions) names += (names.empty() ? "" : ", ") + spec_->regions[r].name;
  return (w.regions.size() == 1 ? ", region " : ", regions ") + names;
}

std::string WorkerPoolExecutor::NoReplyWithin(int timeout_ms) {
  return "hung: no reply within " + std::to_string(timeout_ms) + " ms";
}

void WorkerPoolExecutor::DescribeWorkers(uint32_t threads) {
  if (!profiler_) return;
  for (size_t i = 0; i < WorkerCount(); ++i) {
    const PoolWorker& w = WorkerAt(i);
    std::string regions = RegionList(w).substr(2);  // "region a" or "regions a, b"
    if (w.local)
      profiler_->DescribeProcess(0, "coordinator, also worker 0: " + regions, w.stats.pid, threads);
    else
      profiler_->DescribeProcess(ProcessOf(w), "worker " + std::to_string(w.index) + ": " + regions, w.stats.pid,
                                 threads);
  }
}

// Per pool thread since the worker started, as ThreadPool::BusySeconds and WaitSeconds say.
void WorkerPoolExecutor::SetThreadTimes(PoolWorker& w, const std::vector<uint64_t>& busy_ns,
                                        const std::vector<uint64_t>& wait_ns) {
  w.stats.thread_busy_s.resize(busy_ns.size());
  w.stats.thread_wait_s.resize(wait_ns.size());
  for (size_t i = 0; i < busy_ns.size(); ++i) w.stats.thread_busy_s[i] = static_cast<double>(busy_ns[i]) * 1e-9;
  for (size_t i = 0; i < wait_ns.size(); ++i) w.stats.thread_wait_s[i] = static_cast<double>(wait_ns[i]) * 1e-9;
}

// With --profile, the coordinator's thread: encoding and sending, its own share (RunLocal adds
// those spans), then waiting for replies cut by the decoding of each as it arrives.
Status WorkerPoolExecutor::RunEpoch(const kernel::EpochBegin& begin, kernel::EpochDone* done) {
  THALIA_RETURN_IF_ERROR(Usable());
  in_epoch_ = true;
  epoch_ = begin.epoch;
  done->epoch = begin.epoch;
  done->regions.resize(spec_->regions.size());
  const bool profile = profiler_ && profiler_->active();
  uint64_t mark = profile ? kernel::ProfileNow() : 0;
  THALIA_RETURN_IF_ERROR(SendEach([&](const PoolWorker& w, flatbuffers::FlatBufferBuilder* b) {
    EncodeEpochBegin(begin, w.regions, b, profile);
  }));
  if (profile) {
    const uint64_t now = kernel::ProfileNow();
    profiler_->Add(kernel::SpanKind::kSend, begin.epoch, mark, now);
    mark = now;
  }
  THALIA_RETURN_IF_ERROR(RunLocal(begin, done));
  if (profile) mark = kernel::ProfileNow();
  Status st = CollectReplies([&](PoolWorker& w, const wire::Message& m) -> Status {
    const uint64_t arrived = profile ? kernel::ProfileNow() : 0;
    const wire::EpochDone* d = m.payload_as_EpochDone();
    if (!d) return Status::Corrupt(std::string("expected EpochDone, got ") + wire::EnumNamePayload(m.payload_type()));
    EpochTiming& t = timing_;
    THALIA_RETURN_IF_ERROR(DecodeEpochDone(*d, begin.epoch, w.regions, done, &t));
    if (begin.t1 > begin.t0) ++w.stats.epochs;  // not the kernel's zero-length flushes
    w.stats.busy_s += static_cast<double>(t.busy_ns) * 1e-9;
    w.stats.wait_s += static_cast<double>(t.wait_ns) * 1e-9;
    if (!t.thread_busy_ns.empty()) SetThreadTimes(w, t.thread_busy_ns, t.thread_wait_ns);
    if (profile) {
      for (kernel::ProfileSpan s : t.spans) {
        s.process = ProcessOf(w);
        profiler_->Add(s);
      }
      const uint64_t now = kernel::ProfileNow();
      profiler_->Add(kernel::SpanKind::kWaitReplies, begin.epoch, mark, arrived);
      profiler_->Add(kernel::SpanKind::kDecode, begin.epoch, arrived, now);
      mark = now;
    }
    return Status::Ok();
  });
  in_epoch_ = false;
  return st;
}

Status WorkerPoolExecutor::SaveStates(std::vector<std::vector<uint8_t>>* states) {
  THALIA_RETURN_IF_ERROR(Usable());
  phase_ = "saving region states";
  states->assign(spec_->regions.size(), {});
  THALIA_RETURN_IF_ERROR(SendEach([](const PoolWorker&, flatbuffers::FlatBufferBuilder* b) {
    b->Clear();
    FinishMessage(b, wire::Payload::SaveStates, wire::CreateSaveStates(*b));
  }));
  SaveLocal(states);
  THALIA_RETURN_IF_ERROR(
      CollectReplies([&](PoolWorker& w, const wire::Message& m) { return DecodeStates(m, w.regions, states); }));
  phase_ = "the run";
  return Status::Ok();
}

Status WorkerPoolExecutor::LoadStates(const std::vector<std::vector<uint8_t>>& states) {
  THALIA_RETURN_IF_ERROR(Usable());
  if (states.size() != spec_->regions.size()) return Status::Invalid("state for another number of regions");
  phase_ = "loading region states";
  Status local_status = LoadLocal(states);
  THALIA_RETURN_IF_ERROR(SendEach([&](const PoolWorker& w, flatbuffers::FlatBufferBuilder* b) {
    EncodeLoadStates(states, w.regions, b);
  }));
  Status st = CollectReplies([](PoolWorker&, const wire::Message& m) -> Status {
    return m.payload_as_Ack() ? Status::Ok() : Status::Corrupt("expected Ack");
  });
  phase_ = "the run";
  return st.ok() ? local_status : st;
}

Status WorkerPoolExecutor::Digests(bool full, std::vector<uint64_t>* out) {
  THALIA_RETURN_IF_ERROR(Usable());
  phase_ = "computing digests";
  out->assign(spec_->regions.size(), 0);
  THALIA_RETURN_IF_ERROR(SendEach([full](const PoolWorker&, flatbuffers::FlatBufferBuilder* b) {
    b->Clear();
    FinishMessage(b, wire::Payload::DigestRequest, wire::CreateDigestRequest(*b, full));
  }));
  DigestLocal(full, out);
  THALIA_RETURN_IF_ERROR(
      CollectReplies([&](PoolWorker& w, const wire::Message& m) { return DecodeDigestList(m, w.regions, out); }));
  phase_ = "the run";
  return Status::Ok();
}

Status WorkerPoolExecutor::PerturbWeightForTest(RegionId region, float delta) {
  THALIA_RETURN_IF_ERROR(Usable());
  if (region >= placement_.size()) return Status::Invalid("no region " + std::to_string(region));
  phase_ = "perturbing a weight";
  PoolWorker& w = WorkerAt(static_cast<size_t>(placement_[region]));
  if (w.local) {
    phase_ = "the run";
    return PerturbLocal(region, delta);
  }
  flatbuffers::FlatBufferBuilder& b = OutFor(w);
  b.Clear();
  FinishMessage(&b, wire::Payload::Perturb, wire::CreatePerturb(b, region, delta));
  THALIA_RETURN_IF_ERROR(Send(w));
  Status st = CollectReplies([](PoolWorker&, const wire::Message& m) -> Status {
    return m.payload_as_Ack() ? Status::Ok() : Status::Corrupt("expected Ack");
  });
  phase_ = "the run";
  return st;
}

std::vector<kernel::WorkerStats> WorkerPoolExecutor::Stats() const {
  std::vector<kernel::WorkerStats> s;
  for (size_t i = 0; i < WorkerCount(); ++i) s.push_back(WorkerAt(i).stats);
  return s;
}

}  // namespace thalia::transport
