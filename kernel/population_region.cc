// The population engine. Within a tick the order is fixed: (1) events due at the tick, in canonical
// order (source region, source neuron, group); (2) external inputs; (3) Poisson drives; (4) the
// neuron update, population by population, neurons in index order; (5) the consequences of each
// spike in neuron order (scheduling, potentiation); (6) trace decay. Every floating-point sum
// therefore runs in one order, whatever process hosts the region and however epochs are cut.
#include "kernel/population_region.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numeric>
#include <span>
#include <stdexcept>
#include <tuple>

#include "kernel/detmath.h"
#include "kernel/random.h"
#include "kernel/simd.h"

namespace thalia::kernel {
namespace {

float Propagator(double dt, double tau) { return static_cast<float>(DetExp(-dt / tau)); }

// Whether every element has exactly the bits of `x` (so -0 differs from +0, and NaNs compare).
bool AllBitsEqual(std::span<const float> a, float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  return std::all_of(a.begin(), a.end(), [&](float y) { return std::bit_cast<uint32_t>(y) == bits; });
}

// Poisson counts from random words: k = the first index with word < thr[k], at most thr.size() - 1
// (thr is non-decreasing and >= 1). In 32 bits: word >= thr[j] <=> word > thr[j] - 1, and
// thr[j] = 2^32 becomes 0xffffffff, which no word exceeds. The first two comparisons run
// branch-free (vectorised) over blocks of the population; only in a block with a word above
// thr[1] - 1 (rare at the usual rates) do those words walk the rest of the table.
THALIA_VECTOR_CLONES void CountPoisson(uint32_t n, const uint32_t* __restrict words,
                                       const std::vector<uint64_t>& thr, uint32_t* __restrict k) {
  const uint32_t a0 = static_cast<uint32_t>(thr[0] - 1);
  const uint32_t a1 = thr.size() > 2 ? static_cast<uint32_t>(thr[1] - 1) : 0xffffffffu;
  const bool longer = thr.size() > 3;
  constexpr uint32_t kBlock = 64;
  for (uint32_t b = 0; b < n; b += kBlock) {
    const uint32_t e = std::min(n, b + kBlock);
    uint32_t high = 0;
    for (uint32_t i = b; i < e; ++i) {
      const uint32_t above = static_cast<uint32_t>(words[i] > a1);
      k[i] = static_cast<uint32_t>(words[i] > a0) + above;
      high |= above;
    }
    if (!longer || high == 0) continue;
    for (uint32_t i = b; i < e; ++i) {
      if (k[i] < 2) continue;
      const uint64_t x = words[i];
      uint32_t c = 2;
      while (c + 1 < thr.size() && x >= thr[c]) ++c;
      k[i] = c;
    }
  }
}

// in[i] += counts[i] * weight.
THALIA_VECTOR_CLONES void AddCounts(uint32_t n, const uint32_t* __restrict counts, float weight,
                                    float* __restrict in) {
  for (uint32_t i = 0; i < n; ++i) in[i] += static_cast<float>(counts[i]) * weight;
}

// The membrane steps, one per synapse kind, as free functions over restrict pointers so that
// they vectorise; every neuron sees the same float operations in the same order. Each step also
// clears the tick's inputs it has consumed (ie, ii), which saves a separate pass over them.
THALIA_VECTOR_CLONES void StepDelta(uint32_t n, float v_rest, float pm, float omp, float bias, float* __restrict v,
               const float* __restrict iext, const float* __restrict w, float* __restrict ie,
               float* __restrict ii) {
  for (uint32_t i = 0; i < n; ++i) {
    v[i] = v_rest + (v[i] - v_rest) * pm + (bias + iext[i] - w[i]) * omp + ie[i] - ii[i];
    ie[i] = 0.0f;
    ii[i] = 0.0f;
  }
}

THALIA_VECTOR_CLONES void StepCurrent(uint32_t n, float v_rest, float pm, float omp, float pem, float pim, float pe,
                 float pi, float bias, float* __restrict v, float* __restrict se,
                 float* __restrict si, const float* __restrict iext, const float* __restrict w,
                 float* __restrict ie, float* __restrict ii) {
  for (uint32_t i = 0; i < n; ++i) {
    const float e = se[i] + ie[i], h = si[i] + ii[i];
    v[i] = v_rest + (v[i] - v_rest) * pm + (bias + iext[i] - w[i]) * omp + e * pem - h * pim;
    se[i] = e * pe;
    si[i] = h * pi;
    ie[i] = 0.0f;
    ii[i] = 0.0f;
  }
}

// Conductance: exact decay of g, Euler step of V with g held over the step.
THALIA_VECTOR_CLONES void StepConductance(uint32_t n, float v_rest, float dto, float e_exc, float e_inh, float pe,
                     float pi, float bias, float* __restrict v, float* __restrict se,
                     float* __restrict si, const float* __restrict iext,
                     const float* __restrict w, float* __restrict ie, float* __restrict ii) {
  for (uint32_t i = 0; i < n; ++i) {
    const float e = se[i] + ie[i], h = si[i] + ii[i], vi = v[i];
    v[i] = vi + dto * (-(vi - v_rest) - e * (vi - e_exc) - h * (vi - e_inh) + bias + iext[i] - w[i]);
    se[i] = e * pe;
    si[i] = h * pi;
    ie[i] = 0.0f;
    ii[i] = 0.0f;
  }
}

// Refractoriness, threshold and reset of neurons [0, n), branch-free so that it vectorises: a
// refractory neuron counts down clamped at v_reset; any other neuron at or above threshold fires
// (v_reset, a new refractory period, the adaptation jump) and gets fired[i] = 1. Returns whether
// any neuron fired. The choices are bit masks over the floats' bits (g++ does not if-convert float
// selects), so every stored value is exactly the one the branching form would store.
THALIA_VECTOR_CLONES bool Threshold(uint32_t n, float v_reset, float v_thresh, float adapt_b, int32_t ref_ticks,
               float* __restrict v, int32_t* __restrict refr, float* __restrict w,
               int32_t* __restrict fired) {
  const int32_t reset_bits = std::bit_cast<int32_t>(v_reset);
  int32_t any = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t r = refr[i];
    const float vi = v[i], wi = w[i], jumped = wi + adapt_b;
    const int32_t refractory = -static_cast<int32_t>(r > 0);       // all ones or zero
    const int32_t fires = -static_cast<int32_t>(vi >= v_thresh) & ~refractory;
    const int32_t reset = refractory | fires;
    v[i] = std::bit_cast<float>((reset & reset_bits) | (~reset & std::bit_cast<int32_t>(vi)));
    // r - 1 in unsigned arithmetic: the same bits for every counting-down r, and defined for any
    // value a loaded state may hold (INT_MIN - 1 would overflow).
    const int32_t r_minus_1 = static_cast<int32_t>(static_cast<uint32_t>(r) - 1u);
    refr[i] = (refractory & r_minus_1) | (fires & ref_ticks) | (~reset & r);
    w[i] = std::bit_cast<float>((fires & std::bit_cast<int32_t>(jumped)) | (~fires & std::bit_cast<int32_t>(wi)));
    fired[i] = fires & 1;
    any |= fires;
  }
  return any != 0;
}

}  // namespace

PopulationRegion::PopulationRegion(const BrainSpec& brain, RegionId id)
    : spec_(brain.regions[id]), seed_(brain.seed), dt_ms_(brain.dt_ms), modulators_(brain) {
  const uint32_t n = spec_.size;
  v_ = Eigen::ArrayXf::Zero(n);
  se_ = Eigen::ArrayXf::Zero(n);
  si_ = Eigen::ArrayXf::Zero(n);
  w_ = Eigen::ArrayXf::Zero(n);
  iext_ = Eigen::ArrayXf::Zero(n);
  refr_ = Eigen::ArrayXi::Zero(n);
  in_e_ = Eigen::ArrayXf::Zero(n);
  in_i_ = Eigen::ArrayXf::Zero(n);
  stream_owner_ = RandomStream::HashName(spec_.name);
  RandomStream rng(seed_, stream_owner_);
  for (const PopulationSpec& pop : spec_.populations) {
    const NeuronSpec& ns = pop.neuron;
    PopConst c{};
    double dt = dt_ms_;
    c.pm = Propagator(dt, ns.tau_m_ms);
    c.pe = Propagator(dt, ns.tau_e_ms);
    c.pi = Propagator(dt, ns.tau_i_ms);
    c.pw = Propagator(dt, ns.tau_w_ms);
    c.one_minus_pm = static_cast<float>(1.0 - DetExp(-dt / ns.tau_m_ms));
    c.dt_over_tau = static_cast<float>(dt / ns.tau_m_ms);
    auto coupling = [&](double tau_s) {
      double tm = ns.tau_m_ms;
      if (std::fabs(tau_s - tm) < 1e-9) return static_cast<float>(dt / tm * DetExp(-dt / tm));
      return static_cast<float>(tau_s / (tau_s - tm) * (DetExp(-dt / tau_s) - DetExp(-dt / tm)));
    };
    c.pem = coupling(ns.tau_e_ms);
    c.pim = coupling(ns.tau_i_ms);
    c.ref_ticks = static_cast<int32_t>(MsToTicks(ns.refractory_ms, dt));
    pop_const_.push_back(c);
    for (uint32_t i = 0; i < pop.size; ++i) {
      uint32_t n_idx = pop.offset + i;
      auto words = rng.Draw(0, n_idx / 4, Purpose::kInit, 0);
      v_[n_idx] = ns.v_init + ns.v_init_jitter * static_cast<float>(RandomStream::Uniform(words[n_idx % 4]));
      if (ns.syn_e_init != 0 || ns.syn_e_init_jitter != 0) {
        auto we = rng.Draw(0, n_idx / 4, Purpose::kInit, 1);
        se_[n_idx] = ns.syn_e_init + ns.syn_e_init_jitter * static_cast<float>(RandomStream::Uniform(we[n_idx % 4]));
      }
      if (ns.syn_i_init != 0 || ns.syn_i_init_jitter != 0) {
        auto wi = rng.Draw(0, n_idx / 4, Purpose::kInit, 2);
        si_[n_idx] = ns.syn_i_init + ns.syn_i_init_jitter * static_cast<float>(RandomStream::Uniform(wi[n_idx % 4]));
      }
    }
  }
  for (const DriveSpec& d : spec_.drives) {
    DriveTable table;
    double lambda = double{d.rate_hz} * d.inputs * dt_ms_ / 1000.0;
    double p = DetExp(-lambda), cdf = p;
    for (int k = 0; k < 2000; ++k) {
      table.cdf.push_back(cdf);
      if (cdf >= 1.0 - 1e-12) break;
      p = p * lambda / (k + 1);
      cdf += p;
    }
    for (double c : table.cdf) table.thr.push_back(static_cast<uint64_t>(std::ceil(std::ldexp(c, 32))));
    drive_tables_.push_back(std::move(table));
  }
  groups_by_source_.resize(brain.regions.size());
  for (const PathwaySpec& p : spec_.pathways) BuildPathway(brain, p);
  for (const PathwaySpec& p : brain.pathways)
    if (p.to_region == id) BuildPathway(brain, p);
  // What a spike of each population sets off: its internal groups and the plastic paths it ends.
  spike_groups_.assign(spec_.populations.size(), {});
  spike_paths_.assign(spec_.populations.size(), {});
  for (size_t pi = 0; pi < spec_.populations.size(); ++pi) {
    const PopulationSpec& pop = spec_.populations[pi];
    for (uint32_t gi : groups_by_source_[spec_.id])
      if (paths_[groups_[gi].path].src_offset == pop.offset) spike_groups_[pi].push_back(gi);
    for (size_t k = 0; k < paths_.size(); ++k)
      if (paths_[k].plastic && paths_[k].tgt_offset == pop.offset)
        spike_paths_[pi].push_back(static_cast<uint32_t>(k));
  }
  uint32_t max_delay = 1;
  for (const Group& g : groups_) max_delay = std::max(max_delay, g.delay);
  ring_.resize(max_delay + 1);
  THALIA_CHECK_MSG(groups_.size() < (1u << 18), "more than 2^18 delay groups in one region");
}

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
  if (path.plastic) {
    path.decay_plus = Propagator(dt_ms_, ps.tau_plus_ms);
    path.decay_minus = Propagator(dt_ms_, ps.tau_minus_ms);
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
  for (Group& g : built) {
    if (path.plastic) BuildPostIndex(&g, src.size, tgt);
    path.groups.push_back(static_cast<uint32_t>(groups_.size()));
    groups_by_source_[ps.from_region].push_back(static_cast<uint32_t>(groups_.size()));
    groups_.push_back(std::move(g));
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

void PopulationRegion::Schedule(Tick at, uint32_t source, uint32_t neuron, uint32_t group) {
  THALIA_CHECK_MSG(at >= tick_ && at < tick_ + ring_.size(), "event outside the delay ring");
  ring_[at % ring_.size()].Push(Arrival::Key(source, neuron, group));
}

void PopulationRegion::SortArrivals(Slot* slot, MergeScratch* scratch) {
  std::vector<uint64_t>& a = slot->keys;
  if (slot->run_starts.empty()) return;  // one run: already in order
  // Many short runs (e.g. jittered internal delays): a sort is as good as the merges.
  constexpr size_t kMaxRuns = 32;
  if (slot->run_starts.size() >= kMaxRuns) {
    std::sort(a.begin(), a.end());
    slot->run_starts.clear();
    return;
  }
  std::vector<uint32_t>& b = scratch->bounds;
  std::vector<uint32_t>& next = scratch->next;
  std::vector<uint64_t>& out = scratch->keys;
  b.assign(1, 0);
  b.insert(b.end(), slot->run_starts.begin(), slot->run_starts.end());
  b.push_back(static_cast<uint32_t>(a.size()));
  // Bottom-up: merge neighbouring runs pairwise until one is left.
  while (b.size() > 2) {
    out.resize(a.size());
    next.clear();
    size_t i = 0;
    for (; i + 2 < b.size(); i += 2) {
      std::merge(a.begin() + b[i], a.begin() + b[i + 1], a.begin() + b[i + 1], a.begin() + b[i + 2],
                 out.begin() + b[i]);
      next.push_back(b[i]);
    }
    if (i + 1 < b.size()) {  // an odd run left over: carried as it is
      std::copy(a.begin() + b[i], a.begin() + b[i + 1], out.begin() + b[i]);
      next.push_back(b[i]);
    }
    next.push_back(static_cast<uint32_t>(a.size()));
    a.swap(out);
    b.swap(next);
  }
  slot->run_starts.clear();
}

float PopulationRegion::PlasticityFactor(const Path& p, const EpochContext&,
                                         const ModulatorState& m, Tick t) const {
  if (p.spec.plasticity == Plasticity::Stdp) return 1.0f;
  int g = p.spec.gate_modulator;
  return modulators_.Level(m, g, t) - modulators_.baseline(g);
}

void PopulationRegion::Advance(const EpochContext& ctx, std::span<const InSpike> inbound,
                               std::span<const ExternalInput> external, std::vector<Spike>* out) {
  THALIA_CHECK_MSG(ctx.t0 == tick_, "epoch does not start at the region's tick");
  for (const InSpike& s : inbound) {
    if (s.source >= groups_by_source_.size()) continue;
    for (uint32_t gi : groups_by_source_[s.source]) {
      const Group& g = groups_[gi];
      const Path& p = paths_[g.path];
      if (s.neuron < p.src_offset || s.neuron >= p.src_offset + p.src_size) continue;
      // Only a damaged or forged message can carry one (epochs never exceed the shortest delay):
      // refuse it as bad input, which the executors report naming the region, never abort.
      if (s.tick + g.delay < ctx.t0)
        throw std::invalid_argument("inbound spike of region " + std::to_string(s.source) + " neuron " +
                                    std::to_string(s.neuron) + " at tick " + std::to_string(s.tick) +
                                    " would arrive at tick " + std::to_string(s.tick + g.delay) +
                                    ", before the epoch's first tick " + std::to_string(ctx.t0));
      Schedule(s.tick + g.delay, s.source, s.neuron, gi);
    }
  }
  ModulatorState m = ctx.modulators;
  size_t ev = 0, ext = 0;
  std::vector<float>& factor = plasticity_factor_;
  std::vector<float> gate(paths_.size());
  factor.assign(paths_.size(), 0.0f);
  for (Tick t = ctx.t0; t < ctx.t1; ++t) {
    while (ev < ctx.events.size() && ctx.events[ev].tick <= t) modulators_.Apply(&m, ctx.events[ev++]);
    float theta = modulators_.ThetaSin(t);
    for (size_t i = 0; i < paths_.size(); ++i) {
      factor[i] = paths_[i].plastic ? PlasticityFactor(paths_[i], ctx, m, t) : 0.0f;
      gate[i] = paths_[i].spec.theta_gating == 0 ? 1.0f : 1.0f + paths_[i].spec.theta_gating * theta;
    }
    // (1) events due now, canonical order.
    // Canonical order (DESIGN.md): source region, then source neuron; the group breaks the tie
    // between the delay blocks a single spike travels through. The key's integer order is that.
    Slot& due = ring_[t % ring_.size()];
    SortArrivals(&due, &merge_scratch_);
    const std::vector<uint64_t>& slot = due.keys;
    for (size_t ai = 0; ai < slot.size(); ++ai) {
      // Rows are short and scattered: fetch the row bounds of the arrival 8 ahead and the synapses
      // of the arrival 4 ahead, so memory latency overlaps the work (no effect on results).
      if (ai + 8 < slot.size()) {
        const Group& pg = groups_[Arrival::Group(slot[ai + 8])];
        __builtin_prefetch(pg.row.data() + (Arrival::Neuron(slot[ai + 8]) - paths_[pg.path].src_offset));
      }
      if (ai + 4 < slot.size()) {
        const Group& pg = groups_[Arrival::Group(slot[ai + 4])];
        const uint32_t pb = pg.row[Arrival::Neuron(slot[ai + 4]) - paths_[pg.path].src_offset];
        __builtin_prefetch(pg.target.data() + pb);
        __builtin_prefetch(pg.target.data() + pb + 16);
        if (!pg.uniform) {
          __builtin_prefetch(pg.weight.data() + pb);
          __builtin_prefetch(pg.weight.data() + pb + 16);
        }
      }
      const uint64_t a = slot[ai];
      Group& g = groups_[Arrival::Group(a)];
      Path& p = paths_[g.path];
      const uint32_t s = Arrival::Neuron(a) - p.src_offset;
      const uint32_t b = g.row[s], e = g.row[s + 1];
      float* in = p.src_excitatory ? in_e_.data() : in_i_.data();
      const float gt = gate[g.path];
      counters_.synaptic_events += e - b;
      if (g.uniform) {  // the same products as below with weight[k] == w0
        const float w0 = g.w0;
        if (gt == 1.0f) {
          for (uint32_t k = b; k < e; ++k) in[g.target[k]] += w0;
        } else {
          const float wg = w0 * gt;
          for (uint32_t k = b; k < e; ++k) in[g.target[k]] += wg;
        }
      } else if (!p.plastic || factor[g.path] == 0.0f) {
        if (gt == 1.0f) {
          for (uint32_t k = b; k < e; ++k) in[g.target[k]] += g.weight[k];
        } else {
          for (uint32_t k = b; k < e; ++k) in[g.target[k]] += g.weight[k] * gt;
        }
      } else {
        const float am = p.spec.a_minus * factor[g.path];
        for (uint32_t k = b; k < e; ++k) {
          const uint32_t tg = g.target[k];
          in[tg] += g.weight[k] * gt;
          float w = g.weight[k] - am * p.post_trace[tg - p.tgt_offset];
          g.weight[k] = std::min(std::max(w, p.spec.w_min), p.spec.w_max);
        }
      }
      if (p.plastic) g.pre_trace[s] += 1.0f;
    }
    due.Clear();
    // (2) external inputs (sorted by tick by the coordinator).
    while (ext < external.size() && external[ext].tick <= t) {
      const ExternalInput& x = external[ext++];
      if (x.tick < t || x.neuron >= spec_.size) continue;
      if (x.kind == ExternalInput::kCurrent) {
        iext_[x.neuron] = x.amount;
      } else if (x.amount >= 0) {
        in_e_[x.neuron] += x.amount;
      } else {
        in_i_[x.neuron] -= x.amount;
      }
    }
    // (3) Poisson drives.
    ApplyDrives(t);
    // (4) neurons, (5) consequences of spikes.
    for (size_t pi = 0; pi < spec_.populations.size(); ++pi) {
      const PopulationSpec& pop = spec_.populations[pi];
      float bias = pop.neuron.bias + pop.neuron.theta_gain * theta;
      for (int k = 0; k < kNumModulators; ++k)
        if (pop.neuron.modulator_gain[k] != 0)
          bias += pop.neuron.modulator_gain[k] * (modulators_.Level(m, k, t) - modulators_.baseline(k));
      tick_spikes_.clear();
      UpdatePopulation(pop, pop_const_[pi], bias, t, out);
      for (NeuronId n : tick_spikes_) OnSpike(static_cast<uint32_t>(pi), n, t);
    }
    // (6) decay.
    DecayTraces();
    counters_.neuron_updates += spec_.size;
    tick_ = t + 1;
  }
}

void PopulationRegion::ApplyDrives(Tick t) {
  // k ~ Poisson: the first k with u < cdf[k], u = word / 2^32. In integers: word < thr[k] with
  // thr[k] = ceil(cdf[k] 2^32), exact, and most words end at k = 0 after one comparison.
  const RandomStream rng(seed_, stream_owner_);
  for (size_t di = 0; di < spec_.drives.size(); ++di) {
    const DriveSpec& d = spec_.drives[di];
    const PopulationSpec& pop = spec_.populations[d.population];
    const std::vector<uint64_t>& thr = drive_tables_[di].thr;
    if (thr.size() < 2) continue;  // k is always 0
    float* in = (d.excitatory ? in_e_.data() : in_i_.data()) + pop.offset;
    const uint32_t blocks = (pop.size + 3) / 4;
    drive_words_.resize(size_t{blocks} * 4);
    rng.DrawMany(t, 0, blocks, Purpose::kDrive, static_cast<uint32_t>(di), drive_words_.data());
    drive_counts_.resize(pop.size);
    CountPoisson(pop.size, drive_words_.data(), thr, drive_counts_.data());
    // k = 0 adds +0.0f, which leaves every input unchanged (inputs are never -0: they start at +0
    // and only non-negative weights are added), so the add needs no branch.
    AddCounts(pop.size, drive_counts_.data(), d.weight, in);
  }
}

void PopulationRegion::UpdatePopulation(const PopulationSpec& pop, const PopConst& c, float bias,
                                        Tick t, std::vector<Spike>* out) {
  // Two passes: the membrane update, branch-free so it vectorises, writes the candidate potential
  // of every neuron; then refractoriness, threshold and reset. Each neuron sees exactly the same
  // float operations in the same order as a single fused loop would apply.
  const NeuronSpec& ns = pop.neuron;
  float* __restrict v = v_.data() + pop.offset;
  float* __restrict se = se_.data() + pop.offset;
  float* __restrict si = si_.data() + pop.offset;
  float* __restrict w = w_.data() + pop.offset;
  const float* __restrict iext = iext_.data() + pop.offset;
  int32_t* __restrict refr = refr_.data() + pop.offset;
  float* __restrict ie = in_e_.data() + pop.offset;
  float* __restrict ii = in_i_.data() + pop.offset;
  const uint32_t n = pop.size;
  const float v_rest = ns.v_rest, pm = c.pm, omp = c.one_minus_pm, pem = c.pem, pim = c.pim,
              pe = c.pe, pi = c.pi, dto = c.dt_over_tau, e_exc = ns.e_exc, e_inh = ns.e_inh;
  switch (ns.synapse) {
    case SynapseKind::Delta:
      StepDelta(n, v_rest, pm, omp, bias, v, iext, w, ie, ii);
      break;
    case SynapseKind::Current:
      StepCurrent(n, v_rest, pm, omp, pem, pim, pe, pi, bias, v, se, si, iext, w, ie, ii);
      break;
    default:
      StepConductance(n, v_rest, dto, e_exc, e_inh, pe, pi, bias, v, se, si, iext, w, ie, ii);
      break;
  }
  const float v_reset = ns.v_reset, v_thresh = ns.v_thresh, adapt_b = ns.adapt_b, pw = c.pw;
  const size_t before = tick_spikes_.size();
  // Blocks of kBlock neurons: the vectorised threshold pass, then a scalar look for the (few)
  // neurons that fired, in index order, only in blocks where one did.
  constexpr uint32_t kBlock = 64;
  int32_t fired[kBlock];
  for (uint32_t b = 0; b < n; b += kBlock) {
    const uint32_t m = std::min(kBlock, n - b);
    if (!Threshold(m, v_reset, v_thresh, adapt_b, c.ref_ticks, v + b, refr + b, w + b, fired)) continue;
    for (uint32_t i = 0; i < m; ++i) {
      if (!fired[i]) continue;
      out->push_back({t, pop.offset + b + i});
      tick_spikes_.push_back(pop.offset + b + i);
    }
  }
  if (adapt_b != 0)  // otherwise w stays exactly 0 and the decay is a no-op
    for (uint32_t i = 0; i < n; ++i) w[i] *= pw;
  counters_.spikes += tick_spikes_.size() - before;
}

void PopulationRegion::OnSpike(uint32_t pop, NeuronId n, Tick t) {
  // The lists keep the order of groups_by_source_ and paths_, filtered to this population.
  for (uint32_t gi : spike_groups_[pop]) Schedule(t + groups_[gi].delay, spec_.id, n, gi);
  for (uint32_t pi : spike_paths_[pop]) {
    Path& p = paths_[pi];
    const uint32_t j = n - p.tgt_offset;
    const float f = plasticity_factor_[pi];
    if (f != 0.0f) {
      const float ap = p.spec.a_plus * f;
      for (uint32_t gi : p.groups) {
        Group& g = groups_[gi];
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

void PopulationRegion::DecayTraces() {
  for (Path& p : paths_) {
    if (!p.plastic) continue;
    const float dm = p.decay_minus, dp = p.decay_plus;  // locals: the loops then vectorise
    for (float& x : p.post_trace) x *= dm;
    for (uint32_t gi : p.groups)
      for (float& x : groups_[gi].pre_trace) x *= dp;
  }
}

double PopulationRegion::Cost() const {
  return static_cast<double>(spec_.size) + 0.05 * static_cast<double>(SynapseCount());
}

uint64_t PopulationRegion::SynapseCount() const {
  uint64_t n = 0;
  for (const Group& g : groups_) n += g.target.size();
  return n;
}

size_t PopulationRegion::SynapseBytes() const {
  size_t n = 0;
  for (const Group& g : groups_)
    n += g.row.size() * 4 + g.target.size() * 4 + g.weight.size() * 4 + g.post_row.size() * 4 +
         g.post_packed.size() * 4 + g.post_src.size() * 4 + g.post_syn.size() * 4 +
         g.pre_trace.size() * 4;
  return n;
}

void PopulationRegion::Materialize(Group* g) {
  if (!g->uniform) return;
  g->weight.assign(g->target.size(), g->w0);
  g->uniform = false;
}

bool PopulationRegion::PerturbWeightForTest(float delta) {
  for (Group& g : groups_) {
    if (!g.target.empty()) {
      Materialize(&g);
      g.weight[0] += delta;
      return true;
    }
  }
  return false;
}

std::vector<uint64_t> PopulationRegion::PackArrivals() {
  size_t pending = 0;
  for (const Slot& slot : ring_) pending += slot.keys.size();
  std::vector<uint64_t> packed;
  packed.reserve(3 * pending);
  for (Tick t = tick_; t < tick_ + ring_.size(); ++t) {
    Slot& slot = ring_[t % ring_.size()];
    SortArrivals(&slot, &merge_scratch_);
    for (const uint64_t a : slot.keys) {
      packed.push_back(t);
      packed.push_back((uint64_t{Arrival::Source(a)} << 32) | Arrival::Neuron(a));
      packed.push_back(Arrival::Group(a));
    }
  }
  return packed;
}

size_t PopulationRegion::StateBytesHint() const {
  constexpr size_t kPerArray = 64;  // name, table and alignment
  size_t bytes = 4 * 8 + 6 * (static_cast<size_t>(v_.size()) * 4 + kPerArray);
  for (const Slot& slot : ring_) bytes += slot.keys.size() * 3 * 8;
  for (const Path& p : paths_) bytes += p.post_trace.size() * 4 + kPerArray;
  for (const Group& g : groups_) bytes += g.target.size() * 4 + g.pre_trace.size() * 4 + 2 * kPerArray;
  return bytes;
}

void PopulationRegion::VisitState(StateVisitor& v) {
  std::vector<uint64_t> scalars = {tick_, counters_.spikes, counters_.synaptic_events,
                                   counters_.neuron_updates};
  v.U64("scalars", scalars);
  v.F32("v", {v_.data(), static_cast<size_t>(v_.size())}, false);
  v.F32("syn_e", {se_.data(), static_cast<size_t>(se_.size())}, false);
  v.F32("syn_i", {si_.data(), static_cast<size_t>(si_.size())}, false);
  v.F32("adaptation", {w_.data(), static_cast<size_t>(w_.size())}, false);
  v.F32("i_ext", {iext_.data(), static_cast<size_t>(iext_.size())}, false);
  v.I32("refractory", {refr_.data(), static_cast<size_t>(refr_.size())});
  std::vector<uint64_t> arrivals = v.loading() ? std::vector<uint64_t>() : PackArrivals();
  v.U64("arrivals", arrivals);
  for (size_t i = 0; i < paths_.size(); ++i)
    if (paths_[i].plastic) v.F32("path" + std::to_string(i) + ".post_trace", paths_[i].post_trace, false);
  for (size_t i = 0; i < groups_.size(); ++i) {
    Group& g = groups_[i];
    const std::string weight_name = "group" + std::to_string(i) + ".weight";
    if (!g.uniform) {
      v.F32(weight_name, g.weight, true);
    } else if (v.wants_heavy()) {
      // Visited as the per-synapse array it stands for, so saved states and digests do not
      // depend on the storage; a loaded array that is not uniform any more is kept as such.
      std::vector<float> w(g.target.size(), g.w0);
      v.F32(weight_name, w, true);
      if (v.loading() && !AllBitsEqual(w, g.w0)) {
        g.weight.assign(w.begin(), w.end());
        g.uniform = false;
      }
    }
    if (paths_[g.path].plastic) v.F32("group" + std::to_string(i) + ".pre_trace", g.pre_trace, false);
  }
  if (v.loading()) {
    if (scalars.size() == 4) {
      tick_ = scalars[0];
      counters_ = {scalars[1], scalars[2], scalars[3]};
    }
    loaded_arrivals_ = std::move(arrivals);
  }
}

void PopulationRegion::FinishLoad() {
  for (Slot& slot : ring_) slot.Clear();
  for (size_t i = 0; i + 2 < loaded_arrivals_.size(); i += 3) {
    Tick t = loaded_arrivals_[i];
    uint32_t source = static_cast<uint32_t>(loaded_arrivals_[i + 1] >> 32);
    uint32_t neuron = static_cast<uint32_t>(loaded_arrivals_[i + 1]);
    uint32_t group = static_cast<uint32_t>(loaded_arrivals_[i + 2]);
    if (group >= groups_.size() || t < tick_ || t >= tick_ + ring_.size()) continue;
    const Path& p = paths_[groups_[group].path];
    if (source != p.spec.from_region || neuron < p.src_offset || neuron >= p.src_offset + p.src_size)
      continue;
    ring_[t % ring_.size()].Push(Arrival::Key(source, neuron, group));
  }
  loaded_arrivals_.clear();
}

}  // namespace thalia::kernel
