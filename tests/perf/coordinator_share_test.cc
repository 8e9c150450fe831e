// The coordinator hosting worker 0's share of the regions (SocketOptions::coordinator_share):
// exactly the sequential run's spikes and digests for each worker count, launch and
// placement; state capture and load across modes; perturbation; statistics; no child left.
#include <gtest/gtest.h>
#include <unistd.h>

#include "kernel/brain.h"
#include "tests/transport/transport_test_util.h"

namespace thalia::transport {
namespace {

using testing::RunFor;

kernel::RunOptions Shared(int workers, const std::string& launch, std::vector<int> placement = {}) {
  kernel::RunOptions o = testing::Parallel(workers, launch, std::move(placement));
  o.coordinator_share = true;
  return o;
}

class CoordinatorShare : public testing::TinySequentialReference {};

TEST_F(CoordinatorShare, OneShareIsTheCoordinatorAloneAndMatchesSequential) {
  ExpectSameAsSequential(Shared(1, "fork"));
}
TEST_F(CoordinatorShare, ForkedTwoMatchSequential) { ExpectSameAsSequential(Shared(2, "fork")); }
TEST_F(CoordinatorShare, ForkedFiveMatchSequential) { ExpectSameAsSequential(Shared(5, "fork")); }
TEST_F(CoordinatorShare, SpawnedThreeMatchSequential) { ExpectSameAsSequential(Shared(3, "spawn")); }
TEST_F(CoordinatorShare, AnyPlacementMatchesSequential) {
  ExpectSameAsSequential(Shared(2, "fork", {1, 0, 1, 0, 0}));
  ExpectSameAsSequential(Shared(3, "spawn", {2, 1, 0, 2, 1}));
}

TEST_F(CoordinatorShare, StatePassesToAndFromTheOtherModes) {
  auto shared = kernel::Brain::Create(spec_, Shared(2, "fork"));
  ASSERT_TRUE(shared.ok()) << shared.status().message();
  ASSERT_TRUE((*shared)->RunUntil(kTicks / 2).ok());
  auto state = (*shared)->CaptureState();
  ASSERT_TRUE(state.ok()) << state.status().message();
  auto seq = kernel::Brain::Restore(spec_, state.value(), kernel::RunOptions{});
  ASSERT_TRUE(seq.ok()) << seq.status().message();
  ASSERT_TRUE((*seq)->RunUntil(kTicks).ok());
  EXPECT_EQ((*seq)->RegionDigests().value(), sequential_->digests);
  auto back = kernel::Brain::Restore(spec_, state.value(), Shared(3, "spawn"));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE((*back)->RunUntil(kTicks).ok());
  EXPECT_EQ((*back)->RegionDigests().value(), sequential_->digests);
}

TEST_F(CoordinatorShare, AStateThatDoesNotFitTheCoordinatorsShareIsInvalidInput) {
  auto brain = kernel::Brain::Create(spec_, kernel::RunOptions{});
  ASSERT_TRUE(brain.ok());
  auto state = (*brain)->CaptureState();
  ASSERT_TRUE(state.ok());
  state.value().regions[1] = state.value().regions[0];  // cortex's state for hippocampus
  auto restored = kernel::Brain::Restore(spec_, state.value(), Shared(2, "fork", {1, 0, 1, 1, 1}));
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(restored.status().message().find("hippocampus"), std::string::npos) << restored.status().message();
  EXPECT_TRUE(testing::NoChildLeft());
}

TEST_F(CoordinatorShare, PerturbingALocalRegionChangesOnlyItsDigest) {
  auto brain = kernel::Brain::Create(spec_, Shared(2, "fork", {1, 0, 1, 1, 1}));
  ASSERT_TRUE(brain.ok());
  auto before = (*brain)->RegionDigests().value();
  ASSERT_TRUE((*brain)->PerturbWeightForTest(1, 0.01f).ok());
  auto after = (*brain)->RegionDigests().value();
  for (size_t r = 0; r < before.size(); ++r) {
    if (r == 1) {
      EXPECT_NE(before[r], after[r]);
    } else {
      EXPECT_EQ(before[r], after[r]);
    }
  }
}

TEST_F(CoordinatorShare, WorkerZeroIsTheCoordinatorAndTheOthersAreChildren) {
  auto brain = kernel::Brain::Create(spec_, Shared(3, "fork"));
  ASSERT_TRUE(brain.ok());
  ASSERT_TRUE((*brain)->StepEpochs(5).ok());
  auto stats = (*brain)->Stats();
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].pid, ::getpid());
  for (const kernel::WorkerStats& s : stats) {
    EXPECT_EQ(s.epochs, 5u);
    EXPECT_FALSE(s.regions.empty());
    if (s.worker > 0) {
      EXPECT_NE(s.pid, ::getpid());
    }
  }
  ASSERT_TRUE((*brain)->Shutdown().ok());
  EXPECT_TRUE(testing::NoChildLeft());
}

}  // namespace
}  // namespace thalia::transport
