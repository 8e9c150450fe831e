// Simulated time as integer ticks, spikes, and the one canonical event order of the kernel.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <tuple>

namespace thalia::kernel {

using Tick = uint64_t;       // simulated time: dt is one tick; never a floating-point number
using RegionId = uint32_t;   // index of a region in the configuration
using NeuronId = uint32_t;   // region-local neuron index

// A spike emitted by a region: when and which of its neurons.
struct Spike {
  Tick tick;
  NeuronId neuron;
  friend bool operator==(const Spike&, const Spike&) = default;
};

// A spike on its way into a region: it carries its source region.
struct InSpike {
  Tick tick;
  RegionId source;
  NeuronId neuron;
  friend bool operator==(const InSpike&, const InSpike&) = default;
};

// The canonical order of events: (tick, source region, source neuron). Time alone is not a
// total order: spikes of one tick from different regions would be applied in whatever order
// they arrived from the workers, and floating-point sums of their weights would then differ
// between sequential and parallel runs. The whole key makes the order, and so every sum, the
// same in every mode.
struct CanonicalOrder {
  bool operator()(const InSpike& a, const InSpike& b) const {
    return std::tie(a.tick, a.source, a.neuron) < std::tie(b.tick, b.source, b.neuron);
  }
  bool operator()(const Spike& a, const Spike& b) const {
    return std::tie(a.tick, a.neuron) < std::tie(b.tick, b.neuron);
  }
};

// The latest tick a run may reach: far beyond any run (2^62 ticks of 0.1 ms are 14 million
// years), and low enough that a tick plus any delay or epoch never wraps.
inline constexpr Tick kMaxTick = Tick{1} << 62;

// Converts a duration in ms to whole ticks, rounding to nearest; durations are configured in ms.
// Saturates at kMaxTick (a double too large for a Tick would be undefined behaviour to convert):
// callers that take a duration from the user refuse kMaxTick as "too long".
inline Tick MsToTicks(double ms, double dt_ms) {
  double t = ms / dt_ms;
  if (t <= 0) return 0;
  if (!(t + 0.5 < static_cast<double>(kMaxTick))) return kMaxTick;
  return static_cast<Tick>(t + 0.5);
}
inline double TicksToMs(Tick t, double dt_ms) { return static_cast<double>(t) * dt_ms; }

}  // namespace thalia::kernel
