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

// The state of a region split over processes, from its parts' saved states (in any order): each
// part saves the whole region's arrays with zero bits outside its own neurons and synapses, so
// float and int arrays join bit by bit (OR); "scalars" (tick, then counters) add their counters;
// "arrivals" (tick, key, group triples, sorted) join as a set: a part alone holds the arrivals of
// its own latest spikes. Any other difference between parts is an error.
Result<std::vector<uint8_t>> JoinPartStates(std::span<const std::vector<uint8_t>> parts);

}  // namespace thalia::kernel
