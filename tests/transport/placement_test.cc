// Placement of regions on workers: balanced by cost, pinned by the configuration, overridden by
// the caller, clamped to the number of regions, and checked.
#include "transport/placement.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace thalia::transport {
namespace {

TEST(Placement, LargestRegionsGoToTheLeastLoadedWorker) {
  auto spec = testing::LoadExample("tiny.json");  // cortex, hippocampus, pfc, striatum, cerebellum
  std::vector<double> costs = {10, 6, 5, 4, 1};
  auto p = PlaceRegions(*spec, costs, 2, {});
  ASSERT_TRUE(p.ok());
  // 10 -> w0; 6 -> w1; 5 -> w1 (11); 4 -> w0 (14); 1 -> w1 (12).
  EXPECT_EQ(p.value(), std::vector<int>({0, 1, 1, 0, 1}));
}

TEST(Placement, OneWorkerTakesEverything) {
  auto spec = testing::LoadExample("tiny.json");
  auto p = PlaceRegions(*spec, EstimateCosts(*spec), 1, {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), std::vector<int>(5, 0));
}

TEST(Placement, MoreWorkersThanRegionsIsClamped) {
  auto spec = testing::LoadExample("tiny.json");
  auto p = PlaceRegions(*spec, EstimateCosts(*spec), 8, {});
  ASSERT_TRUE(p.ok());
  std::vector<int> sorted = p.value();
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, std::vector<int>({0, 1, 2, 3, 4}));
}

TEST(Placement, ExplicitPlacementWinsAndIsChecked) {
  auto spec = testing::LoadExample("tiny.json");
  std::vector<double> costs(5, 1);
  EXPECT_EQ(PlaceRegions(*spec, costs, 2, {1, 1, 1, 1, 0}).value(), std::vector<int>({1, 1, 1, 1, 0}));
  EXPECT_FALSE(PlaceRegions(*spec, costs, 2, {0, 1}).ok());           // wrong length
  EXPECT_FALSE(PlaceRegions(*spec, costs, 2, {0, 1, 2, 0, 0}).ok());  // no worker 2
  EXPECT_FALSE(PlaceRegions(*spec, costs, 3, {0, 1, 0, 1, 0}).ok());  // worker 2 idle
}

TEST(Placement, ConfiguredPinsCountInTheBalance) {
  auto base = testing::LoadExample("tiny.json");
  kernel::BrainSpec spec = *base;
  spec.regions[4].worker = 0;  // cerebellum pinned
  std::vector<double> costs = {5, 5, 1, 1, 9};
  auto p = PlaceRegions(spec, costs, 2, {});
  ASSERT_TRUE(p.ok());
  // w0 starts at 9; 5 -> w1; 5 -> w1 (10); 1 -> w0 (10); 1 -> w0 (11): ties go to the lowest.
  EXPECT_EQ(p.value(), std::vector<int>({1, 1, 0, 0, 0}));
  spec.regions[4].worker = 3;
  EXPECT_FALSE(PlaceRegions(spec, costs, 2, {}).ok());
}

TEST(Placement, EstimatedCostGrowsWithNeuronsAndSynapses) {
  auto spec = testing::LoadExample("tiny.json");
  auto c = EstimateCosts(*spec);
  ASSERT_EQ(c.size(), 5u);
  EXPECT_GT(c[0], c[2]);  // cortex (400) over pfc (200)
  for (double x : c) EXPECT_GT(x, 0);
}

}  // namespace
}  // namespace thalia::transport
