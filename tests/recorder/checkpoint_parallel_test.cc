// Resume across execution modes: a checkpoint written by a run with N worker processes (fork or
// spawn) resumes with any other worker count, or sequentially, and the other way round, giving
// exactly the spikes after the split and the digests of one sequential run never interrupted.
#include <gtest/gtest.h>

#include "tests/recorder/checkpoint_scenario.h"
#include "transport/install.h"

namespace thalia::testing {
namespace {

kernel::RunOptions Mode(int workers, const std::string& launch = "fork") {
  transport::Install();
  kernel::RunOptions o = Options(workers, true, workers > 0 ? launch : "");
  o.worker_binary = ThaliaBinary();
  return o;
}

struct Case {
  const char* name;
  kernel::RunOptions writer, resumer;
};

TEST(ResumeParallel, AnyWorkerCountResumesAnyOtherExactly) {
  const Case cases[] = {
      {"2 fork -> sequential", Mode(2), Mode(0)},
      {"sequential -> 2 fork", Mode(0), Mode(2)},
      {"2 fork -> 3 spawn", Mode(2), Mode(3, "spawn")},
      {"2 spawn -> 1 fork", Mode(2, "spawn"), Mode(1)},
      {"2 spawn -> 2 spawn", Mode(2, "spawn"), Mode(2, "spawn")},
  };
  const Tick until = 20000;  // 2 s
  for (Tick split : {Tick{10000}, Tick{10007}}) {
    const Outcome straight = thalia::testing::Run(until, std::nullopt, "", split, Mode(0));
    for (const Case& c : cases) {
      ScratchDir dir;
      Outcome resumed = thalia::testing::Run(until, split, dir / "c.thck", split, c.writer, c.resumer);
      ASSERT_NO_FATAL_FAILURE(ExpectSameRunAfter(straight, resumed, split, c.name));
    }
  }
}

// The bundled brain with learning on (DopamineStdp and Stdp pathways, dopamine events, rewards
// from the script): 2 s straight against 1 s, a checkpoint, and a resume in another process
// layout, at the epoch grid and off it. Every spike after the split and every digest must match.
TEST(ResumeParallel, BundledBrainGivesTheSameSpikesAfterTheSplitAcrossModes) {
  struct Split {
    Tick at;
    Case modes;
  };
  const Split splits[] = {
      {10000, {"sequential -> 2 spawn", Mode(0), Mode(2, "spawn")}},
      {10007, {"2 fork -> sequential", Mode(2), Mode(0)}},
      {10000, {"2 spawn -> 3 fork", Mode(2, "spawn"), Mode(3)}},
  };
  const Tick until = 20000, first_split = 10000;  // 2 s, split at 1 s and 1000.7 ms
  const Outcome straight =
      thalia::testing::Run(until, std::nullopt, "", first_split, Mode(0), std::nullopt, "brain.json");
  for (const Split& s : splits) {
    ScratchDir dir;
    const Case& c = s.modes;
    Outcome resumed = thalia::testing::Run(until, s.at, dir / "c.thck", s.at, c.writer, c.resumer, "brain.json");
    size_t compared = 0;
    ASSERT_NO_FATAL_FAILURE(ExpectSameRunAfter(straight, resumed, s.at, c.name, &compared));
    EXPECT_GT(compared, 10000u) << "the comparison must cover many spikes after the split";
  }
}

TEST(ResumeParallel, ACheckpointCapturedFromWorkersEqualsTheSequentialOne) {
  auto seq = Brain::Create(LoadExample("tiny.json"), Mode(0));
  auto par = Brain::Create(LoadExample("tiny.json"), Mode(2, "spawn"));
  ASSERT_TRUE(seq.ok() && par.ok());
  for (auto* b : {seq->get(), par->get()}) {
    ASSERT_TRUE(b->RunUntil(4321).ok());
    ASSERT_TRUE(b->InjectSpike(1, 3, 1.0f, 5000).ok());
    ASSERT_TRUE(b->Reward(0.5f).ok());
  }
  auto a = recorder::CaptureCheckpoint(**seq);
  auto b = recorder::CaptureCheckpoint(**par);
  ASSERT_TRUE(a.ok() && b.ok()) << b.status().message();
  EXPECT_EQ(a->state.regions, b->state.regions);
  EXPECT_EQ(a->state.pending_external, b->state.pending_external);
  EXPECT_EQ(a->state.pending_events, b->state.pending_events);
  EXPECT_EQ(a->digests, b->digests);
  EXPECT_EQ(b->workers, 2);
}

}  // namespace
}  // namespace thalia::testing
