// The request steps the socket and MPI executors share. Requests to workers are sent before the
// coordinator's own share runs, so the workers compute while it does.
#include "transport/worker_pool.h"

#include <algorithm>

#include "kernel/digest.h"
#include "kernel/state_codec.h"

namespace thalia::transport {

Status WorkerPoolExecutor::Usable() const {
  if (!started_) return Status::Internal(std::string(executor_) + " was not started");
  if (failed_ || shut_down_)
    return Status::Worker(std::string(workers_) + " have stopped after an earlier failure or shutdown");
  return Status::Ok();
}

Status WorkerPoolExecutor::Place(const std::vector<double>& costs, int workers, const std::vector<int>& placement,
                                 const std::vector<std::vector<int>>& split) {
  auto parts = PlaceParts(*spec_, costs, workers, placement, split);
  if (!parts.ok()) return parts.status();
  parts_ = std::move(parts).value();
  const size_t n = parts_.size();
  placement_.assign(n, 0);
  split_.assign(n, false);
  part_results_.assign(n, {});
  sibling_spikes_.assign(n, {});
  extra_.assign(n, {});
  scratch_.regions.resize(n);
  epoch_limit_ = 0;
  for (RegionId r = 0; r < n; ++r) {
    placement_[r] = parts_[r][0].worker;
    if (parts_[r].size() < 2) continue;
    split_[r] = true;
    part_results_[r].resize(parts_[r].size());
    sibling_spikes_[r].resize(parts_[r].size());
    // A part hears its siblings' spikes one epoch later: no spike of the region may be due
    // sooner than an epoch after it was emitted.
    const kernel::Tick d = kernel::MinInternalDelayTicks(spec_->regions[r], spec_->dt_ms);
    if (d > 0) epoch_limit_ = epoch_limit_ == 0 ? d : std::min(epoch_limit_, d);
  }
  return Status::Ok();
}

Status WorkerPoolExecutor::Idle() const {
  THALIA_RETURN_IF_ERROR(Usable());
  if (!running_.empty()) return Status::Internal("an epoch started is not finished");
  return Status::Ok();
}

bool WorkerPoolExecutor::AnySplit() const {
  return std::find(split_.begin(), split_.end(), true) != split_.end();
}

void WorkerPoolExecutor::EncodeSetup(const PoolWorker& w, uint32_t threads, uint32_t shards,
                                     flatbuffers::FlatBufferBuilder* b) const {
  b->Clear();
  auto ids = b->CreateVector(w.regions);
  auto config = b->CreateVector(spec_->config);
  auto lo = b->CreateVector(w.part_lo);
  auto hi = b->CreateVector(w.part_hi);
  flatbuffers::Offset<flatbuffers::Vector<const wire::PartPlace*>> placement;
  if (direct_) {
    std::vector<wire::PartPlace> all;
    for (RegionId r = 0; r < parts_.size(); ++r)
      for (const PartPlace& p : parts_[r]) all.emplace_back(r, p.worker, p.lo, p.hi);
    placement = b->CreateVectorOfStructs(all);
  }
  FinishMessage(b, wire::Payload::Setup,
                wire::CreateSetup(*b, kProtocolVersion, w.index, ids, config, threads, shards, lo, hi, direct_,
                                  placement));
}

int WorkerPoolExecutor::PlacedWorkers() const {
  int count = 0;
  for (const auto& parts : parts_)
    for (const PartPlace& p : parts) count = std::max(count, p.worker + 1);
  return count;
}

void WorkerPoolExecutor::AssignRegions(int index, PoolWorker* w) const {
  w->index = w->stats.worker = index;
  for (size_t r = 0; r < parts_.size(); ++r)
    for (const PartPlace& p : parts_[r])
      if (p.worker == index) {
        w->regions.push_back(static_cast<RegionId>(r));
        w->part_lo.push_back(p.lo);
        w->part_hi.push_back(p.hi);
      }
  w->stats.regions = w->regions;
}

void WorkerPoolExecutor::SiblingSpikes(const PoolWorker& w, RegionId r) {
  const size_t mine = PartOf(r, w.index);
  for (size_t k = 0; k < sibling_spikes_[r].size(); ++k)
    if (k != mine)
      for (const kernel::Spike& s : sibling_spikes_[r][k]) extra_[r].push_back({s.tick, r, s.neuron});
}

std::span<const kernel::InSpike> WorkerPoolExecutor::LocalInbound(const kernel::EpochBegin& begin,
                                                                  const PoolWorker& w, RegionId r) {
  if (!split_[r]) return begin.inbound[r];
  extra_[r].clear();
  SiblingSpikes(w, r);
  local_inbound_ = begin.inbound[r];
  local_inbound_.insert(local_inbound_.end(), extra_[r].begin(), extra_[r].end());
  return local_inbound_;
}

PoolWorker* WorkerPoolExecutor::LocalWorker() {
  for (size_t i = 0; i < WorkerCount(); ++i)
    if (WorkerAt(i).local) return &WorkerAt(i);
  return nullptr;
}

size_t WorkerPoolExecutor::PartOf(RegionId r, int worker) const {
  for (size_t k = 0; k < parts_[r].size(); ++k)
    if (parts_[r][k].worker == worker) return k;
  return 0;
}

Status WorkerPoolExecutor::CombineParts(RegionId r, std::span<const kernel::DigestPart> entries,
                                        uint64_t* digest) const {
  if (kernel::CombineDigestParts(entries, digest)) return Status::Ok();
  return Status::Internal("the parts of region '" + spec_->regions[r].name +
                          "' hold states that do not join into one (their digests disagree)");
}

Status WorkerPoolExecutor::JoinParts(kernel::EpochDone* done) {
  for (RegionId r = 0; r < split_.size(); ++r) {
    if (!split_[r]) continue;
    kernel::RegionResult& rr = done->regions[r];
    rr.spikes.clear();
    rr.counters = {};
    rr.digest_part.clear();
    std::vector<kernel::DigestPart> entries(part_results_[r].size());
    for (size_t k = 0; k < part_results_[r].size(); ++k) {
      kernel::RegionResult& pr = part_results_[r][k];
      rr.spikes.insert(rr.spikes.end(), pr.spikes.begin(), pr.spikes.end());
      rr.counters.spikes += pr.counters.spikes;
      rr.counters.synaptic_events += pr.counters.synaptic_events;
      rr.counters.neuron_updates += pr.counters.neuron_updates;
      if (!kernel::DigestPartFromWords(pr.digest_part, &entries[k]))
        return Status::Corrupt("part " + std::to_string(k) + " of region '" + spec_->regions[r].name +
                               "' sent a malformed digest");
      sibling_spikes_[r][k].swap(pr.spikes);
    }
    // Parts own ascending neuron ranges: tick by tick, their spikes in part order are in
    // (tick, neuron) order.
    std::stable_sort(rr.spikes.begin(), rr.spikes.end(),
                     [](const kernel::Spike& a, const kernel::Spike& b) { return a.tick < b.tick; });
    THALIA_RETURN_IF_ERROR(CombineParts(r, entries, &rr.digest));
  }
  return Status::Ok();
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
  done->regions.resize(spec_->regions.size());
  THALIA_RETURN_IF_ERROR(StartEpoch(begin));
  in_epoch_ = true;
  THALIA_RETURN_IF_ERROR(RunLocal(begin, done));
  if (AnySplit())
    if (PoolWorker* l = LocalWorker())
      for (RegionId r : l->regions)
        if (split_[r]) std::swap(part_results_[r][PartOf(r, l->index)], done->regions[r]);
  return FinishEpoch(done);
}

Status WorkerPoolExecutor::StartEpoch(const kernel::EpochBegin& begin) {
  THALIA_RETURN_IF_ERROR(Usable());
  if (running_.size() >= 2) return Status::Internal("more than two epochs started and not finished");
  in_epoch_ = true;
  // A worker found dead while this epoch is sent died in the oldest epoch it has not finished
  // (pipelined: the one before), which is the one to name.
  epoch_ = running_.empty() ? begin.epoch : running_.front().epoch;
  const bool profile = profiler_ && profiler_->active();
  const uint64_t mark = profile ? kernel::ProfileNow() : 0;
  const bool any_split = AnySplit();
  THALIA_RETURN_IF_ERROR(SendEach([&](const PoolWorker& w, flatbuffers::FlatBufferBuilder* b) {
    // Direct exchange: the workers hand sibling parts their spikes themselves.
    if (direct_) return EncodeEpochBegin(begin, w.regions, b, profile, nullptr, begin.want_spikes);
    if (!any_split) return EncodeEpochBegin(begin, w.regions, b, profile);
    // A part of a split region also gets its siblings' spikes of the last epoch.
    for (RegionId r : w.regions) {
      extra_[r].clear();
      if (split_[r]) SiblingSpikes(w, r);
    }
    EncodeEpochBegin(begin, w.regions, b, profile, &extra_);
  }));
  if (profile) profiler_->Add(kernel::SpanKind::kSend, begin.epoch, mark, kernel::ProfileNow());
  running_.push_back({begin.epoch, begin.t1 > begin.t0, profile});
  in_epoch_ = false;
  return Status::Ok();
}

Status WorkerPoolExecutor::FinishEpoch(kernel::EpochDone* done) {
  if (running_.empty()) return Status::Internal("no epoch was started");
  const Started s = running_.front();
  running_.pop_front();
  in_epoch_ = true;
  epoch_ = s.epoch;
  done->epoch = s.epoch;
  done->regions.resize(spec_->regions.size());
  // Every worker owes one reply for this epoch (another may follow, for an epoch started since).
  for (size_t i = 0; i < WorkerCount(); ++i)
    if (!WorkerAt(i).local) WorkerAt(i).pending = true;
  const bool profile = s.profile;
  uint64_t mark = profile ? kernel::ProfileNow() : 0;
  const bool any_split = AnySplit();
  Status st = CollectReplies([&](PoolWorker& w, const wire::Message& m) -> Status {
    const uint64_t arrived = profile ? kernel::ProfileNow() : 0;
    const wire::EpochDone* d = m.payload_as_EpochDone();
    if (!d) return Status::Corrupt(std::string("expected EpochDone, got ") + wire::EnumNamePayload(m.payload_type()));
    EpochTiming& t = timing_;
    if (!any_split) {
      THALIA_RETURN_IF_ERROR(DecodeEpochDone(*d, s.epoch, w.regions, done, &t));
    } else {
      THALIA_RETURN_IF_ERROR(DecodeEpochDone(*d, s.epoch, w.regions, &scratch_, &t));
      for (RegionId r : w.regions)
        std::swap(split_[r] ? part_results_[r][PartOf(r, w.index)] : done->regions[r], scratch_.regions[r]);
    }
    if (s.ticks) ++w.stats.epochs;  // not the kernel's zero-length flushes
    if (d->regions())
      for (const wire::RegionOutput* ro : *d->regions())
        if (ro->spikes()) w.stats.spikes_to_coordinator += ro->spikes()->size();
    w.stats.busy_s += static_cast<double>(t.busy_ns) * 1e-9;
    w.stats.wait_s += static_cast<double>(t.wait_ns) * 1e-9;
    if (!t.thread_busy_ns.empty()) SetThreadTimes(w, t.thread_busy_ns, t.thread_wait_ns);
    if (profile) {
      for (kernel::ProfileSpan sp : t.spans) {
        sp.process = ProcessOf(w);
        profiler_->Add(sp);
      }
      const uint64_t now = kernel::ProfileNow();
      profiler_->Add(kernel::SpanKind::kWaitReplies, s.epoch, mark, arrived);
      profiler_->Add(kernel::SpanKind::kDecode, s.epoch, arrived, now);
      mark = now;
    }
    return Status::Ok();
  });
  if (st.ok() && any_split) st = JoinParts(done);
  if (st.ok() && direct_) {
    // The workers hold this epoch's spikes until the next epoch (or a flush) hands them over.
    // (The counters count since the start of the run: a change is this epoch's spikes.)
    spikes_in_flight_ = false;
    spike_counts_.resize(done->regions.size(), ~uint64_t{0});
    for (size_t r = 0; r < done->regions.size(); ++r) {
      spikes_in_flight_ = spikes_in_flight_ || done->regions[r].counters.spikes != spike_counts_[r];
      spike_counts_[r] = done->regions[r].counters.spikes;
    }
  }
  in_epoch_ = !running_.empty();
  if (in_epoch_) epoch_ = running_.front().epoch;
  return st;
}

Status WorkerPoolExecutor::SaveStates(std::vector<std::vector<uint8_t>>* states) {
  THALIA_RETURN_IF_ERROR(Idle());
  phase_ = "saving region states";
  states->assign(spec_->regions.size(), {});
  THALIA_RETURN_IF_ERROR(SendEach([](const PoolWorker&, flatbuffers::FlatBufferBuilder* b) {
    b->Clear();
    FinishMessage(b, wire::Payload::SaveStates, wire::CreateSaveStates(*b));
  }));
  SaveLocal(states);
  // A split region: each part's (masked) state, joined once all have replied.
  std::vector<std::vector<std::vector<uint8_t>>> parts(spec_->regions.size());
  for (RegionId r = 0; r < parts.size(); ++r) parts[r].resize(split_[r] ? parts_[r].size() : 0);
  if (PoolWorker* l = LocalWorker())
    for (RegionId r : l->regions)
      if (split_[r]) parts[r][PartOf(r, l->index)].swap((*states)[r]);
  std::vector<std::vector<uint8_t>> mine(spec_->regions.size());
  THALIA_RETURN_IF_ERROR(CollectReplies([&](PoolWorker& w, const wire::Message& m) {
    if (!AnySplit()) return DecodeStates(m, w.regions, states);
    THALIA_RETURN_IF_ERROR(DecodeStates(m, w.regions, &mine));
    for (RegionId r : w.regions) (split_[r] ? parts[r][PartOf(r, w.index)] : (*states)[r]).swap(mine[r]);
    return Status::Ok();
  }));
  for (RegionId r = 0; r < parts.size(); ++r) {
    if (!split_[r]) continue;
    auto joined = kernel::JoinPartStates(parts[r]);
    if (!joined.ok()) return joined.status();
    (*states)[r] = std::move(joined).value();
  }
  phase_ = "the run";
  return Status::Ok();
}

Status WorkerPoolExecutor::LoadStates(const std::vector<std::vector<uint8_t>>& states) {
  THALIA_RETURN_IF_ERROR(Idle());
  if (states.size() != spec_->regions.size()) return Status::Invalid("state for another number of regions");
  phase_ = "loading region states";
  // Every part of a split region loads the whole region's state and keeps its neurons.
  for (auto& parts : sibling_spikes_)
    for (auto& s : parts) s.clear();
  spikes_in_flight_ = false;
  spike_counts_.clear();  // the loaded counters say nothing of the next epoch's spikes
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
  THALIA_RETURN_IF_ERROR(Idle());
  phase_ = "computing digests";
  out->assign(spec_->regions.size(), 0);
  THALIA_RETURN_IF_ERROR(SendEach([full](const PoolWorker&, flatbuffers::FlatBufferBuilder* b) {
    b->Clear();
    FinishMessage(b, wire::Payload::DigestRequest, wire::CreateDigestRequest(*b, full));
  }));
  DigestLocal(full, out);
  std::vector<std::vector<kernel::DigestPart>> entries(spec_->regions.size());
  for (RegionId r = 0; r < entries.size(); ++r) entries[r].resize(split_[r] ? parts_[r].size() : 0);
  if (PoolWorker* l = LocalWorker())
    for (RegionId r : l->regions)
      if (split_[r]) entries[r][PartOf(r, l->index)] = LocalRegion(r)->DigestEntries(full);
  std::vector<std::vector<uint64_t>> words;
  THALIA_RETURN_IF_ERROR(CollectReplies([&](PoolWorker& w, const wire::Message& m) {
    THALIA_RETURN_IF_ERROR(DecodeDigestList(m, w.regions, out, &words));
    for (size_t i = 0; i < w.regions.size(); ++i) {
      const RegionId r = w.regions[i];
      if (split_[r] && !kernel::DigestPartFromWords(words[i], &entries[r][PartOf(r, w.index)]))
        return Status::Corrupt("a malformed digest of a part of region '" + spec_->regions[r].name + "'");
    }
    return Status::Ok();
  }));
  for (RegionId r = 0; r < entries.size(); ++r)
    if (split_[r]) THALIA_RETURN_IF_ERROR(CombineParts(r, entries[r], &(*out)[r]));
  phase_ = "the run";
  return Status::Ok();
}

Status WorkerPoolExecutor::PerturbWeightForTest(RegionId region, float delta) {
  THALIA_RETURN_IF_ERROR(Idle());
  if (region >= placement_.size()) return Status::Invalid("no region " + std::to_string(region));
  if (split_[region]) return Status::Invalid("region " + std::to_string(region) + " is split over workers");
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
