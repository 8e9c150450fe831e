// The registry and the built-in region types: presets of the one population engine with the
// structure of the original design (layered cortex, DG-CA3-CA1 hippocampus under theta, recurrent
// PFC under dopamine, D1/D2 striatum with three-factor learning, granule-Purkinje cerebellum).
// Biology is kept modest; connectivity uses fixed in-degrees so cost grows linearly with size.
#include "kernel/registry.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "kernel/population_region.h"

namespace thalia::kernel {
namespace {

NeuronSpec Exc() {
  NeuronSpec n;  // conductance-based LIF: membrane 20 ms, synapses 5/10 ms, refractory 2 ms
  n.v_init_jitter = 10;
  n.v_init = -65;
  return n;
}
NeuronSpec Inh() {
  NeuronSpec n = Exc();
  n.tau_m_ms = 10;
  n.refractory_ms = 1;
  return n;
}

struct PresetBuilder {
  RegionSpec* r;
  uint32_t Pop(const std::string& name, float fraction, bool excitatory, NeuronSpec n) {
    PopulationSpec p;
    p.name = name;
    p.size = std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(fraction * r->size)));
    p.excitatory = excitatory;
    p.neuron = n;
    r->populations.push_back(p);
    return static_cast<uint32_t>(r->populations.size() - 1);
  }
  PathwaySpec& Path(uint32_t from, uint32_t to, uint32_t indegree, float weight, float delay_ms) {
    PathwaySpec p;
    p.from_pop = from;
    p.to_pop = to;
    p.indegree = std::min<uint32_t>(indegree, r->populations[from].size);
    p.weight = weight;
    p.weight_jitter = 0.2f;
    p.delay_ms = delay_ms;
    p.delay_jitter_ms = std::min(0.2f, delay_ms / 2);
    r->pathways.push_back(p);
    return r->pathways.back();
  }
  void Drive(uint32_t pop, float rate_hz, uint32_t inputs, float weight) {
    r->drives.push_back({pop, rate_hz, inputs, weight, true});
  }
};

Status Cortex(RegionSpec* r) {
  PresetBuilder b{r};
  NeuronSpec l4 = Exc();
  l4.modulator_gain[1] = 2.0f;  // acetylcholine raises input-layer excitability
  uint32_t L4 = b.Pop("L4", 0.25f, true, l4);
  uint32_t L23 = b.Pop("L23", 0.35f, true, Exc());
  uint32_t L5 = b.Pop("L5", 0.2f, true, Exc());
  uint32_t PV = b.Pop("PV", 0.2f, false, Inh());
  b.Path(L4, L23, 50, 0.05f, 1.5f);
  b.Path(L23, L23, 50, 0.03f, 1.5f).plasticity = Plasticity::Stdp;
  b.Path(L23, L5, 50, 0.05f, 1.5f);
  b.Path(L5, L23, 20, 0.02f, 2.0f);
  for (uint32_t e : {L4, L23, L5}) {
    b.Path(e, PV, 40, 0.04f, 1.0f);
    b.Path(PV, e, 30, 0.15f, 1.0f);
  }
  b.Drive(L4, 10.0f, 90, 0.08f);
  b.Drive(L23, 10.0f, 90, 0.07f);
  b.Drive(L5, 10.0f, 90, 0.07f);
  r->input_pop = L4;
  r->output_pop = L5;
  return Status::Ok();
}

Status Hippocampus(RegionSpec* r) {
  PresetBuilder b{r};
  uint32_t DG = b.Pop("DG", 0.4f, true, Exc());
  NeuronSpec ca3n = Exc();
  ca3n.theta_gain = 1.0f;
  uint32_t CA3 = b.Pop("CA3", 0.25f, true, ca3n);
  NeuronSpec ca1n = Exc();
  ca1n.theta_gain = 2.0f;
  uint32_t CA1 = b.Pop("CA1", 0.25f, true, ca1n);
  uint32_t INT = b.Pop("INT", 0.1f, false, Inh());
  b.Path(DG, CA3, 10, 0.2f, 1.5f);
  // CA3 recurrence is theta-gated: strong in the retrieval half-cycle, weak in encoding.
  PathwaySpec& rec = b.Path(CA3, CA3, 40, 0.03f, 1.5f);
  rec.plasticity = Plasticity::Stdp;
  rec.theta_gating = 0.5f;
  b.Path(CA3, CA1, 50, 0.04f, 1.5f);
  for (uint32_t e : {DG, CA3, CA1}) {
    b.Path(e, INT, 40, 0.04f, 1.0f);
    b.Path(INT, e, 30, 0.15f, 1.0f);
  }
  b.Drive(DG, 10.0f, 90, 0.07f);
  b.Drive(CA3, 10.0f, 90, 0.07f);
  b.Drive(CA1, 10.0f, 90, 0.07f);
  r->input_pop = DG;
  r->output_pop = CA1;
  return Status::Ok();
}

Status Pfc(RegionSpec* r) {
  PresetBuilder b{r};
  NeuronSpec e = Exc();
  e.modulator_gain[0] = 1.5f;  // dopamine gates working-memory excitability
  e.adapt_b = 0.5f;
  uint32_t E = b.Pop("E", 0.8f, true, e);
  uint32_t I = b.Pop("I", 0.2f, false, Inh());
  PathwaySpec& rec = b.Path(E, E, 60, 0.04f, 2.0f);
  rec.plasticity = Plasticity::DopamineStdp;
  rec.gate_modulator = 0;
  b.Path(E, I, 40, 0.04f, 1.0f);
  b.Path(I, E, 30, 0.15f, 1.0f);
  b.Path(I, I, 20, 0.1f, 1.0f);
  b.Drive(E, 10.0f, 90, 0.07f);
  r->input_pop = E;
  r->output_pop = E;
  return Status::Ok();
}

Status Striatum(RegionSpec* r) {
  PresetBuilder b{r};
  NeuronSpec d1 = Exc();
  d1.modulator_gain[0] = 3.0f;   // D1: dopamine excites
  NeuronSpec d2 = Exc();
  d2.modulator_gain[0] = -3.0f;  // D2: dopamine inhibits
  // Medium spiny neurons and fast-spiking interneurons are GABAergic: every output inhibits.
  uint32_t D1 = b.Pop("D1", 0.45f, false, d1);
  uint32_t D2 = b.Pop("D2", 0.45f, false, d2);
  uint32_t FSI = b.Pop("FSI", 0.1f, false, Inh());
  b.Path(D1, D1, 20, 0.05f, 1.0f);
  b.Path(D2, D2, 20, 0.05f, 1.0f);
  b.Path(D1, D2, 10, 0.05f, 1.0f);
  b.Path(D2, D1, 10, 0.05f, 1.0f);
  b.Path(FSI, D1, 20, 0.05f, 1.0f);
  b.Path(FSI, D2, 20, 0.05f, 1.0f);
  b.Drive(D1, 10.0f, 90, 0.09f);
  b.Drive(D2, 10.0f, 90, 0.09f);
  b.Drive(FSI, 10.0f, 90, 0.07f);
  r->input_pop = D1;
  r->output_pop = D1;
  return Status::Ok();
}

Status Cerebellum(RegionSpec* r) {
  PresetBuilder b{r};
  uint32_t GR = b.Pop("granule", 0.85f, true, Exc());
  uint32_t GO = b.Pop("golgi", 0.05f, false, Inh());
  uint32_t PC = b.Pop("purkinje", 0.05f, false, Exc());
  uint32_t DCN = b.Pop("dcn", 0.05f, true, Exc());
  // Parallel fibres onto Purkinje cells learn from an error signal carried by noradrenaline
  // (standing in for climbing fibres): error above baseline depresses co-active synapses.
  PathwaySpec& pf = b.Path(GR, PC, 100, 0.02f, 1.0f);
  pf.plasticity = Plasticity::DopamineStdp;
  pf.gate_modulator = 2;
  pf.a_plus = -0.004f;
  pf.a_minus = -0.002f;
  b.Path(GR, GO, 40, 0.03f, 1.0f);
  b.Path(GO, GR, 10, 0.04f, 1.0f);
  b.Path(PC, DCN, 20, 0.03f, 1.0f);
  b.Drive(GR, 10.0f, 90, 0.07f);
  b.Drive(GO, 10.0f, 90, 0.06f);
  b.Drive(PC, 10.0f, 90, 0.07f);
  b.Drive(DCN, 10.0f, 90, 0.1f);
  r->input_pop = GR;
  r->output_pop = DCN;
  return Status::Ok();
}

struct Registry {
  std::mutex mu;
  std::map<std::string, RegionType> types;  // GUARDED_BY(mu)
  Registry() {
    auto add = [&](const char* name, const char* desc, uint32_t size, Status (*preset)(RegionSpec*)) {
      types[name] = RegionType{name, desc, size, preset, {}};
    };
    add("cortex", "layered cortex: L4 input, L2/3 recurrent with STDP, L5 output, PV interneurons",
        2000, Cortex);
    add("hippocampus", "DG -> CA3 (theta-gated recurrence, STDP) -> CA1, interneurons", 2000,
        Hippocampus);
    add("pfc", "recurrent working memory; dopamine-gated excitability and three-factor learning",
        1000, Pfc);
    add("striatum", "D1/D2 medium spiny neurons under dopamine, fast-spiking interneurons", 1000,
        Striatum);
    add("cerebellum", "granule -> Purkinje (error-driven plasticity) -> deep nuclei, Golgi cells",
        2000, Cerebellum);
    types["generic"] = RegionType{"generic", "user-defined populations and pathways (required)", 0,
                                  {}, {}};
  }
};

Registry& Reg() {
  static Registry r;
  return r;
}

}  // namespace

void RegisterRegionType(RegionType type) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  std::string name = type.name;
  r.types[name] = std::move(type);
}

const RegionType* FindRegionType(const std::string& name) {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.types.find(name);
  return it == r.types.end() ? nullptr : &it->second;
}

std::vector<const RegionType*> RegionTypes() {
  Registry& r = Reg();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<const RegionType*> out;
  for (auto& [name, t] : r.types) out.push_back(&t);
  return out;
}

std::unique_ptr<Region> BuildRegion(const BrainSpec& spec, RegionId id) {
  const RegionType* t = FindRegionType(spec.regions[id].type);
  if (t && t->factory) return t->factory(spec, id);
  return std::make_unique<PopulationRegion>(spec, id);
}

}  // namespace thalia::kernel
