// A region split into parts (PopulationRegion::RestrictTo), as processes will hold it: each part
// computes only its neurons and is given the other parts' spikes of the previous epoch; together
// they emit exactly the unsplit region's spikes, and their digest entries combine
// (CombineDigestParts) into exactly the unsplit region's digest, light and full, every epoch.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "kernel/digest.h"
#include "kernel/population_region.h"
#include "tests/kernel/kernel_test_util.h"
#include "tests/test_util.h"

namespace thalia::kernel {
namespace {

using testing::SpecFromJson;

// Runs region `id` of a brain whose other regions are silent whole and as parts cut at `cuts`
// (each part itself split into `shards` shards), `epochs` epochs of at most the internal delay
// with the same external spikes into every copy; checks spikes and digests every epoch.
void ExpectPartsEqualWhole(std::shared_ptr<const BrainSpec> spec, RegionId id,
                           const std::vector<uint32_t>& cuts, uint32_t shards, int epochs) {
  ModulatorModel model(*spec);
  const ModulatorState mods = model.Initial();
  PopulationRegion whole(*spec, id);
  std::vector<std::unique_ptr<PopulationRegion>> parts;
  std::vector<uint32_t> bounds = {0};
  bounds.insert(bounds.end(), cuts.begin(), cuts.end());
  bounds.push_back(spec->regions[id].size);
  for (size_t k = 0; k + 1 < bounds.size(); ++k) {
    parts.push_back(std::make_unique<PopulationRegion>(*spec, id));
    ASSERT_TRUE(parts.back()->RestrictTo(bounds[k], bounds[k + 1]));
    parts.back()->SetParallelism(nullptr, shards);
    EXPECT_EQ(parts.back()->part_lo(), bounds[k]);
  }
  const Tick window = whole.InternalDelay() == 0 ? 7 : whole.InternalDelay();
  ASSERT_GT(window, 0u);
  std::vector<std::vector<Spike>> last(parts.size());  // each part's spikes of the last epoch
  uint64_t total_spikes = 0;
  for (int e = 0; e < epochs; ++e) {
    const Tick t0 = whole.tick(), t1 = t0 + window;
    EpochContext ctx{static_cast<uint64_t>(e), t0, t1, mods, {}};
    // A few spikes from another region, into every copy alike.
    std::vector<InSpike> outside;
    if (id > 0)
      for (NeuronId n = 0; n < 5; ++n) outside.push_back({t0, 0, (n * 7 + static_cast<NeuronId>(e)) % 5});
    std::vector<Spike> want;
    whole.Advance(ctx, outside, {}, &want);
    std::vector<Spike> got;
    std::vector<std::vector<InSpike>> inbound(parts.size(), outside);
    for (size_t k = 0; k < parts.size(); ++k)
      for (size_t j = 0; j < parts.size(); ++j)
        if (j != k)
          for (const Spike& s : last[j]) inbound[k].push_back({s.tick, id, s.neuron});
    for (size_t k = 0; k < parts.size(); ++k) {
      const std::vector<InSpike>& in = inbound[k];
      std::vector<Spike> mine;
      parts[k]->Advance(ctx, in, {}, &mine);
      for (const Spike& s : mine) {
        ASSERT_GE(s.neuron, bounds[k]);
        ASSERT_LT(s.neuron, bounds[k + 1]);
      }
      got.insert(got.end(), mine.begin(), mine.end());
      last[k] = std::move(mine);
    }
    std::stable_sort(got.begin(), got.end(), [](const Spike& a, const Spike& b) { return a.tick < b.tick; });
    ASSERT_EQ(got, want) << "epoch " << e;
    total_spikes += want.size();
    for (bool full : {false, true}) {
      if (full && e % 10 != 9) continue;
      std::vector<DigestPart> entries;
      for (auto& p : parts) entries.push_back(p->DigestEntries(full));
      uint64_t combined = 0;
      ASSERT_TRUE(CombineDigestParts(entries, &combined));
      ASSERT_EQ(combined, whole.Digest(full)) << "epoch " << e << (full ? " full" : " light");
    }
  }
  EXPECT_GT(total_spikes, 0u) << "pick a brain that spikes";
}

std::shared_ptr<const BrainSpec> PlasticBrain() {
  return SpecFromJson(R"({"regions": [
    {"name": "src", "type": "generic", "populations": [{"name": "p", "size": 20}]},
    {"name": "r", "type": "generic", "populations": [
      {"name": "e", "size": 160, "neuron": {"v_init_jitter": 14, "bias": 14, "adapt_b": 0.5}},
      {"name": "i", "size": 40, "excitatory": false, "neuron": {"synapse": "Current", "bias": 16}}],
     "pathways": [{"from": "e", "to": "i", "indegree": 10, "weight": 0.3, "delay_ms": 0.1},
                  {"from": "i", "to": "e", "indegree": 10, "weight": 0.5, "delay_ms": 1,
                   "delay_jitter_ms": 0.5},
                  {"from": "e", "to": "e", "indegree": 10, "weight": 0.05, "delay_ms": 1.5,
                   "plasticity": "Stdp"}],
     "drives": [{"population": "e", "rate_hz": 100, "inputs": 5, "weight": 0.5}]}],
    "pathways": [{"from": "src", "to": "r.e", "indegree": 4, "weight": 0.2, "delay_ms": 3,
                  "plasticity": "DopamineStdp"}]})");
}

TEST(RegionParts, TwoAndThreePartsOfAPlasticRegionWithOneTickDelays) {
  auto spec = PlasticBrain();
  ExpectPartsEqualWhole(spec, 1, {96}, 1, 60);
  ExpectPartsEqualWhole(spec, 1, {48, 170}, 1, 60);
  ExpectPartsEqualWhole(spec, 1, {1, 199}, 1, 60);  // parts of one neuron
}

TEST(RegionParts, PartsSplitIntoShardsToo) {
  ExpectPartsEqualWhole(PlasticBrain(), 1, {64, 128}, 2, 40);
}

TEST(RegionParts, BundledBrains) {
  auto coba = thalia::testing::LoadExample("coba.json");
  ExpectPartsEqualWhole(coba, 0, {1600, 2400}, 1, 300);
  auto brunel = thalia::testing::LoadExample("brunel.json");
  ExpectPartsEqualWhole(brunel, 0, {6000}, 1, 60);
}

TEST(RegionParts, PartsThatDoNotMatchAreRefused) {
  auto spec = PlasticBrain();
  PopulationRegion a(*spec, 1), b(*spec, 1);
  ASSERT_TRUE(a.RestrictTo(0, 100));
  ASSERT_TRUE(b.RestrictTo(100, 200));
  std::vector<DigestPart> parts = {a.DigestEntries(false), b.DigestEntries(false)};
  uint64_t d = 0;
  ASSERT_TRUE(CombineDigestParts(parts, &d));
  parts[1].entries.pop_back();
  EXPECT_FALSE(CombineDigestParts(parts, &d));
  parts = {a.DigestEntries(false), a.DigestEntries(true)};
  EXPECT_FALSE(CombineDigestParts(parts, &d));
}

}  // namespace
}  // namespace thalia::kernel
