// Where results may legitimately differ - another time step - they must agree statistically:
// per-region mean firing rates at dt 0.1 ms and 0.05 ms are equivalent within 15% (Welch TOST over
// independent seeds, alpha 0.05 shared by the regions, Bonferroni). A different batch_window is not
// tested here: its results are bit-identical (kernel_properties_test).
#include <gtest/gtest.h>

#include <cstdio>

#include "kernel/brain.h"
#include "tests/properties/stats.h"
#include "tests/test_util.h"

namespace thalia::testing {
namespace {

TEST(StudentT, MatchesTabulatedQuantiles) {
  // Two-sided 95% critical values from standard tables.
  EXPECT_NEAR(StudentTUpperTail(2.228, 10), 0.025, 2e-4);
  EXPECT_NEAR(StudentTUpperTail(2.776, 4), 0.025, 2e-4);
  EXPECT_NEAR(StudentTUpperTail(1.96, 1e6), 0.025, 2e-4);
  EXPECT_NEAR(StudentTUpperTail(0.0, 7), 0.5, 1e-12);
}

std::vector<uint8_t> WithDt(const std::vector<uint8_t>& config, double dt, uint64_t seed) {
  schema::BrainT b;
  schema::GetBrain(config.data())->UnPackTo(&b);
  b.dt_ms = dt;
  b.seed = seed;
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Brain::Pack(fbb, &b), schema::BrainIdentifier());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// Mean rate (Hz) of every region over `ms` of simulated time.
std::vector<double> Rates(const std::vector<uint8_t>& config, double ms) {
  auto spec = kernel::ResolveBrainSpec(config, "dt-test");
  EXPECT_TRUE(spec.ok());
  auto brain = kernel::Brain::Create(spec.value());
  EXPECT_TRUE(brain.ok());
  EXPECT_TRUE((*brain)->RunUntil(kernel::MsToTicks(ms, spec.value()->dt_ms)).ok());
  std::vector<double> r;
  for (kernel::RegionId i = 0; i < spec.value()->regions.size(); ++i)
    r.push_back(static_cast<double>((*brain)->counters(i).spikes) / spec.value()->regions[i].size / (ms / 1000));
  return r;
}

TEST(Statistics, FiringRatesAtHalfTheTimeStepAreEquivalent) {
  const uint64_t kFirstSeed = 1000;  // fixed: printed on failure
  const int kSeeds = 16;  // power: hippocampus varies ~10% between seeds
  const double kMargin = 0.15, kAlpha = 0.05;
  auto base = kernel::LoadConfigFile(ExamplePath("tiny.json"));
  ASSERT_TRUE(base.ok());
  std::vector<std::vector<double>> a, b;  // [region][seed]
  for (int s = 0; s < kSeeds; ++s) {
    auto ra = Rates(WithDt(base.value(), 0.1, kFirstSeed + s), 500);
    auto rb = Rates(WithDt(base.value(), 0.05, kFirstSeed + s), 500);
    a.resize(ra.size());
    b.resize(rb.size());
    for (size_t r = 0; r < ra.size(); ++r) {
      a[r].push_back(ra[r]);
      b[r].push_back(rb[r]);
    }
  }
  const double alpha = kAlpha / a.size();
  for (size_t r = 0; r < a.size(); ++r) {
    double mean_a = 0;
    for (double x : a[r]) mean_a += x / a[r].size();
    TostResult t = WelchTost(a[r], b[r], kMargin * mean_a);
    EXPECT_LT(t.p, alpha) << "region " << r << ": " << t.mean_a << " Hz at dt 0.1 vs " << t.mean_b
                          << " Hz at dt 0.05 not shown equivalent within " << kMargin * 100
                          << "% (seeds " << kFirstSeed << ".." << kFirstSeed + kSeeds - 1 << ")";
  }
}

}  // namespace
}  // namespace thalia::testing
