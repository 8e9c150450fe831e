// CRC-32C three ways, all giving the same value: the SSE4.2 CRC32 instruction (8 bytes per
// instruction, picked at run time), slicing-by-8 tables (the portable fallback), and the
// byte-at-a-time table (the reference the tests hold the other two to).
#include "recorder/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>
#define THALIA_HAVE_SSE42_CRC 1
#endif

namespace thalia::recorder {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78u;

// kTables[0] is the byte table; kTables[k][i] is the CRC of byte i followed by k zero bytes.
constexpr std::array<std::array<uint32_t, 256>, 8> MakeTables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[0][i] = c;
  }
  for (int k = 1; k < 8; ++k)
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  return t;
}

constexpr auto kTables = MakeTables();

uint32_t Bytewise(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  for (size_t i = 0; i < n; ++i) c = kTables[0][(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

uint32_t Slice8(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t lo, hi;  // little-endian words, as the reflected CRC consumes bytes
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
        kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) c = kTables[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return ~c;
}

#ifdef THALIA_HAVE_SSE42_CRC
__attribute__((target("sse4.2"))) uint32_t Sse42(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}

bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n) {
#ifdef THALIA_HAVE_SSE42_CRC
  if (HaveSse42()) return Sse42(crc, data, n);
#endif
  return Slice8(crc, data, n);
}

std::vector<Crc32cImplementation> Crc32cImplementations() {
  std::vector<Crc32cImplementation> v = {{"bytewise", Bytewise}, {"slice8", Slice8}};
#ifdef THALIA_HAVE_SSE42_CRC
  if (HaveSse42()) v.push_back({"sse4.2", Sse42});
#endif
  return v;
}

}  // namespace thalia::recorder
