// A region's state to and from a FlatBuffers RegionState (schemas/state.fbs), through the
// region's own StateVisitor walk. Used by workers, checkpoints and tests.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernel/region.h"
#include "kernel/status.h"

namespace thalia::kernel {

std::vector<uint8_t> SaveRegionState(Region& region);
// Verifies the buffer and loads it; a mismatch (other region, other sizes) is an error.
Status LoadRegionState(Region& region, std::span<const uint8_t> buffer);

}  // namespace thalia::kernel
