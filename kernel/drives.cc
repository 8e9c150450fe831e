// Poisson drives: each neuron of a driven population receives k ~ Poisson(rate * inputs * dt)
// inputs per tick, drawn from the region's counter-based stream at (tick, block of four neurons,
// drive): a shard draws exactly the words the whole region draws for its neurons.
#include <algorithm>
#include <cmath>

#include "kernel/detmath.h"
#include "kernel/neuron_kernels.h"
#include "kernel/population_region.h"
#include "kernel/random.h"

namespace thalia::kernel {

void PopulationRegion::BuildDriveTables() {
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
}

void PopulationRegion::ApplyDrives(Shard& sh, Tick t) {
  // k ~ Poisson: the first k with u < cdf[k], u = word / 2^32. In integers: word < thr[k] with
  // thr[k] = ceil(cdf[k] 2^32), exact, and most words end at k = 0 after one comparison.
  const RandomStream rng(seed_, stream_owner_);
  for (size_t di = 0; di < spec_.drives.size(); ++di) {
    const DriveSpec& d = spec_.drives[di];
    const PopulationSpec& pop = spec_.populations[d.population];
    const std::vector<uint64_t>& thr = drive_tables_[di].thr;
    if (thr.size() < 2) continue;  // k is always 0
    // This shard's part of the population, [a, b) counted from the population's first neuron;
    // the words of neuron i are word i % 4 of block i / 4.
    const uint32_t a = std::max(pop.offset, sh.lo) - pop.offset;
    const uint32_t b = std::min(pop.offset + pop.size, sh.hi);
    if (b <= pop.offset + a) continue;
    const uint32_t n = b - pop.offset - a;
    const uint32_t first_block = a / 4, blocks = (a + n + 3) / 4 - first_block;
    sh.drive_words.resize(size_t{blocks} * 4);
    rng.DrawMany(t, first_block, blocks, Purpose::kDrive, static_cast<uint32_t>(di), sh.drive_words.data());
    sh.drive_counts.resize(n);
    CountPoisson(n, sh.drive_words.data() + (a % 4), thr, sh.drive_counts.data());
    // k = 0 adds +0.0f, which leaves every input unchanged (inputs are never -0: they start at +0
    // and only non-negative weights are added), so the add needs no branch.
    float* in = (d.excitatory ? in_e_.data() : in_i_.data()) + pop.offset + a;
    AddCounts(n, sh.drive_counts.data(), d.weight, in);
  }
}

}  // namespace thalia::kernel
