// The population engine that serves every built-in region type: leaky integrate-and-fire neurons
// (delta, current- or conductance-based exponential synapses, refractoriness, adaptation) in
// Eigen arrays; target-side pathways in CSR form, one block per distinct delay; pair
// STDP with traces and a modulator-gated three-factor variant; Poisson drives from the region's
// counter-based stream.
//
// A region runs as one shard or several (SetParallelism): a shard is a contiguous range of the
// region's neurons with the synapses that target them, its own delay queue (every shard queues
// every arrival, in the one canonical order, and uses those whose targets it owns) and its own
// copy of the presynaptic traces (a pure function of the arrivals). Shards run on a thread pool
// and exchange their own spikes every `window` ticks (the smallest internal delay), so a spike
// always reaches every shard's queue before it is due. The state a visitor sees is the unsplit
// region's, in global order: saved states, digests and traces do not depend on the split.
//
// Where the pieces live: kernel/population_region.cc (construction, the epoch and the tick
// loop), kernel/connectivity.cc (building pathways), kernel/plasticity.cc, kernel/drives.cc,
// kernel/region_state.cc (saved state and digest), kernel/shards.cc (the split and the
// exchange between shards), kernel/delay_queue.h and kernel/neuron_kernels.h.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <vector>

#include "kernel/big_alloc.h"
#include "kernel/delay_queue.h"
#include "kernel/modulators.h"
#include "kernel/region.h"
#include "kernel/spec.h"

namespace thalia::kernel {

class ThreadPool;

class PopulationRegion final : public Region {
 public:
  // Builds region `id` of `brain`: its neurons and every pathway that targets it, as one shard.
  PopulationRegion(const BrainSpec& brain, RegionId id);
  ~PopulationRegion() override;

  const RegionSpec& spec() const override { return spec_; }
  Tick tick() const override { return tick_; }
  void Advance(const EpochContext& ctx, std::span<const InSpike> inbound,
               std::span<const ExternalInput> external, std::vector<Spike>* out) override;
  void VisitState(StateVisitor& v) override;
  void FinishLoad() override;
  RegionCounters counters() const override;
  double Cost() const override;
  size_t StateBytesHint() const override;
  bool PerturbWeightForTest(float delta) override;
  void SetParallelism(ThreadPool* pool, uint32_t shards, bool exact = false) override;
  bool AdvancesConcurrently() const override { return true; }
  // Tests: the split tuner tries whole every time, whatever the barrier waits (call after
  // SetParallelism).
  void AlwaysTryWholeForTest() { tune_.always_try_whole = true; }
  bool RestrictTo(uint32_t lo, uint32_t hi) override;
  bool IsPart() const override { return is_part(); }
  Tick InternalDelay() const override { return window_; }

  // Introspection for tests and benchmarks.
  uint64_t SynapseCount() const;
  size_t SynapseBytes() const;
  float Voltage(NeuronId n) const { return v_[n]; }
  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  // The neurons this copy computes: all, or a part (RestrictTo).
  uint32_t part_lo() const { return part_lo_; }
  uint32_t part_hi() const { return part_hi_; }
  bool is_part() const { return part_lo_ != 0 || part_hi_ != spec_.size; }
  // The first neuron of each shard, and the end of the last shard.
  std::vector<uint32_t> ShardBounds() const;
  // Ticks between the shards' exchanges: the smallest delay of an internal pathway.
  Tick window() const { return window_; }

  // One plastic synapse onto a neuron (for probes): its pathway, the source neuron (an id of the
  // pathway's source region), its delay and the address of its weight. The address stays valid
  // until the region is split or joined (SetParallelism); loading a state writes through it.
  struct PlasticInput {
    const PathwaySpec* pathway = nullptr;  // owned by the region
    NeuronId source = 0;
    uint32_t delay = 1;  // ticks
    const float* weight = nullptr;
  };
  // The plastic synapses onto neuron `n`, by pathway (the region's order), then delay, then
  // source: the same list, in the same order, however the region is split. Empty when no plastic
  // pathway reaches `n` (or n is out of range). Reads only; costs a walk of n's synapses.
  std::vector<PlasticInput> PlasticInputs(NeuronId n) const;
  // The specs of the plastic pathways that target this region, in the region's order.
  std::vector<const PathwaySpec*> PlasticPathways() const;

 private:
  // The synapses of one pathway that share one delay, by source neuron (CSR). A shard holds the
  // part of every group whose targets it owns; group indices are the region's.
  struct Group {
    uint32_t path = 0;
    uint32_t delay = 1;  // ticks
    BigVector<uint32_t> row;     // source-local neuron -> first synapse; size src_size + 1
    BigVector<uint32_t> target;  // region-local target neuron
    // Per synapse; empty when every synapse of the group has the same, fixed weight `w0` (a
    // static pathway without weight jitter): 4 bytes per synapse instead of 8.
    BigVector<float> weight;
    bool uniform = false;
    float w0 = 0;
    // Plastic groups only: synapses by target (target-local). Compact: (source << 16 | offset
    // in the source's row); otherwise (source, synapse index) pairs. See BuildPostIndex.
    BigVector<uint32_t> post_row, post_packed, post_src, post_syn;
    bool compact = true;
    std::vector<float> pre_trace;  // per source neuron
  };
  struct Path {
    PathwaySpec spec;
    uint32_t src_offset = 0, src_size = 0, tgt_offset = 0, tgt_size = 0;
    bool src_excitatory = true;
    bool plastic = false;
    bool internal = false;
    float decay_plus = 1, decay_minus = 1;
    std::vector<float> post_trace;  // per target neuron of the pathway (each shard its range)
    std::vector<uint32_t> groups;
  };
  // Per-population constants of the exact propagators, from DetExp.
  struct PopConst {
    float pm, pe, pi, pw, pem, pim, one_minus_pm, dt_over_tau;
    int32_t ref_ticks;
  };
  struct DriveTable {
    std::vector<double> cdf;  // Poisson CDF; k = first index with u < cdf[k]
    std::vector<uint64_t> thr;  // ceil(cdf[k] * 2^32): the same test on the raw 32-bit word
  };
  // A contiguous range [lo, hi) of the region's neurons and all that belongs to it. Touched by
  // one thread at a time; other shards read only `outbox` (after the window's barrier). Aligned
  // to a cache line so that two threads never write one line of neighbouring shards.
  struct alignas(64) Shard {
    uint32_t lo = 0, hi = 0;
    std::vector<Group> groups;  // by region group index
    DelayQueue queue;
    RegionCounters counters;
    std::vector<Spike> spikes;  // this epoch's, (tick, neuron) order
    // Where the shard stands in the epoch: modulator state, next modulator event, next input.
    ModulatorState m;
    size_t ev = 0, ext = 0;
    // Whether w and iext are +0 over [lo, hi): found at the start of each epoch, cleared by an
    // external current; populations without adaptation then take the quiet neuron steps.
    bool quiet = false;
    // This shard's spikes of the current window and of the previous one (read by the others
    // after the barrier that ends a window), by parity of the window.
    std::vector<Spike> outbox[2];
    // Scratch.
    std::vector<NeuronId> tick_spikes;
    std::vector<uint32_t> drive_words, drive_counts;
    std::vector<float> factor, gate;  // per path, for the current tick
  };

  void BuildPathway(const BrainSpec& brain, const PathwaySpec& p);
  void BuildDriveTables();
  static void BuildPostIndex(Group* g, uint32_t src_size, const PopulationSpec& tgt);
  // Queues an inbound (other region's) spike on every group of its source, in one shard.
  void ScheduleInbound(Shard& sh, const InSpike& s, Tick t0);
  // Runs every shard through the epoch on the pool, meeting every `window_` ticks; `start`
  // prepares a shard (queues the epoch's inbound spikes) on the thread that runs it.
  void RunShards(const EpochContext& ctx, std::span<const ExternalInput> external,
                 const std::function<void(Shard&)>& start);
  // The way this epoch's shards run (0 on the pool, 1 one after another on the caller), and what
  // an epoch run that way showed: whether the pool's threads waited more than they computed
  // (choice_).
  int ChooseWay() const;
  void RecordWay(int used, bool wasteful);
  // Runs ticks [from, to) of one shard.
  void RunTicks(Shard& sh, const EpochContext& ctx, std::span<const ExternalInput> external,
                Tick from, Tick to, int parity);
  void DeliverDue(Shard& sh, Tick t);
  void ApplyExternal(Shard& sh, std::span<const ExternalInput> external, Tick t);
  void ApplyDrives(Shard& sh, Tick t);
  void UpdatePopulation(Shard& sh, size_t pop, float bias, Tick t);
  // Schedules the spike on internal pathways; potentiation with this tick's factors.
  void OnSpike(Shard& sh, uint32_t pop, NeuronId n, Tick t);
  void DecayTraces(Shard& sh);
  // Delivers synapses [b, e) of a plastic group with depression by the postsynaptic traces.
  static void DepressRow(const Path& p, Group* g, uint32_t b, uint32_t e, float* in, float gate,
                         float a_minus);
  float PlasticityFactor(const Path& p, const ModulatorState& m, Tick t) const;
  // Queues the internal spikes another shard sent in its last window; `now` is sh's tick.
  void TakeSpikesOf(Shard& sh, const std::vector<Spike>& spikes, Tick now);
  uint32_t PopulationOf(NeuronId n) const;
  // Every pending arrival in (tick, canonical) order, three words each (every shard's queue
  // holds them all; shard 0's is read).
  std::vector<uint64_t> PackArrivals();
  // Gives a uniform group its per-synapse weights (before they are changed or loaded unequal).
  static void Materialize(Group* g);
  // The weights of group `gi` in the unsplit order (source row by row), and back.
  std::vector<float> GatherWeights(uint32_t gi) const;
  uint64_t SynapseCountOf(uint32_t gi) const;
  // The digest's split-invariant hash of group `gi`'s weights (kernel/digest.h, MixSynapse).
  uint64_t WeightSum(uint32_t gi) const;
  void ScatterWeights(uint32_t gi, std::span<const float> w);
  // A group of `like`'s pathway and delay with no synapse yet; and, once its synapses are in, its
  // by-target index and presynaptic traces (copied from `traces_of`) if the pathway is plastic.
  Group EmptyPart(const Group& like) const;
  void FinishPart(Group* g, const Group& traces_of) const;
  // Splitting: joins the shards back into one, then cuts it at `bounds`.
  void JoinShards();
  void SplitShards(const std::vector<uint32_t>& bounds);
  std::vector<uint32_t> BalancedBounds(uint32_t shards) const;

  RegionSpec spec_;
  uint64_t seed_;
  uint64_t stream_owner_ = 0;  // the region's random stream is keyed by (seed, hash of its name)
  double dt_ms_;
  ModulatorModel modulators_;
  std::vector<PopConst> pop_const_;
  std::vector<Path> paths_;
  std::vector<std::vector<uint32_t>> groups_by_source_;  // by source region id
  std::vector<std::vector<uint32_t>> spike_groups_;  // by population: internal groups it feeds
  std::vector<std::vector<uint32_t>> spike_paths_;   // by population: plastic paths it ends
  std::vector<DriveTable> drive_tables_;
  std::vector<Shard> shards_;
  ThreadPool* pool_ = nullptr;  // not owned; null: shards run one after another on the caller
  // Whether the shards run on the pool or one after another on the caller's thread, chosen per
  // epoch by how much of a pool epoch its threads spent waiting at barriers (kernel/shards.cc,
  // RunShards). Either way computes the same (a shard's work does not depend on the thread that
  // does it); on a machine whose cores other processes take, a barrier waits for a descheduled
  // thread every window and the pool can be many times slower than one thread.
  struct PoolChoice {
    uint32_t worse = 0;  // consecutive pool epochs that waited more than they computed
    uint32_t probe_in = 0, interval = 0;  // on the caller: epochs until the pool is tried again
    int way = 0;                          // 0 the pool, 1 the caller
  };
  PoolChoice choice_;
  // Split or whole, for a region small enough to join and split again in a few milliseconds
  // (kernel/shards.cc, TuneBefore and TuneAfter): its shards run on the pool (or the caller,
  // choice_) or joined as one shard, whichever measured fewer nanoseconds per tick in the last
  // trial of each (whole is tried only if the split's threads waited much, or ran on the caller);
  // both are tried again every kTuneEvery epochs. Where split shards cost more than they gain
  // (COBA's 4,000 neurons meeting every tick) the region then runs whole.
  struct SplitTuner {
    std::vector<uint32_t> bounds;  // the split's (empty: no tuning)
    bool whole = false;            // running joined now
    bool choose_whole = false;     // the choice between trials
    uint32_t epochs = 0;           // epochs run in the current trial or choice
    uint32_t trial = 0;            // 1: trying split, 2: trying whole, 0: running the choice
    uint64_t ns = 0, ticks = 0;    // the current trial's
    uint64_t wait_ns = 0, pool_ns = 0;  // the split trial's: barrier waits, threads x time on the pool
    uint32_t caller_epochs = 0;         // the split trial's epochs on the caller (choice_)
    bool always_try_whole = false;      // tests: try whole whatever the waits
    double per_tick[2] = {0, 0};   // ns per tick measured: [0] split, [1] whole
  };
  SplitTuner tune_;
  // Before an epoch: joins or splits as the tuner says. After it: its time and ticks.
  void TuneBefore();
  void TuneAfter(uint64_t ns, Tick ticks);
  uint32_t part_lo_ = 0, part_hi_ = 0;  // the neurons this copy keeps (RestrictTo); all by default
  // A part only, per group: where each source's row starts in the unsplit group (size src + 1,
  // the last the group's synapse count) and how many of its synapses target neurons before the
  // part, so a state of the whole region (weights in the unsplit order) loads into the part.
  struct PartRows {
    std::vector<uint64_t> whole_start;
    std::vector<uint32_t> before;
  };
  std::vector<PartRows> part_rows_;
  Tick window_ = 0;             // 0: no internal pathway, shards never need to meet in an epoch
  bool theta_used_ = false;     // some population or pathway reads theta's phase
  std::vector<uint64_t> loaded_arrivals_;   // staging for VisitState when loading
  Tick tick_ = 0;
  // Neuron state, shared by the shards (each writes only its range): membrane potential,
  // excitatory/inhibitory synaptic variables (conductance or current), adaptation, external
  // current (API), remaining refractory ticks.
  Eigen::ArrayXf v_, se_, si_, w_, iext_;
  Eigen::ArrayXi refr_;
  Eigen::ArrayXf in_e_, in_i_;  // input of the current tick (scratch, zero between ticks)
};

}  // namespace thalia::kernel
