// The five built-in region presets produce moderate activity: every population of every region of
// the bundled tiny brain fires, and none saturates (bounds: 0.5 Hz, a population that is alive,
// to 80 Hz, below fast-spiking interneurons' typical ceiling in these conductance-LIF presets).
#include <gtest/gtest.h>

#include "kernel/brain.h"
#include "tests/test_util.h"

namespace thalia::kernel {
namespace {

TEST(Presets, EveryPopulationFiresAtModerateRatesInTinyBrain) {
  auto spec = thalia::testing::LoadExample("tiny.json");
  RunOptions o;
  o.keep_spikes = true;
  auto brain = Brain::Create(spec, o);
  ASSERT_TRUE(brain.ok());
  const Tick until = MsToTicks(1000, spec->dt_ms);
  ASSERT_TRUE((*brain)->RunUntil(until).ok());
  for (RegionId r = 0; r < spec->regions.size(); ++r) {
    auto spikes = (*brain)->TakeSpikes(r);
    for (const PopulationSpec& p : spec->regions[r].populations) {
      size_t n = 0;
      for (const Spike& s : spikes) n += s.neuron >= p.offset && s.neuron < p.offset + p.size;
      const double hz = static_cast<double>(n) / p.size;  // over 1 s
      EXPECT_GE(hz, 0.5) << spec->regions[r].name << "." << p.name;
      EXPECT_LE(hz, 80.0) << spec->regions[r].name << "." << p.name;
    }
  }
}

}  // namespace
}  // namespace thalia::kernel
