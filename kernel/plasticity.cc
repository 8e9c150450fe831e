// Plasticity of the population engine: depression when a presynaptic spike arrives (with the
// postsynaptic trace), potentiation when a neuron fires (with the presynaptic traces), and the
// traces' decay. A shard changes only the weights of synapses whose targets it owns; each shard
// keeps its own copy of the presynaptic traces, which every shard computes alike from the
// arrivals (all shards see every arrival), so no shard asks another for a source's trace.
#include <algorithm>

#include "kernel/population_region.h"

namespace thalia::kernel {

void PopulationRegion::DepressRow(const Path& p, Group* g, uint32_t b, uint32_t e, float* in,
                                  float gate, float a_minus) {
  for (uint32_t k = b; k < e; ++k) {
    const uint32_t tg = g->target[k];
    in[tg] += g->weight[k] * gate;
    float w = g->weight[k] - a_minus * p.post_trace[tg - p.tgt_offset];
    g->weight[k] = std::min(std::max(w, p.spec.w_min), p.spec.w_max);
  }
}

void PopulationRegion::OnSpike(Shard& sh, uint32_t pop, NeuronId n, Tick t) {
  // The lists keep the order of groups_by_source_ and paths_, filtered to this population.
  for (uint32_t gi : spike_groups_[pop])
    sh.queue.Schedule(t, t + sh.groups[gi].delay, Arrival::Key(spec_.id, n, gi));
  for (uint32_t pi : spike_paths_[pop]) {
    Path& p = paths_[pi];
    const uint32_t j = n - p.tgt_offset;
    const float f = sh.factor[pi];
    if (f != 0.0f) {
      const float ap = p.spec.a_plus * f;
      for (uint32_t gi : p.groups) {
        Group& g = sh.groups[gi];
        if (g.compact) {
          for (uint32_t k = g.post_row[j]; k < g.post_row[j + 1]; ++k) {
            const uint32_t src = g.post_packed[k] >> 16;
            float& wk = g.weight[g.row[src] + (g.post_packed[k] & 0xffffu)];
            float w = wk + ap * g.pre_trace[src];
            wk = std::min(std::max(w, p.spec.w_min), p.spec.w_max);
          }
        } else {
          for (uint32_t k = g.post_row[j]; k < g.post_row[j + 1]; ++k) {
            float& wk = g.weight[g.post_syn[k]];
            float w = wk + ap * g.pre_trace[g.post_src[k]];
            wk = std::min(std::max(w, p.spec.w_min), p.spec.w_max);
          }
        }
      }
    }
    p.post_trace[j] += 1.0f;
  }
}

void PopulationRegion::DecayTraces(Shard& sh) {
  for (Path& p : paths_) {
    if (!p.plastic) continue;
    const float dm = p.decay_minus, dp = p.decay_plus;  // locals: the loops then vectorise
    // The postsynaptic traces of this shard's targets.
    const uint32_t lo = std::max(p.tgt_offset, sh.lo), hi = std::min(p.tgt_offset + p.tgt_size, sh.hi);
    for (uint32_t j = lo; j < hi; ++j) p.post_trace[j - p.tgt_offset] *= dm;
    for (uint32_t gi : p.groups)
      for (float& x : sh.groups[gi].pre_trace) x *= dp;
  }
}

}  // namespace thalia::kernel
