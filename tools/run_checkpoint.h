// The checkpoint side of `thalia run`: --checkpoint-every/--checkpoint-dir/--keep (when to write,
// where, how many to keep) and --resume (where a run starts from).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "kernel/brain.h"
#include "recorder/checkpoint.h"
#include "recorder/checkpoint_series.h"
#include "recorder/trace_writer.h"
#include "tools/args.h"

namespace thalia::tools {

// Declares the options on `args` (called once, before Parse).
void AddCheckpointOptions(Args& args);

// The checkpoint a run resumes from (--resume), with its configuration resolved.
struct ResumePoint {
  std::string path;
  recorder::Checkpoint checkpoint;
  std::shared_ptr<const kernel::BrainSpec> spec;
};
// nullopt without --resume; an error for a checkpoint that cannot be used.
Result<std::optional<ResumePoint>> LoadResumePoint(const Args& args);
// The trace options of a run: a resumed run's trace is a segment that names its checkpoint.
recorder::TraceWriterOptions TraceOptionsFor(const std::optional<ResumePoint>& resume);

// Writes the checkpoints of a run. Inactive (all calls no-ops) without --checkpoint-every.
class RunCheckpointer {
 public:
  static Result<RunCheckpointer> FromArgs(const Args& args, const kernel::BrainSpec& spec);
  bool active() const { return series_.has_value(); }
  // The tick the run starts at: no checkpoint is written for it (it exists or is the start).
  void StartAt(kernel::Tick tick) { last_tick_ = tick; }
  // Where the run must stop next to write a checkpoint (or `until` if none is due before).
  kernel::Tick NextStop(kernel::Tick tick, kernel::Tick until) const;
  // After a slice: starts a checkpoint if one is due at the brain's tick (written in the
  // background; an error of the previous one is returned).
  Status AfterSlice(kernel::Brain& brain);
  // At the end of a run or on a stop signal: writes one unless the last was at this tick, and
  // waits until every checkpoint is on disk.
  Status Final(kernel::Brain& brain);
  const std::string& last_path() const { return last_path_; }
  // After a failed run: waits for the write in flight, then names the newest complete checkpoint
  // in the folder ("" if none): "; continue from its newest checkpoint: thalia run --resume P",
  // followed by `until_args` (the run's own " --until T", so the command continues to the same
  // end; empty if the run had none).
  std::string ResumeHint(const std::string& until_args);
  // When the run records: checkpoints note the trace's position and the trace marks each one.
  void set_trace(recorder::TraceWriter* trace) { trace_ = trace; }

 private:
  Status Write(kernel::Brain& brain);
  std::optional<recorder::CheckpointSeries> series_;
  kernel::Tick last_tick_ = ~kernel::Tick{0};
  std::string last_path_;
  recorder::TraceWriter* trace_ = nullptr;
};

}  // namespace thalia::tools
