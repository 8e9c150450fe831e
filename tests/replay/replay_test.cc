// Replay against recordings of the tiny brain made through the API: identical when nothing
// changed (whole brain and each region alone, API inputs included); a changed weight is reported
// at the first epoch and region where the run differs.
#include "replay/replayer.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/recorder/trace_test_util.h"

namespace thalia::replay {
namespace {

using testing::TempDir;

constexpr kernel::Tick kTicks = 3000;
constexpr kernel::Tick kSlice = 200;  // not a multiple of the epoch: some recorded epochs are short

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override { spec_ = testing::LoadExample("tiny.json"); }
  std::string Record(const std::string& name, kernel::RunOptions opts = {},
                     const std::function<void(kernel::Brain&)>& drive = {}) {
    const std::string path = dir_.File(name);
    brain_ = testing::RecordRun(spec_, path, kTicks, opts, {}, drive, kSlice);
    return path;
  }
  TempDir dir_;
  std::shared_ptr<const kernel::BrainSpec> spec_;
  std::unique_ptr<kernel::Brain> brain_;
};

TEST_F(ReplayTest, ARecordedRunReplaysIdentically) {
  const std::string path = Record("run.trace");
  auto r = Replay(path, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->divergence) << Describe(r.value());
  EXPECT_EQ(r->epochs, brain_->epoch());
  EXPECT_TRUE(r->trace_complete);
  EXPECT_GT(r->spikes, 1000u);
  EXPECT_TRUE(ToStatus(r.value()).ok());
}

// Input through the API: spikes, currents and dopamine, at various ticks.
void Drive(kernel::Brain& b) {
  const kernel::Tick t = b.tick();
  (void)b.InjectSpike(0, (t / 7) % 400, 2.0f, t + 3);
  (void)b.InjectSpike(3, (t / 3) % 200, -1.0f, t + 150);
  (void)b.SetCurrent(1, (t / 11) % 300, t % 400 == 0 ? 20.0f : 0.0f, t + 10);
  (void)b.AddModulator(0, 0.25f);
}

TEST_F(ReplayTest, ApiInputsAreFedAsRecorded) {
  const std::string plain = Record("plain.trace");
  const uint64_t plain_digest = brain_->Digest().value();
  const std::string driven = Record("driven.trace", {}, Drive);
  ASSERT_NE(brain_->Digest().value(), plain_digest) << "the inputs must change the run for this test to mean anything";
  auto r = Replay(driven, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->divergence) << Describe(r.value());
  EXPECT_EQ(r->epochs, brain_->epoch());
  for (const kernel::RegionSpec& region : spec_->regions) {
    ReplayOptions o;
    o.region = region.name;
    auto rr = Replay(driven, o);
    ASSERT_TRUE(rr.ok());
    EXPECT_FALSE(rr->divergence) << Describe(rr.value());
  }
}

TEST_F(ReplayTest, EveryRegionReplaysAloneIdentically) {
  const std::string path = Record("run.trace");
  for (const kernel::RegionSpec& region : spec_->regions) {
    ReplayOptions o;
    o.region = region.name;
    auto r = Replay(path, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE(r->divergence) << region.name << ": " << Describe(r.value());
    EXPECT_EQ(r->epochs, brain_->epoch());
  }
}

// The epoch (and the regions) where a run with `region`'s weight perturbed first differs from the
// unperturbed run, found by running both through the API, epoch by epoch.
std::pair<uint64_t, std::set<std::string>> FirstDifference(std::shared_ptr<const kernel::BrainSpec> spec,
                                                           kernel::RegionId region) {
  kernel::RunOptions o;
  o.keep_spikes = true;
  auto a = kernel::Brain::Create(spec, o).value();
  auto b = kernel::Brain::Create(spec, o).value();
  EXPECT_TRUE(b->PerturbWeightForTest(region, 0.01f).ok());
  while (a->tick() < kTicks) {
    const kernel::Tick until = std::min(kTicks, (a->tick() / kSlice + 1) * kSlice);
    while (a->tick() < until) {
      const kernel::Tick t1 = std::min(until, a->tick() + spec->epoch_ticks);
      EXPECT_TRUE(a->RunUntil(t1).ok());
      EXPECT_TRUE(b->RunUntil(t1).ok());
      std::set<std::string> differ;
      for (kernel::RegionId r = 0; r < spec->regions.size(); ++r)
        if (a->TakeSpikes(r) != b->TakeSpikes(r) || a->epoch_digests()[r] != b->epoch_digests()[r])
          differ.insert(spec->regions[r].name);
      if (!differ.empty()) return {a->epoch() - 1, differ};
    }
  }
  return {UINT64_MAX, {}};
}

TEST_F(ReplayTest, AChangedWeightIsReportedAtTheFirstDifferingEpochAndRegion) {
  const std::string path = Record("run.trace");
  const kernel::RegionId pfc = static_cast<kernel::RegionId>(spec_->RegionIndex("pfc"));
  auto [epoch, regions] = FirstDifference(spec_, pfc);
  ASSERT_NE(epoch, UINT64_MAX) << "the perturbation never showed";
  ReplayOptions o;
  o.perturb_region = "pfc";
  auto r = Replay(path, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->divergence);
  EXPECT_EQ(r->divergence->epoch, epoch);
  EXPECT_TRUE(regions.count(r->divergence->region)) << r->divergence->region;
  EXPECT_EQ(r->epochs, epoch + 1);
  Status st = ToStatus(r.value());
  EXPECT_EQ(st.kind(), ErrorKind::kDiverged);
  EXPECT_EQ(st.ExitCode(), 3);
  EXPECT_NE(st.message().find("epoch " + std::to_string(epoch)), std::string::npos) << st.message();
}

TEST_F(ReplayTest, WithFullDigestsAChangedWeightShowsInItsEpochAndRegion) {
  kernel::RunOptions full;
  full.full_digest_every = 1;
  const std::string path = Record("full.trace", full);
  for (const std::string& region : {std::string("pfc"), std::string("cortex")}) {
    ReplayOptions o;
    o.perturb_region = region;
    auto r = Replay(path, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_TRUE(r->divergence);
    EXPECT_EQ(r->divergence->epoch, 0u);
    EXPECT_EQ(r->divergence->region, region);
    EXPECT_NE(r->divergence->expected_digest, r->divergence->got_digest);
    o.region = region;  // and the region alone
    auto alone = Replay(path, o);
    ASSERT_TRUE(alone.ok());
    ASSERT_TRUE(alone->divergence);
    EXPECT_EQ(alone->divergence->epoch, 0u);
  }
  auto clean = Replay(path, {});
  ASSERT_TRUE(clean.ok());
  EXPECT_FALSE(clean->divergence) << Describe(clean.value());
}

TEST_F(ReplayTest, UntilStopsAfterThatEpoch) {
  const std::string path = Record("run.trace");
  ReplayOptions o;
  o.until_epoch = 10;
  o.break_at_epoch = 5;
  auto r = Replay(path, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->epochs, 11u);
  EXPECT_TRUE(r->stopped_early);
  EXPECT_NE(Describe(r.value()).find("--until"), std::string::npos);
}

TEST_F(ReplayTest, ACrashCutTraceGivesAVerdictOnItsPrefix) {
  auto brain = kernel::Brain::Create(spec_).value();
  auto w = recorder::TraceWriter::Open(dir_.File("cut.trace"), *brain).value();
  brain->AddObserver(w.get());
  ASSERT_TRUE(brain->StepEpochs(25).ok());
  brain->RemoveObserver(w.get());
  ASSERT_TRUE(w->Abandon().ok());
  auto r = Replay(dir_.File("cut.trace.incomplete"), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->divergence);
  EXPECT_EQ(r->epochs, 25u);
  EXPECT_FALSE(r->trace_complete);
  EXPECT_NE(Describe(r.value()).find("intact prefix"), std::string::npos);
}

TEST_F(ReplayTest, ATraceThatStartsFromACheckpointIsRefusedClearly) {
  auto brain = kernel::Brain::Create(spec_).value();
  recorder::TraceWriterOptions wo;
  wo.from_checkpoint = {"ckpt-000010", 10, 300, 1234};
  auto w = recorder::TraceWriter::Open(dir_.File("resumed.trace"), *brain, wo).value();
  ASSERT_TRUE(w->Close().ok());
  auto r = Replay(dir_.File("resumed.trace"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(r.status().message().find("ckpt-000010"), std::string::npos) << r.status().message();
}

TEST_F(ReplayTest, AnUnknownRegionIsAnInputError) {
  const std::string path = Record("run.trace");
  ReplayOptions o;
  o.region = "amygdala";
  EXPECT_EQ(Replay(path, o).status().kind(), ErrorKind::kInvalidInput);
}

}  // namespace
}  // namespace thalia::replay
