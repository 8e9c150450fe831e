// Reading order: file header, footer and index (if the run closed the file), the header chunk,
// then chunks in file order. Every length is bounded by what is left of the file and by the
// format's limits before it sizes a buffer; every checksum is checked before zstd sees a byte.
#include "recorder/trace_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "recorder/crc32c.h"
#include "recorder/trace_format.h"

namespace thalia::recorder {

Result<std::unique_ptr<TraceReader>> TraceReader::Open(const std::string& path,
                                                       TraceReaderOptions options) {
  std::unique_ptr<TraceReader> r(new TraceReader(path, options));
  r->fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!r->fd_.valid()) return Status::Invalid(path + ": cannot open trace: " + ErrnoText());
  struct stat sb {};
  if (::fstat(r->fd_.get(), &sb) != 0) return Status::Io(path + ": cannot stat: " + ErrnoText());
  if (!S_ISREG(sb.st_mode)) return Status::Invalid(path + ": not a regular file");
  r->file_size_ = static_cast<uint64_t>(sb.st_size);
  uint8_t fh[kFileHeaderSize];
  auto n = ReadAt(r->fd_.get(), fh, sizeof(fh), 0, path);
  if (!n.ok()) return n.status();
  if (n.value() < sizeof(fh) || std::memcmp(fh, kFileMagic, sizeof(kFileMagic)) != 0)
    return Status::Invalid(path + ": not a thalia trace (no trace magic at byte 0)");
  if (uint32_t v = GetU32(fh + 8); v != kTraceFormatVersion)
    return Status::Invalid(path + ": trace format version " + std::to_string(v) + ", this thalia reads version " +
                           std::to_string(kTraceFormatVersion));
  r->chunks_end_ = r->file_size_;
  THALIA_RETURN_IF_ERROR(r->ReadFooter());
  r->offset_ = kFileHeaderSize;

  bool end = false;
  THALIA_RETURN_IF_ERROR(r->LoadChunk(&end));
  DecodedRecord first;
  if (end || r->raw_.size() < 4)
    return Status::Corrupt(path + ": no intact header chunk (" + r->end_reason_ + ")");
  uint32_t len = GetU32(r->raw_.data());
  Status st = DecodeRecord({r->raw_.data(), std::min<size_t>(r->raw_.size(), size_t{4} + len)}, nullptr, &first);
  if (!st.ok()) return st.Context(path + ": chunk 0 at byte " + std::to_string(kFileHeaderSize));
  if (first.kind != RecordKind::kHeader)
    return Status::Corrupt(path + ": the first record is not a trace header");
  if (first.header.format_version != kTraceFormatVersion)
    return Status::Invalid(path + ": trace header of format version " +
                           std::to_string(first.header.format_version) + ", this thalia reads version " +
                           std::to_string(kTraceFormatVersion));
  r->raw_pos_ = 4 + len;
  r->header_ = std::move(first.header);
  r->next_epoch_ = r->header_.first_epoch;
  r->next_tick_ = r->header_.first_tick;
  return r;
}

Status TraceReader::ReadFooter() {
  if (file_size_ < kFileHeaderSize + kFooterSize) return Status::Ok();
  uint8_t f[kFooterSize];
  auto n = ReadAt(fd_.get(), f, sizeof(f), file_size_ - kFooterSize, path_);
  if (!n.ok()) return n.status();
  if (n.value() != kFooterSize || GetU32(f + 28) != kFooterMagic || GetU32(f + 24) != Crc32c(f, 24))
    return Status::Ok();  // no footer: a run that did not close its trace; scan the chunks
  const uint64_t index_offset = GetU64(f);
  footer_chunks_ = GetU64(f + 8);
  footer_epochs_ = GetU64(f + 16);
  const uint64_t index_end = file_size_ - kFooterSize;
  const std::string where = path_ + ": index at byte " + std::to_string(index_offset);
  if (index_offset < kFileHeaderSize || index_offset > index_end ||
      index_end - index_offset != 12 + footer_chunks_ * kIndexEntrySize)
    return Status::Corrupt(path_ + ": footer points at an index of the wrong size");
  std::vector<uint8_t> index(index_end - index_offset);
  auto m = ReadAt(fd_.get(), index.data(), index.size(), index_offset, path_);
  if (!m.ok()) return m.status();
  if (m.value() != index.size() || GetU32(index.data()) != kIndexMagic ||
      GetU32(index.data() + 4) != footer_chunks_ ||
      GetU32(index.data() + index.size() - 4) != Crc32c(index.data(), index.size() - 4))
    return Status::Corrupt(where + ": bad index magic, count or checksum");
  footer_ok_ = true;
  chunks_end_ = index_offset;
  return Status::Ok();
}

Status TraceReader::EndAt(const std::string& reason, bool corruption, bool* end) {
  *end = true;
  ended_ = true;
  const std::string where = "chunk " + std::to_string(chunks_read_) + " at byte " + std::to_string(offset_);
  if (corruption && options_.strict) return Status::Corrupt(path_ + ": " + where + ": " + reason);
  dropped_bytes_ = file_size_ - offset_;
  end_reason_ = where + ": " + reason;
  if (options_.reporter) options_.reporter->Dropped(offset_, dropped_bytes_, reason);
  return Status::Ok();
}

Status TraceReader::LoadChunk(bool* end) {
  *end = false;
  raw_.clear();
  raw_pos_ = 0;
  if (footer_ok_ && offset_ == chunks_end_) {
    if (chunks_read_ != footer_chunks_ || (chunks_read_ > 0 && epochs_read_ + header_.first_epoch != next_epoch_))
      return EndAt("the footer counts another number of chunks", true, end);
    if (epochs_read_ != footer_epochs_) return EndAt("the footer counts another number of epochs", true, end);
    *end = ended_ = complete_ = true;
    end_reason_ = "complete";
    return Status::Ok();
  }
  const uint64_t remaining = chunks_end_ - offset_;
  if (remaining == 0) return EndAt("no index or footer: the run did not close this trace", false, end);
  if (remaining < kChunkHeaderSize) return EndAt("incomplete chunk header", footer_ok_, end);
  uint8_t hb[kChunkHeaderSize];
  auto n = ReadAt(fd_.get(), hb, sizeof(hb), offset_, path_);
  if (!n.ok()) return n.status();
  ChunkHeader h;
  if (!DecodeChunkHeader(hb, &h)) {
    if (!footer_ok_ && GetU32(hb) == kIndexMagic) return EndAt("an index without a valid footer (cut while closing)", false, end);
    return EndAt("bad chunk magic", true, end);
  }
  if (h.payload_length > remaining - kChunkHeaderSize)
    return EndAt("chunk cut short: " + std::to_string(remaining - kChunkHeaderSize) + " of " +
                     std::to_string(h.payload_length) + " bytes",
                 footer_ok_, end);
  if (h.raw_length > kMaxChunkRawBytes) return EndAt("chunk larger than the format allows", true, end);
  payload_.resize(h.payload_length);
  auto m = ReadAt(fd_.get(), payload_.data(), payload_.size(), offset_ + kChunkHeaderSize, path_);
  if (!m.ok()) return m.status();
  if (m.value() != payload_.size()) return EndAt("chunk cut short", footer_ok_, end);
  if (Crc32cExtend(Crc32c(hb + 8, kChunkHeaderSize - 8), payload_.data(), payload_.size()) != h.crc)
    return EndAt("checksum mismatch", true, end);
  unsigned long long content = ZSTD_getFrameContentSize(payload_.data(), payload_.size());
  if (content != h.raw_length) return EndAt("zstd frame of another size than the header says", true, end);
  raw_.resize(h.raw_length);
  size_t got = ZSTD_decompress(raw_.data(), raw_.size(), payload_.data(), payload_.size());
  if (ZSTD_isError(got) || got != h.raw_length) {
    raw_.clear();
    return EndAt("zstd frame does not decompress", true, end);
  }
  // Check the record framing now, so Next can trust the lengths.
  uint32_t records = 0;
  for (size_t p = 0; p < raw_.size(); ++records) {
    if (raw_.size() - p < 4) return EndAt("record length cut short", true, end);
    uint32_t len = GetU32(raw_.data() + p);
    if (len > raw_.size() - p - 4 || len > kMaxRecordBytes) return EndAt("record longer than its chunk", true, end);
    p += 4 + len;
  }
  if (records != h.record_count) return EndAt("record count differs from the chunk header", true, end);
  chunk_offset_ = offset_;
  offset_ += kChunkHeaderSize + h.payload_length;
  ++chunks_read_;
  raw_bytes_ += h.raw_length;
  return Status::Ok();
}

Result<bool> TraceReader::Next(DecodedRecord* out) {
  while (!ended_) {
    if (raw_pos_ >= raw_.size()) {
      bool end = false;
      THALIA_RETURN_IF_ERROR(LoadChunk(&end));
      if (end) break;
      continue;
    }
    const uint32_t len = GetU32(raw_.data() + raw_pos_);
    const size_t at = raw_pos_;
    Status st = DecodeRecord({raw_.data() + raw_pos_, size_t{4} + len}, &header_, out);
    raw_pos_ += 4 + len;
    if (st.ok() && out->kind == RecordKind::kHeader) st = Status::Corrupt("a second trace header");
    if (st.ok() && out->kind == RecordKind::kBatch &&
        (out->batch.epoch != next_epoch_ || out->batch.t0 != next_tick_ ||
         out->batch.digests.size() != header_.region_sizes.size()))
      st = Status::Corrupt("batch of epoch " + std::to_string(out->batch.epoch) + " where epoch " +
                           std::to_string(next_epoch_) + " (tick " + std::to_string(next_tick_) + ") was due");
    if (!st.ok()) {
      // The chunk passed its checksum, so this is a writer bug or a forged file: stop here.
      offset_ = chunk_offset_;
      --chunks_read_;
      bool end = false;
      THALIA_RETURN_IF_ERROR(EndAt("record at byte " + std::to_string(at) + " of the chunk's data: " + st.message(), true, &end));
      break;
    }
    if (out->kind == RecordKind::kBatch) {
      next_epoch_ = out->batch.epoch + 1;
      next_tick_ = out->batch.t1;
      ++epochs_read_;
    }
    return true;
  }
  return false;
}

}  // namespace thalia::recorder
