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

std::vector<uint32_t> PartBounds(const kernel::BrainSpec& spec, kernel::RegionId r, uint32_t parts) {
  const kernel::RegionSpec& region = spec.regions[r];
  // Cost per neuron of each population: 1 plus 0.05 per synapse onto it (as EstimateCosts).
  std::vector<double> per(region.populations.size(), 1.0);
  auto add = [&](const kernel::PathwaySpec& p) {
    if (p.to_region != r) return;
    const auto& src = spec.regions[p.from_region].populations[p.from_pop];
    per[p.to_pop] += 0.05 * (p.indegree > 0 ? p.indegree : static_cast<double>(p.p) * src.size);
  };
  for (const kernel::PathwaySpec& p : region.pathways) add(p);
  for (const kernel::PathwaySpec& p : spec.pathways) add(p);
  std::vector<double> cum = {0};  // cost of neurons [0, i)
  for (size_t k = 0; k < region.populations.size(); ++k)
    for (uint32_t i = 0; i < region.populations[k].size; ++i) cum.push_back(cum.back() + per[k]);
  const uint32_t n = region.size;
  const uint32_t align = n / parts >= 64 ? 16 : 1;
  std::vector<uint32_t> bounds = {0};
  for (uint32_t k = 1; k < parts; ++k) {
    const double goal = cum.back() * k / parts;
    uint32_t at = static_cast<uint32_t>(std::lower_bound(cum.begin(), cum.end(), goal) - cum.begin());
    at = (at + align / 2) / align * align;
    at = std::max(at, bounds.back() + 1);
    if (at >= n) break;
    bounds.push_back(at);
  }
  bounds.push_back(n);
  return bounds;
}

Result<PartPlacement> PlaceParts(const kernel::BrainSpec& spec, const std::vector<double>& costs, int workers,
                                 const std::vector<int>& override_placement,
                                 const std::vector<std::vector<int>>& split) {
  const size_t n = spec.regions.size();
  PartPlacement out(n);
  auto cut = [&](kernel::RegionId r, const std::vector<int>& on) -> Status {
    const std::vector<uint32_t> b = PartBounds(spec, r, static_cast<uint32_t>(on.size()));
    if (b.size() != on.size() + 1)
      return Status::Invalid("placement: region '" + spec.regions[r].name + "' cannot be cut into " +
                             std::to_string(on.size()) + " parts");
    for (size_t k = 0; k + 1 < b.size(); ++k) out[r].push_back({on[k], b[k], b[k + 1]});
    return Status::Ok();
  };
  if (!split.empty()) {
    if (split.size() != n)
      return Status::Invalid("placement: expected one entry per region (" + std::to_string(n) + "), got " +
                             std::to_string(split.size()));
    int count = 0;
    for (kernel::RegionId r = 0; r < n; ++r) {
      const std::vector<int>& on = split[r];
      const std::string name = "placement: region '" + spec.regions[r].name + "'";
      if (on.empty()) return Status::Invalid(name + " has no worker");
      if (on.size() > spec.regions[r].size)
        return Status::Invalid(name + " has " + std::to_string(spec.regions[r].size) + " neurons, fewer than the " +
                               std::to_string(on.size()) + " parts asked for");
      for (size_t k = 0; k < on.size(); ++k) {
        if (on[k] < 0 || (workers > 0 && on[k] >= workers))
          return Status::Invalid(name + " on worker " + std::to_string(on[k]) + ", but workers are 0.." +
                                 std::to_string(workers - 1));
        for (size_t j = 0; j < k; ++j)
          if (on[j] == on[k])
            return Status::Invalid(name + " has two parts on worker " + std::to_string(on[k]));
        count = std::max(count, on[k] + 1);
      }
      THALIA_RETURN_IF_ERROR(cut(r, on));
    }
    std::vector<bool> used(static_cast<size_t>(count), false);
    for (const auto& parts : out)
      for (const PartPlace& p : parts) used[static_cast<size_t>(p.worker)] = true;
    for (int w = 0; w < count; ++w)
      if (!used[static_cast<size_t>(w)])
        return Status::Invalid("placement: worker " + std::to_string(w) + " hosts no region (use fewer workers)");
    return out;
  }
  bool pinned = false;
  for (const kernel::RegionSpec& r : spec.regions) pinned = pinned || r.worker >= 0;
  if (workers <= static_cast<int>(n) || !override_placement.empty() || pinned) {
    auto place = PlaceRegions(spec, costs, workers, override_placement);
    if (!place.ok()) return place.status();
    for (kernel::RegionId r = 0; r < n; ++r) out[r].push_back({place.value()[r], 0, spec.regions[r].size});
    return out;
  }
  std::vector<uint32_t> parts(n, 1);
  auto splittable = [&](kernel::RegionId r) {
    const kernel::Tick d = kernel::MinInternalDelayTicks(spec.regions[r], spec.dt_ms);
    return spec.regions[r].size / (parts[r] + 1) >= kMinPartNeurons && (d == 0 || d >= kMinSplitDelayTicks);
  };
  for (int extra = workers - static_cast<int>(n); extra > 0; --extra) {
    int best = -1;
    for (kernel::RegionId r = 0; r < n; ++r)
      if (splittable(r) && (best < 0 || costs[r] / parts[r] > costs[static_cast<size_t>(best)] / parts[static_cast<size_t>(best)]))
        best = static_cast<int>(r);
    if (best < 0) break;
    ++parts[static_cast<size_t>(best)];
  }
  int next = 0;
  for (kernel::RegionId r = 0; r < n; ++r) {
    std::vector<int> on(parts[r]);
    for (int& w : on) w = next++;
    THALIA_RETURN_IF_ERROR(cut(r, on));
  }
  return out;
}

}  // namespace thalia::transport
