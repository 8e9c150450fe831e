// The population engine that serves every built-in region type: leaky integrate-and-fire neurons
// (delta, current- or conductance-based exponential synapses, refractoriness, adaptation) in Eigen
// arrays; target-side pathways in CSR form, one block per distinct delay; pair STDP with traces and
// a modulator-gated three-factor variant; Poisson drives from the region's counter-based stream.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "kernel/big_alloc.h"
#include "kernel/modulators.h"
#include "kernel/region.h"
#include "kernel/spec.h"

namespace thalia::kernel {

class PopulationRegion final : public Region {
 public:
  // Builds region `id` of `brain`: its neurons and every pathway that targets it.
  PopulationRegion(const BrainSpec& brain, RegionId id);

  const RegionSpec& spec() const override { return spec_; }
  Tick tick() const override { return tick_; }
  void Advance(const EpochContext& ctx, std::span<const InSpike> inbound,
               std::span<const ExternalInput> external, std::vector<Spike>* out) override;
  void VisitState(StateVisitor& v) override;
  void FinishLoad() override;
  RegionCounters counters() const override { return counters_; }
  double Cost() const override;
  size_t StateBytesHint() const override;
  bool PerturbWeightForTest(float delta) override;

  // Introspection for tests and benchmarks.
  uint64_t SynapseCount() const;
  size_t SynapseBytes() const;
  float Voltage(NeuronId n) const { return v_[n]; }

  // The events due at one tick. Keys arrive in sorted runs (an epoch's inbound batch, one tick's
  // own spikes); `run_starts` remembers where each later run begins, so putting the slot in
  // canonical order is a merge of a few runs instead of a sort.
  struct Slot {
    std::vector<uint64_t> keys;
    std::vector<uint32_t> run_starts;
    void Push(uint64_t key) {
      if (!keys.empty() && key < keys.back()) run_starts.push_back(static_cast<uint32_t>(keys.size()));
      keys.push_back(key);
    }
    void Clear() {
      keys.clear();
      run_starts.clear();
    }
  };
  // Scratch of SortArrivals, kept between ticks.
  struct MergeScratch {
    std::vector<uint64_t> keys;
    std::vector<uint32_t> bounds, next;
  };
  // Puts a slot's keys in ascending (canonical) order, exactly the order std::sort gives.
  static void SortArrivals(Slot* slot, MergeScratch* scratch);

 private:
  // The synapses of one pathway that share one delay, by source neuron (CSR).
  struct Group {
    uint32_t path = 0;
    uint32_t delay = 1;  // ticks
    BigVector<uint32_t> row;     // source-local neuron -> first synapse; size src_size + 1
    BigVector<uint32_t> target;  // region-local target neuron
    // Per synapse; empty when every synapse of the group has the same, fixed weight `w0` (a
    // static pathway without weight jitter): 4 bytes per synapse instead of 8.
    BigVector<float> weight;
    bool uniform = false;
    float w0 = 0;
    // Plastic groups only: synapses by target (target-local). Compact: (source << 16 | offset
    // in the source's row); otherwise (source, synapse index) pairs. See BuildPostIndex.
    BigVector<uint32_t> post_row, post_packed, post_src, post_syn;
    bool compact = true;
    std::vector<float> pre_trace;  // per source neuron
  };
  struct Path {
    PathwaySpec spec;
    uint32_t src_offset = 0, src_size = 0, tgt_offset = 0, tgt_size = 0;
    bool src_excitatory = true;
    bool plastic = false;
    float decay_plus = 1, decay_minus = 1;
    std::vector<float> post_trace;  // per target neuron of the pathway
    std::vector<uint32_t> groups;
  };
  // An event due at a tick: source neuron `neuron` of region `source` through group `group`,
  // packed so that the integer order of the keys is the canonical order (source region, source
  // neuron, group): source < 2^16 regions, neuron < 2^30, group < 2^18 (checked when built).
  struct Arrival {
    static uint64_t Key(uint32_t source, uint32_t neuron, uint32_t group) {
      return (uint64_t{source} << 48) | (uint64_t{neuron} << 18) | group;
    }
    static uint32_t Source(uint64_t k) { return static_cast<uint32_t>(k >> 48); }
    static uint32_t Neuron(uint64_t k) { return static_cast<uint32_t>(k >> 18) & ((1u << 30) - 1); }
    static uint32_t Group(uint64_t k) { return static_cast<uint32_t>(k) & ((1u << 18) - 1); }
  };
  // Per-population constants of the exact propagators, from DetExp.
  struct PopConst {
    float pm, pe, pi, pw, pem, pim, one_minus_pm, dt_over_tau;
    int32_t ref_ticks;
  };
  struct DriveTable {
    std::vector<double> cdf;  // Poisson CDF; k = first index with u < cdf[k]
    std::vector<uint64_t> thr;  // ceil(cdf[k] * 2^32): the same test on the raw 32-bit word
  };

  void BuildPathway(const BrainSpec& brain, const PathwaySpec& p);
  static void BuildPostIndex(Group* g, uint32_t src_size, const PopulationSpec& tgt);
  void Schedule(Tick at, uint32_t source, uint32_t neuron, uint32_t group);
  void ApplyDrives(Tick t);
  void UpdatePopulation(const PopulationSpec& pop, const PopConst& c, float bias, Tick t,
                        std::vector<Spike>* out);
  // Schedules the spike on internal pathways; potentiation with this tick's factors.
  void OnSpike(uint32_t pop, NeuronId n, Tick t);
  void DecayTraces();
  float PlasticityFactor(const Path& p, const EpochContext& ctx, const ModulatorState& m,
                         Tick t) const;
  // Every pending arrival in (tick, canonical) order, three words each. Sorts the ring's slots in
  // place: a sorted slot is in its canonical order already, and later arrivals append as new runs,
  // so a slot is sorted once rather than once per epoch it waits (no effect on any result).
  std::vector<uint64_t> PackArrivals();
  // Gives a uniform group its per-synapse weights (before they are changed or loaded unequal).
  static void Materialize(Group* g);

  RegionSpec spec_;
  uint64_t seed_;
  uint64_t stream_owner_ = 0;  // the region's random stream is keyed by (seed, hash of its name)
  double dt_ms_;
  ModulatorModel modulators_;
  std::vector<PopConst> pop_const_;
  std::vector<Path> paths_;
  std::vector<Group> groups_;
  std::vector<std::vector<uint32_t>> groups_by_source_;  // by source region id
  std::vector<std::vector<uint32_t>> spike_groups_;  // by population: internal groups it feeds
  std::vector<std::vector<uint32_t>> spike_paths_;   // by population: plastic paths it ends
  std::vector<DriveTable> drive_tables_;
  std::vector<Slot> ring_;  // Arrival keys, by tick % ring_.size()
  MergeScratch merge_scratch_;
  std::vector<uint64_t> loaded_arrivals_;   // staging for VisitState when loading
  Tick tick_ = 0;
  // Neuron state: membrane potential, excitatory/inhibitory synaptic variables (conductance or
  // current), adaptation, external current (API), remaining refractory ticks.
  Eigen::ArrayXf v_, se_, si_, w_, iext_;
  Eigen::ArrayXi refr_;
  Eigen::ArrayXf in_e_, in_i_;  // input of the current tick (scratch, zero between ticks)
  std::vector<NeuronId> tick_spikes_;  // scratch
  std::vector<uint32_t> drive_words_;  // scratch: one tick's random words of one drive
  std::vector<uint32_t> drive_counts_;  // scratch: the Poisson counts drawn from them
  std::vector<float> plasticity_factor_;  // per path, for the current tick
  RegionCounters counters_;
};

}  // namespace thalia::kernel
