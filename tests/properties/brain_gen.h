// RapidCheck generation of random brains: region types and sizes, populations with every synapse
// kind, pathways with random delays and plasticity, learning on or off, seeds, reward schedules.
// Call GenBrainConfig() inside a property (it draws with rc's `*gen`).
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <vector>

#include "schemas/config_generated.h"

namespace thalia::testing {

struct GenLimits {
  int max_regions = 4;
  uint32_t min_region_size = 20;
  uint32_t max_region_size = 120;
  double duration_ms = 40;
  // Generic populations' refractory periods are whole ms in [min_refractory_ms, 3].
  int min_refractory_ms = 0;
};

inline std::unique_ptr<schema::PopulationT> GenPopulation(const std::string& name, bool excitatory,
                                                          const GenLimits& lim) {
  auto p = std::make_unique<schema::PopulationT>();
  p->name = name;
  p->fraction = excitatory ? 0.75f : 0.25f;
  p->excitatory = excitatory;
  p->neuron = std::make_unique<schema::NeuronParamsT>();
  auto& n = *p->neuron;
  n.synapse = static_cast<schema::SynapseKind>(*rc::gen::inRange(0, 3));
  n.v_init_jitter = 15;
  n.refractory_ms = static_cast<float>(*rc::gen::inRange(lim.min_refractory_ms, 4));
  n.adapt_b = *rc::gen::element(0.0f, 0.5f);
  n.dopamine_gain = *rc::gen::element(0.0f, 2.0f);
  n.theta_gain = *rc::gen::element(0.0f, 1.0f);
  if (n.synapse == schema::SynapseKind::Delta) {
    n.v_rest = 0;
    n.v_reset = 10;
    n.v_thresh = 20;
    n.v_init = 5.0f;
  }
  return p;
}

// Weights per synapse kind that keep the network active but not saturated.
inline float WeightFor(schema::SynapseKind k) {
  switch (k) {
    case schema::SynapseKind::Delta: return 0.8f;
    case schema::SynapseKind::Current: return 2.0f;
    default: return 0.08f;
  }
}

inline std::vector<uint8_t> GenBrainConfig(const GenLimits& lim = {}) {
  schema::BrainT b;
  b.name = "generated";
  b.seed = *rc::gen::inRange<uint64_t>(1, 1u << 30);
  b.duration_ms = lim.duration_ms;
  const int nregions = *rc::gen::inRange(1, lim.max_regions + 1);
  const char* types[] = {"generic", "cortex", "hippocampus", "pfc", "striatum", "cerebellum"};
  const bool learning = *rc::gen::arbitrary<bool>();
  for (int r = 0; r < nregions; ++r) {
    auto reg = std::make_unique<schema::RegionT>();
    reg->name = "r" + std::to_string(r);
    reg->type = types[*rc::gen::inRange(0, 6)];
    reg->size = *rc::gen::inRange<uint32_t>(lim.min_region_size, lim.max_region_size + 1);
    reg->learning = learning;
    if (reg->type == "generic") {
      reg->populations.push_back(GenPopulation("E", true, lim));
      reg->populations.push_back(GenPopulation("I", false, lim));
      for (auto [from, to] : {std::pair{"E", "E"}, {"E", "I"}, {"I", "E"}}) {
        auto p = std::make_unique<schema::PathwayT>();
        p->from = from;
        p->to = to;
        p->indegree = *rc::gen::inRange<uint32_t>(1, 12);
        // The weight suits the synapse kind of the target population.
        p->weight = WeightFor(reg->populations[to[0] == 'E' ? 0 : 1]->neuron->synapse) *
                    (from[0] == 'I' ? 2.0f : 1.0f);
        p->delay_ms = static_cast<float>(*rc::gen::inRange(1, 30)) / 10.0f;
        p->delay_jitter_ms = *rc::gen::element(0.0f, p->delay_ms / 2);
        p->plasticity = static_cast<schema::Plasticity>(*rc::gen::inRange(0, 3));
        p->w_max = p->weight * 2;
        p->a_plus = p->weight * 0.05f;
        p->a_minus = p->weight * 0.06f;
        reg->pathways.push_back(std::move(p));
      }
      auto d = std::make_unique<schema::DriveT>();
      d->population = "E";
      d->rate_hz = 10;
      d->inputs = 100;
      d->weight = WeightFor(reg->populations[0]->neuron->synapse);
      reg->drives.push_back(std::move(d));
      auto di = std::make_unique<schema::DriveT>();
      di->population = "I";
      di->rate_hz = 10;
      di->inputs = 80;
      di->weight = WeightFor(reg->populations[1]->neuron->synapse);
      reg->drives.push_back(std::move(di));
    }
    b.regions.push_back(std::move(reg));
  }
  const int npaths = nregions > 1 ? *rc::gen::inRange(0, 2 * nregions) : 0;
  for (int i = 0; i < npaths; ++i) {
    int from = *rc::gen::inRange(0, nregions), to = *rc::gen::inRange(0, nregions);
    if (from == to) continue;
    auto p = std::make_unique<schema::PathwayT>();
    p->from = "r" + std::to_string(from);
    p->to = "r" + std::to_string(to);
    p->indegree = *rc::gen::inRange<uint32_t>(1, 15);
    p->weight = 0.05f;  // conductance scale; generic regions may use other kinds: still harmless
    p->delay_ms = static_cast<float>(*rc::gen::inRange(5, 80)) / 10.0f;
    p->delay_jitter_ms = *rc::gen::element(0.0f, 0.4f);
    p->plasticity = static_cast<schema::Plasticity>(*rc::gen::inRange(0, 3));
    p->w_max = 0.1f;
    b.pathways.push_back(std::move(p));
  }
  const int nevents = *rc::gen::inRange(0, 4);
  for (int i = 0; i < nevents; ++i) {
    auto e = std::make_unique<schema::ModulatorEventT>();
    e->time_ms = *rc::gen::inRange(0, static_cast<int>(lim.duration_ms));
    e->modulator = static_cast<schema::Modulator>(*rc::gen::inRange(0, 3));
    e->amount = *rc::gen::element(-1.0f, 0.5f, 1.0f, 2.0f);
    b.events.push_back(std::move(e));
  }
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Brain::Pack(fbb, &b), schema::BrainIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace thalia::testing
