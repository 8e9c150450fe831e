// The 64-bit state digest: a fixed-byte-order hash of canonical field values (never of
// FlatBuffers bytes, whose encoding of one value is not unique).
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace thalia::kernel {

class Hasher {
 public:
  void U64(uint64_t v) { h_ = Step(h_, v); }
  void Str(std::string_view s) {
    U64(s.size());
    for (unsigned char c : s) U64(c);
  }
  // Float arrays hash their bit patterns, in index order, 2 per 64-bit word.
  void Floats(std::span<const float> a) { Words32(a.data(), a.size()); }
  void Ints(std::span<const int32_t> a) { Words32(a.data(), a.size()); }
  void U64s(std::span<const uint64_t> a) {
    U64(a.size());
    for (uint64_t v : a) U64(v);
  }
  uint64_t Final() const { return Step(h_, 0x5bd1e9955bd1e995ull); }

 private:
  static uint64_t Step(uint64_t h, uint64_t v) {
    v *= 0x87c37b91114253d5ull;
    v = (v << 31) | (v >> 33);
    v *= 0x4cf5ad432745937full;
    h ^= v;
    h = ((h << 27) | (h >> 37)) * 5 + 0x52dce729;
    return h;
  }
  void Words32(const void* p, size_t n) {
    U64(n);
    const auto* b = static_cast<const unsigned char*>(p);
    size_t i = 0;
    // Four independent lanes keep the multiply chains short; combined in a fixed order.
    uint64_t l[4] = {h_, h_ ^ 1, h_ ^ 2, h_ ^ 3};
    for (; i + 8 <= n; i += 8) {
      for (int k = 0; k < 4; ++k) {
        uint64_t w;
        std::memcpy(&w, b + (i + 2 * k) * 4, 8);
        l[k] = Step(l[k], w);
      }
    }
    h_ = Step(Step(Step(Step(h_, l[0]), l[1]), l[2]), l[3]);
    for (; i < n; ++i) {
      uint32_t w;
      std::memcpy(&w, b + i * 4, 4);
      U64(w);
    }
  }
  uint64_t h_ = 0x736f6d6570736575ull;
};

// The split-invariant part of the digest. An array is hashed as the sum (mod 2^64) of a bijective
// mix of (index, element bits) over its elements, so any contiguous part of it can be summed on
// its own (by a shard, a thread or another process) and the parts added in any order: the result
// does not depend on how, or whether, the array was split. One changed element changes the sum
// unless two mixed values happen to cancel (probability about 2^-64).
inline uint64_t MixElement(uint64_t index, uint32_t bits) {
  uint64_t x = (index << 32) ^ bits;  // index < 2^32: injective
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 32;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 29;
  return x;
}

// The sum of MixElement over a part of a 32-bit array whose first element has global index
// `first`.
inline uint64_t IndexedSum(const void* data, size_t n, uint64_t first) {
  const auto* b = static_cast<const unsigned char*>(data);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t w;
    std::memcpy(&w, b + i * 4, 4);
    sum += MixElement(first + i, w);
  }
  return sum;
}

// One synapse of a per-synapse array, keyed by what identifies it in every storage order and
// every split: its source and target neurons (within their regions) and its value.
inline uint64_t MixSynapse(uint32_t source, uint32_t target, uint32_t bits) {
  uint64_t x = ((uint64_t{source} << 32) | target) * 0x9e3779b97f4a7c15ull;
  x ^= x >> 32;
  x += uint64_t{bits} * 0xd6e8feb86659fd93ull;
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  return x;
}

// Combines per-region digests (in region id order) into the one `digest` a run prints.
inline uint64_t CombineDigests(std::span<const uint64_t> per_region) {
  Hasher h;
  h.U64s(per_region);
  return h.Final();
}

}  // namespace thalia::kernel
