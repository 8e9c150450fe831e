// The delay queue of a region (or of one shard of it): for each of the next ticks, the events
// due then, as integer keys whose order is the canonical arrival order. A ring of slots indexed
// by tick % size; a slot is put in order once, when it is due or when the state is saved.
#pragma once

#include <cstdint>
#include <vector>

#include "kernel/status.h"
#include "kernel/types.h"

namespace thalia::kernel {

// An event due at a tick: source neuron `neuron` of region `source` through delay group
// `group`, packed so that the integer order of the keys is the canonical order (source region,
// source neuron, group): source < 2^16 regions, neuron < 2^30, group < 2^18 (checked when built).
struct Arrival {
  static uint64_t Key(uint32_t source, uint32_t neuron, uint32_t group) {
    return (uint64_t{source} << 48) | (uint64_t{neuron} << 18) | group;
  }
  static uint32_t Source(uint64_t k) { return static_cast<uint32_t>(k >> 48); }
  static uint32_t Neuron(uint64_t k) { return static_cast<uint32_t>(k >> 18) & ((1u << 30) - 1); }
  static uint32_t Group(uint64_t k) { return static_cast<uint32_t>(k) & ((1u << 18) - 1); }
};

// The events due at one tick. Keys arrive in sorted runs (an epoch's inbound batch, one tick's
// own spikes, another shard's spikes); `run_starts` remembers where each later run begins, so
// putting the slot in canonical order is a merge of a few runs instead of a sort.
struct ArrivalSlot {
  std::vector<uint64_t> keys;
  std::vector<uint32_t> run_starts;
  void Push(uint64_t key) {
    if (!keys.empty() && key < keys.back()) run_starts.push_back(static_cast<uint32_t>(keys.size()));
    keys.push_back(key);
  }
  void Clear() {
    keys.clear();
    run_starts.clear();
  }
};

// Scratch of SortArrivals, kept between ticks.
struct MergeScratch {
  std::vector<uint64_t> keys;
  std::vector<uint32_t> bounds, next;
};

// Puts a slot's keys in ascending (canonical) order, exactly the order std::sort gives, whatever
// order they were pushed in: so where a key came from (which shard, which epoch) never matters.
void SortArrivals(ArrivalSlot* slot, MergeScratch* scratch);

class DelayQueue {
 public:
  // Room for events up to `max_delay` ticks ahead.
  void Resize(uint32_t max_delay) { slots_.resize(size_t{max_delay} + 1); }
  size_t span() const { return slots_.size(); }
  // Queues `key` for tick `at`; `now` is the first tick not yet computed.
  void Schedule(Tick now, Tick at, uint64_t key) {
    THALIA_CHECK_MSG(at >= now && at < now + slots_.size(), "event outside the delay ring");
    slots_[at % slots_.size()].Push(key);
  }
  // The events due at tick t, in canonical order (the caller clears the slot when done).
  ArrivalSlot& Due(Tick t) {
    ArrivalSlot& s = slots_[t % slots_.size()];
    SortArrivals(&s, &scratch_);
    return s;
  }
  size_t Pending() const;
  // Every pending event from tick `now` on, in (tick, canonical) order, three words each:
  // tick, source << 32 | neuron, group. Sorts the slots in place (no effect on any result).
  std::vector<uint64_t> Pack(Tick now);
  void Clear();

 private:
  std::vector<ArrivalSlot> slots_;
  MergeScratch scratch_;
};

}  // namespace thalia::kernel
