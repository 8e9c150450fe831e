// The state digest sees every field: flipping one element of any array a region saves changes the
// full digest, and the light (per-epoch) digest for every array that is not marked heavy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernel/digest.h"
#include "kernel/state_codec.h"
#include "schemas/state_generated.h"
#include "tests/kernel/kernel_test_util.h"

namespace thalia::kernel {
namespace {

using testing::RegionDriver;
using testing::SpecFromJson;

// Every kind of state: adaptation, both synapse kinds, jittered delays, STDP inside, gated STDP
// from outside, a drive.
std::shared_ptr<const BrainSpec> BusyBrain() { return testing::PlasticTestBrain(60, 20, 2.0); }

// Which arrays are heavy, in visiting order.
class Heaviness final : public StateVisitor {
 public:
  void F32(std::string_view name, std::span<float>, bool heavy) override {
    heavy_[std::string(name)] = heavy;
  }
  void I32(std::string_view name, std::span<int32_t>) override { heavy_[std::string(name)] = false; }
  void U64(std::string_view name, std::vector<uint64_t>&) override {
    heavy_[std::string(name)] = false;
  }
  std::map<std::string, bool> heavy_;
};

// Flips the lowest bit of one element of the array (a middle one; the first of a u64 array).
bool Flip(schema::StateArrayT& a) {
  if (!a.f32.empty()) {
    uint32_t bits;
    std::memcpy(&bits, &a.f32[a.f32.size() / 2], 4);
    bits ^= 1;
    std::memcpy(&a.f32[a.f32.size() / 2], &bits, 4);
  } else if (!a.i32.empty()) {
    a.i32[a.i32.size() / 2] ^= 1;
  } else if (!a.u64.empty()) {
    a.u64[0] ^= 1;
  } else {
    return false;
  }
  return true;
}

TEST(Digest, ChangesWhenAnyStateElementChanges) {
  auto spec = BusyBrain();
  RegionDriver d(spec, 1);
  std::vector<InSpike> in;
  for (NeuronId n = 0; n < 20; ++n) in.push_back({5, 0, n});
  d.Run(10);
  d.Run(53, in);  // stops with events still in the delay ring
  ASSERT_GT(d.region().counters().spikes, 0u);
  Heaviness hv;
  d.region().VisitState(hv);
  const uint64_t full = d.region().Digest(true), light = d.region().Digest(false);
  std::vector<uint8_t> saved = SaveRegionState(d.region());
  schema::RegionStateT state;
  schema::GetRegionState(saved.data())->UnPackTo(&state);
  ASSERT_EQ(state.arrays.size(), hv.heavy_.size());
  {  // Unchanged, the state loads back to the same digests.
    PopulationRegion copy(*spec, 1);
    ASSERT_TRUE(LoadRegionState(copy, saved).ok());
    ASSERT_EQ(copy.Digest(true), full);
    ASSERT_EQ(copy.Digest(false), light);
  }
  int heavy_arrays = 0;
  for (size_t i = 0; i < state.arrays.size(); ++i) {
    schema::RegionStateT changed;
    schema::GetRegionState(saved.data())->UnPackTo(&changed);
    const std::string name = changed.arrays[i]->name;
    ASSERT_TRUE(Flip(*changed.arrays[i])) << name << " is empty: pick a state that fills it";
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(schema::RegionState::Pack(fbb, &changed), schema::RegionStateIdentifier());
    PopulationRegion copy(*spec, 1);
    ASSERT_TRUE(LoadRegionState(copy, {fbb.GetBufferPointer(), fbb.GetSize()}).ok()) << name;
    EXPECT_NE(copy.Digest(true), full) << "full digest misses " << name;
    if (hv.heavy_.at(name)) {
      ++heavy_arrays;
      EXPECT_EQ(copy.Digest(false), light) << "light digest includes heavy " << name;
    } else {
      EXPECT_NE(copy.Digest(false), light) << "light digest misses " << name;
    }
  }
  EXPECT_GT(heavy_arrays, 0);
}

// IndexedSum runs in vector lanes (kernel/digest.cc); it must be exactly the sum of MixElement
// over the elements that the digest's definition names, whatever the length (a vector body and a
// tail), the start in memory (aligned or not) and the global index of the first element.
TEST(Digest, IndexedSumIsTheSumOfMixedElements) {
  std::vector<uint32_t> a(300);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint32_t>(i * 2654435761u) ^ 0x9e3779b9u;
  for (size_t start : {0u, 1u, 3u, 16u}) {
    for (size_t n = 0; n + start <= a.size(); n += (n < 40 ? 1 : 37)) {
      for (uint64_t first : {uint64_t{0}, uint64_t{7}, uint64_t{1} << 31, (uint64_t{1} << 32) - 5}) {
        uint64_t expected = 0;
        for (size_t i = 0; i < n; ++i) expected += MixElement(first + i, a[start + i]);
        ASSERT_EQ(IndexedSum(a.data() + start, n, first), expected) << start << " " << n << " " << first;
      }
    }
  }
}

// The digest's array hash is split-invariant: any cut of an array into parts, summed apart with
// their global first index, adds up to the whole's sum; yet moving a value to another index (a
// swap, a shift by one) changes it, as does any one flipped bit.
TEST(Digest, IndexedSumsOfPartsAddUpAndSeeOrder) {
  std::vector<float> a(1000);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 37) * 0.25f - 3.0f;
  const uint64_t whole = IndexedSum(a.data(), a.size(), 0);
  for (size_t cut : {0u, 1u, 255u, 256u, 999u, 1000u}) {
    for (size_t cut2 = cut; cut2 <= a.size(); cut2 += 333) {
      const uint64_t parts = IndexedSum(a.data(), cut, 0) + IndexedSum(a.data() + cut, cut2 - cut, cut) +
                             IndexedSum(a.data() + cut2, a.size() - cut2, cut2);
      EXPECT_EQ(parts, whole) << cut << " " << cut2;
    }
  }
  std::vector<float> b = a;
  std::swap(b[10], b[11]);
  EXPECT_NE(IndexedSum(b.data(), b.size(), 0), whole);
  EXPECT_NE(IndexedSum(a.data(), a.size(), 1), whole);
  for (size_t i : {0u, 500u, 999u}) {
    b = a;
    uint32_t bits;
    std::memcpy(&bits, &b[i], 4);
    bits ^= 1u << (i % 32);
    std::memcpy(&b[i], &bits, 4);
    EXPECT_NE(IndexedSum(b.data(), b.size(), 0), whole) << i;
  }
  // Synapses: keyed by (source, target, value), not by position.
  EXPECT_NE(MixSynapse(1, 2, 7), MixSynapse(2, 1, 7));
  EXPECT_NE(MixSynapse(1, 2, 7), MixSynapse(1, 2, 8));
}

TEST(Digest, PerturbedWeightChangesOnlyTheFullDigest) {
  auto spec = BusyBrain();
  RegionDriver d(spec, 1);
  d.Run(20);
  const uint64_t full = d.region().Digest(true), light = d.region().Digest(false);
  ASSERT_TRUE(d.region().PerturbWeightForTest(1e-3f));
  EXPECT_NE(d.region().Digest(true), full);
  EXPECT_EQ(d.region().Digest(false), light);
}

}  // namespace
}  // namespace thalia::kernel

namespace thalia::kernel {
namespace {

// Writes `value` into every refractory counter (a damaged or forged state).
class SetRefractory final : public StateVisitor {
 public:
  explicit SetRefractory(int32_t value) : value_(value) {}
  void F32(std::string_view, std::span<float>, bool) override {}
  void I32(std::string_view name, std::span<int32_t> d) override {
    if (name == "refractory") std::fill(d.begin(), d.end(), value_);
  }
  void U64(std::string_view, std::vector<uint64_t>&) override {}

 private:
  int32_t value_;
};

// The threshold pass computes every lane branch-free; a counter at INT_MIN (found by the codec
// property under UBSan: INT_MIN - 1 overflowed) must run without undefined behaviour, as a
// neuron that is not refractory.
TEST(DamagedState, ExtremeRefractoryCountersRunSafely) {
  RegionDriver d(BusyBrain(), 1);
  d.Run(100);
  SetRefractory damage(std::numeric_limits<int32_t>::min());
  d.region().VisitState(damage);
  EXPECT_FALSE(d.Run(300).empty()) << "neurons with a negative counter are not refractory and fire";
}

// A static pathway without weight jitter stores one weight for all its synapses, but is visited
// as the per-synapse array it stands for; a loaded state with unequal weights is kept exactly.
TEST(UniformWeights, StoredOnceVisitedPerSynapseAndLoadedUnequalKeptExactly) {
  auto spec = testing::SpecFromJson(R"({"regions": [
    {"name": "r", "type": "generic", "populations": [{"name": "e", "size": 50, "neuron": {"bias": 18}}],
     "pathways": [{"from": "e", "to": "e", "indegree": 8, "weight": 0.25, "delay_ms": 1}],
     "drives": [{"population": "e", "rate_hz": 500, "inputs": 20, "weight": 2}]}]})");
  ASSERT_TRUE(spec);
  testing::RegionDriver a(spec, 0), b(spec, 0);
  EXPECT_EQ(a.region().SynapseCount(), 400u);
  EXPECT_EQ(a.region().SynapseBytes(), 400u * 4 + 51u * 4) << "targets and row offsets only";
  const std::vector<float> w = testing::FloatArrays(a.region()).arrays.at("group0.weight");
  ASSERT_EQ(w.size(), 400u);
  for (float x : w) ASSERT_EQ(x, 0.25f);

  ASSERT_TRUE(a.region().PerturbWeightForTest(0.5f));  // now per synapse
  EXPECT_EQ(a.region().SynapseBytes(), 400u * 8 + 51u * 4);
  EXPECT_EQ(testing::FloatArrays(a.region()).arrays.at("group0.weight")[0], 0.75f);
  EXPECT_NE(a.region().Digest(true), b.region().Digest(true));
  ASSERT_TRUE(LoadRegionState(b.region(), SaveRegionState(a.region())).ok());
  b.region().FinishLoad();
  EXPECT_EQ(a.region().Digest(true), b.region().Digest(true));
  EXPECT_EQ(testing::FloatArrays(b.region()).arrays.at("group0.weight")[0], 0.75f);
  // Both now run on the perturbed weight, spike for spike.
  auto sa = a.Run(300), sb = b.Run(300);
  EXPECT_FALSE(sa.empty());
  EXPECT_EQ(sa.size(), sb.size());
  EXPECT_EQ(a.region().Digest(true), b.region().Digest(true));
}

}  // namespace
}  // namespace thalia::kernel
