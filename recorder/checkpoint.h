// Checkpoints: the complete state of a run at an epoch boundary, saved to one file and resumed
// into a brain that then runs exactly as if it had never been interrupted, with any executor
// and worker count. The file format is recorder/checkpoint_format.h + schemas/checkpoint.fbs.
//
// API in short:
//   recorder::SaveCheckpoint(brain, "run/ckpt-000000100.thck");      // atomic; at an epoch boundary
//   auto brain = recorder::ResumeBrain("run/ckpt-000000100.thck", options);   // any RunOptions
//   (*brain)->RunUntil(until);
// Errors: kCorrupt for a damaged or truncated file, kInvalidInput for another format version or
// a file that is not a checkpoint, kIo when the file system fails; each message says what to do.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "kernel/status.h"

namespace thalia::recorder {

// Where the trace of the run stood when the checkpoint was taken.
struct TracePosition {
  std::string path;              // empty: the run was not recording
  uint64_t epochs_recorded = 0;  // epochs the trace held at the checkpoint
};

// A checkpoint in memory.
struct Checkpoint {
  uint32_t format_version = 0;
  std::vector<uint8_t> config;  // BrainSpec::config, verbatim
  uint64_t seed = 0;
  kernel::BrainState state;
  std::vector<std::string> region_names;
  std::vector<uint64_t> digests;  // full digest of every region at the checkpoint
  TracePosition trace;
  std::string executor;  // how the writing run executed (information only)
  int workers = 0;
};

// Captures the brain's state now (between epochs); in parallel mode the executor collects the
// region states from the workers.
Result<Checkpoint> CaptureCheckpoint(kernel::Brain& brain, const TracePosition& trace = {});

// The whole checkpoint file as bytes, and back. `name` names the file in errors. Decoding checks,
// in order: header, sizes against the limits and the file, CRC, version, zstd frame,
// flatbuffers::Verifier, then the contents' consistency; it never trusts an unchecked byte.
Result<std::vector<uint8_t>> EncodeCheckpoint(const Checkpoint& checkpoint);
Result<Checkpoint> DecodeCheckpoint(std::span<const uint8_t> file, const std::string& name);

// Writes atomically: a temporary file in the same folder, fsync, rename over `path`, fsync of the
// folder. A crash at any moment leaves either the old file at `path` (or none) or the new one.
Status WriteCheckpointFile(const Checkpoint& checkpoint, const std::string& path);
Result<Checkpoint> ReadCheckpointFile(const std::string& path);

// CaptureCheckpoint + WriteCheckpointFile.
Status SaveCheckpoint(kernel::Brain& brain, const std::string& path, const TracePosition& trace = {});

// Builds a brain from a checkpoint's configuration, loads its state (kernel::Brain::Restore) and
// checks every region's full digest against the one recorded. `options` choose the executor and
// worker count freely; workers == -1 takes the configuration's.
Result<std::unique_ptr<kernel::Brain>> ResumeBrain(const Checkpoint& checkpoint,
                                                   kernel::RunOptions options = {});
Result<std::unique_ptr<kernel::Brain>> ResumeBrain(const std::string& path,
                                                   kernel::RunOptions options = {});

}  // namespace thalia::recorder
