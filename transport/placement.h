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

}  // namespace thalia::transport
