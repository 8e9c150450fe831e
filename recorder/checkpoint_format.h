// The on-disk format of a checkpoint file, shared by its writer and its reader: magic, format
// version, fixed header, size limits and the CRC-32C that guards the whole file.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "kernel/status.h"

namespace thalia::recorder {

// A checkpoint file is
//
//   header (kCheckpointHeaderSize bytes, little-endian)
//     0  magic        8 bytes  "THALIACK"
//     8  version      u32      kCheckpointVersion of the writer
//    12  flags        u32      0 (no flag is defined yet)
//    16  payload_size u64      bytes of the zstd frame that follows the header
//    24  raw_size     u64      bytes of the FlatBuffers Checkpoint once decompressed
//    32  crc          u32      masked CRC-32C (recorder/crc32c.h) of header bytes [0, 32)
//                              followed by the payload
//    36  reserved     u32      0
//   payload: one zstd frame (with its own content checksum) holding one size-prefixed
//            FlatBuffers `Checkpoint` (schemas/checkpoint.fbs, file_identifier "THCK").
//
// The header layout and the CRC are frozen across versions, so a reader of any version can tell
// a damaged file (bad CRC) from a file of another version (good CRC, other version number), and
// say which.
//
// When to bump kCheckpointVersion: whenever a reader of the previous version would misread or
// miss part of a new file: a field of schemas/checkpoint.fbs whose absence changes a resumed
// run, a change of its meaning or units, a new flag, or another payload encoding. A field added
// purely for information does not bump it. A change of a region's state arrays bumps
// kernel::kRegionStateVersion instead (checked when each region loads). Readers accept exactly
// their own version: a resumed run must be the run that was never interrupted, and a guess at an
// old layout could silently break that.
inline constexpr char kCheckpointMagic[8] = {'T', 'H', 'A', 'L', 'I', 'A', 'C', 'K'};
// Version 2: the digests a checkpoint holds are split-invariant (kernel/digest.h).
inline constexpr uint32_t kCheckpointVersion = 2;
inline constexpr size_t kCheckpointHeaderSize = 40;
// A FlatBuffers buffer is addressed with 32-bit offsets; its verifier refuses 2 GiB and more.
inline constexpr uint64_t kMaxCheckpointRawSize = (uint64_t{1} << 31) - 1;
// zstd never grows incompressible data by more than a small fraction.
inline constexpr uint64_t kMaxCheckpointPayloadSize = kMaxCheckpointRawSize + (uint64_t{1} << 24);
// The file name suffix of checkpoints (ckpt-000001234.thck).
inline constexpr char kCheckpointSuffix[] = ".thck";

struct CheckpointHeader {
  uint32_t version = kCheckpointVersion;
  uint32_t flags = 0;
  uint64_t payload_size = 0;
  uint64_t raw_size = 0;
  uint32_t crc = 0;
};

// The stored form of a CRC, masked as LevelDB does, so a file that holds CRCs of its own bytes
// (e.g. a checkpoint embedded in a trace) does not checksum to a fixed pattern.
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

// The CRC a header must carry for this payload.
uint32_t CheckpointCrc(const CheckpointHeader& header, std::span<const uint8_t> payload);
std::array<uint8_t, kCheckpointHeaderSize> EncodeCheckpointHeader(const CheckpointHeader& header);
// Checks magic and the reserved bytes only; sizes, CRC and version are the reader's to check, in
// that order. `name` names the file in errors.
Result<CheckpointHeader> DecodeCheckpointHeader(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace thalia::recorder
