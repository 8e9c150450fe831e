// TraceWriter: records every epoch of a run to a trace file (recorder/trace_format.h). It is an
// EpochObserver the coordinator attaches with Brain::AddObserver, so every execution mode records
// through the same code. The epoch loop only encodes a record and queues it; chunking, zstd and
// file writes run on the writer's own thread.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kernel/brain.h"
#include "recorder/file_util.h"
#include "recorder/trace_format.h"
#include "recorder/trace_records.h"

namespace thalia::recorder {

struct TraceWriterOptions {
  CheckpointRef from_checkpoint;  // set when the run resumed from a checkpoint
  size_t chunk_raw_bytes = kChunkTargetRawBytes;
  int chunk_max_age_ms = kChunkMaxAgeMs;
  int zstd_level = 3;
  size_t max_queued_bytes = 64u << 20;  // the epoch loop waits when the writer is this far behind
};

struct TraceWriterStats {
  uint64_t epochs = 0, spikes = 0, chunks = 0;
  uint64_t raw_bytes = 0;   // records before compression
  uint64_t file_bytes = 0;  // the whole file
};

class TraceWriter final : public kernel::EpochObserver {
 public:
  // Creates PATH.incomplete, writes the header chunk (the trace starts at brain.epoch() and
  // brain.tick()) and starts the writer thread. The brain must outlive nothing here: only its
  // configuration is read, now. Refuses (kInvalidInput) if PATH.incomplete exists: that is what
  // a run that did not finish left, and it is never overwritten (see CheckTarget).
  static Result<std::unique_ptr<TraceWriter>> Open(const std::string& path, const kernel::Brain& brain,
                                                   TraceWriterOptions options = {});
  // Leaves PATH.incomplete in place with whatever was queued (as a crash would) unless Close ran.
  ~TraceWriter() override;
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Epoch-loop thread. Fails with the writer thread's I/O error, if any (stopping the run).
  Status OnEpoch(const kernel::EpochBegin& begin, const kernel::EpochDone& done) override;
  // Records that a checkpoint of the state at the start of `epoch` was written to `file`. Call it
  // from the epoch-loop thread, between epochs (it is ordered with the batches).
  Status MarkCheckpoint(uint64_t epoch, kernel::Tick tick, const std::string& file, uint64_t digest);
  // Writes the last chunk, the index and the footer, fsyncs, renames PATH.incomplete to PATH and
  // fsyncs the folder. A trace already at PATH is first renamed to PATH.old (or, if that exists,
  // PATH.old.1, PATH.old.2, ...): a finished trace takes the name, and no earlier trace is ever
  // deleted. Idempotent; after it, OnEpoch fails.
  Status Close();
  // Where Close kept the trace it replaced ("" if there was none).
  const std::string& previous_path() const { return previous_path_; }
  // Whether a trace can be started at `path`: not if PATH.incomplete exists (the readable prefix
  // of an earlier run cut short). For callers to check before the work that precedes Open.
  static Status CheckTarget(const std::string& path);
  // Stops the writer thread after it wrote what was queued, leaving PATH.incomplete (for a run
  // that failed: the trace is then a readable prefix).
  Status Abandon();

  const std::string& path() const { return path_; }
  std::string incomplete_path() const { return path_ + kIncompleteSuffix; }
  TraceWriterStats stats() const;

 private:
  struct Item {
    std::vector<uint8_t> record;
    bool batch = false;
    uint64_t epoch = 0;
  };

  TraceWriter(std::string path, TraceWriterOptions options);
  Status Push(Item item);
  void ThreadMain();
  // Writer thread (and Open, before the thread starts): compresses and writes the chunk.
  Status FlushChunk();
  // How often the writer thread looks at the queue without being woken.
  std::chrono::milliseconds WakeInterval() const;
  Status WriteIndexAndFooter();
  Status StopThread();

  const std::string path_;
  const TraceWriterOptions options_;
  UniqueFd fd_;
  uint64_t next_epoch_ = 0;  // epoch-loop thread only
  kernel::Tick next_tick_ = 0;
  std::vector<uint32_t> region_sizes_;  // by region id, as in the trace header

  mutable std::mutex mu_;
  std::condition_variable work_cv_, space_cv_;
  std::deque<Item> queue_;          // GUARDED_BY(mu_)
  size_t queued_bytes_ = 0;         // GUARDED_BY(mu_)
  bool stopping_ = false;           // GUARDED_BY(mu_)
  Status error_;                    // GUARDED_BY(mu_)
  TraceWriterStats stats_;          // GUARDED_BY(mu_)
  std::thread thread_;
  bool closed_ = false;  // epoch-loop thread only
  std::string previous_path_;  // epoch-loop thread only

  // Writer thread only (or Open/Close when the thread is not running).
  std::vector<uint8_t> chunk_raw_;
  std::vector<uint8_t> compressed_;
  uint64_t chunk_first_epoch_ = 0;
  uint32_t chunk_epochs_ = 0, chunk_records_ = 0;
  uint64_t file_offset_ = 0;
  std::vector<IndexEntry> index_;
  void* zstd_ctx_ = nullptr;
};

}  // namespace thalia::recorder
