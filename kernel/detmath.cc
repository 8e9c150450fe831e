// Range reduction plus fixed polynomials; accurate to a few ulp, which is all the kernel needs.
// What matters is that the operations and their order are fixed here, not taken from libm.
#include "kernel/detmath.h"

#include <cmath>
#include <cstdint>

namespace thalia::kernel {
namespace {
constexpr double kLn2 = 0.69314718055994530942;
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kPi = 3.14159265358979323846;
constexpr double kPiHi = 3.14159265358979311600e+00;  // the double nearest pi
constexpr double kPiLo = 1.22464679914735317723e-16;  // pi - kPiHi
constexpr double kTwoPiHi = 2 * kPiHi, kTwoPiLo = 2 * kPiLo;
}  // namespace

double DetExp(double x) {
  if (x > 700) return INFINITY;
  if (x < -740) return 0.0;
  // x = k ln2 + r, |r| <= ln2/2; exp(r) by Taylor series to degree 20 (well below ulp for |r|<0.35).
  double kf = x / kLn2;
  int64_t k = static_cast<int64_t>(kf < 0 ? kf - 0.5 : kf + 0.5);
  // Cody-Waite: ln2 in two parts, the first with its low 21 bits zero, so k * kLn2Hi is exact for
  // |k| < 2^21 and the reduction does not lose the ~k ulp a one-part product would.
  double r = (x - static_cast<double>(k) * kLn2Hi) - static_cast<double>(k) * kLn2Lo;
  double sum = 1.0, term = 1.0;
  for (int i = 1; i <= 20; ++i) {
    term = term * r / static_cast<double>(i);
    sum = sum + term;
  }
  // Scale by 2^k exactly, in steps that stay within the double range.
  while (k > 0) {
    int step = k > 500 ? 500 : static_cast<int>(k);
    sum = sum * std::ldexp(1.0, step);
    k -= step;
  }
  while (k < 0) {
    int step = k < -500 ? -500 : static_cast<int>(k);
    sum = sum * std::ldexp(1.0, step);
    k -= step;
  }
  return sum;
}

double DetLog(double x) {
  if (!(x > 0)) return -INFINITY;
  // x = m 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s), s = (m-1)/(m+1).
  int e = 0;
  double m = std::frexp(x, &e);  // m in [0.5, 1): exact
  if (m < 0.70710678118654752440) {
    m = m * 2.0;
    e -= 1;
  }
  double s = (m - 1.0) / (m + 1.0);
  double s2 = s * s, term = s, sum = 0.0;
  for (int i = 1; i <= 41; i += 2) {
    sum = sum + term / static_cast<double>(i);
    term = term * s2;
  }
  return 2.0 * sum + static_cast<double>(e) * kLn2;
}

double DetSin(double x) {
  // Reduce to [-pi, pi], then to [-pi/2, pi/2] by symmetry, then Taylor to degree 25.
  // Both reductions subtract pi (or 2 pi) in two parts, the double nearest to it and the rest,
  // so results near the zeros of sin keep their relative accuracy.
  double n = std::floor(x / (2 * kPi) + 0.5);
  double r = (x - n * kTwoPiHi) - n * kTwoPiLo;
  if (r > kPi / 2) r = (kPiHi - r) + kPiLo;
  if (r < -kPi / 2) r = (-kPiHi - r) - kPiLo;
  double r2 = r * r, term = r, sum = r;
  for (int i = 3; i <= 25; i += 2) {
    term = -term * r2 / static_cast<double>((i - 1) * i);
    sum = sum + term;
  }
  return sum;
}

}  // namespace thalia::kernel
