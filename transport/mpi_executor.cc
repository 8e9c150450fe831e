// Rank 0's side. Every request follows the socket executor's steps: (1) encode one frame per
// worker rank concerned into that rank's own builder and MPI_Isend it (the first starts
// computing while the next is encoded); (2) Collect: poll every pending rank with MPI_Test (its
// send) and MPI_Iprobe (its reply) until each has replied, checking every frame, turning an
// Error frame, a bad frame or the hang timeout into one failure that names the rank, its regions
// and the phase; (3) on failure, mark the worker ranks failed: MpiSession::Finish aborts the job.
#include "transport/mpi_executor.h"

#include <climits>

#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/mpi_world.h"
#include "transport/placement.h"

namespace thalia::transport {
namespace {

using Clock = std::chrono::steady_clock;
using kernel::Region;

struct Rank {
  int index = 0;  // worker index; the MPI rank is index + 1
  int rank = 1;
  std::vector<RegionId> regions;  // ascending
  flatbuffers::FlatBufferBuilder out{1 << 16};  // the frame being sent; untouched until sent
  MPI_Request send = MPI_REQUEST_NULL;
  std::vector<uint8_t> in;
  bool awaiting = false;  // a reply is awaited
  kernel::WorkerStats stats;
};

class MpiExecutor final : public kernel::Executor {
 public:
  explicit MpiExecutor(MpiOptions o) : options_(std::move(o)) {}
  ~MpiExecutor() override { (void)Shutdown(); }
  std::string name() const override {
    const mpi::World* world = mpi::GetWorld();
    return "mpi, " + (world ? std::to_string(world->size) : std::string("no")) + " ranks";
  }
  bool WantsBuiltRegions() const override { return false; }
  Status Start(std::shared_ptr<const kernel::BrainSpec> spec, std::vector<std::unique_ptr<Region>> regions) override;
  Status RunEpoch(const kernel::EpochBegin& begin, kernel::EpochDone* done) override;
  Status SaveStates(std::vector<std::vector<uint8_t>>* states) override;
  Status LoadStates(const std::vector<std::vector<uint8_t>>& states) override;
  Status Digests(bool full, std::vector<uint64_t>* out) override;
  Status PerturbWeightForTest(RegionId region, float delta) override;
  std::vector<kernel::WorkerStats> Stats() const override;
  Status Shutdown() override;

 private:
  Status CheckWorld();
  Status Send(Rank& w);  // sends w.out
  template <typename F>
  Status Collect(F&& on_reply);
  Status RankFailed(Rank& w, const std::string& what);
  Status Usable() const;
  Status Request(const char* phase, const std::function<void(flatbuffers::FlatBufferBuilder*)>& encode);

  MpiOptions options_;
  const mpi::World* world_ = nullptr;
  std::shared_ptr<const kernel::BrainSpec> spec_;
  std::vector<int> placement_;
  std::vector<std::unique_ptr<Rank>> ranks_;  // stable addresses: pending sends point into them
  const char* phase_ = "start-up";
  bool in_epoch_ = false;
  uint64_t epoch_ = 0;
  bool started_ = false, failed_ = false, shut_down_ = false;
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
  if (options_.placement.empty()) workers = std::min<int>(workers, static_cast<int>(spec_->regions.size()));
  auto place = PlaceRegions(*spec_, EstimateCosts(*spec_), workers, options_.placement);
  if (!place.ok()) return place.status();
  placement_ = std::move(place).value();
  int count = 0;
  for (int w : placement_) count = std::max(count, w + 1);
  for (int i = 0; i < count; ++i) {
    auto w = std::make_unique<Rank>();
    w->index = w->stats.worker = i;
    w->rank = i + 1;
    for (size_t r = 0; r < placement_.size(); ++r)
      if (placement_[r] == i) w->regions.push_back(static_cast<RegionId>(r));
    w->stats.regions = w->regions;
    ranks_.push_back(std::move(w));
  }
  started_ = true;
  mpi::SetWorkersState(mpi::Workers::kBusy);
  for (auto& w : ranks_) {
    flatbuffers::FlatBufferBuilder& b = w->out;
    b.Clear();
    auto ids = b.CreateVector(w->regions);
    auto config = b.CreateVector(spec_->config);
    FinishMessage(&b, wire::Payload::Setup, wire::CreateSetup(b, kProtocolVersion, w->index, ids, config));
    THALIA_RETURN_IF_ERROR(Send(*w));
  }
  Status st = Collect([](Rank& w, const wire::Message& m) -> Status {
    const wire::Ready* r = m.payload_as_Ready();
    if (!r) return Status::Corrupt("expected Ready");
    if (r->version() != kProtocolVersion || r->worker() != w.index)
      return Status::Corrupt("Ready from another protocol version or worker");
    w.stats.pid = r->pid();
    return Status::Ok();
  });
  phase_ = "the run";
  return st;
}

Status MpiExecutor::Send(Rank& w) {
  if (w.out.GetSize() > kFrameHeaderBytes + kMaxFrameBytes)
    return Status::Invalid("a message to MPI rank " + std::to_string(w.rank) + " is over the frame limit");
  MPI_Isend(w.out.GetBufferPointer(), static_cast<int>(w.out.GetSize()), MPI_BYTE, w.rank, mpi::kFrameTag,
            world_->comm, &w.send);
  w.awaiting = true;
  return Status::Ok();
}

template <typename F>
Status MpiExecutor::Collect(F&& on_reply) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.hang_timeout_ms);
  Status soft;  // a request a rank refused without failing; reported once all have answered
  mpi::Backoff backoff;
  while (true) {
    bool pending = false, progress = false;
    for (auto& wp : ranks_) {
      Rank& w = *wp;
      if (w.send != MPI_REQUEST_NULL) {
        int flag = 0;
        MPI_Test(&w.send, &flag, MPI_STATUS_IGNORE);  // sets the request to MPI_REQUEST_NULL when done
        progress |= flag != 0;
      }
      if (w.awaiting) {
        auto got = mpi::TryReceiveFrame(world_->comm, w.rank, &w.in);
        if (!got.ok()) return RankFailed(w, "sent a bad message (" + got.status().message() + ")");
        if (got.value()) {
          progress = true;
          auto msg = DecodeFrame(w.in);
          if (!msg.ok()) return RankFailed(w, "sent a bad frame (" + msg.status().message() + ")");
          w.awaiting = false;
          if (const wire::Error* e = msg.value()->payload_as_Error()) {
            std::string text = e->message() ? e->message()->str() : "no message";
            if (e->fatal()) return RankFailed(w, "failed: " + text);
            if (soft.ok()) soft = Status::Invalid(text);
          } else if (Status st = on_reply(w, *msg.value()); !st.ok()) {
            return RankFailed(w, "sent a wrong reply (" + st.message() + ")");
          }
        }
      }
      pending |= w.awaiting || w.send != MPI_REQUEST_NULL;
    }
    if (!pending) return soft;
    if (progress) {
      backoff.Reset();
      continue;
    }
    if (Clock::now() > deadline) {
      for (auto& w : ranks_)
        if (w->awaiting || w->send != MPI_REQUEST_NULL)
          return RankFailed(*w, "hung: no reply within " + std::to_string(options_.hang_timeout_ms) + " ms");
    }
    backoff.Pause();
  }
}

Status MpiExecutor::RankFailed(Rank& w, const std::string& what) {
  std::string names;
  for (RegionId r : w.regions) names += (names.empty() ? "" : ", ") + spec_->regions[r].name;
  std::string phase = in_epoch_ ? "epoch " + std::to_string(epoch_) : std::string(phase_);
  failed_ = true;
  mpi::SetWorkersState(mpi::Workers::kFailed);
  return Status::Worker("MPI rank " + std::to_string(w.rank) + " (worker " + std::to_string(w.index) + ", pid " +
                        std::to_string(w.stats.pid) + (w.regions.size() == 1 ? ", region " : ", regions ") + names +
                        ") " + what + " during " + phase + "; the job is being aborted");
}

Status MpiExecutor::Usable() const {
  if (!started_) return Status::Internal("the MPI executor was not started");
  if (failed_ || shut_down_) return Status::Worker("the worker ranks have stopped after an earlier failure or shutdown");
  return Status::Ok();
}

Status MpiExecutor::RunEpoch(const kernel::EpochBegin& begin, kernel::EpochDone* done) {
  THALIA_RETURN_IF_ERROR(Usable());
  in_epoch_ = true;
  epoch_ = begin.epoch;
  done->epoch = begin.epoch;
  done->regions.resize(spec_->regions.size());
  for (auto& w : ranks_) {
    EncodeEpochBegin(begin, w->regions, &w->out);
    THALIA_RETURN_IF_ERROR(Send(*w));
  }
  Status st = Collect([&](Rank& w, const wire::Message& m) -> Status {
    const wire::EpochDone* d = m.payload_as_EpochDone();
    if (!d) return Status::Corrupt(std::string("expected EpochDone, got ") + wire::EnumNamePayload(m.payload_type()));
    EpochTiming t;
    THALIA_RETURN_IF_ERROR(DecodeEpochDone(*d, begin.epoch, w.regions, done, &t));
    if (begin.t1 > begin.t0) ++w.stats.epochs;  // not the kernel's zero-length flushes
    w.stats.busy_s += static_cast<double>(t.busy_ns) * 1e-9;
    w.stats.wait_s += static_cast<double>(t.wait_ns) * 1e-9;
    return Status::Ok();
  });
  in_epoch_ = false;
  return st;
}

// One request to every rank, encoded by `encode` into each rank's builder.
Status MpiExecutor::Request(const char* phase, const std::function<void(flatbuffers::FlatBufferBuilder*)>& encode) {
  phase_ = phase;
  for (auto& w : ranks_) {
    encode(&w->out);
    THALIA_RETURN_IF_ERROR(Send(*w));
  }
  return Status::Ok();
}

Status MpiExecutor::SaveStates(std::vector<std::vector<uint8_t>>* states) {
  THALIA_RETURN_IF_ERROR(Usable());
  states->assign(spec_->regions.size(), {});
  THALIA_RETURN_IF_ERROR(Request("saving region states", [](flatbuffers::FlatBufferBuilder* b) {
    b->Clear();
    FinishMessage(b, wire::Payload::SaveStates, wire::CreateSaveStates(*b));
  }));
  THALIA_RETURN_IF_ERROR(Collect([&](Rank& w, const wire::Message& m) { return DecodeStates(m, w.regions, states); }));
  phase_ = "the run";
  return Status::Ok();
}

Status MpiExecutor::LoadStates(const std::vector<std::vector<uint8_t>>& states) {
  THALIA_RETURN_IF_ERROR(Usable());
  if (states.size() != spec_->regions.size()) return Status::Invalid("state for another number of regions");
  phase_ = "loading region states";
  for (auto& w : ranks_) {
    EncodeLoadStates(states, w->regions, &w->out);
    THALIA_RETURN_IF_ERROR(Send(*w));
  }
  Status st = Collect([](Rank&, const wire::Message& m) -> Status {
    return m.payload_as_Ack() ? Status::Ok() : Status::Corrupt("expected Ack");
  });
  phase_ = "the run";
  return st;
}

Status MpiExecutor::Digests(bool full, std::vector<uint64_t>* out) {
  THALIA_RETURN_IF_ERROR(Usable());
  out->assign(spec_->regions.size(), 0);
  THALIA_RETURN_IF_ERROR(Request("computing digests", [full](flatbuffers::FlatBufferBuilder* b) {
    b->Clear();
    FinishMessage(b, wire::Payload::DigestRequest, wire::CreateDigestRequest(*b, full));
  }));
  THALIA_RETURN_IF_ERROR(Collect([&](Rank& w, const wire::Message& m) { return DecodeDigestList(m, w.regions, out); }));
  phase_ = "the run";
  return Status::Ok();
}

Status MpiExecutor::PerturbWeightForTest(RegionId region, float delta) {
  THALIA_RETURN_IF_ERROR(Usable());
  if (region >= placement_.size()) return Status::Invalid("no region " + std::to_string(region));
  phase_ = "perturbing a weight";
  Rank& w = *ranks_[static_cast<size_t>(placement_[region])];
  w.out.Clear();
  FinishMessage(&w.out, wire::Payload::Perturb, wire::CreatePerturb(w.out, region, delta));
  THALIA_RETURN_IF_ERROR(Send(w));
  Status st = Collect([](Rank&, const wire::Message& m) -> Status {
    return m.payload_as_Ack() ? Status::Ok() : Status::Corrupt("expected Ack");
  });
  phase_ = "the run";
  return st;
}

std::vector<kernel::WorkerStats> MpiExecutor::Stats() const {
  std::vector<kernel::WorkerStats> s;
  for (const auto& w : ranks_) s.push_back(w->stats);
  return s;
}

Status MpiExecutor::Shutdown() {
  if (shut_down_ || !started_ || failed_) return Status::Ok();
  shut_down_ = true;
  // The ranks go back to waiting for a Setup; the sends must complete before the builders go.
  for (auto& w : ranks_) {
    w->out.Clear();
    FinishMessage(&w->out, wire::Payload::Shutdown, wire::CreateShutdown(w->out));
    THALIA_RETURN_IF_ERROR(Send(*w));
    w->awaiting = false;  // Shutdown has no reply
  }
  phase_ = "shutdown";
  THALIA_RETURN_IF_ERROR(Collect([](Rank&, const wire::Message&) { return Status::Ok(); }));
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
  if (!o.placement.empty() && o.placement.size() != spec.regions.size())
    return Status::Invalid("placement: expected one worker per region (" + std::to_string(spec.regions.size()) + ")");
  double timeout = run.hang_timeout_ms >= 0 ? run.hang_timeout_ms : spec.hang_timeout_ms;
  if (!(timeout > 0)) return Status::Invalid("hang timeout must be a positive number of ms");
  o.hang_timeout_ms = timeout > INT_MAX ? INT_MAX : static_cast<int>(timeout);
  return o;
}

}  // namespace thalia::transport
