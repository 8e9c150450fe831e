// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven: the checksum of trace
// chunks, index and footer. Written here because zstd does not export its own hash.
#pragma once

#include <cstddef>
#include <cstdint>

namespace thalia::recorder {

// Extends `crc` (the value returned for the bytes before) with `n` more bytes. Start with 0.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }

}  // namespace thalia::recorder
