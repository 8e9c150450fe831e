// Regions split over worker processes (transport::PlaceParts, PopulationRegion::RestrictTo): with
// more workers than regions, or a placement that names parts, every spike and digest is the
// sequential run's, forked or spawned, with threads inside the parts too; a state captured
// sequentially resumes onto split regions and one captured from split regions resumes anywhere;
// a split run records a trace that replays in one process; and the placement says clearly what
// it will not do.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernel/brain.h"
#include "tests/transport/transport_test_util.h"
#include "transport/placement.h"

namespace thalia::transport {
namespace {

using testing::RunFor;
using testing::ExpectSameRun;
using testing::RunResult;

// Workers that build brunel.json's 15.6 M synapses under a sanitizer take longer than the default
// 30 s hang timeout to answer their first request: these tests are about results, not hangs.
kernel::RunOptions Parallel(int workers, const std::string& launch) {
  kernel::RunOptions o = testing::Parallel(workers, launch);
  o.hang_timeout_ms = 300000;
  return o;
}


// How many workers a run used, and how many regions are split.
std::pair<size_t, int> Shape(std::shared_ptr<const kernel::BrainSpec> spec, const kernel::RunOptions& o) {
  auto brain = kernel::Brain::Create(spec, o);
  EXPECT_TRUE(brain.ok()) << brain.status().message();
  if (!brain.ok()) return {0, 0};
  std::vector<int> hosts(spec->regions.size(), 0);
  for (const kernel::WorkerStats& w : (*brain)->Stats())
    for (kernel::RegionId r : w.regions) ++hosts[r];
  int split = 0;
  for (int h : hosts) split += h > 1;
  return {(*brain)->Stats().size(), split};
}

// A fixture holding the sequential run of one example for `ticks` ticks, made once per suite.
template <const char* kExample, kernel::Tick kRunTicks>
class SequentialOf : public ::testing::Test {
 protected:
  static constexpr kernel::Tick kTicks = kRunTicks;
  static void SetUpTestSuite() {
    spec_ = testing::LoadExample(kExample);
    kernel::RunOptions seq;
    seq.keep_spikes = true;
    seq_ = new RunResult(RunFor(spec_, seq, kTicks));
  }
  static void TearDownTestSuite() {
    delete seq_;
    seq_ = nullptr;
  }
  // Runs `o` to `cut`, captures the state and resumes it in one process: the run ends with the
  // uninterrupted run's digests.
  static void ExpectCapturedStateResumesWhole(const kernel::RunOptions& o, kernel::Tick cut) {
    auto first = kernel::Brain::Create(spec_, o);
    ASSERT_TRUE(first.ok()) << first.status().message();
    ASSERT_TRUE((*first)->RunUntil(cut).ok());
    auto state = (*first)->CaptureState();
    ASSERT_TRUE(state.ok()) << state.status().message();
    ASSERT_TRUE((*first)->Shutdown().ok());
    auto second = kernel::Brain::Restore(spec_, state.value(), kernel::RunOptions{});
    ASSERT_TRUE(second.ok()) << second.status().message();
    ASSERT_TRUE((*second)->RunUntil(kTicks).ok());
    auto d = (*second)->RegionDigests();
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.value(), seq_->digests);
  }
  static inline std::shared_ptr<const kernel::BrainSpec> spec_;
  static inline RunResult* seq_ = nullptr;
};

constexpr char kBrunel[] = "brunel.json";
using SplitBrunel = SequentialOf<kBrunel, 400>;

TEST_F(SplitBrunel, OneRegionOverTwoAndThreeForkedWorkers) {
  for (int w : {2, 3}) {
    EXPECT_EQ(Shape(spec_, Parallel(w, "fork")), std::make_pair(size_t(w), 1));
    ExpectSameRun(RunFor(spec_, Parallel(w, "fork"), kTicks), *seq_, *spec_, std::to_string(w) + " forked", true);
  }
  EXPECT_TRUE(testing::NoChildLeft());
}

kernel::RunOptions Direct(int workers, int threads = 1) {
  kernel::RunOptions o = Parallel(workers, "fork");
  o.exchange = "direct";
  o.threads = threads;
  return o;
}

// --exchange direct: the parts send each other their spikes over sockets of their own and the
// coordinator runs an epoch ahead; every spike and digest as in one process, no spike sent to
// the coordinator unless kept (RunFor keeps them, so here they are: counted below without).
TEST_F(SplitBrunel, PartsExchangingSpikesDirectly) {
  for (int w : {2, 3})
    ExpectSameRun(RunFor(spec_, Direct(w), kTicks), *seq_, *spec_, std::to_string(w) + " direct", true);
  ExpectSameRun(RunFor(spec_, Direct(2, 2), kTicks), *seq_, *spec_, "2 direct x 2 threads", true);
  kernel::RunOptions o = Direct(3);
  o.keep_spikes = false;
  auto brain = kernel::Brain::Create(spec_, o);
  ASSERT_TRUE(brain.ok()) << brain.status().message();
  ASSERT_TRUE((*brain)->RunUntil(kTicks).ok());
  uint64_t spikes = 0, emitted = (*brain)->counters(0).spikes;
  for (const kernel::WorkerStats& w : (*brain)->Stats()) spikes += w.spikes_to_coordinator;
  EXPECT_GT(emitted, 0u);
  EXPECT_EQ(spikes, 0u);
  auto d = (*brain)->RegionDigests();
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d.value(), seq_->digests);
  ASSERT_TRUE((*brain)->Shutdown().ok());
  EXPECT_TRUE(testing::NoChildLeft());
}

// A state captured from parts exchanging directly (the spikes in flight held by the workers are
// delivered first) resumes in one process as the uninterrupted run.
TEST_F(SplitBrunel, DirectStateResumesInOneProcess) {
  ExpectCapturedStateResumesWhole(Direct(2), kTicks / 2 + 5);
}

TEST_F(SplitBrunel, DirectNeedsForkedWorkers) {
  kernel::RunOptions o = Direct(2);
  o.launch = "spawn";
  auto brain = kernel::Brain::Create(spec_, o);
  ASSERT_FALSE(brain.ok());
  EXPECT_NE(brain.status().message().find("--launch fork"), std::string::npos) << brain.status().message();
  o.launch = "fork";
  o.coordinator_share = true;
  EXPECT_FALSE(kernel::Brain::Create(spec_, o).ok());
  kernel::RunOptions in_process;
  in_process.workers = 0;
  in_process.exchange = "direct";
  EXPECT_FALSE(kernel::Brain::Create(spec_, in_process).ok());
  EXPECT_TRUE(testing::NoChildLeft());
}

TEST_F(SplitBrunel, OneRegionOverTwoAndThreeSpawnedWorkers) {
  for (int w : {2, 3})
    ExpectSameRun(RunFor(spec_, Parallel(w, "spawn"), kTicks), *seq_, *spec_, std::to_string(w) + " spawned", true);
}

TEST_F(SplitBrunel, PartsOnTwoThreadsEach) {
  kernel::RunOptions o = Parallel(2, "fork");
  o.threads = 2;
  ExpectSameRun(RunFor(spec_, o, kTicks), *seq_, *spec_, "2 workers x 2 threads", true);
}

TEST_F(SplitBrunel, ExplicitPartsInAnyWorkerOrder) {
  kernel::RunOptions o = Parallel(3, "spawn");
  o.placement_parts = {{2, 0, 1}};
  ExpectSameRun(RunFor(spec_, o, kTicks), *seq_, *spec_, "parts on workers 2, 0, 1", true);
}

// The coordinator's process holds a part itself (--coordinator-share): the same run, and a state
// captured from it (its part's state joined with the worker's) resumes in one process.
TEST_F(SplitBrunel, TheCoordinatorsShareHoldsAPart) {
  kernel::RunOptions o = Parallel(2, "fork");
  o.coordinator_share = true;
  ExpectSameRun(RunFor(spec_, o, kTicks), *seq_, *spec_, "coordinator share + 1 worker", true);
  ExpectCapturedStateResumesWhole(o, kTicks / 2);
}

// A state captured in one process resumes onto a region split over workers (every part loads
// the whole region's state and keeps its neurons), and the run ends as the uninterrupted one.
TEST_F(SplitBrunel, SequentialStateResumesOnThreeWorkersOfTwoThreads) {
  auto first = kernel::Brain::Create(spec_, kernel::RunOptions{});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->RunUntil(kTicks / 2).ok());
  auto state = (*first)->CaptureState();
  ASSERT_TRUE(state.ok()) << state.status().message();
  kernel::RunOptions o = Parallel(3, "fork");
  o.threads = 2;
  auto second = kernel::Brain::Restore(spec_, state.value(), o);
  ASSERT_TRUE(second.ok()) << second.status().message();
  ASSERT_TRUE((*second)->RunUntil(kTicks).ok());
  std::vector<kernel::Spike> tail = (*second)->TakeSpikes(0);
  std::vector<kernel::Spike> want;
  for (const kernel::Spike& s : seq_->spikes[0])
    if (s.tick >= kTicks / 2) want.push_back(s);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(tail, want);
  auto d = (*second)->RegionDigests();
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d.value(), seq_->digests);
}

// A state captured from a region split over 3 spawned workers (their masked states joined)
// resumes in one process, and on 2 forked workers, as the run that never stopped.
TEST_F(SplitBrunel, StateCapturedFromPartsResumesWholeAndOnOtherParts) {
  auto first = kernel::Brain::Create(spec_, Parallel(3, "spawn"));
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE((*first)->RunUntil(kTicks / 2 + 7).ok());  // mid-epoch too
  auto state = (*first)->CaptureState();
  ASSERT_TRUE(state.ok()) << state.status().message();
  ASSERT_TRUE((*first)->Shutdown().ok());
  std::vector<kernel::Spike> want;
  for (const kernel::Spike& s : seq_->spikes[0])
    if (s.tick >= kTicks / 2 + 7) want.push_back(s);
  ASSERT_FALSE(want.empty());
  kernel::RunOptions whole;
  whole.keep_spikes = true;
  for (const kernel::RunOptions& o : {whole, Parallel(2, "fork")}) {
    auto second = kernel::Brain::Restore(spec_, state.value(), o);
    ASSERT_TRUE(second.ok()) << second.status().message();
    ASSERT_TRUE((*second)->RunUntil(kTicks).ok());
    EXPECT_EQ((*second)->TakeSpikes(0), want) << o.workers << " workers";
    auto d = (*second)->RegionDigests();
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_EQ(d.value(), seq_->digests) << o.workers << " workers";
  }
}

// A run recorded with the region split replays in one process, whole and region by region.
TEST_F(SplitBrunel, RecordedSplitReplaysInOneProcess) {
  const std::string trace = ::testing::TempDir() + "split_brunel.trace";
  std::remove(trace.c_str());
  const std::string bin = testing::ThaliaBinary();
  const std::string run = bin + " run " + testing::ExamplePath("brunel.json") +
                          " --until 40ms --workers 3 --record " + trace + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(run.c_str()), 0) << run;
  const std::string replay = bin + " replay " + trace + " > /dev/null 2>&1";
  EXPECT_EQ(std::system(replay.c_str()), 0) << replay;
  const std::string region = bin + " replay " + trace + " --region net > /dev/null 2>&1";
  EXPECT_EQ(std::system(region.c_str()), 0) << region;
  std::remove(trace.c_str());
}

constexpr char kBrain[] = "brain.json";
using SplitBrain = SequentialOf<kBrain, 600>;

TEST_F(SplitBrain, TwoThreeAndSevenForkedWorkers) {
  for (int w : {2, 3, 7})
    ExpectSameRun(RunFor(spec_, Parallel(w, "fork"), kTicks), *seq_, *spec_, std::to_string(w) + " forked", w <= 5);
  // Seven workers for five regions: two regions are split, one part per worker.
  EXPECT_EQ(Shape(spec_, Parallel(7, "fork")), std::make_pair(size_t(7), 2));
}

TEST_F(SplitBrain, ThreeAndSevenWorkersExchangingSpikesDirectly) {
  for (int w : {3, 7})
    ExpectSameRun(RunFor(spec_, Direct(w), kTicks), *seq_, *spec_, std::to_string(w) + " direct", false);
}

TEST_F(SplitBrain, SevenSpawnedWorkers) {
  ExpectSameRun(RunFor(spec_, Parallel(7, "spawn"), kTicks), *seq_, *spec_, "7 spawned", false);
}

TEST_F(SplitBrain, APlacementThatSplitsOneRegion) {
  kernel::RunOptions o = Parallel(3, "fork");
  o.placement_parts = {{0}, {1, 2}, {0}, {0}, {0}};
  EXPECT_EQ(Shape(spec_, o), std::make_pair(size_t(3), 1));
  ExpectSameRun(RunFor(spec_, o, kTicks), *seq_, *spec_, "region 1 on workers 1 and 2", false);
}

// Plastic regions split over workers, captured mid-run and resumed in one process.
TEST_F(SplitBrain, StateCapturedFromSevenWorkersResumesInOneProcess) {
  auto first = kernel::Brain::Create(spec_, Parallel(7, "fork"));
  ASSERT_TRUE(first.ok()) << first.status().message();
  const kernel::Tick half = kTicks / 2 + 3;
  ASSERT_TRUE((*first)->RunUntil(half).ok());
  auto state = (*first)->CaptureState();
  ASSERT_TRUE(state.ok()) << state.status().message();
  ASSERT_TRUE((*first)->Shutdown().ok());
  kernel::RunOptions whole;
  whole.keep_spikes = true;
  auto second = kernel::Brain::Restore(spec_, state.value(), whole);
  ASSERT_TRUE(second.ok()) << second.status().message();
  ASSERT_TRUE((*second)->RunUntil(kTicks).ok());
  for (kernel::RegionId r = 0; r < spec_->regions.size(); ++r) {
    std::vector<kernel::Spike> want;
    for (const kernel::Spike& s : seq_->spikes[r])
      if (s.tick >= half) want.push_back(s);
    EXPECT_EQ((*second)->TakeSpikes(r), want) << spec_->regions[r].name;
  }
  auto d = (*second)->RegionDigests();
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d.value(), seq_->digests);
}

TEST(PlaceParts, SplitsTheCostliestRegionsOnePartPerWorker) {
  auto spec = testing::LoadExample("brain.json");
  const std::vector<double> costs = EstimateCosts(*spec);
  auto p = PlaceParts(*spec, costs, 7, {}, {});
  ASSERT_TRUE(p.ok()) << p.status().message();
  std::vector<int> used;
  size_t parts = 0;
  for (kernel::RegionId r = 0; r < spec->regions.size(); ++r) {
    uint32_t next = 0;
    for (const PartPlace& part : p.value()[r]) {
      EXPECT_EQ(part.lo, next);  // parts tile the region in order
      EXPECT_LT(part.lo, part.hi);
      next = part.hi;
      used.push_back(part.worker);
      ++parts;
    }
    EXPECT_EQ(next, spec->regions[r].size);
  }
  EXPECT_EQ(parts, 7u);
  std::sort(used.begin(), used.end());
  EXPECT_EQ(used, std::vector<int>({0, 1, 2, 3, 4, 5, 6}));
}

TEST(PlaceParts, RegionsWithOneTickDelaysOrTooFewNeuronsAreNotSplitAutomatically) {
  // COBA: one region whose internal delay is one tick: splitting it would make every epoch one
  // tick long; the run uses one worker instead (a placement naming parts may still split it).
  auto coba = testing::LoadExample("coba.json");
  auto p = PlaceParts(*coba, EstimateCosts(*coba), 2, {}, {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value()[0].size(), 1u);
  auto forced = PlaceParts(*coba, EstimateCosts(*coba), 2, {}, {{0, 1}});
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced.value()[0].size(), 2u);
  auto tiny = testing::LoadExample("tiny.json");  // 5 regions of 100-600 neurons
  auto t = PlaceParts(*tiny, EstimateCosts(*tiny), 9, {}, {});
  ASSERT_TRUE(t.ok());
  for (const auto& parts : t.value()) EXPECT_EQ(parts.size(), 1u);
}

TEST(PlaceParts, BadPlacementsAreRefusedNamingTheRegion) {
  auto spec = testing::LoadExample("brain.json");
  const std::vector<double> costs = EstimateCosts(*spec);
  auto twice = PlaceParts(*spec, costs, 3, {}, {{0}, {1, 1}, {2}, {0}, {0}});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("two parts on worker 1"), std::string::npos) << twice.status().message();
  auto idle = PlaceParts(*spec, costs, 4, {}, {{0}, {1, 3}, {0}, {0}, {0}});
  ASSERT_FALSE(idle.ok());
  EXPECT_NE(idle.status().message().find("worker 2 hosts no region"), std::string::npos) << idle.status().message();
  auto short_list = PlaceParts(*spec, costs, 2, {}, {{0}, {1}});
  EXPECT_FALSE(short_list.ok());
}

}  // namespace
}  // namespace thalia::transport
