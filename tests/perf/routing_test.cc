// SpikeRouter routes by merging the sources' ordered lists; these tests hold it to the plain
// reference (every needed spike of every source, sorted on the whole canonical key) on random
// brains and spike lists, with and without spikes already waiting, and for unordered sources.
#include "kernel/routing.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace thalia::kernel {
namespace {

// A brain of `regions` regions with 1-3 populations each and random inter-region pathways.
BrainSpec RandomSpec(std::mt19937& rng, size_t regions) {
  BrainSpec spec;
  for (size_t r = 0; r < regions; ++r) {
    RegionSpec reg;
    reg.id = static_cast<RegionId>(r);
    reg.name = "r" + std::to_string(r);
    const int pops = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < pops; ++p) {
      PopulationSpec pop;
      pop.name = "p" + std::to_string(p);
      pop.size = 1 + rng() % 20;
      pop.offset = reg.size;
      reg.size += pop.size;
      reg.populations.push_back(pop);
    }
    spec.regions.push_back(reg);
  }
  const size_t pathways = rng() % (2 * regions * regions + 1);
  for (size_t i = 0; i < pathways; ++i) {
    PathwaySpec p;
    p.from_region = static_cast<RegionId>(rng() % regions);
    p.to_region = static_cast<RegionId>(rng() % regions);
    if (p.from_region == p.to_region) continue;
    p.from_pop = static_cast<uint32_t>(rng() % spec.regions[p.from_region].populations.size());
    spec.pathways.push_back(p);
  }
  return spec;
}

// Spikes in (tick, neuron) order: at most one per neuron and tick, ticks in [t0, t0 + 30).
std::vector<Spike> RandomSpikes(std::mt19937& rng, uint32_t neurons, Tick t0) {
  std::vector<Spike> s;
  const uint32_t permille = static_cast<uint32_t>(rng() % 300);
  for (Tick t = t0; t < t0 + 30; ++t)
    for (NeuronId n = 0; n < neurons; ++n)
      if (rng() % 1000 < permille) s.push_back({t, n});
  return s;
}

// The reference: for each target, the spikes of each source neuron some pathway reads, sorted.
std::vector<std::vector<InSpike>> Reference(const BrainSpec& spec, const std::vector<std::vector<Spike>>& spikes,
                                            std::vector<std::vector<InSpike>> in_flight) {
  for (size_t target = 0; target < spec.regions.size(); ++target) {
    for (size_t src = 0; src < spec.regions.size(); ++src) {
      std::set<NeuronId> needed;
      for (const PathwaySpec& p : spec.pathways) {
        if (p.to_region != target || p.from_region != src) continue;
        const PopulationSpec& pop = spec.regions[src].populations[p.from_pop];
        for (NeuronId n = pop.offset; n < pop.offset + pop.size; ++n) needed.insert(n);
      }
      for (const Spike& s : spikes[src])
        if (needed.count(s.neuron)) in_flight[target].push_back({s.tick, static_cast<RegionId>(src), s.neuron});
    }
    std::sort(in_flight[target].begin(), in_flight[target].end(), CanonicalOrder());
  }
  return in_flight;
}

struct Case {
  BrainSpec spec;
  std::vector<std::vector<Spike>> spikes;
  std::vector<std::vector<InSpike>> waiting;
};

Case RandomCase(uint32_t seed, bool with_waiting) {
  std::mt19937 rng(seed);
  Case c;
  c.spec = RandomSpec(rng, 1 + rng() % 6);
  const Tick t0 = rng() % 1000;
  for (const RegionSpec& r : c.spec.regions) c.spikes.push_back(RandomSpikes(rng, r.size, t0));
  c.waiting.assign(c.spec.regions.size(), {});
  if (with_waiting)
    for (auto& w : c.waiting) {
      for (int i = static_cast<int>(rng() % 20); i > 0; --i)
        w.push_back({t0 + rng() % 40, static_cast<RegionId>(rng() % c.spec.regions.size()),
                     static_cast<NeuronId>(rng() % 20)});
      if (rng() % 2) std::sort(w.begin(), w.end(), CanonicalOrder());  // sorted or not: both allowed
    }
  return c;
}

// The router's lists for a case against the independent reference.
void RoutesLikeTheReference(const Case& c) {
  SpikeRouter router(c.spec);
  auto got = c.waiting;
  router.Route(c.spikes, &got);
  RC_ASSERT(got == Reference(c.spec, c.spikes, c.waiting));
}

RC_GTEST_PROP(Routing, MergedListsEqualTheSortedReference, (uint32_t seed)) {
  RoutesLikeTheReference(RandomCase(seed, false));
}

RC_GTEST_PROP(Routing, SpikesAlreadyWaitingMergeOnTheWholeKey, (uint32_t seed)) {
  RoutesLikeTheReference(RandomCase(seed, true));
}

RC_GTEST_PROP(Routing, ASourceOutOfOrderStillGivesTheCanonicalOrder, (uint32_t seed)) {
  Case c = RandomCase(seed, false);
  std::mt19937 rng(seed);
  for (auto& s : c.spikes) std::shuffle(s.begin(), s.end(), rng);
  RoutesLikeTheReference(c);
}

TEST(Routing, SameTickSpikesOfTwoSourcesComeInSourceOrder) {
  BrainSpec spec;
  for (RegionId r = 0; r < 3; ++r) {
    RegionSpec reg;
    reg.id = r;
    reg.size = 4;
    reg.populations.push_back({"all", 4, 0, true, {}});
    spec.regions.push_back(reg);
  }
  PathwaySpec a, b;
  a.from_region = 2;
  a.to_region = 0;
  b.from_region = 1;
  b.to_region = 0;
  spec.pathways = {a, b};  // declared out of source order on purpose
  SpikeRouter router(spec);
  std::vector<std::vector<Spike>> spikes = {{}, {{5, 3}, {6, 0}}, {{5, 1}, {5, 2}, {7, 0}}};
  std::vector<std::vector<InSpike>> in(3);
  router.Route(spikes, &in);
  std::vector<InSpike> want = {{5, 1, 3}, {5, 2, 1}, {5, 2, 2}, {6, 1, 0}, {7, 2, 0}};
  EXPECT_EQ(in[0], want);
  EXPECT_TRUE(in[1].empty());
  EXPECT_TRUE(in[2].empty());
}

}  // namespace
}  // namespace thalia::kernel
