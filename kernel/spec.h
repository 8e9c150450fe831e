// The resolved brain specification: the configuration after region types have filled in their
// populations and pathways and every name has been resolved to an index. Built once from the
// FlatBuffers configuration (which it keeps, verbatim, for workers, traces and checkpoints).
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernel/status.h"
#include "kernel/types.h"
#include "schemas/config_generated.h"

namespace thalia::kernel {

using schema::Plasticity;
using schema::SynapseKind;

inline constexpr int kNumModulators = 3;  // dopamine, acetylcholine, noradrenaline

struct NeuronSpec {
  SynapseKind synapse = SynapseKind::Conductance;
  float tau_m_ms = 20, v_rest = -65, v_reset = -65, v_thresh = -50, v_init = -65,
        v_init_jitter = 0, refractory_ms = 2, tau_e_ms = 5, tau_i_ms = 10, e_exc = 0,
        e_inh = -80, bias = 0, adapt_b = 0, tau_w_ms = 100;
  std::array<float, kNumModulators> modulator_gain{};  // bias per unit above baseline
  float theta_gain = 0;
  float syn_e_init = 0, syn_e_init_jitter = 0, syn_i_init = 0, syn_i_init_jitter = 0;
};

struct PopulationSpec {
  std::string name;
  uint32_t size = 0;
  uint32_t offset = 0;  // first neuron of the population in the region
  bool excitatory = true;
  NeuronSpec neuron;
};

// The most synapses one pathway may have (its synapses are indexed in 32 bits); checked when a
// configuration is resolved.
inline constexpr uint64_t kMaxSynapsesPerPathway = uint64_t{1} << 31;

struct PathwaySpec {
  std::string name;  // "src_region.pop->dst_region.pop": keys its random stream
  RegionId from_region = 0, to_region = 0;
  uint32_t from_pop = 0, to_pop = 0;
  float p = 0.1f;
  uint32_t indegree = 0;
  float weight = 1, weight_jitter = 0, delay_ms = 1, delay_jitter_ms = 0;
  bool autapses = false;
  Plasticity plasticity = Plasticity::None;
  float a_plus = 0.005f, a_minus = 0.006f, tau_plus_ms = 20, tau_minus_ms = 20, w_min = 0,
        w_max = 1, theta_gating = 0;
  int gate_modulator = 0;  // for three-factor learning: which modulator gates it
};

struct DriveSpec {
  uint32_t population = 0;
  float rate_hz = 10;
  uint32_t inputs = 1;
  float weight = 1;
  bool excitatory = true;
};

struct RegionSpec {
  std::string name, type;
  RegionId id = 0;
  uint32_t size = 0;  // total neurons (sum of population sizes)
  std::vector<PopulationSpec> populations;
  std::vector<PathwaySpec> pathways;  // internal: from_region == to_region == id
  std::vector<DriveSpec> drives;
  uint32_t input_pop = 0, output_pop = 0;
  int worker = -1;
  bool learning = true;
  int PopulationIndex(const std::string& name) const;
};

// A lower bound of the smallest delay, in ticks, of a pathway inside region `r` (0: it has none):
// a spike of the region reaches another of its neurons no sooner. Exact without delay jitter.
Tick MinInternalDelayTicks(const RegionSpec& r, double dt_ms);

struct ModulatorParamsSpec {
  float baseline = 0;
  float tau_ms = 200;
};

struct ModulatorEventSpec {
  Tick tick;
  int modulator;
  float amount;
};

// The most threads a process may run shards on (a configuration or --threads asking for more
// is refused).
inline constexpr uint32_t kMaxThreads = 256;

struct BrainSpec {
  std::string name;
  uint64_t seed = 1;
  double dt_ms = 0.1;
  double duration_ms = 1000;
  double batch_window_ms = 0;
  std::vector<RegionSpec> regions;
  std::vector<PathwaySpec> pathways;  // inter-region
  std::array<ModulatorParamsSpec, kNumModulators> modulators;
  float theta_hz = 8;
  std::vector<ModulatorEventSpec> events;  // sorted by tick
  uint32_t workers = 0;
  uint32_t threads = 1;  // per process; 0: the cores the process may use (`--threads auto`)
  std::string launch = "fork";
  double hang_timeout_ms = 30000;
  Tick epoch_ticks = 1;  // derived: the epoch length (see EpochTicks)
  std::vector<uint8_t> config;  // the FlatBuffers configuration this was built from

  int RegionIndex(const std::string& name) const;
  Tick DurationTicks() const { return MsToTicks(duration_ms, dt_ms); }
};

// Parses a JSON configuration against schemas/config.fbs. `source_name` names the file in errors.
Result<std::vector<uint8_t>> ParseConfigJson(const std::string& json, const std::string& source_name);
// Reads and parses a JSON configuration file.
Result<std::vector<uint8_t>> LoadConfigFile(const std::string& path);
// Verifies a FlatBuffers configuration and resolves it (region types, names, epoch length).
Result<std::shared_ptr<const BrainSpec>> ResolveBrainSpec(std::vector<uint8_t> config,
                                                          const std::string& source_name);
// Convenience: LoadConfigFile + ResolveBrainSpec.
Result<std::shared_ptr<const BrainSpec>> LoadBrainSpec(const std::string& path);
// Rebuilds the FlatBuffers configuration with a different seed (the `--seed` option).
std::vector<uint8_t> WithSeed(const std::vector<uint8_t>& config, uint64_t seed);
// The configuration as JSON (for `thalia trace info`, `checkpoint info`).
std::string ConfigToJson(const std::vector<uint8_t>& config);

}  // namespace thalia::kernel
