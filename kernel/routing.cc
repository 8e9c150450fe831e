// Routing merges instead of sorting: every source region's spikes arrive in (tick, neuron)
// order, so a target's inbound list in canonical order (tick, source, neuron) is a merge by tick
// over its sources taken in ascending id. A source list out of order (a user region breaking
// its contract) falls back to appending and sorting on the whole key; both give the same list.
#include "kernel/routing.h"

#include <algorithm>

namespace thalia::kernel {

SpikeRouter::SpikeRouter(const BrainSpec& spec) {
  sources_.assign(spec.regions.size(), {});
  for (const PathwaySpec& p : spec.pathways) {
    const PopulationSpec& src = spec.regions[p.from_region].populations[p.from_pop];
    auto& sources = sources_[p.to_region];
    auto it = std::find_if(sources.begin(), sources.end(), [&](const Source& s) { return s.source == p.from_region; });
    if (it == sources.end()) {
      sources.push_back({p.from_region, {}});
      it = sources.end() - 1;
    }
    std::pair<NeuronId, NeuronId> range{src.offset, src.offset + src.size};
    if (std::find(it->ranges.begin(), it->ranges.end(), range) == it->ranges.end()) it->ranges.push_back(range);
  }
  for (auto& sources : sources_)
    std::sort(sources.begin(), sources.end(), [](const Source& a, const Source& b) { return a.source < b.source; });
}

// Appends the spikes `sources` send to one target, in canonical order, to *dst (whose previous
// content is left in front). Each round takes the smallest tick at the heads of the sources,
// then each source's run of spikes at that tick, sources ascending: O(spikes + ticks * sources).
template <typename SpikesOf>
void SpikeRouter::RouteByMerge(const std::vector<Source>& sources, size_t regions, SpikesOf spikes_of,
                               std::vector<InSpike>* dst) const {
  static thread_local std::vector<size_t> cursor;  // per source; no allocation once warm
  cursor.assign(sources.size(), 0);
  while (true) {
    Tick tick = ~Tick{0};
    bool any = false;
    for (size_t k = 0; k < sources.size(); ++k) {
      if (sources[k].source >= regions) continue;
      const std::vector<Spike>& s = spikes_of(sources[k].source);
      if (cursor[k] < s.size()) {
        tick = std::min(tick, s[cursor[k]].tick);
        any = true;
      }
    }
    if (!any) return;
    for (size_t k = 0; k < sources.size(); ++k) {
      if (sources[k].source >= regions) continue;
      const std::vector<Spike>& s = spikes_of(sources[k].source);
      size_t& c = cursor[k];
      for (; c < s.size() && s[c].tick == tick; ++c)
        if (Contains(sources[k].ranges, s[c].neuron)) dst->push_back({tick, sources[k].source, s[c].neuron});
    }
  }
}

template <typename SpikesOf>
void SpikeRouter::RouteImpl(size_t regions, SpikesOf spikes_of, std::vector<std::vector<InSpike>>* in_flight) const {
  bool ordered = true;
  for (size_t r = 0; r < regions && ordered; ++r) {
    const std::vector<Spike>& s = spikes_of(r);
    ordered = std::is_sorted(s.begin(), s.end(), CanonicalOrder());
  }
  for (size_t target = 0; target < sources_.size() && target < in_flight->size(); ++target)
    RouteOne(static_cast<RegionId>(target), ordered, regions, spikes_of, &(*in_flight)[target]);
}

template <typename SpikesOf>
void SpikeRouter::RouteOne(RegionId target, bool ordered, size_t regions, SpikesOf spikes_of,
                           std::vector<InSpike>* dst_ptr) const {
  auto& dst = *dst_ptr;
  const auto old_end = static_cast<std::ptrdiff_t>(dst.size());
  if (ordered) {
    RouteByMerge(sources_[target], regions, spikes_of, &dst);
    // Spikes already waiting merge with the new ones on the whole key (sorted first if need be).
    if (old_end > 0) {
      if (std::is_sorted(dst.begin(), dst.begin() + old_end, CanonicalOrder()))
        std::inplace_merge(dst.begin(), dst.begin() + old_end, dst.end(), CanonicalOrder());
      else
        std::sort(dst.begin(), dst.end(), CanonicalOrder());
    }
  } else {
    for (const Source& src : sources_[target]) {
      if (src.source >= regions) continue;
      for (const Spike& s : spikes_of(src.source))
        if (Contains(src.ranges, s.neuron)) dst.push_back({s.tick, src.source, s.neuron});
    }
    std::sort(dst.begin(), dst.end(), CanonicalOrder());
  }
}

void SpikeRouter::RouteTo(RegionId target, const std::vector<std::vector<Spike>>& spikes,
                          std::vector<InSpike>* dst) const {
  if (target >= sources_.size()) return;
  auto spikes_of = [&](size_t r) -> const std::vector<Spike>& { return spikes[r]; };
  bool ordered = true;
  for (const Source& src : sources_[target])
    if (src.source < spikes.size())
      ordered = ordered && std::is_sorted(spikes[src.source].begin(), spikes[src.source].end(), CanonicalOrder());
  RouteOne(target, ordered, spikes.size(), spikes_of, dst);
}

const SpikeRouter::Ranges* SpikeRouter::RangesFrom(RegionId target, RegionId source) const {
  if (target >= sources_.size()) return nullptr;
  for (const Source& s : sources_[target])
    if (s.source == source) return &s.ranges;
  return nullptr;
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
