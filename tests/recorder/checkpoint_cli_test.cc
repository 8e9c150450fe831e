// Checkpoint and resume through the `thalia` binary, each part in its own process: resumed runs
// print the uninterrupted digest, a signal writes a final checkpoint, a SIGKILL while a checkpoint
// is being written never damages the previous one, and bad checkpoints exit 2 with a reason.
#include <gtest/gtest.h>

#include <cinttypes>
#include <random>

#include "kernel/digest.h"
#include "recorder/checkpoint.h"
#include "recorder/checkpoint_format.h"
#include "recorder/checkpoint_series.h"
#include "tests/recorder/checkpoint_test_util.h"

namespace thalia::testing {
namespace {

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

// The digest `thalia run` prints for the tiny brain run straight to `until`.
std::string StraightDigest(const ScratchDir& dir, const std::string& until) {
  auto r = RunThalia({"run", ExamplePath("tiny.json"), "--until", until, "--quiet"}, dir / ("straight" + until));
  EXPECT_EQ(r.status, 0) << r.err;
  std::string d = DigestLine(r.out);
  EXPECT_EQ(d.size(), 16u) << r.out;
  return d;
}

std::vector<recorder::CheckpointEntry> List(const std::string& dir) {
  if (!std::filesystem::exists(dir)) return {};
  auto l = recorder::ListCheckpoints(dir);
  EXPECT_TRUE(l.ok()) << l.status().message();
  return l.ok() ? l.value() : std::vector<recorder::CheckpointEntry>{};
}

TEST(CheckpointCli, ResumeInANewProcessPrintsTheUninterruptedDigest) {
  ScratchDir dir;
  const std::string straight = StraightDigest(dir, "2s");
  // 1 s is a multiple of the 3 ms epoch; 333.3 ms and 1000.7 ms are not.
  for (std::string split : {"1s", "333.3ms", "1000.7ms"}) {
    const std::string ck = dir / ("ck" + split);
    auto first = RunThalia({"run", ExamplePath("tiny.json"), "--until", split, "--quiet", "--checkpoint-every",
                            split, "--checkpoint-dir", ck},
                           dir / "first");
    ASSERT_EQ(first.status, 0) << first.err;
    auto list = List(ck);
    ASSERT_EQ(list.size(), 1u) << split;
    auto second = RunThalia({"run", "--resume", list[0].path, "--until", "2s", "--quiet"}, dir / "second");
    ASSERT_EQ(second.status, 0) << second.err;
    EXPECT_EQ(DigestLine(second.out), straight) << "split at " << split;
    EXPECT_NE(DigestLine(first.out), straight);
  }
}

TEST(CheckpointCli, ParallelCheckpointsResumeWithAnyWorkerCountOrSequentially) {
  ScratchDir dir;
  const std::string straight = StraightDigest(dir, "2s");
  const std::vector<std::vector<std::string>> writers = {{"--workers", "2"},
                                                         {"--workers", "2", "--launch", "spawn"}};
  const std::vector<std::vector<std::string>> resumers = {
      {"--workers", "0"}, {"--workers", "1"}, {"--workers", "3", "--launch", "spawn"}, {"--workers", "2"}};
  int w = 0;
  for (const auto& writer : writers) {
    const std::string split = w == 0 ? "1s" : "1000.7ms", ck = dir / ("ck" + std::to_string(w++));
    std::vector<std::string> args = {"run", ExamplePath("tiny.json"), "--until", split, "--quiet",
                                     "--checkpoint-every", split, "--checkpoint-dir", ck};
    args.insert(args.end(), writer.begin(), writer.end());
    auto first = RunThalia(args, dir / "first");
    ASSERT_EQ(first.status, 0) << first.err;
    auto list = List(ck);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(recorder::ReadCheckpointFile(list[0].path)->workers, 2);
    for (const auto& resumer : resumers) {
      std::vector<std::string> r = {"run", "--resume", list[0].path, "--until", "2s", "--quiet"};
      r.insert(r.end(), resumer.begin(), resumer.end());
      auto second = RunThalia(r, dir / "second");
      ASSERT_EQ(second.status, 0) << second.err;
      EXPECT_EQ(DigestLine(second.out), straight) << writer.back() << " -> " << resumer[1] << " " << resumer.back();
    }
  }
}

// The bundled brain with learning on (plastic pathways, dopamine events), 2 s: split at 1 s and
// off the epoch grid, written and resumed in different modes.
TEST(CheckpointCli, BundledBrainResumesExactlyAcrossModes) {
  ScratchDir dir;
  auto straight = RunThalia({"run", ExamplePath("brain.json"), "--until", "2s", "--quiet"}, dir / "straight");
  ASSERT_EQ(straight.status, 0) << straight.err;
  struct Split {
    std::string at;
    std::vector<std::string> writer, resumer;
  };
  const Split splits[] = {{"1s", {"--workers", "0"}, {"--workers", "2", "--launch", "spawn"}},
                          {"1000.7ms", {"--workers", "2"}, {"--workers", "0"}}};
  int i = 0;
  for (const Split& s : splits) {
    const std::string ck = dir / ("ck" + std::to_string(i++));
    std::vector<std::string> first = {"run", ExamplePath("brain.json"), "--until", s.at, "--quiet",
                                      "--checkpoint-every", s.at, "--checkpoint-dir", ck};
    first.insert(first.end(), s.writer.begin(), s.writer.end());
    auto a = RunThalia(first, dir / "first");
    ASSERT_EQ(a.status, 0) << a.err;
    auto list = List(ck);
    ASSERT_EQ(list.size(), 1u);
    std::vector<std::string> second = {"run", "--resume", list[0].path, "--until", "2s", "--quiet"};
    second.insert(second.end(), s.resumer.begin(), s.resumer.end());
    auto b = RunThalia(second, dir / "second");
    ASSERT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(DigestLine(b.out), DigestLine(straight.out)) << "split at " << s.at;
  }
}

TEST(CheckpointCli, EveryAndKeepLeaveTheNewestKAndEachResumes) {
  ScratchDir dir;
  const std::string straight = StraightDigest(dir, "1500ms");
  auto r = RunThalia({"run", ExamplePath("tiny.json"), "--until", "1s", "--quiet", "--checkpoint-every", "130ms",
                      "--checkpoint-dir", dir / "ck", "--keep", "3"},
                     dir / "run");
  ASSERT_EQ(r.status, 0) << r.err;
  auto list = List(dir / "ck");
  ASSERT_EQ(list.size(), 3u);
  // Due at 780 ms and 910 ms, and a final one at the end (1 s).
  std::vector<kernel::Tick> ticks;
  for (const auto& e : list) {
    auto c = recorder::ReadCheckpointFile(e.path);
    ASSERT_TRUE(c.ok()) << c.status().message();
    ticks.push_back(c->state.tick);
    EXPECT_EQ(e.epoch, c->state.epoch);
    auto resumed = RunThalia({"run", "--resume", e.path, "--until", "1500ms", "--quiet"}, dir / "resumed");
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    EXPECT_EQ(DigestLine(resumed.out), straight) << e.path;
  }
  EXPECT_EQ(ticks, (std::vector<kernel::Tick>{7800, 9100, 10000}));
  // The final checkpoint is the state the run printed.
  EXPECT_EQ(DigestLine(r.out), Hex(kernel::CombineDigests(recorder::ReadCheckpointFile(list[2].path)->digests)));
}

// A folder holding another run's checkpoints (another configuration, or the same with another
// seed) is refused before the run starts, and every file in it is left as it was; the same run,
// resumed from one of them, writes into it as before.
TEST(CheckpointCli, AnotherRunsFolderIsRefusedAndLeftAsItWas) {
  ScratchDir dir;
  const std::string ck = dir / "ck";
  auto first = RunThalia({"run", ExamplePath("tiny.json"), "--until", "300ms", "--quiet", "--checkpoint-every",
                          "100ms", "--checkpoint-dir", ck, "--keep", "2"},
                         dir / "first");
  ASSERT_EQ(first.status, 0) << first.err;
  auto before = List(ck);
  ASSERT_EQ(before.size(), 2u);
  std::vector<std::vector<uint8_t>> bytes;
  for (const auto& e : before) bytes.push_back(ReadBytes(e.path));
  const std::vector<std::vector<std::string>> others = {
      {"run", ExamplePath("coba.json"), "--until", "300ms", "--quiet", "--checkpoint-every", "100ms",
       "--checkpoint-dir", ck, "--keep", "1"},
      {"run", ExamplePath("tiny.json"), "--seed", "7", "--until", "300ms", "--quiet", "--checkpoint-every", "100ms",
       "--checkpoint-dir", ck, "--keep", "1"},
  };
  for (const auto& args : others) {
    auto r = RunThalia(args, dir / "other");
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("holds checkpoints of another run"), std::string::npos) << r.err;
    EXPECT_EQ(DigestLine(r.out), "");
  }
  auto after = List(ck);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].path, before[i].path);
    EXPECT_EQ(ReadBytes(after[i].path), bytes[i]) << after[i].path;
  }
  auto resumed = RunThalia({"run", "--resume", before[0].path, "--until", "500ms", "--quiet", "--checkpoint-every",
                            "100ms", "--checkpoint-dir", ck, "--keep", "2"},
                           dir / "resumed");
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(DigestLine(resumed.out), StraightDigest(dir, "500ms"));
}

TEST(CheckpointCli, StopSignalWritesAFinalCheckpointThatResumes) {
  ScratchDir dir;
  const std::string straight = StraightDigest(dir, "4s");
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string ck = dir / ("ck" + std::to_string(sig));
    ThaliaProcess p({"run", ExamplePath("tiny.json"), "--until", "4s", "--quiet", "--checkpoint-every", "200ms",
                     "--checkpoint-dir", ck},
                    dir / "sig");
    // Wait for the first periodic checkpoint, so the run is well under way, then stop it.
    for (int i = 0; i < 2000 && List(ck).empty() && !p.Exited(); ++i) usleep(2000);
    ASSERT_FALSE(List(ck).empty());
    usleep(30000);
    p.Signal(sig);
    EXPECT_EQ(p.Wait(), 1) << p.err();
    const std::string err = p.err();
    const std::string key = "continue with: thalia run --resume ";
    size_t at = err.find(key);
    ASSERT_NE(at, std::string::npos) << err;
    std::string path = err.substr(at + key.size());
    path = path.substr(0, path.find('\n'));
    // The command continues to the run's own end.
    ASSERT_GT(path.size(), 11u);
    EXPECT_EQ(path.substr(path.size() - 11), " --until 4s") << err;
    path = path.substr(0, path.size() - 11);
    EXPECT_EQ(path, List(ck).back().path);
    auto c = recorder::ReadCheckpointFile(path);
    ASSERT_TRUE(c.ok());
    EXPECT_LT(c->state.tick, 40000u) << "the signal came too late to test anything";
    auto resumed = RunThalia({"run", "--resume", path, "--until", "4s", "--quiet"}, dir / "resumed");
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    EXPECT_EQ(DigestLine(resumed.out), straight);
  }
}

class CheckpointKill : public ::testing::TestWithParam<const char*> {};

TEST_P(CheckpointKill, KillWhileWritingLeavesThePreviousCheckpointIntact) {
  ScratchDir dir;
  const std::string straight = StraightDigest(dir, "2s");
  const std::string ck = dir / "ck";
  ThaliaProcess p({"run", ExamplePath("tiny.json"), "--until", "2s", "--quiet", "--checkpoint-every", "100ms",
                   "--checkpoint-dir", ck, "--keep", "1", "--workers", GetParam()},
                  dir / "killed", {"THALIA_TEST_PAUSE_BEFORE_RENAME=3"});
  ASSERT_TRUE(p.WaitForStderr("paused before rename", 60)) << p.err();
  p.Signal(SIGKILL);
  EXPECT_EQ(p.Wait(), 128 + SIGKILL);
  // The third file was complete on disk but never renamed: the second is still the checkpoint.
  auto list = List(ck);
  ASSERT_EQ(list.size(), 1u);
  auto c = recorder::ReadCheckpointFile(list[0].path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->state.tick, 2000u);
  auto temporaries = [&] {
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator(ck)) n += e.path().filename().string().find(".tmp-") != std::string::npos;
    return n;
  };
  EXPECT_EQ(temporaries(), 1) << "the interrupted write's file";
  auto resumed = RunThalia({"run", "--resume", list[0].path, "--until", "2s", "--quiet", "--checkpoint-every",
                            "100ms", "--checkpoint-dir", ck, "--keep", "2"},
                           dir / "resumed");
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(DigestLine(resumed.out), straight);
  EXPECT_EQ(List(ck).size(), 2u);
  EXPECT_EQ(temporaries(), 0) << "the next run into the folder removes the crashed write's file";
}

INSTANTIATE_TEST_SUITE_P(SequentialAndTwoWorkers, CheckpointKill, ::testing::Values("0", "2"));

TEST(CheckpointCli, KillsAtRandomMomentsNeverLeaveAnUnloadableCheckpoint) {
  ScratchDir dir;
  const std::string straight = StraightDigest(dir, "1s");
  std::mt19937 rng(1234);
  int resumed_from = 0;
  for (int round = 0; round < 6; ++round) {
    const std::string ck = dir / ("ck" + std::to_string(round));
    ThaliaProcess p({"run", ExamplePath("tiny.json"), "--until", "1s", "--quiet", "--checkpoint-every", "10ms",
                     "--checkpoint-dir", ck, "--keep", "2"},
                    dir / "random");
    usleep(20000 + rng() % 150000);
    p.Signal(SIGKILL);
    p.Wait();
    auto list = List(ck);
    for (const auto& e : list) {
      auto c = recorder::ReadCheckpointFile(e.path);
      ASSERT_TRUE(c.ok()) << "round " << round << ": " << c.status().message();
    }
    if (list.empty()) continue;
    auto brain = recorder::ResumeBrain(list.back().path, Options());
    ASSERT_TRUE(brain.ok()) << brain.status().message();
    ASSERT_TRUE((*brain)->RunUntil(10000).ok());
    EXPECT_EQ(Hex((*brain)->Digest().value()), straight) << "round " << round;
    ++resumed_from;
  }
  EXPECT_GT(resumed_from, 0);
}

// The number N in "identical: N epochs" of `thalia replay` (-1 if absent).
long ReplayedEpochs(const std::string& out) {
  const std::string key = "identical: ";
  size_t at = out.find(key);
  return at == std::string::npos ? -1 : std::stol(out.substr(at + key.size()));
}

TEST(CheckpointCli, ReplayFromStartsAtTheNewestUsableCheckpointAtOrBeforeTheEpoch) {
  ScratchDir dir;
  const std::string ck = dir / "ck", trace = dir / "a.trace";
  auto r = RunThalia({"run", ExamplePath("tiny.json"), "--until", "1s", "--quiet", "--checkpoint-every", "300ms",
                      "--checkpoint-dir", ck, "--record", trace},
                     dir / "run");
  ASSERT_EQ(r.status, 0) << r.err;
  auto list = List(ck);
  ASSERT_EQ(list.size(), 4u);  // 300, 600, 900 ms and the end
  const uint64_t total = list[3].epoch;
  auto second = recorder::ReadCheckpointFile(list[1].path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->trace.path, trace);
  EXPECT_EQ(second->trace.epochs_recorded, list[1].epoch);

  const std::string from = std::to_string(list[1].epoch + 5);
  for (bool region : {false, true}) {
    std::vector<std::string> args = {"replay", trace, "--from", from};
    if (region) args.insert(args.end(), {"--region", "pfc"});
    auto rp = RunThalia(args, dir / "replay");
    EXPECT_EQ(rp.status, 0) << rp.out << rp.err;
    EXPECT_NE(rp.err.find("starting from checkpoint " + list[1].path), std::string::npos) << rp.err;
    EXPECT_EQ(ReplayedEpochs(rp.out), static_cast<long>(total - list[1].epoch)) << rp.out;
  }
  // A damaged nearest checkpoint is passed over for the one before.
  std::vector<uint8_t> bytes = ReadBytes(list[1].path);
  bytes[bytes.size() / 3] ^= 1;
  WriteBytes(list[1].path, bytes);
  auto rp = RunThalia({"replay", trace, "--from", from}, dir / "replay");
  EXPECT_EQ(rp.status, 0) << rp.err;
  EXPECT_NE(rp.err.find("starting from checkpoint " + list[0].path), std::string::npos) << rp.err;
  EXPECT_EQ(ReplayedEpochs(rp.out), static_cast<long>(total - list[0].epoch)) << rp.out;
  // Before the first checkpoint there is none to start from.
  auto none = RunThalia({"replay", trace, "--from", std::to_string(list[0].epoch - 1)}, dir / "replay");
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("no usable checkpoint at or before epoch"), std::string::npos) << none.err;
  // From the trace's end (the final checkpoint) nothing is left to replay; past it is an error.
  auto at_end = RunThalia({"replay", trace, "--from", std::to_string(total)}, dir / "replay");
  EXPECT_EQ(at_end.status, 0) << at_end.err;
  EXPECT_EQ(ReplayedEpochs(at_end.out), 0) << at_end.out;
  for (uint64_t past : {total + 1, total + 1000}) {
    auto late = RunThalia({"replay", trace, "--from", std::to_string(past)}, dir / "replay");
    EXPECT_EQ(late.status, 2) << late.out;
    EXPECT_NE(late.err.find("past the end of the trace, epoch " + std::to_string(total)), std::string::npos)
        << late.err;
  }
}

TEST(CheckpointCli, AResumedRecordingIsASegmentThatNamesAndReplaysFromItsCheckpoint) {
  ScratchDir dir;
  const std::string straight = StraightDigest(dir, "2s");
  const std::string ck = dir / "ck";
  auto r = RunThalia({"run", ExamplePath("tiny.json"), "--until", "700ms", "--quiet", "--checkpoint-every", "700ms",
                      "--checkpoint-dir", ck, "--record", dir / "a.trace"},
                     dir / "run");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto list = List(ck);
  ASSERT_EQ(list.size(), 1u);
  auto resumed = RunThalia({"run", "--resume", list[0].path, "--until", "2s", "--quiet", "--record", dir / "b.trace"},
                           dir / "resumed");
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(DigestLine(resumed.out), straight);
  auto info = RunThalia({"trace", "info", dir / "b.trace"}, dir / "info");
  EXPECT_NE(info.out.find(list[0].path), std::string::npos) << info.out;
  auto rp = RunThalia({"replay", dir / "b.trace"}, dir / "replay");
  EXPECT_EQ(rp.status, 0) << rp.out << rp.err;
  EXPECT_GT(ReplayedEpochs(rp.out), 0) << rp.out;
  std::filesystem::remove(list[0].path);
  auto gone = RunThalia({"replay", dir / "b.trace"}, dir / "replay");
  EXPECT_EQ(gone.status, 2);
  EXPECT_NE(gone.err.find("which a replay needs"), std::string::npos) << gone.err;
}

TEST(CheckpointCli, DamagedCheckpointsExitTwoWithTheReason) {
  ScratchDir dir;
  auto r = RunThalia({"run", ExamplePath("tiny.json"), "--until", "100ms", "--quiet", "--checkpoint-every", "100ms",
                      "--checkpoint-dir", dir / "ck"},
                     dir / "run");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string good = List(dir / "ck").at(0).path;
  std::vector<uint8_t> bytes = ReadBytes(good);
  std::vector<uint8_t> flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x10;
  WriteBytes(dir / "flipped.thck", flipped);
  WriteBytes(dir / "cut.thck", std::vector<uint8_t>(bytes.begin(), bytes.begin() + 1000));
  std::vector<uint8_t> other = bytes;
  other[8] = 9;  // version 9, with a CRC that matches it
  {
    auto h = recorder::DecodeCheckpointHeader(other, "x").value();
    h.crc = recorder::CheckpointCrc(h, std::span<const uint8_t>(other).subspan(recorder::kCheckpointHeaderSize));
    auto hb = recorder::EncodeCheckpointHeader(h);
    std::copy(hb.begin(), hb.end(), other.begin());
  }
  WriteBytes(dir / "other.thck", other);
  const std::pair<std::string, std::string> cases[] = {
      {"flipped.thck", "checksum mismatch"}, {"cut.thck", "truncated"},
      {"other.thck", "format version 9"}, {"missing.thck", "No such file"}};
  for (const auto& [file, reason] : cases) {
    for (bool info : {false, true}) {
      auto res = info ? RunThalia({"checkpoint", "info", dir / file}, dir / "bad")
                      : RunThalia({"run", "--resume", dir / file, "--quiet"}, dir / "bad");
      EXPECT_EQ(res.status, 2) << file << ": " << res.err;
      EXPECT_NE(res.err.find(reason), std::string::npos) << res.err;
      EXPECT_EQ(res.out.find("digest"), std::string::npos);
    }
  }
  auto ok = RunThalia({"checkpoint", "info", good, "--verify"}, dir / "info");
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find("tick 1000"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("verified"), std::string::npos) << ok.out;
}

TEST(CheckpointCli, BadOptionsExitTwo) {
  ScratchDir dir;
  const std::string cfg = ExamplePath("tiny.json");
  const std::vector<std::vector<std::string>> bad = {
      {"run", cfg, "--checkpoint-every", "100ms"},
      {"run", cfg, "--checkpoint-dir", dir.path()},
      {"run", cfg, "--checkpoint-every", "0ms", "--checkpoint-dir", dir.path()},
      {"run", cfg, "--checkpoint-every", "1s", "--checkpoint-dir", dir.path(), "--keep", "0"},
      {"run", cfg, "--keep", "2"},
      // Durations past the last tick a run can reach (they used to convert to 0 ticks and "run").
      {"run", cfg, "--until", "1e300s"},
      // A summary that could not be written is refused before the run, not after it.
      {"run", cfg, "--summary", dir / "no-such-folder/s.json"},
      {"run", cfg, "--record", dir / "no-such-folder/t.trace"},
      // Contradicting each other: neither silently wins.
      {"run", cfg, "--executor", "inproc", "--workers", "2"},
      {"run", cfg, "--executor", "socket", "--workers", "0"},
      {"run", cfg, "--checkpoint-every", "1e300s", "--checkpoint-dir", dir.path()},
      {"run", cfg, "--resume", cfg},
      {"run", "--resume", cfg, "--seed", "3"},
      {"run"},
      {"checkpoint", "frob", cfg},
      {"checkpoint", "info"},
  };
  for (const auto& args : bad) {
    auto r = RunThalia(args, dir / "bad");
    EXPECT_EQ(r.status, 2) << args.back() << ": " << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  // A checkpoint given as CONFIG is named for what it is, with the command that takes it.
  auto made = RunThalia({"run", cfg, "--until", "10ms", "--quiet", "--checkpoint-every", "10ms", "--checkpoint-dir",
                         dir / "ck"},
                        dir / "made");
  ASSERT_EQ(made.status, 0) << made.err;
  const std::string ckpt = List(dir / "ck").back().path;
  // Resuming "until" a time before the checkpoint's is a mistake, said as such; its own time is a
  // run of nothing that prints the checkpoint's digest.
  auto back = RunThalia({"run", "--resume", ckpt, "--until", "5ms"}, dir / "back");
  EXPECT_EQ(back.status, 2);
  EXPECT_NE(back.err.find("is before the checkpoint's time (10 ms)"), std::string::npos) << back.err;
  EXPECT_EQ(RunThalia({"run", "--resume", ckpt, "--until", "10ms", "--quiet"}, dir / "same").status, 0);
  auto wrong = RunThalia({"run", ckpt}, dir / "wrong");
  EXPECT_EQ(wrong.status, 2);
  EXPECT_NE(wrong.err.find("is a thalia checkpoint, not a configuration: thalia run --resume " + ckpt),
            std::string::npos)
      << wrong.err;
  EXPECT_EQ(RunThalia({"checkpoint", "--help"}, dir / "help").status, 0);
  EXPECT_NE(RunThalia({"run", "--help"}, dir / "help").out.find("--checkpoint-every"), std::string::npos);
}

}  // namespace
}  // namespace thalia::testing
