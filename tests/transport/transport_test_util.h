// Helpers of the transport tests: run options for a parallel run, whole-run results to compare
// exactly, a fixture holding the sequential run of the tiny example to compare against, a check
// that no child process is left, and a connected pair of Unix sockets.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "tests/test_util.h"
#include "transport/install.h"
#include "transport/unique_fd.h"

namespace thalia::testing {

inline kernel::RunOptions Parallel(int workers, const std::string& launch, std::vector<int> placement = {}) {
  transport::Install();
  kernel::RunOptions o;
  o.workers = workers;
  o.launch = launch;
  o.placement = std::move(placement);
  o.keep_spikes = true;
  o.worker_binary = ThaliaBinary();
  return o;
}

// Everything a run produced: every region's spikes, the per-epoch digests of the last epoch and
// the full digests at the end.
struct RunResult {
  std::vector<std::vector<kernel::Spike>> spikes;
  std::vector<uint64_t> last_epoch_digests;
  std::vector<uint64_t> digests;
  std::string error;
};

inline RunResult RunFor(std::shared_ptr<const kernel::BrainSpec> spec, kernel::RunOptions options, kernel::Tick until) {
  options.keep_spikes = true;
  RunResult out;
  auto brain = kernel::Brain::Create(spec, options);
  if (!brain.ok()) {
    out.error = brain.status().message();
    return out;
  }
  Status st = (*brain)->RunUntil(until);
  if (!st.ok()) {
    out.error = st.message();
    return out;
  }
  for (kernel::RegionId r = 0; r < spec->regions.size(); ++r) out.spikes.push_back((*brain)->TakeSpikes(r));
  out.last_epoch_digests = (*brain)->epoch_digests();
  auto d = (*brain)->RegionDigests();
  if (!d.ok()) out.error = d.status().message();
  else out.digests = d.value();
  return out;
}

// Every region's spikes and the full digests of `got` are `want`'s, and the last epoch's digests
// too if `last_epoch` (they see where spikes between regions wait, at the coordinator or in a
// queue, so they compare only where both runs cut epochs alike); `want` has spikes.
inline void ExpectSameRun(const RunResult& got, const RunResult& want, const kernel::BrainSpec& spec,
                          const std::string& what, bool last_epoch = true) {
  ASSERT_EQ(got.error, "") << what;
  ASSERT_EQ(want.error, "") << what;
  uint64_t spikes = 0;
  for (size_t r = 0; r < spec.regions.size(); ++r) {
    spikes += want.spikes[r].size();
    ASSERT_EQ(got.spikes[r], want.spikes[r]) << what << ", region " << spec.regions[r].name;
  }
  ASSERT_GT(spikes, 0u) << what << ": a run without spikes compares nothing";
  if (last_epoch) {
    ASSERT_EQ(got.last_epoch_digests, want.last_epoch_digests) << what;
  }
  ASSERT_EQ(got.digests, want.digests) << what;
}

// True if this process has no child, running or zombie.
inline bool NoChildLeft() {
  int status;
  return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

// A test suite over the tiny example, run once sequentially (in SetUpTestSuite) for
// ExpectSameAsSequential to compare other runs with, exactly.
class TinySequentialReference : public ::testing::Test {
 protected:
  static constexpr kernel::Tick kTicks = 1500;  // 150 ms: many epochs, fast on a shared machine

  static void SetUpTestSuite() {
    spec_ = LoadExample("tiny.json");
    kernel::RunOptions seq;
    seq.keep_spikes = true;
    sequential_ = new RunResult(RunFor(spec_, seq, kTicks));
  }
  static void TearDownTestSuite() {
    delete sequential_;
    sequential_ = nullptr;
  }
  // Runs with `o` until kTicks: every region's spikes, the last epoch's digests and the full
  // digests equal the sequential run's; no child process is left.
  void ExpectSameAsSequential(const kernel::RunOptions& o) {
    RunResult r = RunFor(spec_, o, kTicks);
    ASSERT_EQ(r.error, "");
    ASSERT_EQ(sequential_->error, "");
    for (size_t i = 0; i < spec_->regions.size(); ++i) {
      ASSERT_FALSE(sequential_->spikes[i].empty()) << spec_->regions[i].name;
      ASSERT_EQ(r.spikes[i], sequential_->spikes[i]) << "region " << spec_->regions[i].name;
    }
    ASSERT_EQ(r.last_epoch_digests, sequential_->last_epoch_digests);
    ASSERT_EQ(r.digests, sequential_->digests);
    EXPECT_TRUE(NoChildLeft());
  }
  static inline std::shared_ptr<const kernel::BrainSpec> spec_;
  static inline RunResult* sequential_ = nullptr;
};

// Two connected Unix stream sockets, closed when it goes.
struct SocketPair {
  transport::UniqueFd a, b;
  SocketPair() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    a.reset(sv[0]);
    b.reset(sv[1]);
  }
};

}  // namespace thalia::testing
