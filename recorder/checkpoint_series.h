// A run's series of checkpoints in one folder: when the next one is due, its name (ckpt-<epoch>
// .thck, so names sort by epoch), writing it, and keeping only the newest K.
#pragma once

#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "kernel/status.h"
#include "recorder/checkpoint.h"

namespace thalia::recorder {

// A checkpoint a series started writing.
struct SavedCheckpoint {
  std::string path;
  uint64_t epoch = 0;
  kernel::Tick tick = 0;
  uint64_t digest = 0;  // combined digest of every region (what `thalia run` prints)
};

struct CheckpointEntry {
  uint64_t epoch = 0;
  std::string path;
};

// The checkpoints in `dir` (files named ckpt-<digits>.thck), oldest first. Temporary files of an
// interrupted write are not listed.
Result<std::vector<CheckpointEntry>> ListCheckpoints(const std::string& dir);
// "DIR/ckpt-000001234.thck".
std::string CheckpointPath(const std::string& dir, uint64_t epoch);
// Removes all but the newest `keep` checkpoints of `dir` (keep == 0: none).
Status PruneCheckpoints(const std::string& dir, uint32_t keep);

// Thread-compatible: one thread (the epoch loop's) calls it. Each checkpoint is captured on that
// thread (the run pauses only for the capture) and then compressed, written and pruned on a
// background thread; at most one write is in flight, a second Save waits for the first.
class CheckpointSeries {
 public:
  // every_ticks > 0; keep == 0 keeps them all. Creates `dir` (one level) if it does not exist,
  // and removes temporary files left there by writers that crashed. The folder belongs to one
  // run: if it holds checkpoints, the newest must be of `owner`'s configuration and seed (the same
  // run, e.g. one resumed from it, whose checkpoints of equal epochs are equal); otherwise
  // kInvalidInput, since the series would replace another run's checkpoints of equal epochs and
  // `keep` would delete the rest. That check reads the newest checkpoint whole.
  static Result<CheckpointSeries> Open(std::string dir, kernel::Tick every_ticks, uint32_t keep,
                                       const kernel::BrainSpec& owner);
  CheckpointSeries(CheckpointSeries&&) = default;
  CheckpointSeries& operator=(CheckpointSeries&&) = default;
  ~CheckpointSeries();  // waits for the write in flight

  // The tick of the next due checkpoint after `tick`: the next multiple of every_ticks, so a
  // resumed run keeps the cadence of the run it continues.
  kernel::Tick NextDue(kernel::Tick tick) const { return (tick / every_ + 1) * every_; }
  // Captures a checkpoint of the brain now and starts writing it (then removing all but the
  // newest `keep`). Returns what it is writing; an error of the previous write.
  Result<SavedCheckpoint> Save(kernel::Brain& brain, const TracePosition& trace = {});
  // Waits until the write in flight (if any) is on disk; its error, if any.
  Status Wait();
  const std::string& dir() const { return dir_; }
  kernel::Tick every() const { return every_; }
  // The time the run paused for the last Save (waiting for the previous write, capturing).
  double last_pause_s() const { return last_pause_s_; }

 private:
  CheckpointSeries(std::string dir, kernel::Tick every, uint32_t keep)
      : dir_(std::move(dir)), every_(every), keep_(keep) {}

  std::string dir_;
  kernel::Tick every_;
  uint32_t keep_;
  double last_pause_s_ = 0;
  std::future<Status> writing_;
};

}  // namespace thalia::recorder
