// The trace records as C++ values, and their encoding to and from schemas/trace.fbs. Decoding
// verifies the buffer (size limit, flatbuffers::Verifier) and every value a user of the record
// could index with (region ids, neuron ids, ticks), so a corrupt trace is an error, never a crash.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kernel/epoch.h"
#include "kernel/status.h"

namespace thalia::recorder {

using kernel::Tick;

struct CheckpointRef {
  std::string path;  // empty: the run started from its configuration
  uint64_t epoch = 0;
  Tick tick = 0;
  uint64_t digest = 0;
};

struct TraceHeaderInfo {
  uint32_t format_version = 0;
  std::vector<uint8_t> config;  // BrainSpec::config, verbatim
  uint64_t seed = 0;
  double dt_ms = 0;
  Tick epoch_ticks = 0;
  uint64_t first_epoch = 0;
  Tick first_tick = 0;
  CheckpointRef checkpoint;
  std::vector<std::string> region_names;
  std::vector<uint32_t> region_sizes;
};

// One epoch as the coordinator saw it.
struct TraceBatch {
  uint64_t epoch = 0;
  Tick t0 = 0, t1 = 0;
  bool full_digest = false;
  kernel::ModulatorState modulators;
  std::vector<kernel::ModulatorEvent> events;
  std::vector<std::vector<kernel::ExternalInput>> external;  // per region
  std::vector<std::vector<kernel::Spike>> spikes;            // per region, (tick, neuron) order
  std::vector<uint64_t> digests;                             // per region
};

struct TraceMark {
  uint64_t epoch = 0;
  Tick tick = 0;
  std::string file;
  uint64_t digest = 0;
};

enum class RecordKind { kHeader, kBatch, kMark };

// Encodes one record as a size-prefixed FlatBuffer (u32 length, then the buffer), appended to `out`.
// `region_sizes` (by region id, as in the trace header) places a batch's spikes in their grid.
void AppendHeaderRecord(const TraceHeaderInfo& h, std::vector<uint8_t>* out);
void AppendBatchRecord(const kernel::EpochBegin& begin, const kernel::EpochDone& done,
                       std::span<const uint32_t> region_sizes, std::vector<uint8_t>* out);
void AppendMarkRecord(const TraceMark& m, std::vector<uint8_t>* out);

// Decodes one record buffer (with its u32 size prefix). `header` (null for the first record)
// bounds the region and neuron ids of a batch. Errors are kCorrupt.
struct DecodedRecord {
  RecordKind kind = RecordKind::kBatch;
  TraceHeaderInfo header;
  TraceBatch batch;
  TraceMark mark;
};
Status DecodeRecord(std::span<const uint8_t> buffer, const TraceHeaderInfo* header,
                    DecodedRecord* out);

// The spike encoding of a Batch (schemas/trace.fbs, `spike_bits`; recorder/spike_codec.cc),
// exposed for tests. RiceParameter is the code's parameter for `count` spikes among `positions`
// grid positions ((t1 - t0) * region_size).
int RiceParameter(uint64_t positions, uint32_t count);

// Appends regions' spikes, one Add per region in id order, to one bit stream in `out`; Finish
// pads the last byte. Add checks (aborting) that the spikes are canonical and inside the epoch
// and region: the kernel's contract.
class SpikeBitWriter {
 public:
  explicit SpikeBitWriter(std::vector<uint8_t>* out);
  void Add(std::span<const kernel::Spike> spikes, Tick t0, Tick t1, uint32_t region_size);
  void Finish();

 private:
  void Put(uint64_t v, int bits);
  std::vector<uint8_t>* out_;
  uint64_t acc_ = 0;
  int pending_ = 0;  // bits in acc_ not yet in out_ (fewer than 32 between calls)
};

// Reads what SpikeBitWriter wrote, one Read per region with the same arguments; every error is
// kCorrupt. Finish fails unless the stream ends in its last byte with zero padding.
class SpikeBitReader {
 public:
  explicit SpikeBitReader(std::span<const uint8_t> bits);
  Status Read(uint32_t count, Tick t0, Tick t1, uint32_t region_size, std::vector<kernel::Spike>* out);
  Status Finish() const;

 private:
  uint64_t Peek() const;  // the next up to 57 bits, zero past the end
  bool Get(int bits, uint64_t* v);
  std::span<const uint8_t> bits_;
  uint64_t size_ = 0;  // in bits
  uint64_t pos_ = 0;   // in bits
};

}  // namespace thalia::recorder
