// Small statistics for the statistical equivalence tests: Student's t distribution (through the
// regularised incomplete beta function) and Welch's two one-sided tests (TOST) for equivalence.
#pragma once

#include <cmath>
#include <numeric>
#include <vector>

namespace thalia::testing {

// Regularised incomplete beta I_x(a, b) by Lentz's continued fraction.
inline double IncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - IncompleteBeta(b, a, 1 - x);
  const double ln_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                          b * std::log(1 - x);
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double f = d;
  for (int m = 1; m <= 300; ++m) {
    double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + num * d;
    c = 1 + num / c;
    d = 1 / (std::fabs(d) < tiny ? tiny : d);
    c = std::fabs(c) < tiny ? tiny : c;
    f *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    c = 1 + num / c;
    d = 1 / (std::fabs(d) < tiny ? tiny : d);
    c = std::fabs(c) < tiny ? tiny : c;
    double delta = d * c;
    f *= delta;
    if (std::fabs(delta - 1) < 1e-14) break;
  }
  return std::exp(ln_front) * f / a;
}

// P(T > t) for Student's t with df degrees of freedom.
inline double StudentTUpperTail(double t, double df) {
  double x = df / (df + t * t);
  double tail = 0.5 * IncompleteBeta(df / 2, 0.5, x);
  return t >= 0 ? tail : 1 - tail;
}

struct TostResult {
  double mean_a, mean_b, p;  // p: the larger of the two one-sided p-values
};

// Welch TOST: are the means of a and b within +-margin of each other? Equivalent if p < alpha.
inline TostResult WelchTost(const std::vector<double>& a, const std::vector<double>& b, double margin) {
  auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); };
  auto var = [&](const std::vector<double>& v) {
    double m = mean(v), s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return s / (v.size() - 1);
  };
  double ma = mean(a), mb = mean(b);
  double va = var(a) / a.size(), vb = var(b) / b.size();
  double se = std::sqrt(va + vb);
  double df = (va + vb) * (va + vb) /
              (va * va / (a.size() - 1) + vb * vb / (b.size() - 1));
  if (se == 0) return {ma, mb, std::fabs(ma - mb) < margin ? 0.0 : 1.0};
  double d = ma - mb;
  double p_low = StudentTUpperTail((d + margin) / se, df);   // H0: d <= -margin
  double p_high = StudentTUpperTail((margin - d) / se, df);  // H0: d >= +margin
  return {ma, mb, std::max(p_low, p_high)};
}

}  // namespace thalia::testing
