// The in-process executor and the executor selection.
#include "kernel/executor.h"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <utility>

#include "kernel/state_codec.h"
#include "kernel/thread_pool.h"

namespace thalia::kernel {

void DigestForResult(Region& region, bool full, uint64_t* digest, std::vector<uint64_t>* digest_part) {
  digest_part->clear();
  if (region.IsPart()) {
    *digest = 0;
    DigestPartToWords(region.DigestEntries(full), digest_part);
  } else {
    *digest = region.Digest(full);
  }
}

Status AdvanceRegion(Region& region, const EpochContext& ctx, std::span<const InSpike> inbound,
                     std::span<const ExternalInput> external, bool full_digest, RegionResult* out) {
  out->spikes.clear();
  try {
    region.Advance(ctx, inbound, external, &out->spikes);
    DigestForResult(region, full_digest, &out->digest, &out->digest_part);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("threw: ") + e.what());
  } catch (...) {
    return Status::Internal("threw (not a std::exception)");
  }
  out->counters = region.counters();
  return Status::Ok();
}

namespace {

class InProcessExecutor final : public Executor {
 public:
  InProcessExecutor(uint32_t threads, uint32_t shards) : threads_(threads), shards_(shards) {}
  std::string name() const override {
    return threads_ > 1 ? "inproc, " + std::to_string(threads_) + " threads" : "inproc";
  }
  Status Start(std::shared_ptr<const BrainSpec> spec,
               std::vector<std::unique_ptr<Region>> regions) override {
    spec_ = std::move(spec);
    regions_ = std::move(regions);
    if (threads_ > 1) pool_ = std::make_unique<ThreadPool>(threads_);
    plan_ = PlanRegions(regions_, threads_, shards_);
    for (const auto& lane : plan_.lanes)
      for (RegionId r : lane) regions_[r]->SetParallelism(nullptr, 1);
    for (RegionId r : plan_.shared)
      regions_[r]->SetParallelism(pool_.get(), ShardsFor(regions_[r]->spec().size, threads_, shards_), shards_ > 0);
    status_.assign(regions_.size(), Status::Ok());
    lane_spans_.assign(plan_.lanes.size(), {});
    if (profiler_) {
      std::string label = "coordinator, in process: regions";
      for (const RegionSpec& r : spec_->regions) label += (&r == &spec_->regions[0] ? " " : ", ") + r.name;
      profiler_->DescribeProcess(0, label, static_cast<int>(::getpid()), threads_);
    }
    return Status::Ok();
  }
  Status RunEpoch(const EpochBegin& begin, EpochDone* done) override {
    done->epoch = begin.epoch;
    done->regions.resize(regions_.size());
    EpochContext ctx{begin.epoch, begin.t0, begin.t1, begin.modulators, begin.events};
    const bool profile = profiler_ && profiler_->active();
    if (pool_) pool_->SetProfiling(profile);
    // A region that throws (a user's region type, or bad inbound input) ends the run with its
    // name, as it does in a worker process; of several, the first in id order.
    if (!plan_.lanes.empty()) {
      pool_->Run([&](uint32_t t) {
        for (RegionId r : plan_.lanes[t]) {
          const uint64_t start = profile ? ProfileNow() : 0;
          status_[r] = AdvanceRegion(*regions_[r], ctx, begin.inbound[r], begin.external[r], begin.full_digest,
                                     &done->regions[r]);
          if (profile)
            lane_spans_[t].push_back({start, ProfileNow(), begin.epoch, static_cast<int32_t>(r), 0,
                                      static_cast<uint16_t>(t), SpanKind::kCompute});
        }
      });
      for (uint32_t t = 0; t < plan_.lanes.size(); ++t) {
        pool_->sections(t).clear();  // the lanes' own spans say more
        if (profile)
          for (const ProfileSpan& s : lane_spans_[t]) profiler_->Add(s);
        lane_spans_[t].clear();
      }
      for (RegionId r = 0; r < regions_.size(); ++r)
        if (!status_[r].ok()) {
          const Status st = std::exchange(status_[r], Status::Ok());
          return Status::Internal("region '" + spec_->regions[r].name + "' " + st.message());
        }
    }
    for (RegionId r : plan_.shared) {
      const uint64_t start = profile ? ProfileNow() : 0;
      Status st = AdvanceRegion(*regions_[r], ctx, begin.inbound[r], begin.external[r], begin.full_digest,
                                &done->regions[r]);
      if (profile) {
        spans_.clear();
        AppendAdvanceSpans(begin.epoch, static_cast<int32_t>(r), 0, start, ProfileNow(), pool_.get(), &spans_);
        for (const ProfileSpan& s : spans_) profiler_->Add(s);
      }
      if (!st.ok()) return Status::Internal("region '" + spec_->regions[r].name + "' " + st.message());
    }
    return Status::Ok();
  }
  Status SaveStates(std::vector<std::vector<uint8_t>>* states) override {
    states->clear();
    for (auto& r : regions_) states->push_back(SaveRegionState(*r));
    return Status::Ok();
  }
  Status LoadStates(const std::vector<std::vector<uint8_t>>& states) override {
    if (states.size() != regions_.size()) return Status::Invalid("state for another number of regions");
    for (size_t r = 0; r < regions_.size(); ++r)
      THALIA_RETURN_IF_ERROR(LoadRegionState(*regions_[r], states[r]));
    return Status::Ok();
  }
  Status Digests(bool full, std::vector<uint64_t>* out) override {
    out->clear();
    for (auto& r : regions_) out->push_back(r->Digest(full));
    return Status::Ok();
  }
  Status PerturbWeightForTest(RegionId region, float delta) override {
    if (region >= regions_.size() || !regions_[region]->PerturbWeightForTest(delta))
      return Status::Invalid("no weight to perturb");
    return Status::Ok();
  }

  std::vector<WorkerStats> Stats() const override {
    if (!pool_) return {};
    WorkerStats s;
    s.worker = 0;
    s.pid = 0;
    s.thread_busy_s = pool_->BusySeconds();
    s.thread_wait_s = pool_->WaitSeconds();
    for (RegionId r = 0; r < regions_.size(); ++r) s.regions.push_back(r);
    return {s};
  }

 private:
  const uint32_t threads_, shards_;
  std::shared_ptr<const BrainSpec> spec_;
  std::unique_ptr<ThreadPool> pool_;  // before regions_: outlives them
  std::vector<std::unique_ptr<Region>> regions_;
  std::vector<ProfileSpan> spans_;  // reused: one region's spans
  RegionPlan plan_;
  std::vector<Status> status_;                    // by region: its last lane advance
  std::vector<std::vector<ProfileSpan>> lane_spans_;  // by thread: its lane's spans of the epoch
};

std::mutex factory_mu;
ExecutorFactory parallel_factory;  // GUARDED_BY(factory_mu)

}  // namespace

std::unique_ptr<Executor> MakeInProcessExecutor(uint32_t threads, uint32_t shards) {
  return std::make_unique<InProcessExecutor>(std::max(1u, threads), shards);
}

void SetParallelExecutorFactory(ExecutorFactory factory) {
  std::lock_guard<std::mutex> lock(factory_mu);
  parallel_factory = std::move(factory);
}

int EffectiveWorkers(const BrainSpec& spec, const RunOptions& options) {
  return options.workers >= 0 ? options.workers : static_cast<int>(spec.workers);
}

uint32_t ShardsFor(uint32_t neurons, uint32_t threads, uint32_t shards) {
  if (shards > 0) return std::max(1u, std::min(shards, neurons / kMinShardNeuronsForced));
  return std::max(1u, std::min(threads, neurons / kMinShardNeurons));
}

void SetRegionsParallelism(std::span<const std::unique_ptr<Region>> regions, ThreadPool* pool, uint32_t threads,
                           uint32_t shards) {
  for (const auto& r : regions)
    if (r) r->SetParallelism(pool, ShardsFor(r->spec().size, threads, shards), shards > 0);
}

RegionPlan PlanRegions(std::span<const std::unique_ptr<Region>> regions, uint32_t threads, uint32_t shards) {
  RegionPlan plan;
  std::vector<RegionId> lane_able;
  for (RegionId r = 0; r < regions.size(); ++r) {
    if (!regions[r]) continue;
    if (threads > 1 && shards == 0 && regions[r]->AdvancesConcurrently()) {
      lane_able.push_back(r);
    } else {
      plan.shared.push_back(r);
    }
  }
  if (lane_able.size() < 2) {  // lanes need two regions at least
    plan.shared.insert(plan.shared.end(), lane_able.begin(), lane_able.end());
    std::sort(plan.shared.begin(), plan.shared.end());
    return plan;
  }
  // Two shards of a region cost more than the whole (each arrival is walked by every shard):
  // 7-25% measured on brunel.json and coba.json (bench/RESULTS.md).
  constexpr double kSplitCost = 1.15;
  std::vector<double> cost(regions.size(), 0.0);
  for (RegionId r : lane_able) cost[r] = regions[r]->Cost();
  std::stable_sort(lane_able.begin(), lane_able.end(), [&](RegionId a, RegionId b) { return cost[a] > cost[b]; });
  auto place = [&](size_t first, std::vector<std::vector<RegionId>>* lanes) {
    std::vector<double> load(threads, 0.0);
    lanes->assign(threads, {});
    for (size_t i = first; i < lane_able.size(); ++i) {
      const size_t t = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      load[t] += cost[lane_able[i]];
      (*lanes)[t].push_back(lane_able[i]);
    }
    return *std::max_element(load.begin(), load.end());
  };
  // A region's time split over all threads (whole if too small to split).
  auto split_time = [&](RegionId r) {
    return ShardsFor(regions[r]->spec().size, threads) > 1 ? cost[r] * kSplitCost / threads : cost[r];
  };
  // k: how many of the costliest are split (k = all: no lanes).
  size_t best_k = lane_able.size();
  double best = 0.0;
  for (RegionId r : lane_able) best += split_time(r);
  double split = 0.0;
  std::vector<std::vector<RegionId>> lanes;
  for (size_t k = 0; k + 2 <= lane_able.size(); ++k) {
    const double t = split + place(k, &lanes);
    if (t < best) {
      best = t;
      best_k = k;
    }
    split += split_time(lane_able[k]);
  }
  if (best_k < lane_able.size()) {
    place(best_k, &plan.lanes);
    for (auto& lane : plan.lanes) std::sort(lane.begin(), lane.end());
  }
  plan.shared.insert(plan.shared.end(), lane_able.begin(), lane_able.begin() + static_cast<std::ptrdiff_t>(best_k));
  std::sort(plan.shared.begin(), plan.shared.end());
  return plan;
}

uint32_t EffectiveThreads(const BrainSpec& spec, const RunOptions& options, uint32_t processes) {
  const int asked = options.threads != 0 ? options.threads : (spec.threads == 0 ? -1 : static_cast<int>(spec.threads));
  if (asked > 0) return std::min<uint32_t>(static_cast<uint32_t>(asked), kMaxThreads);
  return std::max(1u, std::min(kMaxThreads, AvailableCores() / std::max(1u, processes)));
}

Result<std::unique_ptr<Executor>> MakeExecutor(const BrainSpec& spec, const RunOptions& options) {
  const int workers = EffectiveWorkers(spec, options);
  if (options.threads < -1 || options.threads > static_cast<int>(kMaxThreads))
    return Status::Invalid("threads: expected 1 to " + std::to_string(kMaxThreads) + ", or auto");
  if (options.shards < 0 || options.shards > static_cast<int>(kMaxThreads))
    return Status::Invalid("shards: expected 0 (one per thread) to " + std::to_string(kMaxThreads));
  if (!options.exchange.empty() && options.exchange != "star" && options.exchange != "direct")
    return Status::Invalid("exchange: expected star or direct, got '" + options.exchange + "'");
  if (options.exchange == "direct" && (options.executor == "inproc" || (options.executor.empty() && workers == 0)))
    return Status::Invalid("exchange direct: a run in one process exchanges no spikes (use workers, or --executor mpi)");
  if (options.executor == "inproc" || (options.executor.empty() && workers == 0))
    return MakeInProcessExecutor(EffectiveThreads(spec, options), static_cast<uint32_t>(options.shards));
  ExecutorFactory f;
  {
    std::lock_guard<std::mutex> lock(factory_mu);
    f = parallel_factory;
  }
  if (!f)
    return Status::Invalid("a parallel run was asked for, but no parallel executor is linked "
                           "(call thalia::transport::Install() first)");
  return f(spec, options);
}

}  // namespace thalia::kernel
