// Spikes and inputs travel as vectors of fixed-layout structs, written in place into the
// builder (CreateUninitializedVectorOfStructs) and read back field by field.
#include "transport/codec.h"

#include "kernel/big_alloc.h"

namespace thalia::transport {
namespace {

Status Bad(const std::string& what) { return Status::Corrupt("malformed message: " + what); }

// flatbuffers::Verifier checks a vector's length word, not that its elements are aligned for
// their type: a corrupt offset can put 8-byte structs at 4 mod 8. Such a frame is refused.
// (Frames start 8-aligned, see DecodeFrame, so addresses and frame offsets agree mod 8.)
template <typename V>
bool Aligned(const V* v) {
  return !v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->Data()) % 8 == 0;
}

}  // namespace

void EncodeEpochBegin(const kernel::EpochBegin& begin, std::span<const RegionId> regions,
                      flatbuffers::FlatBufferBuilder* b, bool profile,
                      const std::vector<std::vector<kernel::InSpike>>* extra, bool want_spikes) {
  b->Clear();
  // The table offsets go to a per-thread scratch vector, so encoding allocates nothing once warm.
  static thread_local std::vector<flatbuffers::Offset<wire::RegionInput>> inputs;
  inputs.clear();
  for (RegionId r : regions) {
    const auto& in = begin.inbound[r];
    const size_t more = extra ? (*extra)[r].size() : 0;
    wire::InSpike* sp = nullptr;
    auto inbound = b->CreateUninitializedVectorOfStructs(in.size() + more, &sp);
    for (const kernel::InSpike& s : in) *sp++ = wire::InSpike(s.tick, s.source, s.neuron);
    if (more)
      for (const kernel::InSpike& s : (*extra)[r]) *sp++ = wire::InSpike(s.tick, s.source, s.neuron);
    const auto& ex = begin.external[r];
    wire::ExternalInput* xp = nullptr;
    auto external = b->CreateUninitializedVectorOfStructs(ex.size(), &xp);
    for (const kernel::ExternalInput& x : ex)
      *xp++ = wire::ExternalInput(x.tick, x.neuron, x.amount, static_cast<uint8_t>(x.kind));
    inputs.push_back(wire::CreateRegionInput(*b, r, inbound, external));
  }
  auto region_vec = b->CreateVector(inputs);
  wire::ModulatorEvent* ep = nullptr;
  auto events = b->CreateUninitializedVectorOfStructs(begin.events.size(), &ep);
  for (const kernel::ModulatorEvent& e : begin.events) *ep++ = wire::ModulatorEvent(e.tick, e.modulator, e.amount);
  auto level = b->CreateVector(begin.modulators.level.data(), begin.modulators.level.size());
  auto since = b->CreateVector(begin.modulators.since.data(), begin.modulators.since.size());
  auto m = wire::CreateEpochBegin(*b, begin.epoch, begin.t0, begin.t1, level, since, events, region_vec,
                                  begin.full_digest, profile, want_spikes);
  FinishMessage(b, wire::Payload::EpochBegin, m);
}

Status DecodeEpochBegin(const wire::EpochBegin& m, size_t num_regions, kernel::EpochBegin* out,
                        std::vector<RegionId>* regions) {
  out->epoch = m.epoch();
  out->t0 = m.t0();
  out->t1 = m.t1();
  if (out->t1 < out->t0) return Bad("epoch ends before it begins");
  out->full_digest = m.full_digest();
  out->want_spikes = m.want_spikes();
  if (!Aligned(m.mod_since()) || !Aligned(m.events())) return Bad("misaligned vector");
  if (!m.mod_level() || !m.mod_since() || m.mod_level()->size() != kernel::kNumModulators ||
      m.mod_since()->size() != kernel::kNumModulators)
    return Bad("modulator state must have " + std::to_string(kernel::kNumModulators) + " entries");
  for (int i = 0; i < kernel::kNumModulators; ++i) {
    out->modulators.level[i] = m.mod_level()->Get(i);
    out->modulators.since[i] = m.mod_since()->Get(i);
  }
  out->events.clear();
  if (m.events()) {
    for (const wire::ModulatorEvent* e : *m.events()) {
      if (e->modulator() < 0 || e->modulator() >= kernel::kNumModulators) return Bad("unknown modulator");
      out->events.push_back({e->tick(), e->modulator(), e->amount()});
    }
  }
  out->inbound.resize(num_regions);
  out->external.resize(num_regions);
  for (auto& v : out->inbound) v.clear();
  for (auto& v : out->external) v.clear();
  regions->clear();
  if (!m.regions()) return Status::Ok();
  for (const wire::RegionInput* ri : *m.regions()) {
    RegionId r = ri->region();
    if (r >= num_regions) return Bad("region " + std::to_string(r) + " does not exist");
    if (!Aligned(ri->inbound()) || !Aligned(ri->external())) return Bad("misaligned vector");
    regions->push_back(r);
    if (ri->inbound()) {
      for (const wire::InSpike* s : *ri->inbound()) {
        // Inbound spikes were emitted in earlier epochs. One from the epoch's end or later (a
        // damaged tick) would be scheduled past the region's delay ring, a broken invariant.
        if (s->tick() >= out->t1)
          return Bad("inbound spike from tick " + std::to_string(s->tick()) + ", not before the epoch's end " +
                     std::to_string(out->t1));
        out->inbound[r].push_back({s->tick(), s->source(), s->neuron()});
      }
    }
    if (ri->external()) {
      for (const wire::ExternalInput* x : *ri->external()) {
        if (x->kind() > kernel::ExternalInput::kCurrent) return Bad("unknown external input kind");
        out->external[r].push_back({x->tick(), x->neuron(), x->amount(),
                                    static_cast<kernel::ExternalInput::Kind>(x->kind())});
      }
    }
  }
  return Status::Ok();
}

void EncodeEpochDone(const kernel::EpochDone& done, std::span<const RegionId> regions,
                     const EpochTiming& timing, flatbuffers::FlatBufferBuilder* b) {
  b->Clear();
  static thread_local std::vector<flatbuffers::Offset<wire::RegionOutput>> outputs;
  outputs.clear();
  for (RegionId r : regions) {
    const kernel::RegionResult& rr = done.regions[r];
    wire::Spike* sp = nullptr;
    auto spikes = b->CreateUninitializedVectorOfStructs(rr.spikes.size(), &sp);
    for (const kernel::Spike& s : rr.spikes) *sp++ = wire::Spike(s.tick, s.neuron, 0);
    wire::Counters c(rr.counters.spikes, rr.counters.synaptic_events, rr.counters.neuron_updates);
    flatbuffers::Offset<flatbuffers::Vector<uint64_t>> part;
    if (!rr.digest_part.empty()) part = b->CreateVector(rr.digest_part);
    outputs.push_back(wire::CreateRegionOutput(*b, r, spikes, rr.digest, &c, part));
  }
  auto vec = b->CreateVector(outputs);
  flatbuffers::Offset<flatbuffers::Vector<uint64_t>> busy, wait;
  if (!timing.thread_busy_ns.empty()) {
    busy = b->CreateVector(timing.thread_busy_ns);
    wait = b->CreateVector(timing.thread_wait_ns);
  }
  flatbuffers::Offset<flatbuffers::Vector<const wire::ProfileSpan*>> spans;
  if (!timing.spans.empty()) {
    wire::ProfileSpan* pp = nullptr;
    spans = b->CreateUninitializedVectorOfStructs(timing.spans.size(), &pp);
    for (const kernel::ProfileSpan& s : timing.spans)
      *pp++ = wire::ProfileSpan(s.start_ns, s.end_ns, s.epoch, s.region, s.thread, static_cast<uint8_t>(s.kind), 0);
  }
  auto m = wire::CreateEpochDone(*b, done.epoch, vec, timing.busy_ns, timing.wait_ns, busy, wait, spans);
  FinishMessage(b, wire::Payload::EpochDone, m);
}

Status DecodeEpochDone(const wire::EpochDone& m, uint64_t epoch, std::span<const RegionId> expected,
                       kernel::EpochDone* out, EpochTiming* timing) {
  if (m.epoch() != epoch)
    return Bad("results for epoch " + std::to_string(m.epoch()) + " while epoch " + std::to_string(epoch) +
               " was expected");
  const size_t n = m.regions() ? m.regions()->size() : 0;
  if (n != expected.size())
    return Bad("results for " + std::to_string(n) + " regions, " + std::to_string(expected.size()) + " expected");
  for (size_t i = 0; i < n; ++i) {
    const wire::RegionOutput* ro = m.regions()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (ro->region() != expected[i] || expected[i] >= out->regions.size())
      return Bad("results for region " + std::to_string(ro->region()) + " where region " +
                 std::to_string(expected[i]) + " was expected");
    if (!ro->counters()) return Bad("region results without counters");
    if (!Aligned(ro->spikes())) return Bad("misaligned vector");
    kernel::RegionResult& rr = out->regions[expected[i]];
    rr.spikes.clear();
    if (ro->spikes())
      for (const wire::Spike* s : *ro->spikes()) rr.spikes.push_back({s->tick(), s->neuron()});
    rr.digest = ro->digest();
    rr.digest_part.clear();
    if (ro->digest_part()) {
      if (!Aligned(ro->digest_part())) return Bad("misaligned vector");
      rr.digest_part.assign(ro->digest_part()->begin(), ro->digest_part()->end());
    }
    rr.counters = {ro->counters()->spikes(), ro->counters()->synaptic_events(),
                   ro->counters()->neuron_updates()};
  }
  timing->busy_ns = m.busy_ns();
  timing->wait_ns = m.wait_ns();
  timing->thread_busy_ns.clear();
  timing->thread_wait_ns.clear();
  if (m.thread_busy_ns() || m.thread_wait_ns()) {
    if (!Aligned(m.thread_busy_ns()) || !Aligned(m.thread_wait_ns())) return Bad("misaligned vector");
    if (!m.thread_busy_ns() || !m.thread_wait_ns() || m.thread_busy_ns()->size() != m.thread_wait_ns()->size() ||
        m.thread_busy_ns()->size() > kernel::kMaxThreads)
      return Bad("thread times of unequal or impossible lengths");
    timing->thread_busy_ns.assign(m.thread_busy_ns()->begin(), m.thread_busy_ns()->end());
    timing->thread_wait_ns.assign(m.thread_wait_ns()->begin(), m.thread_wait_ns()->end());
  }
  timing->spans.clear();
  if (m.spans()) {
    if (!Aligned(m.spans())) return Bad("misaligned vector");
    for (const wire::ProfileSpan* s : *m.spans()) {
      if (s->kind() >= kernel::kNumSpanKinds || s->end_ns() < s->start_ns() || s->thread() >= kernel::kMaxThreads ||
          s->region() < -1 || (s->region() >= 0 && static_cast<size_t>(s->region()) >= out->regions.size()))
        return Bad("a profile span out of range");
      kernel::ProfileSpan p;
      p.start_ns = s->start_ns();
      p.end_ns = s->end_ns();
      p.epoch = s->epoch();
      p.region = s->region();
      p.thread = s->thread();
      p.kind = static_cast<kernel::SpanKind>(s->kind());
      timing->spans.push_back(p);
    }
  }
  return Status::Ok();
}

void EncodeError(int region, const std::string& message, bool fatal, flatbuffers::FlatBufferBuilder* b) {
  b->Clear();
  auto text = b->CreateString(message);
  FinishMessage(b, wire::Payload::Error, wire::CreateError(*b, region, text, fatal));
}

void EncodeLoadStates(const std::vector<std::vector<uint8_t>>& states, std::span<const RegionId> regions,
                      flatbuffers::FlatBufferBuilder* b) {
  b->Clear();
  std::vector<flatbuffers::Offset<wire::RegionBlob>> blobs;
  for (RegionId r : regions) blobs.push_back(wire::CreateRegionBlob(*b, r, b->CreateVector(states[r])));
  auto vec = b->CreateVector(blobs);
  FinishMessage(b, wire::Payload::LoadStates, wire::CreateLoadStates(*b, vec));
}

Status DecodeStates(const wire::Message& m, std::span<const RegionId> expected,
                    std::vector<std::vector<uint8_t>>* states) {
  const wire::States* s = m.payload_as_States();
  if (!s || !s->states() || s->states()->size() != expected.size()) return Status::Corrupt("expected States");
  for (size_t i = 0; i < expected.size(); ++i) {
    const wire::RegionBlob* blob = s->states()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (blob->region() != expected[i] || !blob->data() || blob->region() >= states->size())
      return Status::Corrupt("state of another region");
    (*states)[blob->region()] = kernel::CopyToFreshBytes({blob->data()->data(), blob->data()->size()});
  }
  return Status::Ok();
}

Status DecodeDigestList(const wire::Message& m, std::span<const RegionId> expected, std::vector<uint64_t>* out,
                        std::vector<std::vector<uint64_t>>* parts) {
  const wire::DigestList* d = m.payload_as_DigestList();
  if (!d || !d->regions() || !d->digests() || !Aligned(d->digests()) || d->regions()->size() != expected.size() ||
      d->digests()->size() != expected.size())
    return Status::Corrupt("expected DigestList");
  for (size_t i = 0; i < expected.size(); ++i) {
    auto k = static_cast<flatbuffers::uoffset_t>(i);
    if (d->regions()->Get(k) != expected[i] || expected[i] >= out->size())
      return Status::Corrupt("digest of another region");
    (*out)[expected[i]] = d->digests()->Get(k);
  }
  if (parts) {
    parts->assign(expected.size(), {});
    if (d->parts()) {
      if (d->parts()->size() != expected.size()) return Status::Corrupt("expected DigestList");
      for (size_t i = 0; i < expected.size(); ++i) {
        const wire::DigestPartWords* w = d->parts()->Get(static_cast<flatbuffers::uoffset_t>(i));
        if (w->words() && !Aligned(w->words())) return Status::Corrupt("misaligned vector");
        if (w->words()) (*parts)[i].assign(w->words()->begin(), w->words()->end());
      }
    }
  }
  return Status::Ok();
}

}  // namespace thalia::transport
