// Levels are computed from the tick distance with DetExp, so every process computes the same bits.
#include "kernel/modulators.h"

#include "kernel/detmath.h"

namespace thalia::kernel {

ModulatorModel::ModulatorModel(const BrainSpec& spec)
    : params_(spec.modulators), dt_ms_(spec.dt_ms), theta_hz_(spec.theta_hz) {}

ModulatorState ModulatorModel::Initial() const {
  ModulatorState s;
  for (int m = 0; m < kNumModulators; ++m) s.level[m] = params_[m].baseline;
  return s;
}

float ModulatorModel::Level(const ModulatorState& s, int m, Tick t) const {
  float base = params_[m].baseline;
  if (s.level[m] == base || t <= s.since[m]) return s.level[m];
  double decay = DetExp(-static_cast<double>(t - s.since[m]) * dt_ms_ / params_[m].tau_ms);
  return base + static_cast<float>((s.level[m] - base) * decay);
}

void ModulatorModel::Apply(ModulatorState* s, const ModulatorEvent& e) const {
  float now = Level(*s, e.modulator, e.tick);
  s->level[e.modulator] = now + e.amount;
  s->since[e.modulator] = e.tick;
}

float ModulatorModel::ThetaSin(Tick t) const {
  // Phase from the tick alone: 2 pi f t, reduced in whole cycles first to keep precision.
  double cycles = static_cast<double>(t) * dt_ms_ * theta_hz_ / 1000.0;
  cycles -= static_cast<double>(static_cast<uint64_t>(cycles));
  return static_cast<float>(DetSin(cycles * 6.28318530717958647692));
}

}  // namespace thalia::kernel
