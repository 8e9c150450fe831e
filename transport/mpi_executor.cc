// Rank 0's side. Every request follows the steps of transport/worker_pool.h: (1) encode one frame per
// worker rank concerned into that rank's own builder and MPI_Isend it (the first starts
// computing while the next is encoded); (2) Collect: poll every pending rank with MPI_Test (its
// send) and MPI_Iprobe (its reply) until each has replied, checking every frame, turning an
// Error frame, a bad frame or the hang timeout into one failure that names the rank, its regions
// and the phase; (3) on failure, mark the worker ranks failed: MpiSession::Finish aborts the job.
#include "transport/mpi_executor.h"

#include <climits>

#include "kernel/big_alloc.h"
#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/mpi_world.h"
#include "transport/placement.h"
#include "transport/worker_pool.h"

namespace thalia::transport {
namespace {

using Clock = std::chrono::steady_clock;
using kernel::Region;

// Two builders and sends per rank: a pipelined run sends epoch e + 1 while epoch e's request may
// still be in flight; each builder stays untouched until its send has completed.
struct Rank : PoolWorker {
  int rank = 1;  // index + 1
  flatbuffers::FlatBufferBuilder out[2]{flatbuffers::FlatBufferBuilder(1 << 16, &kernel::BufferAllocator()),
                                        flatbuffers::FlatBufferBuilder(1 << 16, &kernel::BufferAllocator())};
  MPI_Request send[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  int current = 0;  // the builder being (or last) encoded into
  std::vector<uint8_t> in;
  bool Sending() const { return send[0] != MPI_REQUEST_NULL || send[1] != MPI_REQUEST_NULL; }
};

class MpiExecutor final : public WorkerPoolExecutor {
 public:
  explicit MpiExecutor(MpiOptions o)
      : WorkerPoolExecutor("the MPI executor", "the worker ranks"), options_(std::move(o)) {}
  ~MpiExecutor() override { (void)Shutdown(); }
  std::string name() const override {
    const mpi::World* world = mpi::GetWorld();
    return "mpi, " + (world ? std::to_string(world->size) : std::string("no")) + " ranks, " +
           (options_.direct ? "direct" : "star") + " exchange";
  }
  bool WantsBuiltRegions() const override { return false; }
  bool CanPipeline() const override { return direct_; }
  Status Start(std::shared_ptr<const kernel::BrainSpec> spec, std::vector<std::unique_ptr<Region>> regions) override;
  Status Shutdown() override;

 private:
  static Rank& Of(PoolWorker& w) { return static_cast<Rank&>(w); }
  size_t WorkerCount() const override { return ranks_.size(); }
  PoolWorker& WorkerAt(size_t i) override { return *ranks_[i]; }
  const PoolWorker& WorkerAt(size_t i) const override { return *ranks_[i]; }
  flatbuffers::FlatBufferBuilder& OutFor(PoolWorker& w) override;
  Status Send(PoolWorker& w) override;  // sends w.out
  Status CollectReplies(const OnReply& on_reply) override { return Collect(on_reply); }
  Status WorkerFailed(PoolWorker& w, const std::string& what, bool exiting) override;

  Status CheckWorld();
  template <typename F>
  Status Collect(const F& on_reply);

  MpiOptions options_;
  const mpi::World* world_ = nullptr;
  std::vector<std::unique_ptr<Rank>> ranks_;  // stable addresses: pending sends point into them
};

Status MpiExecutor::CheckWorld() {
  world_ = mpi::GetWorld();
  if (!world_)
    return Status::Invalid("the MPI executor needs MPI started: run it as `mpirun -np N thalia run CONFIG "
                           "--executor mpi` (N >= 2)");
  if (world_->rank != 0) return Status::Internal("the MPI executor runs on rank 0 only");
  if (world_->size < 2)
    return Status::Invalid("the MPI executor needs at least 2 ranks (rank 0 coordinates, the others host "
                           "regions): run it as `mpirun -np N thalia run CONFIG --executor mpi` with N >= 2");
  if (mpi::WorkersState() == mpi::Workers::kBusy)
    return Status::Invalid("another MPI executor is using the worker ranks");
  if (mpi::WorkersState() == mpi::Workers::kFailed)
    return Status::Worker("the MPI worker ranks have stopped after an earlier failure");
  return Status::Ok();
}

Status MpiExecutor::Start(std::shared_ptr<const kernel::BrainSpec> spec, std::vector<std::unique_ptr<Region>>) {
  spec_ = std::move(spec);
  THALIA_RETURN_IF_ERROR(CheckWorld());
  int workers = world_->size - 1;
  for (int w : options_.placement)
    if (w >= workers)
      return Status::Invalid("placement names worker " + std::to_string(w) + " (MPI rank " + std::to_string(w + 1) +
                             "), but the job has only " + std::to_string(workers) + " worker ranks (mpirun -np " +
                             std::to_string(world_->size) + ")");
  if (options_.workers > workers)
    return Status::Invalid("--workers " + std::to_string(options_.workers) + ": the job has only " +
                           std::to_string(workers) + " worker ranks (mpirun -np " + std::to_string(world_->size) + ")");
  if (options_.workers > 0) workers = options_.workers;
  direct_ = options_.direct;
  THALIA_RETURN_IF_ERROR(Place(EstimateCosts(*spec_), workers, options_.placement, options_.placement_parts));
  const int count = PlacedWorkers();
  for (int i = 0; i < count; ++i) {
    auto w = std::make_unique<Rank>();
    AssignRegions(i, w.get());
    w->rank = i + 1;
    ranks_.push_back(std::move(w));
  }
  started_ = true;
  mpi::SetWorkersState(mpi::Workers::kBusy);
  for (auto& w : ranks_) {
    EncodeSetup(*w, options_.threads, options_.shards, &OutFor(*w));
    THALIA_RETURN_IF_ERROR(Send(*w));
  }
  Status st = Collect([](PoolWorker& w, const wire::Message& m) -> Status {
    const wire::Ready* r = m.payload_as_Ready();
    if (!r) return Status::Corrupt("expected Ready");
    if (r->version() != kProtocolVersion || r->worker() != w.index)
      return Status::Corrupt("Ready from another protocol version or worker");
    w.stats.pid = r->pid();
    return Status::Ok();
  });
  phase_ = "the run";
  DescribeWorkers(options_.threads);
  return st;
}

flatbuffers::FlatBufferBuilder& MpiExecutor::OutFor(PoolWorker& pool_worker) {
  Rank& w = Of(pool_worker);
  w.current ^= 1;
  // The send from this builder two requests ago: long received unless the rank is slow to read.
  if (w.send[w.current] != MPI_REQUEST_NULL) MPI_Wait(&w.send[w.current], MPI_STATUS_IGNORE);
  return w.out[w.current];
}

Status MpiExecutor::Send(PoolWorker& pool_worker) {
  Rank& w = Of(pool_worker);
  flatbuffers::FlatBufferBuilder& out = w.out[w.current];
  if (out.GetSize() > kFrameHeaderBytes + kMaxFrameBytes)
    return Status::Invalid("a message to MPI rank " + std::to_string(w.rank) + " is over the frame limit");
  MPI_Isend(out.GetBufferPointer(), static_cast<int>(out.GetSize()), MPI_BYTE, w.rank, mpi::kFrameTag, world_->comm,
            &w.send[w.current]);
  w.pending = true;
  return Status::Ok();
}

template <typename F>
Status MpiExecutor::Collect(const F& on_reply) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.hang_timeout_ms);
  Status soft;  // a request a rank refused without failing; reported once all have answered
  mpi::Backoff backoff;
  while (true) {
    bool pending = false, progress = false;
    for (auto& wp : ranks_) {
      Rank& w = *wp;
      for (MPI_Request& send : w.send)
        if (send != MPI_REQUEST_NULL) {
          int flag = 0;
          MPI_Test(&send, &flag, MPI_STATUS_IGNORE);  // sets the request to MPI_REQUEST_NULL when done
          progress |= flag != 0;
        }
      if (w.pending) {
        auto got = mpi::TryReceiveFrame(world_->comm, w.rank, &w.in);
        if (!got.ok()) return WorkerFailed(w, "sent a bad message (" + got.status().message() + ")", false);
        if (got.value()) {
          progress = true;
          THALIA_RETURN_IF_ERROR(TakeReply(w, w.in, on_reply, &soft));
        }
      }
      pending |= w.pending || w.Sending();
    }
    if (!pending) return soft;
    if (progress) {
      backoff.Reset();
      continue;
    }
    if (Clock::now() > deadline) {
      for (auto& w : ranks_)
        if (w->pending || w->Sending())
          return WorkerFailed(*w, NoReplyWithin(options_.hang_timeout_ms), false);
    }
    backoff.Pause();
  }
}

// MPI cannot wait for one rank to exit: `exiting` changes nothing, MpiSession::Finish aborts the job.
Status MpiExecutor::WorkerFailed(PoolWorker& w, const std::string& what, bool) {
  failed_ = true;
  mpi::SetWorkersState(mpi::Workers::kFailed);
  return Status::Worker("MPI rank " + std::to_string(Of(w).rank) + " (worker " + std::to_string(w.index) + ", pid " +
                        std::to_string(w.stats.pid) + RegionList(w) + ") " + what + " during " + PhaseText() +
                        "; the job is being aborted");
}

Status MpiExecutor::Shutdown() {
  if (shut_down_ || !started_ || failed_) return Status::Ok();
  shut_down_ = true;
  // The ranks go back to waiting for a Setup; the sends must complete before the builders go.
  for (auto& w : ranks_) {
    flatbuffers::FlatBufferBuilder& out = OutFor(*w);
    out.Clear();
    FinishMessage(&out, wire::Payload::Shutdown, wire::CreateShutdown(out));
    THALIA_RETURN_IF_ERROR(Send(*w));
    w->pending = false;  // Shutdown has no reply
  }
  phase_ = "shutdown";
  THALIA_RETURN_IF_ERROR(Collect([](PoolWorker&, const wire::Message&) { return Status::Ok(); }));
  mpi::SetWorkersState(mpi::Workers::kIdle);
  return Status::Ok();
}

}  // namespace

std::unique_ptr<kernel::Executor> MakeMpiExecutor(MpiOptions options) {
  return std::make_unique<MpiExecutor>(std::move(options));
}

Result<MpiOptions> MpiOptionsFor(const kernel::BrainSpec& spec, const kernel::RunOptions& run) {
  MpiOptions o;
  o.workers = run.workers > 0 ? run.workers : 0;
  o.placement = run.placement;
  o.placement_parts = run.placement_parts;
  if (!o.placement.empty() && o.placement.size() != spec.regions.size())
    return Status::Invalid("placement: expected one worker per region (" + std::to_string(spec.regions.size()) + ")");
  double timeout = run.hang_timeout_ms >= 0 ? run.hang_timeout_ms : spec.hang_timeout_ms;
  if (!(timeout > 0)) return Status::Invalid("hang timeout must be a positive number of ms");
  o.hang_timeout_ms = timeout > INT_MAX ? INT_MAX : static_cast<int>(timeout);
  // Ranks usually run one per core or host: auto takes what one rank may use.
  o.threads = kernel::EffectiveThreads(spec, run, 1);
  o.shards = static_cast<uint32_t>(std::max(0, run.shards));
  o.direct = run.exchange != "star";
  return o;
}

}  // namespace thalia::transport
