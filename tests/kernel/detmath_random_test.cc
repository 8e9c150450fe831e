// DetExp/DetLog/DetSin against the C library within a few ulp, and the counter-based random
// stream against uniformity and independence tests at fixed seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernel/detmath.h"
#include "kernel/random.h"

namespace thalia::kernel {
namespace {

// Distance in units in the last place between two finite doubles of the same sign.
int64_t UlpDistance(double a, double b) {
  int64_t ia, ib;
  std::memcpy(&ia, &a, 8);
  std::memcpy(&ib, &b, 8);
  if (ia < 0) ia = INT64_MIN - ia;
  if (ib < 0) ib = INT64_MIN - ib;
  return ia > ib ? ia - ib : ib - ia;
}

// libm itself is within 1 ulp on glibc; 4 leaves room for that and for our own rounding.
constexpr int64_t kMaxUlp = 4;

TEST(DetMath, ExpWithinFewUlpOfLibm) {
  for (double x = -700; x <= 700; x += 0.0137) ASSERT_LE(UlpDistance(DetExp(x), std::exp(x)), kMaxUlp) << x;
  for (double x = -1e-3; x <= 1e-3; x += 1.3e-7) ASSERT_LE(UlpDistance(DetExp(x), std::exp(x)), kMaxUlp) << x;
  // The propagators the kernel uses: exp(-dt/tau) for dt 0.01..1 ms, tau 1..1000 ms.
  for (double dt : {0.01, 0.05, 0.1, 0.25, 1.0})
    for (double tau = 1; tau <= 1000; tau *= 1.07)
      ASSERT_LE(UlpDistance(DetExp(-dt / tau), std::exp(-dt / tau)), kMaxUlp) << dt << " " << tau;
  EXPECT_EQ(DetExp(0.0), 1.0);
}

TEST(DetMath, LogWithinFewUlpOfLibm) {
  for (double x = 1e-300; x < 1e300; x *= 1.0123) ASSERT_LE(UlpDistance(DetLog(x), std::log(x)), kMaxUlp) << x;
  for (double x = 0.5; x <= 2; x += 1.1e-5) {
    if (std::fabs(x - 1) < 1e-12) continue;
    // Near 1 log(x) is tiny, so its ulp is tiny: compare in units of ulp(x - 1) there instead.
    double err = std::fabs(DetLog(x) - std::log(x));
    ASSERT_LE(err, kMaxUlp * std::max(std::fabs(std::log(x)), std::fabs(x - 1)) * 2.3e-16) << x;
  }
  EXPECT_EQ(DetLog(1.0), 0.0);
}

TEST(DetMath, SinWithinFewUlpOfLibm) {
  // Theta phases are reduced to [0, 2 pi) before DetSin; check there, densely, and a wider band
  // in absolute terms (argument reduction by 2 pi costs ulps of the argument, not of the result).
  for (double x = 0; x < 6.283185307179586; x += 1.7e-5) {
    double ref = std::sin(x);
    double err = std::fabs(DetSin(x) - ref);
    // Relative part: kMaxUlp ulp of the result; absolute part: twice the rounding of pi (1.2e-16),
    // which the reductions x -> pi - x and x -> x - 2 pi inherit where sin is near zero.
    ASSERT_LE(err, kMaxUlp * std::fabs(ref) * 1.12e-16 + 2.5e-16) << x;
  }
  for (double x = -100; x < 100; x += 0.00731)
    ASSERT_LE(std::fabs(DetSin(x) - std::sin(x)), kMaxUlp * 2.3e-16 * std::max(1.0, std::fabs(x))) << x;
}

// Upper quantile of the chi-square distribution with k degrees of freedom (Wilson-Hilferty),
// accurate to well under 1% for k >= 30: chi2 = k (1 - 2/(9k) + z sqrt(2/(9k)))^3.
double ChiSquareQuantile(double k, double z) {
  double a = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

// Alpha 1e-4 per check (z = 3.719): with the few dozen checks below, a false alarm has odds
// below 1 in 300 for a correct generator; the seeds are fixed, so the outcome is reproducible.
constexpr double kZ = 3.719;

TEST(RandomStream, UniformPassesChiSquareAtFixedSeeds) {
  for (uint64_t seed : {1ull, 42ull, 0xdeadbeefull}) {
    RandomStream rng(seed, RandomStream::HashName("cortex"));
    const int bins = 1024;
    std::vector<double> count(bins, 0);
    const uint32_t draws = 1 << 18;  // x4 words
    for (uint32_t i = 0; i < draws; ++i) {
      auto w = rng.Draw(i / 1000, i % 1000, Purpose::kDrive, 0);
      for (uint32_t x : w) count[static_cast<int>(RandomStream::Uniform(x) * bins)] += 1;
    }
    const double expected = 4.0 * draws / bins;
    double chi2 = 0;
    for (double c : count) chi2 += (c - expected) * (c - expected) / expected;
    EXPECT_LT(chi2, ChiSquareQuantile(bins - 1, kZ)) << "seed " << seed;
    EXPECT_GT(chi2, ChiSquareQuantile(bins - 1, -kZ)) << "seed " << seed << " (too uniform)";
  }
}

TEST(RandomStream, WordsAndNeighbouringCountersAreUncorrelated) {
  // Pairs (word j of counter n, word j' of counter n+1) and (word 0, word 1) of one counter fall
  // uniformly in a 32 x 32 grid: a chi-square test of independence with 1023 degrees of freedom.
  for (uint64_t seed : {7ull, 1234567ull}) {
    RandomStream rng(seed, 99);
    const int side = 32;
    std::vector<double> same(side * side, 0), next(side * side, 0);
    const uint32_t n = 1 << 18;
    auto prev = rng.Draw(0, 0, Purpose::kInit, 0);
    for (uint32_t i = 1; i <= n; ++i) {
      auto w = rng.Draw(0, i, Purpose::kInit, 0);
      same[(w[0] >> 27) * side + (w[1] >> 27)] += 1;
      next[(prev[3] >> 27) * side + (w[3] >> 27)] += 1;
      prev = w;
    }
    for (const auto* grid : {&same, &next}) {
      double e = static_cast<double>(n) / (side * side), chi2 = 0;
      for (double c : *grid) chi2 += (c - e) * (c - e) / e;
      EXPECT_LT(chi2, ChiSquareQuantile(side * side - 1, kZ)) << "seed " << seed;
    }
  }
}

TEST(RandomStream, BelowIsUniformOverSmallRanges) {
  RandomStream rng(3, 4);
  for (uint32_t range : {2u, 7u, 100u, 1000u}) {
    std::vector<double> count(range, 0);
    const uint32_t n = 400 * range;
    for (uint32_t i = 0; i < n; ++i)
      count[RandomStream::Below(rng.Draw(range, i, Purpose::kConnect, 0)[0], range)] += 1;
    double e = static_cast<double>(n) / range, chi2 = 0;
    for (double c : count) chi2 += (c - e) * (c - e) / e;
    // For small k Wilson-Hilferty is still within a few percent at this tail; k >= 1.
    EXPECT_LT(chi2, ChiSquareQuantile(range - 1, kZ) * 1.05 + 5) << "range " << range;
  }
}

// Every vector implementation this CPU can run (AVX-512, AVX2, portable) against the scalar Draw.
TEST(RandomStream, DrawManyGivesTheBitsOfDraw) {
  RandomStream rng(0x1234, RandomStream::HashName("pfc"));
  const std::vector<std::string> impls = RandomStream::DrawManyImplementations();
  ASSERT_FALSE(impls.empty());
  EXPECT_EQ(impls.back(), "portable");
  for (size_t which = 0; which < impls.size(); ++which) {
    SCOPED_TRACE(impls[which]);
    for (uint32_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 33u, 2500u}) {
      for (uint32_t b0 : {0u, 5u, 0xfffffff0u}) {
        std::vector<uint32_t> out(size_t{n} * 4 + 1, 0xabcdef01u);
        if (which == 0)
          rng.DrawMany(0x123456789aull, b0, n, Purpose::kDrive, 3, out.data());
        else
          rng.DrawManyWith(which, 0x123456789aull, b0, n, Purpose::kDrive, 3, out.data());
        for (uint32_t j = 0; j < n; ++j) {
          auto w = rng.Draw(0x123456789aull, b0 + j, Purpose::kDrive, 3);
          for (int q = 0; q < 4; ++q) ASSERT_EQ(out[4 * j + q], w[q]) << n << " " << b0 << " " << j;
        }
        EXPECT_EQ(out[size_t{n} * 4], 0xabcdef01u) << "wrote past the end";
      }
    }
  }
}

TEST(RandomStream, DrawDependsOnlyOnItsCounter) {
  RandomStream a(5, 6), b(5, 6), c(5, 7), d(6, 6);
  auto x = a.Draw(123456789012ull, 77, Purpose::kDrive, 3);
  for (int i = 0; i < 100; ++i) (void)b.Draw(i, i, Purpose::kDrive, 0);  // other draws in between
  EXPECT_EQ(x, b.Draw(123456789012ull, 77, Purpose::kDrive, 3));
  EXPECT_NE(x, c.Draw(123456789012ull, 77, Purpose::kDrive, 3));
  EXPECT_NE(x, d.Draw(123456789012ull, 77, Purpose::kDrive, 3));
  EXPECT_NE(x, a.Draw(123456789012ull, 77, Purpose::kConnect, 3));
  EXPECT_NE(x, a.Draw(123456789012ull + (1ull << 32), 77, Purpose::kDrive, 3));
}

}  // namespace
}  // namespace thalia::kernel
