// Counter-based random streams (Philox4x32-10, Salmon et al. 2011). A stream is keyed by
// (seed, owner) and a draw is addressed by a counter (tick, neuron, purpose, index): a draw's
// value never depends on which draws came before it, on other regions, or on the process.
// There is no generator state to save in a checkpoint: the tick is the state.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace thalia::kernel {

// What a draw is for; part of the counter so different uses never share numbers.
enum class Purpose : uint32_t {
  kInit = 1,
  kDrive = 2,
  kConnect = 3,
  kWeight = 4,
  kDelay = 5,
};

class RandomStream {
 public:
  RandomStream(uint64_t seed, uint64_t owner) : key_{Mix(seed, owner)} {}

  // Four independent 32-bit words for one counter value.
  std::array<uint32_t, 4> Draw(uint64_t a, uint32_t b, Purpose p, uint32_t index) const {
    std::array<uint32_t, 4> ctr = {static_cast<uint32_t>(a), static_cast<uint32_t>(a >> 32), b,
                                   (static_cast<uint32_t>(p) << 24) ^ index};
    uint32_t k0 = static_cast<uint32_t>(key_), k1 = static_cast<uint32_t>(key_ >> 32);
    for (int round = 0; round < 10; ++round) {
      uint64_t p0 = uint64_t{0xD2511F53} * ctr[0];
      uint64_t p1 = uint64_t{0xCD9E8D57} * ctr[2];
      ctr = {static_cast<uint32_t>(p1 >> 32) ^ ctr[1] ^ k0, static_cast<uint32_t>(p1),
             static_cast<uint32_t>(p0 >> 32) ^ ctr[3] ^ k1, static_cast<uint32_t>(p0)};
      k0 += 0x9E3779B9;
      k1 += 0xBB67AE85;
    }
    return ctr;
  }
  uint64_t key() const { return key_; }

  // Draw(a, b0 + j, p, index) for j in [0, n), the four words of each written to out[4j..4j+3].
  // The same bits as n calls to Draw; written lane-parallel so the compiler vectorises it.
  void DrawMany(uint64_t a, uint32_t b0, uint32_t n, Purpose p, uint32_t index, uint32_t* out) const {
    constexpr uint32_t kLanes = 8;
    const uint32_t c0 = static_cast<uint32_t>(a), c1 = static_cast<uint32_t>(a >> 32);
    const uint32_t c3 = (static_cast<uint32_t>(p) << 24) ^ index;
    uint32_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
      uint32_t x0[kLanes], x1[kLanes], x2[kLanes], x3[kLanes];
      for (uint32_t l = 0; l < kLanes; ++l) {
        x0[l] = c0;
        x1[l] = c1;
        x2[l] = b0 + j + l;
        x3[l] = c3;
      }
      uint32_t k0 = static_cast<uint32_t>(key_), k1 = static_cast<uint32_t>(key_ >> 32);
      for (int round = 0; round < 10; ++round) {
        for (uint32_t l = 0; l < kLanes; ++l) {
          uint64_t p0 = uint64_t{0xD2511F53} * x0[l];
          uint64_t p1 = uint64_t{0xCD9E8D57} * x2[l];
          uint32_t y0 = static_cast<uint32_t>(p1 >> 32) ^ x1[l] ^ k0;
          uint32_t y2 = static_cast<uint32_t>(p0 >> 32) ^ x3[l] ^ k1;
          x1[l] = static_cast<uint32_t>(p1);
          x3[l] = static_cast<uint32_t>(p0);
          x0[l] = y0;
          x2[l] = y2;
        }
        k0 += 0x9E3779B9;
        k1 += 0xBB67AE85;
      }
      for (uint32_t l = 0; l < kLanes; ++l) {
        out[4 * (j + l) + 0] = x0[l];
        out[4 * (j + l) + 1] = x1[l];
        out[4 * (j + l) + 2] = x2[l];
        out[4 * (j + l) + 3] = x3[l];
      }
    }
    for (; j < n; ++j) {
      auto w = Draw(a, b0 + j, p, index);
      for (int q = 0; q < 4; ++q) out[4 * j + q] = w[q];
    }
  }

  // Uniform in [0, 1) with 32 bits of resolution: exact, no rounding up to 1.
  static double Uniform(uint32_t word) { return word * (1.0 / 4294967296.0); }
  // Unbiased-enough index in [0, n) by multiply-shift (Lemire), n < 2^32.
  static uint32_t Below(uint32_t word, uint32_t n) {
    return static_cast<uint32_t>((uint64_t{word} * n) >> 32);
  }

  static uint64_t Mix(uint64_t a, uint64_t b) {
    uint64_t z = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Stable 64-bit hash of a name (FNV-1a), to key streams by region or pathway name.
  static uint64_t HashName(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
  }

 private:
  uint64_t key_;
};

}  // namespace thalia::kernel
