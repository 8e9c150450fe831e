// Spike delivery: every event arrives exactly `delay` ticks after its spike (per-synapse jittered
// delays too), events are applied in one canonical order however they are given or cut into
// epochs, batch_window_ms never changes results, and a region's random stream does not depend
// on which other regions exist.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "kernel/brain.h"
#include "kernel/delay_queue.h"
#include "kernel/random.h"
#include "tests/kernel/kernel_test_util.h"
#include "tests/test_util.h"

namespace thalia::kernel {
namespace {

using testing::RegionDriver;
using testing::SpecFromJson;

constexpr const char* kDeltaNeuron =
    R"("neuron": {"synapse": "Delta", "v_rest": 0, "v_reset": 0, "v_thresh": 10, "v_init": 0})";

// One source neuron projecting onto `targets` neurons with one synapse each.
std::string DelayBrain(int targets, const std::string& delay, const std::string& jitter) {
  return std::string(R"({"regions": [{"name": "r", "type": "generic", "populations": [
    {"name": "src", "size": 1, )") + kDeltaNeuron + R"(},
    {"name": "dst", "size": )" + std::to_string(targets) + ", " + kDeltaNeuron + R"(}],
    "pathways": [{"from": "src", "to": "dst", "indegree": 1, "weight": 1, "delay_ms": )" + delay +
         R"(, "delay_jitter_ms": )" + jitter + "}]}]}";
}

// First tick at which each neuron's potential is non-zero, running one tick per epoch.
std::vector<int64_t> FirstEffect(RegionDriver& d, uint32_t first, uint32_t count, Tick spike_at,
                                 Tick until) {
  std::vector<int64_t> seen(count, -1);
  for (Tick t = 0; t < until; ++t) {
    std::vector<ExternalInput> in;
    if (t == spike_at) in.push_back({t, 0, 50.0f, ExternalInput::kSpike});  // source fires now
    auto spikes = d.Run(t + 1, {}, in);
    if (t == spike_at) {
      EXPECT_EQ(spikes.size(), 1u);
    }
    for (uint32_t i = 0; i < count; ++i)
      if (seen[i] < 0 && d.region().Voltage(first + i) != 0.0f) seen[i] = static_cast<int64_t>(t);
  }
  return seen;
}

TEST(Delivery, EventArrivesExactlyDelayTicksAfterTheSpike) {
  for (const char* delay : {"0.1", "1.0", "2.5", "7.3"}) {
    RegionDriver d(SpecFromJson(DelayBrain(1, delay, "0")), 0);
    const Tick spike_at = 13;
    auto seen = FirstEffect(d, 1, 1, spike_at, 120);
    EXPECT_EQ(seen[0], static_cast<int64_t>(spike_at + MsToTicks(std::stod(delay), 0.1))) << delay;
  }
}

TEST(Delivery, JitteredDelaysArriveAtEachSynapsesOwnTick) {
  const uint32_t n = 200;
  auto spec = SpecFromJson(DelayBrain(n, "2.0", "1.0"));
  RegionDriver d(spec, 0);
  const Tick spike_at = 5;
  auto seen = FirstEffect(d, 1, n, spike_at, 60);
  // The documented rule (schemas/config.fbs): delay uniform in [delay - j, delay + j], drawn from the
  // pathway's stream with the third word of the target's connection draw, rounded to ticks.
  const PathwaySpec& p = spec->regions[0].pathways[0];
  RandomStream rng(spec->seed, RandomStream::HashName(p.name));
  std::vector<int> distinct;
  for (uint32_t t = 0; t < n; ++t) {
    auto w = rng.Draw(t, 0, Purpose::kConnect, 0);
    double ms = 2.0 + 1.0 * (2.0 * RandomStream::Uniform(w[2]) - 1.0);
    int64_t delay = static_cast<int64_t>(MsToTicks(ms, 0.1));
    ASSERT_GE(delay, 10);
    ASSERT_LE(delay, 30);
    EXPECT_EQ(seen[t], static_cast<int64_t>(spike_at) + delay) << "target " << t;
    distinct.push_back(static_cast<int>(delay));
  }
  std::sort(distinct.begin(), distinct.end());
  EXPECT_GT(std::unique(distinct.begin(), distinct.end()) - distinct.begin(), 15);
}

TEST(Delivery, InterRegionSpikeArrivesAfterThePathwayDelay) {
  const std::string neuron = kDeltaNeuron;
  auto spec = SpecFromJson(R"({"regions": [
    {"name": "a", "type": "generic", "populations": [{"name": "p", "size": 1, )" + neuron + R"(}]},
    {"name": "b", "type": "generic", "populations": [{"name": "p", "size": 3, )" + neuron + R"(}]}],
    "pathways": [{"from": "a", "to": "b", "indegree": 1, "weight": 20, "delay_ms": 3.7}]})");
  RunOptions o;
  o.keep_spikes = true;
  auto brain = Brain::Create(spec, o);
  ASSERT_TRUE(brain.ok());
  ASSERT_TRUE((*brain)->InjectSpike(0, 0, 50.0f, 42).ok());
  ASSERT_TRUE((*brain)->RunUntil(200).ok());
  auto a = (*brain)->TakeSpikes(0), b = (*brain)->TakeSpikes(1);
  ASSERT_EQ(a, (std::vector<Spike>{{42, 0}}));
  ASSERT_EQ(b.size(), 3u);
  for (const Spike& s : b) EXPECT_EQ(s.tick, 42u + 37u);
}

// A region receiving a fixed set of inbound spikes from two source regions.
std::shared_ptr<const BrainSpec> InboundBrain() {
  return SpecFromJson(R"({"seed": 7, "regions": [
    {"name": "x", "type": "generic", "size": 50, "populations": [{"name": "p", "size": 50}]},
    {"name": "y", "type": "generic", "size": 50, "populations": [{"name": "p", "size": 50}]},
    {"name": "t", "type": "generic", "populations": [
      {"name": "e", "size": 80, "neuron": {"v_init_jitter": 14, "bias": 12}},
      {"name": "i", "size": 20, "excitatory": false, "neuron": {"bias": 12}}],
     "pathways": [{"from": "e", "to": "i", "indegree": 10, "weight": 0.3, "delay_ms": 1},
                  {"from": "i", "to": "e", "indegree": 10, "weight": 0.5, "delay_ms": 1,
                   "delay_jitter_ms": 0.5},
                  {"from": "e", "to": "e", "indegree": 10, "weight": 0.05, "delay_ms": 1.5,
                   "plasticity": "Stdp"}]}],
    "pathways": [{"from": "x", "to": "t.e", "indegree": 8, "weight": 0.2, "delay_ms": 2,
                  "delay_jitter_ms": 1, "weight_jitter": 0.5},
                 {"from": "y", "to": "t.e", "indegree": 8, "weight": 0.3, "delay_ms": 1.2}]})");
}

std::vector<InSpike> SomeInbound(Tick until) {
  std::vector<InSpike> in;
  std::mt19937 gen(3);
  for (Tick t = 0; t < until; ++t)
    for (RegionId r = 0; r < 2; ++r)
      for (NeuronId n = 0; n < 50; ++n)
        if (gen() % 40 == 0) in.push_back({t, r, n});
  std::sort(in.begin(), in.end(), CanonicalOrder());
  return in;
}

struct Outcome {
  std::vector<Spike> spikes;
  uint64_t digest;
};

// Runs region t through [0, until) in epochs of `epoch` ticks (at most the smallest inbound delay,
// as the coordinator guarantees); each inbound spike is handed over at the start of the first epoch
// after its tick, as the coordinator does, in the order given.
Outcome RunCut(const std::vector<InSpike>& in, Tick epoch, Tick until) {
  RegionDriver d(InboundBrain(), 2);
  Outcome o;
  for (Tick t0 = 0; t0 < until; t0 += epoch) {
    Tick t1 = std::min(until, t0 + epoch);
    std::vector<InSpike> now;
    for (const InSpike& s : in)
      if (s.tick + epoch >= t0 && s.tick < t0) now.push_back(s);
    auto sp = d.Run(t1, now);
    o.spikes.insert(o.spikes.end(), sp.begin(), sp.end());
  }
  o.digest = d.region().Digest(true);
  return o;
}

TEST(Delivery, AnInboundSpikeThatWouldArriveInThePastIsRefusedNotAborted) {
  // Region t receives y with a 1.2 ms (12-tick) delay: a spike of tick 10 handed over at tick 100
  // could only come from a damaged message.
  RegionDriver d(InboundBrain(), 2);
  d.Run(100);
  try {
    d.Run(130, {{10, 1, 3}});
    FAIL() << "the spike was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("would arrive at tick 22, before the epoch's first tick 100"),
              std::string::npos)
        << e.what();
  }
}

// A slot filled by any sequence of pushes (sorted runs of any length, a few or many of them, with
// repeated keys) comes out in exactly std::sort's order, and the scratch carries nothing over.
RC_GTEST_PROP(CanonicalOrder, SlotMergeOfRunsEqualsASort, ()) {
  MergeScratch scratch;
  for (int round = 0; round < 3; ++round) {
    const auto keys = *rc::gen::container<std::vector<uint64_t>>(
        rc::gen::oneOf(rc::gen::inRange<uint64_t>(0, 50), rc::gen::arbitrary<uint64_t>()));
    const size_t runs = *rc::gen::inRange<size_t>(1, 60);
    std::vector<uint64_t> pushed;  // `runs` sorted pieces of the keys, in a random split
    for (size_t r = 0; r < runs; ++r) {
      const size_t b = keys.size() * r / runs, e = keys.size() * (r + 1) / runs;
      std::vector<uint64_t> piece(keys.begin() + b, keys.begin() + e);
      if (*rc::gen::arbitrary<bool>()) std::sort(piece.begin(), piece.end());
      pushed.insert(pushed.end(), piece.begin(), piece.end());
    }
    ArrivalSlot slot;
    for (uint64_t k : pushed) slot.Push(k);
    SortArrivals(&slot, &scratch);
    std::sort(pushed.begin(), pushed.end());
    RC_ASSERT(slot.keys == pushed);
    RC_ASSERT(slot.run_starts.empty());
  }
}

TEST(CanonicalOrder, InboundOrderAndEpochCutsDoNotChangeResults) {
  const Tick until = 3000;
  // No inbound spike in the last 10 ticks, so every cut has handed all of them over by the end.
  auto in = SomeInbound(until - 10);
  Outcome ref = RunCut(in, 10, until);  // 10 ticks: the smallest delay from x and y
  ASSERT_GT(ref.spikes.size(), 100u);
  // Reversed and shuffled inbound lists, and other epoch lengths, give the same bits.
  auto reversed = in;
  std::reverse(reversed.begin(), reversed.end());
  auto shuffled = in;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(11));
  for (const auto* list : {&in, &reversed, &shuffled}) {
    for (Tick epoch : {1, 2, 3, 7, 10}) {
      Outcome o = RunCut(*list, epoch, until);
      EXPECT_EQ(o.spikes, ref.spikes) << "epoch " << epoch;
      EXPECT_EQ(o.digest, ref.digest) << "epoch " << epoch;
    }
  }
}

std::string WithTopField(std::string json, const std::string& field) {
  json.insert(json.find('{') + 1, field + ",");
  return json;
}

std::string ReadExample(const std::string& name) {
  std::ifstream f(thalia::testing::ExamplePath(name));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Spikes of every region, and the combined digest.
std::pair<std::vector<std::vector<Spike>>, uint64_t> RunBrain(
    const std::shared_ptr<const BrainSpec>& spec, Tick until) {
  RunOptions o;
  o.keep_spikes = true;
  auto b = Brain::Create(spec, o);
  EXPECT_TRUE(b.ok());
  EXPECT_TRUE((*b)->RunUntil(until).ok());
  std::vector<std::vector<Spike>> spikes;
  for (RegionId r = 0; r < spec->regions.size(); ++r) spikes.push_back((*b)->TakeSpikes(r));
  return {spikes, (*b)->Digest().value()};
}

TEST(CanonicalOrder, BatchWindowCapDoesNotChangeSpikesOrDigest) {
  const std::string tiny = ReadExample("tiny.json");
  auto base = SpecFromJson(tiny);
  ASSERT_GT(base->epoch_ticks, 20u);
  const Tick until = 3000;
  auto ref = RunBrain(base, until);
  for (const auto& s : ref.first) ASSERT_FALSE(s.empty());
  for (const char* cap : {"0.1", "0.3", "1.0", "2.5"}) {
    auto spec = SpecFromJson(WithTopField(tiny, std::string("\"batch_window_ms\": ") + cap));
    ASSERT_LT(spec->epoch_ticks, base->epoch_ticks);
    auto o = RunBrain(spec, until);
    EXPECT_EQ(o.first, ref.first) << "cap " << cap;
    EXPECT_EQ(o.second, ref.second) << "cap " << cap;
  }
}

TEST(RandomStreams, RegionSpikesDoNotDependOnOtherRegions) {
  // The cortex alone, and the cortex placed second among other regions that it projects to (none
  // projects back): its spikes and state are the same bits.
  auto alone = SpecFromJson(R"({"seed": 5, "regions": [{"name": "cortex", "type": "cortex", "size": 300}]})");
  auto crowd = SpecFromJson(R"({"seed": 5, "regions": [
    {"name": "striatum", "type": "striatum", "size": 200},
    {"name": "cortex", "type": "cortex", "size": 300},
    {"name": "pfc", "type": "pfc", "size": 200}],
    "pathways": [{"from": "cortex", "to": "striatum", "indegree": 20, "weight": 0.05, "delay_ms": 2},
                 {"from": "cortex", "to": "pfc", "indegree": 20, "weight": 0.05, "delay_ms": 1},
                 {"from": "striatum", "to": "pfc", "indegree": 20, "weight": 0.05, "delay_ms": 1}]})");
  const Tick until = 4000;
  RunOptions o;
  o.keep_spikes = true;
  auto a = Brain::Create(alone, o);
  auto c = Brain::Create(crowd, o);
  ASSERT_TRUE(a.ok() && c.ok());
  ASSERT_TRUE((*a)->RunUntil(until).ok());
  ASSERT_TRUE((*c)->RunUntil(until).ok());
  auto sa = (*a)->TakeSpikes(0);
  EXPECT_GT(sa.size(), 100u);
  EXPECT_EQ(sa, (*c)->TakeSpikes(1));
  EXPECT_EQ((*a)->RegionDigests().value()[0], (*c)->RegionDigests().value()[1]);
  EXPECT_GT((*c)->TakeSpikes(2).size(), 0u);
}

}  // namespace
}  // namespace thalia::kernel
