// The direct spike exchange (transport/peer_exchange.h) without MPI: every worker of a placement
// runs in this process, their frames pass through in-memory queues, and the spikes of every
// region, epoch by epoch, must be the sequential run's. The plan must be symmetric: a worker
// waits for exactly the peers that send to it.
#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "kernel/executor.h"
#include "kernel/modulators.h"
#include "kernel/registry.h"
#include "tests/transport/transport_test_util.h"
#include "transport/peer_exchange.h"
#include "transport/placement.h"
#include "transport/worker.h"

namespace thalia::transport {
namespace {

using kernel::Spike;

// Frames between workers of one process, kept in order per (sender, receiver).
struct Hub {
  std::map<std::pair<int, int>, std::deque<std::vector<uint8_t>>> queues;
};

class MemoryLink final : public PeerLink {
 public:
  MemoryLink(Hub* hub, int me) : hub_(hub), me_(me) {}
  Status Send(int peer, std::span<const uint8_t> frame) override {
    hub_->queues[{me_, peer}].emplace_back(frame.begin(), frame.end());
    return Status::Ok();
  }
  Result<std::span<const uint8_t>> Receive(int peer) override {
    auto& q = hub_->queues[{peer, me_}];
    if (q.empty()) return Status::Internal("worker " + std::to_string(peer) + " sent nothing");
    in_ = std::move(q.front());
    q.pop_front();
    return std::span<const uint8_t>(in_.data(), in_.size());
  }

 private:
  Hub* hub_;
  int me_;
  std::vector<uint8_t> in_;
};

// Runs `spec` to `until` on the workers of `parts`, each a set of region parts with its own
// PeerExchange, as MPI worker ranks would (no coordinator routes anything); returns every
// region's spikes, joined from its parts.
std::vector<std::vector<Spike>> RunOverPeers(std::shared_ptr<const kernel::BrainSpec> spec, const PartPlacement& parts,
                                             kernel::Tick until) {
  const size_t n = spec->regions.size();
  int workers = 0;
  kernel::Tick epoch_ticks = spec->epoch_ticks;
  for (RegionId r = 0; r < n; ++r) {
    for (const PartPlace& p : parts[r]) workers = std::max(workers, p.worker + 1);
    if (parts[r].size() > 1) epoch_ticks = std::min(epoch_ticks, kernel::MinInternalDelayTicks(spec->regions[r], spec->dt_ms));
  }
  Hub hub;
  std::vector<std::unique_ptr<MemoryLink>> links;
  std::vector<std::unique_ptr<PeerExchange>> peers;
  std::vector<std::vector<std::unique_ptr<kernel::Region>>> regions(workers);
  std::vector<std::vector<RegionId>> hosted(workers);
  for (int w = 0; w < workers; ++w) {
    links.push_back(std::make_unique<MemoryLink>(&hub, w));
    peers.push_back(std::make_unique<PeerExchange>(spec, parts, w, links.back().get()));
    regions[w].resize(n);
    std::vector<uint32_t> lo, hi;
    for (RegionId r = 0; r < n; ++r)
      for (const PartPlace& p : parts[r])
        if (p.worker == w) {
          regions[w][r] = kernel::BuildRegion(*spec, r);
          hosted[w].push_back(r);
          lo.push_back(p.lo);
          hi.push_back(p.hi);
        }
    EXPECT_TRUE(RestrictToParts(regions[w], hosted[w], lo, hi).ok());
  }
  kernel::ModulatorModel model(*spec);
  kernel::ModulatorState mods = model.Initial();
  std::vector<std::vector<Spike>> got(n);
  std::vector<kernel::EpochDone> done(workers);
  for (auto& d : done) d.regions.resize(n);
  size_t next_event = 0;
  uint64_t epoch = 0;
  for (kernel::Tick t0 = 0; t0 < until; t0 += epoch_ticks, ++epoch) {
    const kernel::Tick t1 = std::min(until, t0 + epoch_ticks);
    std::vector<kernel::ModulatorEvent> events;
    for (; next_event < spec->events.size() && spec->events[next_event].tick < t1; ++next_event) {
      const kernel::ModulatorEventSpec& e = spec->events[next_event];
      events.push_back({std::max(e.tick, t0), e.modulator, e.amount});
    }
    kernel::EpochContext ctx{epoch, t0, t1, mods, events};
    for (int w = 0; w < workers; ++w) {
      for (RegionId r : hosted[w]) {
        std::vector<kernel::InSpike> inbound;
        peers[w]->TakeInbound(r, &inbound);
        Status st = kernel::AdvanceRegion(*regions[w][r], ctx, inbound, {}, false, &done[w].regions[r]);
        EXPECT_TRUE(st.ok()) << st.message();
      }
      EXPECT_TRUE(peers[w]->Send(epoch, done[w]).ok());
    }
    for (int w = 0; w < workers; ++w) {
      Status st = peers[w]->Receive(epoch, t0, t1);
      EXPECT_TRUE(st.ok()) << st.message();
    }
    for (const auto& [link, queue] : hub.queues) EXPECT_TRUE(queue.empty()) << "an unread frame";
    for (RegionId r = 0; r < n; ++r) {
      const size_t first = got[r].size();
      for (const PartPlace& p : parts[r]) {
        const auto& s = done[p.worker].regions[r].spikes;
        got[r].insert(got[r].end(), s.begin(), s.end());
      }
      std::stable_sort(got[r].begin() + static_cast<std::ptrdiff_t>(first), got[r].end(),
                       [](const Spike& a, const Spike& b) { return a.tick < b.tick; });
    }
    for (const kernel::ModulatorEvent& e : events) model.Apply(&mods, e);
  }
  return got;
}

void ExpectSameSpikes(const char* example, const std::vector<std::vector<int>>& split, int workers,
                      kernel::Tick until) {
  auto spec = testing::LoadExample(example);
  kernel::RunOptions seq;
  seq.workers = 0;
  testing::RunResult want = testing::RunFor(spec, seq, until);
  ASSERT_EQ(want.error, "");
  auto parts = PlaceParts(*spec, EstimateCosts(*spec), workers, {}, split);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  auto got = RunOverPeers(spec, parts.value(), until);
  for (RegionId r = 0; r < spec->regions.size(); ++r) {
    ASSERT_FALSE(want.spikes[r].empty()) << spec->regions[r].name;
    EXPECT_EQ(got[r], want.spikes[r]) << "region " << spec->regions[r].name;
  }
}

TEST(PeerExchange, RegionsOnTwoWorkersGetTheSequentialSpikes) {
  ExpectSameSpikes("tiny.json", {{0}, {1}, {0}, {1}, {0}}, 2, 1500);
}

TEST(PeerExchange, RegionsSplitOverThreeWorkersGetTheSequentialSpikes) {
  ExpectSameSpikes("tiny.json", {{0, 1}, {2}, {1, 2, 0}, {0}, {2, 1}}, 3, 1500);
}

TEST(PeerExchange, OneRegionInThreePartsGetsTheSequentialSpikes) {
  ExpectSameSpikes("brunel.json", {{0, 1, 2}}, 3, 300);
}

// Who sends to whom: symmetric, and only where a peer has targets (or a sibling part).
TEST(PeerExchange, APlanSendsOnlyWhereThePeerListens) {
  auto spec = testing::LoadExample("brain.json");
  kernel::SpikeRouter router(*spec);
  for (int workers : {2, 4, 7}) {
    auto parts = PlaceParts(*spec, EstimateCosts(*spec), workers, {}, {});
    ASSERT_TRUE(parts.ok());
    int used = 0;
    for (const auto& region : parts.value())
      for (const PartPlace& p : region) used = std::max(used, p.worker + 1);
    std::vector<PeerPlan> plans;
    for (int w = 0; w < used; ++w) plans.push_back(PlanPeers(*spec, router, parts.value(), w));
    for (int a = 0; a < used; ++a)
      for (int b = 0; b < used; ++b) {
        if (a == b) continue;
        bool sends = false;
        for (const PeerSend& s : plans[a].sends) sends = sends || s.peer == b;
        const auto& rx = plans[b].receives;
        EXPECT_EQ(sends, std::find(rx.begin(), rx.end(), a) != rx.end()) << a << " -> " << b << " of " << used;
      }
  }
  // One region alone on worker 1: it sends worker 0 that region's spikes only, and only of the
  // neurons with synapses onto worker 0's regions.
  PartPlacement apart(spec->regions.size());
  for (RegionId r = 0; r < apart.size(); ++r) apart[r] = {{0, 0, spec->regions[r].size}};
  apart[0][0].worker = 1;
  const PeerPlan one = PlanPeers(*spec, router, apart, 1);
  for (const PeerSend& s : one.sends) {
    ASSERT_EQ(s.regions.size(), 1u);
    EXPECT_EQ(s.regions[0], 0u);
    EXPECT_FALSE(s.all[0]);
  }
}

// A peer's frame from another epoch, or naming a region it does not send, is refused.
TEST(PeerExchange, AFrameFromAnotherEpochIsRefused) {
  auto spec = testing::LoadExample("tiny.json");
  auto parts = PlaceParts(*spec, EstimateCosts(*spec), 2, {0, 1, 0, 1, 0}, {});
  ASSERT_TRUE(parts.ok());
  Hub hub;
  MemoryLink l0(&hub, 0), l1(&hub, 1);
  PeerExchange p0(spec, parts.value(), 0, &l0), p1(spec, parts.value(), 1, &l1);
  ASSERT_FALSE(p0.plan().sends.empty());
  ASSERT_EQ(p0.plan().sends[0].peer, 1);
  const RegionId region = p0.plan().sends[0].regions[0];
  const kernel::NeuronId neuron = p0.plan().sends[0].all[0] ? 0 : p0.plan().sends[0].ranges[0][0].first;
  kernel::EpochDone done;
  done.regions.resize(spec->regions.size());
  ASSERT_TRUE(p0.Send(5, done).ok());
  Status st = p1.Receive(6, 60, 90);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("epoch 5"), std::string::npos) << st.message();
  done.regions[region].spikes.push_back({95, neuron});  // after the epoch's end
  ASSERT_TRUE(p0.Send(6, done).ok());
  st = p1.Receive(6, 60, 90);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("outside its part or the epoch"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace thalia::transport
