// Counter-based random streams (Philox4x32-10, Salmon et al. 2011). A stream is keyed by
// (seed, owner) and a draw is addressed by a counter (tick, neuron, purpose, index): a draw's
// value never depends on which draws came before it, on other regions, or on the process.
// There is no generator state to save in a checkpoint: the tick is the state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
  // The same bits as n calls to Draw, computed lane-parallel (kernel/random.cc).
  void DrawMany(uint64_t a, uint32_t b0, uint32_t n, Purpose p, uint32_t index, uint32_t* out) const;
  // For tests: the names of the DrawMany implementations this CPU can run (the first is the one
  // DrawMany uses), and DrawMany through implementation `which` of that list.
  static std::vector<std::string> DrawManyImplementations();
  void DrawManyWith(size_t which, uint64_t a, uint32_t b0, uint32_t n, Purpose p, uint32_t index,
                    uint32_t* out) const;

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
