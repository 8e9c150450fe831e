// Fuzz target: the configuration parser and resolver. Input is JSON text, or (first byte 0x00)
// a raw FlatBuffers configuration. Small brains that resolve are also built and run a few ticks.
#include <cstdint>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "kernel/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace thalia::kernel;
  std::vector<uint8_t> config;
  if (size > 0 && data[0] == 0) {
    config.assign(data + 1, data + size);
  } else {
    auto parsed = ParseConfigJson(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    if (!parsed.ok()) return 0;
    config = std::move(parsed).value();
  }
  auto spec = ResolveBrainSpec(std::move(config), "fuzz");
  if (!spec.ok()) return 0;
  // Build only what stays small, so the fuzzer explores logic rather than allocation limits.
  uint64_t neurons = 0, synapses = 0;
  for (const RegionSpec& r : spec.value()->regions) {
    neurons += r.size;
    for (const PathwaySpec& p : r.pathways)
      synapses += uint64_t{r.populations[p.to_pop].size} * (p.indegree ? p.indegree : r.populations[p.from_pop].size);
  }
  for (const PathwaySpec& p : spec.value()->pathways)
    synapses += uint64_t{spec.value()->regions[p.to_region].populations[p.to_pop].size} *
                (p.indegree ? p.indegree : spec.value()->regions[p.from_region].populations[p.from_pop].size);
  if (neurons > 5000 || synapses > 200000) return 0;
  auto brain = Brain::Create(spec.value());
  if (!brain.ok()) return 0;
  (void)brain.value()->RunUntil(50);
  (void)brain.value()->Digest();
  return 0;
}
