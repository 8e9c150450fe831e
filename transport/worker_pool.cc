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

Status WorkerPoolExecutor::RunEpoch(const kernel::EpochBegin& begin, kernel::EpochDone* done) {
  THALIA_RETURN_IF_ERROR(Usable());
  in_epoch_ = true;
  epoch_ = begin.epoch;
  done->epoch = begin.epoch;
  done->regions.resize(spec_->regions.size());
  THALIA_RETURN_IF_ERROR(SendEach([&](const PoolWorker& w, flatbuffers::FlatBufferBuilder* b) {
    EncodeEpochBegin(begin, w.regions, b);
  }));
  THALIA_RETURN_IF_ERROR(RunLocal(begin, done));
  Status st = CollectReplies([&](PoolWorker& w, const wire::Message& m) -> Status {
    const wire::EpochDone* d = m.payload_as_EpochDone();
    if (!d) return Status::Corrupt(std::string("expected EpochDone, got ") + wire::EnumNamePayload(m.payload_type()));
    EpochTiming t;
    THALIA_RETURN_IF_ERROR(DecodeEpochDone(*d, begin.epoch, w.regions, done, &t));
    if (begin.t1 > begin.t0) ++w.stats.epochs;  // not the kernel's zero-length flushes
    w.stats.busy_s += static_cast<double>(t.busy_ns) * 1e-9;
    w.stats.wait_s += static_cast<double>(t.wait_ns) * 1e-9;
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
