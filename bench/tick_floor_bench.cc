// What a tick costs at the least on this machine, next to what the kernel spends on it. For a
// one-region configuration it runs the kernel (RunUntil, CPU time), then a minimal program that
// does the work the same run needs at the least, on arrays of the same sizes, with the same
// number of ticks, spikes and synaptic events: stream each spiking source's synapse row and
// scatter its weight into the input array (after the pathway's delay), draw the Poisson drive
// (one counter-based random word per neuron and tick, as the kernel draws), update and threshold
// the neuron arrays in one vectorised pass. The floor's spiking sources are drawn at the
// kernel's measured rate (its own dynamics are not simulated). Each part is also timed alone.
// Usage: tick_floor_bench CONFIG.json SIMULATED_MS [REPS]  (bench/RESULTS.md, "The floor of a tick")
#include <sys/resource.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "kernel/population_region.h"
#include "kernel/registry.h"
#include "kernel/simd.h"

namespace floor_bench {  // not anonymous: g++ dispatches target_clones of external functions only

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Fused membrane step (the exact current-based form), threshold and reset; clears the inputs.
// Returns how many neurons fired: a lower bound of the work, as it says not which (the kernel
// writes a flag per neuron and collects the spikes from the flags).
THALIA_VECTOR_CLONES int32_t FloorNeurons(uint32_t n, float* __restrict v, float* __restrict se,
                                          float* __restrict si, int32_t* __restrict refr,
                                          float* __restrict ie, float* __restrict ii) {
  const float v_rest = -49.f, pm = 0.995012f, pem = 0.0049f, pim = 0.0049f, pe = 0.980199f,
              pi = 0.99005f, v_reset = -60.f, v_thresh = -50.f;
  int32_t count = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const float e = se[i] + ie[i], h = si[i] + ii[i];
    const float vi = v_rest + (v[i] - v_rest) * pm + e * pem - h * pim;
    se[i] = e * pe;
    si[i] = h * pi;
    ie[i] = 0.0f;
    ii[i] = 0.0f;
    const int32_t r = refr[i];
    const int32_t refractory = -static_cast<int32_t>(r > 0);
    const int32_t fires = -static_cast<int32_t>(vi >= v_thresh) & ~refractory;
    const int32_t reset = refractory | fires;
    v[i] = std::bit_cast<float>((reset & std::bit_cast<int32_t>(v_reset)) | (~reset & std::bit_cast<int32_t>(vi)));
    refr[i] = (refractory & (r - 1)) | (fires & 50) | (~reset & r);
    count += fires & 1;
  }
  return count;
}

// Poisson drive: one random word per neuron and tick (a cheap 32-bit counter-based mix of
// (tick, neuron), weaker than the kernel's Philox), its count = how many thresholds of the
// inverse CDF (thr[j] - 1, non-decreasing) it exceeds, counted in vectorised passes over blocks
// of 64 until no word of the block exceeds one; in[i] += count * weight.
THALIA_VECTOR_CLONES_BYTES void FloorDrive(uint32_t n, uint64_t tick, const uint32_t* __restrict thr,
                                           uint32_t kmax, float weight, float* __restrict in) {
  constexpr uint32_t kBlock = 64;
  uint32_t words[kBlock], k[kBlock];
  const uint32_t salt = static_cast<uint32_t>(tick) * 0x9e3779b1u;
  for (uint32_t b = 0; b < n; b += kBlock) {
    const uint32_t m = std::min(kBlock, n - b);
    for (uint32_t i = 0; i < m; ++i) {
      uint32_t x = salt ^ ((b + i) * 0x85ebca6bu);
      x ^= x >> 15;
      x *= 0x2c1b3c6du;
      x ^= x >> 12;
      words[i] = x;
      k[i] = 0;
    }
    for (uint32_t j = 0; j < kmax; ++j) {
      uint32_t more = 0;
      for (uint32_t i = 0; i < m; ++i) {
        const uint32_t above = static_cast<uint32_t>(words[i] > thr[j]);
        k[i] += above;
        more |= above;
      }
      if (more == 0) break;
    }
    for (uint32_t i = 0; i < m; ++i) in[b + i] += static_cast<float>(k[i]) * weight;
  }
}

struct Floor {
  uint32_t n = 0, n_exc = 0, delay = 1;
  std::vector<uint32_t> row, target;               // CSR, targets ascending within a row
  std::vector<std::vector<uint32_t>> sources;      // spiking sources per tick
  std::vector<float> v, se, si, ie, ii;
  std::vector<int32_t> refr;
  std::vector<uint32_t> thr;                        // drive: inverse CDF thresholds
  float drive_weight = 0;
};

// Runs `ticks` ticks of the parts selected; returns CPU seconds.
// Every run starts from the same state (a part run alone would otherwise inherit synaptic
// variables that then decay into subnormal floats, which cost ~40% more here).
double RunFloor(Floor& f, uint64_t ticks, bool deliver, bool drive, bool neurons, double* sink) {
  std::fill(f.v.begin(), f.v.end(), -55.f);
  for (auto* a : {&f.se, &f.si, &f.ie, &f.ii}) std::fill(a->begin(), a->end(), 0.f);
  std::fill(f.refr.begin(), f.refr.end(), 0);
  const double c0 = CpuSeconds();
  const float w_e = 0.6f, w_i = 6.7f;
  const size_t ring = f.sources.size();
  for (uint64_t t = 0; t < ticks; ++t) {
    if (deliver && t >= f.delay) {
      const uint32_t* __restrict row = f.row.data();
      const uint32_t* __restrict target = f.target.data();
      for (uint32_t s : f.sources[(t - f.delay) % ring]) {
        float* __restrict in = s < f.n_exc ? f.ie.data() : f.ii.data();
        const float w = s < f.n_exc ? w_e : w_i;
        const uint32_t* __restrict a = target + row[s];
        const uint32_t len = row[s + 1] - row[s];
        for (uint32_t k = 0; k < len; ++k) in[a[k]] += w;
      }
    }
    if (drive && !f.thr.empty())
      FloorDrive(f.n, t, f.thr.data(), static_cast<uint32_t>(f.thr.size()), f.drive_weight, f.ie.data());
    if (neurons) *sink += FloorNeurons(f.n, f.v.data(), f.se.data(), f.si.data(), f.refr.data(),
                                       f.ie.data(), f.ii.data());
  }
  const double cpu = CpuSeconds() - c0;
  for (float x : f.v) *sink += x;
  for (float x : f.ie) *sink += x;
  return cpu;
}

}  // namespace floor_bench

int main(int argc, char** argv) {
  using namespace thalia::kernel;
  using namespace floor_bench;
  if (argc < 3 || std::string(argv[1]) == "--help") {
    std::printf("usage: tick_floor_bench CONFIG.json SIMULATED_MS [REPS]\n"
                "Runs CONFIG (one region) in the kernel and a minimal program doing the same run's\n"
                "least work (synapse rows streamed and scattered, drive, neuron arrays); prints\n"
                "both CPU times (minimum of REPS, default 3, interleaved) and their ratio.\n");
    return argc < 3 ? 2 : 0;
  }
  auto spec = LoadBrainSpec(argv[1]);
  if (!spec.ok()) {
    std::fprintf(stderr, "tick_floor_bench: %s\n", spec.status().message().c_str());
    return 2;
  }
  const BrainSpec& bs = *spec.value();
  if (bs.regions.size() != 1) {
    std::fprintf(stderr, "tick_floor_bench: one region only\n");
    return 2;
  }
  const Tick ticks = MsToTicks(std::atof(argv[2]), bs.dt_ms);
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  const RegionSpec& rs = bs.regions[0];

  uint64_t spikes = 0, events = 0, synapses = 0;
  {
    auto region = BuildRegion(bs, 0);
    synapses = dynamic_cast<PopulationRegion&>(*region).SynapseCount();
  }
  // The floor network: the region's neurons, its synapse count in rows of equal length from
  // every neuron, random targets; the first population's size counts as excitatory.
  Floor f;
  f.n = rs.size;
  f.n_exc = rs.populations[0].size;
  f.delay = static_cast<uint32_t>(std::max<Tick>(1, MsToTicks(rs.pathways.empty() ? bs.dt_ms : rs.pathways[0].delay_ms, bs.dt_ms)));
  std::mt19937_64 rng(1);
  const uint64_t per_row = synapses / f.n;
  f.row.resize(f.n + 1);
  f.target.resize(per_row * f.n);
  for (uint32_t s = 0; s <= f.n; ++s) f.row[s] = static_cast<uint32_t>(s * per_row);
  std::uniform_int_distribution<uint32_t> any_neuron(0, f.n - 1);
  for (uint32_t s = 0; s < f.n; ++s) {
    for (uint32_t k = f.row[s]; k < f.row[s + 1]; ++k) f.target[k] = any_neuron(rng);
    std::sort(f.target.begin() + f.row[s], f.target.begin() + f.row[s + 1]);
  }
  for (auto* a : {&f.v, &f.se, &f.si, &f.ie, &f.ii}) a->resize(f.n);
  f.refr.resize(f.n);
  if (!rs.drives.empty()) {
    const DriveSpec& d = rs.drives[0];
    const double mean = d.rate_hz * d.inputs * bs.dt_ms / 1000.0;
    double p = std::exp(-mean), cdf = p;
    for (uint32_t k = 1; cdf < 1.0 - 1e-9 && k < 64; ++k) {
      f.thr.push_back(static_cast<uint32_t>(std::min(4294967295.0, std::ceil(cdf * 4294967296.0) - 1)));
      p *= mean / k;
      cdf += p;
    }
    f.drive_weight = d.weight;
  }

  double kernel_cpu = 1e30, floor_cpu = 1e30, deliver_cpu = 1e30, drive_cpu = 1e30, neuron_cpu = 1e30, sink = 0;
  for (int r = 0; r < reps; ++r) {
    RunOptions o;
    o.workers = 0;
    auto brain = Brain::Create(spec.value(), o);
    if (!brain.ok()) {
      std::fprintf(stderr, "tick_floor_bench: %s\n", brain.status().message().c_str());
      return 1;
    }
    const double c0 = CpuSeconds();
    if (!(*brain)->RunUntil(ticks).ok()) return 1;
    kernel_cpu = std::min(kernel_cpu, CpuSeconds() - c0);
    spikes = (*brain)->counters(0).spikes;
    events = (*brain)->counters(0).synaptic_events;
    if (f.sources.empty()) {  // the kernel's spike count, spread evenly over ticks, random sources
      f.sources.resize(std::min<uint64_t>(ticks, 4096));
      double acc = 0;
      for (auto& list : f.sources) {
        acc += static_cast<double>(spikes) / static_cast<double>(ticks);
        for (; acc >= 1; acc -= 1) list.push_back(any_neuron(rng));
      }
    }
    floor_cpu = std::min(floor_cpu, RunFloor(f, ticks, true, true, true, &sink));
    deliver_cpu = std::min(deliver_cpu, RunFloor(f, ticks, true, false, false, &sink));
    drive_cpu = std::min(drive_cpu, RunFloor(f, ticks, false, true, false, &sink));
    neuron_cpu = std::min(neuron_cpu, RunFloor(f, ticks, false, false, true, &sink));
  }
  const double floor_events = static_cast<double>(spikes) * static_cast<double>(per_row);
  std::printf("%-20s neurons %u synapses %llu ticks %llu spikes %llu events %llu (floor %.0f)\n",
              bs.name.c_str(), f.n, static_cast<unsigned long long>(synapses),
              static_cast<unsigned long long>(ticks), static_cast<unsigned long long>(spikes),
              static_cast<unsigned long long>(events), floor_events);
  std::printf("%-20s kernel %.3f s  floor %.3f s  kernel/floor %.2f  | floor parts: synapses %.3f s "
              "(%.2f ns/event)  drive %.3f s  neurons %.3f s (%.3f ns/neuron/tick)  (min of %d; sink %g)\n",
              bs.name.c_str(), kernel_cpu, floor_cpu, kernel_cpu / floor_cpu, deliver_cpu,
              1e9 * deliver_cpu / std::max(1.0, floor_events), f.thr.empty() ? 0.0 : drive_cpu,
              neuron_cpu, 1e9 * neuron_cpu / (static_cast<double>(ticks) * f.n), reps, sink > 0 ? 1.0 : 0.0);
  return 0;
}
