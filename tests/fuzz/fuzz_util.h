// Helpers shared by the fuzz targets: a bound on the brains they build (so the fuzzer explores
// decoding logic, not allocation limits) and little-endian byte access.
#pragma once

#include <cstdint>
#include <vector>

#include "kernel/spec.h"

namespace thalia::fuzz {

// True if building and running `spec` stays small: few neurons and synapses.
inline bool SmallBrain(const kernel::BrainSpec& spec) {
  uint64_t neurons = 0, synapses = 0;
  for (const kernel::RegionSpec& r : spec.regions) {
    neurons += r.size;
    for (const kernel::PathwaySpec& p : r.pathways)
      synapses += uint64_t{r.populations[p.to_pop].size} * (p.indegree ? p.indegree : r.populations[p.from_pop].size);
  }
  for (const kernel::PathwaySpec& p : spec.pathways)
    synapses += uint64_t{spec.regions[p.to_region].populations[p.to_pop].size} *
                (p.indegree ? p.indegree : spec.regions[p.from_region].populations[p.from_pop].size);
  return neurons <= 5000 && synapses <= 200000;
}

inline uint32_t LoadU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
inline void StoreU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace thalia::fuzz
