// Deterministic exp, log and sin: the same bits on every machine and libm, built only from
// IEEE-754 +, -, *, / (with -ffp-contract=off). Used for every constant the dynamics depend on,
// so a checkpoint resumes bit for bit on another machine with another C library.
#pragma once

namespace thalia::kernel {

double DetExp(double x);
double DetLog(double x);  // x > 0
double DetSin(double x);

}  // namespace thalia::kernel
