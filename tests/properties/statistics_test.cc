// Where results may legitimately differ - another time step - they must agree statistically:
// per-region mean firing rates at dt 0.1 ms and 0.05 ms are equivalent within 15% (Welch TOST over
// independent seeds, alpha 0.05 shared by the comparisons, Bonferroni), for the bundled brain
// (examples/tiny.json) and for a fixed set of generated brains (brain_gen.h) over every region type.
// A different batch_window is not tested here: its results are bit-identical (kernel_properties_test).
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "kernel/brain.h"
#include "tests/properties/brain_gen.h"
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

std::string Join(const std::vector<double>& v) {
  std::ostringstream o;
  for (size_t i = 0; i < v.size(); ++i) o << (i ? " " : "") << v[i];
  return o.str();
}

// The same property over generated brains (brain_gen.h), drawn from fixed RapidCheck seeds outside
// a property so that the set is the same on every run. The generator's domain is restricted to
// the regime where a rate is a property of the model and not of the time step:
// - refractory periods of at least 1 ms (whole ms, so exact ticks at both dt). With none, a neuron
//   may fire on consecutive ticks and a strongly driven one fires at a rate set by the tick: a
//   generated region with refractory 0 and runaway recurrent excitation (from an E->E weight of
//   the wrong synapse kind, since corrected in brain_gen.h) fired at 7.6 kHz at dt 0.1 and
//   15.1 kHz at dt 0.05, i.e. about once per tick - a legitimate dt effect, not a kernel fault.
// - regions of 150-400 neurons and 500 ms runs, so one run estimates a region's rate well.
// Every preset type and generic regions are drawn, with inter-region pathways, plasticity,
// learning and modulator events as the generator makes them.
// Rule for quiet regions, fixed before looking at the data: the margin is 15% of the dt-0.1 mean
// rate, but never below 15% of 1 Hz (0.15 Hz absolute), since a relative margin around a rate near
// 0 Hz shrinks to nothing. Alpha 0.05 is shared (Bonferroni) by all (brain, region) comparisons.
TEST(Statistics, GeneratedBrainsFireAtEquivalentRatesAtHalfTheTimeStep) {
  const uint64_t kFirstGenSeed = 7000;  // generator seeds, fixed: printed on failure
  const int kBrains = 16;
  const uint64_t kFirstSeed = 2000;  // simulation seeds, fixed: printed on failure
  const int kSeeds = 24;  // power: a hippocampus driven by another region varies ~10% between seeds
  const double kMargin = 0.15, kAlpha = 0.05, kLowHz = 1.0;
  GenLimits lim;
  lim.max_regions = 4;
  lim.min_region_size = 150;
  lim.max_region_size = 400;
  lim.duration_ms = 500;
  lim.min_refractory_ms = 1;
  const auto gen = rc::gen::exec([&] { return GenBrainConfig(lim); });
  struct Case {
    uint64_t gen_seed;
    std::vector<uint8_t> config;
    std::vector<std::vector<double>> a, b;  // rates at dt 0.1 and 0.05: [region][seed]
  };
  std::vector<Case> cases;
  size_t comparisons = 0;
  for (int k = 0; k < kBrains; ++k) {
    const uint64_t gen_seed = kFirstGenSeed + k;
    Case c{gen_seed, gen(rc::Random(gen_seed), rc::kNominalSize).value(), {}, {}};
    for (int s = 0; s < kSeeds; ++s) {
      auto ra = Rates(WithDt(c.config, 0.1, kFirstSeed + s), lim.duration_ms);
      auto rb = Rates(WithDt(c.config, 0.05, kFirstSeed + s), lim.duration_ms);
      ASSERT_EQ(ra.size(), rb.size());
      c.a.resize(ra.size());
      c.b.resize(rb.size());
      for (size_t r = 0; r < ra.size(); ++r) {
        c.a[r].push_back(ra[r]);
        c.b[r].push_back(rb[r]);
      }
    }
    comparisons += c.a.size();
    cases.push_back(std::move(c));
  }
  const double alpha = kAlpha / static_cast<double>(comparisons);
  for (const Case& c : cases) {
    auto spec = kernel::ResolveBrainSpec(c.config, "generated");
    ASSERT_TRUE(spec.ok());
    for (size_t r = 0; r < c.a.size(); ++r) {
      double mean_a = 0;
      for (double x : c.a[r]) mean_a += x / c.a[r].size();
      const double margin = kMargin * std::max(mean_a, kLowHz);
      TostResult t = WelchTost(c.a[r], c.b[r], margin);
      const kernel::RegionSpec& region = spec.value()->regions[r];
      EXPECT_LT(t.p, alpha) << "generator seed " << c.gen_seed << ", region " << region.name << " ("
                            << region.type << ", " << region.size << " neurons): " << t.mean_a
                            << " Hz at dt 0.1 vs " << t.mean_b
                            << " Hz at dt 0.05 not shown equivalent within " << margin
                            << " Hz (simulation seeds " << kFirstSeed << ".." << kFirstSeed + kSeeds - 1
                            << ", " << comparisons << " comparisons)\n  rates at dt 0.1:  "
                            << Join(c.a[r]) << "\n  rates at dt 0.05: " << Join(c.b[r])
                            << "\n  brain: " << kernel::ConfigToJson(c.config);
    }
  }
}

}  // namespace
}  // namespace thalia::testing
