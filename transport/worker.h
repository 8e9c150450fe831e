// The worker side: serves the coordinator's messages over one socket for the regions it hosts.
// A forked worker calls ServeWorker with the regions it inherited; a spawned one is a fresh
// `thalia __worker --fd N` process (MaybeRunWorker) that builds its regions from the Setup
// message. Either sends Error{region, message} before it exits on a failure.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernel/region.h"
#include "kernel/spec.h"
#include "kernel/status.h"
#include "transport/channel.h"

namespace thalia::transport {

class PeerLink;

// argv[1] of a spawned worker; not listed in `thalia --help`.
inline constexpr const char* kWorkerCommand = "__worker";

// Sends Ready, then serves requests until Shutdown (returns 0), the coordinator's end closes
// (returns 0) or a failure (Error sent, returns 1). `regions` is indexed by region id; null
// where this worker hosts nothing. Blocks in read() between messages (no CPU used).
//
// Test hook, for the fault tests (tests/faults/) only: THALIA_TEST_WORKER_FAULT=ACTION:W:E in the
// environment makes worker W misbehave when it receives the EpochBegin of epoch E. ACTION is
// `kill` (SIGKILLs itself), `stall` (never answers) or `cut` (sends half a frame, then closes its
// socket and exits 1). Unset, it costs one getenv per worker.
// `threads` > 1: the hosted regions run on a pool of that many threads, split as ShardsFor says.
int ServeWorker(int fd, int worker, std::vector<std::unique_ptr<kernel::Region>> regions,
                uint32_t threads = 1, uint32_t shards = 0);
// The same loop over any channel (ServeWorker is this over a SocketChannel).
int ServeChannel(Channel& channel, int worker, std::vector<std::unique_ptr<kernel::Region>> regions,
                 uint32_t threads = 1, uint32_t shards = 0);

// Restricts each region ids[i] of `regions` to its part [lo[i], hi[i]) (none if both are empty;
// a part that is the whole region is left whole), before the worker serves them.
Status RestrictToParts(std::span<const std::unique_ptr<kernel::Region>> regions, std::span<const kernel::RegionId> ids,
                       std::span<const uint32_t> lo, std::span<const uint32_t> hi);

// Waits for Setup on `channel`, builds the regions it names through the region registry, then
// serves them (ServeChannel). A Shutdown instead of Setup returns 0 and sets *ended (if given):
// the coordinator needs this worker no more. A failure sends Error and returns 1.
// `link`: how this worker reaches the others, for the direct spike exchange (MPI worker ranks);
// null where there is none (a Setup asking for it is then refused).
int ServeFromSetup(Channel& channel, bool* ended, PeerLink* link = nullptr);

// A spawned worker: reads Setup from `fd`, resolves the configuration, builds its regions
// through the region registry, then ServeWorker. Returns the process exit status.
int RunSpawnedWorker(int fd);

// Call first thing in main(): if argv is a worker invocation, runs the worker and exits the
// process; otherwise returns (and notes that this program is the `thalia` binary, so spawn can
// execute /proc/self/exe).
void MaybeRunWorker(int argc, char** argv);
// True once MaybeRunWorker has been called in this process.
bool SelfIsWorkerBinary();

// Sets the signal dispositions, parent-death signal and scheduling policy (SCHED_BATCH: see
// worker.cc) of a freshly forked worker; false if the parent `parent` already died (the child
// must then exit).
bool PrepareWorkerChild(int parent);

}  // namespace thalia::transport
