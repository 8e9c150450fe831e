// A run's series of checkpoints in one folder: when the next one is due, its name (ckpt-<epoch>
// .thck, so names sort by epoch), writing it, and keeping only the newest K.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "kernel/status.h"
#include "recorder/checkpoint.h"

namespace thalia::recorder {

struct CheckpointEntry {
  uint64_t epoch = 0;
  std::string path;
};

// The checkpoints in `dir` (files named ckpt-<digits>.thck), oldest first. Temporary files of an
// interrupted write are not listed.
Result<std::vector<CheckpointEntry>> ListCheckpoints(const std::string& dir);
// "DIR/ckpt-000001234.thck".
std::string CheckpointPath(const std::string& dir, uint64_t epoch);

class CheckpointSeries {
 public:
  // every_ticks > 0; keep == 0 keeps them all. Creates `dir` (one level) if it does not exist.
  static Result<CheckpointSeries> Open(std::string dir, kernel::Tick every_ticks, uint32_t keep);

  // The tick of the next due checkpoint after `tick`: the next multiple of every_ticks, so a
  // resumed run keeps the cadence of the run it continues.
  kernel::Tick NextDue(kernel::Tick tick) const { return (tick / every_ + 1) * every_; }
  // Writes a checkpoint of the brain now, then removes all but the newest `keep`.
  // Returns the path written.
  Result<std::string> Save(kernel::Brain& brain, const TracePosition& trace = {});
  const std::string& dir() const { return dir_; }
  kernel::Tick every() const { return every_; }
  // Bytes of the last checkpoint written and the time the run paused for it.
  uint64_t last_bytes() const { return last_bytes_; }
  double last_pause_s() const { return last_pause_s_; }

 private:
  CheckpointSeries(std::string dir, kernel::Tick every, uint32_t keep)
      : dir_(std::move(dir)), every_(every), keep_(keep) {}
  Status Prune();

  std::string dir_;
  kernel::Tick every_;
  uint32_t keep_;
  uint64_t last_bytes_ = 0;
  double last_pause_s_ = 0;
};

}  // namespace thalia::recorder
