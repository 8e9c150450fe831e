// Record encoding and the checked decoding. Every count read from a buffer is bounded before it
// sizes an allocation, and every id is checked against the header before anyone indexes with it.
#include "recorder/trace_records.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>

#include "recorder/trace_format.h"
#include "schemas/trace_generated.h"

namespace thalia::recorder {
namespace fb = ::thalia::schema;
using kernel::ExternalInput;
using kernel::ModulatorEvent;
using kernel::NeuronId;
using kernel::Spike;

namespace {

// flatbuffers::Verifier checks that a vector's length word is 4-aligned, not that its elements are
// aligned for their type: a corrupt offset can put 8-byte elements at 4 mod 8, and reading them is
// undefined behaviour. The writer never does that, so such a record is refused. (Records are
// decoded from an 8-aligned address, see DecodeRecord, so addresses and offsets agree mod 8.)
template <typename V>
bool Aligned(const V* v) {
  return !v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->Data()) % 8 == 0;
}

void FinishRecord(flatbuffers::FlatBufferBuilder& fbb, fb::RecordBody type,
                  flatbuffers::Offset<void> body, std::vector<uint8_t>* out) {
  fbb.FinishSizePrefixed(fb::CreateRecord(fbb, type, body), fb::RecordIdentifier());
  out->insert(out->end(), fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

Status Bad(const std::string& what) { return Status::Corrupt("bad record: " + what); }

Status DecodeHeader(const fb::TraceHeader* h, TraceHeaderInfo* out) {
  out->format_version = h->format_version();
  if (h->config()) out->config.assign(h->config()->begin(), h->config()->end());
  out->seed = h->seed();
  out->dt_ms = h->dt_ms();
  out->epoch_ticks = h->epoch_ticks();
  out->first_epoch = h->first_epoch();
  out->first_tick = h->first_tick();
  if (const fb::CheckpointRef* c = h->checkpoint()) {
    out->checkpoint.path = c->path() ? c->path()->str() : "";
    out->checkpoint.epoch = c->epoch();
    out->checkpoint.tick = c->tick();
    out->checkpoint.digest = c->digest();
  }
  if (!h->region_names() || !h->region_sizes() ||
      h->region_names()->size() != h->region_sizes()->size() || h->region_names()->size() == 0)
    return Bad("trace header without a consistent region list");
  for (const auto* n : *h->region_names()) out->region_names.push_back(n->str());
  out->region_sizes.assign(h->region_sizes()->begin(), h->region_sizes()->end());
  if (!(out->dt_ms > 0) || out->epoch_ticks == 0) return Bad("trace header with dt or epoch length 0");
  return Status::Ok();
}

Status DecodeBatch(const fb::Batch* b, const TraceHeaderInfo& h, TraceBatch* out) {
  const size_t n = h.region_sizes.size();
  out->epoch = b->epoch();
  out->t0 = b->t0();
  out->t1 = b->t1();
  out->full_digest = b->full_digest();
  const std::string where = "batch of epoch " + std::to_string(out->epoch);
  if (out->t1 <= out->t0) return Bad(where + ": empty tick range");
  if (!Aligned(b->mod_since()) || !Aligned(b->events()) || !Aligned(b->digests()))
    return Bad(where + ": misaligned vector");
  if (!b->mod_level() || !b->mod_since() || b->mod_level()->size() != kernel::kNumModulators ||
      b->mod_since()->size() != kernel::kNumModulators)
    return Bad(where + ": modulator state of the wrong size");
  for (int m = 0; m < kernel::kNumModulators; ++m) {
    out->modulators.level[m] = b->mod_level()->Get(m);
    out->modulators.since[m] = b->mod_since()->Get(m);
  }
  out->events.clear();
  if (b->events())
    for (const fb::ModEvent* e : *b->events()) {
      if (e->modulator() < 0 || e->modulator() >= kernel::kNumModulators || e->tick() < out->t0 ||
          e->tick() >= out->t1)
        return Bad(where + ": modulator event out of range");
      out->events.push_back({e->tick(), e->modulator(), e->amount()});
    }
  out->external.assign(n, {});
  if (b->external())
    for (const fb::RegionExternal* re : *b->external()) {
      if (re->region() >= n) return Bad(where + ": external input for region " + std::to_string(re->region()));
      if (!re->inputs()) continue;
      if (!Aligned(re->inputs())) return Bad(where + ": misaligned vector");
      for (const fb::ExtInput* x : *re->inputs()) {
        if (x->neuron() >= h.region_sizes[re->region()] || x->kind() > ExternalInput::kCurrent ||
            x->tick() < out->t0 || x->tick() >= out->t1)
          return Bad(where + ": external input out of range");
        out->external[re->region()].push_back(
            {x->tick(), x->neuron(), x->amount(), static_cast<ExternalInput::Kind>(x->kind())});
      }
    }
  if (!b->spike_counts() || b->spike_counts()->size() != n || !b->digests() || b->digests()->size() != n)
    return Bad(where + ": spikes or digests not given for every region");
  std::span<const uint8_t> bits;
  if (b->spike_bits()) bits = {b->spike_bits()->data(), b->spike_bits()->size()};
  out->spikes.resize(n);
  SpikeBitReader reader(bits);
  for (size_t r = 0; r < n; ++r) {
    Status st = reader.Read(b->spike_counts()->Get(static_cast<flatbuffers::uoffset_t>(r)), out->t0, out->t1,
                            h.region_sizes[r], &out->spikes[r]);
    if (!st.ok()) return st.Context(where + ", region " + h.region_names[r]);
  }
  if (Status st = reader.Finish(); !st.ok()) return st.Context(where);
  out->digests.assign(b->digests()->begin(), b->digests()->end());
  return Status::Ok();
}

}  // namespace

void AppendHeaderRecord(const TraceHeaderInfo& h, std::vector<uint8_t>* out) {
  flatbuffers::FlatBufferBuilder fbb(1024 + h.config.size());
  auto config = fbb.CreateVector(h.config);
  auto ckpt = fb::CreateCheckpointRef(fbb, fbb.CreateString(h.checkpoint.path), h.checkpoint.epoch,
                                      h.checkpoint.tick, h.checkpoint.digest);
  auto names = fbb.CreateVectorOfStrings(h.region_names);
  auto sizes = fbb.CreateVector(h.region_sizes);
  auto hdr = fb::CreateTraceHeader(fbb, h.format_version, config, h.seed, h.dt_ms, h.epoch_ticks,
                                   h.first_epoch, h.first_tick, ckpt, names, sizes);
  FinishRecord(fbb, fb::RecordBody::TraceHeader, hdr.Union(), out);
}

void AppendBatchRecord(const kernel::EpochBegin& begin, const kernel::EpochDone& done,
                       std::span<const uint32_t> region_sizes, std::vector<uint8_t>* out) {
  thread_local flatbuffers::FlatBufferBuilder fbb(1 << 16);
  thread_local std::vector<uint8_t> bits;
  fbb.Clear();
  std::vector<uint32_t> counts;
  std::vector<uint64_t> digests;
  bits.clear();
  THALIA_CHECK(done.regions.size() == region_sizes.size());
  SpikeBitWriter writer(&bits);
  for (size_t r = 0; r < done.regions.size(); ++r) {
    writer.Add(done.regions[r].spikes, begin.t0, begin.t1, region_sizes[r]);
    counts.push_back(static_cast<uint32_t>(done.regions[r].spikes.size()));
    digests.push_back(done.regions[r].digest);
  }
  writer.Finish();
  std::vector<flatbuffers::Offset<fb::RegionExternal>> external;
  for (size_t r = 0; r < begin.external.size(); ++r) {
    if (begin.external[r].empty()) continue;
    std::vector<fb::ExtInput> xs;
    for (const ExternalInput& x : begin.external[r])
      xs.emplace_back(x.tick, x.neuron, x.amount, static_cast<uint8_t>(x.kind));
    external.push_back(fb::CreateRegionExternal(fbb, static_cast<uint32_t>(r), fbb.CreateVectorOfStructs(xs)));
  }
  std::vector<fb::ModEvent> events;
  for (const ModulatorEvent& e : begin.events) events.emplace_back(e.tick, e.modulator, e.amount);
  auto level = fbb.CreateVector(begin.modulators.level.data(), begin.modulators.level.size());
  auto since = fbb.CreateVector(begin.modulators.since.data(), begin.modulators.since.size());
  auto batch = fb::CreateBatch(fbb, begin.epoch, begin.t0, begin.t1, begin.full_digest, level, since,
                               fbb.CreateVectorOfStructs(events), fbb.CreateVector(external),
                               fbb.CreateVector(counts), fbb.CreateVector(digests), fbb.CreateVector(bits));
  FinishRecord(fbb, fb::RecordBody::Batch, batch.Union(), out);
}

void AppendMarkRecord(const TraceMark& m, std::vector<uint8_t>* out) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto mark = fb::CreateCheckpointMark(fbb, m.epoch, m.tick, fbb.CreateString(m.file), m.digest);
  FinishRecord(fbb, fb::RecordBody::CheckpointMark, mark.Union(), out);
}

Status DecodeRecord(std::span<const uint8_t> buffer, const TraceHeaderInfo* header,
                    DecodedRecord* out) {
  if (buffer.size() < 4 || buffer.size() > kMaxRecordBytes) return Bad("size out of bounds");
  if (GetU32(buffer.data()) != buffer.size() - 4) return Bad("size prefix differs from the record size");
  if (reinterpret_cast<uintptr_t>(buffer.data()) % 8 != 0) {
    // Written records keep 8-byte alignment in their chunk; a record that does not (a record
    // before it of another size) is decoded from an aligned copy. Decoded values own their data.
    thread_local std::vector<uint64_t> aligned;
    aligned.assign(buffer.size() / 8 + 1, 0);
    std::memcpy(aligned.data(), buffer.data(), buffer.size());
    return DecodeRecord({reinterpret_cast<const uint8_t*>(aligned.data()), buffer.size()}, header, out);
  }
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 16;
  opts.max_tables = 1u << 24;
  flatbuffers::Verifier v(buffer.data(), buffer.size(), opts);
  // Verified with its size prefix: the builder aligns fields relative to the prefixed buffer.
  if (!fb::VerifySizePrefixedRecordBuffer(v)) return Bad("FlatBuffers verification failed");
  const fb::Record* rec = fb::GetSizePrefixedRecord(buffer.data());
  // The verifier accepts a union whose type is set and whose value is absent.
  if (!rec->body()) return Bad("record without a body");
  switch (rec->body_type()) {
    case fb::RecordBody::TraceHeader:
      out->kind = RecordKind::kHeader;
      return DecodeHeader(rec->body_as_TraceHeader(), &out->header);
    case fb::RecordBody::Batch:
      out->kind = RecordKind::kBatch;
      if (!header) return Bad("a batch before the trace header");
      return DecodeBatch(rec->body_as_Batch(), *header, &out->batch);
    case fb::RecordBody::CheckpointMark: {
      const fb::CheckpointMark* m = rec->body_as_CheckpointMark();
      out->kind = RecordKind::kMark;
      out->mark = {m->epoch(), m->tick(), m->file() ? m->file()->str() : "", m->digest()};
      return Status::Ok();
    }
    default:
      return Bad("unknown record type");
  }
}

}  // namespace thalia::recorder
