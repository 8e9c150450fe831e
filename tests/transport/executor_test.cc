// The socket executor against the sequential run on the bundled tiny brain: exact equality of
// every region's spikes and digests for each worker count, launch mode and placement; state
// transfer; per-worker statistics.
#include "transport/socket_executor.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <cstdlib>

#include "kernel/brain.h"
#include "tests/transport/transport_test_util.h"

namespace thalia::transport {
namespace {

using testing::Parallel;
using testing::RunFor;

class TinyEquivalence : public testing::TinySequentialReference {};

TEST_F(TinyEquivalence, ForkedWithOneWorkerMatchesSequential) { ExpectSameAsSequential(Parallel(1, "fork")); }
TEST_F(TinyEquivalence, ForkedWithTwoWorkersMatchesSequential) { ExpectSameAsSequential(Parallel(2, "fork")); }
TEST_F(TinyEquivalence, ForkedWithThreeWorkersMatchesSequential) { ExpectSameAsSequential(Parallel(3, "fork")); }
TEST_F(TinyEquivalence, ForkedWithFiveWorkersMatchesSequential) { ExpectSameAsSequential(Parallel(5, "fork")); }
TEST_F(TinyEquivalence, SpawnedWithTwoWorkersMatchesSequential) { ExpectSameAsSequential(Parallel(2, "spawn")); }
TEST_F(TinyEquivalence, SpawnedWithFiveWorkersMatchesSequential) { ExpectSameAsSequential(Parallel(5, "spawn")); }
TEST_F(TinyEquivalence, TwoDifferentPlacementsMatchSequential) {
  ExpectSameAsSequential(Parallel(2, "fork", {0, 0, 0, 1, 1}));
  ExpectSameAsSequential(Parallel(2, "fork", {1, 0, 1, 0, 1}));
  ExpectSameAsSequential(Parallel(3, "spawn", {2, 1, 0, 2, 1}));
}

TEST_F(TinyEquivalence, SpawnFindsTheWorkerBinaryThroughTheEnvironment) {
  kernel::RunOptions o = Parallel(2, "spawn");
  o.worker_binary.clear();
  ::setenv("THALIA_WORKER_BINARY", testing::ThaliaBinary().c_str(), 1);
  ExpectSameAsSequential(o);
  ::unsetenv("THALIA_WORKER_BINARY");
  auto brain = kernel::Brain::Create(spec_, o);
  ASSERT_FALSE(brain.ok());
  EXPECT_NE(brain.status().message().find("THALIA_WORKER_BINARY"), std::string::npos);
}

// tiny.json's regions (100-600 neurons) are too small to split into parts of 256 neurons or more:
// more workers than regions run one worker per region (transport/placement.h).
TEST_F(TinyEquivalence, MoreWorkersThanRegionsTooSmallToSplitIsClampedToTheRegions) {
  ExpectSameAsSequential(Parallel(9, "fork"));
  auto brain = kernel::Brain::Create(spec_, Parallel(9, "fork"));
  ASSERT_TRUE(brain.ok());
  EXPECT_EQ((*brain)->Stats().size(), spec_->regions.size());
}

TEST_F(TinyEquivalence, StatePassesBetweenParallelAndSequentialRuns) {
  // Half the run in workers, captured, resumed in-process: the same result as never stopping.
  auto parallel = kernel::Brain::Create(spec_, Parallel(3, "spawn"));
  ASSERT_TRUE(parallel.ok()) << parallel.status().message();
  ASSERT_TRUE((*parallel)->RunUntil(kTicks / 2).ok());
  auto state = (*parallel)->CaptureState();
  ASSERT_TRUE(state.ok()) << state.status().message();
  kernel::RunOptions seq;
  auto resumed = kernel::Brain::Restore(spec_, state.value(), seq);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  ASSERT_TRUE((*resumed)->RunUntil(kTicks).ok());
  EXPECT_EQ((*resumed)->RegionDigests().value(), sequential_->digests);
  // And the other way: sequential state loaded into forked workers.
  auto back = kernel::Brain::Restore(spec_, state.value(), Parallel(2, "fork"));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE((*back)->RunUntil(kTicks).ok());
  EXPECT_EQ((*back)->RegionDigests().value(), sequential_->digests);
}

TEST_F(TinyEquivalence, AStateThatDoesNotFitIsInvalidInputFromAWorker) {
  auto brain = kernel::Brain::Create(spec_, Parallel(2, "fork"));
  ASSERT_TRUE(brain.ok());
  auto state = (*brain)->CaptureState();
  ASSERT_TRUE(state.ok()) << state.status().message();
  state.value().regions[1] = state.value().regions[0];  // cortex's state for hippocampus
  auto restored = kernel::Brain::Restore(spec_, state.value(), Parallel(2, "spawn"));
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(restored.status().message().find("another region than 'hippocampus'"), std::string::npos)
      << restored.status().message();
}

TEST_F(TinyEquivalence, PerturbingAWeightInAWorkerChangesOnlyThatRegionsDigest) {
  auto brain = kernel::Brain::Create(spec_, Parallel(2, "fork"));
  ASSERT_TRUE(brain.ok());
  auto before = (*brain)->RegionDigests().value();
  ASSERT_TRUE((*brain)->PerturbWeightForTest(1, 0.01f).ok());
  auto after = (*brain)->RegionDigests().value();
  for (size_t r = 0; r < before.size(); ++r) {
    if (r == 1) EXPECT_NE(before[r], after[r]);
    else EXPECT_EQ(before[r], after[r]);
  }
}

TEST_F(TinyEquivalence, StatsReportEveryWorkersLoad) {
  auto brain = kernel::Brain::Create(spec_, Parallel(2, "fork", {0, 1, 1, 1, 1}));
  ASSERT_TRUE(brain.ok());
  ASSERT_TRUE((*brain)->RunUntil(kTicks).ok());
  auto stats = (*brain)->Stats();
  ASSERT_EQ(stats.size(), 2u);
  for (const kernel::WorkerStats& s : stats) {
    EXPECT_EQ(s.epochs, (*brain)->epoch());
    EXPECT_GT(s.pid, 0);
    EXPECT_GT(s.busy_s, 0);
    EXPECT_GT(s.wait_s, 0);
  }
  EXPECT_EQ(stats[0].regions, std::vector<kernel::RegionId>({0}));
  EXPECT_EQ(stats[1].regions, std::vector<kernel::RegionId>({1, 2, 3, 4}));
  EXPECT_NE((*brain)->executor_name().find("fork"), std::string::npos);
}

// Workers run as SCHED_BATCH (transport/worker.cc: a woken worker must not preempt the
// coordinator), forked or spawned; the coordinator keeps its own policy.
TEST_F(TinyEquivalence, WorkersRunAsBatchAndTheCoordinatorDoesNot) {
  const int own_policy = ::sched_getscheduler(0);
  for (const char* launch : {"fork", "spawn"}) {
    auto brain = kernel::Brain::Create(spec_, Parallel(2, launch));
    ASSERT_TRUE(brain.ok()) << launch << ": " << brain.status().message();
    ASSERT_TRUE((*brain)->RunUntil(10).ok());
    for (const kernel::WorkerStats& s : (*brain)->Stats())
      EXPECT_EQ(::sched_getscheduler(s.pid), SCHED_BATCH) << launch << " worker " << s.pid;
    EXPECT_EQ(::sched_getscheduler(0), own_policy);
  }
}

TEST_F(TinyEquivalence, ConfiguredPinsAreHonoured) {
  // RegionSpec::worker from the configuration: every region on worker 1 but cortex.
  auto spec = std::make_shared<kernel::BrainSpec>(*spec_);
  for (auto& r : spec->regions) r.worker = r.name == "cortex" ? 0 : 1;
  auto brain = kernel::Brain::Create(spec, Parallel(2, "fork"));
  ASSERT_TRUE(brain.ok()) << brain.status().message();
  EXPECT_EQ((*brain)->Stats()[1].regions.size(), 4u);
  ASSERT_TRUE((*brain)->RunUntil(kTicks).ok());
  EXPECT_EQ((*brain)->RegionDigests().value(), sequential_->digests);
}

}  // namespace
}  // namespace thalia::transport
