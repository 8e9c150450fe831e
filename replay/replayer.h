// Replay: re-executes a recorded run in this process, sequentially, with the recorded epoch
// boundaries, modulator events and external inputs, and compares every epoch's spikes and
// digests with the record. Also replays one region alone, fed with the inbound spikes rebuilt
// from the other regions' recorded output (SpikeRouter routes them as the epoch loop does).
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kernel/status.h"
#include "kernel/types.h"
#include "recorder/trace_reader.h"
#include "replay/probe.h"

// A debugger breaks here: replay calls it before it runs epoch `epoch` when asked to (--break-at).
extern "C" void thalia_replay_break(uint64_t epoch);

namespace thalia::replay {

struct ReplayOptions {
  std::string region;                      // replay only this region (by name); empty: all
  std::optional<uint64_t> until_epoch;     // stop after this epoch
  std::optional<double> until_ms;          // --until TIME: after the epoch holding it; probes end before it
  std::optional<uint64_t> break_at_epoch;  // call thalia_replay_break before this epoch
  // Start at the newest checkpoint at or before this epoch (trace marks, checkpoint_dir), instead
  // of the run's start (see replay/replay_start.h).
  std::optional<uint64_t> from_epoch;
  // --from TIME: as from_epoch, for the epoch holding this time (ms); probes start at this tick.
  std::optional<double> from_ms;
  std::string checkpoint_dir;
  bool strict = true;                      // a corrupt chunk is an error (else: end of the prefix)
  recorder::TraceReporter* reporter = nullptr;
  // Probes, each REGION:NEURONS:VARS (replay/probe.h), sampled after every tick that is a multiple
  // of probe_every, from the first tick of epoch from_epoch (or of the first epoch replayed) on,
  // into ReplayResult::probes. A probed region runs one tick at a time; every epoch is still
  // compared with the record (each region fed with the others' recorded spikes). No probes: the
  // replay runs exactly as without this feature.
  std::vector<std::string> probes;
  uint64_t probe_every = 1;
  // Test hook: change one weight of this region before replaying, to provoke a divergence.
  std::string perturb_region;
  float perturb_delta = 0.01f;
};

// The first place the replay differs from the record.
struct Divergence {
  uint64_t epoch = 0;
  kernel::Tick t0 = 0, t1 = 0;
  std::string region;           // name; "modulators" when the modulator state differs
  kernel::Tick tick = 0;        // first tick with a differing spike (t1 for a digest-only change)
  std::optional<kernel::Spike> expected, got;  // the first differing spike, either side
  uint64_t expected_digest = 0, got_digest = 0;
};

struct ReplayResult {
  uint64_t epochs = 0;   // epochs replayed and compared
  uint64_t spikes = 0;   // recorded spikes compared
  uint64_t checkpoint_marks = 0;
  std::string started_from;  // the checkpoint the replay started from; empty: the run's start
  uint64_t first_epoch = 0;  // the first epoch replayed
  bool trace_complete = false;  // the trace ended with its footer
  std::string trace_end;        // why reading stopped when it was not complete
  bool stopped_early = false;   // --until
  std::optional<Divergence> divergence;
  ProbeData probes;  // with ReplayOptions::probes
};

// Replays the trace. Errors: an unreadable trace (kInvalidInput / kCorrupt) or a failure to
// run; a divergence is a result, not an error (see ToStatus).
Result<ReplayResult> Replay(const std::string& trace_path, const ReplayOptions& options);

// One line for a user: the verdict, or the divergence with its epoch, region, tick, spikes and
// digests.
std::string Describe(const ReplayResult& r);
// Ok, or kDiverged with Describe() as the message.
Status ToStatus(const ReplayResult& r);

}  // namespace thalia::replay
