// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of trace chunks, index and
// footer, and of checkpoints. Written here because zstd does not export its own hash.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace thalia::recorder {

// Extends `crc` (the value returned for the bytes before) with `n` more bytes. Start with 0.
// Uses the CPU's CRC32 instruction (SSE4.2) where there is one, else tables eight bytes at a time.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }

// Every implementation this machine can run, by name ("bytewise", the reference; "slice8";
// "sse4.2" where supported), so tests can check each against the reference.
struct Crc32cImplementation {
  std::string_view name;
  uint32_t (*extend)(uint32_t crc, const void* data, size_t n);
};
std::vector<Crc32cImplementation> Crc32cImplementations();

}  // namespace thalia::recorder
