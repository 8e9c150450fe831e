// Helpers the benchmarks share: a brain specification from JSON text, the tiny ring and the two
// large regions they measure on, and the timing of a run's epochs.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "kernel/brain.h"
#include "kernel/registry.h"

namespace thalia::bench {

// The specification `json` describes (`name` names it in errors); exits with status 2, saying
// why, if it describes none.
inline std::shared_ptr<const kernel::BrainSpec> FromJson(const std::string& json, const std::string& name) {
  auto c = kernel::ParseConfigJson(json, name);
  auto s = c.ok() ? kernel::ResolveBrainSpec(std::move(c).value(), name) : c.status();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().message().c_str());
    std::exit(2);
  }
  return s.value();
}

// `regions` regions of 20 neurons in a ring with 1 ms delays, in a brain called `name`: epochs
// of 10 ticks, almost no compute.
inline std::string TinyRing(int regions, const std::string& name) {
  std::string j = R"({"name": ")" + name + R"(", "regions": [)";
  for (int i = 0; i < regions; ++i)
    j += std::string(i ? "," : "") + R"({"name": "r)" + std::to_string(i) +
         R"(", "type": "generic", "size": 20, "populations": [{"name": "all", "size": 20, "neuron": {"bias": 16}}]})";
  j += R"(], "pathways": [)";
  for (int i = 0; i < regions; ++i)
    j += std::string(i ? "," : "") + R"({"from": "r)" + std::to_string(i) + R"(", "to": "r)" +
         std::to_string((i + 1) % regions) + R"(", "indegree": 2, "weight": 0.1, "delay_ms": 1})";
  return j + "]}";
}

// Two regions of 40000 neurons, 5 ms apart: epochs of 50 ticks with real work in each region.
inline std::string TwoLargeRegions() {
  return R"({"name": "two-large", "regions": [
    {"name": "cortex", "type": "cortex", "size": 40000},
    {"name": "cerebellum", "type": "cerebellum", "size": 40000}],
  "pathways": [{"from": "cortex", "to": "cerebellum", "indegree": 10, "weight": 0.03, "delay_ms": 5},
               {"from": "cerebellum", "to": "cortex.L23", "indegree": 10, "weight": 0.02, "delay_ms": 5}]})";
}

// Wall seconds per epoch over `epochs` more epochs of `brain`, and its digest at the end; -1 (and
// no digest) if a step failed.
inline double TimeEpochs(kernel::Brain& brain, uint64_t epochs, uint64_t* digest) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!brain.StepEpochs(epochs).ok()) return -1;
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
             static_cast<double>(epochs);
  *digest = brain.Digest().value();
  return s;
}

}  // namespace thalia::bench
