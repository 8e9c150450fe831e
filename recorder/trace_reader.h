// TraceReader: reads a trace written by TraceWriter, record by record. A trace without a valid
// footer (the run crashed) is scanned from the start and ends cleanly at the first incomplete
// chunk; what was dropped goes to the reporter. A corrupt chunk (bad magic, checksum, zstd frame
// or record) is an error naming the chunk and its byte offset — or, when not strict, the end of
// the intact prefix, reported like a cut tail. Never trusts a length before bounding it.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "recorder/file_util.h"
#include "recorder/trace_records.h"

namespace thalia::recorder {

// Told about every byte range the reader skipped at the end, and why (LevelDB log::Reader style).
class TraceReporter {
 public:
  virtual ~TraceReporter() = default;
  virtual void Dropped(uint64_t offset, uint64_t bytes, const std::string& reason) = 0;
};

struct TraceReaderOptions {
  bool strict = true;  // corruption is an error; otherwise it ends the readable prefix
  TraceReporter* reporter = nullptr;
};

class TraceReader {
 public:
  // Opens the file and reads its header chunk. A missing or unreadable header is an error.
  static Result<std::unique_ptr<TraceReader>> Open(const std::string& path,
                                                   TraceReaderOptions options = {});
  const TraceHeaderInfo& header() const { return header_; }
  const std::string& path() const { return path_; }

  // Reads the next batch or checkpoint mark into *out. Returns false at the end of the readable
  // records (then see complete()/end_reason()); an error for corruption in strict mode.
  Result<bool> Next(DecodedRecord* out);

  // After Next returned false:
  bool complete() const { return complete_; }  // footer and index valid: the run closed cleanly
  const std::string& end_reason() const { return end_reason_; }
  uint64_t epochs_read() const { return epochs_read_; }
  uint64_t dropped_bytes() const { return dropped_bytes_; }
  // Sizes, for `thalia trace info`.
  uint64_t file_size() const { return file_size_; }
  uint64_t raw_bytes_read() const { return raw_bytes_; }
  uint64_t chunks_read() const { return chunks_read_; }
  bool has_footer() const { return footer_ok_; }

 private:
  TraceReader(std::string path, TraceReaderOptions options) : path_(std::move(path)), options_(options) {}
  Status ReadFooter();
  // Loads the chunk at offset_ into raw_. Sets *end when there is no further intact chunk.
  Status LoadChunk(bool* end);
  // Ends the readable prefix at offset_: corruption is an error if strict, else a dropped tail.
  Status EndAt(const std::string& reason, bool corruption, bool* end);
  Status CheckIndex();

  const std::string path_;
  const TraceReaderOptions options_;
  UniqueFd fd_;
  uint64_t file_size_ = 0;
  bool footer_ok_ = false;
  uint64_t chunks_end_ = 0;  // where the chunks stop: the index offset, or the file size
  uint64_t footer_chunks_ = 0, footer_epochs_ = 0;

  uint64_t offset_ = 0;    // of the next chunk
  uint64_t chunk_no_ = 0;  // of the chunk in raw_ (0: the header chunk)
  uint64_t chunk_offset_ = 0;
  std::vector<uint8_t> raw_, payload_;
  size_t raw_pos_ = 0;

  TraceHeaderInfo header_;
  uint64_t next_epoch_ = 0;
  kernel::Tick next_tick_ = 0;
  bool ended_ = false;
  bool complete_ = false;
  std::string end_reason_;
  uint64_t epochs_read_ = 0, dropped_bytes_ = 0, raw_bytes_ = 0, chunks_read_ = 0;
};

}  // namespace thalia::recorder
