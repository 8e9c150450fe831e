// Configuration errors: unknown keys, wrong types and bad values give a message that names the
// file, the place in it and what was expected; nothing crashes, whatever the input.
#include <gtest/gtest.h>

#include <random>

#include "kernel/spec.h"

namespace thalia::kernel {
namespace {

struct BadCase {
  std::string json;
  std::vector<const char*> mentions;  // fragments the message must contain (besides the file)
};

Status Load(const std::string& json) {
  auto bytes = ParseConfigJson(json, "bad.json");
  if (!bytes.ok()) return bytes.status();
  auto spec = ResolveBrainSpec(std::move(bytes).value(), "bad.json");
  return spec.ok() ? Status::Ok() : spec.status();
}

constexpr const char* kRegion = R"({"name": "c", "type": "cortex", "size": 100})";

std::string Brain(const std::string& top, const std::string& region = kRegion,
                  const std::string& pathways = "") {
  return "{" + top + (top.empty() ? "" : ", ") + R"("regions": [)" + region +
         R"(, {"name": "h", "type": "hippocampus", "size": 100}])" +
         (pathways.empty() ? "" : R"(, "pathways": [)" + pathways + "]") + "}";
}

TEST(Config, BadInputsNameFilePlaceAndExpectation) {
  const std::vector<BadCase> cases = {
      // Syntax and schema: the JSON parser reports file, line and the offending token.
      {"", {"bad.json"}},
      {"{", {"bad.json", "1"}},
      {Brain(R"("sede": 3)"), {"unknown field", "sede"}},
      {Brain(R"("seed": "three")"), {"seed"}},
      {Brain(R"("dt_ms": [1])"), {"dt_ms"}},
      {Brain("", R"({"name": "c", "type": "cortex", "sise": 100})"), {"sise"}},
      {Brain("", kRegion, R"({"from": "c", "to": "h", "plasticity": "Hebb"})"),
       {"Hebb"}},
      {R"({"name": "x"})", {"regions"}},
      // Values: the resolver names the place and what was expected.
      {Brain(R"("dt_ms": 0)"), {"dt_ms", "expected"}},
      {Brain(R"("duration_ms": -5)"), {"duration_ms", "expected"}},
      {Brain(R"("launch": "thread")"), {"launch", "fork"}},
      {Brain(R"("dopamine": {"tau_ms": 0})"), {"dopamine.tau_ms"}},
      {R"({"regions": []})", {"regions", "at least one region"}},
      {Brain("", R"({"name": "c", "type": "neocortex"})"),
       {"regions[0].type", "registered region type", "cortex"}},
      {Brain("", R"({"name": "h", "type": "cortex"})"), {"regions[1].name", "unique"}},
      {Brain("", R"({"name": "a.b", "type": "cortex"})"), {"regions[0].name"}},
      {Brain("", R"({"name": "g", "type": "generic"})"), {"regions[0].populations"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p"}]})"),
       {"regions[0].populations[0].size"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 3,
          "neuron": {"tau_m_ms": -1}}]})"),
       {"regions[0].populations[0].neuron.tau_m_ms", "positive"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 3,
          "neuron": {"v_thresh": -70}}]})"),
       {"populations[0].neuron.v_thresh", "above v_reset"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 3}],
          "pathways": [{"from": "p", "to": "q"}]})"),
       {"regions[0].pathways[0].to", "population of region 'g'", "'q'"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 3}],
          "pathways": [{"from": "p", "to": "p", "delay_ms": 0}]})"),
       {"regions[0].pathways[0].delay_ms", "at least one tick"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 3}],
          "drives": [{"population": "p", "rate_hz": -1}]})"),
       {"regions[0].drives[0].rate_hz"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 3}],
          "drives": [{"population": "z"}]})"),
       {"regions[0].drives[0].population", "'z'"}},
      {Brain("", kRegion, R"({"from": "c", "to": "x"})"), {"pathways[0].to", "'x'"}},
      {Brain("", kRegion, R"({"from": "c.L9", "to": "h"})"), {"pathways[0].from", "L9"}},
      {Brain("", kRegion, R"({"from": "c", "to": "c"})"), {"pathways[0].to", "another region"}},
      {Brain("", kRegion, R"({"from": "c", "to": "h", "p": 1.5})"),
       {"pathways[0].p", "probability"}},
      {Brain("", kRegion, R"({"from": "c", "to": "h", "weight": -1})"),
       {"pathways[0].weight", ">= 0"}},
      {Brain("", kRegion, R"({"from": "c", "to": "h", "weight_jitter": 2})"),
       {"pathways[0].weight_jitter"}},
      {Brain("", kRegion, R"({"from": "c", "to": "h", "delay_ms": 1, "delay_jitter_ms": 2})"),
       {"pathways[0].delay_jitter_ms"}},
      {Brain("", kRegion, R"({"from": "c", "to": "h", "delay_ms": 0.01})"),
       {"pathways[0].delay_ms", "at least one tick"}},
      {Brain("", kRegion, R"({"from": "c", "to": "h", "plasticity": "Stdp", "w_min": 1, "w_max": 0})")
          ,
       {"pathways[0].w_max"}},
      {Brain(R"("events": [{"time_ms": -3, "amount": 1}])"), {"events[0].time_ms"}},
      {Brain(R"("batch_window_ms": 0.01)"), {"batch_window_ms", "at least one tick"}},
      {Brain(R"("threads": 1000)"), {"threads", "0 (auto) to 256"}},
      // Times too long for a tick (their conversion used to be undefined and give 0 ticks).
      {Brain(R"("duration_ms": 1e30)"), {"duration_ms", "2^62 ticks"}},
      {Brain(R"("events": [{"time_ms": 1e30, "amount": 1}])"), {"events[0].time_ms", "2^62 ticks"}},
      {Brain("", kRegion, R"({"from": "c", "to": "h", "delay_ms": 1e30})"),
       {"pathways[0].delay_ms", "below 65535 ticks"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 3,
          "neuron": {"refractory_ms": 1e9}}]})"),
       {"populations[0].neuron.refractory_ms", "2^30 ticks"}},
      {Brain("", R"({"name": "g", "type": "generic", "size": 100, "populations": [{"name": "p", "fraction": -0.5}]})"),
       {"regions[0].populations[0].fraction", "(0, 1]"}},
      {Brain("", R"({"name": "g", "type": "generic", "size": 100, "populations": [{"name": "p", "fraction": 1e30}]})"),
       {"regions[0].populations[0].fraction", "(0, 1]"}},
      // More synapses than a pathway can index (2^31): refused before any memory is asked for.
      {Brain("", kRegion, R"({"from": "c", "to": "h", "indegree": 4000000000})"),
       {"pathways[0].indegree", "at most 2^31 synapses", "indegree 4000000000 x"}},
      {Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 100000}],
          "pathways": [{"from": "p", "to": "p", "p": 0.5}]})"),
       {"regions[0].pathways[0].p", "at most 2^31 synapses", "5e+09 expected"}},
  };
  for (const BadCase& c : cases) {
    Status st = Load(c.json);
    ASSERT_FALSE(st.ok()) << "accepted: " << c.json;
    EXPECT_EQ(st.ExitCode(), 2) << st.message();
    EXPECT_NE(st.message().find("bad.json"), std::string::npos) << st.message();
    for (const char* m : c.mentions)
      EXPECT_NE(st.message().find(m), std::string::npos)
          << "message '" << st.message() << "' lacks '" << m << "'";
  }
}

// The synapse limit is on the count, not the parameters: the same 10^5 x 10^5 pathway at a
// probability that gives 2^31 synapses or fewer is accepted (it is only resolved, never built here).
TEST(Config, PathwaysUpToTheSynapseLimitAreAccepted) {
  EXPECT_TRUE(Load(Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 100000}],
      "pathways": [{"from": "p", "to": "p", "p": 0.2}]})")).ok());
  EXPECT_TRUE(Load(Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 100000}],
      "pathways": [{"from": "p", "to": "p", "indegree": 21474}]})")).ok());
  EXPECT_FALSE(Load(Brain("", R"({"name": "g", "type": "generic", "populations": [{"name": "p", "size": 100000}],
      "pathways": [{"from": "p", "to": "p", "indegree": 21475}]})")).ok());
}

TEST(Config, GoodInputIsAccepted) {
  EXPECT_TRUE(Load(Brain(R"("seed": 3)", kRegion, R"({"from": "c", "to": "h", "delay_ms": 2})")).ok());
}

TEST(Config, CorruptedConfigurationsNeverCrash) {
  // Truncations and byte flips of a valid configuration, and random bytes as a buffer: every one
  // gives a status, none crashes (run under the sanitizers in CI).
  const std::string good = Brain(R"("seed": 3)", kRegion, R"({"from": "c", "to": "h", "delay_ms": 2})");
  std::mt19937 gen(12345);  // fixed seed
  for (size_t cut = 0; cut < good.size(); cut += 3) (void)Load(good.substr(0, cut));
  for (int i = 0; i < 300; ++i) {
    std::string s = good;
    s[gen() % s.size()] = static_cast<char>(gen() % 128);
    (void)Load(s);
  }
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> bytes(gen() % 200);
    for (auto& b : bytes) b = static_cast<uint8_t>(gen());
    auto r = ResolveBrainSpec(bytes, "random.bin");
    EXPECT_FALSE(r.ok());
  }
}

}  // namespace
}  // namespace thalia::kernel
