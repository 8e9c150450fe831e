// The population engine: construction, the epoch and the tick loop. Within a tick the order is
// fixed: (1) events due at the tick, in canonical order (source region, source neuron, group);
// (2) external inputs; (3) Poisson drives; (4) the neuron update, population by population,
// neurons in index order; (5) the consequences of each spike in neuron order (scheduling,
// potentiation); (6) trace decay. Each neuron's inputs therefore arrive in one order, whatever
// process hosts the region, however epochs are cut and however the region is split into shards:
// a shard applies every arrival to the targets it owns in the same order the unsplit region does.
#include "kernel/population_region.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernel/detmath.h"
#include "kernel/neuron_kernels.h"
#include "kernel/random.h"
#include "kernel/thread_pool.h"

namespace thalia::kernel {
namespace {

// Synapses fetched ahead in a row (DeliverDue): 8 cache lines of targets. Measured against 4
// (64 synapses): Brunel's delivery 12% faster on one shard and on two (bench/RESULTS.md).
constexpr uint32_t kRowLead = 128;

float Propagator(double dt, double tau) { return static_cast<float>(DetExp(-dt / tau)); }

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
  BuildDriveTables();
  shards_.resize(1);
  shards_[0].lo = 0;
  shards_[0].hi = n;
  part_hi_ = n;
  groups_by_source_.resize(brain.regions.size());
  for (const PathwaySpec& p : spec_.pathways) BuildPathway(brain, p);
  for (const PathwaySpec& p : brain.pathways)
    if (p.to_region == id) BuildPathway(brain, p);
  const std::vector<Group>& groups = shards_[0].groups;
  // What a spike of each population sets off: its internal groups and the plastic paths it ends.
  spike_groups_.assign(spec_.populations.size(), {});
  spike_paths_.assign(spec_.populations.size(), {});
  for (size_t pi = 0; pi < spec_.populations.size(); ++pi) {
    const PopulationSpec& pop = spec_.populations[pi];
    for (uint32_t gi : groups_by_source_[spec_.id])
      if (paths_[groups[gi].path].src_offset == pop.offset) spike_groups_[pi].push_back(gi);
    for (size_t k = 0; k < paths_.size(); ++k)
      if (paths_[k].plastic && paths_[k].tgt_offset == pop.offset)
        spike_paths_[pi].push_back(static_cast<uint32_t>(k));
  }
  uint32_t max_delay = 1;
  for (const Group& g : groups) {
    max_delay = std::max(max_delay, g.delay);
    if (paths_[g.path].internal) window_ = window_ == 0 ? g.delay : std::min<Tick>(window_, g.delay);
  }
  shards_[0].queue.Resize(max_delay);
  THALIA_CHECK_MSG(groups.size() < (1u << 18), "more than 2^18 delay groups in one region");
  // Theta's phase enters only through theta_gain and theta_gating. Without either, a bias plus
  // 0 * theta is the bias itself (x + (+-0) = x for every x but -0), so the sine is skipped.
  for (const Path& p : paths_) theta_used_ |= p.spec.theta_gating != 0;
  for (const PopulationSpec& pop : spec_.populations)
    theta_used_ |= pop.neuron.theta_gain != 0 || (pop.neuron.bias == 0 && std::signbit(pop.neuron.bias));
}

PopulationRegion::~PopulationRegion() = default;

float PopulationRegion::PlasticityFactor(const Path& p, const ModulatorState& m, Tick t) const {
  if (p.spec.plasticity == Plasticity::Stdp) return 1.0f;
  int g = p.spec.gate_modulator;
  return modulators_.Level(m, g, t) - modulators_.baseline(g);
}

void PopulationRegion::ScheduleInbound(Shard& sh, const InSpike& s, Tick t0) {
  if (s.source >= groups_by_source_.size()) return;
  for (uint32_t gi : groups_by_source_[s.source]) {
    const Group& g = sh.groups[gi];
    const Path& p = paths_[g.path];
    if (s.neuron < p.src_offset || s.neuron >= p.src_offset + p.src_size) continue;
    sh.queue.Schedule(t0, s.tick + g.delay, Arrival::Key(s.source, s.neuron, gi));
  }
}

void PopulationRegion::Advance(const EpochContext& ctx, std::span<const InSpike> inbound,
                               std::span<const ExternalInput> external, std::vector<Spike>* out) {
  THALIA_CHECK_MSG(ctx.t0 == tick_, "epoch does not start at the region's tick");
  TuneBefore();
  const uint64_t began = tune_.bounds.empty() ? 0 : ThreadPool::NowNs();
  // Only a damaged or forged message can carry a spike that arrives before the epoch (epochs
  // never exceed the shortest delay): refused as bad input, which the executors report naming
  // the region, never an abort. Checked here, before any shard runs.
  const std::vector<Group>& groups = shards_[0].groups;
  for (const InSpike& s : inbound) {
    if (s.source >= groups_by_source_.size()) continue;
    for (uint32_t gi : groups_by_source_[s.source]) {
      const Path& p = paths_[groups[gi].path];
      if (s.neuron < p.src_offset || s.neuron >= p.src_offset + p.src_size) continue;
      if (s.tick + groups[gi].delay < ctx.t0)
        throw std::invalid_argument("inbound spike of region " + std::to_string(s.source) + " neuron " +
                                    std::to_string(s.neuron) + " at tick " + std::to_string(s.tick) +
                                    " would arrive at tick " + std::to_string(s.tick + groups[gi].delay) +
                                    ", before the epoch's first tick " + std::to_string(ctx.t0));
    }
  }
  // Once per shard and epoch (not per window: with one-tick windows that would rescan the
  // shard's neuron arrays every tick). w of a population without adaptation stays +0 and only an
  // external current (which clears quiet) sets iext, so quiet holds for the whole epoch.
  auto start = [&](Shard& sh) {
    for (const InSpike& s : inbound) ScheduleInbound(sh, s, ctx.t0);
    sh.m = ctx.modulators;
    sh.ev = sh.ext = 0;
    sh.spikes.clear();
    sh.factor.resize(paths_.size());
    sh.gate.resize(paths_.size());
    uint32_t bits = 0;
    for (uint32_t i = sh.lo; i < sh.hi; ++i)
      bits |= std::bit_cast<uint32_t>(w_[i]) | std::bit_cast<uint32_t>(iext_[i]);
    sh.quiet = bits == 0;
  };
  const uint32_t k_shards = shard_count();
  if (k_shards == 1) {
    Shard& sh = shards_[0];
    start(sh);
    RunTicks(sh, ctx, external, ctx.t0, ctx.t1, 0);
    out->insert(out->end(), sh.spikes.begin(), sh.spikes.end());
  } else {
    RunShards(ctx, external, start);
    // Shards own ascending neuron ranges: tick by tick, their spikes in shard order are in
    // (tick, neuron) order.
    const size_t first = out->size();
    for (const Shard& sh : shards_) out->insert(out->end(), sh.spikes.begin(), sh.spikes.end());
    std::stable_sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
                     [](const Spike& a, const Spike& b) { return a.tick < b.tick; });
  }
  tick_ = ctx.t1;
  if (!tune_.bounds.empty()) TuneAfter(ThreadPool::NowNs() - began, ctx.t1 - ctx.t0);
}

void PopulationRegion::RunTicks(Shard& sh, const EpochContext& ctx,
                                std::span<const ExternalInput> external, Tick from, Tick to,
                                int parity) {
  for (Tick t = from; t < to; ++t) {
    while (sh.ev < ctx.events.size() && ctx.events[sh.ev].tick <= t)
      modulators_.Apply(&sh.m, ctx.events[sh.ev++]);
    const float theta = theta_used_ ? modulators_.ThetaSin(t) : 0.0f;
    for (size_t i = 0; i < paths_.size(); ++i) {
      sh.factor[i] = paths_[i].plastic ? PlasticityFactor(paths_[i], sh.m, t) : 0.0f;
      sh.gate[i] = paths_[i].spec.theta_gating == 0 ? 1.0f : 1.0f + paths_[i].spec.theta_gating * theta;
    }
    DeliverDue(sh, t);                 // (1)
    ApplyExternal(sh, external, t);    // (2)
    ApplyDrives(sh, t);                // (3)
    for (size_t pi = 0; pi < spec_.populations.size(); ++pi) {
      const PopulationSpec& pop = spec_.populations[pi];
      float bias = pop.neuron.bias + pop.neuron.theta_gain * theta;
      for (int k = 0; k < kNumModulators; ++k)
        if (pop.neuron.modulator_gain[k] != 0)
          bias += pop.neuron.modulator_gain[k] * (modulators_.Level(sh.m, k, t) - modulators_.baseline(k));
      sh.tick_spikes.clear();
      UpdatePopulation(sh, pi, bias, t);  // (4)
      for (NeuronId n : sh.tick_spikes) {
        OnSpike(sh, static_cast<uint32_t>(pi), n, t);  // (5)
        if (shards_.size() > 1 && !spike_groups_[pi].empty()) sh.outbox[parity].push_back({t, n});
      }
    }
    DecayTraces(sh);  // (6)
    sh.counters.neuron_updates += sh.hi - sh.lo;
  }
}

void PopulationRegion::DeliverDue(Shard& sh, Tick t) {
  // Canonical order (DESIGN.md): source region, then source neuron; the group breaks the tie
  // between the delay blocks a single spike travels through. The key's integer order is that.
  ArrivalSlot& due = sh.queue.Due(t);
  const std::vector<uint64_t>& slot = due.keys;
  std::vector<Group>& groups = sh.groups;
  uint64_t events = 0;  // added to the shard's counter once, not per arrival
  for (size_t ai = 0; ai < slot.size(); ++ai) {
    // Rows are short and scattered: fetch the row bounds of the arrival 8 ahead and the synapses
    // of the arrival 4 ahead, so memory latency overlaps the work (no effect on results).
    if (ai + 8 < slot.size()) {
      const Group& pg = groups[Arrival::Group(slot[ai + 8])];
      __builtin_prefetch(pg.row.data() + (Arrival::Neuron(slot[ai + 8]) - paths_[pg.path].src_offset));
    }
    if (ai + 4 < slot.size()) {
      const Group& pg = groups[Arrival::Group(slot[ai + 4])];
      const uint32_t* pr = pg.row.data() + (Arrival::Neuron(slot[ai + 4]) - paths_[pg.path].src_offset);
      const uint32_t pb = pr[0], pn = std::min<uint32_t>(kRowLead, pr[1] - pb);
      // The row's first kRowLead synapses (no further: short rows would fetch their neighbours');
      // from there on the row's loop below fetches kRowLead ahead.
      for (uint32_t l = 0; l < pn; l += 16) __builtin_prefetch(pg.target.data() + pb + l);
      if (!pg.uniform)
        for (uint32_t l = 0; l < pn; l += 16) __builtin_prefetch(pg.weight.data() + pb + l);
    }
    const uint64_t a = slot[ai];
    Group& g = groups[Arrival::Group(a)];
    Path& p = paths_[g.path];
    const uint32_t s = Arrival::Neuron(a) - p.src_offset;
    const uint32_t b = g.row[s], e = g.row[s + 1];
    float* in = p.src_excitatory ? in_e_.data() : in_i_.data();
    const float gt = sh.gate[g.path];
    events += e - b;
    if (g.uniform) {  // the same products as below with weight[k] == w0
      const float w0 = g.w0;
      // Rows are long (hundreds of synapses) and cross many cache lines: the synapses kRowLead
      // ahead are fetched while these 16 are added, in the same order as a plain loop (no effect on
      // results); a shard's piece of a row is shorter, so the hardware prefetcher alone ramps up
      // more often.
      if (gt == 1.0f) {
        const uint32_t* tg = g.target.data();
        uint32_t k = b;
        for (; k + kRowLead + 16 <= e; k += 16) {  // no fetch past the row's end
          __builtin_prefetch(tg + k + kRowLead);
          for (uint32_t j = 0; j < 16; ++j) in[tg[k + j]] += w0;
        }
        for (; k < e; ++k) in[tg[k]] += w0;
      } else {
        const float wg = w0 * gt;
        for (uint32_t k = b; k < e; ++k) in[g.target[k]] += wg;
      }
    } else if (!p.plastic || sh.factor[g.path] == 0.0f) {
      if (gt == 1.0f) {
        const uint32_t* tg = g.target.data();
        const float* wt = g.weight.data();
        uint32_t k = b;
        for (; k + kRowLead + 16 <= e; k += 16) {
          __builtin_prefetch(tg + k + kRowLead);
          __builtin_prefetch(wt + k + kRowLead);
          for (uint32_t j = 0; j < 16; ++j) in[tg[k + j]] += wt[k + j];
        }
        for (; k < e; ++k) in[tg[k]] += wt[k];
      } else {
        for (uint32_t k = b; k < e; ++k) in[g.target[k]] += g.weight[k] * gt;
      }
    } else {
      DepressRow(p, &g, b, e, in, gt, p.spec.a_minus * sh.factor[g.path]);
    }
    if (p.plastic) g.pre_trace[s] += 1.0f;
  }
  sh.counters.synaptic_events += events;
  due.Clear();
}

void PopulationRegion::ApplyExternal(Shard& sh, std::span<const ExternalInput> external, Tick t) {
  // Sorted by tick by the coordinator; each shard applies those of its own neurons.
  while (sh.ext < external.size() && external[sh.ext].tick <= t) {
    const ExternalInput& x = external[sh.ext++];
    if (x.tick < t || x.neuron < sh.lo || x.neuron >= sh.hi) continue;
    if (x.kind == ExternalInput::kCurrent) {
      iext_[x.neuron] = x.amount;
      sh.quiet = false;
    } else if (x.amount >= 0) {
      in_e_[x.neuron] += x.amount;
    } else {
      in_i_[x.neuron] -= x.amount;
    }
  }
}

void PopulationRegion::UpdatePopulation(Shard& sh, size_t pop_index, float bias, Tick t) {
  // Blocks of kBlock neurons, each in two passes: the membrane update, branch-free so it
  // vectorises, writes the candidate potential of every neuron; then refractoriness, threshold
  // and reset. Each neuron sees exactly the same float operations in the same order as a single
  // fused loop would apply. A block's arrays (~8 KiB) stay in L1 from one pass to the next, so
  // the population's arrays cross from L2 once per tick instead of twice. Quiet populations
  // (below) run both passes as one fused loop.
  const PopulationSpec& pop = spec_.populations[pop_index];
  const uint32_t lo = std::max(pop.offset, sh.lo), hi = std::min(pop.offset + pop.size, sh.hi);
  if (lo >= hi) return;
  const PopConst& c = pop_const_[pop_index];
  const NeuronSpec& ns = pop.neuron;
  float* __restrict v = v_.data() + lo;
  float* __restrict se = se_.data() + lo;
  float* __restrict si = si_.data() + lo;
  float* __restrict w = w_.data() + lo;
  const float* __restrict iext = iext_.data() + lo;
  int32_t* __restrict refr = refr_.data() + lo;
  float* __restrict ie = in_e_.data() + lo;
  float* __restrict ii = in_i_.data() + lo;
  const uint32_t n = hi - lo;
  const float v_rest = ns.v_rest, pm = c.pm, omp = c.one_minus_pm, pem = c.pem, pim = c.pim,
              pe = c.pe, pi = c.pi, dto = c.dt_over_tau, e_exc = ns.e_exc, e_inh = ns.e_inh;
  const float v_reset = ns.v_reset, v_thresh = ns.v_thresh, adapt_b = ns.adapt_b, pw = c.pw;
  // Quiet: no adaptation, and w and iext +0 (see Shard::quiet); drive is what the full Delta and
  // Current steps compute from bias, iext and w then (kernel/neuron_kernels.h).
  const bool quiet = sh.quiet && adapt_b == 0;
  const float drive = (bias + 0.0f - 0.0f) * omp;
  constexpr uint32_t kBlock = 256;
  alignas(8) uint8_t fired[kBlock];
  for (uint32_t b = 0; b < n; b += kBlock) {
    const uint32_t m = std::min(kBlock, n - b);
    if (quiet) {
      const QuietReset q{v_reset, v_thresh, c.ref_ticks};
      bool any;
      switch (ns.synapse) {
        case SynapseKind::Delta:
          any = StepDeltaQuiet(m, v_rest, pm, drive, v + b, ie + b, ii + b, q, refr + b, fired);
          break;
        case SynapseKind::Current:
          any = StepCurrentQuiet(m, v_rest, pm, drive, pem, pim, pe, pi, v + b, se + b, si + b,
                                 ie + b, ii + b, q, refr + b, fired);
          break;
        default:
          any = StepConductanceQuiet(m, v_rest, dto, e_exc, e_inh, pe, pi, bias, v + b, se + b,
                                     si + b, ie + b, ii + b, q, refr + b, fired);
          break;
      }
      if (!any) continue;
    } else {
      switch (ns.synapse) {
        case SynapseKind::Delta:
          StepDelta(m, v_rest, pm, omp, bias, v + b, iext + b, w + b, ie + b, ii + b);
          break;
        case SynapseKind::Current:
          StepCurrent(m, v_rest, pm, omp, pem, pim, pe, pi, bias, v + b, se + b, si + b, iext + b,
                      w + b, ie + b, ii + b);
          break;
        default:
          StepConductance(m, v_rest, dto, e_exc, e_inh, pe, pi, bias, v + b, se + b, si + b,
                          iext + b, w + b, ie + b, ii + b);
          break;
      }
      if (!Threshold(m, v_reset, v_thresh, adapt_b, c.ref_ticks, v + b, refr + b, w + b, fired))
        continue;
    }
    // The (few) neurons that fired, in index order: eight flags (bytes of 0 or 1) at a time, each
    // set flag one set bit of the word.
    for (uint32_t j = m; j % 8 != 0; ++j) fired[j] = 0;
    for (uint32_t j = 0; j < m; j += 8) {
      uint64_t word;
      std::memcpy(&word, fired + j, 8);
      while (word != 0) {
        const uint32_t i = lo + b + j + static_cast<uint32_t>(std::countr_zero(word)) / 8;
        sh.spikes.push_back({t, i});
        sh.tick_spikes.push_back(i);
        word &= word - 1;
      }
    }
  }
  if (adapt_b != 0)  // otherwise w stays exactly 0 and the decay is a no-op
    for (uint32_t i = 0; i < n; ++i) w[i] *= pw;
  sh.counters.spikes += sh.tick_spikes.size();
}

RegionCounters PopulationRegion::counters() const {
  RegionCounters c;
  for (const Shard& sh : shards_) {
    c.spikes += sh.counters.spikes;
    c.synaptic_events += sh.counters.synaptic_events;
    c.neuron_updates += sh.counters.neuron_updates;
  }
  return c;
}

double PopulationRegion::Cost() const {
  return static_cast<double>(part_hi_ - part_lo_) + 0.05 * static_cast<double>(SynapseCount());
}

uint64_t PopulationRegion::SynapseCount() const {
  uint64_t n = 0;
  for (const Shard& sh : shards_)
    for (const Group& g : sh.groups) n += g.target.size();
  return n;
}

size_t PopulationRegion::SynapseBytes() const {
  size_t n = 0;
  for (const Shard& sh : shards_)
    for (const Group& g : sh.groups)
      n += g.row.size() * 4 + g.target.size() * 4 + g.weight.size() * 4 + g.post_row.size() * 4 +
           g.post_packed.size() * 4 + g.post_src.size() * 4 + g.post_syn.size() * 4 +
           g.pre_trace.size() * 4;
  return n;
}

}  // namespace thalia::kernel
