// Greedy longest-processing-time placement: within 4/3 of the best makespan, and cheap.
#include "transport/placement.h"

#include <algorithm>
#include <numeric>

namespace thalia::transport {

std::vector<double> EstimateCosts(const kernel::BrainSpec& spec) {
  std::vector<double> cost(spec.regions.size(), 0);
  auto synapses = [&](const kernel::PathwaySpec& p) {
    const auto& src = spec.regions[p.from_region].populations[p.from_pop];
    const auto& dst = spec.regions[p.to_region].populations[p.to_pop];
    double per_target = p.indegree > 0 ? p.indegree : static_cast<double>(p.p) * src.size;
    return per_target * dst.size;
  };
  for (const kernel::RegionSpec& r : spec.regions) {
    cost[r.id] += r.size;
    for (const kernel::PathwaySpec& p : r.pathways) cost[r.id] += 0.05 * synapses(p);
  }
  for (const kernel::PathwaySpec& p : spec.pathways) cost[p.to_region] += 0.05 * synapses(p);
  return cost;
}

Result<std::vector<int>> PlaceRegions(const kernel::BrainSpec& spec, const std::vector<double>& costs,
                                      int workers, const std::vector<int>& override_placement) {
  const int n = static_cast<int>(spec.regions.size());
  if (n == 0) return Status::Invalid("the configuration has no regions to place");
  if (workers < 1) workers = 1;
  std::vector<int> place(n, -1);
  auto check_all_used = [&](int count, const char* source) -> Status {
    std::vector<bool> used(count, false);
    for (int w : place) used[w] = true;
    for (int w = 0; w < count; ++w)
      if (!used[w])
        return Status::Invalid(std::string(source) + ": worker " + std::to_string(w) +
                               " hosts no region (use fewer workers)");
    return Status::Ok();
  };
  if (!override_placement.empty()) {
    if (static_cast<int>(override_placement.size()) != n)
      return Status::Invalid("placement: expected one worker per region (" + std::to_string(n) + "), got " +
                             std::to_string(override_placement.size()));
    for (int r = 0; r < n; ++r) {
      int w = override_placement[r];
      if (w < 0 || w >= workers)
        return Status::Invalid("placement: region '" + spec.regions[r].name + "' on worker " + std::to_string(w) +
                               ", but workers are 0.." + std::to_string(workers - 1));
      place[r] = w;
    }
    THALIA_RETURN_IF_ERROR(check_all_used(workers, "placement"));
    return place;
  }
  workers = std::min(workers, n);
  std::vector<double> load(workers, 0);
  for (int r = 0; r < n; ++r) {
    int w = spec.regions[r].worker;
    if (w < 0) continue;
    if (w >= workers)
      return Status::Invalid("region '" + spec.regions[r].name + "': \"worker\": " + std::to_string(w) +
                             ", but this run has workers 0.." + std::to_string(workers - 1));
    place[r] = w;
    load[w] += costs[r];
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return costs[a] > costs[b]; });
  for (int r : order) {
    if (place[r] >= 0) continue;
    int best = 0;
    for (int w = 1; w < workers; ++w)
      if (load[w] < load[best]) best = w;
    place[r] = best;
    load[best] += costs[r];
  }
  THALIA_RETURN_IF_ERROR(check_all_used(workers, "configured placement"));
  return place;
}

}  // namespace thalia::transport
