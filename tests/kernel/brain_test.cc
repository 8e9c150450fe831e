// The epoch loop end to end on the bundled tiny brain: determinism and seed sensitivity.
#include "kernel/brain.h"

#include <gtest/gtest.h>

#include <cstdlib>

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

}  // namespace
}  // namespace thalia::kernel
