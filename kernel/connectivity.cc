// Building a region's pathways: the synapses that target the region, generated from each
// pathway's own counter-based stream into CSR groups (one per distinct delay), and the by-target
// index of plastic groups. Built unsplit, as shard 0; SetParallelism cuts them afterwards.
// Also the read-only listing of a neuron's plastic synapses (PlasticInputs) that probes use.
#include <algorithm>
#include <array>
#include <bit>
#include <numeric>

#include "kernel/detmath.h"
#include "kernel/population_region.h"
#include "kernel/random.h"

namespace thalia::kernel {

void PopulationRegion::BuildPathway(const BrainSpec& brain, const PathwaySpec& ps) {
  const RegionSpec& src_region = brain.regions[ps.from_region];
  const PopulationSpec& src = src_region.populations[ps.from_pop];
  const PopulationSpec& tgt = spec_.populations[ps.to_pop];
  Path path;
  path.spec = ps;
  path.src_offset = src.offset;
  path.src_size = src.size;
  path.src_excitatory = src.excitatory;
  path.tgt_offset = tgt.offset;
  path.tgt_size = tgt.size;
  path.plastic = ps.plasticity != Plasticity::None;
  path.internal = ps.from_region == ps.to_region;
  if (path.plastic) {
    path.decay_plus = static_cast<float>(DetExp(-dt_ms_ / ps.tau_plus_ms));
    path.decay_minus = static_cast<float>(DetExp(-dt_ms_ / ps.tau_minus_ms));
    path.post_trace.assign(tgt.size, 0.0f);
  }
  // Synapses are generated target by target from the pathway's own counter-based stream, so the
  // same calls give the same synapses again: one pass counts them per (delay, source), a second
  // writes each straight into its CSR slot. Within a row they keep generation order (targets
  // ascending). Nothing but the final arrays is held, where a list of every synapse first
  // (16 bytes each) used to be.
  RandomStream rng(brain.seed, RandomStream::HashName(ps.name));
  const bool same_pop = ps.from_region == ps.to_region && ps.from_pop == ps.to_pop;
  auto generate = [&](auto&& emit) {
    auto make = [&](uint32_t s, uint32_t t, uint32_t wword, uint32_t dword) {
      float w = ps.weight;
      if (ps.weight_jitter > 0)
        w = w * (1.0f + ps.weight_jitter * static_cast<float>(2.0 * RandomStream::Uniform(wword) - 1.0));
      // A plastic weight lives in [w_min, w_max] from the start, not only after its first update.
      if (ps.plasticity != Plasticity::None) w = std::min(std::max(w, ps.w_min), ps.w_max);
      double d = ps.delay_ms;
      if (ps.delay_jitter_ms > 0) d += ps.delay_jitter_ms * (2.0 * RandomStream::Uniform(dword) - 1.0);
      emit(s, tgt.offset + t, w, static_cast<uint32_t>(std::max<Tick>(1, MsToTicks(d, dt_ms_))));
    };
    if (ps.indegree > 0) {
      std::vector<uint32_t> words(size_t{ps.indegree} * 4);
      for (uint32_t t = 0; t < tgt.size; ++t) {
        // The first attempt of every k in one batch (the same bits as Draw(t, k, kConnect, 0)).
        rng.DrawMany(t, 0, ps.indegree, Purpose::kConnect, 0, words.data());
        for (uint32_t k = 0; k < ps.indegree; ++k) {
          std::array<uint32_t, 4> w = {words[4 * k], words[4 * k + 1], words[4 * k + 2], words[4 * k + 3]};
          for (uint32_t attempt = 0;; ++attempt) {
            if (attempt > 0) w = rng.Draw(t, k, Purpose::kConnect, attempt);
            uint32_t s = RandomStream::Below(w[0], src.size);
            if (same_pop && !ps.autapses && s == t && src.size > 1) continue;
            make(s, t, w[1], w[2]);
            break;
          }
        }
      }
    } else if (ps.p > 0) {
      const double log_q = ps.p < 1 ? DetLog(1.0 - ps.p) : 0.0;
      for (uint32_t t = 0; t < tgt.size; ++t) {
        int64_t s = -1;
        for (uint32_t k = 0;; ++k) {
          auto w = rng.Draw(t, k, Purpose::kConnect, 0);
          if (ps.p < 1) {
            double u = 1.0 - RandomStream::Uniform(w[0]);  // (0, 1]
            double skip = std::floor(DetLog(u) / log_q);
            if (skip >= static_cast<double>(src.size)) break;
            s += 1 + static_cast<int64_t>(skip);
          } else {
            s += 1;
          }
          if (s >= static_cast<int64_t>(src.size)) break;
          if (same_pop && !ps.autapses && s == t) continue;
          make(static_cast<uint32_t>(s), t, w[1], w[2]);
        }
      }
    }
  };
  // Pass 1: one CSR group per distinct delay (ascending); synapses per source, counted in
  // row[source + 1]; whether a group's weights are all the same float.
  struct Seen {
    uint32_t delay;
    BigVector<uint32_t> row;
    uint32_t w_bits = 0;
    bool same_weight = true;
  };
  std::vector<int32_t> group_of_delay(65536, -1);  // in pass 1, the index in `seen`
  std::vector<Seen> seen;
  generate([&](uint32_t s, uint32_t, float w, uint32_t delay) {
    int32_t& i = group_of_delay[delay];
    if (i < 0) {
      i = static_cast<int32_t>(seen.size());
      seen.push_back({delay, BigVector<uint32_t>(size_t{src.size} + 1, 0), std::bit_cast<uint32_t>(w), true});
    }
    Seen& g = seen[i];
    ++g.row[s + 1];
    g.same_weight = g.same_weight && std::bit_cast<uint32_t>(w) == g.w_bits;
  });
  std::sort(seen.begin(), seen.end(), [](const Seen& a, const Seen& b) { return a.delay < b.delay; });
  const uint32_t path_index = static_cast<uint32_t>(paths_.size());
  std::vector<Group> built(seen.size());
  std::vector<std::vector<uint32_t>> fill(seen.size());  // the next free slot of each row
  for (size_t i = 0; i < seen.size(); ++i) {
    Group& g = built[i];
    group_of_delay[seen[i].delay] = static_cast<int32_t>(i);
    g.path = path_index;
    g.delay = seen[i].delay;
    g.row = std::move(seen[i].row);
    // Specifications from configurations never get here (kMaxSynapsesPerPathway); one built in
    // code could, and must not wrap the 32-bit row offsets.
    THALIA_CHECK_MSG(std::accumulate(g.row.begin(), g.row.end(), uint64_t{0}) <= kMaxSynapsesPerPathway,
                     "pathway with more than kMaxSynapsesPerPathway synapses");
    std::inclusive_scan(g.row.begin(), g.row.end(), g.row.begin());
    const uint32_t count = g.row[src.size];
    g.target.resize(count);
    // A static group whose weights are all the same float keeps that one float.
    if (!path.plastic && count > 0 && seen[i].same_weight) {
      g.uniform = true;
      g.w0 = std::bit_cast<float>(seen[i].w_bits);
    } else {
      g.weight.resize(count);
    }
    fill[i].assign(g.row.begin(), g.row.end() - 1);
  }
  seen = {};
  // Pass 2: the same synapses again, each into its slot.
  generate([&](uint32_t s, uint32_t t, float w, uint32_t delay) {
    const int32_t gi = group_of_delay[delay];
    Group& g = built[gi];
    const uint32_t k = fill[gi][s]++;
    g.target[k] = t;
    if (!g.uniform) g.weight[k] = w;
  });
  fill = {};
  std::vector<Group>& groups = shards_[0].groups;
  for (Group& g : built) {
    if (path.plastic) BuildPostIndex(&g, src.size, tgt);
    path.groups.push_back(static_cast<uint32_t>(groups.size()));
    groups_by_source_[ps.from_region].push_back(static_cast<uint32_t>(groups.size()));
    groups.push_back(std::move(g));
  }
  paths_.push_back(std::move(path));
}

void PopulationRegion::BuildPostIndex(Group* g, uint32_t src_size, const PopulationSpec& tgt) {
  // Synapses by target: for each target neuron, its synapses in source order. A synapse is named
  // by (source, offset in the source's row) packed in 32 bits when both fit in 16 bits, which
  // keeps a plastic synapse at 12 bytes; otherwise by (source, synapse index), 8 bytes more.
  const uint32_t count = g->row[src_size];
  g->pre_trace.assign(src_size, 0.0f);
  g->post_row.assign(size_t{tgt.size} + 1, 0);
  for (uint32_t k = 0; k < count; ++k) ++g->post_row[g->target[k] - tgt.offset + 1];
  for (uint32_t i = 0; i < tgt.size; ++i) g->post_row[i + 1] += g->post_row[i];
  uint32_t longest = 0;
  for (uint32_t s = 0; s < src_size; ++s) longest = std::max(longest, g->row[s + 1] - g->row[s]);
  g->compact = src_size <= 65536 && longest <= 65536;
  if (g->compact) {
    g->post_packed.resize(count);
  } else {
    g->post_src.resize(count);
    g->post_syn.resize(count);
  }
  std::vector<uint32_t> pf(g->post_row.begin(), g->post_row.end() - 1);
  for (uint32_t s = 0; s < src_size; ++s) {
    for (uint32_t k = g->row[s]; k < g->row[s + 1]; ++k) {
      const uint32_t slot = pf[g->target[k] - tgt.offset]++;
      if (g->compact) {
        g->post_packed[slot] = (s << 16) | (k - g->row[s]);
      } else {
        g->post_src[slot] = s;
        g->post_syn[slot] = k;
      }
    }
  }
}

std::vector<PopulationRegion::PlasticInput> PopulationRegion::PlasticInputs(NeuronId n) const {
  std::vector<PlasticInput> out;
  if (n >= spec_.size) return out;
  // The shard that owns n holds every synapse onto n: a split cuts rows at target boundaries, and
  // each part's by-target index lists n's synapses in the unsplit order (source, then row offset).
  const Shard* owner = &shards_.front();
  for (const Shard& sh : shards_)
    if (n >= sh.lo && n < sh.hi) owner = &sh;
  for (const Path& p : paths_) {
    if (!p.plastic || n < p.tgt_offset || n >= p.tgt_offset + p.tgt_size) continue;
    const uint32_t t = n - p.tgt_offset;
    for (uint32_t gi : p.groups) {
      const Group& g = owner->groups[gi];
      for (uint32_t slot = g.post_row[t]; slot < g.post_row[t + 1]; ++slot) {
        uint32_t src, k;
        if (g.compact) {
          src = g.post_packed[slot] >> 16;
          k = g.row[src] + (g.post_packed[slot] & 0xffffu);
        } else {
          src = g.post_src[slot];
          k = g.post_syn[slot];
        }
        out.push_back({&p.spec, p.src_offset + src, g.delay, &g.weight[k]});
      }
    }
  }
  return out;
}

std::vector<const PathwaySpec*> PopulationRegion::PlasticPathways() const {
  std::vector<const PathwaySpec*> out;
  for (const Path& p : paths_)
    if (p.plastic) out.push_back(&p.spec);
  return out;
}

}  // namespace thalia::kernel
