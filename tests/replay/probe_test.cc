// Probes on replay: a region advanced tick by tick ends as one epoch leaves it; the probed v of a
// run recorded with workers is the v an in-process run stepping one tick at a time holds; probed
// spikes are threshold crossings with a reset; a probe from a mid-run checkpoint gives the values
// a probe from the start gives; probed incoming plastic weights (w_in) are the weights of an
// in-process run, read through PlasticInputs, which names every plastic synapse once whatever the
// split; bad probes are refused as bad input.
#include "replay/probe.h"

#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "kernel/population_region.h"
#include "kernel/registry.h"
#include "kernel/state_codec.h"
#include "recorder/checkpoint.h"
#include "recorder/checkpoint_series.h"
#include "replay/probe_output.h"
#include "replay/replayer.h"
#include "tests/recorder/trace_test_util.h"
#include "transport/install.h"

namespace thalia::replay {
namespace {

using kernel::Tick;
using testing::TempDir;

constexpr Tick kTicks = 900;
const std::vector<std::string> kProbes = {"cortex:0-5,333:v,refractory", "pfc:150-155,7:v,refractory"};

class ProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    transport::Install();
    spec_ = testing::LoadExample("tiny.json");
  }
  // Records kTicks with two forked workers; `checkpoint_at` (if not 0): the tick at which a
  // checkpoint is saved into dir_/ck.
  std::string Record(Tick checkpoint_at = 0) {
    kernel::RunOptions opts;
    opts.workers = 2;
    const std::string path = dir_.File("run.trace");
    std::filesystem::create_directories(dir_.File("ck"));
    auto drive = [&](kernel::Brain& b) {
      if (checkpoint_at != 0 && b.tick() == checkpoint_at) {
        ASSERT_TRUE(recorder::SaveCheckpoint(b, recorder::CheckpointPath(dir_.File("ck"), b.epoch())).ok());
      }
    };
    brain_ = testing::RecordRun(spec_, path, kTicks, opts, {}, drive, checkpoint_at ? checkpoint_at : kTicks);
    return path;
  }
  ReplayResult ReplayWith(const std::string& path, ReplayOptions o) {
    if (o.probes.empty()) o.probes = kProbes;
    auto r = Replay(path, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return {};
    EXPECT_FALSE(r->divergence) << Describe(r.value());
    return std::move(r).value();
  }
  TempDir dir_;
  std::shared_ptr<const kernel::BrainSpec> spec_;
  std::unique_ptr<kernel::Brain> brain_;
};

// The striatum has a dopamine-gated plastic pathway: a dopamine event and external input inside
// the epoch exercise the carried modulator state and the split of inputs by tick.
TEST_F(ProbeTest, ARegionAdvancedTickByTickEndsAsOneEpochLeavesIt) {
  const kernel::RegionId r = static_cast<kernel::RegionId>(spec_->RegionIndex("striatum"));
  auto whole = kernel::BuildRegion(*spec_, r);
  auto split = kernel::BuildRegion(*spec_, r);
  const kernel::ModulatorModel model(*spec_);
  kernel::ModulatorState m = model.Initial();
  std::vector<kernel::Spike> out_whole, out_split;
  const Tick len = spec_->epoch_ticks;
  for (Tick t0 = 0; t0 < 40 * len; t0 += len) {
    const std::vector<kernel::ModulatorEvent> events = {{t0 + 1, 0, 0.8f}, {t0 + len - 1, 0, -0.3f}};
    const std::vector<kernel::ExternalInput> external = {{t0, 3, 5.0f, kernel::ExternalInput::kSpike},
                                                         {t0 + 2, 9, 30.0f, kernel::ExternalInput::kCurrent},
                                                         {t0 + 2, 10, -2.0f, kernel::ExternalInput::kSpike}};
    const kernel::EpochContext ctx{t0 / len, t0, t0 + len, m, events};
    whole->Advance(ctx, {}, external, &out_whole);
    Tick seen = t0;
    AdvanceTickByTick(*split, model, ctx, {}, external, &out_split, [&](Tick t) { ASSERT_EQ(t, seen++); });
    ASSERT_EQ(seen, t0 + len);
    for (const auto& e : events) model.Apply(&m, e);
    ASSERT_EQ(split->Digest(true), whole->Digest(true)) << "epoch starting at tick " << t0;
  }
  EXPECT_EQ(out_split, out_whole);
  EXPECT_GT(out_whole.size(), 50u) << "the region must fire for the comparison to mean anything";
}

// v of `neurons` of region `r`, read from the brain's captured state through PopulationRegion's
// own accessor (not through the probe code under test).
std::vector<float> VoltagesOf(kernel::Brain& brain, kernel::Region& scratch, const std::vector<uint32_t>& neurons) {
  auto state = brain.CaptureState();
  EXPECT_TRUE(state.ok());
  EXPECT_TRUE(kernel::LoadRegionState(scratch, state->regions[scratch.spec().id]).ok());
  auto& pop = dynamic_cast<kernel::PopulationRegion&>(scratch);
  std::vector<float> v;
  for (uint32_t n : neurons) v.push_back(pop.Voltage(n));
  return v;
}

TEST_F(ProbeTest, ProbedVoltageIsTheVoltageOfARunSteppingTickByTick) {
  const std::string path = Record();
  const ReplayResult probed = ReplayWith(path, {});
  ASSERT_EQ(probed.probes.ticks.size(), kTicks);
  const std::vector<std::pair<std::string, std::vector<uint32_t>>> wanted = {
      {"cortex", {0, 1, 2, 3, 4, 5, 333}}, {"pfc", {7, 150, 151, 152, 153, 154, 155}}};
  kernel::RunOptions opts;
  opts.keep_spikes = true;
  auto brain = kernel::Brain::Create(spec_, opts).value();
  std::vector<std::unique_ptr<kernel::Region>> scratch;
  for (const auto& [name, neurons] : wanted)
    scratch.push_back(kernel::BuildRegion(*spec_, static_cast<kernel::RegionId>(spec_->RegionIndex(name))));
  for (size_t k = 0; k < kTicks; ++k) {
    ASSERT_TRUE(brain->RunUntil(brain->tick() + 1).ok());
    ASSERT_EQ(probed.probes.ticks[k], brain->tick() - 1);
    for (size_t i = 0; i < wanted.size(); ++i) {
      const std::vector<float> v = VoltagesOf(*brain, *scratch[i], wanted[i].second);
      for (size_t j = 0; j < v.size(); ++j) {
        const ProbeSeries* s = probed.probes.Find(wanted[i].first, "v", wanted[i].second[j]);
        ASSERT_NE(s, nullptr);
        ASSERT_EQ(std::bit_cast<uint32_t>(static_cast<float>(s->values[k])), std::bit_cast<uint32_t>(v[j]))
            << wanted[i].first << " neuron " << wanted[i].second[j] << " tick " << probed.probes.ticks[k];
      }
    }
  }
}

// At a spike tick the neuron was below threshold and not refractory one tick before, and is reset
// and refractory after it; a refractory period never starts without a spike.
TEST_F(ProbeTest, EveryProbedSpikeIsAThresholdCrossingWithAReset) {
  const ReplayResult probed = ReplayWith(Record(), {});
  const std::vector<Tick>& ticks = probed.probes.ticks;
  size_t spikes = 0;
  for (const ProbeSpikes& sp : probed.probes.spikes) {
    const kernel::RegionSpec& region = spec_->regions[spec_->RegionIndex(sp.region)];
    const kernel::PopulationSpec* pop = nullptr;
    for (const kernel::PopulationSpec& p : region.populations)
      if (sp.neuron >= p.offset && sp.neuron < p.offset + p.size) pop = &p;
    ASSERT_NE(pop, nullptr);
    const std::vector<double>& v = probed.probes.Find(sp.region, "v", sp.neuron)->values;
    const std::vector<double>& refr = probed.probes.Find(sp.region, "refractory", sp.neuron)->values;
    std::vector<Tick> starts;  // ticks where a refractory period begins
    for (size_t k = 1; k < ticks.size(); ++k)
      if (refr[k] > refr[k - 1]) starts.push_back(ticks[k]);
    std::vector<Tick> spiked;
    for (Tick t : sp.ticks)
      if (t > ticks.front()) spiked.push_back(t);
    EXPECT_EQ(spiked, starts) << sp.region << " neuron " << sp.neuron;
    for (Tick t : spiked) {
      const size_t k = t - ticks.front();
      EXPECT_LT(v[k - 1], pop->neuron.v_thresh) << sp.region << " " << sp.neuron << " tick " << t;
      EXPECT_EQ(refr[k - 1], 0);
      EXPECT_EQ(static_cast<float>(v[k]), pop->neuron.v_reset);
      EXPECT_GT(refr[k], 0);
    }
    spikes += spiked.size();
  }
  EXPECT_GT(spikes, 10u) << "the probed neurons must fire for this test to mean anything";
}

TEST_F(ProbeTest, AProbeFromAMidRunCheckpointGivesTheValuesOfAProbeFromTheStart) {
  const std::string path = Record(/*checkpoint_at=*/300);
  const ReplayResult full = ReplayWith(path, {});
  auto list = recorder::ListCheckpoints(dir_.File("ck"));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  ReplayOptions o;
  o.from_epoch = list->front().epoch + 3;  // the replay starts at the checkpoint, probes 3 epochs later
  o.checkpoint_dir = dir_.File("ck");
  const ReplayResult part = ReplayWith(path, o);
  ASSERT_EQ(part.first_epoch, list->front().epoch);
  ASSERT_FALSE(part.probes.ticks.empty());
  const Tick from = part.probes.ticks.front();
  ASSERT_GT(from, 300u);
  ASSERT_EQ(part.probes.ticks.back(), kTicks - 1);
  const size_t offset = from - full.probes.ticks.front();
  ASSERT_EQ(part.probes.series.size(), full.probes.series.size());
  for (size_t i = 0; i < full.probes.series.size(); ++i) {
    const std::vector<double>& whole = full.probes.series[i].values;
    EXPECT_EQ(part.probes.series[i].values, std::vector<double>(whole.begin() + offset, whole.end()))
        << full.probes.series[i].region << ":" << full.probes.series[i].index << ":" << full.probes.series[i].var;
  }
  for (size_t i = 0; i < full.probes.spikes.size(); ++i) {
    std::vector<Tick> later;
    for (Tick t : full.probes.spikes[i].ticks)
      if (t >= from) later.push_back(t);
    EXPECT_EQ(part.probes.spikes[i].ticks, later);
  }
}

TEST_F(ProbeTest, AProbeFromATimeStartsAtThatTickFromTheCheckpointBeforeIt) {
  const std::string path = Record(/*checkpoint_at=*/300);
  const ReplayResult full = ReplayWith(path, {});
  ReplayOptions o;
  o.from_ms = 45.3;  // tick 453
  o.checkpoint_dir = dir_.File("ck");
  const ReplayResult part = ReplayWith(path, o);
  EXPECT_FALSE(part.started_from.empty());
  ASSERT_EQ(part.probes.ticks.front(), 453u);
  ASSERT_EQ(part.probes.ticks.size(), kTicks - 453);
  for (size_t i = 0; i < full.probes.series.size(); ++i) {
    const std::vector<double>& whole = full.probes.series[i].values;
    EXPECT_EQ(part.probes.series[i].values, std::vector<double>(whole.begin() + 453, whole.end()));
  }
}

TEST_F(ProbeTest, ProbeEverySamplesTheTicksThatAreItsMultiples) {
  const std::string path = Record();
  const ReplayResult every = ReplayWith(path, {});
  ReplayOptions o;
  o.probe_every = 7;
  const ReplayResult sparse = ReplayWith(path, o);
  ASSERT_EQ(sparse.probes.ticks.size(), (kTicks + 6) / 7);
  for (size_t k = 0; k < sparse.probes.ticks.size(); ++k) {
    ASSERT_EQ(sparse.probes.ticks[k], 7 * k);
    for (size_t i = 0; i < every.probes.series.size(); ++i)
      ASSERT_EQ(sparse.probes.series[i].values[k], every.probes.series[i].values[7 * k]);
  }
}

TEST_F(ProbeTest, AProbedReplayStillReportsADivergence) {
  ReplayOptions o;
  o.probes = {"striatum:0-3:v"};
  o.perturb_region = "striatum";
  o.perturb_delta = 0.5f;
  auto r = Replay(Record(), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->divergence);
  EXPECT_EQ(r->divergence->region, "striatum");
}

// The first neuron of population `pop` of region `region` of `spec`.
uint32_t FirstOf(const kernel::BrainSpec& spec, const std::string& region, const std::string& pop) {
  const kernel::RegionSpec& r = spec.regions[spec.RegionIndex(region)];
  return r.populations[r.PopulationIndex(pop)].offset;
}

// The weights PlasticInputs lists for neuron n of a region holding `state`.
std::vector<float> WeightsOnto(kernel::Region& scratch, const std::vector<uint8_t>& state, uint32_t n) {
  EXPECT_TRUE(kernel::LoadRegionState(scratch, state).ok());
  std::vector<float> w;
  for (const auto& in : dynamic_cast<kernel::PopulationRegion&>(scratch).PlasticInputs(n)) w.push_back(*in.weight);
  return w;
}

TEST_F(ProbeTest, ProbedIncomingWeightsAreTheWeightsOfAnInProcessRun) {
  const std::string path = Record();
  const uint32_t l23 = FirstOf(*spec_, "cortex", "L23"), d1 = FirstOf(*spec_, "striatum", "D1");
  const std::vector<uint32_t> cortex = {l23, l23 + 1, l23 + 17}, striatum = {d1 + 2, d1 + 5};
  ReplayOptions o;
  o.probes = {"cortex:" + std::to_string(l23) + "," + std::to_string(l23 + 1) + "," + std::to_string(l23 + 17) +
                  ":v,w_in",
              "striatum:" + std::to_string(d1 + 2) + "," + std::to_string(d1 + 5) + ":w_in.cortex"};
  const ReplayResult probed = ReplayWith(path, o);
  ASSERT_EQ(probed.probes.ticks.size(), kTicks);

  // The reference: an in-process run to the same tick, each region's state read back through a
  // scratch region; and the weights every synapse started with.
  kernel::RunOptions opts;
  opts.workers = 0;
  auto brain = kernel::Brain::Create(spec_, opts).value();
  ASSERT_TRUE(brain->RunUntil(kTicks).ok());
  auto state = brain->CaptureState();
  ASSERT_TRUE(state.ok());
  size_t changed = 0, synapses = 0;
  for (const auto& [region, neurons] : {std::pair{std::string("cortex"), cortex}, std::pair{std::string("striatum"), striatum}}) {
    const auto r = static_cast<kernel::RegionId>(spec_->RegionIndex(region));
    auto scratch = kernel::BuildRegion(*spec_, r);
    auto initial = kernel::BuildRegion(*spec_, r);
    auto& start = dynamic_cast<kernel::PopulationRegion&>(*initial);
    for (uint32_t n : neurons) {
      const std::vector<float> end = WeightsOnto(*scratch, state->regions[r], n);
      std::vector<const ProbeSeries*> series;  // this neuron's w_in series, in order
      for (const ProbeSeries& s : probed.probes.series)
        if (s.region == region && s.index == n && s.var.starts_with("w_in[")) series.push_back(&s);
      const std::vector<kernel::PopulationRegion::PlasticInput> inputs = start.PlasticInputs(n);
      if (region == "cortex") {
        ASSERT_EQ(series.size(), end.size()) << region << " neuron " << n;  // w_in: every plastic synapse
      } else {
        ASSERT_EQ(series.size(), 20u) << "cortex -> striatum.D1 has indegree 20";  // w_in.cortex: those from cortex
      }
      size_t k = 0;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const kernel::RegionSpec& from = spec_->regions[inputs[i].pathway->from_region];
        if (region == "striatum" && from.name != "cortex") continue;
        ASSERT_LT(k, series.size());
        const ProbeSeries& s = *series[k++];
        EXPECT_EQ(s.synapse.source_region, from.name);
        EXPECT_EQ(s.synapse.source, inputs[i].source);
        EXPECT_EQ(s.synapse.pathway, inputs[i].pathway->name);
        EXPECT_TRUE(s.var.starts_with("w_in[src=" + from.name + ":" + std::to_string(inputs[i].source)))
            << s.var;
        ASSERT_EQ(s.values.size(), kTicks);
        ASSERT_EQ(std::bit_cast<uint32_t>(static_cast<float>(s.values.back())), std::bit_cast<uint32_t>(end[i]))
            << s.region << ":" << n << ":" << s.var;
        if (std::bit_cast<uint32_t>(end[i]) != std::bit_cast<uint32_t>(*inputs[i].weight)) ++changed;
        ++synapses;
      }
      EXPECT_EQ(k, series.size());
    }
  }
  EXPECT_GT(synapses, 100u);
  EXPECT_GT(changed, 0u) << "some probed weight must change over the run for this test to mean anything";
}

// Every plastic synapse's weight holds a distinct value (its group and index in the group's
// unsplit weight array); PlasticInputs must name each exactly once, from sources in row order,
// and list the same synapses in the same order once the region is split into shards.
TEST_F(ProbeTest, PlasticInputsNameEveryPlasticSynapseOnceWhateverTheSplit) {
  const kernel::RegionId r = static_cast<kernel::RegionId>(spec_->RegionIndex("cortex"));
  auto region = kernel::BuildRegion(*spec_, r);
  auto& pop = dynamic_cast<kernel::PopulationRegion&>(*region);
  class Label final : public kernel::StateVisitor {
   public:
    bool loading() const override { return true; }
    void F32(std::string_view name, std::span<float> data, bool heavy) override {
      if (!heavy) return;
      for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(groups * 100000 + i);
      sizes.push_back(data.size());
      ++groups;
      (void)name;
    }
    void I32(std::string_view, std::span<int32_t>) override {}
    void U64(std::string_view, std::vector<uint64_t>&) override {}
    uint32_t groups = 0;
    std::vector<size_t> sizes;
  } label;
  region->VisitState(label);
  region->FinishLoad();
  ASSERT_LT(*std::max_element(label.sizes.begin(), label.sizes.end()), 100000u);
  std::map<float, kernel::NeuronId> source_of;  // label -> source
  std::vector<std::vector<kernel::PopulationRegion::PlasticInput>> unsplit(pop.spec().size);
  std::vector<std::vector<float>> labels(pop.spec().size);  // the weights, read before the split moves them
  for (uint32_t n = 0; n < pop.spec().size; ++n) {
    unsplit[n] = pop.PlasticInputs(n);
    for (const auto& in : unsplit[n]) {
      ASSERT_TRUE(source_of.emplace(*in.weight, in.source).second) << *in.weight;
      labels[n].push_back(*in.weight);
    }
  }
  const uint32_t l23 = FirstOf(*spec_, "cortex", "L23");
  EXPECT_EQ(unsplit[l23].size(), 50u) << "L23 -> L23 (STDP) has indegree 50";
  EXPECT_TRUE(unsplit[0].empty()) << "L4 receives no plastic pathway";
  // Within a group, labels follow the unsplit weight order (row by row), so sources ascend.
  kernel::NeuronId last_source = 0;
  float last = -1;
  for (const auto& [w, source] : source_of) {
    if (last >= 0 && static_cast<uint32_t>(w) / 100000 == static_cast<uint32_t>(last) / 100000) {
      EXPECT_GE(source, last_source) << w;
    }
    last = w, last_source = source;
  }
  region->SetParallelism(nullptr, 3);
  ASSERT_EQ(pop.shard_count(), 3u);
  for (uint32_t n = 0; n < pop.spec().size; ++n) {
    const auto split = pop.PlasticInputs(n);
    ASSERT_EQ(split.size(), unsplit[n].size()) << "neuron " << n;
    for (size_t i = 0; i < split.size(); ++i) {
      EXPECT_EQ(split[i].pathway, unsplit[n][i].pathway);
      EXPECT_EQ(split[i].source, unsplit[n][i].source);
      EXPECT_EQ(split[i].delay, unsplit[n][i].delay);
      EXPECT_EQ(*split[i].weight, labels[n][i]) << "neuron " << n << " synapse " << i;
    }
  }
}

TEST(ProbeVars, WeightsInARegionWithoutPlasticPathwaysAreRefused) {
  auto spec = testing::LoadExample("cuba.json");  // static synapses only
  auto region = kernel::BuildRegion(*spec, 0);
  auto probe = ParseProbe("net:0-3:w_in", *spec);
  ASSERT_TRUE(probe.ok()) << probe.status().message();
  const Status st = CheckProbeVars(probe.value(), *region, *spec);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.ExitCode(), 2);
  EXPECT_NE(st.message().find("--probe net:0-3:w_in: region net has no plastic pathway"), std::string::npos)
      << st.message();
}

TEST(ProbeOutput, TheCsvCountsEachSpikeInTheRowOfTheFirstSampleAtOrAfterIt) {
  TempDir dir;
  ProbeData data;
  data.ticks = {0, 5, 10};
  data.series = {{"pfc", "v", 3, true, {-65.0, -64.5, -50.25}, {}}};
  data.spikes = {{"pfc", 3, {2, 4, 5, 7}}};
  const std::string path = dir.File("p.csv");
  ASSERT_TRUE(WriteProbeCsv(data, path).ok());
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(all, "tick,time_ms,pfc:3:v,pfc:3:spikes\n0,0,-65,0\n5,0.5,-64.5,3\n10,1,-50.25,1\n");
}

void ExpectRefused(const std::string& trace, const std::string& probe, const std::string& region,
                   const std::string& words) {
  ReplayOptions o;
  o.probes = {probe};
  o.region = region;
  auto r = Replay(trace, o);
  ASSERT_FALSE(r.ok()) << probe;
  EXPECT_EQ(r.status().ExitCode(), 2) << r.status().message();
  EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status().message();
}

TEST_F(ProbeTest, BadProbesAreRefusedAsBadInputSayingWhatIsWrong) {
  const std::string path = Record();
  ExpectRefused(path, "thalamus:0:v", "", "no region 'thalamus'");
  ExpectRefused(path, "pfc:200:v", "", "neuron 200 is out of range: region pfc has 200 neurons (0-199)");
  ExpectRefused(path, "pfc:0-1000:v", "", "out of range");
  ExpectRefused(path, "pfc:0:voltage", "", "no variable 'voltage' in region pfc");
  ExpectRefused(path, "pfc:0:arrivals", "", "'arrivals' cannot be probed");
  ExpectRefused(path, "pfc:L9:v", "", "'L9' is not a neuron");
  ExpectRefused(path, "pfc:9-3:v", "", "ends before it starts");
  ExpectRefused(path, "pfc:0", "", "expected REGION:NEURONS:VARS");
  ExpectRefused(path, "pfc:0:v", "cortex", "--region runs only cortex");
  // w_in: a region without plastic pathways, a neuron no plastic pathway reaches, a source that
  // sends none.
  ExpectRefused(path, "hippocampus:0:w_in", "", "--probe hippocampus:0:w_in: neuron 0 (hippocampus.DG) receives no plastic pathway");
  ExpectRefused(path, "cortex:0:v,w_in", "", "--probe cortex:0:v,w_in: neuron 0 (cortex.L4) receives no plastic pathway");
  ExpectRefused(path, "striatum:0:w_in.pfc", "", "no plastic pathway from 'pfc' into striatum");
  ExpectRefused(path, "striatum:0:w_in.cortex.L4", "", "no plastic pathway from 'cortex.L4' into striatum");
}

}  // namespace
}  // namespace thalia::replay
