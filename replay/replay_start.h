// Where a replay starts: the beginning of the run, or a checkpoint - the one a trace segment
// names in its header, or for --from EPOCH the newest loadable checkpoint at or before EPOCH,
// found among the trace's CheckpointMarks and the checkpoints of a folder.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kernel/status.h"
#include "recorder/checkpoint.h"
#include "recorder/trace_reader.h"

namespace thalia::replay {

struct ReplayStart {
  std::string path;  // the checkpoint file
  recorder::Checkpoint checkpoint;
};

// nullopt: replay from the trace's first epoch (a trace that starts at epoch 0 without a
// checkpoint, and no --from). With --from, finding no checkpoint is an error that says what was
// tried (strict: the user asked for a checkpoint). A checkpoint must be of the trace's configuration and lie
// within the trace; its combined digest must match the header's or mark's when they give one.
// Marks name files as the recording run saw them; a relative name is also tried next to the trace.
Result<std::optional<ReplayStart>> FindReplayStart(const std::string& trace_path,
                                                   const recorder::TraceHeaderInfo& header,
                                                   std::optional<uint64_t> from_epoch,
                                                   const std::string& checkpoint_dir,
                                                   const recorder::TraceReaderOptions& reader_options);

}  // namespace thalia::replay
