// Helpers of the transport tests: run options for a parallel run, whole-run results to compare
// exactly, and a check that no child process is left.
#pragma once

#include <sys/wait.h>

#include <cerrno>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "tests/test_util.h"
#include "transport/install.h"

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

// True if this process has no child, running or zombie.
inline bool NoChildLeft() {
  int status;
  return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

}  // namespace thalia::testing
