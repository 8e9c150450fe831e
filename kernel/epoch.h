// The epoch messages as C++ values (DESIGN.md, "The epoch"). In-process they are passed as they
// are; between processes transport/ encodes them as FlatBuffers (schemas/messages.fbs).
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <vector>

#include "kernel/modulators.h"
#include "kernel/region.h"
#include "kernel/types.h"

namespace thalia::kernel {

struct EpochBegin {
  uint64_t epoch = 0;
  Tick t0 = 0, t1 = 0;
  ModulatorState modulators;                          // at t0
  std::vector<ModulatorEvent> events;                 // ticks in [t0, t1), in order
  std::vector<std::vector<InSpike>> inbound;          // per region, canonical order
  std::vector<std::vector<ExternalInput>> external;   // per region, by tick
  bool full_digest = false;                           // digest the weights too this epoch
  // Whether the coordinator needs the regions' spikes back (it records or keeps them). Only an
  // executor whose workers route spikes themselves (Executor::RoutesSpikes) may leave them out.
  bool want_spikes = true;
};

struct RegionResult {
  std::vector<Spike> spikes;  // (tick, neuron) order
  uint64_t digest = 0;        // state digest at t1 (full if requested)
  // A part of a region split over processes: its digest entries (DigestPartToWords) in place of
  // `digest`, which the coordinator combines with the other parts'. Empty otherwise.
  std::vector<uint64_t> digest_part;
  RegionCounters counters;
};

struct EpochDone {
  uint64_t epoch = 0;
  std::vector<RegionResult> regions;  // by region id
};

// Per-worker load, reported at the end of a run so a user sees imbalance.
struct WorkerStats {
  int worker = 0;
  std::vector<RegionId> regions;
  uint64_t epochs = 0;
  double busy_s = 0;  // time spent computing epochs
  double wait_s = 0;  // time spent waiting for the coordinator (idle)
  int pid = 0;
  // With more than one thread: each thread's time computing shards (index 0 is the thread that
  // also serves the coordinator); empty with one thread.
  std::vector<double> thread_busy_s;
  std::vector<double> thread_wait_s;  // of those, waiting at the barriers between windows
  // What the worker's epoch replies brought the coordinator: bytes, and spikes among them (none
  // when workers exchange spikes directly and nothing records or keeps them).
  uint64_t bytes_to_coordinator = 0;
  uint64_t spikes_to_coordinator = 0;
};

}  // namespace thalia::kernel
