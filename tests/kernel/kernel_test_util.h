// Helpers for the kernel tests: brains from inline JSON, one region driven tick by tick, and
// named access to a region's state arrays.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernel/modulators.h"
#include "kernel/population_region.h"
#include "kernel/spec.h"

namespace thalia::kernel::testing {

// Parses and resolves a configuration given as JSON text; fails the test on error.
inline std::shared_ptr<const BrainSpec> SpecFromJson(const std::string& json) {
  auto bytes = ParseConfigJson(json, "inline.json");
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  if (!bytes.ok()) return nullptr;
  auto spec = ResolveBrainSpec(std::move(bytes).value(), "inline.json");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? spec.value() : nullptr;
}

// Two regions: "src" (20 neurons) and "r", a plastic region with populations e (`e` neurons,
// adapting) and i (`i` neurons, current synapses): e->i (delay `e_to_i_ms`), i->e with delay
// jitter, STDP e->e, a Poisson drive into e, and gated STDP src->r.e.
inline std::shared_ptr<const BrainSpec> PlasticTestBrain(uint32_t e, uint32_t i, double e_to_i_ms) {
  return SpecFromJson(std::string(R"({"regions": [
    {"name": "src", "type": "generic", "populations": [{"name": "p", "size": 20}]},
    {"name": "r", "type": "generic", "populations": [
      {"name": "e", "size": )" + std::to_string(e) + R"(, "neuron": {"v_init_jitter": 14, "bias": 14, "adapt_b": 0.5}},
      {"name": "i", "size": )" + std::to_string(i) + R"(, "excitatory": false, "neuron": {"synapse": "Current", "bias": 16}}],
     "pathways": [{"from": "e", "to": "i", "indegree": 10, "weight": 0.3, "delay_ms": )" + std::to_string(e_to_i_ms) + R"(},
                  {"from": "i", "to": "e", "indegree": 10, "weight": 0.5, "delay_ms": 1,
                   "delay_jitter_ms": 0.5},
                  {"from": "e", "to": "e", "indegree": 10, "weight": 0.05, "delay_ms": 1.5,
                   "plasticity": "Stdp"}],
     "drives": [{"population": "e", "rate_hz": 100, "inputs": 5, "weight": 0.5}]}],
    "pathways": [{"from": "src", "to": "r.e", "indegree": 4, "weight": 0.2, "delay_ms": 3,
                  "plasticity": "DopamineStdp"}]})"));
}

// Drives one PopulationRegion directly, epoch by epoch, with a fixed modulator state.
class RegionDriver {
 public:
  RegionDriver(std::shared_ptr<const BrainSpec> spec, RegionId id)
      : spec_(std::move(spec)), region_(*spec_, id), model_(*spec_), mods_(model_.Initial()) {}
  // Runs [tick, t1) with the given inbound spikes and external inputs; returns the spikes.
  std::vector<Spike> Run(Tick t1, std::vector<InSpike> inbound = {},
                         std::vector<ExternalInput> external = {}) {
    EpochContext ctx{epoch_++, region_.tick(), t1, mods_, {}};
    std::vector<Spike> out;
    region_.Advance(ctx, inbound, external, &out);
    return out;
  }
  PopulationRegion& region() { return region_; }
  ModulatorState& modulators() { return mods_; }

 private:
  std::shared_ptr<const BrainSpec> spec_;
  PopulationRegion region_;
  ModulatorModel model_;
  ModulatorState mods_;
  uint64_t epoch_ = 0;
};

// Copies every float array of a region's state by name (a read-only walk).
class FloatArrays final : public StateVisitor {
 public:
  explicit FloatArrays(Region& r) { r.VisitState(*this); }
  void F32(std::string_view name, std::span<float> d, bool) override {
    arrays[std::string(name)] = std::vector<float>(d.begin(), d.end());
  }
  void I32(std::string_view, std::span<int32_t>) override {}
  void U64(std::string_view, std::vector<uint64_t>&) override {}
  std::map<std::string, std::vector<float>> arrays;
};

}  // namespace thalia::kernel::testing
