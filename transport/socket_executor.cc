// The coordinator side. Every request follows the same steps: (1) encode and send one frame to
// each worker concerned (the first starts computing while the next is encoded); (2) Collect:
// poll all of them until each has replied, checking every frame, turning an Error frame, an
// EOF, a bad frame or the hang timeout into one failure that names the worker, its regions,
// the phase and how the process ended; (3) on failure, kill and reap every worker.
#include "transport/socket_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "transport/child_process.h"
#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/placement.h"
#include "transport/unique_fd.h"
#include "transport/worker.h"

namespace thalia::transport {
namespace {

using Clock = std::chrono::steady_clock;
using kernel::Region;

struct Worker {
  int index = 0;
  std::vector<RegionId> regions;  // ascending
  UniqueFd fd;
  ChildProcess child;
  FrameReader reader;
  kernel::WorkerStats stats;
  bool pending = false;  // a reply is awaited
};

Status MakeSocketPair(UniqueFd* coordinator, UniqueFd* worker) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Status::Worker(std::string("socketpair failed: ") + std::strerror(errno));
  coordinator->reset(sv[0]);
  worker->reset(sv[1]);
  // Larger buffers let big state transfers and spike-heavy epochs go in fewer wake-ups.
  int bytes = 1 << 20;
  for (int fd : sv) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  return Status::Ok();
}

class SocketExecutor final : public kernel::Executor {
 public:
  explicit SocketExecutor(SocketOptions o) : options_(std::move(o)) {}
  ~SocketExecutor() override { (void)Shutdown(); }
  std::string name() const override {
    return "socket/" + options_.launch + ", " + std::to_string(options_.workers) + " workers";
  }
  bool WantsBuiltRegions() const override { return options_.launch == "fork"; }
  Status Start(std::shared_ptr<const kernel::BrainSpec> spec,
               std::vector<std::unique_ptr<Region>> regions) override;
  Status RunEpoch(const kernel::EpochBegin& begin, kernel::EpochDone* done) override;
  Status SaveStates(std::vector<std::vector<uint8_t>>* states) override;
  Status LoadStates(const std::vector<std::vector<uint8_t>>& states) override;
  Status Digests(bool full, std::vector<uint64_t>* out) override;
  Status PerturbWeightForTest(RegionId region, float delta) override;
  std::vector<kernel::WorkerStats> Stats() const override;
  Status Shutdown() override;

 private:
  Status ForkWorker(Worker& w, std::vector<std::unique_ptr<Region>>& regions);
  Status SpawnWorker(Worker& w, const std::string& binary);
  Status Send(Worker& w);  // sends out_
  template <typename F>
  Status Collect(F&& on_reply);
  Status WorkerFailed(Worker& w, const std::string& what, bool exiting);
  std::string PhaseText() const;
  Status Usable() const;
  void KillAll();

  SocketOptions options_;
  std::shared_ptr<const kernel::BrainSpec> spec_;
  std::vector<int> placement_;
  std::vector<Worker> workers_;
  std::vector<pollfd> pollfds_;
  std::vector<Worker*> polled_;
  flatbuffers::FlatBufferBuilder out_{1 << 16};
  const char* phase_ = "start-up";  // what the workers are doing, when not an epoch
  bool in_epoch_ = false;
  uint64_t epoch_ = 0;
  bool started_ = false, failed_ = false, shut_down_ = false;
};

Status SocketExecutor::Start(std::shared_ptr<const kernel::BrainSpec> spec,
                             std::vector<std::unique_ptr<Region>> regions) {
  spec_ = std::move(spec);
  const size_t n = spec_->regions.size();
  std::vector<double> costs;
  if (regions.size() == n) {
    for (auto& r : regions) costs.push_back(r->Cost());
  } else {
    costs = EstimateCosts(*spec_);
  }
  auto place = PlaceRegions(*spec_, costs, options_.workers, options_.placement);
  if (!place.ok()) return place.status();
  placement_ = std::move(place).value();
  int count = 0;
  for (int w : placement_) count = std::max(count, w + 1);
  workers_.resize(count);
  for (int i = 0; i < count; ++i) {
    workers_[i].index = workers_[i].stats.worker = i;
    for (size_t r = 0; r < n; ++r)
      if (placement_[r] == i) workers_[i].regions.push_back(static_cast<RegionId>(r));
    workers_[i].stats.regions = workers_[i].regions;
  }
  std::string binary;
  if (options_.launch == "spawn") {
    binary = WorkerBinary(options_.worker_binary);
    if (binary.empty())
      return Status::Invalid("spawn: cannot tell which thalia binary workers should run; set "
                             "THALIA_WORKER_BINARY (or RunOptions::worker_binary)");
    if (::access(binary.c_str(), X_OK) != 0)
      return Status::Invalid("spawn: worker binary '" + binary + "' is not executable: " + std::strerror(errno));
  }
  started_ = true;
  for (Worker& w : workers_) {
    Status st = options_.launch == "spawn" ? SpawnWorker(w, binary) : ForkWorker(w, regions);
    if (!st.ok()) {
      KillAll();
      failed_ = true;
      return st;
    }
  }
  regions.clear();  // the workers have their own copies now
  for (Worker& w : workers_) {
    if (options_.launch != "spawn") {
      w.pending = true;
      continue;
    }
    out_.Clear();
    auto ids = out_.CreateVector(w.regions);
    auto config = out_.CreateVector(spec_->config);
    FinishMessage(&out_, wire::Payload::Setup, wire::CreateSetup(out_, kProtocolVersion, w.index, ids, config));
    THALIA_RETURN_IF_ERROR(Send(w));
  }
  Status st = Collect([](Worker& w, const wire::Message& m) -> Status {
    const wire::Ready* r = m.payload_as_Ready();
    if (!r) return Status::Corrupt("expected Ready");
    if (r->version() != kProtocolVersion || r->worker() != w.index || r->pid() != w.child.pid())
      return Status::Corrupt("Ready from another protocol version or process");
    return Status::Ok();
  });
  phase_ = "the run";
  return st;
}

Status SocketExecutor::ForkWorker(Worker& w, std::vector<std::unique_ptr<Region>>& regions) {
  UniqueFd mine, theirs;
  THALIA_RETURN_IF_ERROR(MakeSocketPair(&mine, &theirs));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Status::Worker(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // The child: keep only this worker's socket end and regions; never return into the caller
    // (its destructors would kill this worker's siblings).
    if (!PrepareWorkerChild(parent)) ::_exit(1);
    for (Worker& other : workers_)
      if (other.fd.valid()) ::close(other.fd.get());
    ::close(mine.get());
    int code = 1;
    try {
      std::vector<std::unique_ptr<Region>> hosted(regions.size());
      for (RegionId r : w.regions) hosted[r] = std::move(regions[r]);
      code = ServeWorker(theirs.get(), w.index, std::move(hosted));
    } catch (...) {
    }
    ::_exit(code);
  }
  w.fd = std::move(mine);
  w.child = ChildProcess(pid);
  w.stats.pid = pid;
  return Status::Ok();
}

Status SocketExecutor::SpawnWorker(Worker& w, const std::string& binary) {
  UniqueFd mine, theirs;
  THALIA_RETURN_IF_ERROR(MakeSocketPair(&mine, &theirs));
  // Everything the child needs is prepared before fork: between fork and exec it only makes
  // system calls.
  constexpr int kWorkerFd = 3;
  std::string index = std::to_string(w.index);
  std::string fd_text = std::to_string(kWorkerFd);
  std::vector<char*> argv = {const_cast<char*>("thalia"), const_cast<char*>(kWorkerCommand),
                             const_cast<char*>("--fd"), fd_text.data(), const_cast<char*>("--worker"),
                             index.data(), nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Status::Worker(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    if (!PrepareWorkerChild(parent)) ::_exit(1);
    // dup2 clears close-on-exec on the copy; a socket already at kWorkerFd needs it cleared.
    if (theirs.get() == kWorkerFd) {
      if (::fcntl(kWorkerFd, F_SETFD, 0) != 0) ::_exit(126);
    } else if (::dup2(theirs.get(), kWorkerFd) < 0) {
      ::_exit(126);
    }
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  w.fd = std::move(mine);
  w.child = ChildProcess(pid);
  w.stats.pid = pid;
  return Status::Ok();
}

Status SocketExecutor::Send(Worker& w) {
  Status st = WriteFrame(w.fd.get(), Frame(out_), options_.hang_timeout_ms);
  if (st.ok()) {
    w.pending = true;
    return st;
  }
  bool timeout = st.message().rfind("timeout", 0) == 0;
  return WorkerFailed(w, timeout ? "hung: " + st.message() : "died (" + st.message() + ")", !timeout);
}

template <typename F>
Status SocketExecutor::Collect(F&& on_reply) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.hang_timeout_ms);
  Status soft;  // a request a worker refused without failing; reported once all have answered
  while (true) {
    pollfds_.clear();
    polled_.clear();
    for (Worker& w : workers_) {
      if (!w.pending) continue;
      pollfds_.push_back({w.fd.get(), POLLIN, 0});
      polled_.push_back(&w);
    }
    if (pollfds_.empty()) return soft;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      return WorkerFailed(*polled_[0], "hung: no reply within " + std::to_string(options_.hang_timeout_ms) + " ms",
                          false);
    int r = ::poll(pollfds_.data(), pollfds_.size(), static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (r < 0 && errno != EINTR) return Status::Worker(std::string("poll failed: ") + std::strerror(errno));
    for (size_t i = 0; r > 0 && i < pollfds_.size(); ++i) {
      if (pollfds_[i].revents == 0) continue;
      Worker& w = *polled_[i];
      auto step = w.reader.ReadSome(w.fd.get());
      if (!step.ok()) {
        const bool bad = step.status().kind() == ErrorKind::kCorrupt;
        return WorkerFailed(w, (bad ? "sent a bad frame (" : "died (") + step.status().message() + ")", !bad);
      }
      if (step.value() == FrameReader::Step::kEof) return WorkerFailed(w, "died", true);
      if (step.value() == FrameReader::Step::kNeedMore) continue;
      auto msg = DecodeFrame(w.reader.frame());
      if (!msg.ok()) return WorkerFailed(w, "sent a bad frame (" + msg.status().message() + ")", false);
      if (const wire::Error* e = msg.value()->payload_as_Error()) {
        std::string text = e->message() ? e->message()->str() : "no message";
        if (e->fatal()) return WorkerFailed(w, "failed: " + text, true);
        if (soft.ok()) soft = Status::Invalid(text);
        w.pending = false;
        continue;
      }
      Status st = on_reply(w, *msg.value());
      if (!st.ok()) return WorkerFailed(w, "sent a wrong reply (" + st.message() + ")", false);
      w.pending = false;
    }
  }
}

std::string SocketExecutor::PhaseText() const {
  return in_epoch_ ? "epoch " + std::to_string(epoch_) : std::string(phase_);
}

Status SocketExecutor::WorkerFailed(Worker& w, const std::string& what, bool exiting) {
  // A worker that reported an error or closed its socket is ending by itself: give it a moment
  // so its exit status can be reported, then kill it regardless.
  if (exiting) {
    w.child.WaitOrKill(1000);
  } else {
    w.child.KillAndReap();
  }
  std::string names;
  for (RegionId r : w.regions) names += (names.empty() ? "" : ", ") + spec_->regions[r].name;
  std::string msg = "worker " + std::to_string(w.index) + " (pid " + std::to_string(w.stats.pid) +
                    (w.regions.size() == 1 ? ", region " : ", regions ") + names + ") " + what + " during " +
                    PhaseText() + "; the worker " + w.child.Describe();
  if (options_.launch == "spawn" && !in_epoch_ && w.child.Describe() == "exited with status 127")
    msg += " (could the worker binary not be executed?)";
  failed_ = true;
  KillAll();
  return Status::Worker(msg);
}

void SocketExecutor::KillAll() {
  for (Worker& w : workers_) {
    w.fd.reset();
    w.child.KillAndReap();
    w.pending = false;
  }
}

Status SocketExecutor::Usable() const {
  if (!started_) return Status::Internal("the socket executor was not started");
  if (failed_ || shut_down_) return Status::Worker("the workers have stopped after an earlier failure or shutdown");
  return Status::Ok();
}

Status SocketExecutor::RunEpoch(const kernel::EpochBegin& begin, kernel::EpochDone* done) {
  THALIA_RETURN_IF_ERROR(Usable());
  in_epoch_ = true;
  epoch_ = begin.epoch;
  done->epoch = begin.epoch;
  done->regions.resize(spec_->regions.size());
  for (Worker& w : workers_) {
    EncodeEpochBegin(begin, w.regions, &out_);
    THALIA_RETURN_IF_ERROR(Send(w));
  }
  Status st = Collect([&](Worker& w, const wire::Message& m) -> Status {
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

Status SocketExecutor::SaveStates(std::vector<std::vector<uint8_t>>* states) {
  THALIA_RETURN_IF_ERROR(Usable());
  phase_ = "saving region states";
  states->assign(spec_->regions.size(), {});
  out_.Clear();
  FinishMessage(&out_, wire::Payload::SaveStates, wire::CreateSaveStates(out_));
  for (Worker& w : workers_) THALIA_RETURN_IF_ERROR(Send(w));
  THALIA_RETURN_IF_ERROR(
      Collect([&](Worker& w, const wire::Message& m) { return DecodeStates(m, w.regions, states); }));
  phase_ = "the run";
  return Status::Ok();
}

Status SocketExecutor::LoadStates(const std::vector<std::vector<uint8_t>>& states) {
  THALIA_RETURN_IF_ERROR(Usable());
  if (states.size() != spec_->regions.size()) return Status::Invalid("state for another number of regions");
  phase_ = "loading region states";
  for (Worker& w : workers_) {
    EncodeLoadStates(states, w.regions, &out_);
    THALIA_RETURN_IF_ERROR(Send(w));
  }
  Status st = Collect([](Worker&, const wire::Message& m) -> Status {
    return m.payload_as_Ack() ? Status::Ok() : Status::Corrupt("expected Ack");
  });
  phase_ = "the run";
  return st;
}

Status SocketExecutor::Digests(bool full, std::vector<uint64_t>* out) {
  THALIA_RETURN_IF_ERROR(Usable());
  phase_ = "computing digests";
  out->assign(spec_->regions.size(), 0);
  out_.Clear();
  FinishMessage(&out_, wire::Payload::DigestRequest, wire::CreateDigestRequest(out_, full));
  for (Worker& w : workers_) THALIA_RETURN_IF_ERROR(Send(w));
  THALIA_RETURN_IF_ERROR(
      Collect([&](Worker& w, const wire::Message& m) { return DecodeDigestList(m, w.regions, out); }));
  phase_ = "the run";
  return Status::Ok();
}

Status SocketExecutor::PerturbWeightForTest(RegionId region, float delta) {
  THALIA_RETURN_IF_ERROR(Usable());
  if (region >= placement_.size()) return Status::Invalid("no region " + std::to_string(region));
  phase_ = "perturbing a weight";
  Worker& w = workers_[placement_[region]];
  out_.Clear();
  FinishMessage(&out_, wire::Payload::Perturb, wire::CreatePerturb(out_, region, delta));
  THALIA_RETURN_IF_ERROR(Send(w));
  Status st = Collect([](Worker&, const wire::Message& m) -> Status {
    return m.payload_as_Ack() ? Status::Ok() : Status::Corrupt("expected Ack");
  });
  phase_ = "the run";
  return st;
}

std::vector<kernel::WorkerStats> SocketExecutor::Stats() const {
  std::vector<kernel::WorkerStats> s;
  for (const Worker& w : workers_) s.push_back(w.stats);
  return s;
}

Status SocketExecutor::Shutdown() {
  if (shut_down_) return Status::Ok();
  shut_down_ = true;
  if (started_ && !failed_) {
    out_.Clear();
    FinishMessage(&out_, wire::Payload::Shutdown, wire::CreateShutdown(out_));
    for (Worker& w : workers_)
      if (w.fd.valid()) (void)WriteFrame(w.fd.get(), Frame(out_), options_.hang_timeout_ms);
    for (Worker& w : workers_) {
      w.fd.reset();  // EOF too, should Shutdown not have arrived
      w.child.WaitOrKill(2000);
    }
  }
  KillAll();
  return Status::Ok();
}

}  // namespace

std::string WorkerBinary(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (SelfIsWorkerBinary()) return "/proc/self/exe";
  if (const char* env = std::getenv("THALIA_WORKER_BINARY"); env && *env) return env;
  return "";
}

std::unique_ptr<kernel::Executor> MakeSocketExecutor(SocketOptions options) {
  return std::make_unique<SocketExecutor>(std::move(options));
}

Result<SocketOptions> SocketOptionsFor(const kernel::BrainSpec& spec, const kernel::RunOptions& run) {
  SocketOptions o;
  o.workers = std::max(1, kernel::EffectiveWorkers(spec, run));
  o.launch = run.launch.empty() ? spec.launch : run.launch;
  if (o.launch != "fork" && o.launch != "spawn")
    return Status::Invalid("launch: expected fork or spawn, got '" + o.launch + "'");
  o.placement = run.placement;
  // More workers than regions is clamped (PlaceRegions does the same); an explicit placement
  // keeps the count it was written for, and PlaceRegions checks it.
  if (o.placement.empty()) o.workers = std::min<int>(o.workers, static_cast<int>(spec.regions.size()));
  double timeout = run.hang_timeout_ms >= 0 ? run.hang_timeout_ms : spec.hang_timeout_ms;
  if (!(timeout > 0)) return Status::Invalid("hang timeout must be a positive number of ms");
  o.hang_timeout_ms = timeout > INT_MAX ? INT_MAX : static_cast<int>(timeout);
  o.worker_binary = run.worker_binary;
  return o;
}

}  // namespace thalia::transport
