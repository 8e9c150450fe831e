// The saved state of a population region: every array in the unsplit region's global order, so
// saved states, digests and checkpoints are the same however the region is split into shards,
// and a state saved with one split loads into any other.
#include <algorithm>
#include <bit>
#include <string>

#include "kernel/digest.h"
#include "kernel/population_region.h"

namespace thalia::kernel {
namespace {

// Whether every element has exactly the bits of `x` (so -0 differs from +0, and NaNs compare).
bool AllBitsEqual(std::span<const float> a, float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  return std::all_of(a.begin(), a.end(), [&](float y) { return std::bit_cast<uint32_t>(y) == bits; });
}

}  // namespace

void PopulationRegion::Materialize(Group* g) {
  if (!g->uniform) return;
  g->weight.assign(g->target.size(), g->w0);
  g->uniform = false;
}

std::vector<float> PopulationRegion::GatherWeights(uint32_t gi) const {
  // The unsplit row of a source is its rows in the shards, in shard order (targets ascend
  // within a row and shards own ascending ranges).
  const Group& first = shards_[0].groups[gi];
  if (first.uniform) return std::vector<float>(SynapseCountOf(gi), first.w0);  // alike in every shard
  const uint32_t src_size = paths_[first.path].src_size;
  std::vector<float> w;
  w.reserve(SynapseCountOf(gi));
  for (uint32_t s = 0; s < src_size; ++s)
    for (const Shard& sh : shards_) {
      const Group& g = sh.groups[gi];
      w.insert(w.end(), g.weight.begin() + g.row[s], g.weight.begin() + g.row[s + 1]);
    }
  return w;
}

void PopulationRegion::ScatterWeights(uint32_t gi, std::span<const float> w) {
  const uint32_t src_size = paths_[shards_[0].groups[gi].path].src_size;
  size_t i = 0;
  for (Shard& sh : shards_) Materialize(&sh.groups[gi]);
  for (uint32_t s = 0; s < src_size; ++s) {
    // A part's piece of the source's unsplit row starts after the synapses of earlier parts.
    if (is_part()) i = part_rows_[gi].whole_start[s] + part_rows_[gi].before[s];
    for (Shard& sh : shards_) {
      Group& g = sh.groups[gi];
      for (uint32_t k = g.row[s]; k < g.row[s + 1]; ++k) g.weight[k] = w[i++];
    }
  }
}

uint64_t PopulationRegion::WeightSum(uint32_t gi) const {
  uint64_t sum = 0;
  for (const Shard& sh : shards_) {
    const Group& g = sh.groups[gi];
    const uint32_t src_size = paths_[g.path].src_size;
    const uint32_t w0 = std::bit_cast<uint32_t>(g.w0);
    for (uint32_t s = 0; s < src_size; ++s)
      for (uint32_t k = g.row[s]; k < g.row[s + 1]; ++k)
        sum += MixSynapse(s, g.target[k], g.uniform ? w0 : std::bit_cast<uint32_t>(g.weight[k]));
  }
  return sum;
}

uint64_t PopulationRegion::SynapseCountOf(uint32_t gi) const {
  uint64_t n = 0;
  for (const Shard& sh : shards_) n += sh.groups[gi].target.size();
  return n;
}

bool PopulationRegion::PerturbWeightForTest(float delta) {
  for (uint32_t gi = 0; gi < shards_[0].groups.size(); ++gi) {
    if (SynapseCountOf(gi) == 0) continue;
    std::vector<float> w = GatherWeights(gi);
    w[0] += delta;
    ScatterWeights(gi, w);
    return true;
  }
  return false;
}

std::vector<uint64_t> PopulationRegion::PackArrivals() { return shards_[0].queue.Pack(tick_); }

size_t PopulationRegion::StateBytesHint() const {
  constexpr size_t kPerArray = 64;  // name, table and alignment
  size_t bytes = 4 * 8 + 6 * (static_cast<size_t>(v_.size()) * 4 + kPerArray);
  bytes += shards_[0].queue.Pending() * 3 * 8;
  for (const Path& p : paths_) bytes += p.post_trace.size() * 4 + kPerArray;
  for (uint32_t gi = 0; gi < shards_[0].groups.size(); ++gi)
    bytes += SynapseCountOf(gi) * 4 + shards_[0].groups[gi].pre_trace.size() * 4 + 2 * kPerArray;
  return bytes;
}

void PopulationRegion::VisitState(StateVisitor& v) {
  const RegionCounters c = counters();
  std::vector<uint64_t> scalars = {tick_, c.spikes, c.synaptic_events, c.neuron_updates};
  v.Counters("scalars", scalars);
  // A part (RestrictTo) shows its own neurons' share of each per-neuron array, and the arrays
  // every part holds alike (queue, presynaptic traces) only from the part that starts at 0, so
  // the parts' digests add up to the unsplit region's. It loads the whole region's state (its
  // neuron arrays are region-sized anyway) and saves a masked one: the whole region's arrays
  // with zero bits outside its own neurons and synapses, which JoinPartStates joins.
  const bool part = is_part() && v.hashing();
  const bool masked = is_part() && !v.hashing() && !v.loading();
  std::vector<float> mask_f;
  auto neurons = [&](std::string_view name, float* data, uint32_t offset, uint32_t size) {
    if (masked) {
      mask_f.assign(size, 0.0f);
      const uint32_t lo = std::clamp(part_lo_, offset, offset + size) - offset;
      const uint32_t hi = std::clamp(part_hi_, offset, offset + size) - offset;
      std::copy(data + lo, data + hi, mask_f.begin() + lo);
      return v.F32(name, mask_f, false);
    }
    if (!part) return v.F32(name, {data, size}, false);
    const uint32_t lo = std::clamp(part_lo_, offset, offset + size) - offset;
    const uint32_t hi = std::clamp(part_hi_, offset, offset + size) - offset;
    v.F32Slice(name, {data + lo, hi - lo}, lo, size, false);
  };
  auto shared = [&](std::string_view name, std::span<float> data) {
    if (!part) return v.F32(name, data, false);
    const size_t n = part_lo_ == 0 ? data.size() : 0;
    v.F32Slice(name, data.first(n), data.size() - n, data.size(), false);
  };
  const uint32_t n = spec_.size;
  neurons("v", v_.data(), 0, n);
  neurons("syn_e", se_.data(), 0, n);
  neurons("syn_i", si_.data(), 0, n);
  neurons("adaptation", w_.data(), 0, n);
  neurons("i_ext", iext_.data(), 0, n);
  if (masked) {
    std::vector<int32_t> r(n, 0);
    std::copy(refr_.data() + part_lo_, refr_.data() + part_hi_, r.begin() + part_lo_);
    v.I32("refractory", r);
  } else if (!part) {
    v.I32("refractory", {refr_.data(), static_cast<size_t>(refr_.size())});
  } else {
    v.I32Slice("refractory", {refr_.data() + part_lo_, part_hi_ - part_lo_}, part_lo_, n);
  }
  std::vector<uint64_t> arrivals = v.loading() ? std::vector<uint64_t>() : PackArrivals();
  if (v.hashing()) {
    // A multiset: a part counts the arrivals of its own neurons' spikes (only it has those of
    // its latest epoch) and, if it starts at 0, those from other regions (every part has them).
    uint64_t count = 0, sum = 0;
    for (size_t k = 0; k + 2 < arrivals.size(); k += 3) {
      const uint32_t source = static_cast<uint32_t>(arrivals[k + 1] >> 32);
      const uint32_t neuron = static_cast<uint32_t>(arrivals[k + 1]);
      const bool mine = source == spec_.id ? neuron >= part_lo_ && neuron < part_hi_ : part_lo_ == 0;
      if (!mine) continue;
      ++count;
      sum += MixArrival(arrivals[k], arrivals[k + 1], arrivals[k + 2]);
    }
    v.SetSum("arrivals", count, sum, false);
  } else {
    v.U64("arrivals", arrivals);
  }
  for (size_t i = 0; i < paths_.size(); ++i)
    if (paths_[i].plastic)
      neurons("path" + std::to_string(i) + ".post_trace", paths_[i].post_trace.data(),
              paths_[i].tgt_offset, paths_[i].tgt_size);
  const bool split = shards_.size() > 1;
  for (uint32_t i = 0; i < shards_[0].groups.size(); ++i) {
    Group& g = shards_[0].groups[i];  // path, delay and uniformity are alike in every shard
    const std::string weight_name = "group" + std::to_string(i) + ".weight";
    if (v.hashing()) {
      if (v.wants_heavy()) v.SetSum(weight_name, SynapseCountOf(i), WeightSum(i), true);
    } else if (is_part() && v.loading()) {  // the whole group's weights, in the unsplit order
      std::vector<float> w(part_rows_[i].whole_start.back(), g.w0);
      v.F32(weight_name, w, true);
      if (!g.uniform || !AllBitsEqual(w, g.w0)) ScatterWeights(i, w);
    } else if (is_part()) {  // saving: this part's weights in their unsplit places, zeros elsewhere
      std::vector<float> w(part_rows_[i].whole_start.back(), 0.0f);
      const uint32_t src_size = paths_[g.path].src_size;
      for (uint32_t s = 0; s < src_size; ++s) {
        uint64_t at = part_rows_[i].whole_start[s] + part_rows_[i].before[s];
        for (const Shard& sh : shards_) {
          const Group& gs = sh.groups[i];
          for (uint32_t k = gs.row[s]; k < gs.row[s + 1]; ++k) w[at++] = gs.uniform ? gs.w0 : gs.weight[k];
        }
      }
      v.F32(weight_name, w, true);
    } else if (!g.uniform && !split) {
      v.F32(weight_name, g.weight, true);
    } else if (v.wants_heavy()) {
      // Visited as the per-synapse array it stands for, in the unsplit order, so saved states
      // and digests depend neither on the storage nor on the split; a loaded array that is not
      // uniform any more is kept as such.
      std::vector<float> w = GatherWeights(i);
      v.F32(weight_name, w, true);
      if (v.loading() && (!g.uniform || !AllBitsEqual(w, g.w0))) ScatterWeights(i, w);
    }
    if (paths_[g.path].plastic) {
      const std::string trace_name = "group" + std::to_string(i) + ".pre_trace";
      shared(trace_name, g.pre_trace);
      // Every shard keeps the same copy.
      if (v.loading())
        for (size_t k = 1; k < shards_.size(); ++k) shards_[k].groups[i].pre_trace = g.pre_trace;
    }
  }
  if (v.loading()) {
    if (scalars.size() == 4) {
      tick_ = scalars[0];
      for (Shard& sh : shards_) sh.counters = {};
      // Counters are sums over the shards, and over a region's parts: the first part has them.
      if (part_lo_ == 0) shards_[0].counters = {scalars[1], scalars[2], scalars[3]};
    }
    loaded_arrivals_ = std::move(arrivals);
  }
}

void PopulationRegion::FinishLoad() {
  for (Shard& sh : shards_) sh.queue.Clear();
  const std::vector<Group>& groups = shards_[0].groups;
  for (size_t i = 0; i + 2 < loaded_arrivals_.size(); i += 3) {
    Tick t = loaded_arrivals_[i];
    uint32_t source = static_cast<uint32_t>(loaded_arrivals_[i + 1] >> 32);
    uint32_t neuron = static_cast<uint32_t>(loaded_arrivals_[i + 1]);
    uint32_t group = static_cast<uint32_t>(loaded_arrivals_[i + 2]);
    if (group >= groups.size() || t < tick_ || t >= tick_ + shards_[0].queue.span()) continue;
    const Path& p = paths_[groups[group].path];
    if (source != p.spec.from_region || neuron < p.src_offset || neuron >= p.src_offset + p.src_size)
      continue;
    for (Shard& sh : shards_) sh.queue.Schedule(tick_, t, Arrival::Key(source, neuron, group));
  }
  loaded_arrivals_.clear();
}

}  // namespace thalia::kernel
