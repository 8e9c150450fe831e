// Probes: any state variable of any neuron, recomputed during a replay. A probe names a region,
// neurons (or elements) and variables among the arrays the region's VisitState walks; the replay
// advances a probed region one tick at a time and copies the requested elements after each tick.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/modulators.h"
#include "kernel/region.h"
#include "kernel/spec.h"
#include "kernel/status.h"

namespace thalia::replay {

// One requested probe: `region`, `indices` and `vars`, parsed from REGION:NEURONS:VARS.
// NEURONS: "17", "0-99", a population name ("L5"), or a comma list of these. VARS: a comma list of
// state array names (see StateArrays) and of "w_in" (below). For an array with one element per
// neuron of the region the indices are neurons; for any other array (plasticity traces, weights)
// they index its elements.
//
// "w_in" is the incoming weights of each probed neuron through plastic pathways: one series per
// plastic synapse onto the neuron, named "w_in[src=REGION:ID]" after its source neuron ("#2",
// "#3" for a second and third synapse from the same source neuron), in the order
// PopulationRegion::PlasticInputs lists them (pathway, delay, source). "w_in.SOURCE" keeps the
// synapses of plastic pathways from SOURCE, a region ("cortex") or a population ("cortex.L5");
// its series have the same names. A probed neuron that no such pathway reaches is an error; one
// that such a pathway reaches with no synapse (sparse random connectivity) has no w_in series.
struct ProbeSpec {
  std::string text;  // as given, for error messages
  std::string region;
  kernel::RegionId region_id = 0;
  std::vector<uint32_t> indices;  // ascending, no repeats
  std::vector<std::string> vars;
};

// Parses one probe against the configuration (region name, population names, neuron range).
// Variables are checked later against the built region (CheckProbeVars). Errors name the probe.
Result<ProbeSpec> ParseProbe(std::string_view text, const kernel::BrainSpec& spec);

// One state array of a region, as VisitState hands it.
struct StateArray {
  enum Kind : uint8_t { kF32, kI32, kU64 };
  std::string name;
  Kind kind = kF32;
  size_t size = 0;
  bool heavy = false;  // skipped by the per-epoch digest (weights)
};
// The arrays a region's VisitState walks, in order (it visits everything, weights included).
std::vector<StateArray> StateArrays(kernel::Region& region);
// One line on what a state array of the population engine holds ("" when unknown).
std::string DescribeStateArray(std::string_view name);

// Whether `var` is "w_in" or "w_in.SOURCE".
bool IsWeightsIn(std::string_view var);
// The plastic pathways into `region` that w_in reads, one "SOURCE -> POPULATION (NEURONS)" line
// each, with the number of synapses a target neuron receives; empty when it has none.
std::vector<std::string> DescribeWeightsIn(kernel::Region& region, const kernel::BrainSpec& brain);

// Checks that every variable of `probe` is a probe-able array of `region` (F32 or I32) and that
// every index is within it; for w_in, that every probed neuron receives a matching plastic
// pathway. `brain` is the configuration `region` was built from.
Status CheckProbeVars(const ProbeSpec& probe, kernel::Region& region, const kernel::BrainSpec& brain);

// The values of one (region, variable, index) at every sample tick, as doubles: every float and
// int32 value is exact in a double. For a w_in series, var is "w_in[src=REGION:ID]" (or with
// "#k"), index the probed (target) neuron, and `synapse` says where the synapse comes from.
struct ProbeSeries {
  std::string region, var;
  uint32_t index = 0;
  bool per_neuron = true;  // index is a neuron of the region (else an element of the array)
  std::vector<double> values;
  struct Synapse {
    std::string pathway, source_region;
    kernel::NeuronId source = 0;
    uint32_t delay = 0;  // ticks
  };
  Synapse synapse = {};  // w_in only
};
// The spike ticks of one probed neuron within the probed window.
struct ProbeSpikes {
  std::string region;
  kernel::NeuronId neuron = 0;
  std::vector<kernel::Tick> ticks;
};
// Everything a replay's probes recorded. series[i].values[k] was sampled after tick ticks[k]
// was computed (the state a run stepping to ticks[k] + 1 holds).
struct ProbeData {
  double dt_ms = 0.1;
  std::vector<kernel::Tick> ticks;
  std::vector<ProbeSeries> series;
  std::vector<ProbeSpikes> spikes;
  // The series of (region, var, index), or null.
  const ProbeSeries* Find(std::string_view region, std::string_view var, uint32_t index) const;
};

// Samples the probes of one region: Sample() copies the requested elements through VisitState.
class RegionProbe {
 public:
  // Adds the series of `probes` (all of `region`, checked by CheckProbeVars) to `data`, which must
  // outlive this; keeps no reference to `probes`, `region` or `brain`.
  RegionProbe(const std::vector<const ProbeSpec*>& probes, kernel::Region& region, const kernel::BrainSpec& brain,
              ProbeData* data);
  void Sample(kernel::Region& region);
  // Notes the spikes of probed neurons among `spikes` (the region's, in tick order).
  void NoteSpikes(std::span<const kernel::Spike> spikes);

 private:
  struct Want {
    std::string var;
    std::vector<uint32_t> indices;
    size_t first_series = 0;
  };
  // w_in: the series of one probed neuron, each the position of its synapse in PlasticInputs(n).
  struct WeightsOf {
    kernel::NeuronId neuron = 0;
    std::vector<std::pair<size_t, size_t>> synapses;  // (position, series)
  };
  void SampleWeights(kernel::Region& region);
  ProbeData* data_;
  std::vector<Want> wants_;
  std::vector<WeightsOf> weights_;
  std::vector<std::pair<kernel::NeuronId, size_t>> spike_slots_;  // neuron -> data_->spikes index
  bool heavy_ = false;
};

// Runs ticks [ctx.t0, ctx.t1) of `region` one tick at a time and calls after_tick(t) after each:
// every inbound spike is handed in with the first tick, external inputs and modulator events
// with their own tick, and the modulator state is carried from tick to tick as the region would
// apply it. The region ends in the state one Advance over the whole epoch gives (results never
// depend on where epochs are cut); the replay's digest check of every epoch confirms it.
void AdvanceTickByTick(kernel::Region& region, const kernel::ModulatorModel& modulators,
                       const kernel::EpochContext& ctx, std::span<const kernel::InSpike> inbound,
                       std::span<const kernel::ExternalInput> external, std::vector<kernel::Spike>* out,
                       const std::function<void(kernel::Tick)>& after_tick);

}  // namespace thalia::replay
