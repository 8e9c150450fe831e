// CRC-32C by slicing-by-8 (eight 256-entry tables built once), and the checkpoint header codec.
#include "recorder/checkpoint_format.h"

#include <cstring>

namespace thalia::recorder {
namespace {

constexpr uint32_t kCastagnoliReflected = 0x82f63b78u;

struct CrcTables {
  uint32_t t[8][256];
  CrcTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kCastagnoliReflected : 0);
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};

const CrcTables& Tables() {
  static const CrcTables tables;
  return tables;
}

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

uint32_t Crc32c(std::span<const uint8_t> data, uint32_t crc) {
  const CrcTables& tb = Tables();
  const auto& t = tb.t;
  uint32_t c = ~crc;
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    // Bytes are combined explicitly in little-endian order, so the result is host-independent.
    uint32_t lo = c ^ GetU32(p);
    uint32_t hi = GetU32(p + 4);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
  return ~c;
}

std::array<uint8_t, kCheckpointHeaderSize> EncodeCheckpointHeader(const CheckpointHeader& h) {
  std::array<uint8_t, kCheckpointHeaderSize> out{};
  std::memcpy(out.data(), kCheckpointMagic, sizeof(kCheckpointMagic));
  PutU32(out.data() + 8, h.version);
  PutU32(out.data() + 12, h.flags);
  PutU64(out.data() + 16, h.payload_size);
  PutU64(out.data() + 24, h.raw_size);
  PutU32(out.data() + 32, h.crc);
  return out;
}

uint32_t CheckpointCrc(const CheckpointHeader& header, std::span<const uint8_t> payload) {
  auto bytes = EncodeCheckpointHeader(header);
  uint32_t crc = Crc32c(std::span<const uint8_t>(bytes.data(), 32));
  return MaskCrc(Crc32c(payload, crc));
}

Result<CheckpointHeader> DecodeCheckpointHeader(std::span<const uint8_t> b, const std::string& name) {
  if (b.size() < kCheckpointHeaderSize)
    return Status::Corrupt("checkpoint " + name + " is truncated: " + std::to_string(b.size()) +
                           " bytes, shorter than its " + std::to_string(kCheckpointHeaderSize) +
                           "-byte header; it was not completely written: use an earlier checkpoint");
  if (std::memcmp(b.data(), kCheckpointMagic, sizeof(kCheckpointMagic)) != 0)
    return Status::Invalid("checkpoint " + name +
                           " does not start with THALIACK: not a thalia checkpoint (or its first "
                           "bytes are damaged); give a .thck file written by `thalia run`");
  if (GetU32(b.data() + 36) != 0)
    return Status::Corrupt("checkpoint " + name + " is damaged: its header's reserved bytes are not "
                           "zero; use an earlier checkpoint");
  CheckpointHeader h;
  h.version = GetU32(b.data() + 8);
  h.flags = GetU32(b.data() + 12);
  h.payload_size = GetU64(b.data() + 16);
  h.raw_size = GetU64(b.data() + 24);
  h.crc = GetU32(b.data() + 32);
  return h;
}

}  // namespace thalia::recorder
