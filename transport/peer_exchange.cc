// The plan, the sending and the receiving of the direct exchange. Per epoch a worker sends each
// peer of its plan exactly one PeerSpikes frame (empty if it has nothing for it), and waits for
// exactly one from each peer it hears from, so frames never need matching beyond their order.
#include "transport/peer_exchange.h"

#include <algorithm>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "kernel/big_alloc.h"
#include "kernel/thread_pool.h"
#include "transport/codec.h"
#include "transport/frame.h"

namespace thalia::transport {
namespace {

// How long a worker waiting for its peers' spikes polls without sleeping (SocketPeerLink::Pump).
constexpr uint64_t kSpinNs = 100'000;

using Ranges = kernel::SpikeRouter::Ranges;
constexpr size_t kNoPart = ~size_t{0};

bool Hosts(const PartPlacement& parts, RegionId r, int worker) {
  for (const PartPlace& p : parts[r])
    if (p.worker == worker) return true;
  return false;
}

// What worker w needs of region s's spikes: every neuron (w hosts a sibling part of s), the
// ranges its hosted regions have synapses from, or nothing.
struct Need {
  bool any = false, all = false;
  Ranges ranges;
};

Need NeedOf(const kernel::SpikeRouter& router, const PartPlacement& parts, int w, RegionId s) {
  Need n;
  if (parts[s].size() > 1 && Hosts(parts, s, w)) {
    n.any = n.all = true;
    return n;
  }
  for (RegionId t = 0; t < parts.size(); ++t) {
    if (t == s || !Hosts(parts, t, w)) continue;
    const Ranges* from = router.RangesFrom(t, s);
    if (!from) continue;
    n.any = true;
    for (const auto& range : *from)
      if (std::find(n.ranges.begin(), n.ranges.end(), range) == n.ranges.end()) n.ranges.push_back(range);
  }
  return n;
}

Status Bad(int peer, const std::string& what) {
  return Status::Corrupt("worker " + std::to_string(peer) + " sent a malformed spike exchange: " + what);
}

}  // namespace

PeerPlan PlanPeers(const kernel::BrainSpec&, const kernel::SpikeRouter& router, const PartPlacement& parts, int me) {
  int workers = 0;
  for (const auto& region : parts)
    for (const PartPlace& p : region) workers = std::max(workers, p.worker + 1);
  PeerPlan plan;
  for (int peer = 0; peer < workers; ++peer) {
    if (peer == me) continue;
    PeerSend send;
    send.peer = peer;
    bool hears = false;
    for (RegionId s = 0; s < parts.size(); ++s) {
      if (Hosts(parts, s, me)) {
        Need need = NeedOf(router, parts, peer, s);
        if (need.any) {
          send.regions.push_back(s);
          send.ranges.push_back(std::move(need.ranges));
          send.all.push_back(need.all);
        }
      }
      if (Hosts(parts, s, peer) && NeedOf(router, parts, me, s).any) hears = true;
    }
    if (!send.regions.empty()) plan.sends.push_back(std::move(send));
    if (hears) plan.receives.push_back(peer);
  }
  return plan;
}

PeerExchange::PeerExchange(std::shared_ptr<const kernel::BrainSpec> spec, PartPlacement parts, int me,
                           PeerLink* link)
    : spec_(std::move(spec)),
      parts_(std::move(parts)),
      me_(me),
      link_(link),
      router_(*spec_),
      out_(1 << 16, &kernel::BufferAllocator()) {
  plan_ = PlanPeers(*spec_, router_, parts_, me_);
  const size_t n = parts_.size();
  part_spikes_.resize(n);
  whole_.resize(n);
  pending_.resize(n);
  needed_.assign(n, false);
  for (RegionId r = 0; r < n; ++r) {
    part_spikes_[r].resize(parts_[r].size());
    if (Hosts(parts_, r, me_)) hosted_.push_back(r);
  }
  for (RegionId s = 0; s < n; ++s) needed_[s] = NeedOf(router_, parts_, me_, s).any;
}

size_t PeerExchange::PartIndex(RegionId r, int worker) const {
  for (size_t k = 0; k < parts_[r].size(); ++k)
    if (parts_[r][k].worker == worker) return k;
  return kNoPart;
}

Status PeerExchange::Send(uint64_t epoch, const kernel::EpochDone& done) {
  for (auto& region : part_spikes_)
    for (auto& part : region) part.clear();
  for (RegionId r : hosted_) part_spikes_[r][PartIndex(r, me_)] = done.regions[r].spikes;
  static thread_local std::vector<flatbuffers::Offset<wire::RegionOutput>> outputs;
  for (const PeerSend& ps : plan_.sends) {
    out_.Clear();
    outputs.clear();
    for (size_t i = 0; i < ps.regions.size(); ++i) {
      const std::vector<kernel::Spike>& spikes = done.regions[ps.regions[i]].spikes;
      size_t count = spikes.size();
      if (!ps.all[i]) {
        count = 0;
        for (const kernel::Spike& s : spikes) count += kernel::SpikeRouter::Contains(ps.ranges[i], s.neuron) ? 1 : 0;
      }
      wire::Spike* sp = nullptr;
      auto vec = out_.CreateUninitializedVectorOfStructs(count, &sp);
      for (const kernel::Spike& s : spikes)
        if (ps.all[i] || kernel::SpikeRouter::Contains(ps.ranges[i], s.neuron)) *sp++ = wire::Spike(s.tick, s.neuron, 0);
      outputs.push_back(wire::CreateRegionOutput(out_, ps.regions[i], vec));
    }
    auto regions = out_.CreateVector(outputs);
    FinishMessage(&out_, wire::Payload::PeerSpikes, wire::CreatePeerSpikes(out_, epoch, me_, regions));
    THALIA_RETURN_IF_ERROR(link_->Send(ps.peer, Frame(out_)));
  }
  return Status::Ok();
}

Status PeerExchange::Receive(uint64_t epoch, kernel::Tick t0, kernel::Tick t1) {
  for (int peer : plan_.receives) {
    auto frame = link_->Receive(peer);
    if (!frame.ok()) return frame.status().Context("the spike exchange with worker " + std::to_string(peer));
    auto msg = DecodeFrame(frame.value());
    if (!msg.ok()) return Bad(peer, msg.status().message());
    const wire::PeerSpikes* m = msg.value()->payload_as_PeerSpikes();
    if (!m) return Bad(peer, std::string("expected PeerSpikes, got ") + wire::EnumNamePayload(msg.value()->payload_type()));
    if (m->epoch() != epoch || m->worker() != peer)
      return Bad(peer, "spikes of epoch " + std::to_string(m->epoch()) + " from worker " + std::to_string(m->worker()) +
                           " where epoch " + std::to_string(epoch) + " was due");
    if (!m->regions()) continue;
    for (const wire::RegionOutput* ro : *m->regions()) {
      const RegionId r = ro->region();
      const size_t k = r < parts_.size() ? PartIndex(r, peer) : kNoPart;
      if (k == kNoPart || !needed_[r]) return Bad(peer, "spikes of region " + std::to_string(r) + ", which it does not send");
      const PartPlace& part = parts_[r][k];
      std::vector<kernel::Spike>& dst = part_spikes_[r][k];
      dst.clear();
      if (!ro->spikes()) continue;
      if (ro->spikes()->size() != 0 && reinterpret_cast<uintptr_t>(ro->spikes()->Data()) % 8 != 0)
        return Bad(peer, "misaligned vector");
      kernel::Tick last = t0;
      for (const wire::Spike* s : *ro->spikes()) {
        if (s->neuron() < part.lo || s->neuron() >= part.hi || s->tick() < last || s->tick() >= t1)
          return Bad(peer, "a spike of region '" + spec_->regions[r].name + "' neuron " + std::to_string(s->neuron()) +
                               " at tick " + std::to_string(s->tick()) + " outside its part or the epoch, or out of order");
        last = s->tick();
        dst.push_back({s->tick(), s->neuron()});
      }
    }
  }
  // Each needed region's spikes as its parts together give them: in part order, ticks merged.
  for (RegionId s = 0; s < parts_.size(); ++s) {
    if (!needed_[s]) continue;
    whole_[s].clear();
    for (const auto& part : part_spikes_[s]) whole_[s].insert(whole_[s].end(), part.begin(), part.end());
    if (part_spikes_[s].size() > 1)
      std::stable_sort(whole_[s].begin(), whole_[s].end(),
                       [](const kernel::Spike& a, const kernel::Spike& b) { return a.tick < b.tick; });
  }
  // As the coordinator would route them, then a part's siblings' spikes in part order.
  for (RegionId t : hosted_) {
    std::vector<kernel::InSpike>& in = pending_[t];
    in.clear();
    router_.RouteTo(t, whole_, &in);
    if (parts_[t].size() < 2) continue;
    const size_t mine = PartIndex(t, me_);
    for (size_t k = 0; k < parts_[t].size(); ++k)
      if (k != mine)
        for (const kernel::Spike& s : part_spikes_[t][k]) in.push_back({s.tick, t, s.neuron});
  }
  return link_->Flush();
}

void PeerExchange::TakeInbound(RegionId r, std::vector<kernel::InSpike>* inbound) {
  std::vector<kernel::InSpike>& in = pending_[r];
  if (inbound->empty()) {
    inbound->swap(in);
  } else {
    // Only after a restored state: its spikes in flight come from the coordinator. Order within
    // an inbound list does not change a region's result (arrivals are keyed), but kept canonical.
    inbound->insert(inbound->end(), in.begin(), in.end());
    std::sort(inbound->begin(), inbound->end(), kernel::CanonicalOrder());
  }
  in.clear();
}

void PeerExchange::Clear() {
  for (auto& in : pending_) in.clear();
  for (auto& region : part_spikes_)
    for (auto& part : region) part.clear();
}

struct SocketPeerLink::Peer {
  int fd = -1;
  FrameReader reader;
  std::vector<uint8_t> out;  // bytes not yet written, from `sent` on
  size_t sent = 0;
  std::deque<std::vector<uint8_t>> frames;  // whole frames read, not yet received
};

SocketPeerLink::SocketPeerLink(std::vector<int> fds) {
  for (int fd : fds) {
    peers_.push_back(std::make_unique<Peer>());
    peers_.back()->fd = fd;
  }
}

SocketPeerLink::~SocketPeerLink() {
  for (auto& p : peers_)
    if (p->fd >= 0) ::close(p->fd);
}

Status SocketPeerLink::Send(int peer, std::span<const uint8_t> frame) {
  if (peer < 0 || static_cast<size_t>(peer) >= peers_.size() || peers_[peer]->fd < 0)
    return Status::Internal("no link to worker " + std::to_string(peer));
  Peer& p = *peers_[peer];
  if (p.sent == p.out.size()) {
    p.out.clear();
    p.sent = 0;
  }
  p.out.insert(p.out.end(), frame.begin(), frame.end());
  // What the socket takes now; the rest goes out while this worker waits (Pump).
  while (p.sent < p.out.size()) {
    ssize_t n = ::send(p.fd, p.out.data() + p.sent, p.out.size() - p.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return Status::Worker("cannot send spikes to worker " + std::to_string(peer) + ": " + std::strerror(errno));
    }
    p.sent += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status SocketPeerLink::Pump() {
  static thread_local std::vector<pollfd> fds;
  static thread_local std::vector<size_t> who;
  fds.clear();
  who.clear();
  for (size_t w = 0; w < peers_.size(); ++w) {
    Peer& p = *peers_[w];
    if (p.fd < 0) continue;
    fds.push_back({p.fd, static_cast<short>(POLLIN | (p.sent < p.out.size() ? POLLOUT : 0)), 0});
    who.push_back(w);
  }
  if (fds.empty()) return Status::Internal("a spike exchange without peers");
  // Peers usually answer within microseconds (the same epoch, on another core): look again
  // without sleeping for up to kSpinNs before sleeping in poll, since waking a sleeping process
  // costs tens of microseconds on a virtual machine, every epoch.
  int r = 0;
  for (const uint64_t until = kernel::ThreadPool::NowNs() + kSpinNs; r == 0;) {
    r = ::poll(fds.data(), fds.size(), 0);
    if (r != 0 || kernel::ThreadPool::NowNs() >= until) break;
  }
  if (r == 0) r = ::poll(fds.data(), fds.size(), -1);
  if (r < 0) {
    if (errno == EINTR) return Status::Ok();
    return Status::Worker(std::string("poll failed: ") + std::strerror(errno));
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    Peer& p = *peers_[who[i]];
    auto name = [&] { return "worker " + std::to_string(who[i]); };
    if (fds[i].revents & POLLOUT) {
      ssize_t n = ::send(p.fd, p.out.data() + p.sent, p.out.size() - p.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return Status::Worker("cannot send spikes to " + name() + ": " + std::strerror(errno));
      if (n > 0) p.sent += static_cast<size_t>(n);
    }
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto step = p.reader.ReadSome(p.fd);
      while (true) {
        if (!step.ok()) return step.status().Context("the spike exchange with " + name());
        if (step.value() == FrameReader::Step::kEof) return Status::Worker(name() + " closed its spike exchange");
        if (step.value() == FrameReader::Step::kNeedMore) break;
        std::span<const uint8_t> f = p.reader.frame();
        p.frames.emplace_back(f.begin(), f.end());
        if (!p.reader.HasBufferedFrame()) break;
        step = p.reader.ReadSome(p.fd);
      }
    }
  }
  return Status::Ok();
}

Result<std::span<const uint8_t>> SocketPeerLink::Receive(int peer) {
  if (peer < 0 || static_cast<size_t>(peer) >= peers_.size() || peers_[peer]->fd < 0)
    return Status::Internal("no link to worker " + std::to_string(peer));
  Peer& p = *peers_[peer];
  while (p.frames.empty()) THALIA_RETURN_IF_ERROR(Pump());
  // An 8-aligned copy (DecodeFrame's need): vector storage from the heap is.
  in_.swap(p.frames.front());
  p.frames.pop_front();
  return std::span<const uint8_t>(in_.data(), in_.size());
}

Status SocketPeerLink::Flush() {
  auto pending = [&] {
    for (const auto& p : peers_)
      if (p->fd >= 0 && p->sent < p->out.size()) return true;
    return false;
  };
  while (pending()) THALIA_RETURN_IF_ERROR(Pump());
  return Status::Ok();
}

}  // namespace thalia::transport
