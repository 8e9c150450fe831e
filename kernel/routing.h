// SpikeRouter: which source neurons' spikes each region receives, from the inter-region pathways,
// and the routing of one epoch's outbound spikes into per-target inbound lists in canonical
// order. The epoch loop and single-region replay share it, so both route identically.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <utility>
#include <vector>

#include "kernel/epoch.h"
#include "kernel/spec.h"
#include "kernel/types.h"

namespace thalia::kernel {

class SpikeRouter {
 public:
  SpikeRouter() = default;
  explicit SpikeRouter(const BrainSpec& spec);

  // Appends the spikes each target needs to (*in_flight)[target] (one list per region), then
  // sorts every list in CanonicalOrder.
  void Route(const EpochDone& done, std::vector<std::vector<InSpike>>* in_flight) const;
  // The same from per-region spike lists (e.g. read back from a trace).
  void Route(const std::vector<std::vector<Spike>>& spikes,
             std::vector<std::vector<InSpike>>* in_flight) const;
  // The same for one target region: what `spikes` (per source region, (tick, neuron) order)
  // send to `target`, merged into *dst (canonical order kept) exactly as Route merges them.
  void RouteTo(RegionId target, const std::vector<std::vector<Spike>>& spikes, std::vector<InSpike>* dst) const;

  using Ranges = std::vector<std::pair<NeuronId, NeuronId>>;  // source neurons [lo, hi) needed
  // The neurons of `source` that `target` has synapses from (its pathways' source populations);
  // null if none.
  const Ranges* RangesFrom(RegionId target, RegionId source) const;
  static bool Contains(const Ranges& ranges, NeuronId n) {
    for (const auto& [lo, hi] : ranges)
      if (n >= lo && n < hi) return true;
    return false;
  }

 private:
  struct Source {
    RegionId source;
    Ranges ranges;
  };
  template <typename SpikesOf>
  void RouteImpl(size_t regions, SpikesOf spikes_of, std::vector<std::vector<InSpike>>* in_flight) const;
  template <typename SpikesOf>
  void RouteOne(RegionId target, bool ordered, size_t regions, SpikesOf spikes_of, std::vector<InSpike>* dst) const;
  template <typename SpikesOf>
  void RouteByMerge(const std::vector<Source>& sources, size_t regions, SpikesOf spikes_of,
                    std::vector<InSpike>* dst) const;

  std::vector<std::vector<Source>> sources_;  // by target region; sources ascending
};

}  // namespace thalia::kernel
