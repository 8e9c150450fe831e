// Routing keeps the source order (region id, then the region's (tick, neuron) order) while
// appending, and the final sort on the whole canonical key makes the result independent of it.
#include "kernel/routing.h"

#include <algorithm>

namespace thalia::kernel {

SpikeRouter::SpikeRouter(const BrainSpec& spec) {
  routes_.assign(spec.regions.size(), {});
  for (const PathwaySpec& p : spec.pathways) {
    const PopulationSpec& src = spec.regions[p.from_region].populations[p.from_pop];
    auto& routes = routes_[p.from_region];
    auto it = std::find_if(routes.begin(), routes.end(),
                           [&](const Target& r) { return r.target == p.to_region; });
    if (it == routes.end()) {
      routes.push_back({p.to_region, {}});
      it = routes.end() - 1;
    }
    std::pair<NeuronId, NeuronId> range{src.offset, src.offset + src.size};
    if (std::find(it->ranges.begin(), it->ranges.end(), range) == it->ranges.end())
      it->ranges.push_back(range);
  }
}

template <typename SpikesOf>
void SpikeRouter::RouteImpl(size_t regions, SpikesOf spikes_of,
                            std::vector<std::vector<InSpike>>* in_flight) const {
  for (size_t src = 0; src < regions && src < routes_.size(); ++src) {
    for (const Target& route : routes_[src]) {
      auto& dst = (*in_flight)[route.target];
      for (const Spike& s : spikes_of(src)) {
        for (const auto& [lo, hi] : route.ranges) {
          if (s.neuron >= lo && s.neuron < hi) {
            dst.push_back({s.tick, static_cast<RegionId>(src), s.neuron});
            break;
          }
        }
      }
    }
  }
  for (auto& v : *in_flight) std::sort(v.begin(), v.end(), CanonicalOrder());
}

void SpikeRouter::Route(const EpochDone& done, std::vector<std::vector<InSpike>>* in_flight) const {
  RouteImpl(done.regions.size(), [&](size_t r) -> const std::vector<Spike>& { return done.regions[r].spikes; },
            in_flight);
}

void SpikeRouter::Route(const std::vector<std::vector<Spike>>& spikes,
                        std::vector<std::vector<InSpike>>* in_flight) const {
  RouteImpl(spikes.size(), [&](size_t r) -> const std::vector<Spike>& { return spikes[r]; }, in_flight);
}

}  // namespace thalia::kernel
