// The timeline of `thalia run --profile FILE.json` (RunOptions::profile_path): spans of time in
// which each thread of the coordinator and of every worker computed, waited, exchanged spikes,
// recorded or checkpointed, per epoch, written at the end of a run as Chrome trace-event JSON
// (Perfetto and chrome://tracing open it). Decides nothing: results are the same with it or not.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "kernel/status.h"

namespace thalia::kernel {

class ThreadPool;

// What a thread spent a span on. Each kind belongs to one category (ProfileCategory): compute,
// waiting, exchange, recording, checkpointing. Values travel between processes: append only.
enum class SpanKind : uint8_t {
  kCompute = 0,    // a region advancing (on a pool thread: its shards' section)
  kBarrierWait,    // a pool thread's waits at the barriers between windows (summed per section)
  kWaitRequest,    // a worker waiting for the coordinator's next request
  kWaitReplies,    // the coordinator waiting for the workers' replies
  kAssemble,       // the coordinator assembling an EpochBegin
  kSend,           // the coordinator encoding and sending requests
  kDecode,         // decoding a message (a worker its EpochBegin, the coordinator each reply)
  kEncode,         // a worker encoding and sending its reply
  kRoute,          // the coordinator routing spikes and advancing the modulators
  kRecord,         // the coordinator's epoch observers (the trace writer)
  kCheckpoint,     // capturing a checkpoint's state (a worker: saving its regions' states)
  kPeerExchange,   // a worker sending its spikes to its peers and routing theirs (MPI direct exchange)
};
inline constexpr uint8_t kNumSpanKinds = 12;
const char* ProfileCategory(SpanKind kind);
const char* ProfileName(SpanKind kind);

struct ProfileSpan {
  uint64_t start_ns = 0, end_ns = 0;  // ProfileNow() of the process that measured it
  uint64_t epoch = 0;                 // Brain::epoch() when it ran (a flush shares its number)
  int32_t region = -1;                // the region computed, or -1
  uint16_t process = 0;               // 0 the coordinator, w + 1 worker w
  uint16_t thread = 0;                // 0 the thread that serves requests, k pool thread k
  SpanKind kind = SpanKind::kCompute;
};

// steady_clock in nanoseconds: CLOCK_MONOTONIC on Linux, one clock for all processes of a host.
uint64_t ProfileNow();

// The spans of one region's advance in process `process`: thread 0 ran it from `start_ns` to
// `end_ns`; `pool` (may be null) holds the sections each of its threads ran, which this consumes.
// Each section becomes compute then, if any, its summed barrier wait drawn at its end (one span
// per window would be thousands per epoch with one-tick windows).
void AppendAdvanceSpans(uint64_t epoch, int32_t region, uint16_t process, uint64_t start_ns, uint64_t end_ns,
                        ThreadPool* pool, std::vector<ProfileSpan>* out);

// The coordinator's collection of spans. Not thread-safe: the epoch loop's thread makes every call.
class Profiler {
 public:
  // Keeps at most `max_spans` spans (about 40 bytes each); past it the timeline stops, and the
  // file and stopped_at_epoch() say where.
  Profiler(std::string path, uint64_t max_spans);

  // False once the limit is reached: callers stop measuring (and stop asking workers to).
  bool active() const { return !full_; }
  void Add(const ProfileSpan& span);
  void Add(SpanKind kind, uint64_t epoch, uint64_t start_ns, uint64_t end_ns, int32_t region = -1,
           uint16_t process = 0, uint16_t thread = 0) {
    Add(ProfileSpan{start_ns, end_ns, epoch, region, process, thread, kind});
  }
  // A span of the coordinator's thread 0 from `start_ns` to `end_ns` that other spans of that
  // thread, added from mark() on, interrupt (a checkpoint's capture flushes spikes through the
  // executor): added as the pieces between them, so one thread's spans never overlap.
  uint64_t mark() const { return spans_.size(); }
  void AddAround(SpanKind kind, uint64_t epoch, uint64_t start_ns, uint64_t end_ns, uint64_t mark);
  // Names process `process` in the file ("coordinator", "worker 1: regions a, b"; its OS pid is
  // added) and gives its number of threads (each is named even if it never ran).
  void DescribeProcess(uint16_t process, const std::string& label, int pid, uint32_t threads);
  void SetRegionNames(std::vector<std::string> names) { region_names_ = std::move(names); }
  // What the file says about how the run ended ("complete", or the error).
  void SetOutcome(std::string outcome) { outcome_ = std::move(outcome); }

  const std::string& path() const { return path_; }
  uint64_t spans() const { return spans_.size(); }
  uint64_t dropped() const { return dropped_; }
  bool stopped() const { return full_; }
  uint64_t stopped_at_epoch() const { return stopped_at_epoch_; }

  // The JSON document (what Write writes).
  std::string Json() const;
  // Writes path() through a temporary name: fsync, rename, fsync of the folder.
  Status Write() const;

 private:
  void WriteTo(std::FILE* f) const;

  struct Process {
    std::string label;
    int pid = 0;
    uint32_t threads = 1;
  };

  std::string path_;
  uint64_t max_spans_;
  uint64_t origin_ns_;  // ts 0 in the file: when the profiler was made
  std::vector<ProfileSpan> spans_;
  std::vector<Process> processes_;
  std::vector<std::string> region_names_;
  std::string outcome_ = "unfinished";
  bool full_ = false;
  uint64_t dropped_ = 0;
  uint64_t stopped_at_epoch_ = 0;
};

}  // namespace thalia::kernel
