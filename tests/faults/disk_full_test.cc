// A full disk, simulated with RLIMIT_FSIZE on the `thalia` process (SIGXFSZ ignored, so a write
// past the limit fails with EFBIG as one to a full disk fails with ENOSPC): while recording and
// while checkpointing. The run must fail with an I/O error naming the file (exit 1), leave the
// trace's prefix readable and replayable, and leave the previous checkpoint loading and resuming
// to the uninterrupted run.
#include <gtest/gtest.h>

#include "tests/faults/fault_util.h"

namespace thalia::testing {
namespace {

// A checkpoint of tiny.json is ~360 KB; its trace grows by ~60 KB per simulated second, written
// in chunks every 2 s of wall time. 600 KB lets checkpoints through and stops the trace after
// its first chunks.
constexpr rlim_t kTraceLimit = 600 * 1024;
// Below one checkpoint, above what the trace of the checkpointing run holds.
constexpr rlim_t kCheckpointLimit = 200 * 1024;

TEST(DiskFull, WhileRecordingTheRunFailsAndItsFilesStayUsable) {
  BecomeSubreaper();
  ScratchDir dir;
  auto r = RunThaliaLimited({"run", ExamplePath("tiny.json"), "--until", "60s", "--quiet", "--workers", "2",
                             "--record", dir / "t.trace", "--checkpoint-every", "1s", "--checkpoint-dir", dir / "ck"},
                            dir / "run", {}, kTraceLimit);
  EXPECT_TRUE(StrayChildren().empty());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, dir / "t.trace.incomplete") && Contains(r.err, "File too large")) << r.err;
  EXPECT_EQ(DigestLine(r.out), "");
  // The trace is a prefix cut inside a chunk: readable up to the last whole chunk.
  TraceSummary trace = ReadTrace(dir / "t.trace.incomplete");
  EXPECT_EQ(trace.error, "");
  EXPECT_FALSE(trace.complete);
  EXPECT_GT(trace.epochs, 0u);
  auto list = Checkpoints(dir / "ck");
  ASSERT_GE(list.size(), 2u);
  for (const auto& e : list) ASSERT_TRUE(recorder::ReadCheckpointFile(e.path).ok()) << e.path;
  // Replay from the newest checkpoint the prefix covers reproduces every recorded epoch after it.
  // (The first chunk is written after 2 s of wall time, long after the first checkpoint at 1 s
  // of simulated time.)
  ASSERT_GE(trace.epochs, list[0].epoch);
  auto replay = RunThalia({"replay", dir / "t.trace.incomplete", "--from", std::to_string(trace.epochs - 1)},
                          dir / "replay");
  EXPECT_EQ(replay.status, 0) << replay.out << replay.err;
  EXPECT_TRUE(Contains(replay.out, "identical: ")) << replay.out;
  // The newest checkpoint resumes to the uninterrupted run.
  const kernel::Tick newest = recorder::ReadCheckpointFile(list.back().path)->state.tick;
  const std::string until = std::to_string(newest / 10000 + 1) + "s";  // dt 0.1 ms
  auto resumed = RunThalia({"run", "--resume", list.back().path, "--until", until, "--quiet"}, dir / "resumed");
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(DigestLine(resumed.out), StraightDigest(until));
}

TEST(DiskFull, WhileCheckpointingThePreviousCheckpointSurvivesAndResumes) {
  BecomeSubreaper();
  ScratchDir dir;
  const std::string ck = dir / "ck";
  auto first = RunThalia({"run", ExamplePath("tiny.json"), "--until", "300ms", "--quiet", "--checkpoint-every",
                          "300ms", "--checkpoint-dir", ck},
                         dir / "first");
  ASSERT_EQ(first.status, 0) << first.err;
  const auto before = Checkpoints(ck);
  ASSERT_EQ(before.size(), 1u);
  for (const char* workers : {"0", "2"}) {
    SCOPED_TRACE(std::string("workers ") + workers);
    // One trace per run: the first run's unfinished trace is never overwritten by the second.
    const std::string trace_name = std::string("t") + workers + ".trace";
    // --keep 1: the failed write must not have rotated the good checkpoint away.
    auto r = RunThaliaLimited({"run", "--resume", before[0].path, "--until", "1s", "--quiet", "--workers", workers,
                               "--checkpoint-every", "100ms", "--checkpoint-dir", ck, "--keep", "1", "--record",
                               dir / trace_name},
                              dir / "run", {}, kCheckpointLimit);
    EXPECT_TRUE(StrayChildren().empty());
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_TRUE(Contains(r.err, ".thck") && Contains(r.err, "File too large")) << r.err;
    EXPECT_TRUE(Contains(r.err, "continue from its newest checkpoint: thalia run --resume " + before[0].path +
                         " --until 1s"))
        << r.err;
    auto after = Checkpoints(ck);
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].path, before[0].path);
    for (const auto& e : std::filesystem::directory_iterator(ck))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "left behind: " << e.path();
    // The segment recorded before the failure replays from that checkpoint.
    TraceSummary trace = ReadTrace(dir / (trace_name + ".incomplete"));
    EXPECT_EQ(trace.error, "");
    auto replay = RunThalia({"replay", dir / (trace_name + ".incomplete")}, dir / "replay");
    EXPECT_EQ(replay.status, 0) << replay.out << replay.err;
    auto resumed = RunThalia({"run", "--resume", before[0].path, "--until", "1s", "--quiet"}, dir / "resumed");
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    EXPECT_EQ(DigestLine(resumed.out), StraightDigest("1s"));
  }
}

}  // namespace
}  // namespace thalia::testing
