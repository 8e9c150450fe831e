// How the coordinator runs the regions for an epoch. The epoch loop (Brain) talks only to this
// interface, so sequential and parallel runs share one loop. The in-process executor lives here;
// worker processes and MPI live in transport/ and are installed through SetParallelExecutorFactory.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernel/epoch.h"
#include "kernel/profile.h"
#include "kernel/region.h"
#include "kernel/spec.h"
#include "kernel/status.h"

namespace thalia::kernel {

struct RunOptions {
  int workers = -1;              // -1: from the configuration; 0: in-process
  int threads = 0;               // per process: 0 from the configuration (default 1); -1 auto
  // Shards per region: 0, one per thread for regions of at least kMinShardNeurons neurons per
  // shard (a small one may run whole when that measures faster); N > 0, every region split into
  // exactly N shards of at least kMinShardNeuronsForced (tests and experiments: the results are
  // the same for every split).
  int shards = 0;
  std::string launch;            // "fork" or "spawn"; empty: from the configuration
  std::string executor;          // "inproc", "socket", "mpi"; empty: inproc if workers == 0
  std::vector<int> placement;    // region -> worker override; empty: automatic
  // region -> the workers of its parts, in neuron order (a region with several is split over
  // them, transport::PlaceParts); empty: from `placement`, or automatic.
  std::vector<std::vector<int>> placement_parts;
  double hang_timeout_ms = -1;   // -1: from the configuration
  bool keep_spikes = false;      // keep every spike for Brain::TakeSpikes
  uint64_t full_digest_every = 0;  // epochs between full (weight) digests; 0: only on request
  std::string worker_binary;     // spawn: the thalia binary; empty: see transport::WorkerBinary
  bool coordinator_share = false;  // socket: worker 0's regions run in the coordinator's process
  // How spikes travel between workers. "direct": each worker sends its spikes to the workers
  // that have targets for them, and the coordinator pipelines epochs; "star": every spike goes
  // through the coordinator, which routes it. Empty: the executor's default (MPI: direct;
  // worker processes: direct when forked without coordinator_share, else star).
  std::string exchange;
  // --profile: the Chrome trace-event timeline (kernel/profile.h) written here by Brain::Shutdown
  // (or Brain::WriteProfile); empty: no profiling, no clock read or allocation for it.
  std::string profile_path;
  uint64_t profile_max_spans = 1'000'000;  // past it the timeline stops (and says so)
};

// Runs one region through an epoch, as every executor does: its spikes into out->spikes (cleared
// first), then its digest (full if asked) and counters. An exception from the region becomes an
// error whose message says what happened ("threw: ..."); the caller names the region and where
// it ran.
// The digest of `region` as results carry it: `*digest`, or for a part of a region split over
// processes (Region::IsPart) 0 and its digest entries as words in `*digest_part`
// (DigestPartToWords), for the coordinator to combine with the other parts'.
void DigestForResult(Region& region, bool full, uint64_t* digest, std::vector<uint64_t>* digest_part);

Status AdvanceRegion(Region& region, const EpochContext& ctx, std::span<const InSpike> inbound,
                     std::span<const ExternalInput> external, bool full_digest, RegionResult* out);

// How many shards a region of `neurons` neurons runs as on `threads` threads: `shards` if given
// (> 0), none smaller than kMinShardNeuronsForced; else one per thread, none smaller than
// kMinShardNeurons (a smaller shard's work per tick is not worth a barrier).
inline constexpr uint32_t kMinShardNeurons = 1024;
inline constexpr uint32_t kMinShardNeuronsForced = 16;
uint32_t ShardsFor(uint32_t neurons, uint32_t threads, uint32_t shards = 0);
// Gives every region its shards (ShardsFor) on `pool` (null: one thread).
void SetRegionsParallelism(std::span<const std::unique_ptr<Region>> regions, ThreadPool* pool, uint32_t threads,
                           uint32_t shards = 0);

// How one process runs several regions on `threads` threads each epoch: first the regions of
// `lanes` at once, thread t advancing lanes[t]'s regions whole, one after another; then the
// `shared` regions one after another, each split into shards over all the threads. A region runs
// whole on a lane only if it AdvancesConcurrently. Results do not depend on the plan (regions are
// independent within an epoch, and a split changes nothing); only the time does.
struct RegionPlan {
  std::vector<std::vector<RegionId>> lanes;  // by thread, each ascending; empty: no lanes
  std::vector<RegionId> shared;              // ascending
};
// The plan of least estimated time (Region::Cost): the costliest regions are split while that
// shortens the longest lane, the others placed on lanes costliest first, each on the lane with
// the least so far. One thread, or `shards` forced (> 0): every region shared, as before lanes.
RegionPlan PlanRegions(std::span<const std::unique_ptr<Region>> regions, uint32_t threads, uint32_t shards = 0);

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string name() const = 0;
  // Whether Start needs the regions built by the coordinator (spawned workers build their own).
  virtual bool WantsBuiltRegions() const { return true; }
  // Takes the regions (one per region id, or none if !WantsBuiltRegions()).
  virtual Status Start(std::shared_ptr<const BrainSpec> spec,
                       std::vector<std::unique_ptr<Region>> regions) = 0;
  virtual Status RunEpoch(const EpochBegin& begin, EpochDone* done) = 0;
  // One FlatBuffers RegionState buffer per region id (see kernel/state_codec.h).
  virtual Status SaveStates(std::vector<std::vector<uint8_t>>* states) = 0;
  virtual Status LoadStates(const std::vector<std::vector<uint8_t>>& states) = 0;
  virtual Status Digests(bool full, std::vector<uint64_t>* out) = 0;
  virtual Status PerturbWeightForTest(RegionId region, float delta) = 0;
  virtual std::vector<WorkerStats> Stats() const { return {}; }
  // The longest epoch this executor can run (after Start), 0: any. A region split over processes
  // exchanges its parts' spikes once per epoch, so epochs must not exceed its internal delays.
  virtual Tick EpochLimit() const { return 0; }
  // Whether the workers route spikes among themselves (the MPI direct exchange): the coordinator
  // then routes none, and sends none in EpochBegin.inbound but what it holds from a restored state.
  virtual bool RoutesSpikes() const { return false; }
  // RoutesSpikes only: whether the workers may hold spikes not yet handed to their regions (a
  // zero-length epoch delivers them; Brain::Flush runs one).
  virtual bool HoldsSpikesInFlight() const { return false; }
  // Pipelining (only where CanPipeline(), which needs RoutesSpikes): StartEpoch sends an epoch's
  // requests and returns; FinishEpoch collects the results of the oldest epoch started and not
  // finished. The Brain starts epoch e + 1 before it finishes epoch e, so the workers find their
  // next inputs waiting and never wait for the coordinator, which records and reports epoch e
  // while they compute e + 1. At most two epochs are started and not finished.
  virtual bool CanPipeline() const { return false; }
  virtual Status StartEpoch(const EpochBegin&) { return Status::Internal("this executor does not pipeline"); }
  virtual Status FinishEpoch(EpochDone*) { return Status::Internal("this executor does not pipeline"); }
  // Ends the workers (if any) and reaps them. Idempotent.
  virtual Status Shutdown() { return Status::Ok(); }
  // Where the executor adds its spans while profiler->active() (--profile); set by Brain before
  // Start, null otherwise. Not owned; outlives the executor's runs.
  void set_profiler(Profiler* profiler) { profiler_ = profiler; }

 protected:
  Profiler* profiler_ = nullptr;
};

// Runs every region in this process, in region id order, each split into `threads` shards on a
// pool of that many threads.
std::unique_ptr<Executor> MakeInProcessExecutor(uint32_t threads = 1, uint32_t shards = 0);

using ExecutorFactory =
    std::function<Result<std::unique_ptr<Executor>>(const BrainSpec&, const RunOptions&)>;
// Installed by transport::Install(); used when a run asks for workers.
void SetParallelExecutorFactory(ExecutorFactory factory);
Result<std::unique_ptr<Executor>> MakeExecutor(const BrainSpec& spec, const RunOptions& options);
// Workers and executor kind a run will use, after options override the configuration.
int EffectiveWorkers(const BrainSpec& spec, const RunOptions& options);
// Threads per process (>= 1): RunOptions over the configuration; auto is the cores this process
// may use, shared among `processes` processes that run regions.
uint32_t EffectiveThreads(const BrainSpec& spec, const RunOptions& options, uint32_t processes = 1);

}  // namespace thalia::kernel
