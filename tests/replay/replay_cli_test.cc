// The commands on real files: thalia run --record, thalia replay (exit 0 / 3 / 2), thalia trace
// info|spikes|raster, --help everywhere; and 20 cuts and 20 flipped bytes (fixed seeds) for which
// `trace info` and `replay` end with a message and exit 0 or 2, never a signal.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "tests/recorder/trace_test_util.h"

namespace thalia::testing {
namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

class ReplayCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    trace_ = dir_->File("tiny.trace");
    auto r = RunThalia("run " + Quote(ExamplePath("tiny.json")) + " --until 400ms --quiet --record " + Quote(trace_), *dir_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    run_output_ = r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static TempDir* dir_;
  static std::string trace_, run_output_;
};
TempDir* ReplayCli::dir_ = nullptr;
std::string ReplayCli::trace_, ReplayCli::run_output_;

std::string DigestLine(const std::string& out) {
  size_t p = out.rfind("digest ");
  return p == std::string::npos ? "" : out.substr(p, 23);
}

TEST_F(ReplayCli, RecordingDoesNotChangeTheRun) {
  auto plain = RunThalia("run " + Quote(ExamplePath("tiny.json")) + " --until 400ms --quiet", *dir_);
  ASSERT_EQ(plain.exit_code, 0);
  EXPECT_FALSE(DigestLine(plain.out).empty());
  EXPECT_EQ(DigestLine(plain.out), DigestLine(run_output_));
}

// 400 ms at 30-tick epochs: 134 epochs (the last one shortened to end at 4000 ticks).
TEST_F(ReplayCli, ReplayOfARecordedRunIsIdenticalAndExitsZero) {
  auto r = RunThalia("replay " + Quote(trace_), *dir_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("identical: 134 epochs"), std::string::npos) << r.out;
  for (const char* region : {"cortex", "hippocampus", "pfc", "striatum", "cerebellum"}) {
    auto a = RunThalia("replay " + Quote(trace_) + " --region " + region, *dir_);
    EXPECT_EQ(a.exit_code, 0) << region << ": " << a.out;
  }
}

TEST_F(ReplayCli, ADivergenceExitsThreeWithEpochRegionTickAndDigests) {
  auto r = RunThalia("replay " + Quote(trace_) + " --perturb-weight-for-test pfc", *dir_);
  EXPECT_EQ(r.exit_code, 3) << r.out;
  for (const char* part : {"diverged at epoch ", "region ", "tick ", "digest expected "})
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " missing in: " << r.out;
}

TEST_F(ReplayCli, UnusableTracesAndOptionsExitTwo) {
  WriteBytes(dir_->File("junk.trace"), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
  auto r = RunThalia("replay " + Quote(dir_->File("junk.trace")), *dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("not a thalia trace"), std::string::npos) << r.out;
  EXPECT_EQ(RunThalia("trace info " + Quote(dir_->File("nothing.trace")), *dir_).exit_code, 2);
  EXPECT_EQ(RunThalia("replay " + Quote(trace_) + " --region amygdala", *dir_).exit_code, 2);
  EXPECT_EQ(RunThalia("replay " + Quote(trace_) + " --until soon", *dir_).exit_code, 2);
  EXPECT_EQ(RunThalia("replay " + Quote(trace_) + " --from 10", *dir_).exit_code, 2);
  EXPECT_EQ(RunThalia("trace frobnicate " + Quote(trace_), *dir_).exit_code, 2);
  auto empty_range = RunThalia("trace spikes " + Quote(trace_) + " --from 100ms --to 50ms", *dir_);
  EXPECT_EQ(empty_range.exit_code, 2);
  EXPECT_NE(empty_range.out.find("--to 50ms is not after --from 100ms"), std::string::npos) << empty_range.out;
  // A trace given to `run` as its configuration is named for what it is.
  auto wrong = RunThalia("run " + Quote(trace_), *dir_);
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.out.find("is a thalia trace, not a configuration: thalia replay"), std::string::npos) << wrong.out;
}

TEST_F(ReplayCli, EverySubcommandHasHelp) {
  for (const char* cmd : {"replay --help", "trace --help", "trace info --help", "trace spikes --help", "trace raster --help"}) {
    auto r = RunThalia(cmd, *dir_);
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("thalia"), std::string::npos) << cmd;
  }
}

TEST_F(ReplayCli, TraceInfoSpikesAndRasterAgree) {
  auto info = RunThalia("trace info " + Quote(trace_), *dir_);
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_NE(info.out.find("complete"), std::string::npos);
  EXPECT_NE(info.out.find("134 intact"), std::string::npos) << info.out;
  size_t p = info.out.find("spikes     ");
  ASSERT_NE(p, std::string::npos);
  const uint64_t total = std::stoull(info.out.substr(p + 11));
  auto csv = RunThalia("trace spikes " + Quote(trace_), *dir_);
  ASSERT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), static_cast<long>(total + 1));
  EXPECT_EQ(csv.out.rfind("tick,time_ms,region,neuron\n", 0), 0u);
  auto some = RunThalia("trace spikes " + Quote(trace_) + " --region pfc --from 100ms --to 200ms", *dir_);
  ASSERT_EQ(some.exit_code, 0);
  std::istringstream lines(some.out);
  std::string line;
  std::getline(lines, line);
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    const uint64_t tick = std::stoull(line);
    EXPECT_GE(tick, 1000u);
    EXPECT_LT(tick, 2000u);
    EXPECT_NE(line.find(",pfc,"), std::string::npos) << line;
  }
  EXPECT_GT(n, 0);
  auto svg = RunThalia("trace raster " + Quote(trace_) + " -o " + Quote(dir_->File("r.svg")), *dir_);
  ASSERT_EQ(svg.exit_code, 0) << svg.out;
  auto bytes = ReadBytes(dir_->File("r.svg"));
  std::string text(bytes.begin(), bytes.end());
  EXPECT_EQ(text.rfind("<svg", 0), 0u);
  EXPECT_NE(text.find(">striatum<"), std::string::npos);
  EXPECT_NE(text.find("<polyline"), std::string::npos);
}

// Either a clear verdict (exit 0) or a clear refusal (exit 2), never a signal or silence.
void ExpectCleanEnd(const CommandResult& r, const std::string& what) {
  EXPECT_FALSE(r.signaled) << what << ": " << r.out;
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 2) << what << " exited " << r.exit_code << ": " << r.out;
  EXPECT_FALSE(r.out.empty()) << what;
}

TEST_F(ReplayCli, TwentyCutsAndTwentyFlipsEndCleanly) {
  const std::vector<uint8_t> bytes = ReadBytes(trace_);
  std::mt19937_64 rng(4242);
  const std::string bad = dir_->File("bad.trace");
  for (int i = 0; i < 40; ++i) {
    std::vector<uint8_t> b = bytes;
    std::string what;
    if (i < 20) {
      const size_t cut = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
      b.resize(cut);
      what = "cut at " + std::to_string(cut);
    } else {
      const size_t at = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
      b[at] ^= static_cast<uint8_t>(std::uniform_int_distribution<int>(1, 255)(rng));
      what = "flip at " + std::to_string(at);
    }
    WriteBytes(bad, b);
    auto info = RunThalia("trace info " + Quote(bad), *dir_);
    ExpectCleanEnd(info, "trace info, " + what);
    auto replay = RunThalia("replay " + Quote(bad), *dir_);
    ExpectCleanEnd(replay, "replay, " + what);
    if (replay.exit_code == 0) {
      EXPECT_NE(replay.out.find("identical"), std::string::npos) << replay.out;
    }
    if (i < 20 && info.exit_code == 0) {
      EXPECT_NE(info.out.find("truncated"), std::string::npos) << info.out;
    }
  }
}

// A one-region network split into shards on three threads (COBA: the shards meet every tick):
// the same digest as one thread, and its trace replays identically in one process, whole and
// with the region alone.
TEST_F(ReplayCli, ARunOnThreadsReplaysInOneThread) {
  const std::string coba = Quote(ExamplePath("coba.json"));
  const std::string trace = dir_->File("coba3.trace");
  auto one = RunThalia("run " + coba + " --until 200ms --quiet --threads 1", *dir_);
  auto three = RunThalia("run " + coba + " --until 200ms --quiet --threads 3 --record " + Quote(trace), *dir_);
  ASSERT_EQ(one.exit_code, 0) << one.out;
  ASSERT_EQ(three.exit_code, 0) << three.out;
  EXPECT_FALSE(DigestLine(one.out).empty());
  EXPECT_EQ(DigestLine(three.out), DigestLine(one.out));
  auto whole = RunThalia("replay " + Quote(trace), *dir_);
  EXPECT_EQ(whole.exit_code, 0) << whole.out;
  EXPECT_NE(whole.out.find("identical"), std::string::npos) << whole.out;
  auto alone = RunThalia("replay " + Quote(trace) + " --region net", *dir_);
  EXPECT_EQ(alone.exit_code, 0) << alone.out;
}

TEST_F(ReplayCli, BadThreadCountsAreRefusedWithExitTwo) {
  for (const char* bad : {"0", "-2", "many", "257"}) {
    auto r = RunThalia("run " + Quote(ExamplePath("tiny.json")) + " --until 10ms --quiet --threads " + bad, *dir_);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("--threads"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace thalia::testing
