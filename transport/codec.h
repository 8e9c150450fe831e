// FlatBuffers encoding of the epoch messages (kernel::EpochBegin / EpochDone) for a subset of
// regions, independent of sockets so any carrier (Unix sockets here, MPI later) can reuse it.
// Encoders write a size-prefixed wire::Message into a builder the caller reuses (no per-epoch
// allocation once it has grown); decoders check every value a verified buffer may still get
// wrong (region ids, modulator indices, enum values) and fill reused kernel structures.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kernel/epoch.h"
#include "kernel/profile.h"
#include "kernel/status.h"
#include "schemas/messages_generated.h"

namespace thalia::transport {

using kernel::RegionId;

// Time a worker spent on one epoch, carried back with its EpochDone.
// The vectors are reused from epoch to epoch (no allocation once grown).
struct EpochTiming {
  uint64_t busy_ns = 0;  // computing
  uint64_t wait_ns = 0;  // blocked waiting for the EpochBegin
  // Per pool thread since the worker started (empty with one thread): shard sections less
  // barrier waits, and those waits.
  std::vector<uint64_t> thread_busy_ns, thread_wait_ns;
  // --profile: spans of the worker's threads, of this epoch and any measured after the previous
  // reply left (process left 0: the coordinator knows it).
  std::vector<kernel::ProfileSpan> spans;
};

// Encodes the parts of `begin` that concern `regions` (their inbound spikes and inputs) and the
// shared parts (epoch, ticks, modulators, events).
// `profile` asks the worker for the epoch's spans (--profile).
// `extra` (by region id): more inbound spikes for some of `regions` (a part of a split region:
// its sibling parts' spikes). `want_spikes` false (only where workers exchange spikes directly):
// the replies need not carry spikes.
void EncodeEpochBegin(const kernel::EpochBegin& begin, std::span<const RegionId> regions,
                      flatbuffers::FlatBufferBuilder* b, bool profile = false,
                      const std::vector<std::vector<kernel::InSpike>>* extra = nullptr, bool want_spikes = true);
// Decodes into `out`, whose per-region vectors are sized to `num_regions`; the regions present
// are listed in `regions` (in message order). Vectors of absent regions are cleared.
Status DecodeEpochBegin(const wire::EpochBegin& m, size_t num_regions, kernel::EpochBegin* out,
                        std::vector<RegionId>* regions);

// Encodes the results of `regions` from `done` (indexed by region id).
void EncodeEpochDone(const kernel::EpochDone& done, std::span<const RegionId> regions,
                     const EpochTiming& timing, flatbuffers::FlatBufferBuilder* b);
// Decodes into `out->regions` (sized by the caller); the message must hold exactly `expected`
// regions, for epoch `epoch`.
Status DecodeEpochDone(const wire::EpochDone& m, uint64_t epoch, std::span<const RegionId> expected,
                       kernel::EpochDone* out, EpochTiming* timing);

// Requests and replies about region states and digests. `states` and `out` are indexed by
// region id and sized by the caller; a reply must name exactly the `expected` regions, in order.
void EncodeLoadStates(const std::vector<std::vector<uint8_t>>& states, std::span<const RegionId> regions,
                      flatbuffers::FlatBufferBuilder* b);
Status DecodeStates(const wire::Message& m, std::span<const RegionId> expected,
                    std::vector<std::vector<uint8_t>>* states);
// `parts` (if given) gets, per expected region, the digest entries a part of a split region sent
// as words (empty for a whole region).
Status DecodeDigestList(const wire::Message& m, std::span<const RegionId> expected, std::vector<uint64_t>* out,
                        std::vector<std::vector<uint64_t>>* parts = nullptr);

// Small helpers shared by the carriers.
void EncodeError(int region, const std::string& message, bool fatal, flatbuffers::FlatBufferBuilder* b);
template <typename T>
void FinishMessage(flatbuffers::FlatBufferBuilder* b, wire::Payload type, flatbuffers::Offset<T> payload) {
  b->FinishSizePrefixed(wire::CreateMessage(*b, type, payload.Union()), wire::MessageIdentifier());
}
inline std::span<const uint8_t> Frame(const flatbuffers::FlatBufferBuilder& b) {
  return {b.GetBufferPointer(), b.GetSize()};
}

}  // namespace thalia::transport
