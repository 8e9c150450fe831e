// What the socket and MPI executors share: the coordinator's requests to its pool of workers.
// Every request (1) encodes and sends one frame to each worker concerned, (2) collects one reply
// per worker, checking each frame and turning an Error frame, a bad frame or a wrong reply into
// one failure, (3) decodes the replies. How frames travel, how workers start and end, and how a
// failure is worded stay with each executor.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernel/executor.h"
#include "kernel/status.h"
#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/placement.h"

namespace thalia::transport {

// One worker as the coordinator sees it; each executor extends it with its link.
struct PoolWorker {
  int index = 0;
  std::vector<RegionId> regions;  // ascending
  // Per hosted region: the neurons [lo, hi) this worker computes (all of them unless the region
  // is split over workers).
  std::vector<uint32_t> part_lo, part_hi;
  kernel::WorkerStats stats;
  bool pending = false;  // a reply is awaited
  bool local = false;    // hosted by the coordinator itself (no process, no link)
};

// An executor whose regions run in a pool of workers. Not thread-safe: the epoch loop's thread
// makes every call.
class WorkerPoolExecutor : public kernel::Executor {
 public:
  Status RunEpoch(const kernel::EpochBegin& begin, kernel::EpochDone* done) override;
  Status SaveStates(std::vector<std::vector<uint8_t>>* states) override;
  Status LoadStates(const std::vector<std::vector<uint8_t>>& states) override;
  Status Digests(bool full, std::vector<uint64_t>* out) override;
  Status PerturbWeightForTest(RegionId region, float delta) override;
  std::vector<kernel::WorkerStats> Stats() const override;
  kernel::Tick EpochLimit() const override { return epoch_limit_; }
  bool RoutesSpikes() const override { return direct_; }
  Status StartEpoch(const kernel::EpochBegin& begin) override;
  Status FinishEpoch(kernel::EpochDone* done) override;
  bool HoldsSpikesInFlight() const override { return direct_ && spikes_in_flight_; }

 protected:
  using OnReply = std::function<Status(PoolWorker&, const wire::Message&)>;
  using Encode = std::function<void(const PoolWorker&, flatbuffers::FlatBufferBuilder*)>;

  // `executor` and `workers` name them in Usable's errors ("the socket executor", "the workers").
  WorkerPoolExecutor(const char* executor, const char* workers) : executor_(executor), workers_(workers) {}

  // The executor's own link to its workers.
  virtual size_t WorkerCount() const = 0;
  virtual PoolWorker& WorkerAt(size_t i) = 0;
  virtual const PoolWorker& WorkerAt(size_t i) const = 0;
  // The builder w's next frame is encoded into; untouched until Send has sent it.
  virtual flatbuffers::FlatBufferBuilder& OutFor(PoolWorker& w) = 0;
  // Sends OutFor(w) and marks w pending; a failure is already reported through WorkerFailed.
  virtual Status Send(PoolWorker& w) = 0;
  // Waits until no worker is pending, handing each reply frame to TakeReply.
  virtual Status CollectReplies(const OnReply& on_reply) = 0;
  // Ends the run: `what` the worker did ("hung: ...", "failed: ..."); `exiting` when it is
  // ending by itself. Returns the error to report.
  virtual Status WorkerFailed(PoolWorker& w, const std::string& what, bool exiting) = 0;

  // The coordinator's own share of the regions (the local worker's); none by default. Each runs
  // between sending the workers their request and collecting the replies, except LoadLocal,
  // which runs before the sending.
  virtual Status RunLocal(const kernel::EpochBegin&, kernel::EpochDone*) { return Status::Ok(); }
  virtual void SaveLocal(std::vector<std::vector<uint8_t>>*) {}
  virtual Status LoadLocal(const std::vector<std::vector<uint8_t>>&) { return Status::Ok(); }
  virtual void DigestLocal(bool, std::vector<uint64_t>*) {}
  virtual Status PerturbLocal(RegionId, float) { return Status::Internal("no region is hosted by the coordinator"); }
  // The coordinator's own copy of region r (its part, if split), or null.
  virtual kernel::Region* LocalRegion(RegionId) { return nullptr; }
  // What the local worker's region r is given this epoch: begin.inbound[r], and for a part of a
  // split region its siblings' spikes of the last epoch too.
  std::span<const kernel::InSpike> LocalInbound(const kernel::EpochBegin& begin, const PoolWorker& w, RegionId r);

  Status Usable() const;
  Status Idle() const;  // Usable, and no epoch started and not finished
  // Places regions and parts of regions on workers (PlaceParts): fills parts_, split_,
  // placement_ (each region's first part) and the epoch limit.
  Status Place(const std::vector<double>& costs, int workers, const std::vector<int>& placement,
               const std::vector<std::vector<int>>& split);
  // Whether some region is split over workers.
  bool AnySplit() const;
  // The Setup message of a spawned or MPI worker: the configuration, its regions and parts.
  void EncodeSetup(const PoolWorker& w, uint32_t threads, uint32_t shards, flatbuffers::FlatBufferBuilder* b) const;
  // The number of workers placement_ uses, and worker `index`'s share of the regions.
  int PlacedWorkers() const;
  void AssignRegions(int index, PoolWorker* w) const;
  // Encodes with `encode` and sends to every worker not local, in worker order.
  Status SendEach(const Encode& encode);
  // Step (2) for one whole reply frame from w: an Error frame (fatal: the run ends; not: the
  // first is kept in `soft`, reported once all have answered), a bad frame and a reply that
  // `on_reply` refuses become WorkerFailed. Clears w.pending once the reply is taken.
  template <typename W, typename F>
  Status TakeReply(W& w, std::span<const uint8_t> frame, F& on_reply, Status* soft);
  // --profile: names each worker's process in the timeline (threads: each one's pool size).
  void DescribeWorkers(uint32_t threads);
  // The timeline's process of w: 0 (the coordinator) if local, else its index + 1.
  static uint16_t ProcessOf(const PoolWorker& w);
  // w's per-thread times from the totals its pool reported.
  static void SetThreadTimes(PoolWorker& w, const std::vector<uint64_t>& busy_ns, const std::vector<uint64_t>& wait_ns);
  // "epoch N" or the phase_.
  std::string PhaseText() const;
  // ", region a" or ", regions a, b": w's regions by name.
  std::string RegionList(const PoolWorker& w) const;
  static std::string NoReplyWithin(int timeout_ms);

  std::shared_ptr<const kernel::BrainSpec> spec_;
  std::vector<int> placement_;      // region -> worker (of its first part)
  PartPlacement parts_;             // region -> its parts
  std::vector<bool> split_;         // region -> in more than one part
  kernel::Tick epoch_limit_ = 0;
  // The workers exchange spikes directly (transport/peer_exchange.h; MPI only): EncodeSetup
  // sends them the whole placement, the coordinator routes nothing and asks for spikes only when
  // the Brain wants them (EpochBegin::want_spikes). Set before Start sends the Setups.
  bool direct_ = false;
  bool spikes_in_flight_ = false;  // direct_: the last epoch emitted spikes the workers hold
  std::vector<uint64_t> spike_counts_;  // direct_: each region's spike counter after the last epoch
  const char* phase_ = "start-up";  // what the workers are doing, when not an epoch
  bool in_epoch_ = false;
  uint64_t epoch_ = 0;
  bool started_ = false, failed_ = false, shut_down_ = false;

 private:
  // An epoch started (its requests sent) and not yet finished, oldest first.
  struct Started {
    uint64_t epoch = 0;
    bool ticks = false;    // not a zero-length flush
    bool profile = false;
  };
  std::deque<Started> running_;
  EpochTiming timing_;  // reused: one reply's times and spans
  // Regions split over workers: each reply is decoded into scratch_ first; a split region's
  // parts' results wait in part_results_ [region][part] and are joined once all have replied;
  // each part's spikes of the last epoch go to its sibling parts with the next epoch (extra_).
  kernel::EpochDone scratch_;
  std::vector<std::vector<kernel::RegionResult>> part_results_;
  std::vector<std::vector<std::vector<kernel::Spike>>> sibling_spikes_;
  std::vector<std::vector<kernel::InSpike>> extra_;
  std::vector<kernel::InSpike> local_inbound_;
  // Appends to extra_[r] the spikes of the last epoch of region r's parts other than w's.
  void SiblingSpikes(const PoolWorker& w, RegionId r);
  PoolWorker* LocalWorker();
  size_t PartOf(RegionId r, int worker) const;
  Status JoinParts(kernel::EpochDone* done);
  // Region r's digest from its parts' entries (CombineDigestParts), or an error naming it.
  Status CombineParts(RegionId r, std::span<const kernel::DigestPart> entries, uint64_t* digest) const;
  const char* executor_;
  const char* workers_;
};

// What a worker's Error frame says.
inline std::string ErrorText(const wire::Error& e) { return e.message() ? e.message()->str() : "no message"; }

template <typename W, typename F>
Status WorkerPoolExecutor::TakeReply(W& w, std::span<const uint8_t> frame, F& on_reply, Status* soft) {
  auto msg = DecodeFrame(frame);
  if (!msg.ok()) return WorkerFailed(w, "sent a bad frame (" + msg.status().message() + ")", false);
  if (in_epoch_) w.stats.bytes_to_coordinator += frame.size();
  if (const wire::Error* e = msg.value()->payload_as_Error()) {
    std::string text = ErrorText(*e);
    if (e->fatal()) return WorkerFailed(w, "failed: " + text, true);
    if (soft->ok()) *soft = Status::Invalid(text);
  } else if (Status st = on_reply(w, *msg.value()); !st.ok()) {
    return WorkerFailed(w, "sent a wrong reply (" + st.message() + ")", false);
  }
  w.pending = false;
  return Status::Ok();
}

}  // namespace thalia::transport
