// The product's main job end to end on the bundled brain: a parallel run recorded with forked or
// spawned workers replays as identical in one process, whole and region by region, and a recorded
// run prints the same digest as the unrecorded sequential one.
#include <gtest/gtest.h>

#include "tests/recorder/trace_test_util.h"

namespace thalia::testing {
namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }
std::string DigestLine(const std::string& out) {
  size_t p = out.rfind("digest ");
  return p == std::string::npos ? "" : out.substr(p, 23);
}

class ParallelReplay : public ::testing::TestWithParam<const char*> {};

TEST_P(ParallelReplay, RecordedRunOfTheBundledBrainReplaysIdentically) {
  TempDir dir;
  const std::string brain = Quote(ExamplePath("brain.json"));
  const std::string trace = dir.File("brain.trace");
  auto sequential = RunThalia("run " + brain + " --until 300ms --quiet", dir);
  ASSERT_EQ(sequential.exit_code, 0) << sequential.out;
  auto recorded = RunThalia("run " + brain + " --until 300ms --quiet --workers 2 --launch " +
                                std::string(GetParam()) + " --record " + Quote(trace), dir);
  ASSERT_EQ(recorded.exit_code, 0) << recorded.out;
  ASSERT_FALSE(DigestLine(sequential.out).empty());
  EXPECT_EQ(DigestLine(recorded.out), DigestLine(sequential.out));
  auto replay = RunThalia("replay " + Quote(trace), dir);
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  EXPECT_NE(replay.out.find("identical: 100 epochs"), std::string::npos) << replay.out;
  for (const char* region : {"cortex", "striatum"}) {
    auto one = RunThalia("replay " + Quote(trace) + " --region " + region, dir);
    EXPECT_EQ(one.exit_code, 0) << region << ": " << one.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Launch, ParallelReplay, ::testing::Values("fork", "spawn"));

}  // namespace
}  // namespace thalia::testing
