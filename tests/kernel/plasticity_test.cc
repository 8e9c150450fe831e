// Pair STDP and the dopamine-gated three-factor rule on hand-built spike pairs: the sign and size
// of each weight change against a_plus exp(-dt/tau_plus) and -a_minus exp(-dt/tau_minus).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>

#include "tests/kernel/kernel_test_util.h"

namespace thalia::kernel {
namespace {

using testing::FloatArrays;
using testing::RegionDriver;
using testing::SpecFromJson;

constexpr double kAPlus = 0.01, kAMinus = 0.012, kTauPlus = 20, kTauMinus = 30, kW0 = 0.5;
constexpr Tick kDelay = 10;  // 1 ms

std::shared_ptr<const BrainSpec> PairBrain(const char* rule) {
  const std::string neuron =
      R"("neuron": {"synapse": "Delta", "v_rest": 0, "v_reset": 0, "v_thresh": 10, "v_init": 0})";
  return SpecFromJson(R"({"dopamine": {"baseline": 0.2, "tau_ms": 200}, "regions": [
    {"name": "r", "type": "generic", "populations": [{"name": "pre", "size": 1, )" + neuron + R"(},
      {"name": "post", "size": 1, )" + neuron + R"(}],
     "pathways": [{"from": "pre", "to": "post", "indegree": 1, "weight": 0.5, "delay_ms": 1,
       "plasticity": ")" + rule + R"(", "a_plus": 0.01, "a_minus": 0.012, "tau_plus_ms": 20,
       "tau_minus_ms": 30, "w_min": 0, "w_max": 1}]}]})");
}

// Fires `pre` at tick tp and `post` at tick tq (each forced by a large external input) and returns
// the weight after both, with the event reaching the synapse at tp + kDelay.
float RunPair(RegionDriver& d, Tick tp, Tick tq) {
  std::vector<ExternalInput> in = {{tp, 0, 50.0f, ExternalInput::kSpike},
                                   {tq, 1, 50.0f, ExternalInput::kSpike}};
  std::sort(in.begin(), in.end(), [](auto& a, auto& b) { return a.tick < b.tick; });
  auto spikes = d.Run(std::max(tp + kDelay, tq) + 5, {}, in);
  EXPECT_EQ(spikes.size(), 2u);
  return FloatArrays(d.region()).arrays.at("group0.weight").at(0);
}

// Rounding: the trace is a float decayed n times (n + 1 roundings of its size), and the sum with
// the weight rounds to half an ulp of the weight.
double Tol(double dw, Tick n) {
  return std::fabs(dw) * static_cast<double>(n + 2) * FLT_EPSILON + kW0 * FLT_EPSILON;
}

TEST(Stdp, PreBeforePostPotentiatesByAPlusExp) {
  for (Tick lag : {0, 1, 40, 200}) {
    RegionDriver d(PairBrain("Stdp"), 0);
    const Tick tp = 100, tq = tp + kDelay + lag;
    float w = RunPair(d, tp, tq);
    double dw = kAPlus * std::exp(-static_cast<double>(lag) * 0.1 / kTauPlus);
    EXPECT_GT(w, kW0) << "lag " << lag;
    EXPECT_NEAR(w - kW0, dw, Tol(dw, lag)) << "lag " << lag;
  }
}

TEST(Stdp, PostBeforePreDepressesByAMinusExp) {
  for (Tick lag : {1, 40, 200}) {
    RegionDriver d(PairBrain("Stdp"), 0);
    const Tick tq = 100, tp = tq + lag - kDelay;  // the event reaches the synapse lag ticks after post
    float w = RunPair(d, tp, tq);
    double dw = -kAMinus * std::exp(-static_cast<double>(lag) * 0.1 / kTauMinus);
    EXPECT_LT(w, kW0) << "lag " << lag;
    EXPECT_NEAR(w - kW0, dw, Tol(dw, lag)) << "lag " << lag;
  }
}

TEST(ThreeFactor, ScalesWithDopamineAboveBaseline) {
  for (float above : {0.5f, 1.25f}) {
    RegionDriver d(PairBrain("DopamineStdp"), 0);
    const Tick tp = 100, tq = tp + kDelay + 40;
    // Dopamine is baseline + `above` at every tick up to tq (a level set at tq reads exactly there).
    d.modulators().level[0] = 0.2f + above;
    d.modulators().since[0] = tq;
    float w = RunPair(d, tp, tq);
    double f = static_cast<double>((0.2f + above) - 0.2f);
    double dw = kAPlus * f * std::exp(-40 * 0.1 / kTauPlus);
    EXPECT_NEAR(w - kW0, dw, Tol(dw, 40)) << "dopamine above baseline " << above;
  }
}

TEST(ThreeFactor, NoChangeAtBaselineDopamine) {
  for (bool pre_first : {true, false}) {
    RegionDriver d(PairBrain("DopamineStdp"), 0);
    Tick tp = 100, tq = pre_first ? tp + kDelay + 20 : tp + kDelay - 20;
    EXPECT_EQ(RunPair(d, tp, tq), static_cast<float>(kW0)) << (pre_first ? "pre first" : "post first");
  }
}

TEST(ThreeFactor, DopamineBelowBaselineReversesTheSign) {
  RegionDriver d(PairBrain("DopamineStdp"), 0);
  const Tick tp = 100, tq = tp + kDelay + 40;
  d.modulators().level[0] = 0.0f;
  d.modulators().since[0] = tq;
  EXPECT_LT(RunPair(d, tp, tq), static_cast<float>(kW0));
}

TEST(Stdp, WeightsStayWithinBounds) {
  auto spec = SpecFromJson(R"({"regions": [{"name": "r", "type": "generic", "populations": [
    {"name": "e", "size": 100, "neuron": {"bias": 16, "v_init_jitter": 15}}],
    "pathways": [{"from": "e", "to": "e", "indegree": 20, "weight": 0.2, "weight_jitter": 1,
     "delay_ms": 1, "plasticity": "Stdp", "a_plus": 0.2, "a_minus": 0.2, "w_min": 0.05,
     "w_max": 0.3}]}]})");
  RegionDriver d(spec, 0);
  ASSERT_GT(d.Run(5000).size(), 500u);
  FloatArrays state(d.region());
  for (float w : state.arrays.at("group0.weight")) {
    ASSERT_GE(w, 0.05f);
    ASSERT_LE(w, 0.3f);
  }
}

}  // namespace
}  // namespace thalia::kernel
