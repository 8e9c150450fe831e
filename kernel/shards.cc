// Splitting a population region into shards, and running them. A split cuts every CSR group at
// the shard boundaries (targets ascend within a row, so each row's part for a shard is one
// contiguous piece); joining concatenates the pieces back. Neuron arrays are shared and stay
// whole. During an epoch each shard runs `window` ticks, then all meet at a barrier and every
// shard queues the spikes the others sent: no spike is due before that (the window is the
// smallest internal delay), and each queue sorts what it holds into the canonical order.
#include <algorithm>
#include <atomic>
#include <numeric>

#include "kernel/population_region.h"
#include "kernel/thread_pool.h"

namespace thalia::kernel {
namespace {

// Shard boundaries fall on multiples of this many neurons (a cache line of floats), so two
// threads never write one line of the shared neuron arrays.
constexpr uint32_t kShardAlign = 16;

// Choosing between the pool and the caller's thread (RunShards). Two threads that wait half of
// an epoch at barriers compute no faster than one thread: two such epochs in a row and the shards
// go to the caller; from there the pool is tried again after kProbeMin epochs, and after twice as
// many each time its threads wait more than they compute, up to kProbeMax. Within a pool epoch,
// once thread 0 has waited three quarters of at least kBailMinNs, the pool stops at the end of
// the window and the caller runs the rest.
constexpr uint32_t kProbeMin = 4, kProbeMax = 64;
constexpr uint64_t kBailMinNs = 200'000;

// Split or whole (TuneBefore, TuneAfter): regions of at most kTuneMaxSynapses synapses (a join
// or a split copies them: ~1 ms per million); each trial runs kTuneTrial epochs after one to warm
// up, and both are tried again after kTuneEvery epochs. Whole is tried only if the split's
// threads waited much at barriers, and chosen only if it is at least kTuneMargin faster, as the
// split is what was asked for.
constexpr uint64_t kTuneMaxSynapses = 2'000'000;
constexpr uint32_t kTuneTrial = 4, kTuneEvery = 1024;
constexpr double kTuneMargin = 0.97;
// Whole is tried only if the split's threads waited at least 1 / kTuneWaitShare of their time.
constexpr uint64_t kTuneWaitShare = 4;

}  // namespace

PopulationRegion::Group PopulationRegion::EmptyPart(const Group& like) const {
  Group g;
  g.path = like.path;
  g.delay = like.delay;
  g.uniform = like.uniform;
  g.w0 = like.w0;
  g.row.assign(size_t{paths_[like.path].src_size} + 1, 0);
  return g;
}

void PopulationRegion::FinishPart(Group* g, const Group& traces_of) const {
  const Path& p = paths_[g->path];
  if (!p.plastic) return;
  BuildPostIndex(g, p.src_size, spec_.populations[p.spec.to_pop]);
  g->pre_trace = traces_of.pre_trace;  // after BuildPostIndex, which zeroes them
}

std::vector<uint32_t> PopulationRegion::ShardBounds() const {
  std::vector<uint32_t> b;
  for (const Shard& sh : shards_) b.push_back(sh.lo);
  b.push_back(shards_.back().hi);
  return b;
}

std::vector<uint32_t> PopulationRegion::BalancedBounds(uint32_t shards) const {
  // A neuron costs its update plus a share for each synapse that targets it (as Cost() does).
  // Over the neurons this copy keeps, [part_lo_, part_hi_).
  const uint32_t base = part_lo_, n = part_hi_ - part_lo_;
  std::vector<double> cost(n, 1.0);
  for (const Shard& sh : shards_)
    for (const Group& g : sh.groups)
      for (uint32_t t : g.target) cost[t - base] += 0.05;
  std::vector<double> cum(size_t{n} + 1, 0.0);
  std::partial_sum(cost.begin(), cost.end(), cum.begin() + 1);
  shards = std::max(1u, std::min(shards, n / kShardAlign));
  std::vector<uint32_t> bounds = {base};
  for (uint32_t k = 1; k < shards; ++k) {
    const double goal = cum[n] * k / shards;
    uint32_t at = static_cast<uint32_t>(std::lower_bound(cum.begin(), cum.end(), goal) - cum.begin());
    at = (base + at + kShardAlign / 2) / kShardAlign * kShardAlign;  // on a line of the arrays
    if (at > bounds.back() && at < base + n) bounds.push_back(at);
  }
  bounds.push_back(base + n);
  return bounds;
}

void PopulationRegion::SetParallelism(ThreadPool* pool, uint32_t shards, bool exact) {
  pool_ = pool;
  choice_ = PoolChoice{};
  tune_ = SplitTuner{};
  const std::vector<uint32_t> bounds =
      shards > 1 ? BalancedBounds(shards) : std::vector<uint32_t>{part_lo_, part_hi_};
  if (!exact && pool && pool->size() > 1 && bounds.size() > 2 && SynapseCount() <= kTuneMaxSynapses) {
    tune_.bounds = bounds;  // SetParallelism again (a new pool) starts over
    tune_.trial = 1;
  }
  if (bounds == ShardBounds()) return;
  JoinShards();
  if (bounds.size() > 2) SplitShards(bounds);
}

void PopulationRegion::TuneBefore() {
  SplitTuner& t = tune_;
  if (t.bounds.empty()) return;
  // Profiling shows the shards on their threads: split then, whatever was chosen.
  const bool want_whole = !pool_->profiling() && (t.trial == 2 || (t.trial == 0 && t.choose_whole));
  if (want_whole == t.whole) return;
  if (want_whole) {
    JoinShards();
  } else {
    SplitShards(t.bounds);
    choice_ = PoolChoice{};
  }
  t.whole = want_whole;
}

void PopulationRegion::TuneAfter(uint64_t ns, Tick ticks) {
  SplitTuner& t = tune_;
  if (pool_->profiling()) return;
  ++t.epochs;
  if (t.trial == 0) {  // running the choice; both are tried again now and then
    if (t.epochs >= kTuneEvery) {
      t.trial = 1;
      t.epochs = 0;
    }
    return;
  }
  if (t.epochs == 1) {  // warming up: caches, the pool's choice
    t.wait_ns = t.pool_ns = 0;
    t.caller_epochs = 0;
    return;
  }
  t.ns += ns;
  t.ticks += ticks;
  if (t.epochs <= kTuneTrial) return;
  t.per_tick[t.trial - 1] = t.ticks > 0 ? static_cast<double>(t.ns) / static_cast<double>(t.ticks) : 0.0;
  t.ns = t.ticks = 0;
  t.epochs = 0;
  if (t.trial == 1) {
    // Threads that seldom wait gain what they can from the split: whole is not tried then.
    const bool waiting = t.always_try_whole || t.caller_epochs > 0 || t.wait_ns * kTuneWaitShare > t.pool_ns;
    t.trial = waiting ? 2 : 0;
    t.choose_whole = false;
  } else {
    t.trial = 0;
    t.choose_whole = t.per_tick[1] < kTuneMargin * t.per_tick[0];
  }
}

void PopulationRegion::JoinShards() {
  if (shards_.size() == 1) return;
  Shard whole;
  whole.lo = part_lo_;
  whole.hi = part_hi_;
  whole.queue = shards_[0].queue;  // every shard's queue holds every arrival
  whole.counters = counters();
  for (uint32_t gi = 0; gi < shards_[0].groups.size(); ++gi) {
    const Group& first = shards_[0].groups[gi];
    const Path& p = paths_[first.path];
    Group g = EmptyPart(first);
    for (uint32_t s = 0; s < p.src_size; ++s) {
      uint32_t count = 0;
      for (const Shard& sh : shards_) count += sh.groups[gi].row[s + 1] - sh.groups[gi].row[s];
      g.row[s + 1] = g.row[s] + count;
    }
    g.target.resize(g.row[p.src_size]);
    if (!g.uniform) g.weight.resize(g.target.size());
    uint32_t k = 0;
    for (uint32_t s = 0; s < p.src_size; ++s)
      for (const Shard& sh : shards_) {
        const Group& part = sh.groups[gi];
        for (uint32_t i = part.row[s]; i < part.row[s + 1]; ++i, ++k) {
          g.target[k] = part.target[i];
          if (!g.uniform) g.weight[k] = part.weight[i];
        }
      }
    FinishPart(&g, first);
    whole.groups.push_back(std::move(g));
  }
  shards_.clear();
  shards_.push_back(std::move(whole));
}

void PopulationRegion::SplitShards(const std::vector<uint32_t>& bounds) {
  Shard whole = std::move(shards_[0]);
  shards_.clear();
  shards_.resize(bounds.size() - 1);
  for (size_t k = 0; k + 1 < bounds.size(); ++k) {
    Shard& sh = shards_[k];
    sh.lo = bounds[k];
    sh.hi = bounds[k + 1];
    sh.queue = whole.queue;
    if (k == 0) sh.counters = whole.counters;  // counters are sums over the shards
    for (const Group& src : whole.groups) {
      const Path& p = paths_[src.path];
      Group g = EmptyPart(src);
      // Each row's synapses onto [lo, hi): one piece, since targets ascend within a row.
      std::vector<uint32_t> first(p.src_size);
      for (uint32_t s = 0; s < p.src_size; ++s) {
        const auto b = src.target.begin() + src.row[s], e = src.target.begin() + src.row[s + 1];
        THALIA_CHECK_MSG(std::is_sorted(b, e), "a CSR row whose targets do not ascend");
        const auto lo = std::lower_bound(b, e, sh.lo), hi = std::lower_bound(lo, e, sh.hi);
        first[s] = static_cast<uint32_t>(lo - src.target.begin());
        g.row[s + 1] = g.row[s] + static_cast<uint32_t>(hi - lo);
      }
      g.target.resize(g.row[p.src_size]);
      if (!g.uniform) g.weight.resize(g.target.size());
      for (uint32_t s = 0; s < p.src_size; ++s)
        for (uint32_t i = 0; i < g.row[s + 1] - g.row[s]; ++i) {
          g.target[g.row[s] + i] = src.target[first[s] + i];
          if (!g.uniform) g.weight[g.row[s] + i] = src.weight[first[s] + i];
        }
      FinishPart(&g, src);
      sh.groups.push_back(std::move(g));
    }
  }
}

bool PopulationRegion::RestrictTo(uint32_t lo, uint32_t hi) {
  THALIA_CHECK_MSG(lo < hi && hi <= spec_.size, "a part outside the region");
  THALIA_CHECK_MSG(tick_ == 0 && !is_part(), "RestrictTo on a region that has run or is a part");
  // Cut the whole at the part's bounds, keep the part's piece; its neurons alone are computed,
  // emitted and digested from now on (the neuron arrays stay region-sized: indices stay global).
  JoinShards();
  part_rows_.assign(shards_[0].groups.size(), {});
  for (size_t gi = 0; gi < part_rows_.size(); ++gi) {
    const Group& g = shards_[0].groups[gi];
    const uint32_t src_size = paths_[g.path].src_size;
    PartRows& pr = part_rows_[gi];
    pr.whole_start.assign(size_t{src_size} + 1, 0);
    pr.before.assign(src_size, 0);
    for (uint32_t s = 0; s < src_size; ++s) {
      pr.whole_start[s + 1] = pr.whole_start[s] + (g.row[s + 1] - g.row[s]);
      const auto b = g.target.begin() + g.row[s], e = g.target.begin() + g.row[s + 1];
      pr.before[s] = static_cast<uint32_t>(std::lower_bound(b, e, lo) - b);
    }
  }
  std::vector<uint32_t> bounds = {0};
  if (lo > 0) bounds.push_back(lo);
  if (hi < spec_.size) bounds.push_back(hi);
  bounds.push_back(spec_.size);
  SplitShards(bounds);
  const size_t keep = lo > 0 ? 1 : 0;
  Shard part = std::move(shards_[keep]);
  shards_.clear();
  shards_.push_back(std::move(part));
  part_lo_ = lo;
  part_hi_ = hi;
  return true;
}

uint32_t PopulationRegion::PopulationOf(NeuronId n) const {
  const auto& pops = spec_.populations;
  const auto it = std::upper_bound(pops.begin(), pops.end(), n,
                                   [](NeuronId x, const PopulationSpec& p) { return x < p.offset; });
  return static_cast<uint32_t>(it - pops.begin()) - 1;
}

void PopulationRegion::TakeSpikesOf(Shard& sh, const std::vector<Spike>& spikes, Tick now) {
  for (const Spike& s : spikes)
    for (uint32_t gi : spike_groups_[PopulationOf(s.neuron)])
      sh.queue.Schedule(now, s.tick + sh.groups[gi].delay, Arrival::Key(spec_.id, s.neuron, gi));
}

int PopulationRegion::ChooseWay() const {
  const PoolChoice& c = choice_;
  // Profiling shows what the pool's threads do: always on the pool then.
  if (!pool_ || pool_->size() == 1 || pool_->profiling()) return 0;
  if (c.way == 1 && c.probe_in == 0) return 0;  // on the caller: try the pool again now and then
  return c.way;
}

void PopulationRegion::RecordWay(int used, bool wasteful) {
  PoolChoice& c = choice_;
  if (used == 1) {
    if (c.probe_in > 0) --c.probe_in;
    return;
  }
  if (c.way == 1) {  // a trial of the pool
    if (!wasteful) {
      c.way = 0;
      c.worse = 0;
      c.interval = 0;
    } else {
      c.interval = std::min(kProbeMax, std::max(kProbeMin, 2 * c.interval));
      c.probe_in = c.interval;
    }
    return;
  }
  if (!wasteful) {
    c.worse = 0;
  } else if (++c.worse >= 2) {
    c.way = 1;
    c.worse = 0;
    c.interval = kProbeMin;
    c.probe_in = c.interval;
  }
}

void PopulationRegion::RunShards(const EpochContext& ctx, std::span<const ExternalInput> external,
                                 const std::function<void(Shard&)>& start) {
  const uint32_t k_shards = shard_count();
  const int way = ChooseWay();
  const uint32_t threads = pool_ && way == 0 ? std::min(pool_->size(), k_shards) : 1;
  const uint64_t began = threads > 1 ? ThreadPool::NowNs() : 0;
  // On the pool, when thread 0 has spent three quarters of the epoch so far (past kBailMinNs)
  // waiting for the others (descheduled on a busy machine), the pool stops at the end of a window
  // and the caller runs the rest. Thread 0 alone decides, naming the window's end before the
  // barrier that ends it; every thread reads that name after that barrier, so all stop at the
  // same window whatever the timing. Where the threads stop changes nothing computed.
  std::atomic<Tick> stop_at{0};  // 0: no stop (no window ends at tick 0)
  Tick resume = ctx.t1;
  int resume_parity = 0;
  uint64_t waits_before = 0;
  if (threads > 1)
    for (uint32_t i = 0; i < threads; ++i) waits_before += pool_->WaitNs(i);
  SpinBarrier barrier(threads);
  // Thread ti of `n` runs shards ti, ti + n, ... over windows from `from` on; every window ends at
  // the barrier, after which each shard queues the others' spikes of that window (read from their
  // outbox of its parity, which they do not touch again before the next barrier).
  auto windows = [&](uint32_t ti, uint32_t n, Tick from, int parity) {
    uint64_t waited = 0;  // reported once at the end: the pool's counters share cache lines
    for (Tick w0 = from; w0 < ctx.t1; parity ^= 1) {
      const Tick w1 = window_ == 0 ? ctx.t1 : std::min(ctx.t1, w0 + window_);
      for (uint32_t k = ti; k < k_shards; k += n) {
        shards_[k].outbox[parity].clear();
        RunTicks(shards_[k], ctx, external, w0, w1, parity);
      }
      if (window_ != 0) {
        const uint64_t arrived = n > 1 ? ThreadPool::NowNs() : 0;
        if (n > 1 && ti == 0 && w1 < ctx.t1 && arrived - began > kBailMinNs &&
            4 * waited > 3 * (arrived - began))
          stop_at.store(w1, std::memory_order_relaxed);
        if (n > 1) barrier.ArriveAndWait(ti);
        if (n > 1) waited += ThreadPool::NowNs() - arrived;
        for (uint32_t k = ti; k < k_shards; k += n)
          for (uint32_t j = 0; j < k_shards; ++j)
            if (j != k) TakeSpikesOf(shards_[k], shards_[j].outbox[parity], w1);
        if (n > 1 && stop_at.load(std::memory_order_relaxed) == w1) {
          if (ti == 0) {
            resume = w1;
            resume_parity = parity ^ 1;
          }
          break;
        }
      }
      w0 = w1;
    }
    if (n > 1) pool_->AddWaitNs(ti, waited);
  };
  auto body = [&](uint32_t ti) {
    if (ti >= threads) return;
    for (uint32_t k = ti; k < k_shards; k += threads) start(shards_[k]);
    windows(ti, threads, ctx.t0, 0);
  };
  if (threads == 1) {
    body(0);
    if (pool_) RecordWay(way, false);
    if (pool_ && pool_->size() > 1) ++tune_.caller_epochs;
    return;
  }
  pool_->Run(body);
  const uint64_t elapsed = ThreadPool::NowNs() - began;
  uint64_t waits = 0;
  for (uint32_t i = 0; i < threads; ++i) waits += pool_->WaitNs(i);
  waits -= waits_before;
  const bool stopped = resume < ctx.t1;
  if (stopped) windows(0, 1, resume, resume_parity);  // the rest on the caller
  // Wasteful: the threads together waited more than half their time (or the pool stopped early).
  RecordWay(way, stopped || 2 * waits > uint64_t{threads} * elapsed);
  tune_.wait_ns += waits;
  tune_.pool_ns += uint64_t{threads} * elapsed;
  if (stopped && choice_.way == 0) RecordWay(way, true);  // counts twice: off the pool now
}

}  // namespace thalia::kernel
