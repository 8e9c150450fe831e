// The worker loop, over any Channel. Per request: receive one frame, verify, act, reply with one
// frame.
// Epoch timing: wait = from sending the last reply to receiving this EpochBegin (with the direct
// exchange that includes waiting for the peers' spikes); busy = from receiving it to having
// encoded the reply. With --profile (EpochBegin.profile) the same points
// become spans of thread 0 - waiting, decoding, each region, encoding and sending - plus the pool
// threads' sections; what is measured after a reply left goes with the next one.
#include "transport/worker.h"

#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>

#include "kernel/big_alloc.h"
#include "kernel/executor.h"
#include "kernel/registry.h"
#include "kernel/state_codec.h"
#include "kernel/thread_pool.h"
#include "transport/channel.h"
#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/peer_exchange.h"

namespace thalia::transport {
namespace {

using Clock = std::chrono::steady_clock;
bool g_self_is_worker_binary = false;

uint64_t Nanos(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}
// On the clock of kernel::ProfileNow (steady_clock).
uint64_t Nanos(Clock::time_point t) { return Nanos(t.time_since_epoch()); }

void SendError(Channel& ch, int region, const std::string& message, bool fatal) {
  flatbuffers::FlatBufferBuilder b(256);
  EncodeError(region, message, fatal, &b);
  // The coordinator may be gone (it crashed, or closed mid-frame): then stderr is all that is left.
  if (Status st = ch.Send(Frame(b)); !st.ok())
    std::fprintf(stderr, "thalia worker (pid %d): %s; it cannot be reported to the coordinator (%s)\n",
                 static_cast<int>(::getpid()), message.c_str(), st.message().c_str());
}

Status SendReady(Channel& ch, int worker) {
  flatbuffers::FlatBufferBuilder b(64);
  FinishMessage(&b, wire::Payload::Ready, wire::CreateReady(b, kProtocolVersion, worker, ::getpid()));
  return ch.Send(Frame(b));
}

// The fault THALIA_TEST_WORKER_FAULT asks of this worker (test hook, see worker.h).
struct TestFault {
  char action[8] = {};
  uint64_t epoch = 0;
  bool armed = false;
};

TestFault TestFaultFor(int worker) {
  TestFault f;
  const char* text = std::getenv("THALIA_TEST_WORKER_FAULT");
  int w = -1;
  if (text && std::sscanf(text, "%7[a-z]:%d:%" SCNu64, f.action, &w, &f.epoch) == 3) f.armed = w == worker;
  return f;
}

// The state of one serving worker; Handle* methods answer one request each.
class Server {
 public:
  Server(Channel& ch, int worker, std::vector<std::unique_ptr<kernel::Region>> regions, uint32_t threads,
         uint32_t shards, std::unique_ptr<PeerExchange> peers)
      : ch_(ch), regions_(std::move(regions)), peers_(std::move(peers)), fault_(TestFaultFor(worker)) {
    // The pool starts here, in the worker: threads do not survive the fork that made it.
    if (threads > 1) pool_ = std::make_unique<kernel::ThreadPool>(threads);
    for (size_t r = 0; r < regions_.size(); ++r)
      if (regions_[r]) hosted_.push_back(static_cast<RegionId>(r));
    kernel::SetRegionsParallelism(regions_, pool_.get(), threads, shards);
    done_.regions.resize(regions_.size());
  }
  int Run();

 private:
  void MaybeInjectFault(uint64_t epoch);
  Status HandleEpoch(const wire::EpochBegin& m, Clock::time_point idle_since, Clock::time_point received);
  void AddSpan(kernel::SpanKind kind, uint64_t epoch, uint64_t start_ns, uint64_t end_ns) {
    timing_.spans.push_back({start_ns, end_ns, epoch, -1, 0, 0, kind});
  }
  void FillThreadTimes();
  Status HandleSave();
  Status HandleLoad(const wire::LoadStates& m);
  Status HandleDigests(const wire::DigestRequest& m);
  Status HandlePerturb(const wire::Perturb& m);
  Status Reply() { return ch_.Send(Frame(out_)); }
  std::string RegionName(int r) const { return r >= 0 ? regions_[r]->spec().name : std::string(); }

  Channel& ch_;
  std::unique_ptr<kernel::ThreadPool> pool_;  // before regions_: outlives them
  std::vector<std::unique_ptr<kernel::Region>> regions_;
  std::vector<RegionId> hosted_;
  std::unique_ptr<PeerExchange> peers_;  // the direct exchange with the other workers, or null
  flatbuffers::FlatBufferBuilder out_{1 << 16, &kernel::BufferAllocator()};
  kernel::EpochBegin begin_;
  kernel::EpochDone done_;
  std::vector<RegionId> ids_;
  EpochTiming timing_;     // of the reply being made; its spans gather until it is sent
  bool profiling_ = false;  // the last EpochBegin asked for spans
  std::optional<Clock::time_point> replied_;  // when the last reply left, if the handler says
  // Direct exchange: how long the last epoch's wait for the peers' spikes took (after the reply,
  // so before idle_since): counted as waiting with the next epoch.
  Clock::duration peer_wait_{};
  int current_region_ = -1;  // the region being worked on, for error reports
  TestFault fault_;
};

void Server::MaybeInjectFault(uint64_t epoch) {
  if (!fault_.armed || epoch != fault_.epoch) return;
  const std::string action = fault_.action;
  if (action == "kill") ::raise(SIGKILL);
  if (action == "stall")
    while (true) ::pause();  // until the coordinator's hang timeout kills this process
  if (action == "cut") {
    EncodeError(-1, "this frame is cut in half by THALIA_TEST_WORKER_FAULT", true, &out_);
    (void)ch_.Send(Frame(out_).first(out_.GetSize() / 2));
    ::_exit(1);
  }
}

int Server::Run() {
  auto idle_since = Clock::now();
  while (true) {
    auto frame = ch_.Receive();
    if (!frame.ok()) {
      SendError(ch_, -1, "worker received a bad frame: " + frame.status().message(), true);
      return 1;
    }
    if (frame.value().empty()) return 0;  // the coordinator is gone
    auto received = Clock::now();
    auto msg = DecodeFrame(frame.value());
    if (!msg.ok()) {
      SendError(ch_, -1, "worker received a bad frame: " + msg.status().message(), true);
      return 1;
    }
    const wire::Message* m = msg.value();
    Status st;
    current_region_ = -1;
    try {
      switch (m->payload_type()) {
        case wire::Payload::EpochBegin: st = HandleEpoch(*m->payload_as_EpochBegin(), idle_since, received); break;
        case wire::Payload::SaveStates:
          st = HandleSave();
          // A checkpoint's save, shown with the epoch about to start (the coordinator's count).
          // (After a flush, a zero-length epoch that shares the number of the next, no + 1.)
          if (profiling_)
            AddSpan(kernel::SpanKind::kCheckpoint, begin_.epoch + (begin_.t1 > begin_.t0 ? 1 : 0), Nanos(received),
                    kernel::ProfileNow());
          break;
        case wire::Payload::LoadStates: st = HandleLoad(*m->payload_as_LoadStates()); break;
        case wire::Payload::DigestRequest: st = HandleDigests(*m->payload_as_DigestRequest()); break;
        case wire::Payload::Perturb: st = HandlePerturb(*m->payload_as_Perturb()); break;
        case wire::Payload::Shutdown: return 0;
        default:
          st = Status::Corrupt(std::string("unexpected message ") + wire::EnumNamePayload(m->payload_type()));
      }
    } catch (const std::exception& e) {
      std::string where = current_region_ >= 0 ? "region '" + RegionName(current_region_) + "' threw: " : "exception: ";
      SendError(ch_, current_region_, where + e.what(), true);
      return 1;
    } catch (...) {
      std::string where = current_region_ >= 0 ? "region '" + RegionName(current_region_) + "' threw" : "exception";
      SendError(ch_, current_region_, where + " (not a std::exception)", true);
      return 1;
    }
    if (!st.ok()) {
      SendError(ch_, current_region_, st.message(), true);
      return 1;
    }
    idle_since = replied_.value_or(Clock::now());
    replied_.reset();
  }
}

Status Server::HandleEpoch(const wire::EpochBegin& m, Clock::time_point idle_since, Clock::time_point received) {
  THALIA_RETURN_IF_ERROR(DecodeEpochBegin(m, regions_.size(), &begin_, &ids_));
  MaybeInjectFault(begin_.epoch);
  if (ids_ != hosted_) return Status::Corrupt("EpochBegin names regions this worker does not host");
  const uint64_t epoch = begin_.epoch;
  const bool profile = m.profile();
  if (!profile) timing_.spans.clear();  // the coordinator stopped asking: nothing more to send
  profiling_ = profile;
  if (pool_) pool_->SetProfiling(profile);
  if (profile) {
    AddSpan(kernel::SpanKind::kWaitRequest, epoch, Nanos(idle_since), Nanos(received));
    AddSpan(kernel::SpanKind::kDecode, epoch, Nanos(received), kernel::ProfileNow());
  }
  // Direct exchange: the peers' spikes of the last epoch (received after that reply) join what
  // the coordinator sent (spikes in flight of a restored state, if any).
  if (peers_)
    for (RegionId r : hosted_) peers_->TakeInbound(r, &begin_.inbound[r]);
  kernel::EpochContext ctx{begin_.epoch, begin_.t0, begin_.t1, begin_.modulators, begin_.events};
  done_.epoch = begin_.epoch;
  for (RegionId r : hosted_) {
    current_region_ = static_cast<int>(r);
    const uint64_t start = profile ? kernel::ProfileNow() : 0;
    Status st = kernel::AdvanceRegion(*regions_[r], ctx, begin_.inbound[r], begin_.external[r],
                                      begin_.full_digest, &done_.regions[r]);
    if (!st.ok()) return Status::Internal("region '" + RegionName(current_region_) + "' " + st.message());
    if (profile)
      kernel::AppendAdvanceSpans(epoch, static_cast<int32_t>(r), 0, start, kernel::ProfileNow(), pool_.get(),
                                 &timing_.spans);
  }
  current_region_ = -1;
  // Direct exchange: the peers get their spikes before the coordinator its reply, which then
  // carries spikes only if the coordinator records or keeps them.
  if (peers_) {
    const uint64_t start = profile ? kernel::ProfileNow() : 0;
    THALIA_RETURN_IF_ERROR(peers_->Send(epoch, done_));
    if (!begin_.want_spikes)
      for (RegionId r : hosted_) done_.regions[r].spikes.clear();
    if (profile) AddSpan(kernel::SpanKind::kPeerExchange, epoch, start, kernel::ProfileNow());
  }
  FillThreadTimes();
  // busy_ns leaves out only the encoding below, a few microseconds.
  const auto encode = Clock::now();
  timing_.busy_ns = Nanos(encode - received);
  timing_.wait_ns = Nanos(received - idle_since) + Nanos(peer_wait_);
  peer_wait_ = {};
  EncodeEpochDone(done_, hosted_, timing_, &out_);
  timing_.spans.clear();
  Status st = Reply();
  const uint64_t sent = profile ? kernel::ProfileNow() : 0;
  if (profile) AddSpan(kernel::SpanKind::kEncode, epoch, Nanos(encode), sent);
  // Then the peers' spikes of this epoch, for the next: waiting here overlaps the coordinator's
  // turn. (A peer that never sends is hung or dead: the coordinator says which and ends the job.)
  if (st.ok() && peers_) {
    const auto waiting = Clock::now();
    st = peers_->Receive(epoch, begin_.t0, begin_.t1);
    replied_ = Clock::now();  // waiting for the coordinator starts after the peers' spikes came
    peer_wait_ = *replied_ - waiting;
    if (profile) AddSpan(kernel::SpanKind::kPeerExchange, epoch, sent, Nanos(*replied_));
  }
  return st;
}

void Server::FillThreadTimes() {
  if (!pool_) return;
  timing_.thread_busy_ns.resize(pool_->size());
  timing_.thread_wait_ns.resize(pool_->size());
  for (uint32_t i = 0; i < pool_->size(); ++i) {
    const uint64_t busy = pool_->BusyNs(i), wait = pool_->WaitNs(i);
    timing_.thread_busy_ns[i] = busy > wait ? busy - wait : 0;
    timing_.thread_wait_ns[i] = wait;
  }
}

Status Server::HandleSave() {
  out_.Clear();
  std::vector<flatbuffers::Offset<wire::RegionBlob>> blobs;
  for (RegionId r : hosted_) {
    current_region_ = static_cast<int>(r);
    std::vector<uint8_t> s = kernel::SaveRegionState(*regions_[r]);
    blobs.push_back(wire::CreateRegionBlob(out_, r, out_.CreateVector(s)));
  }
  current_region_ = -1;
  FinishMessage(&out_, wire::Payload::States, wire::CreateStates(out_, out_.CreateVector(blobs)));
  return Reply();
}

Status Server::HandleLoad(const wire::LoadStates& m) {
  if (!m.states()) return Status::Corrupt("LoadStates without states");
  for (const wire::RegionBlob* blob : *m.states()) {
    RegionId r = blob->region();
    if (r >= regions_.size() || !regions_[r]) return Status::Corrupt("state for a region this worker does not host");
    if (!blob->data()) return Status::Corrupt("state without data");
    current_region_ = static_cast<int>(r);
    // A nested buffer inside a message is only 4-aligned; RegionState holds 8-byte arrays.
    std::vector<uint8_t> aligned(blob->data()->begin(), blob->data()->end());
    if (peers_) peers_->Clear();
    Status st = kernel::LoadRegionState(*regions_[r], aligned);
    if (!st.ok()) {
      // A state that does not fit is the user's input (a checkpoint), not a worker failure: the
      // request fails and the coordinator reports it as invalid input.
      EncodeError(current_region_, st.message(), false, &out_);
      return Reply();
    }
  }
  current_region_ = -1;
  out_.Clear();
  FinishMessage(&out_, wire::Payload::Ack, wire::CreateAck(out_));
  return Reply();
}

Status Server::HandleDigests(const wire::DigestRequest& m) {
  out_.Clear();
  std::vector<uint64_t> digests;
  std::vector<flatbuffers::Offset<wire::DigestPartWords>> parts;
  bool any_part = false;
  for (RegionId r : hosted_) {
    current_region_ = static_cast<int>(r);
    std::vector<uint64_t> words;
    digests.push_back(0);
    kernel::DigestForResult(*regions_[r], m.full(), &digests.back(), &words);
    any_part = any_part || !words.empty();
    parts.push_back(wire::CreateDigestPartWords(out_, out_.CreateVector(words)));
  }
  current_region_ = -1;
  auto ids = out_.CreateVector(hosted_);
  auto ds = out_.CreateVector(digests);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::DigestPartWords>>> pv;
  if (any_part) pv = out_.CreateVector(parts);
  FinishMessage(&out_, wire::Payload::DigestList, wire::CreateDigestList(out_, ids, ds, pv));
  return Reply();
}

Status Server::HandlePerturb(const wire::Perturb& m) {
  RegionId r = m.region();
  if (r >= regions_.size() || !regions_[r]) return Status::Corrupt("Perturb for a region this worker does not host");
  current_region_ = static_cast<int>(r);
  bool ok = regions_[r]->PerturbWeightForTest(m.delta());
  current_region_ = -1;
  if (!ok) {
    EncodeError(static_cast<int>(r), "no weight to perturb in region '" + RegionName(static_cast<int>(r)) + "'",
                false, &out_);
    return Reply();
  }
  out_.Clear();
  FinishMessage(&out_, wire::Payload::Ack, wire::CreateAck(out_));
  return Reply();
}

// Reads the Setup message and builds the regions it names. A Shutdown instead (a coordinator
// that needs no more workers) sets *ended.
// Every part of every region, as Setup.placement lists them, checked against the configuration
// and against this worker's own parts.
Result<PartPlacement> DecodePlacement(const wire::Setup& setup, const kernel::BrainSpec& spec, int worker,
                                      std::span<const RegionId> ids, std::span<const uint32_t> lo,
                                      std::span<const uint32_t> hi) {
  PartPlacement parts(spec.regions.size());
  if (!setup.placement()) return Status::Corrupt("Setup asks for the direct exchange without a placement");
  for (const wire::PartPlace* p : *setup.placement()) {
    if (p->region() >= parts.size() || p->worker() < 0 || p->lo() >= p->hi() ||
        p->hi() > spec.regions[p->region()].size)
      return Status::Corrupt("Setup places a part outside the configuration");
    auto& region = parts[p->region()];
    for (const PartPlace& q : region)
      if (q.worker == p->worker())
        return Status::Corrupt("Setup places two parts of region '" + spec.regions[p->region()].name + "' on worker " +
                               std::to_string(q.worker));
    if (!region.empty() && region.back().hi != p->lo())
      return Status::Corrupt("Setup places parts that do not tile region '" + spec.regions[p->region()].name + "'");
    region.push_back({p->worker(), p->lo(), p->hi()});
  }
  for (RegionId r = 0; r < parts.size(); ++r)
    if (parts[r].empty() || parts[r].front().lo != 0 || parts[r].back().hi != spec.regions[r].size)
      return Status::Corrupt("Setup's placement does not cover region '" + spec.regions[r].name + "'");
  size_t mine = 0;
  for (const auto& region : parts)
    for (const PartPlace& p : region) mine += p.worker == worker ? 1 : 0;
  if (mine != ids.size()) return Status::Corrupt("Setup's placement disagrees with this worker's own regions");
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint32_t l = lo.empty() ? 0 : lo[i], h = hi.empty() ? spec.regions[ids[i]].size : hi[i];
    bool found = false;
    for (const PartPlace& p : parts[ids[i]]) found = found || (p.worker == worker && p.lo == l && p.hi == h);
    if (!found) return Status::Corrupt("Setup's placement disagrees with this worker's own parts");
  }
  return parts;
}

int Serve(Channel& channel, int worker, std::vector<std::unique_ptr<kernel::Region>> regions, uint32_t threads,
          uint32_t shards, std::unique_ptr<PeerExchange> peers) {
  if (!SendReady(channel, worker).ok()) return 1;
  Server server(channel, worker, std::move(regions), threads, shards, std::move(peers));
  return server.Run();
}

// With Setup.direct, *peers gets the direct exchange over `link` (an error without one).
Status BuildFromSetup(Channel& ch, int* worker, std::vector<std::unique_ptr<kernel::Region>>* regions,
                      uint32_t* threads, uint32_t* shards, bool* ended, PeerLink* link,
                      std::unique_ptr<PeerExchange>* peers) {
  auto frame = ch.Receive();
  if (!frame.ok()) return frame.status();
  if (frame.value().empty()) return Status::Worker("the coordinator closed before Setup");
  auto msg = DecodeFrame(frame.value());
  if (!msg.ok()) return msg.status();
  if (msg.value()->payload_type() == wire::Payload::Shutdown) {
    *ended = true;
    return Status::Ok();
  }
  const wire::Setup* setup = msg.value()->payload_as_Setup();
  if (!setup) return Status::Corrupt("expected Setup as the first message");
  if (setup->version() != kProtocolVersion)
    return Status::Invalid("coordinator speaks protocol " + std::to_string(setup->version()) + ", this worker " +
                           std::to_string(kProtocolVersion));
  if (!setup->config() || !setup->regions()) return Status::Corrupt("Setup without configuration or regions");
  *worker = setup->worker();
  *threads = setup->threads();
  *shards = setup->shards();
  if (*threads == 0 || *threads > kernel::kMaxThreads) return Status::Corrupt("Setup asks for " + std::to_string(*threads) + " threads");
  std::vector<uint8_t> config(setup->config()->begin(), setup->config()->end());
  auto spec = kernel::ResolveBrainSpec(std::move(config), "the configuration sent by the coordinator");
  if (!spec.ok()) return spec.status();
  regions->clear();
  regions->resize(spec.value()->regions.size());
  std::vector<RegionId> ids;
  for (uint32_t r : *setup->regions()) {
    if (r >= regions->size()) return Status::Corrupt("Setup names region " + std::to_string(r) + ", which does not exist");
    (*regions)[r] = kernel::BuildRegion(*spec.value(), r);
    if (!(*regions)[r]) return Status::Invalid("cannot build region '" + spec.value()->regions[r].name + "'");
    ids.push_back(r);
  }
  std::vector<uint32_t> lo, hi;
  if (setup->part_lo()) lo.assign(setup->part_lo()->begin(), setup->part_lo()->end());
  if (setup->part_hi()) hi.assign(setup->part_hi()->begin(), setup->part_hi()->end());
  THALIA_RETURN_IF_ERROR(RestrictToParts(*regions, ids, lo, hi));
  if (!setup->direct()) return Status::Ok();
  if (!link) return Status::Invalid("the coordinator asks for the direct spike exchange, which only MPI worker ranks have");
  auto parts = DecodePlacement(*setup, *spec.value(), *worker, ids, lo, hi);
  if (!parts.ok()) return parts.status();
  *peers = std::make_unique<PeerExchange>(spec.value(), std::move(parts).value(), *worker, link);
  return Status::Ok();
}

}  // namespace

Status RestrictToParts(std::span<const std::unique_ptr<kernel::Region>> regions, std::span<const RegionId> ids,
                       std::span<const uint32_t> lo, std::span<const uint32_t> hi) {
  if (lo.empty() && hi.empty()) return Status::Ok();
  if (lo.size() != ids.size() || hi.size() != ids.size()) return Status::Corrupt("parts for another number of regions");
  for (size_t i = 0; i < ids.size(); ++i) {
    kernel::Region& region = *regions[ids[i]];
    const uint32_t size = region.spec().size;
    if (lo[i] == 0 && hi[i] == size) continue;
    if (lo[i] >= hi[i] || hi[i] > size)
      return Status::Corrupt("part [" + std::to_string(lo[i]) + ", " + std::to_string(hi[i]) + ") of region '" +
                             region.spec().name + "' of " + std::to_string(size) + " neurons");
    if (!region.RestrictTo(lo[i], hi[i]))
      return Status::Invalid("region '" + region.spec().name + "' (type " + region.spec().type +
                             ") cannot be split over workers");
  }
  return Status::Ok();
}

int ServeChannel(Channel& channel, int worker, std::vector<std::unique_ptr<kernel::Region>> regions,
                 uint32_t threads, uint32_t shards) {
  return Serve(channel, worker, std::move(regions), threads, shards, nullptr);
}

int ServeWorker(int fd, int worker, std::vector<std::unique_ptr<kernel::Region>> regions,
                uint32_t threads, uint32_t shards) {
  SocketChannel channel(fd);
  return ServeChannel(channel, worker, std::move(regions), threads, shards);
}

int ServeWorkerDirect(int fd, int worker, std::vector<std::unique_ptr<kernel::Region>> regions, uint32_t threads,
                      uint32_t shards, std::shared_ptr<const kernel::BrainSpec> spec, const PartPlacement& parts,
                      PeerLink* link) {
  SocketChannel channel(fd);
  return Serve(channel, worker, std::move(regions), threads, shards,
               std::make_unique<PeerExchange>(std::move(spec), parts, worker, link));
}

int ServeFromSetup(Channel& channel, bool* ended, PeerLink* link) {
  int worker = -1;
  std::vector<std::unique_ptr<kernel::Region>> regions;
  bool end = false;
  uint32_t threads = 1, shards = 0;
  std::unique_ptr<PeerExchange> peers;
  try {
    Status st = BuildFromSetup(channel, &worker, &regions, &threads, &shards, &end, link, &peers);
    if (!st.ok()) {
      SendError(channel, -1, "worker start-up: " + st.message(), true);
      return 1;
    }
  } catch (const std::exception& e) {
    SendError(channel, -1, std::string("worker start-up: exception: ") + e.what(), true);
    return 1;
  }
  if (ended) *ended = end;
  if (end) return 0;
  return Serve(channel, worker, std::move(regions), threads, shards, std::move(peers));
}

int RunSpawnedWorker(int fd) {
  SocketChannel channel(fd);
  return ServeFromSetup(channel, nullptr);
}

bool PrepareWorkerChild(int parent) {
  // SIGKILL when the coordinator dies, whatever the reason: no orphan outlives it. (The signal
  // follows the coordinator thread that forked; one thread drives a Brain.)
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) return false;
  // Ctrl-C goes to the whole process group: the coordinator handles it and shuts workers down.
  std::signal(SIGINT, SIG_IGN);
  // A worker computes; the coordinator, which only routes, must not wait for a core. As
  // SCHED_BATCH (same weight, no wake-up preemption) a worker woken by its EpochBegin does not
  // preempt the coordinator before it has sent the other workers theirs: with 2 workers on
  // 2 cores the coordinator's run-queue wait fell from 256-280 ms to 38-40 ms in 3 s of
  // large.json (bench/RESULTS.md, "Workers as SCHED_BATCH"). Advice only: a refusal changes
  // nothing else.
  sched_param param{};
  (void)::sched_setscheduler(0, SCHED_BATCH, &param);
  return true;
}

void MaybeRunWorker(int argc, char** argv) {
  g_self_is_worker_binary = true;
  if (argc < 2 || std::strcmp(argv[1], kWorkerCommand) != 0) return;
  int fd = -1;
  for (int i = 2; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--fd") == 0) fd = std::atoi(argv[i + 1]);
  if (fd < 0) {
    std::fprintf(stderr, "thalia %s: internal command of spawned workers; needs --fd N\n", kWorkerCommand);
    std::exit(2);
  }
  std::signal(SIGINT, SIG_IGN);
  std::exit(RunSpawnedWorker(fd));
}

bool SelfIsWorkerBinary() { return g_self_is_worker_binary; }

Result<std::span<const uint8_t>> SocketChannel::Receive() {
  auto step = ReadFrame(fd_, &reader_, -1);
  if (!step.ok()) return step.status();
  if (step.value() == FrameReader::Step::kEof) return std::span<const uint8_t>();
  return reader_.frame();
}

Status SocketChannel::Send(std::span<const uint8_t> frame) { return WriteFrame(fd_, frame); }

}  // namespace thalia::transport
