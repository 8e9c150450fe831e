// Which worker hosts which region: by estimated cost unless the user says otherwise.
#pragma once

#include <vector>

#include "kernel/spec.h"
#include "kernel/status.h"

namespace thalia::transport {

// Estimated cost of one tick of each region, from the specification alone (neurons plus a share
// of the synapses that target it), for when the regions are not built here (spawn).
std::vector<double> EstimateCosts(const kernel::BrainSpec& spec);

// Assigns regions to `workers` workers. `override_placement` (RunOptions::placement: one worker
// per region) wins if not empty; otherwise regions with RegionSpec::worker >= 0 are pinned and
// the rest go, largest cost first, to the least loaded worker (ties: lowest index), which is
// deterministic. More workers than regions is clamped to the number of regions (a worker with
// nothing to do would only cost a process). Every worker in [0, result count) hosts at least one
// region; an explicit placement that leaves a worker empty, or names one out of range, is an error.
// Returns the worker of each region; the number of workers is max + 1.
Result<std::vector<int>> PlaceRegions(const kernel::BrainSpec& spec, const std::vector<double>& costs,
                                      int workers, const std::vector<int>& override_placement);

// One part of a region on a worker: neurons [lo, hi). An unsplit region is one part [0, size).
struct PartPlace {
  int worker = 0;
  uint32_t lo = 0, hi = 0;
  friend bool operator==(const PartPlace&, const PartPlace&) = default;
};
using PartPlacement = std::vector<std::vector<PartPlace>>;  // by region, parts in neuron order

// Regions below this many neurons per part, or whose smallest internal delay is under
// kMinSplitDelayTicks (a region split over processes exchanges its parts' spikes every epoch, and
// epochs cannot be longer than that delay), are not split automatically; a placement that names
// parts (`split`) may still split them.
inline constexpr uint32_t kMinPartNeurons = 256;
inline constexpr kernel::Tick kMinSplitDelayTicks = 5;

// Places regions, and parts of regions, on workers.
// - `split` (RunOptions::placement_parts: per region the workers of its parts, in neuron order)
//   wins if not empty: a region named with k workers is cut into k parts of about equal cost.
// - Else with at most as many workers as regions, or an explicit `override_placement`, or a
//   configuration that pins regions to workers: PlaceRegions, no region split.
// - Else (more workers than regions): the region with the largest cost per part among those
//   that may be split gets one more part, until there is a part per worker; each part has a
//   worker of its own. If no region can be split further, fewer workers are used.
Result<PartPlacement> PlaceParts(const kernel::BrainSpec& spec, const std::vector<double>& costs, int workers,
                                 const std::vector<int>& override_placement,
                                 const std::vector<std::vector<int>>& split);

// Neuron bounds cutting region `r` into `parts` ranges of about equal cost (neurons plus a share
// of the synapses onto them, by population), on multiples of 16 neurons where the region allows.
std::vector<uint32_t> PartBounds(const kernel::BrainSpec& spec, kernel::RegionId r, uint32_t parts);

}  // namespace thalia::transport
