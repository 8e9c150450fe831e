// The Region interface: a population of neurons with its own state, synapses, plasticity and
// random stream, advanced one epoch at a time. A region lives wholly in one process (its shards
// may run on several threads there); nothing in it may depend on which process that is, or on
// how many threads and shards run it.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kernel/digest.h"
#include "kernel/modulators.h"
#include "kernel/spec.h"
#include "kernel/types.h"

namespace thalia::kernel {

class ThreadPool;

// Bump when a region's list of state arrays changes (checkpoints of another version are refused).
inline constexpr uint32_t kRegionStateVersion = 1;

// Input injected from outside the brain (the API), at an exact tick.
struct ExternalInput {
  enum Kind : uint8_t { kSpike = 0, kCurrent = 1 };
  Tick tick;
  NeuronId neuron;
  float amount;  // kSpike: added to the excitatory (>0) or inhibitory (<0) input; kCurrent: set
  Kind kind;
  friend bool operator==(const ExternalInput&, const ExternalInput&) = default;
};

// What every region is told for one epoch.
struct EpochContext {
  uint64_t epoch = 0;
  Tick t0 = 0, t1 = 0;
  ModulatorState modulators;
  std::span<const ModulatorEvent> events;  // modulator events with tick in [t0, t1), in order
};

struct RegionCounters {
  uint64_t spikes = 0;           // spikes emitted since the start of the run
  uint64_t synaptic_events = 0;  // synapse activations delivered
  uint64_t neuron_updates = 0;
};

// Walks every field of a region's state, in a fixed order. Saving, loading and the digest are
// all visitors, so no field can be forgotten by one of them.
class StateVisitor {
 public:
  virtual ~StateVisitor() = default;
  virtual bool loading() const { return false; }
  // Whether F32 arrays marked heavy are used at all (the per-epoch digest skips them), so a region
  // may skip building one it does not store as such.
  virtual bool wants_heavy() const { return true; }
  // `heavy` marks arrays the per-epoch digest skips (synaptic weights); the full digest has all.
  virtual void F32(std::string_view name, std::span<float> data, bool heavy) = 0;
  virtual void I32(std::string_view name, std::span<int32_t> data) = 0;
  // Variable-length state (e.g. events in the delay queues); a loader may resize it.
  virtual void U64(std::string_view name, std::vector<uint64_t>& data) = 0;
  // A part [first, first + data.size()) of an array of `total` elements, visited by a region
  // restricted to some of its neurons (Region::RestrictTo). Only hashing visitors take parts.
  virtual void F32Slice(std::string_view name, std::span<float> data, uint64_t first, uint64_t total,
                        bool heavy);
  virtual void I32Slice(std::string_view name, std::span<int32_t> data, uint64_t first, uint64_t total);
  // Counters: data[0] is the tick, the rest count events (sums over a region's parts). Visited
  // as a U64 list unless the visitor overrides it.
  virtual void Counters(std::string_view name, std::vector<uint64_t>& data) { U64(name, data); }
  // Whether the visitor only hashes (the digest). A region may then give an unordered collection
  // (per-synapse weights, queued arrivals) as its split-invariant hash (SetSum) instead of
  // gathering it in its saved order.
  virtual bool hashing() const { return false; }
  // A collection of `count` elements given as the sum of their mixes (kernel/digest.h:
  // MixSynapse, MixArrival): what the digest hashes for it, however it is stored or split.
  // `heavy` as for F32.
  virtual void SetSum(std::string_view /*name*/, uint64_t /*count*/, uint64_t /*sum*/, bool /*heavy*/) {}
};

class Region {
 public:
  virtual ~Region() = default;
  virtual const RegionSpec& spec() const = 0;
  // The tick the region has advanced to (the next tick it will compute).
  virtual Tick tick() const = 0;
  // Runs ticks [ctx.t0, ctx.t1). `inbound`: spikes of other regions, in canonical order, none
  // arriving before t0. Appends the region's own spikes, in (tick, neuron) order, to `out`.
  virtual void Advance(const EpochContext& ctx, std::span<const InSpike> inbound,
                       std::span<const ExternalInput> external, std::vector<Spike>* out) = 0;
  // Visits the complete state (see StateVisitor). After loading, call FinishLoad.
  virtual void VisitState(StateVisitor& v) = 0;
  virtual void FinishLoad() {}
  virtual RegionCounters counters() const = 0;
  // Estimated cost of one tick, for placing regions on workers.
  virtual double Cost() const = 0;
  // About how many bytes VisitState hands a saving visitor (0: unknown), so the saved state's
  // buffer can be sized once instead of grown and copied.
  virtual size_t StateBytesHint() const { return 0; }

  // Digest of the state: `full` includes the heavy arrays (weights).
  uint64_t Digest(bool full);
  // The digest's entries, before the final hash: a region restricted to a part of its neurons
  // gives its part, which CombineDigestParts (kernel/digest.h) joins with the other parts' into
  // the unsplit region's digest. Digest(full) is the combination of this one part.
  DigestPart DigestEntries(bool full);

  // A region split over processes: this copy keeps and computes neurons [lo, hi) only (a part),
  // with the synapses that target them. Call before the first epoch. Every epoch it must be
  // given, among its inbound spikes, the spikes its region's other parts emitted (source: its
  // own region id), and no epoch may be longer than InternalDelay(). Its state can be digested
  // (DigestEntries) and a state of the whole region loaded into it, but it cannot be saved.
  // Returns false if the region type cannot be split so.
  virtual bool RestrictTo(uint32_t /*lo*/, uint32_t /*hi*/) { return false; }
  virtual bool IsPart() const { return false; }
  // The smallest delay of a pathway inside the region, in ticks (0: none).
  virtual Tick InternalDelay() const { return 0; }
  // Runs the region as `shards` shards on `pool` (null: one after another on the caller's
  // thread; not owned, and it must outlive the region's use of it). Results, states and digests
  // are the same for every split. A region type may ignore it (the default: one shard), or run
  // whole when that measures faster, unless `exact` (the count was asked for, e.g. by a test).
  virtual void SetParallelism(ThreadPool* /*pool*/, uint32_t /*shards*/, bool /*exact*/ = false) {}
  // Whether Advance may run on one thread while other regions of the process advance on others
  // (it touches no state outside its own object). A region type opts in; the default is no, so a
  // user's type with shared state still runs one region at a time.
  virtual bool AdvancesConcurrently() const { return false; }
  // Test hook: lets a test change one weight to provoke a divergence. Returns false if none.
  virtual bool PerturbWeightForTest(float) { return false; }
};

}  // namespace thalia::kernel
