// Fuzz target: checkpoint decoding (recorder::DecodeCheckpoint) and, for what decodes and stays
// small, loading it into a brain (recorder::ResumeBrain: region states, spikes in flight) and
// running a few ticks. First byte 0: the rest is a checkpoint file; 1: the rest is the
// FlatBuffers Checkpoint, which this target compresses and checksums into a well-formed file so
// mutations reach past the CRC.
#include <zstd.h>

#include <cstdint>
#include <vector>

#include "kernel/brain.h"
#include "recorder/checkpoint.h"
#include "recorder/checkpoint_format.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace thalia;

std::vector<uint8_t> BuildFile(const uint8_t* raw, size_t size) {
  std::vector<uint8_t> file(recorder::kCheckpointHeaderSize + ZSTD_compressBound(size));
  size_t z = ZSTD_compress(file.data() + recorder::kCheckpointHeaderSize, file.size() - recorder::kCheckpointHeaderSize,
                           raw, size, 1);
  if (ZSTD_isError(z)) return {};
  file.resize(recorder::kCheckpointHeaderSize + z);
  recorder::CheckpointHeader h;
  h.payload_size = z;
  h.raw_size = size;
  h.crc = recorder::CheckpointCrc(h, std::span<const uint8_t>(file).subspan(recorder::kCheckpointHeaderSize));
  auto header = recorder::EncodeCheckpointHeader(h);
  std::copy(header.begin(), header.end(), file.begin());
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<uint8_t> file = data[0] == 1 ? BuildFile(data + 1, size - 1) : std::vector<uint8_t>(data + 1, data + size);
  auto checkpoint = recorder::DecodeCheckpoint(file, "fuzz.thck");
  if (!checkpoint.ok()) return 0;
  auto spec = kernel::ResolveBrainSpec(checkpoint->config, "fuzz");
  if (!spec.ok() || !fuzz::SmallBrain(*spec.value())) return 0;
  kernel::RunOptions options;
  options.workers = 0;
  auto brain = recorder::ResumeBrain(checkpoint.value(), options);
  if (!brain.ok()) return 0;
  (void)brain.value()->RunUntil(brain.value()->tick() + 50);
  (void)brain.value()->Digest();
  return 0;
}
