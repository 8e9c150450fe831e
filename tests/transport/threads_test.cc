// Regions split into shards on threads, in this process and inside forked and spawned workers:
// exactly the sequential single-thread run (every spike, the last epoch's digests, the full
// digests), and checkpoints that pass between splits.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "kernel/brain.h"
#include "kernel/executor.h"
#include "kernel/modulators.h"
#include "kernel/population_region.h"
#include "kernel/registry.h"
#include "kernel/thread_pool.h"
#include "tests/transport/transport_test_util.h"

namespace thalia::transport {
namespace {

using testing::RunFor;
using testing::ExpectSameRun;
using testing::RunResult;

kernel::RunOptions Threads(int threads, int workers = 0, const std::string& launch = "fork") {
  kernel::RunOptions o = workers > 0 ? testing::Parallel(workers, launch) : kernel::RunOptions{};
  o.threads = threads;
  o.keep_spikes = true;
  return o;
}


// Runs `example` for `ticks` on 1, 2, 3 and 4 threads in this process; each run equals the first.
void ExpectEveryThreadCountMatches(const std::string& example, kernel::Tick ticks) {
  auto spec = testing::LoadExample(example);
  ASSERT_TRUE(spec);
  const RunResult one = RunFor(spec, Threads(1), ticks);
  for (int t = 2; t <= 4; ++t) ExpectSameRun(RunFor(spec, Threads(t), ticks), one, *spec, example + " on " + std::to_string(t) + " threads");
}

TEST(ThreadsInProcess, BrunelGivesTheSameRunOnOneToFourThreads) { ExpectEveryThreadCountMatches("brunel.json", 300); }
// One-tick internal delays: the shards meet every tick.
TEST(ThreadsInProcess, CobaGivesTheSameRunOnOneToFourThreads) { ExpectEveryThreadCountMatches("coba.json", 1000); }
TEST(ThreadsInProcess, BrainGivesTheSameRunOnOneToFourThreads) { ExpectEveryThreadCountMatches("brain.json", 400); }
TEST(ThreadsInProcess, LargeGivesTheSameRunOnOneToFourThreads) { ExpectEveryThreadCountMatches("large.json", 200); }

TEST(ThreadsInProcess, RegionsLargeEnoughAreSplitOneShardPerThread) {
  auto spec = testing::LoadExample("coba.json");
  ASSERT_TRUE(spec);
  kernel::ThreadPool pool(3);
  auto region = kernel::BuildRegion(*spec, 0);
  std::vector<std::unique_ptr<kernel::Region>> regions;
  regions.push_back(std::move(region));
  kernel::SetRegionsParallelism(regions, &pool, 3);
  auto* p = dynamic_cast<kernel::PopulationRegion*>(regions[0].get());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->shard_count(), 3u);
  EXPECT_EQ(p->window(), 1u);  // COBA's 0.1 ms delays
  EXPECT_EQ(kernel::ShardsFor(1500, 4), 1u);  // too small to be worth a barrier per window
}

// A split region small enough to rejoin cheaply tries running whole (kernel/shards.cc, the split
// tuner): epochs 0-4 split, 5-9 whole (here always; in runs when its threads waited much), then
// whichever was faster. Every epoch's spikes and the
// final full digest equal the unsplit region's, whatever is chosen.
TEST(ThreadsInProcess, ASmallSplitRegionTriesRunningWholeAndComputesTheSame) {
  auto spec = testing::LoadExample("coba.json");
  ASSERT_TRUE(spec);
  kernel::ThreadPool pool(2);
  auto split = kernel::BuildRegion(*spec, 0), whole = kernel::BuildRegion(*spec, 0);
  split->SetParallelism(&pool, 2);
  auto* p = dynamic_cast<kernel::PopulationRegion*>(split.get());
  ASSERT_NE(p, nullptr);
  p->AlwaysTryWholeForTest();  // else only if its threads waited much: a matter of timing
  kernel::ModulatorModel model(*spec);
  const kernel::ModulatorState mods = model.Initial();
  std::vector<uint32_t> shards;
  size_t spikes = 0;
  for (uint64_t e = 0; e < 14; ++e) {
    const kernel::Tick t0 = static_cast<kernel::Tick>(e) * 100;
    kernel::EpochContext ctx{e, t0, t0 + 100, mods, {}};
    std::vector<kernel::Spike> a, b;
    split->Advance(ctx, {}, {}, &a);
    whole->Advance(ctx, {}, {}, &b);
    shards.push_back(p->shard_count());
    ASSERT_EQ(a.size(), b.size()) << "epoch " << e;
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(a[i].tick == b[i].tick && a[i].neuron == b[i].neuron) << "epoch " << e << " spike " << i;
    spikes += a.size();
  }
  EXPECT_GT(spikes, 0u);
  EXPECT_EQ(std::vector<uint32_t>(shards.begin(), shards.begin() + 10),
            (std::vector<uint32_t>{2, 2, 2, 2, 2, 1, 1, 1, 1, 1}));
  EXPECT_EQ(split->Digest(true), whole->Digest(true));
}

// Several regions on T threads (kernel::PlanRegions): whole regions side by side on lanes, and
// the costliest split over all threads only where that shortens the longest lane.
std::vector<std::unique_ptr<kernel::Region>> BuildAll(const kernel::BrainSpec& spec) {
  std::vector<std::unique_ptr<kernel::Region>> regions;
  for (kernel::RegionId r = 0; r < spec.regions.size(); ++r) regions.push_back(kernel::BuildRegion(spec, r));
  return regions;
}

TEST(ThreadsInProcess, FiveEqualRegionsOnTwoThreadsRunTwoAndTwoSideBySideAndSplitOne) {
  auto spec = testing::LoadExample("brain.json");
  ASSERT_TRUE(spec);
  const auto regions = BuildAll(*spec);
  const kernel::RegionPlan plan = kernel::PlanRegions(regions, 2);
  ASSERT_EQ(plan.lanes.size(), 2u);
  EXPECT_EQ(plan.lanes[0].size(), 2u);
  EXPECT_EQ(plan.lanes[1].size(), 2u);
  EXPECT_EQ(plan.shared.size(), 1u);  // 2 + 2 + 1/2 per thread, not 3 against 2
  std::vector<kernel::RegionId> all = plan.shared;
  for (const auto& lane : plan.lanes) {
    EXPECT_TRUE(std::is_sorted(lane.begin(), lane.end()));
    all.insert(all.end(), lane.begin(), lane.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<kernel::RegionId>{0, 1, 2, 3, 4}));  // each region once
}

TEST(ThreadsInProcess, TenRegionsOnTwoThreadsAllRunWholeOnBalancedLanes) {
  auto spec = testing::LoadExample("large.json");
  ASSERT_TRUE(spec);
  const auto regions = BuildAll(*spec);
  const kernel::RegionPlan plan = kernel::PlanRegions(regions, 2);
  EXPECT_TRUE(plan.shared.empty());
  ASSERT_EQ(plan.lanes.size(), 2u);
  double load[2] = {0, 0};
  for (int t = 0; t < 2; ++t)
    for (kernel::RegionId r : plan.lanes[t]) load[t] += regions[r]->Cost();
  EXPECT_LT(std::max(load[0], load[1]), 1.1 * std::min(load[0], load[1]));
}

TEST(ThreadsInProcess, OneThreadOrForcedShardsUseNoLanes) {
  auto spec = testing::LoadExample("brain.json");
  ASSERT_TRUE(spec);
  const auto regions = BuildAll(*spec);
  for (const kernel::RegionPlan& plan : {kernel::PlanRegions(regions, 1), kernel::PlanRegions(regions, 2, 2)}) {
    EXPECT_TRUE(plan.lanes.empty());
    EXPECT_EQ(plan.shared, (std::vector<kernel::RegionId>{0, 1, 2, 3, 4}));
  }
  auto one = testing::LoadExample("brunel.json");  // one region: nothing to run beside it
  ASSERT_TRUE(one);
  const kernel::RegionPlan single = kernel::PlanRegions(BuildAll(*one), 2);
  EXPECT_TRUE(single.lanes.empty());
  EXPECT_EQ(single.shared, (std::vector<kernel::RegionId>{0}));
}

TEST(ThreadsInProcess, ThreadsOutOfRangeAreRefused) {
  auto spec = testing::LoadExample("tiny.json");
  kernel::RunOptions o;
  o.threads = 100000;
  auto brain = kernel::Brain::Create(spec, o);
  ASSERT_FALSE(brain.ok());
  EXPECT_NE(brain.status().message().find("threads"), std::string::npos) << brain.status().message();
}

// The barrier: `parties` threads pass `rounds` barriers; between two barriers each writes its own
// slot (plain memory), and after each barrier every thread reads every slot and finds the round
// just ended, so no thread ever runs a barrier ahead or reads before the others' writes (under
// ThreadSanitizer, an unordered write and read would be reported too). Once with a pool thread
// slowed down now and then, so the others' waits go past spinning into blocking.
void StressBarrier(uint32_t parties, uint32_t rounds, bool sleepy) {
  kernel::SpinBarrier barrier(parties);
  std::vector<uint64_t> slot(size_t{parties} * 16, 0);  // a cache line apart
  std::atomic<uint64_t> mismatches{0};
  kernel::ThreadPool pool(parties);
  pool.Run([&](uint32_t i) {
    for (uint32_t r = 1; r <= rounds; ++r) {
      if (sleepy && i == parties - 1 && r % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
      slot[size_t{i} * 16] = r;
      barrier.ArriveAndWait(i);
      for (uint32_t j = 0; j < parties; ++j)
        if (slot[size_t{j} * 16] != r) mismatches.fetch_add(1, std::memory_order_relaxed);
      barrier.ArriveAndWait(i);  // nobody writes round r + 1 before all have read round r
    }
  });
  EXPECT_EQ(mismatches.load(), 0u) << parties << " parties";
}

TEST(SpinBarrier, EveryPartyPassesEveryRoundTogether) {
  // 2 to 4 parties wait on each other's flags; 6 share a counter. More threads than a 2-core
  // machine has cores wait for descheduled peers: fewer rounds there.
  for (uint32_t parties : {1u, 2u}) StressBarrier(parties, 20000, false);
  for (uint32_t parties : {3u, 4u, 6u}) StressBarrier(parties, 1000, false);
}

TEST(SpinBarrier, PartiesThatBlockAreWokenUp) {
  for (uint32_t parties : {2u, 3u, 6u}) StressBarrier(parties, 1000, true);
}

// Whether a split region's shards run on the pool or on the caller (chosen per epoch by how long
// the pool's threads waited at barriers, and a pool epoch may end on the caller) changes nothing:
// a region on a pool of 2 for many epochs, some of them with another thread competing for the
// cores (so the caller way is likely taken and the pool tried again), gives the sequential run's
// spikes exactly.
TEST(ThreadsInProcess, PoolOrCallerEpochByEpochGivesTheSequentialRun) {
  auto spec = testing::LoadExample("coba.json");
  ASSERT_TRUE(spec);
  const RunResult one = RunFor(spec, Threads(1), 3000);
  std::atomic<bool> stop{false};
  std::thread hog([&] {  // competes for the machine's cores for a while
    const uint64_t until = kernel::ThreadPool::NowNs() + 300'000'000;
    while (!stop.load(std::memory_order_relaxed) && kernel::ThreadPool::NowNs() < until) {
    }
  });
  const RunResult two = RunFor(spec, Threads(2), 3000);
  stop.store(true);
  hog.join();
  ExpectSameRun(two, one, *spec, "coba.json on 2 threads, pool or caller");
}

class ThreadsInWorkers : public ::testing::Test {
 protected:
  static constexpr kernel::Tick kTicks = 400;
  static void SetUpTestSuite() {
    spec_ = testing::LoadExample("brain.json");
    one_ = new RunResult(RunFor(spec_, Threads(1), kTicks));
  }
  static void TearDownTestSuite() {
    delete one_;
    one_ = nullptr;
  }
  static inline std::shared_ptr<const kernel::BrainSpec> spec_;
  static inline RunResult* one_ = nullptr;
};

TEST_F(ThreadsInWorkers, TwoForkedWorkersOnTwoThreadsEachMatchOneThread) {
  ExpectSameRun(RunFor(spec_, Threads(2, 2, "fork"), kTicks), *one_, *spec_, "2 forked workers x 2 threads");
  EXPECT_TRUE(testing::NoChildLeft());
}

TEST_F(ThreadsInWorkers, ThreeSpawnedWorkersOnThreeThreadsEachMatchOneThread) {
  ExpectSameRun(RunFor(spec_, Threads(3, 3, "spawn"), kTicks), *one_, *spec_, "3 spawned workers x 3 threads");
  EXPECT_TRUE(testing::NoChildLeft());
}

TEST_F(ThreadsInWorkers, TheCoordinatorsShareRunsOnThreadsToo) {
  kernel::RunOptions o = Threads(2, 2, "fork");
  o.coordinator_share = true;
  ExpectSameRun(RunFor(spec_, o, kTicks), *one_, *spec_, "coordinator share x 2 threads");
}

// Half the run with `first`, captured, resumed with `second`: the run that never stopped. Cut
// at an epoch boundary of the uninterrupted run, so that the last epochs coincide and their
// digests compare too (mid-epoch, spikes in flight would wait at the coordinator in one run and
// in the delay queue in the other; the full digests flush them and agree either way).
void ExpectResumeMatches(const std::string& example, kernel::Tick ticks, kernel::RunOptions first,
                         kernel::RunOptions second) {
  auto spec = testing::LoadExample(example);
  const RunResult whole = RunFor(spec, Threads(1), ticks);
  auto a = kernel::Brain::Create(spec, first);
  ASSERT_TRUE(a.ok()) << a.status().message();
  const kernel::Tick half = ticks / 2 / spec->epoch_ticks * spec->epoch_ticks;
  ASSERT_GT(half, 0u);
  ASSERT_TRUE((*a)->RunUntil(half).ok());
  RunResult got;
  for (kernel::RegionId r = 0; r < spec->regions.size(); ++r) got.spikes.push_back((*a)->TakeSpikes(r));
  auto state = (*a)->CaptureState();
  ASSERT_TRUE(state.ok()) << state.status().message();
  ASSERT_TRUE((*a)->Shutdown().ok());
  auto b = kernel::Brain::Restore(spec, state.value(), second);
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_TRUE((*b)->RunUntil(ticks).ok());
  for (kernel::RegionId r = 0; r < spec->regions.size(); ++r) {
    auto rest = (*b)->TakeSpikes(r);
    got.spikes[r].insert(got.spikes[r].end(), rest.begin(), rest.end());
  }
  got.last_epoch_digests = (*b)->epoch_digests();
  auto d = (*b)->RegionDigests();
  ASSERT_TRUE(d.ok()) << d.status().message();
  got.digests = d.value();
  ExpectSameRun(got, whole, *spec, example + " resumed");
}

TEST(ThreadsResume, StateCapturedFromFourShardsResumesOnOne) {
  ExpectResumeMatches("brunel.json", 300, Threads(4), Threads(1));
}

TEST(ThreadsResume, StateCapturedSequentiallyResumesOnThreeWorkersOfTwoThreads) {
  ExpectResumeMatches("brain.json", 400, Threads(1), Threads(2, 3, "fork"));
}

TEST(ThreadsResume, StateCapturedFromThreeShardsResumesOnTwo) {
  kernel::RunOptions three = Threads(3);
  three.shards = 3;  // exactly: not joined by the split tuner when that is faster
  ExpectResumeMatches("coba.json", 600, three, Threads(2));
}

}  // namespace
}  // namespace thalia::transport
