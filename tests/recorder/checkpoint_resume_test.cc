// Resume equivalence through the API: a run checkpointed at tick S and resumed in a fresh brain
// gives exactly the spikes after S and the final digests of the run never interrupted.
#include <gtest/gtest.h>

#include "kernel/brain.h"
#include "recorder/checkpoint.h"
#include "tests/recorder/checkpoint_scenario.h"
#include "tests/recorder/checkpoint_test_util.h"

namespace thalia::recorder {
namespace {

using kernel::Brain;
using kernel::Tick;
using testing::Outcome;
using testing::Run;

void ExpectSameRunAfter(Tick until, Tick split) {
  testing::ScratchDir dir;
  Outcome straight = Run(until, std::nullopt, "", split);
  Outcome resumed = Run(until, split, dir / "c.thck", split);
  size_t total = 0;
  ASSERT_NO_FATAL_FAILURE(testing::ExpectSameRunAfter(straight, resumed, split, "resumed in process", &total));
  // A split a few ticks before the end may see no spike; any longer tail must compare some.
  if (until - split >= 100) {
    EXPECT_GT(total, 0u) << "the comparison must cover spikes, split " << split;
  }
}

TEST(Resume, GivesTheUninterruptedRunAtEpochAndOffEpochSplits) {
  // The tiny brain's epoch is 30 ticks; pending API input and modulator events straddle these.
  for (Tick split : {1u, 30u, 31u, 1234u, 1500u, 1777u, 2000u, 3001u, 3999u})
    ExpectSameRunAfter(4000, split);
}

TEST(Resume, TwoSecondsSplitAtOneSecondAndOffEpoch) {
  ExpectSameRunAfter(20000, 10000);
  ExpectSameRunAfter(20000, 10007);
}

TEST(Resume, CheckpointOfAResumedBrainEqualsTheOriginal) {
  testing::ScratchDir dir;
  auto brain = Brain::Create(testing::LoadExample("tiny.json"), testing::Options());
  ASSERT_TRUE(brain.ok());
  ASSERT_TRUE((*brain)->RunUntil(1111).ok());
  ASSERT_TRUE((*brain)->InjectSpike(2, 9, 1.0f, 1200).ok());
  ASSERT_TRUE((*brain)->Reward(0.5f).ok());
  auto a = CaptureCheckpoint(**brain);
  ASSERT_TRUE(a.ok());
  auto resumed = ResumeBrain(a.value(), testing::Options());
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  auto b = CaptureCheckpoint(**resumed);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->state.regions, b->state.regions);
  EXPECT_EQ(a->state.pending_events, b->state.pending_events);
  EXPECT_EQ(a->state.pending_external, b->state.pending_external);
  EXPECT_EQ(a->state.modulators, b->state.modulators);
  EXPECT_EQ(a->digests, b->digests);
  EXPECT_EQ(a->state.epoch, b->state.epoch);
}

TEST(Resume, RefusesAStateThatDoesNotReproduceItsDigest) {
  auto brain = Brain::Create(testing::LoadExample("tiny.json"), testing::Options());
  ASSERT_TRUE(brain.ok());
  ASSERT_TRUE((*brain)->RunUntil(300).ok());
  auto c = CaptureCheckpoint(**brain);
  ASSERT_TRUE(c.ok());
  c->digests[3] ^= 1;
  auto r = ResumeBrain(c.value(), testing::Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("striatum"), std::string::npos) << r.status().message();
}

TEST(Resume, RefusesInputForNeuronsThatDoNotExist) {
  auto brain = Brain::Create(testing::LoadExample("tiny.json"), testing::Options());
  ASSERT_TRUE(brain.ok());
  ASSERT_TRUE((*brain)->RunUntil(300).ok());
  auto c = CaptureCheckpoint(**brain);
  ASSERT_TRUE(c.ok());
  c->state.pending_external[0].push_back({400, 1000000, 1.0f, kernel::ExternalInput::kSpike});
  auto r = ResumeBrain(c.value(), testing::Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().ExitCode(), 2);
}

}  // namespace
}  // namespace thalia::recorder
