// The on-disk trace format, shared by the writer (recorder/trace_writer.h) and the reader
// (recorder/trace_reader.h). Prose version with a worked layout: recorder/trace_format.md.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "recorder/crc32c.h"

namespace thalia::recorder {

// File layout (all integers little-endian):
//
//   file header  16 bytes: kFileMagic (8) | version u32 | reserved u32 (0)
//   chunk*       kChunkHeaderSize-byte header, then `payload_length` bytes: one zstd frame that
//                decompresses to `raw_length` bytes of size-prefixed FlatBuffers records
//                (u32 length + a schemas/trace.fbs Record); records never span chunks
//   index        kIndexMagic u32 | count u32 | count x {offset u64, first_epoch u64,
//                epoch_count u64} | crc32c u32 of everything before it in the index
//   footer       kFooterSize bytes: index_offset u64 | chunk_count u64 | epoch_count u64 |
//                crc32c u32 of the first 24 bytes | kFooterMagic u32
//
// Chunk header: kChunkMagic u32 | crc32c u32 | payload_length u32 | raw_length u32 |
//               first_epoch u64 | epoch_count u32 | record_count u32
// The crc32c covers header bytes [8, 32) and the payload, so a flipped length is caught too.
//
// The first chunk holds exactly one record, the TraceHeader; it is written as soon as the trace
// is opened. Batches follow, one per epoch, in epoch order with no gap; CheckpointMark records sit
// between batches. The index and footer are written only on a clean close, after which the file
// is renamed from NAME.incomplete to NAME. A reader that finds no valid footer scans chunks from
// the start and stops at the first incomplete one (the crash-cut tail).
//
// Versioning rule: bump kTraceFormatVersion whenever a reader of the previous version would
// misread a file of the new one: any change to this framing, to the spike encoding, or to the
// meaning of an existing schema field. Appending a new optional field to schemas/trace.fbs does
// not bump it (old readers ignore it). Readers refuse any other version with a clear error.
// History: 1 - spikes as two varint streams; 2 - spikes as one Rice-coded bit stream per batch
// (Batch.spike_bits, recorder/spike_codec.cc).
// Version 2 also made the per-epoch digests split-invariant (kernel/digest.h).
inline constexpr uint32_t kTraceFormatVersion = 2;

inline constexpr char kFileMagic[8] = {'T', 'H', 'A', 'L', 'I', 'A', 'T', 'R'};
inline constexpr size_t kFileHeaderSize = 16;
inline constexpr uint32_t kChunkMagic = 0x4b4e4843;   // "CHNK"
inline constexpr uint32_t kIndexMagic = 0x58444e49;   // "INDX"
inline constexpr uint32_t kFooterMagic = 0x444e4554;  // "TEND"
inline constexpr size_t kChunkHeaderSize = 32;
inline constexpr size_t kIndexEntrySize = 24;
inline constexpr size_t kFooterSize = 32;

// A chunk is closed at this many uncompressed bytes, or after kChunkMaxAgeMs of wall time,
// whichever comes first, so a crash loses little.
inline constexpr size_t kChunkTargetRawBytes = 1 << 20;
inline constexpr int kChunkMaxAgeMs = 2000;
// Limits a reader enforces before allocating or verifying anything.
inline constexpr size_t kMaxChunkRawBytes = 256u << 20;
inline constexpr size_t kMaxRecordBytes = 128u << 20;
// Suffix of the file while it is being written.
inline constexpr char kIncompleteSuffix[] = ".incomplete";
// A finished trace written over an earlier one keeps that one as TRACE.old (TRACE.old.1, ... if
// taken).
inline constexpr char kPreviousSuffix[] = ".old";

struct ChunkHeader {
  uint32_t crc = 0;
  uint32_t payload_length = 0;
  uint32_t raw_length = 0;
  uint64_t first_epoch = 0;
  uint32_t epoch_count = 0;
  uint32_t record_count = 0;
};

inline void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline void EncodeChunkHeader(const ChunkHeader& h, uint8_t out[kChunkHeaderSize]) {
  PutU32(out, kChunkMagic);
  PutU32(out + 4, h.crc);
  PutU32(out + 8, h.payload_length);
  PutU32(out + 12, h.raw_length);
  PutU64(out + 16, h.first_epoch);
  PutU32(out + 24, h.epoch_count);
  PutU32(out + 28, h.record_count);
}
// Returns false if the magic is wrong (the checksum is checked by the reader with the payload).
inline bool DecodeChunkHeader(const uint8_t in[kChunkHeaderSize], ChunkHeader* h) {
  if (GetU32(in) != kChunkMagic) return false;
  h->crc = GetU32(in + 4);
  h->payload_length = GetU32(in + 8);
  h->raw_length = GetU32(in + 12);
  h->first_epoch = GetU64(in + 16);
  h->epoch_count = GetU32(in + 24);
  h->record_count = GetU32(in + 28);
  return true;
}

// One index entry: where a chunk starts and which epochs it holds.
struct IndexEntry {
  uint64_t offset = 0, first_epoch = 0, epoch_count = 0;
};

// The index of `index` (written at `index_offset`, right after the last chunk) followed by the
// footer: the bytes that end a closed trace.
inline std::vector<uint8_t> EncodeIndexAndFooter(std::span<const IndexEntry> index, uint64_t index_offset) {
  std::vector<uint8_t> buf(8 + index.size() * kIndexEntrySize + 4);
  PutU32(buf.data(), kIndexMagic);
  PutU32(buf.data() + 4, static_cast<uint32_t>(index.size()));
  uint64_t epochs = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    uint8_t* e = buf.data() + 8 + i * kIndexEntrySize;
    PutU64(e, index[i].offset);
    PutU64(e + 8, index[i].first_epoch);
    PutU64(e + 16, index[i].epoch_count);
    epochs += index[i].epoch_count;
  }
  PutU32(buf.data() + buf.size() - 4, Crc32c(buf.data(), buf.size() - 4));
  uint8_t footer[kFooterSize];
  PutU64(footer, index_offset);
  PutU64(footer + 8, index.size());
  PutU64(footer + 16, epochs);
  PutU32(footer + 24, Crc32c(footer, 24));
  PutU32(footer + 28, kFooterMagic);
  buf.insert(buf.end(), footer, footer + kFooterSize);
  return buf;
}

}  // namespace thalia::recorder
