// A region split into parts (PopulationRegion::RestrictTo), as processes will hold it: each part
// computes only its neurons and is given the other parts' spikes of the previous epoch; together
// they emit exactly the unsplit region's spikes, and their digest entries combine
// (CombineDigestParts) into exactly the unsplit region's digest, light and full, every epoch.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "kernel/digest.h"
#include "kernel/population_region.h"
#include "tests/kernel/kernel_test_util.h"
#include "tests/kernel/region_parts.h"
#include "tests/test_util.h"

namespace thalia::kernel {
namespace {


// Runs region `id` whole and as parts cut at `cuts` (each on `shards` shards) for `epochs`
// epochs of the internal delay (7 ticks if none), with a few spikes of region 0 into it.
void ExpectPartsEqualWhole(std::shared_ptr<const BrainSpec> spec, RegionId id,
                           const std::vector<uint32_t>& cuts, uint32_t shards, int epochs) {
  ModulatorModel model(*spec);
  const ModulatorState mods = model.Initial();
  testing::RegionParts run(*spec, id, cuts, shards);
  ASSERT_TRUE(run.ok());
  const Tick window = run.whole().InternalDelay() == 0 ? 7 : run.whole().InternalDelay();
  for (int e = 0; e < epochs; ++e) {
    const Tick t0 = run.whole().tick();
    EpochContext ctx{static_cast<uint64_t>(e), t0, t0 + window, mods, {}};
    std::vector<InSpike> outside;
    if (id > 0)
      for (NeuronId n = 0; n < 5; ++n) outside.push_back({t0, 0, (n * 7 + static_cast<NeuronId>(e)) % 5});
    ASSERT_EQ(run.Step(ctx, outside, {}, e % 10 == 9), "");
  }
  EXPECT_GT(run.spikes(), 0u) << "pick a brain that spikes";
}

// A plastic region (one-tick e->i delays) of 200 neurons with a source region.
std::shared_ptr<const BrainSpec> PlasticBrain() { return testing::PlasticTestBrain(160, 40, 0.1); }

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
