// Writes the seed corpora of the trace, checkpoint and frame fuzz targets from a real run of a
// small brain: usage `fuzz_make_seeds FOLDER` (FOLDER/trace, FOLDER/checkpoint, FOLDER/frame).
// The committed seeds in tests/fuzz/corpus/ were made with it; rerun it after a format change.
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "recorder/checkpoint.h"
#include "recorder/checkpoint_format.h"
#include "recorder/trace_records.h"
#include "recorder/trace_writer.h"
#include "tests/fuzz/fuzz_util.h"
#include "transport/codec.h"
#include "transport/frame.h"

namespace {

using namespace thalia;
namespace fs = std::filesystem;

// Two small regions with a plastic pathway, a drive and an event: every record field is used.
constexpr char kConfig[] = R"({"name": "seed", "seed": 7, "regions": [
  {"name": "a", "type": "pfc", "size": 16},
  {"name": "b", "type": "striatum", "size": 16}],
  "pathways": [{"from": "a", "to": "b.D1", "indegree": 3, "weight": 0.05, "delay_ms": 1,
                "plasticity": "DopamineStdp"}],
  "events": [{"time_ms": 1, "modulator": "Dopamine", "amount": 1.0}]})";

struct Capture final : kernel::EpochObserver {
  std::vector<std::pair<kernel::EpochBegin, kernel::EpochDone>> epochs;
  Status OnEpoch(const kernel::EpochBegin& b, const kernel::EpochDone& d) override {
    epochs.emplace_back(b, d);
    return Status::Ok();
  }
};

void Write(const fs::path& path, uint8_t mode, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  std::printf("%s: %zu bytes\n", path.c_str(), bytes.size() + 1);
}

std::vector<uint8_t> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void AppendPiece(const std::vector<uint8_t>& raw, uint32_t epochs, std::vector<uint8_t>* out) {
  uint8_t h[8];
  fuzz::StoreU32(h, static_cast<uint32_t>(raw.size()));
  fuzz::StoreU32(h + 4, epochs);
  out->insert(out->end(), h, h + 8);
  out->insert(out->end(), raw.begin(), raw.end());
}

int Fail(const std::string& what, const Status& st) {
  std::fprintf(stderr, "fuzz_make_seeds: %s: %s\n", what.c_str(), st.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds FOLDER\n");
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* t : {"trace", "checkpoint", "frame"}) fs::create_directories(out / t);
  auto config = kernel::ParseConfigJson(kConfig, "seed.json");
  if (!config.ok()) return Fail("config", config.status());
  auto spec = kernel::ResolveBrainSpec(std::move(config).value(), "seed.json");
  if (!spec.ok()) return Fail("config", spec.status());
  auto brain = kernel::Brain::Create(spec.value());
  if (!brain.ok()) return Fail("brain", brain.status());
  Capture capture;
  (*brain)->AddObserver(&capture);

  // Trace: a whole file as written, its crash-cut prefix, and its records for mode 1.
  std::string scratch_tmpl = (fs::temp_directory_path() / "thalia-seeds-XXXXXX").string();
  if (!::mkdtemp(scratch_tmpl.data())) return 1;
  const fs::path scratch = scratch_tmpl;
  auto writer = recorder::TraceWriter::Open((scratch / "seed.trace").string(), **brain);
  if (!writer.ok()) return Fail("trace", writer.status());
  (*brain)->AddObserver(writer->get());
  if (Status st = (*brain)->StepEpochs(4); !st.ok()) return Fail("run", st);
  if (Status st = (*writer)->MarkCheckpoint((*brain)->epoch(), (*brain)->tick(), "ckpt-000000004.thck", 1234);
      !st.ok())
    return Fail("mark", st);
  if (Status st = (*brain)->StepEpochs(4); !st.ok()) return Fail("run", st);
  (*brain)->RemoveObserver(writer->get());
  if (Status st = (*writer)->Close(); !st.ok()) return Fail("trace", st);
  std::vector<uint8_t> trace = ReadFile(scratch / "seed.trace");
  Write(out / "trace" / "complete.bin", 0, trace);
  Write(out / "trace" / "cut.bin", 0, std::vector<uint8_t>(trace.begin(), trace.begin() + trace.size() * 2 / 3));

  recorder::TraceHeaderInfo h;
  h.format_version = recorder::kTraceFormatVersion;
  h.config = spec.value()->config;
  h.seed = spec.value()->seed;
  h.dt_ms = spec.value()->dt_ms;
  h.epoch_ticks = spec.value()->epoch_ticks;
  for (const kernel::RegionSpec& r : spec.value()->regions) {
    h.region_names.push_back(r.name);
    h.region_sizes.push_back(r.size);
  }
  std::vector<uint8_t> header_raw, batches_raw, pieces;
  recorder::AppendHeaderRecord(h, &header_raw);
  for (size_t i = 0; i < 4; ++i) recorder::AppendBatchRecord(capture.epochs[i].first, capture.epochs[i].second, h.region_sizes, &batches_raw);
  recorder::AppendMarkRecord({4, capture.epochs[3].first.t1, "ckpt.thck", 99}, &batches_raw);
  AppendPiece(header_raw, 0, &pieces);
  AppendPiece(batches_raw, 4, &pieces);
  Write(out / "trace" / "records.bin", 1, pieces);
  Write(out / "trace" / "records_footer.bin", 3, pieces);

  // Checkpoint: a file, and its FlatBuffers contents for mode 1.
  auto checkpoint = recorder::CaptureCheckpoint(**brain);
  if (!checkpoint.ok()) return Fail("checkpoint", checkpoint.status());
  auto file = recorder::EncodeCheckpoint(checkpoint.value());
  if (!file.ok()) return Fail("checkpoint", file.status());
  Write(out / "checkpoint" / "file.bin", 0, file.value());
  auto header = recorder::DecodeCheckpointHeader(file.value(), "seed");
  std::vector<uint8_t> raw(header->raw_size);
  size_t got = ZSTD_decompress(raw.data(), raw.size(), file->data() + recorder::kCheckpointHeaderSize,
                               file->size() - recorder::kCheckpointHeaderSize);
  if (ZSTD_isError(got)) return 1;
  Write(out / "checkpoint" / "flatbuffer.bin", 1, raw);

  // Frames: one of each kind the two sides exchange, and a stream of several.
  flatbuffers::FlatBufferBuilder b;
  std::vector<uint8_t> stream;
  auto frame = [&](const char* name) {
    auto f = transport::Frame(b);
    std::vector<uint8_t> bytes(f.begin(), f.end());
    Write(out / "frame" / name, 0, bytes);
    stream.insert(stream.end(), bytes.begin(), bytes.end());
  };
  const std::vector<kernel::RegionId> both = {0, 1};
  transport::EncodeEpochBegin(capture.epochs[5].first, both, &b);
  frame("epoch_begin.bin");
  transport::EpochTiming timing;
  timing.busy_ns = 1000;
  timing.wait_ns = 2000;
  transport::EncodeEpochDone(capture.epochs[5].second, both, timing, &b);
  frame("epoch_done.bin");
  transport::EncodeError(1, "region 'b' threw: seed", true, &b);
  frame("error.bin");
  b.Clear();
  transport::FinishMessage(&b, wire::Payload::Ready, wire::CreateReady(b, transport::kProtocolVersion, 0, 1234));
  frame("ready.bin");
  b.Clear();
  std::vector<uint64_t> digests = {(*brain)->epoch_digests()[0], (*brain)->epoch_digests()[1]};
  auto ids = b.CreateVector(both);
  auto ds = b.CreateVector(digests);
  transport::FinishMessage(&b, wire::Payload::DigestList, wire::CreateDigestList(b, ids, ds));
  frame("digest_list.bin");
  Write(out / "frame" / "stream.bin", 1, stream);
  // Regression: a payload type without its value passes the verifier; a worker dereferenced it.
  b.Clear();
  wire::MessageBuilder empty(b);
  empty.add_payload_type(wire::Payload::EpochBegin);
  b.FinishSizePrefixed(empty.Finish(), wire::MessageIdentifier());
  Write(out / "frame" / "crash-payload-type-without-value.bin", 0, std::vector<uint8_t>(transport::Frame(b).begin(), transport::Frame(b).end()));
  fs::remove_all(scratch);
  return 0;
}
