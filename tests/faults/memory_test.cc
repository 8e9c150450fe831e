// A brain too large for the memory the process may use (RLIMIT_AS on the `thalia` process): the
// run must end with exit status 1 and a message naming the region it could not build, whether the
// coordinator builds the regions (in process) or spawned workers do; never an abort.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/faults/fault_util.h"

namespace thalia::testing {
namespace {

// 5 * 10^8 neurons: a valid configuration (under 2^30 per region) whose neuron arrays alone
// (~16 GB; the first alone is 2 GB) cannot be had under the limit below, so the build fails at once.
constexpr const char* kTooLarge = R"({"name": "huge", "regions": [{"name": "sheet", "type": "generic",
  "populations": [{"name": "E", "size": 500000000}]}]})";
constexpr rlim_t kAddressSpace = rlim_t{1} << 30;

// Runs thalia with RLIMIT_AS lowered for the child only: the limit is set in this process around
// the fork that ThaliaProcess makes, and restored at once.
ThaliaResult RunWithAddressSpace(const std::vector<std::string>& args, const std::string& out_prefix) {
  rlimit old{};
  EXPECT_EQ(::getrlimit(RLIMIT_AS, &old), 0);
  rlimit low{kAddressSpace, old.rlim_max};
  EXPECT_EQ(::setrlimit(RLIMIT_AS, &low), 0);
  ThaliaProcess p(args, out_prefix, {}, 0);
  EXPECT_EQ(::setrlimit(RLIMIT_AS, &old), 0);
  int st = p.Wait();
  return {st, p.out(), p.err()};
}

TEST(OutOfMemory, InProcessTheRunFailsNamingTheRegion) {
  ScratchDir dir;
  const std::string config = dir / "huge.json";
  std::ofstream(config) << kTooLarge;
  auto r = RunWithAddressSpace({"run", config, "--until", "1ms", "--quiet"}, dir / "run");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "not enough memory to build region 'sheet'")) << r.err;
  EXPECT_EQ(DigestLine(r.out), "");
}

TEST(OutOfMemory, InASpawnedWorkerTheRunFailsNamingTheRegion) {
  BecomeSubreaper();
  ScratchDir dir;
  const std::string config = dir / "huge.json";
  std::ofstream(config) << kTooLarge;
  auto r = RunWithAddressSpace({"run", config, "--until", "1ms", "--quiet", "--workers", "1", "--launch", "spawn"},
                               dir / "run");
  EXPECT_TRUE(ReapStrays(5).empty());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "sheet") && Contains(r.err, "bad_alloc")) << r.err;
  EXPECT_EQ(DigestLine(r.out), "");
}

}  // namespace
}  // namespace thalia::testing
