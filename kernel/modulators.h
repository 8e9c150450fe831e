// Neuromodulators (dopamine, acetylcholine, noradrenaline) and theta. The coordinator owns the
// state and sends it with every EpochBegin; a region evaluates it per tick. The state changes only
// at events (a reward, a set), never at epoch boundaries, so the values at a tick do not depend on
// how the run was cut into epochs.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <array>
#include <span>

#include "kernel/spec.h"
#include "kernel/types.h"

namespace thalia::kernel {

// Each modulator relaxes exponentially to its baseline from `level` set at tick `since`.
struct ModulatorState {
  std::array<float, kNumModulators> level{};
  std::array<Tick, kNumModulators> since{};
  friend bool operator==(const ModulatorState&, const ModulatorState&) = default;
};

struct ModulatorEvent {
  Tick tick;
  int modulator;  // 0 dopamine, 1 acetylcholine, 2 noradrenaline
  float amount;   // added to the level at that tick
  friend bool operator==(const ModulatorEvent&, const ModulatorEvent&) = default;
};

class ModulatorModel {
 public:
  explicit ModulatorModel(const BrainSpec& spec);
  ModulatorState Initial() const;
  float Level(const ModulatorState& s, int m, Tick t) const;
  // Applies an event (its tick >= the state's last change).
  void Apply(ModulatorState* s, const ModulatorEvent& e) const;
  // sin(theta phase) at tick t.
  float ThetaSin(Tick t) const;
  float baseline(int m) const { return params_[m].baseline; }

 private:
  std::array<ModulatorParamsSpec, kNumModulators> params_;
  double dt_ms_;
  float theta_hz_;
};

}  // namespace thalia::kernel
