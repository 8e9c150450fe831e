// The socket executor: regions in worker processes, started by fork (they inherit the built
// regions) or spawn (fresh `thalia` processes that build them from the configuration), one
// socketpair(AF_UNIX) each. All workers run an epoch concurrently; the coordinator waits for
// every reply with poll(), so a dead or hung worker is noticed whichever one it is.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernel/executor.h"

namespace thalia::transport {

struct SocketOptions {
  int workers = 1;              // clamped to the number of regions (see PlaceRegions)
  std::string launch = "fork";  // or "spawn"
  std::vector<int> placement;   // region -> worker; empty: by cost
  std::vector<std::vector<int>> placement_parts;  // region -> workers of its parts (PlaceParts)
  int hang_timeout_ms = 30000;  // a worker silent this long in one request is declared hung
  std::string worker_binary;    // spawn: the thalia binary; empty: see WorkerBinary()
  // Worker 0's share of the regions runs in the coordinator's own process, between sending the
  // other workers their EpochBegin and collecting their replies: one process fewer, so with N
  // workers on N cores no core waits on a coordinator that only waits. Worker 0 then reports
  // the coordinator's pid.
  bool coordinator_share = false;
  uint32_t threads = 1;         // per worker process (and the coordinator's share)
  uint32_t shards = 0;          // see RunOptions::shards
  // Workers send each other their spikes over sockets of their own (transport/peer_exchange.h)
  // and the coordinator pipelines epochs, as the MPI executor does by default (RunOptions::
  // exchange "direct"; forked workers, no coordinator share).
  bool direct = false;
};

// The binary spawned workers execute: `explicit_path` if set; else this program if it is
// `thalia` (it called MaybeRunWorker); else $THALIA_WORKER_BINARY; else, in a program linked
// with an installed libthalia, the `thalia` installed with it (transport/installed_worker.h);
// else empty.
std::string WorkerBinary(const std::string& explicit_path);

std::unique_ptr<kernel::Executor> MakeSocketExecutor(SocketOptions options);

// The options a run asks for: RunOptions override the configuration.
Result<SocketOptions> SocketOptionsFor(const kernel::BrainSpec& spec, const kernel::RunOptions& run);

}  // namespace thalia::transport
