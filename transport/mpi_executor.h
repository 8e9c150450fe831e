// The MPI executor (MPI builds only): rank 0 coordinates, ranks 1..N-1 host the regions, each
// rebuilt from the verbatim configuration (BrainSpec::config) like a spawned worker; the messages
// are the socket executor's (transport/codec.h), one frame per MPI message. By default the worker
// ranks exchange spikes with each other directly (MpiOptions::direct): rank 0 then sends each
// epoch's inputs and receives counters and digests, and spikes only to record or keep them. Rank 0 polls with
// MPI_Test/MPI_Iprobe against the hang timeout, never blocking in MPI: a failed or hung rank ends
// the run with a message naming it, and MpiSession::Finish then aborts the job.
#pragma once

#include <memory>
#include <vector>

#include "kernel/executor.h"

namespace thalia::transport {

struct MpiOptions {
  int workers = 0;              // worker ranks to use; 0: every rank but 0 (clamped to the regions)
  std::vector<int> placement;   // region -> worker (worker w is rank w + 1); empty: by cost
  std::vector<std::vector<int>> placement_parts;  // region -> workers of its parts (PlaceParts)
  int hang_timeout_ms = 30000;  // a rank silent this long in one request is declared hung
  uint32_t threads = 1;         // per worker rank
  uint32_t shards = 0;          // see RunOptions::shards
  // Worker ranks send each other their spikes (transport/peer_exchange.h); false: every spike
  // goes through rank 0, which routes it (the star; RunOptions::exchange "star").
  bool direct = true;
};

// Needs MaybeStartMpi to have started MPI in this process, as rank 0 (Start says so otherwise).
// One MPI executor at a time uses the worker ranks; after its Shutdown the next may start.
std::unique_ptr<kernel::Executor> MakeMpiExecutor(MpiOptions options);

// The options a run asks for: RunOptions override the configuration. Only an explicit
// RunOptions::workers limits the ranks used; the configuration's worker count does not.
Result<MpiOptions> MpiOptionsFor(const kernel::BrainSpec& spec, const kernel::RunOptions& run);

}  // namespace thalia::transport
