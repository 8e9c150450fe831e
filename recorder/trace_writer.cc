// The writer thread owns the open chunk: it appends queued records, and closes the chunk when it
// reaches its size or age (a timed wait, so an idle run still flushes). A chunk is compressed as
// one zstd frame and written with a checksummed header; its offset goes into the index.
#include "recorder/trace_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "recorder/crc32c.h"

namespace thalia::recorder {

TraceWriter::TraceWriter(std::string path, TraceWriterOptions options)
    : path_(std::move(path)), options_(std::move(options)) {}

namespace {

Status IncompleteExists(const std::string& tmp) {
  return Status::Invalid(tmp + " exists: the record of an earlier run that did not finish (thalia trace info " + tmp +
                         " tells what it holds); move or remove it, or record to another path");
}

}  // namespace

Result<std::unique_ptr<TraceWriter>> TraceWriter::Open(const std::string& path,
                                                       const kernel::Brain& brain,
                                                       TraceWriterOptions options) {
  std::unique_ptr<TraceWriter> w(new TraceWriter(path, std::move(options)));
  const std::string tmp = w->incomplete_path();
  // O_EXCL: an existing PATH.incomplete is an earlier run's record, never truncated.
  w->fd_.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!w->fd_.valid()) {
    if (errno == EEXIST) return IncompleteExists(tmp);
    return Status::Io(tmp + ": cannot create trace: " + ErrnoText());
  }
  w->zstd_ctx_ = ZSTD_createCCtx();
  if (!w->zstd_ctx_) return Status::Internal("zstd: cannot create a compression context");

  uint8_t file_header[kFileHeaderSize] = {};
  std::memcpy(file_header, kFileMagic, sizeof(kFileMagic));
  PutU32(file_header + 8, kTraceFormatVersion);
  THALIA_RETURN_IF_ERROR(WriteAll(w->fd_.get(), file_header, sizeof(file_header), tmp));
  w->file_offset_ = kFileHeaderSize;

  const kernel::BrainSpec& spec = brain.spec();
  TraceHeaderInfo h;
  h.format_version = kTraceFormatVersion;
  h.config = spec.config;
  h.seed = spec.seed;
  h.dt_ms = spec.dt_ms;
  h.epoch_ticks = spec.epoch_ticks;
  h.first_epoch = brain.epoch();
  h.first_tick = brain.tick();
  h.checkpoint = w->options_.from_checkpoint;
  for (const kernel::RegionSpec& r : spec.regions) {
    h.region_names.push_back(r.name);
    h.region_sizes.push_back(r.size);
  }
  AppendHeaderRecord(h, &w->chunk_raw_);
  w->region_sizes_ = h.region_sizes;
  w->chunk_records_ = 1;
  w->chunk_first_epoch_ = h.first_epoch;
  // The header chunk goes out at once: a run that dies in its first epoch still leaves a trace
  // that says what it was.
  THALIA_RETURN_IF_ERROR(w->FlushChunk());
  w->next_epoch_ = h.first_epoch;
  w->next_tick_ = h.first_tick;
  w->thread_ = std::thread([p = w.get()] { p->ThreadMain(); });
  return w;
}

TraceWriter::~TraceWriter() {
  (void)StopThread();
  if (zstd_ctx_) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
}

Status TraceWriter::OnEpoch(const kernel::EpochBegin& begin, const kernel::EpochDone& done) {
  if (closed_) return Status::Internal("trace " + path_ + ": OnEpoch after Close");
  if (begin.epoch != next_epoch_ || begin.t0 != next_tick_)
    return Status::Internal("trace " + path_ + ": expected epoch " + std::to_string(next_epoch_) +
                            ", got " + std::to_string(begin.epoch));
  Item item;
  item.batch = true;
  item.epoch = begin.epoch;
  AppendBatchRecord(begin, done, region_sizes_, &item.record);
  uint64_t spikes = 0;
  for (const kernel::RegionResult& r : done.regions) spikes += r.spikes.size();
  next_epoch_ = begin.epoch + 1;
  next_tick_ = begin.t1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.spikes += spikes;
    ++stats_.epochs;
  }
  return Push(std::move(item));
}

Status TraceWriter::MarkCheckpoint(uint64_t epoch, kernel::Tick tick, const std::string& file,
                                   uint64_t digest) {
  if (closed_) return Status::Internal("trace " + path_ + ": MarkCheckpoint after Close");
  Item item;
  item.epoch = epoch;
  AppendMarkRecord({epoch, tick, file, digest}, &item.record);
  return Push(std::move(item));
}

Status TraceWriter::Push(Item item) {
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [&] {
    return queued_bytes_ < options_.max_queued_bytes || !error_.ok() || stopping_;
  });
  if (!error_.ok()) return error_;
  if (stopping_) return Status::Internal("trace " + path_ + ": writer already stopped");
  queued_bytes_ += item.record.size();
  // Batches wake the writer only once a chunk's worth is waiting: it also wakes by itself every
  // WakeInterval(), so the epoch loop pays no wake-up per epoch and a crash still loses at most
  // the chunk age plus that interval.
  const bool wake = !item.batch || queued_bytes_ >= options_.chunk_raw_bytes;
  queue_.push_back(std::move(item));
  if (wake) work_cv_.notify_one();
  return Status::Ok();
}

void TraceWriter::ThreadMain() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point chunk_started = Clock::now();
  std::deque<Item> batch;
  while (true) {
    bool stop = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] {
        return queued_bytes_ >= options_.chunk_raw_bytes || stopping_ ||
               (!queue_.empty() && !queue_.back().batch);
      };
      work_cv_.wait_for(lock, WakeInterval(), ready);
      batch.swap(queue_);
      queued_bytes_ = 0;
      stop = stopping_;
      if (!error_.ok()) {
        batch.clear();
        stop = true;
      }
    }
    space_cv_.notify_all();
    Status st;
    for (Item& item : batch) {
      if (chunk_raw_.empty()) {
        chunk_started = Clock::now();
        chunk_first_epoch_ = item.epoch;
      }
      if (item.batch) {
        if (chunk_epochs_ == 0) chunk_first_epoch_ = item.epoch;
        ++chunk_epochs_;
      }
      ++chunk_records_;
      chunk_raw_.insert(chunk_raw_.end(), item.record.begin(), item.record.end());
      if (chunk_raw_.size() >= options_.chunk_raw_bytes && st.ok()) st = FlushChunk();
    }
    batch.clear();
    if (st.ok() && !chunk_raw_.empty() &&
        (stop || Clock::now() - chunk_started >= std::chrono::milliseconds(options_.chunk_max_age_ms)))
      st = FlushChunk();
    if (!st.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.ok()) error_ = st;
      space_cv_.notify_all();
    }
    if (stop) return;
  }
}

std::chrono::milliseconds TraceWriter::WakeInterval() const {
  return std::chrono::milliseconds(std::clamp(options_.chunk_max_age_ms / 2, 1, 250));
}

Status TraceWriter::FlushChunk() {
  if (chunk_raw_.empty()) return Status::Ok();
  auto* cctx = static_cast<ZSTD_CCtx*>(zstd_ctx_);
  compressed_.resize(kChunkHeaderSize + ZSTD_compressBound(chunk_raw_.size()));
  size_t n = ZSTD_compressCCtx(cctx, compressed_.data() + kChunkHeaderSize,
                               compressed_.size() - kChunkHeaderSize, chunk_raw_.data(),
                               chunk_raw_.size(), options_.zstd_level);
  if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  ChunkHeader h;
  h.payload_length = static_cast<uint32_t>(n);
  h.raw_length = static_cast<uint32_t>(chunk_raw_.size());
  h.first_epoch = chunk_first_epoch_;
  h.epoch_count = chunk_epochs_;
  h.record_count = chunk_records_;
  EncodeChunkHeader(h, compressed_.data());
  h.crc = Crc32cExtend(Crc32c(compressed_.data() + 8, kChunkHeaderSize - 8),
                       compressed_.data() + kChunkHeaderSize, n);
  PutU32(compressed_.data() + 4, h.crc);
  THALIA_RETURN_IF_ERROR(WriteAll(fd_.get(), compressed_.data(), kChunkHeaderSize + n, incomplete_path()));
  index_.push_back({file_offset_, chunk_first_epoch_, chunk_epochs_});
  file_offset_ += kChunkHeaderSize + n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.chunks;
    stats_.raw_bytes += chunk_raw_.size();
    stats_.file_bytes = file_offset_;
  }
  chunk_raw_.clear();
  chunk_epochs_ = 0;
  chunk_records_ = 0;
  return Status::Ok();
}

Status TraceWriter::StopThread() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_one();
    space_cv_.notify_all();
    thread_.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

Status TraceWriter::WriteIndexAndFooter() {
  const std::vector<uint8_t> buf = EncodeIndexAndFooter(index_, file_offset_);
  THALIA_RETURN_IF_ERROR(WriteAll(fd_.get(), buf.data(), buf.size(), incomplete_path()));
  file_offset_ += buf.size();
  std::lock_guard<std::mutex> lock(mu_);
  stats_.file_bytes = file_offset_;
  return Status::Ok();
}

Status TraceWriter::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  THALIA_RETURN_IF_ERROR(StopThread());
  THALIA_RETURN_IF_ERROR(WriteIndexAndFooter());
  const std::string tmp = incomplete_path();
  if (::fsync(fd_.get()) != 0) return Status::Io(tmp + ": fsync failed: " + ErrnoText());
  if (::close(fd_.release()) != 0) return Status::Io(tmp + ": close failed: " + ErrnoText());
  // A crash between the two renames leaves PATH.old and the complete PATH.incomplete: both kept.
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    // The first free name of PATH.old, PATH.old.1, PATH.old.2, ...: no earlier trace is deleted.
    std::string old = path_ + kPreviousSuffix;
    for (int i = 1; ::stat(old.c_str(), &st) == 0; ++i) old = path_ + kPreviousSuffix + "." + std::to_string(i);
    if (std::rename(path_.c_str(), old.c_str()) != 0)
      return Status::Io(path_ + ": cannot keep the previous trace as " + old + ": " + ErrnoText());
    previous_path_ = old;
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0)
    return Status::Io(tmp + ": cannot rename to " + path_ + ": " + ErrnoText());
  return SyncParentDir(path_);
}

Status TraceWriter::CheckTarget(const std::string& path) {
  const std::string tmp = path + kIncompleteSuffix;
  struct stat st {};
  if (::stat(tmp.c_str(), &st) == 0) return IncompleteExists(tmp);
  return Status::Ok();
}

Status TraceWriter::Abandon() {
  closed_ = true;
  return StopThread();
}

TraceWriterStats TraceWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace thalia::recorder
