// The coordinator side. Every request follows the steps of transport/worker_pool.h: (1) encode
// and send one frame to each worker concerned (the first starts computing while the next is
// encoded); (2) Collect: poll all of them until each has replied, checking every frame, turning
// an Error frame, an EOF, a bad frame or the hang timeout into one failure that names the
// worker, its regions, the phase and how the process ended; (3) on failure, kill and reap every
// worker. With SocketOptions::coordinator_share, worker 0 is this process: its regions run
// between (1) and (2).
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
#include <exception>

#include "kernel/big_alloc.h"
#include "kernel/thread_pool.h"
#include "kernel/registry.h"
#include "kernel/state_codec.h"
#include "transport/child_process.h"
#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/installed_worker.h"
#include "transport/peer_exchange.h"
#include "transport/placement.h"
#include "transport/unique_fd.h"
#include "transport/worker.h"
#include "transport/worker_pool.h"

namespace thalia::transport {
namespace {

using Clock = std::chrono::steady_clock;
using kernel::Region;

struct Worker : PoolWorker {
  UniqueFd fd;
  ChildProcess child;
  FrameReader reader;
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

// Whether a worker's error says its link to a peer broke (SocketPeerLink's and PeerExchange's
// messages): under the direct exchange, the mark of a peer that failed first.
bool LostAPeer(const std::string& what) {
  return what.find("spike exchange") != std::string::npos ||
         what.find("cannot send spikes to worker") != std::string::npos;
}

class SocketExecutor final : public WorkerPoolExecutor {
 public:
  explicit SocketExecutor(SocketOptions o)
      : WorkerPoolExecutor("the socket executor", "the workers"), options_(std::move(o)) {}
  ~SocketExecutor() override { (void)Shutdown(); }
  std::string name() const override {
    return "socket/" + options_.launch + ", " + std::to_string(options_.workers) +
           (options_.workers == 1 ? " worker" : " workers");
  }
  bool WantsBuiltRegions() const override { return options_.launch == "fork"; }
  bool CanPipeline() const override { return direct_; }
  Status Start(std::shared_ptr<const kernel::BrainSpec> spec,
               std::vector<std::unique_ptr<Region>> regions) override;
  Status Shutdown() override;

 private:
  static Worker& Of(PoolWorker& w) { return static_cast<Worker&>(w); }
  size_t WorkerCount() const override { return workers_.size(); }
  PoolWorker& WorkerAt(size_t i) override { return workers_[i]; }
  const PoolWorker& WorkerAt(size_t i) const override { return workers_[i]; }
  flatbuffers::FlatBufferBuilder& OutFor(PoolWorker&) override { return out_; }
  Status Send(PoolWorker& w) override;
  Status CollectReplies(const OnReply& on_reply) override { return Collect(on_reply); }
  Status WorkerFailed(PoolWorker& w, const std::string& what, bool exiting) override;
  // Under the direct exchange a worker that fails is often noticed first by a peer whose link
  // to it broke, which then reports that: the worker (other than `by`) that died or failed for
  // another reason within `wait_ms`, with what it did, or null.
  Worker* FailedPeer(const Worker& by, int wait_ms, std::string* what);
  // Why worker w, found closed by a send, ended ("died", "died (...)", "failed: ...").
  std::string WhyClosed(Worker& w);
  // One read from worker w, which may be ending: true, with *what as WhyClosed says it, if what
  // it sent (or its closing) tells how it ended; false if more is needed or it sent a reply.
  static bool ReadEnding(Worker& w, std::string* what);
  Status RunLocal(const kernel::EpochBegin& begin, kernel::EpochDone* done) override;
  void SaveLocal(std::vector<std::vector<uint8_t>>* states) override;
  Status LoadLocal(const std::vector<std::vector<uint8_t>>& states) override;
  void DigestLocal(bool full, std::vector<uint64_t>* out) override;
  Status PerturbLocal(RegionId region, float delta) override;
  kernel::Region* LocalRegion(RegionId r) override { return r < local_regions_.size() ? local_regions_[r].get() : nullptr; }

  Status ForkWorker(Worker& w, std::vector<std::unique_ptr<Region>>& regions);
  Status SpawnWorker(Worker& w, const std::string& binary);
  template <typename F>
  Status Collect(const F& on_reply);
  void KillAll();
  Status LocalFailed(RegionId r, const std::string& what);
  Worker* local() { return !workers_.empty() && workers_[0].local ? &workers_[0] : nullptr; }

  SocketOptions options_;
  std::vector<Worker> workers_;
  std::unique_ptr<kernel::ThreadPool> local_pool_;  // the coordinator's share's threads
  std::vector<std::unique_ptr<Region>> local_regions_;  // by region id; the coordinator's share
  std::vector<kernel::ProfileSpan> local_spans_;        // reused: one local region's spans
  // --exchange direct: peer_fds_[i][j] is worker i's socket to worker j (-1: none), until the
  // forks have handed each worker its row.
  std::vector<std::vector<int>> peer_fds_;
  void ClosePeerFds();
  std::vector<pollfd> pollfds_;
  std::vector<Worker*> polled_;
  bool sought_cause_ = false;  // FailedPeer was asked once (the cause's report quotes the peer's)
  std::string noticed_;  // the peer that reported the failure first, if another worker's is named
  flatbuffers::FlatBufferBuilder out_{1 << 16, &kernel::BufferAllocator()};  // every request, then sent
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
  THALIA_RETURN_IF_ERROR(Place(costs, options_.workers, options_.placement, options_.placement_parts));
  const int count = PlacedWorkers();
  workers_.resize(count);
  for (int i = 0; i < count; ++i) AssignRegions(i, &workers_[i]);
  std::string binary;
  if (options_.launch == "spawn") {
    binary = WorkerBinary(options_.worker_binary);
    if (binary.empty())
      return Status::Invalid("spawn: cannot tell which thalia binary workers should run; set "
                             "THALIA_WORKER_BINARY (or RunOptions::worker_binary)");
    if (::access(binary.c_str(), X_OK) != 0)
      return Status::Invalid("spawn: worker binary '" + binary + "' is not executable: " + std::strerror(errno));
  }
  if (options_.direct) {
    if (options_.launch != "fork" || options_.coordinator_share)
      return Status::Invalid("exchange direct between worker processes needs --launch fork and no "
                             "--coordinator-share (or --executor mpi)");
    direct_ = true;
    peer_fds_.assign(workers_.size(), std::vector<int>(workers_.size(), -1));
    for (size_t i = 0; i < workers_.size(); ++i)
      for (size_t j = i + 1; j < workers_.size(); ++j) {
        UniqueFd a, b;
        Status st = MakeSocketPair(&a, &b);
        if (!st.ok()) {
          ClosePeerFds();
          return st;
        }
        peer_fds_[i][j] = a.release();
        peer_fds_[j][i] = b.release();
      }
  }
  started_ = true;
  if (options_.coordinator_share) {
    // Taken before any fork, so no worker process inherits a second copy it would keep.
    Worker& w = workers_[0];
    w.local = true;
    w.stats.pid = static_cast<int>(::getpid());
    local_regions_.resize(n);
    // A region split with other workers stays in `regions` until after the forks (they need it
    // whole); it is cut to the coordinator's part below.
    for (RegionId r : w.regions) {
      if (split_[r] && regions.size() == n) continue;
      local_regions_[r] = regions.size() == n ? std::move(regions[r]) : kernel::BuildRegion(*spec_, r);
      if (!local_regions_[r]) {
        failed_ = true;
        return Status::Invalid("cannot build region '" + spec_->regions[r].name + "'");
      }
    }
  }
  for (Worker& w : workers_) {
    if (w.local) continue;
    Status st = options_.launch == "spawn" ? SpawnWorker(w, binary) : ForkWorker(w, regions);
    if (!st.ok()) {
      KillAll();
      failed_ = true;
      return st;
    }
  }
  if (Worker* l = local()) {
    for (RegionId r : l->regions)
      if (!local_regions_[r]) local_regions_[r] = std::move(regions[r]);
  }
  regions.clear();  // the workers have their own copies now
  ClosePeerFds();    // and their own peer sockets
  if (Worker* l = local()) {
    Status cut = RestrictToParts(local_regions_, l->regions, l->part_lo, l->part_hi);
    if (!cut.ok()) {
      KillAll();
      failed_ = true;
      return cut;
    }
  }
  // After the forks: a forked child has none of its parent's threads.
  if (options_.coordinator_share && options_.threads > 1) local_pool_ = std::make_unique<kernel::ThreadPool>(options_.threads);
  kernel::SetRegionsParallelism(local_regions_, local_pool_.get(), options_.threads, options_.shards);
  for (Worker& w : workers_) {
    if (w.local) continue;
    if (options_.launch != "spawn") {
      w.pending = true;
      continue;
    }
    EncodeSetup(w, options_.threads, options_.shards, &out_);
    THALIA_RETURN_IF_ERROR(Send(w));
  }
  Status st = Collect([](const Worker& w, const wire::Message& m) -> Status {
    const wire::Ready* r = m.payload_as_Ready();
    if (!r) return Status::Corrupt("expected Ready");
    if (r->version() != kProtocolVersion || r->worker() != w.index || r->pid() != w.child.pid())
      return Status::Corrupt("Ready from another protocol version or process");
    return Status::Ok();
  });
  phase_ = "the run";
  DescribeWorkers(options_.threads);
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
    // Only this worker's own peer sockets stay open, so a peer's end is seen when it ends.
    for (size_t i = 0; i < peer_fds_.size(); ++i)
      if (i != static_cast<size_t>(w.index))
        for (int fd : peer_fds_[i])
          if (fd >= 0) ::close(fd);
    int code = 1;
    try {
      std::vector<std::unique_ptr<Region>> hosted(regions.size());
      for (RegionId r : w.regions) hosted[r] = std::move(regions[r]);
      if (!RestrictToParts(hosted, w.regions, w.part_lo, w.part_hi).ok()) ::_exit(1);
      if (direct_) {
        SocketPeerLink link(peer_fds_[w.index]);
        code = ServeWorkerDirect(theirs.get(), w.index, std::move(hosted), options_.threads, options_.shards, spec_,
                                 parts_, &link);
      } else {
        code = ServeWorker(theirs.get(), w.index, std::move(hosted), options_.threads, options_.shards);
      }
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

Status SocketExecutor::Send(PoolWorker& w) {
  Status st = WriteFrame(Of(w).fd.get(), Frame(out_), options_.hang_timeout_ms);
  if (st.ok()) {
    w.pending = true;
    return st;
  }
  const bool timeout = st.message().rfind("timeout", 0) == 0;
  if (timeout) return WorkerFailed(w, "hung: " + st.message(), false);
  // A worker that closed its end (it exited or was killed, e.g. while a pipelined run sent it
  // the next epoch) died; another write error is named.
  const bool closed = st.message().find(std::strerror(EPIPE)) != std::string::npos ||
                      st.message().find(std::strerror(ECONNRESET)) != std::string::npos;
  return WorkerFailed(w, closed ? WhyClosed(Of(w)) : "died (" + st.message() + ")", true);
}

std::string SocketExecutor::WhyClosed(Worker& w) {
  // What it sent before it closed says more, as when a reply is read: an error it reported, a
  // frame cut short, or nothing (it died).
  std::string what;
  for (int reads = 0; reads < 4; ++reads) {
    pollfd p{w.fd.get(), POLLIN, 0};
    if (!w.reader.HasBufferedFrame() && ::poll(&p, 1, 200) <= 0) break;
    if (ReadEnding(w, &what)) return what;
  }
  return "died";
}

bool SocketExecutor::ReadEnding(Worker& w, std::string* what) {
  auto step = w.reader.ReadSome(w.fd.get());
  if (!step.ok()) {
    *what = "died (" + step.status().message() + ")";
    return true;
  }
  if (step.value() == FrameReader::Step::kEof) {
    *what = "died";
    return true;
  }
  if (step.value() != FrameReader::Step::kFrame) return false;
  auto msg = DecodeFrame(w.reader.frame());
  if (!msg.ok()) return false;
  const wire::Error* e = msg.value()->payload_as_Error();
  if (!e || !e->fatal()) return false;  // a reply, or a refusal: the worker is well
  *what = "failed: " + ErrorText(*e);
  return true;
}

void SocketExecutor::ClosePeerFds() {
  for (auto& row : peer_fds_)
    for (int& fd : row)
      if (fd >= 0) {
        ::close(fd);
        fd = -1;
      }
  peer_fds_.clear();
}

template <typename F>
Status SocketExecutor::Collect(const F& on_reply) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.hang_timeout_ms);
  Status soft;  // a request a worker refused without failing; reported once all have answered
  while (true) {
    // A pipelined run's next reply may already sit whole in a reader, behind the one taken.
    for (Worker& w : workers_)
      while (w.pending && w.reader.HasBufferedFrame()) {
        auto step = w.reader.ReadSome(w.fd.get());
        if (!step.ok() || step.value() != FrameReader::Step::kFrame) break;
        THALIA_RETURN_IF_ERROR(TakeReply(w, w.reader.frame(), on_reply, &soft));
      }
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
      return WorkerFailed(*polled_[0], NoReplyWithin(options_.hang_timeout_ms), false);
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
      THALIA_RETURN_IF_ERROR(TakeReply(w, w.reader.frame(), on_reply, &soft));
    }
  }
}

Status SocketExecutor::WorkerFailed(PoolWorker& pool_worker, const std::string& what, bool exiting) {
  Worker& w = Of(pool_worker);
  if (direct_ && !failed_ && !sought_cause_ && LostAPeer(what)) {
    sought_cause_ = true;  // once: the cause's own report then quotes this one
    std::string cause;
    if (Worker* peer = FailedPeer(w, 1000, &cause)) {
      w.child.KillAndReap();
      noticed_ = "; worker " + std::to_string(w.index) + " noticed first (" + what + ")";
      return WorkerFailed(*peer, cause, true);
    }
  }
  // A worker that reported an error or closed its socket is ending by itself: give it a moment
  // so its exit status can be reported, then kill it regardless.
  if (exiting) {
    w.child.WaitOrKill(1000);
  } else {
    w.child.KillAndReap();
  }
  std::string msg = "worker " + std::to_string(w.index) + " (pid " + std::to_string(w.stats.pid) + RegionList(w) +
                    ") " + what + " during " + PhaseText() + "; the worker " + w.child.Describe();
  if (options_.launch == "spawn" && !in_epoch_ && w.child.Describe() == "exited with status 127")
    msg += " (could the worker binary not be executed?)";
  msg += noticed_;
  failed_ = true;
  KillAll();
  return Status::Worker(msg);
}

Worker* SocketExecutor::FailedPeer(const Worker& by, int wait_ms, std::string* what) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  std::vector<pollfd> fds;
  std::vector<Worker*> who;
  for (Worker& v : workers_)
    if (&v != &by && !v.local && v.fd.get() >= 0) {
      fds.push_back({v.fd.get(), POLLIN, 0});
      who.push_back(&v);
    }
  while (std::any_of(fds.begin(), fds.end(), [](const pollfd& p) { return p.fd >= 0; })) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return nullptr;
    const int r = ::poll(fds.data(), fds.size(), static_cast<int>(left));
    if (r < 0 && errno != EINTR) return nullptr;
    for (size_t i = 0; r > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Worker& v = *who[i];
      if (!ReadEnding(v, what)) continue;
      if (LostAPeer(*what)) {
        fds[i].fd = -1;  // v too lost a peer: not the cause
        continue;
      }
      return &v;
    }
  }
  return nullptr;
}

void SocketExecutor::KillAll() {
  ClosePeerFds();
  for (Worker& w : workers_) {
    w.fd.reset();
    w.child.KillAndReap();
    w.pending = false;
  }
}

// The coordinator's share of an epoch, as the in-process executor runs it; a region that throws
// ends the run like a failed worker (every worker is stopped), naming the region.
Status SocketExecutor::RunLocal(const kernel::EpochBegin& begin, kernel::EpochDone* done) {
  if (!local()) return Status::Ok();
  Worker& w = workers_[0];
  const auto start = Clock::now();
  const bool profile = profiler_ && profiler_->active();
  if (local_pool_) local_pool_->SetProfiling(profile);
  kernel::EpochContext ctx{begin.epoch, begin.t0, begin.t1, begin.modulators, begin.events};
  for (RegionId r : w.regions) {
    const uint64_t region_start = profile ? kernel::ProfileNow() : 0;
    Status st = kernel::AdvanceRegion(*local_regions_[r], ctx, LocalInbound(begin, w, r), begin.external[r],
                                      begin.full_digest, &done->regions[r]);
    if (profile) {
      local_spans_.clear();
      kernel::AppendAdvanceSpans(begin.epoch, static_cast<int32_t>(r), 0, region_start, kernel::ProfileNow(),
                                 local_pool_.get(), &local_spans_);
      for (const kernel::ProfileSpan& s : local_spans_) profiler_->Add(s);
    }
    if (!st.ok()) return LocalFailed(r, st.message());
  }
  if (begin.t1 > begin.t0) ++w.stats.epochs;
  w.stats.busy_s += std::chrono::duration<double>(Clock::now() - start).count();
  if (local_pool_) {
    w.stats.thread_busy_s = local_pool_->BusySeconds();
    w.stats.thread_wait_s = local_pool_->WaitSeconds();
  }
  return Status::Ok();
}

Status SocketExecutor::LocalFailed(RegionId r, const std::string& what) {
  failed_ = true;
  KillAll();
  return Status::Worker("region '" + spec_->regions[r].name + "' (hosted by the coordinator, worker 0) " + what +
                        " during " + PhaseText());
}

void SocketExecutor::SaveLocal(std::vector<std::vector<uint8_t>>* states) {
  if (Worker* l = local())
    for (RegionId r : l->regions) (*states)[r] = kernel::SaveRegionState(*local_regions_[r]);
}

Status SocketExecutor::LoadLocal(const std::vector<std::vector<uint8_t>>& states) {
  Status local_status;
  if (Worker* l = local())
    for (RegionId r : l->regions)
      if (local_status.ok()) local_status = kernel::LoadRegionState(*local_regions_[r], states[r]);
  return local_status;
}

void SocketExecutor::DigestLocal(bool full, std::vector<uint64_t>* out) {
  if (Worker* l = local())
    for (RegionId r : l->regions) (*out)[r] = local_regions_[r]->Digest(full);
}

Status SocketExecutor::PerturbLocal(RegionId region, float delta) {
  if (!local_regions_[region]->PerturbWeightForTest(delta))
    return Status::Invalid("no weight to perturb in region '" + spec_->regions[region].name + "'");
  return Status::Ok();
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
  return InstalledWorkerBinary();
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
  o.placement_parts = run.placement_parts;
  // More workers than regions split regions where PlaceParts may (else fewer are used).
  double timeout = run.hang_timeout_ms >= 0 ? run.hang_timeout_ms : spec.hang_timeout_ms;
  if (!(timeout > 0)) return Status::Invalid("hang timeout must be a positive number of ms");
  o.hang_timeout_ms = timeout > INT_MAX ? INT_MAX : static_cast<int>(timeout);
  o.worker_binary = run.worker_binary;
  o.coordinator_share = run.coordinator_share;
  // Direct where it can be (forked workers, none sharing the coordinator's process): workers then
  // wait for each other only, not for the coordinator's routing as well (bench/RESULTS.md).
  o.direct = run.exchange == "direct" ||
             (run.exchange.empty() && o.launch == "fork" && !o.coordinator_share && o.workers > 1);
  o.threads = kernel::EffectiveThreads(spec, run, static_cast<uint32_t>(o.workers));
  if (run.shards < 0 || run.threads < -1) return Status::Invalid("threads and shards must not be negative (threads -1: auto)");
  o.shards = static_cast<uint32_t>(run.shards);
  return o;
}

}  // namespace thalia::transport
