// What the MPI executor and the MPI session share (MPI builds only): the job's communicator, rank
// 0's view of the worker ranks, frames as MPI messages, and polling that leaves the CPU to the
// regions. One frame (length prefix included) is one MPI message of MPI_BYTEs with tag kFrameTag.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "kernel/status.h"
#include "transport/channel.h"
#include "transport/peer_exchange.h"

namespace thalia::transport::mpi {

inline constexpr int kFrameTag = 7;
inline constexpr int kPeerTag = 8;  // the direct exchange between worker ranks (PeerSpikes frames)

struct World {
  MPI_Comm comm = MPI_COMM_NULL;  // a duplicate of MPI_COMM_WORLD, so no other traffic mixes in
  int rank = 0;
  int size = 1;
};

// Set by MaybeStartMpi; null if MPI was not started in this process.
const World* GetWorld();
void SetWorld(const World& world);

// Rank 0's view of the worker ranks. kIdle: each waits for a Setup (or a Shutdown that ends it);
// kBusy: an MPI executor is serving with them; kFailed: one failed and the job must be aborted.
enum class Workers { kIdle, kBusy, kFailed };
Workers WorkersState();
void SetWorkersState(Workers state);

// Waiting for MPI without spinning a core: polls freely for a few tens of microseconds (an
// answer is often that close), then sleeps between polls, each pause longer up to a cap.
class Backoff {
 public:
  void Reset() { polls_ = 0, pause_us_ = 0; }
  void Pause();

 private:
  int polls_ = 0;
  int pause_us_ = 0;
};

// If a frame from `source` is waiting, receives it into `buffer` (resized; its storage is
// 8-aligned as DecodeFrame needs) and returns true. A message larger than kMaxFrameBytes or
// shorter than a frame header is an error (and is not received).
Result<bool> TryReceiveFrame(MPI_Comm comm, int source, std::vector<uint8_t>* buffer, int tag = kFrameTag);

// A worker rank's channel to rank 0: a send returns at once (MPI_Isend from a copy, completed
// before the next send), so a worker goes on to its peers while rank 0 takes the reply when it
// comes to it; receives poll with a Backoff.
class MpiChannel final : public Channel {
 public:
  explicit MpiChannel(MPI_Comm comm) : comm_(comm) {}
  ~MpiChannel() override { Complete(); }
  Result<std::span<const uint8_t>> Receive() override;
  Status Send(std::span<const uint8_t> frame) override;
  // After a failure: waits (up to `limit`) for rank 0 to abort the job, so the Error just sent
  // is read and reported before mpirun ends the ranks. Returns early if rank 0 sends anything.
  void AwaitAbort(std::chrono::seconds limit);

  void Complete();  // waits for the last send to complete

 private:
  MPI_Comm comm_;
  std::vector<uint8_t> buffer_;
  std::vector<uint8_t> out_;
  MPI_Request send_ = MPI_REQUEST_NULL;
};

// A worker rank's link to the other worker ranks (worker w is rank w + 1), tag kPeerTag: sends
// are MPI_Isend from a copy kept per peer until the next send to it; receives poll with a Backoff.
class MpiPeerLink final : public PeerLink {
 public:
  explicit MpiPeerLink(MPI_Comm comm) : comm_(comm) {}
  ~MpiPeerLink() override;
  Status Send(int peer, std::span<const uint8_t> frame) override;
  Result<std::span<const uint8_t>> Receive(int peer) override;

 private:
  struct Out {
    std::vector<uint8_t> bytes;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  MPI_Comm comm_;
  std::vector<Out> out_;  // by peer worker
  std::vector<uint8_t> in_;
};

}  // namespace thalia::transport::mpi
