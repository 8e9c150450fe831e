// The epoch loop end to end on the bundled tiny brain: determinism and seed sensitivity, and the
// API refusing inputs that would damage the state.
#include "kernel/brain.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>

#include "tests/test_util.h"

namespace thalia::kernel {
namespace {

TEST(Brain, SameSeedGivesSameSpikesAndDigest) {
  auto spec = testing::LoadExample("tiny.json");
  RunOptions o;
  o.keep_spikes = true;
  auto a = Brain::Create(spec, o);
  auto b = Brain::Create(spec, o);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*a)->RunUntil(2000).ok());
  ASSERT_TRUE((*b)->RunUntil(2000).ok());
  for (RegionId r = 0; r < spec->regions.size(); ++r) {
    auto sa = (*a)->TakeSpikes(r);
    EXPECT_GT(sa.size(), 0u) << spec->regions[r].name;
    EXPECT_EQ(sa, (*b)->TakeSpikes(r));
  }
  EXPECT_EQ((*a)->Digest().value(), (*b)->Digest().value());
}

// A training loop's bad value (a NaN reward, a spike in the past, a neuron that does not exist) is
// refused with a reason and leaves the run exactly as it was: the same digest as a brain that was
// never sent it.
TEST(Brain, BadApiInputIsRefusedAndChangesNothing) {
  auto spec = testing::LoadExample("tiny.json");
  auto a = Brain::Create(spec, RunOptions{});
  auto b = Brain::Create(spec, RunOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->RunUntil(300).ok());
  ASSERT_TRUE((*b)->RunUntil(300).ok());
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Brain& brain = **a;
  EXPECT_FALSE(brain.Reward(nan).ok());
  EXPECT_FALSE(brain.AddModulator(1, inf).ok());
  EXPECT_FALSE(brain.AddModulator(3, 1.0f).ok());
  EXPECT_FALSE(brain.InjectSpike(0, 1, nan, brain.tick() + 5).ok());
  EXPECT_FALSE(brain.InjectSpike(0, 1, 1.0f, brain.tick() - 1).ok());
  EXPECT_FALSE(brain.InjectSpike(0, spec->regions[0].size, 1.0f, brain.tick() + 5).ok());
  EXPECT_FALSE(brain.SetCurrent(0, 1, -inf, brain.tick() + 5).ok());
  EXPECT_FALSE(brain.SetCurrent(static_cast<RegionId>(spec->regions.size()), 1, 1.0f, brain.tick()).ok());
  Status st = brain.Reward(nan);
  EXPECT_EQ(st.ExitCode(), 2);
  EXPECT_NE(st.message().find("finite"), std::string::npos) << st.message();
  ASSERT_TRUE((*a)->RunUntil(1000).ok());
  ASSERT_TRUE((*b)->RunUntil(1000).ok());
  EXPECT_EQ((*a)->Digest().value(), (*b)->Digest().value());
}

}  // namespace
}  // namespace thalia::kernel
