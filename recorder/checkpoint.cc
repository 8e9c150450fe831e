// Encoding and decoding of checkpoints, capture from a running brain and resume into a new one.
// Decoding is the defensive half: every check runs before the bytes it guards are used.
#include "recorder/checkpoint.h"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "kernel/big_alloc.h"
#include "kernel/spec.h"
#include "recorder/checkpoint_file.h"
#include "recorder/checkpoint_format.h"
#include "schemas/checkpoint_generated.h"

namespace thalia::recorder {
namespace {

// zstd level 1: region state is mostly float arrays that compress little at any level, and the
// pause a checkpoint adds to a run matters more than a few percent of size (bench/RESULTS.md).
constexpr int kZstdLevel = 1;

std::string Damaged(const std::string& name, const std::string& what) {
  return "checkpoint " + name + " is damaged (" + what +
         "); it cannot be trusted: use an earlier checkpoint";
}

// flatbuffers::Verifier checks that a vector's length word is 4-aligned, not that its elements
// are aligned for their type: a crafted offset can put 8-byte elements at 4 mod 8, and reading
// them is undefined behaviour. The writer never does that, so such a file is refused. (The
// decoded buffer is a fresh heap copy: addresses and offsets agree mod 8.)
template <typename V>
bool Aligned(const V* v) {
  return !v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->Data()) % 8 == 0;
}

flatbuffers::Offset<schema::CkRegion> EncodeRegion(flatbuffers::FlatBufferBuilder& b,
                                                   const Checkpoint& c, size_t r) {
  const kernel::BrainState& s = c.state;
  std::vector<schema::CkInSpike> in;
  in.reserve(s.in_flight[r].size());
  for (const kernel::InSpike& x : s.in_flight[r]) in.emplace_back(x.tick, x.source, x.neuron);
  std::vector<schema::CkExternalInput> ext;
  ext.reserve(s.pending_external[r].size());
  for (const kernel::ExternalInput& x : s.pending_external[r])
    ext.emplace_back(x.tick, x.neuron, x.amount, static_cast<uint8_t>(x.kind));
  auto name = b.CreateString(c.region_names[r]);
  auto state = b.CreateVector(s.regions[r]);
  auto in_v = b.CreateVectorOfStructs(in);
  auto ext_v = b.CreateVectorOfStructs(ext);
  schema::CkRegionBuilder rb(b);
  rb.add_name(name);
  rb.add_state(state);
  rb.add_in_flight(in_v);
  rb.add_pending_external(ext_v);
  rb.add_digest(c.digests[r]);
  return rb.Finish();
}

Status CheckShape(const Checkpoint& c) {
  const size_t n = c.region_names.size();
  const kernel::BrainState& s = c.state;
  if (s.regions.size() != n || s.in_flight.size() != n || s.pending_external.size() != n ||
      c.digests.size() != n)
    return Status::Internal("checkpoint with inconsistent region counts");
  uint64_t total = c.config.size();
  for (size_t r = 0; r < n; ++r)
    total += s.regions[r].size() + 16 * (s.in_flight[r].size() + s.pending_external[r].size());
  if (total > kMaxCheckpointRawSize - (uint64_t{1} << 20))
    return Status::Invalid("the brain's state (" + std::to_string(total >> 20) +
                           " MiB) exceeds the checkpoint limit of 2 GiB");
  return Status::Ok();
}

// The finished buffer is handed over, not copied (a brain's state is tens of MB).
flatbuffers::DetachedBuffer BuildFlatBuffer(const Checkpoint& c) {
  size_t estimate = c.config.size() + 4096;
  for (const auto& r : c.state.regions) estimate += r.size() + 256;
  flatbuffers::FlatBufferBuilder b(estimate, &kernel::BufferAllocator());
  std::vector<flatbuffers::Offset<schema::CkRegion>> regions;
  for (size_t r = 0; r < c.region_names.size(); ++r) regions.push_back(EncodeRegion(b, c, r));
  const kernel::ModulatorState& m = c.state.modulators;
  std::vector<schema::CkModulatorEvent> events;
  for (const kernel::ModulatorEvent& e : c.state.pending_events)
    events.emplace_back(e.tick, e.modulator, e.amount);
  auto config = b.CreateVector(c.config);
  auto level = b.CreateVector(m.level.data(), m.level.size());
  auto since = b.CreateVector(m.since.data(), m.since.size());
  auto events_v = b.CreateVectorOfStructs(events);
  auto regions_v = b.CreateVector(regions);
  auto trace = schema::CreateCkTracePosition(b, b.CreateString(c.trace.path), c.trace.epochs_recorded);
  auto executor = b.CreateString(c.executor);
  schema::CheckpointBuilder cb(b);
  cb.add_format_version(kCheckpointVersion);
  cb.add_config(config);
  cb.add_seed(c.seed);
  cb.add_tick(c.state.tick);
  cb.add_epoch(c.state.epoch);
  cb.add_modulator_level(level);
  cb.add_modulator_since(since);
  cb.add_pending_events(events_v);
  cb.add_regions(regions_v);
  cb.add_trace(trace);
  cb.add_executor(executor);
  cb.add_workers(c.workers);
  b.FinishSizePrefixed(cb.Finish(), schema::CheckpointIdentifier());
  return b.Release();
}

Status DecodeRegion(const schema::CkRegion* r, size_t index, const std::string& name, Checkpoint* c) {
  if (!r->name() || !r->state())
    return Status::Corrupt(Damaged(name, "region " + std::to_string(index) + " has no name or state"));
  if (!Aligned(r->in_flight()) || !Aligned(r->pending_external()))
    return Status::Corrupt(Damaged(name, "region " + std::to_string(index) + " has a misaligned vector"));
  c->region_names.push_back(r->name()->str());
  c->state.regions.push_back(kernel::CopyToFreshBytes({r->state()->data(), r->state()->size()}));
  c->digests.push_back(r->digest());
  auto& in = c->state.in_flight.emplace_back();
  if (r->in_flight())
    for (const schema::CkInSpike* x : *r->in_flight()) in.push_back({x->tick(), x->source(), x->neuron()});
  auto& ext = c->state.pending_external.emplace_back();
  if (r->pending_external()) {
    for (const schema::CkExternalInput* x : *r->pending_external()) {
      if (x->kind() > kernel::ExternalInput::kCurrent)
        return Status::Corrupt(Damaged(name, "an external input of unknown kind"));
      ext.push_back({x->tick(), x->neuron(), x->amount(), static_cast<kernel::ExternalInput::Kind>(x->kind())});
    }
  }
  return Status::Ok();
}

Result<Checkpoint> DecodeFlatBuffer(std::span<const uint8_t> raw, const std::string& name) {
  flatbuffers::Verifier verifier(raw.data(), raw.size(), 64, 1000000);
  if (!schema::VerifySizePrefixedCheckpointBuffer(verifier))
    return Status::Corrupt(Damaged(name, "its contents fail FlatBuffers verification"));
  const schema::Checkpoint* f = schema::GetSizePrefixedCheckpoint(raw.data());
  if (f->format_version() != kCheckpointVersion)
    return Status::Corrupt(Damaged(name, "its contents say format version " +
                                             std::to_string(f->format_version()) + ", its header " +
                                             std::to_string(kCheckpointVersion)));
  if (!f->config() || !f->regions() || !f->modulator_level() || !f->modulator_since() ||
      f->modulator_level()->size() != kernel::kNumModulators ||
      f->modulator_since()->size() != kernel::kNumModulators)
    return Status::Corrupt(Damaged(name, "configuration, regions or modulators missing"));
  if (!Aligned(f->modulator_since()) || !Aligned(f->pending_events()))
    return Status::Corrupt(Damaged(name, "a misaligned vector"));
  Checkpoint c;
  c.format_version = f->format_version();
  c.config.assign(f->config()->begin(), f->config()->end());
  c.seed = f->seed();
  c.state.tick = f->tick();
  c.state.epoch = f->epoch();
  for (int m = 0; m < kernel::kNumModulators; ++m) {
    c.state.modulators.level[m] = f->modulator_level()->Get(m);
    c.state.modulators.since[m] = f->modulator_since()->Get(m);
  }
  if (f->pending_events()) {
    for (const schema::CkModulatorEvent* e : *f->pending_events()) {
      if (e->modulator() < 0 || e->modulator() >= kernel::kNumModulators)
        return Status::Corrupt(Damaged(name, "a modulator event for an unknown modulator"));
      c.state.pending_events.push_back({e->tick(), e->modulator(), e->amount()});
    }
  }
  for (uint32_t i = 0; i < f->regions()->size(); ++i)
    THALIA_RETURN_IF_ERROR(DecodeRegion(f->regions()->Get(i), i, name, &c));
  if (f->trace()) {
    if (f->trace()->path()) c.trace.path = f->trace()->path()->str();
    c.trace.epochs_recorded = f->trace()->epochs_recorded();
  }
  if (f->executor()) c.executor = f->executor()->str();
  c.workers = f->workers();
  return c;
}

// What the kernel would index with: every neuron and region id in range, nothing in the past. A
// file that passed its checksum can only fail here if it was crafted or written by a broken build.
Status CheckAgainstSpec(const Checkpoint& c, const kernel::BrainSpec& s) {
  const kernel::BrainState& st = c.state;
  for (size_t r = 0; r < s.regions.size(); ++r) {
    for (const kernel::InSpike& x : st.in_flight[r])
      if (x.source >= s.regions.size() || x.neuron >= s.regions[x.source].size)
        return Status::Invalid("a spike in flight to '" + s.regions[r].name + "' names no neuron of the brain");
    for (const kernel::ExternalInput& x : st.pending_external[r])
      if (x.neuron >= s.regions[r].size || x.tick < st.tick)
        return Status::Invalid("a pending input of '" + s.regions[r].name + "' names no neuron or a past tick");
  }
  for (const kernel::ModulatorEvent& e : st.pending_events)
    if (e.tick > st.tick) return Status::Invalid("a pending modulator event lies in the future");
  return Status::Ok();
}

}  // namespace

Result<Checkpoint> CaptureCheckpoint(kernel::Brain& brain, const TracePosition& trace) {
  auto state = brain.CaptureState();
  if (!state.ok()) return state.status().Context("capturing the brain's state");
  auto digests = brain.RegionDigests();
  if (!digests.ok()) return digests.status().Context("digesting the brain's state");
  Checkpoint c;
  c.format_version = kCheckpointVersion;
  c.config = brain.spec().config;
  c.seed = brain.spec().seed;
  c.state = std::move(state).value();
  for (const kernel::RegionSpec& r : brain.spec().regions) c.region_names.push_back(r.name);
  c.digests = std::move(digests).value();
  c.trace = trace;
  c.executor = brain.executor_name();
  c.workers = static_cast<int>(brain.Stats().size());
  return c;
}

Result<std::vector<uint8_t>> EncodeCheckpoint(const Checkpoint& c) {
  THALIA_RETURN_IF_ERROR(CheckShape(c));
  flatbuffers::DetachedBuffer raw = BuildFlatBuffer(c);
  std::vector<uint8_t> file = kernel::FreshBytes(kCheckpointHeaderSize + ZSTD_compressBound(raw.size()));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (!cctx) return Status::Internal("zstd: out of memory");
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, kZstdLevel);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  size_t z = ZSTD_compress2(cctx, file.data() + kCheckpointHeaderSize, file.size() - kCheckpointHeaderSize,
                            raw.data(), raw.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(z)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(z));
  file.resize(kCheckpointHeaderSize + z);
  CheckpointHeader h;
  h.payload_size = z;
  h.raw_size = raw.size();
  std::span<const uint8_t> payload(file.data() + kCheckpointHeaderSize, z);
  h.crc = CheckpointCrc(h, payload);
  auto header = EncodeCheckpointHeader(h);
  std::memcpy(file.data(), header.data(), header.size());
  return file;
}

Result<Checkpoint> DecodeCheckpoint(std::span<const uint8_t> file, const std::string& name) {
  auto h_or = DecodeCheckpointHeader(file, name);
  if (!h_or.ok()) return h_or.status();
  const CheckpointHeader h = h_or.value();
  const uint64_t have = file.size() - kCheckpointHeaderSize;
  if (h.payload_size > kMaxCheckpointPayloadSize || h.raw_size > kMaxCheckpointRawSize)
    return Status::Corrupt(Damaged(name, "its header gives sizes beyond the 2 GiB limit"));
  if (have < h.payload_size)
    return Status::Corrupt("checkpoint " + name + " is truncated: its header announces " +
                           std::to_string(h.payload_size) + " bytes of data, the file holds " +
                           std::to_string(have) + "; it was not completely written: use an earlier checkpoint");
  if (have > h.payload_size)
    return Status::Corrupt(Damaged(name, std::to_string(have - h.payload_size) +
                                             " bytes follow the end its header announces"));
  std::span<const uint8_t> payload = file.subspan(kCheckpointHeaderSize);
  if (CheckpointCrc(h, payload) != h.crc)
    return Status::Corrupt(Damaged(name, "checksum mismatch"));
  if (h.version != kCheckpointVersion)
    return Status::Invalid("checkpoint " + name + " has format version " + std::to_string(h.version) +
                           "; this thalia reads version " + std::to_string(kCheckpointVersion) +
                           " only: resume it with the thalia version that wrote it");
  if (h.flags != 0) return Status::Corrupt(Damaged(name, "unknown header flags"));
  unsigned long long content = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (content != h.raw_size)
    return Status::Corrupt(Damaged(name, "its compressed frame disagrees with its header"));
  // Not zero-filled first: zstd writes every byte (checked below) before anything reads them.
  struct Free {
    size_t bytes;
    void operator()(uint8_t* p) const { kernel::BufferFree(p, bytes); }
  };
  std::unique_ptr<uint8_t[], Free> raw_bytes(static_cast<uint8_t*>(kernel::BufferAllocate(h.raw_size)),
                                             Free{h.raw_size});
  std::span<const uint8_t> raw(raw_bytes.get(), h.raw_size);
  size_t got = ZSTD_decompress(raw_bytes.get(), raw.size(), payload.data(), payload.size());
  if (ZSTD_isError(got) || got != raw.size())
    return Status::Corrupt(Damaged(name, std::string("decompression: ") +
                                             (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame")));
  return DecodeFlatBuffer(raw, name);
}

Status WriteCheckpointFile(const Checkpoint& c, const std::string& path) {
  auto bytes = EncodeCheckpoint(c);
  if (!bytes.ok()) return bytes.status().Context("checkpoint " + path);
  return WriteFileAtomically(path, bytes.value());
}

Result<Checkpoint> ReadCheckpointFile(const std::string& path) {
  auto bytes = ReadWholeFile(path, kCheckpointHeaderSize + kMaxCheckpointPayloadSize);
  if (!bytes.ok()) return bytes.status();
  return DecodeCheckpoint(bytes.value(), path);
}

Status SaveCheckpoint(kernel::Brain& brain, const std::string& path, const TracePosition& trace) {
  auto c = CaptureCheckpoint(brain, trace);
  if (!c.ok()) return c.status();
  return WriteCheckpointFile(c.value(), path);
}

Result<std::unique_ptr<kernel::Brain>> ResumeBrain(const Checkpoint& c, kernel::RunOptions options) {
  auto spec = kernel::ResolveBrainSpec(c.config, "the checkpoint's configuration");
  if (!spec.ok()) return spec.status();
  const kernel::BrainSpec& s = *spec.value();
  if (s.regions.size() != c.region_names.size())
    return Status::Invalid("the checkpoint holds " + std::to_string(c.region_names.size()) +
                           " regions, its configuration " + std::to_string(s.regions.size()));
  for (size_t r = 0; r < s.regions.size(); ++r)
    if (s.regions[r].name != c.region_names[r])
      return Status::Invalid("checkpoint region " + std::to_string(r) + " is '" + c.region_names[r] +
                             "', its configuration says '" + s.regions[r].name + "'");
  if (s.seed != c.seed)
    return Status::Invalid("the checkpoint's seed " + std::to_string(c.seed) +
                           " differs from its configuration's " + std::to_string(s.seed));
  THALIA_RETURN_IF_ERROR(CheckAgainstSpec(c, s).Context("the checkpoint's state"));
  auto brain = kernel::Brain::Restore(spec.value(), c.state, options);
  if (!brain.ok()) return brain.status().Context("restoring the checkpoint");
  auto digests = brain.value()->RegionDigests();
  if (!digests.ok()) return digests.status().Context("digesting the restored brain");
  for (size_t r = 0; r < c.digests.size(); ++r)
    if (digests.value()[r] != c.digests[r])
      return Status::Invalid("region '" + c.region_names[r] +
                             "' restored from the checkpoint does not reproduce its recorded "
                             "digest: the checkpoint was written by a build whose regions differ "
                             "from this one; resume it with the thalia that wrote it");
  return brain;
}

Result<std::unique_ptr<kernel::Brain>> ResumeBrain(const std::string& path, kernel::RunOptions options) {
  auto c = ReadCheckpointFile(path);
  if (!c.ok()) return c.status();
  auto brain = ResumeBrain(c.value(), std::move(options));
  if (!brain.ok()) return brain.status().Context("resuming " + path);
  return brain;
}

}  // namespace thalia::recorder
