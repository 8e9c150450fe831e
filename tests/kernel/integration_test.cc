// The neuron update against the analytic solutions of the membrane equation: exponential
// relaxation under a constant bias (delta and current synapses), the delta-synapse jump and the
// two-exponential PSP of a current synapse. Tolerances follow from float precision (see Bound).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>

#include "tests/kernel/kernel_test_util.h"

namespace thalia::kernel {
namespace {

using testing::RegionDriver;
using testing::SpecFromJson;

constexpr double kDt = 0.1, kTauM = 20, kTauS = 5;

std::string OneNeuron(const std::string& synapse, float bias) {
  return R"({"regions": [{"name": "r", "type": "generic", "populations": [{"name": "p", "size": 1,
    "neuron": {"synapse": ")" + synapse + R"(", "tau_m_ms": 20, "tau_e_ms": 5, "tau_i_ms": 5,
    "v_rest": 0, "v_reset": 0, "v_thresh": 1000, "v_init": 0, "bias": )" + std::to_string(bias) +
         "}}]}]}";
}

// Error bound for a quantity of size `scale` iterated with the propagator P = exp(-dt/tau_m):
// each step rounds a few float operations (<= 1.5 eps of `scale`), and the propagators themselves
// are floats (<= eps/2 each, plus a few ulp from DetExp). The recursion is a contraction with rate
// P, so the errors sum geometrically to at most 1/(1-P) times the per-step error: 8 eps covers
// both with a margin of about 1.5x. Nothing here is fitted to an observed error.
double Bound(double scale) {
  const double p = std::exp(-kDt / kTauM);
  return 8.0 * FLT_EPSILON * std::fabs(scale) / (1.0 - p);
}

class BiasRelaxation : public ::testing::TestWithParam<const char*> {};

TEST_P(BiasRelaxation, ConstantBiasRelaxesExponentially) {
  const double bias = 15.0;
  RegionDriver d(SpecFromJson(OneNeuron(GetParam(), static_cast<float>(bias))), 0);
  for (Tick n = 1; n <= 3000; ++n) {
    d.Run(n);
    double exact = bias * (1.0 - std::exp(-static_cast<double>(n) * kDt / kTauM));
    ASSERT_NEAR(d.region().Voltage(0), exact, Bound(bias)) << "after " << n << " ticks";
  }
}

INSTANTIATE_TEST_SUITE_P(Synapses, BiasRelaxation, ::testing::Values("Delta", "Current"));

TEST(Integration, DeltaSpikeJumpsThenDecaysExactly) {
  const double a = 2.0;
  RegionDriver d(SpecFromJson(OneNeuron("Delta", 0)), 0);
  d.Run(1, {}, {{0, 0, static_cast<float>(a), ExternalInput::kSpike}});
  EXPECT_EQ(d.region().Voltage(0), static_cast<float>(a)) << "the jump is applied whole, in its tick";
  for (Tick n = 2; n <= 2000; ++n) {
    d.Run(n);
    double exact = a * std::exp(-static_cast<double>(n - 1) * kDt / kTauM);
    ASSERT_NEAR(d.region().Voltage(0), exact, Bound(a)) << "after " << n << " ticks";
  }
}

TEST(Integration, DeltaInhibitorySpikeLowersPotential) {
  RegionDriver d(SpecFromJson(OneNeuron("Delta", 0)), 0);
  d.Run(1, {}, {{0, 0, -1.5f, ExternalInput::kSpike}});
  EXPECT_EQ(d.region().Voltage(0), -1.5f);
}

// dV/dt = (-V + I(t)) / tau_m with I(t) = A exp(-t / tau_s) from t = 0:
// V(t) = A tau_s / (tau_s - tau_m) (exp(-t / tau_s) - exp(-t / tau_m)).
TEST(Integration, CurrentSynapseGivesTwoExponentialPsp) {
  const double a = 2.0;
  RegionDriver d(SpecFromJson(OneNeuron("Current", 0)), 0);
  double peak = 0;
  for (Tick n = 1; n <= 2000; ++n) {
    std::vector<ExternalInput> in;
    if (n == 1) in.push_back({0, 0, static_cast<float>(a), ExternalInput::kSpike});
    d.Run(n, {}, in);
    const double t = static_cast<double>(n) * kDt;  // the input arrived at the start of tick 0
    double exact = a * kTauS / (kTauS - kTauM) * (std::exp(-t / kTauS) - std::exp(-t / kTauM));
    ASSERT_NEAR(d.region().Voltage(0), exact, Bound(a)) << "after " << n << " ticks";
    peak = std::max(peak, static_cast<double>(d.region().Voltage(0)));
  }
  // The analytic peak, at t* = ln(tau_m/tau_s) tau_s tau_m / (tau_m - tau_s), is reached on the grid
  // to within the grid's resolution.
  double ts = std::log(kTauM / kTauS) * kTauS * kTauM / (kTauM - kTauS);
  double vpeak = a * kTauS / (kTauS - kTauM) * (std::exp(-ts / kTauS) - std::exp(-ts / kTauM));
  EXPECT_LE(peak, vpeak + Bound(a));
  EXPECT_GE(peak, vpeak * 0.999);
}

TEST(Integration, RefractoryNeuronIsClampedForExactlyTheRefractoryTicks) {
  // A neuron held far above threshold fires every (refractory ticks + 1) ticks.
  RegionDriver d(SpecFromJson(R"({"regions": [{"name": "r", "type": "generic", "populations": [
    {"name": "p", "size": 1, "neuron": {"synapse": "Delta", "v_rest": 0, "v_reset": 0,
     "v_thresh": 1, "v_init": 0, "bias": 1000, "refractory_ms": 2}}]}]})"), 0);
  std::vector<Spike> s = d.Run(200);
  ASSERT_GE(s.size(), 3u);
  for (size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i].tick - s[i - 1].tick, 21u);
}

}  // namespace
}  // namespace thalia::kernel
