// The lane-parallel form of RandomStream::Draw: independent Philox counters side by side in
// vector registers. Integer arithmetic only, so every implementation gives the same bits.
#include "kernel/random.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace thalia::kernel {
namespace {

// Philox4x32-10 of the counters (c0, c1, b0 + j, c3) under `key`, j in [0, n) with n a multiple
// of kLanes; the words of counter j go to out[4j..4j+3]. Three implementations of the same
// integer arithmetic: AVX-512 and AVX2 (the 32x32->64 multiplies as even/odd mul_epu32 pairs),
// chosen once by the CPU, and portable C++ lanes.
constexpr uint32_t kLanes = 16;
constexpr uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57, kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;

using LanesFn = void (*)(uint64_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t*);

void PhiloxPortable(uint64_t key, uint32_t c0, uint32_t c1, uint32_t b0, uint32_t c3, uint32_t n,
                    uint32_t* __restrict out) {
  for (uint32_t j = 0; j < n; j += kLanes) {
    uint32_t x0[kLanes], x1[kLanes], x2[kLanes], x3[kLanes];
    for (uint32_t l = 0; l < kLanes; ++l) {
      x0[l] = c0;
      x1[l] = c1;
      x2[l] = b0 + j + l;
      x3[l] = c3;
    }
    uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
    for (int round = 0; round < 10; ++round) {
      for (uint32_t l = 0; l < kLanes; ++l) {
        const uint64_t p0 = uint64_t{kM0} * x0[l];
        const uint64_t p1 = uint64_t{kM1} * x2[l];
        const uint32_t y0 = static_cast<uint32_t>(p1 >> 32) ^ x1[l] ^ k0;
        const uint32_t y2 = static_cast<uint32_t>(p0 >> 32) ^ x3[l] ^ k1;
        x1[l] = static_cast<uint32_t>(p1);
        x3[l] = static_cast<uint32_t>(p0);
        x0[l] = y0;
        x2[l] = y2;
      }
      k0 += kW0;
      k1 += kW1;
    }
    for (uint32_t l = 0; l < kLanes; ++l) {
      out[4 * (j + l) + 0] = x0[l];
      out[4 * (j + l) + 1] = x1[l];
      out[4 * (j + l) + 2] = x2[l];
      out[4 * (j + l) + 3] = x3[l];
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define THALIA_PHILOX_X86 1

// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized in the set1 intrinsics (GCC bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f"))) void PhiloxAvx512(uint64_t key, uint32_t c0, uint32_t c1, uint32_t b0,
                                                     uint32_t c3, uint32_t n, uint32_t* __restrict out) {
  const __m512i m0 = _mm512_set1_epi64(kM0), m1 = _mm512_set1_epi64(kM1);
  const __m512i low = _mm512_set1_epi64(0xffffffffu);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // (lo, hi) halves of the 32x32->64 products of every 32-bit lane of x with m.
  auto mul = [&](__m512i x, __m512i m, __m512i* lo, __m512i* hi) __attribute__((target("avx512f"))) {
    const __m512i even = _mm512_mul_epu32(x, m), odd = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), m);
    *lo = _mm512_or_si512(_mm512_and_si512(even, low), _mm512_slli_epi64(odd, 32));
    *hi = _mm512_or_si512(_mm512_srli_epi64(even, 32), _mm512_andnot_si512(low, odd));
  };
  alignas(64) uint32_t w[4][16];
  for (uint32_t j = 0; j < n; j += 16) {
    __m512i x0 = _mm512_set1_epi32(static_cast<int>(c0)), x1 = _mm512_set1_epi32(static_cast<int>(c1));
    __m512i x2 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(b0 + j)), lane);
    __m512i x3 = _mm512_set1_epi32(static_cast<int>(c3));
    uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
    for (int round = 0; round < 10; ++round) {
      __m512i lo0, hi0, lo1, hi1;
      mul(x0, m0, &lo0, &hi0);
      mul(x2, m1, &lo1, &hi1);
      x0 = _mm512_xor_si512(_mm512_xor_si512(hi1, x1), _mm512_set1_epi32(static_cast<int>(k0)));
      x2 = _mm512_xor_si512(_mm512_xor_si512(hi0, x3), _mm512_set1_epi32(static_cast<int>(k1)));
      x1 = lo1;
      x3 = lo0;
      k0 += kW0;
      k1 += kW1;
    }
    _mm512_store_si512(w[0], x0);
    _mm512_store_si512(w[1], x1);
    _mm512_store_si512(w[2], x2);
    _mm512_store_si512(w[3], x3);
    for (uint32_t l = 0; l < 16; ++l)
      for (uint32_t q = 0; q < 4; ++q) out[4 * (j + l) + q] = w[q][l];
  }
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

__attribute__((target("avx2"))) void PhiloxAvx2(uint64_t key, uint32_t c0, uint32_t c1, uint32_t b0,
                                                uint32_t c3, uint32_t n, uint32_t* __restrict out) {
  const __m256i m0 = _mm256_set1_epi64x(kM0), m1 = _mm256_set1_epi64x(kM1);
  const __m256i low = _mm256_set1_epi64x(0xffffffffu);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  auto mul = [&](__m256i x, __m256i m, __m256i* lo, __m256i* hi) __attribute__((target("avx2"))) {
    const __m256i even = _mm256_mul_epu32(x, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
    *lo = _mm256_or_si256(_mm256_and_si256(even, low), _mm256_slli_epi64(odd, 32));
    *hi = _mm256_or_si256(_mm256_srli_epi64(even, 32), _mm256_andnot_si256(low, odd));
  };
  alignas(32) uint32_t w[4][8];
  for (uint32_t j = 0; j < n; j += 8) {
    __m256i x0 = _mm256_set1_epi32(static_cast<int>(c0)), x1 = _mm256_set1_epi32(static_cast<int>(c1));
    __m256i x2 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(b0 + j)), lane);
    __m256i x3 = _mm256_set1_epi32(static_cast<int>(c3));
    uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
    for (int round = 0; round < 10; ++round) {
      __m256i lo0, hi0, lo1, hi1;
      mul(x0, m0, &lo0, &hi0);
      mul(x2, m1, &lo1, &hi1);
      x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32(static_cast<int>(k0)));
      x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32(static_cast<int>(k1)));
      x1 = lo1;
      x3 = lo0;
      k0 += kW0;
      k1 += kW1;
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[0]), x0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[1]), x1);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[2]), x2);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[3]), x3);
    for (uint32_t l = 0; l < 8; ++l)
      for (uint32_t q = 0; q < 4; ++q) out[4 * (j + l) + q] = w[q][l];
  }
}
#endif

struct Implementation {
  const char* name;
  LanesFn fn;
};

// The implementations this CPU runs, widest first.
std::vector<Implementation> Available() {
  std::vector<Implementation> v;
#ifdef THALIA_PHILOX_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) v.push_back({"avx512f", PhiloxAvx512});
  if (__builtin_cpu_supports("avx2")) v.push_back({"avx2", PhiloxAvx2});
#endif
  v.push_back({"portable", PhiloxPortable});
  return v;
}

}  // namespace

void RandomStream::DrawMany(uint64_t a, uint32_t b0, uint32_t n, Purpose p, uint32_t index,
                            uint32_t* out) const {
  DrawManyWith(0, a, b0, n, p, index, out);
}

std::vector<std::string> RandomStream::DrawManyImplementations() {
  std::vector<std::string> names;
  for (const Implementation& i : Available()) names.push_back(i.name);
  return names;
}

void RandomStream::DrawManyWith(size_t which, uint64_t a, uint32_t b0, uint32_t n, Purpose p,
                                uint32_t index, uint32_t* out) const {
  static const std::vector<Implementation> impls = Available();
  const uint32_t c0 = static_cast<uint32_t>(a), c1 = static_cast<uint32_t>(a >> 32);
  const uint32_t c3 = (static_cast<uint32_t>(p) << 24) ^ index;
  const LanesFn fn = impls[std::min(which, impls.size() - 1)].fn;
  const uint32_t whole = n - n % kLanes;
  fn(key_, c0, c1, b0, c3, whole, out);
  if (whole == n) return;
  // The tail: one more batch of lanes into scratch, of which the first n - whole are wanted.
  uint32_t tail[4 * kLanes];
  fn(key_, c0, c1, b0 + whole, c3, kLanes, tail);
  std::copy(tail, tail + 4 * (n - whole), out + 4 * size_t{whole});
}

}  // namespace thalia::kernel
