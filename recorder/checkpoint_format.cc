// The checkpoint header codec: fixed little-endian fields, whatever the host's byte order.
#include "recorder/checkpoint_format.h"

#include <cstring>

#include "recorder/crc32c.h"

namespace thalia::recorder {
namespace {

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
  uint32_t crc = Crc32c(bytes.data(), 32);
  return MaskCrc(Crc32cExtend(crc, payload.data(), payload.size()));
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
