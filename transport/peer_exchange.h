// The direct spike exchange between workers (the MPI executor's default, `--exchange direct`):
// after each epoch every worker sends each peer the spikes that peer has targets for, and routes
// what it receives into its own regions' inbound lists itself, so no spike passes through the
// coordinator (DESIGN.md, "Processes and transport"). The plan of who sends what to whom follows
// from the configuration and the placement of every part alone, so every worker computes the same
// one and each knows exactly which peers it waits for.
//
// Determinism: a region's inbound list is what the coordinator's SpikeRouter would have made
// (its spikes routed in canonical order, then a split region's sibling parts' spikes in part
// order), whoever computes it.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernel/epoch.h"
#include "kernel/region.h"
#include "kernel/routing.h"
#include "kernel/spec.h"
#include "kernel/status.h"
#include "transport/placement.h"

namespace thalia::transport {

using kernel::RegionId;

// What one worker sends one peer every epoch: per region it hosts (a part of, or all), the
// neurons whose spikes the peer needs (`all`: every neuron of the part, e.g. for a sibling part).
struct PeerSend {
  int peer = 0;
  std::vector<RegionId> regions;  // ascending
  std::vector<kernel::SpikeRouter::Ranges> ranges;
  std::vector<bool> all;
};

struct PeerPlan {
  std::vector<PeerSend> sends;  // peers ascending
  std::vector<int> receives;    // peers ascending
};

// Worker `me`'s plan under `parts` (every region's parts, PlaceParts). A peer is sent to only if
// it hosts a target of one of my regions, or another part of one of them.
PeerPlan PlanPeers(const kernel::BrainSpec& spec, const kernel::SpikeRouter& router, const PartPlacement& parts,
                   int me);

// How frames travel between workers (MPI point-to-point between worker ranks).
class PeerLink {
 public:
  virtual ~PeerLink() = default;
  // Starts sending one whole frame to worker `peer` and returns; the link keeps its own copy.
  virtual Status Send(int peer, std::span<const uint8_t> frame) = 0;
  // Waits for the next frame from worker `peer`, valid until the next Receive. No deadline: the
  // coordinator declares a silent worker hung, and ends the job.
  virtual Result<std::span<const uint8_t>> Receive(int peer) = 0;
  // Waits until every frame sent has left (reading what arrives meanwhile, so two links flushing
  // towards each other cannot block each other). Called once a worker has its peers' spikes.
  virtual Status Flush() { return Status::Ok(); }
};

// Worker processes on one host (the socket executor's --exchange direct): one socket per peer.
// A send writes what the socket takes and keeps the rest; every wait (Receive, Flush) polls all
// peers, writing what is pending and reading what arrives, so no two workers can block each
// other however large their frames.
class SocketPeerLink final : public PeerLink {
 public:
  // fds[w]: this worker's socket to worker w (-1 where it has none). Takes ownership.
  explicit SocketPeerLink(std::vector<int> fds);
  ~SocketPeerLink() override;
  SocketPeerLink(const SocketPeerLink&) = delete;
  SocketPeerLink& operator=(const SocketPeerLink&) = delete;
  Status Send(int peer, std::span<const uint8_t> frame) override;
  Result<std::span<const uint8_t>> Receive(int peer) override;
  Status Flush() override;

 private:
  struct Peer;
  // One poll over every peer: writes pending bytes, reads and queues whole frames.
  Status Pump();
  std::vector<std::unique_ptr<Peer>> peers_;  // by worker
  std::vector<uint8_t> in_;
};

// A forked worker serving over socket `fd` that exchanges spikes directly with its peers over
// `link` (transport/worker.cc; the socket executor's --exchange direct).
int ServeWorkerDirect(int fd, int worker, std::vector<std::unique_ptr<kernel::Region>> regions, uint32_t threads,
                      uint32_t shards, std::shared_ptr<const kernel::BrainSpec> spec, const PartPlacement& parts,
                      PeerLink* link);

// One worker's side of the exchange. Not thread-safe: the worker's loop makes every call.
class PeerExchange {
 public:
  PeerExchange(std::shared_ptr<const kernel::BrainSpec> spec, PartPlacement parts, int me, PeerLink* link);
  const PeerPlan& plan() const { return plan_; }

  // After the worker ran its regions through epoch `epoch` [t0, t1): sends every peer its share of
  // `done`'s spikes (of the regions this worker hosts) and keeps this worker's own.
  Status Send(uint64_t epoch, const kernel::EpochDone& done);
  // Receives every peer's spikes of that epoch, checks them (the epoch, the sender, its regions,
  // neurons of its part, ticks in [t0, t1)) and prepares each hosted region's inbound list.
  Status Receive(uint64_t epoch, kernel::Tick t0, kernel::Tick t1);
  // Puts region r's prepared inbound into *inbound, merged with what is there (the coordinator's
  // spikes of a restored state, canonical order); r's prepared list is then empty.
  void TakeInbound(RegionId r, std::vector<kernel::InSpike>* inbound);
  // A state was loaded: no spike is in flight.
  void Clear();

 private:
  size_t PartIndex(RegionId r, int worker) const;

  std::shared_ptr<const kernel::BrainSpec> spec_;
  PartPlacement parts_;
  int me_;
  PeerLink* link_;
  kernel::SpikeRouter router_;
  PeerPlan plan_;
  std::vector<RegionId> hosted_;                           // ascending
  std::vector<std::vector<std::vector<kernel::Spike>>> part_spikes_;  // [region][part] of the epoch
  std::vector<std::vector<kernel::Spike>> whole_;          // [region]: its parts' spikes joined
  std::vector<std::vector<kernel::InSpike>> pending_;      // [hosted region]: for the next epoch
  std::vector<bool> needed_;                               // [region]: some hosted region needs it
  flatbuffers::FlatBufferBuilder out_;
};

}  // namespace thalia::transport
