// Codec properties over generated content: the worker messages (transport/codec), trace files
// (recorder trace writer and reader) and checkpoints (recorder Encode/DecodeCheckpoint) round-trip
// exactly; a truncation or a flipped byte is refused - or, where the format has no checksum (the
// wire messages, guarded by Verifier and the decoder's checks), decodes to values that pass those
// checks - and never crashes. A damaged trace yields only an intact prefix of the original.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>

#include "recorder/checkpoint.h"
#include "recorder/trace_reader.h"
#include "recorder/trace_writer.h"
#include "kernel/registry.h"
#include "kernel/state_codec.h"
#include "tests/properties/prop_util.h"
#include "tests/recorder/trace_test_util.h"
#include "transport/codec.h"
#include "transport/frame.h"

namespace thalia::testing {
namespace {

using kernel::Tick;
using transport::RegionId;

// ---- generated epoch content ----------------------------------------------------------------

kernel::ModulatorState GenModulators(Tick t0) {
  kernel::ModulatorState m;
  for (int i = 0; i < kernel::kNumModulators; ++i) {
    m.level[i] = *rc::gen::element(0.0f, -1.5f, 0.25f, 3.0f);
    m.since[i] = *rc::gen::inRange<Tick>(0, t0 + 1);
  }
  return m;
}

std::vector<kernel::ModulatorEvent> GenEvents(Tick t0, Tick t1) {
  std::vector<kernel::ModulatorEvent> ev(*rc::gen::inRange(0, 4));
  for (auto& e : ev)
    e = {*rc::gen::inRange<Tick>(t0, t1), *rc::gen::inRange(0, kernel::kNumModulators),
         *rc::gen::element(-1.0f, 0.5f, 2.0f)};
  std::stable_sort(ev.begin(), ev.end(), [](const auto& a, const auto& b) { return a.tick < b.tick; });
  return ev;
}

std::vector<kernel::ExternalInput> GenExternal(Tick t0, Tick t1, uint32_t size) {
  std::vector<kernel::ExternalInput> ex(*rc::gen::inRange(0, 5));
  for (auto& x : ex)
    x = {*rc::gen::inRange<Tick>(t0, t1), *rc::gen::inRange<uint32_t>(0, size), *rc::gen::element(-2.0f, 1.0f, 7.5f),
         *rc::gen::arbitrary<bool>() ? kernel::ExternalInput::kCurrent : kernel::ExternalInput::kSpike};
  std::stable_sort(ex.begin(), ex.end(), [](const auto& a, const auto& b) { return a.tick < b.tick; });
  return ex;
}

// Spikes of one region in (tick, neuron) order, each (tick, neuron) once.
std::vector<kernel::Spike> GenSpikes(Tick t0, Tick t1, uint32_t size) {
  std::set<std::pair<Tick, uint32_t>> set;
  const int n = *rc::gen::inRange(0, 40);
  for (int i = 0; i < n; ++i) set.insert({*rc::gen::inRange<Tick>(t0, t1), *rc::gen::inRange<uint32_t>(0, size)});
  std::vector<kernel::Spike> out;
  for (auto [t, nid] : set) out.push_back({t, nid});
  return out;
}

// ---- wire messages --------------------------------------------------------------------------

std::vector<uint8_t> Bytes(const flatbuffers::FlatBufferBuilder& b) {
  auto f = transport::Frame(b);
  return {f.begin(), f.end()};  // heap storage: 8-aligned, as frames are read
}

// Every proper prefix of `frame` is refused.
void EveryCutIsRefused(const std::vector<uint8_t>& frame) {
  for (size_t cut = 0; cut < frame.size(); ++cut)
    RC_ASSERT(!transport::DecodeFrame(std::span(frame.data(), cut)).ok());
}

// Each byte of `frame` flipped in turn (one generated mask): a frame that still passes the
// verifier as a `type` message goes to `decode`, which must come back without crashing.
template <typename Decode>
void EveryFlipDecodesSafely(const std::vector<uint8_t>& frame, wire::Payload type, Decode decode) {
  const auto mask = *rc::gen::inRange<int>(1, 256);
  for (size_t i = 0; i < frame.size(); ++i) {
    std::vector<uint8_t> bad = frame;
    bad[i] ^= static_cast<uint8_t>(mask);
    auto bm = transport::DecodeFrame(bad);
    if (!bm.ok() || bm.value()->payload_type() != type) continue;
    decode(*bm.value());
  }
}

// The checks DecodeEpochBegin promises for whatever it accepts.
void CheckDecodedBegin(const kernel::EpochBegin& out, const std::vector<RegionId>& ids, size_t n) {
  RC_ASSERT(out.t1 >= out.t0);
  RC_ASSERT(out.inbound.size() == n);
  RC_ASSERT(out.external.size() == n);
  for (RegionId r : ids) RC_ASSERT(r < n);
  for (const auto& v : out.inbound)
    for (const auto& s : v) RC_ASSERT(s.tick < out.t1);  // a region would schedule it past its delay ring
  for (const auto& e : out.events) RC_ASSERT(e.modulator >= 0 && e.modulator < kernel::kNumModulators);
  for (const auto& v : out.external)
    for (const auto& x : v) RC_ASSERT(x.kind == kernel::ExternalInput::kSpike || x.kind == kernel::ExternalInput::kCurrent);
}

RC_GTEST_PROP(CodecProperties, EpochBeginRoundTripsAndDamageIsRefusedOrSafe, ()) {
  const size_t n = *rc::gen::inRange<size_t>(1, 6);
  kernel::EpochBegin in;
  in.epoch = *rc::gen::arbitrary<uint64_t>();
  in.t0 = *rc::gen::inRange<Tick>(1, 1u << 30);
  in.t1 = in.t0 + *rc::gen::inRange<Tick>(0, 100);
  in.modulators = GenModulators(in.t0);
  in.events = GenEvents(in.t0, in.t1 + 1);
  in.full_digest = *rc::gen::arbitrary<bool>();
  in.inbound.resize(n);
  in.external.resize(n);
  std::vector<RegionId> chosen;
  for (RegionId r = 0; r < n; ++r) {
    for (int i = *rc::gen::inRange(0, 6); i > 0; --i)
      in.inbound[r].push_back({*rc::gen::inRange<Tick>(0, in.t0), *rc::gen::inRange<uint32_t>(0, 5),
                               *rc::gen::arbitrary<uint32_t>()});
    in.external[r] = GenExternal(in.t0, in.t1 + 1, 1000);
    if (*rc::gen::arbitrary<bool>()) chosen.push_back(r);
  }
  flatbuffers::FlatBufferBuilder b;
  transport::EncodeEpochBegin(in, chosen, &b);
  const std::vector<uint8_t> frame = Bytes(b);
  auto m = transport::DecodeFrame(frame);
  RC_ASSERT(m.ok());
  RC_ASSERT(m.value()->payload_type() == wire::Payload::EpochBegin);
  kernel::EpochBegin out;
  std::vector<RegionId> ids;
  RC_ASSERT(transport::DecodeEpochBegin(*m.value()->payload_as_EpochBegin(), n, &out, &ids).ok());
  RC_ASSERT(ids == chosen);
  RC_ASSERT(out.epoch == in.epoch && out.t0 == in.t0 && out.t1 == in.t1);
  RC_ASSERT(out.modulators == in.modulators);
  RC_ASSERT(out.events == in.events);
  RC_ASSERT(out.full_digest == in.full_digest);
  for (RegionId r = 0; r < n; ++r) {
    const bool sent = std::find(chosen.begin(), chosen.end(), r) != chosen.end();
    RC_ASSERT(out.inbound[r] == (sent ? in.inbound[r] : std::vector<kernel::InSpike>{}));
    RC_ASSERT(out.external[r] == (sent ? in.external[r] : std::vector<kernel::ExternalInput>{}));
  }

  EveryCutIsRefused(frame);
  EveryFlipDecodesSafely(frame, wire::Payload::EpochBegin, [&](const wire::Message& bad) {
    kernel::EpochBegin got;
    std::vector<RegionId> got_ids;
    if (transport::DecodeEpochBegin(*bad.payload_as_EpochBegin(), n, &got, &got_ids).ok())
      CheckDecodedBegin(got, got_ids, n);
  });
}

// Regression (found by the property above: a flipped byte cleared the payload's vtable entry):
// a message whose union type is set but whose table is absent passes flatbuffers::Verifier, and
// the worker dereferenced payload_as_EpochBegin() - a null pointer - and died of SIGSEGV.
TEST(CodecRegression, AMessageWithATypeButNoPayloadIsRefused) {
  for (wire::Payload type : {wire::Payload::EpochBegin, wire::Payload::EpochDone, wire::Payload::Setup,
                             wire::Payload::LoadStates, wire::Payload::Error}) {
    flatbuffers::FlatBufferBuilder b;
    wire::MessageBuilder mb(b);
    mb.add_payload_type(type);
    b.FinishSizePrefixed(mb.Finish(), wire::MessageIdentifier());
    const std::vector<uint8_t> frame = Bytes(b);
    auto m = transport::DecodeFrame(frame);
    ASSERT_FALSE(m.ok()) << wire::EnumNamePayload(type);
    EXPECT_EQ(m.status().kind(), ErrorKind::kCorrupt);
  }
}

// Regression (found by the property above: a flipped byte in an inbound spike's tick): the worker
// handed a spike from far in the future to its region, whose delay-ring check aborted the worker.
TEST(CodecRegression, AnInboundSpikeFromTheEpochsEndOrLaterIsRefused) {
  kernel::EpochBegin in;
  in.t0 = 100;
  in.t1 = 110;
  in.inbound = {{{99, 0, 3}}};
  in.external.resize(1);
  const std::vector<RegionId> chosen = {0};
  for (Tick tick : {Tick{110}, Tick{1} << 40}) {
    in.inbound[0][0].tick = tick;
    flatbuffers::FlatBufferBuilder b;
    transport::EncodeEpochBegin(in, chosen, &b);
    const std::vector<uint8_t> frame = Bytes(b);
    auto m = transport::DecodeFrame(frame);
    ASSERT_TRUE(m.ok());
    kernel::EpochBegin out;
    std::vector<RegionId> ids;
    Status st = transport::DecodeEpochBegin(*m.value()->payload_as_EpochBegin(), 1, &out, &ids);
    EXPECT_EQ(st.kind(), ErrorKind::kCorrupt) << tick;
  }
  in.inbound[0][0].tick = 99;  // emitted before the epoch: fine
  flatbuffers::FlatBufferBuilder b;
  transport::EncodeEpochBegin(in, chosen, &b);
  const std::vector<uint8_t> frame = Bytes(b);
  kernel::EpochBegin out;
  std::vector<RegionId> ids;
  EXPECT_TRUE(transport::DecodeEpochBegin(*transport::DecodeFrame(frame).value()->payload_as_EpochBegin(), 1, &out, &ids).ok());
}

RC_GTEST_PROP(CodecProperties, EpochDoneRoundTripsAndDamageIsRefusedOrSafe, ()) {
  const size_t n = *rc::gen::inRange<size_t>(1, 6);
  kernel::EpochDone in;
  in.epoch = *rc::gen::arbitrary<uint64_t>();
  in.regions.resize(n);
  std::vector<RegionId> chosen;
  for (RegionId r = 0; r < n; ++r) {
    in.regions[r].spikes = GenSpikes(100, 200, 5000);
    in.regions[r].digest = *rc::gen::arbitrary<uint64_t>();
    in.regions[r].counters = {*rc::gen::arbitrary<uint64_t>(), *rc::gen::arbitrary<uint64_t>(),
                              *rc::gen::arbitrary<uint64_t>()};
    if (*rc::gen::arbitrary<bool>()) chosen.push_back(r);
  }
  transport::EpochTiming timing;
  timing.busy_ns = *rc::gen::arbitrary<uint64_t>();
  timing.wait_ns = *rc::gen::arbitrary<uint64_t>();
  flatbuffers::FlatBufferBuilder b;
  transport::EncodeEpochDone(in, chosen, timing, &b);
  const std::vector<uint8_t> frame = Bytes(b);
  auto m = transport::DecodeFrame(frame);
  RC_ASSERT(m.ok());
  kernel::EpochDone out;
  out.regions.resize(n);
  transport::EpochTiming t;
  RC_ASSERT(transport::DecodeEpochDone(*m.value()->payload_as_EpochDone(), in.epoch, chosen, &out, &t).ok());
  RC_ASSERT(t.busy_ns == timing.busy_ns && t.wait_ns == timing.wait_ns);
  for (RegionId r : chosen) {
    RC_ASSERT(out.regions[r].spikes == in.regions[r].spikes);
    RC_ASSERT(out.regions[r].digest == in.regions[r].digest);
    RC_ASSERT(out.regions[r].counters.spikes == in.regions[r].counters.spikes);
    RC_ASSERT(out.regions[r].counters.synaptic_events == in.regions[r].counters.synaptic_events);
    RC_ASSERT(out.regions[r].counters.neuron_updates == in.regions[r].counters.neuron_updates);
  }
  // Results for another epoch are refused.
  RC_ASSERT(!transport::DecodeEpochDone(*m.value()->payload_as_EpochDone(), in.epoch + 1, chosen, &out, &t).ok());

  EveryCutIsRefused(frame);
  EveryFlipDecodesSafely(frame, wire::Payload::EpochDone, [&](const wire::Message& bad) {
    kernel::EpochDone got;
    got.regions.resize(n);
    (void)transport::DecodeEpochDone(*bad.payload_as_EpochDone(), in.epoch, chosen, &got, &t);
    RC_ASSERT(got.regions.size() == n);
  });
}

RC_GTEST_PROP(CodecProperties, ErrorMessageRoundTripsAndEveryCutIsRefused, ()) {
  const int region = *rc::gen::inRange(-1, 1000);
  const std::string text = *rc::gen::container<std::string>(rc::gen::character<char>());
  const bool fatal = *rc::gen::arbitrary<bool>();
  flatbuffers::FlatBufferBuilder b;
  transport::EncodeError(region, text, fatal, &b);
  const std::vector<uint8_t> frame = Bytes(b);
  auto m = transport::DecodeFrame(frame);
  RC_ASSERT(m.ok());
  const wire::Error* e = m.value()->payload_as_Error();
  RC_ASSERT(e != nullptr);
  RC_ASSERT(e->region() == region);
  RC_ASSERT(e->fatal() == fatal);
  RC_ASSERT(e->message() != nullptr);
  RC_ASSERT(e->message()->str() == text);
  EveryCutIsRefused(frame);
}

// ---- trace files ----------------------------------------------------------------------------

struct Records {
  std::vector<recorder::DecodedRecord> records;  // batches and marks, in file order
  Status status;
  bool opened = false, complete = false;
};

Records ReadTrace(const std::string& path, bool strict) {
  Records out;
  recorder::TraceReaderOptions o;
  o.strict = strict;
  auto r = recorder::TraceReader::Open(path, o);
  if (!r.ok()) {
    out.status = r.status();
    return out;
  }
  out.opened = true;
  recorder::DecodedRecord rec;
  while (true) {
    auto more = r.value()->Next(&rec);
    if (!more.ok()) {
      out.status = more.status();
      return out;
    }
    if (!more.value()) break;
    out.records.push_back(rec);
  }
  out.complete = r.value()->complete();
  return out;
}

bool Same(const recorder::DecodedRecord& a, const recorder::DecodedRecord& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == recorder::RecordKind::kMark)
    return a.mark.epoch == b.mark.epoch && a.mark.tick == b.mark.tick && a.mark.file == b.mark.file &&
           a.mark.digest == b.mark.digest;
  const auto &x = a.batch, &y = b.batch;
  return x.epoch == y.epoch && x.t0 == y.t0 && x.t1 == y.t1 && x.full_digest == y.full_digest &&
         x.modulators == y.modulators && x.events == y.events && x.external == y.external &&
         x.spikes == y.spikes && x.digests == y.digests;
}

// `got` holds the first records of `all`, equal to them.
void AssertPrefix(const Records& got, const Records& all) {
  RC_ASSERT(got.records.size() <= all.records.size());
  for (size_t i = 0; i < got.records.size(); ++i) RC_ASSERT(Same(got.records[i], all.records[i]));
}

// Writes a trace of generated epochs (and checkpoint marks) for a generated brain's regions;
// returns what it wrote, as the reader should give it back.
Records WriteGeneratedTrace(const std::string& path) {
  auto spec = GenSmallBrain();
  kernel::RunOptions o;
  o.workers = 0;
  auto brain = kernel::Brain::Create(spec, o);
  RC_ASSERT(brain.ok());
  recorder::TraceWriterOptions wo;
  wo.chunk_raw_bytes = *rc::gen::element<size_t>(64, 512, 4096);
  auto w = recorder::TraceWriter::Open(path, *brain.value(), wo);
  RC_ASSERT(w.ok());
  Records expected;
  const size_t n = spec->regions.size();
  const int epochs = *rc::gen::inRange(0, 30);
  Tick t = 0;
  for (int e = 0; e < epochs; ++e) {
    if (*rc::gen::inRange(0, 6) == 0) {
      recorder::DecodedRecord mark;
      mark.kind = recorder::RecordKind::kMark;
      mark.mark = {static_cast<uint64_t>(e), t, "ckpt-" + std::to_string(e) + ".thck", *rc::gen::arbitrary<uint64_t>()};
      RC_ASSERT(w.value()->MarkCheckpoint(mark.mark.epoch, mark.mark.tick, mark.mark.file, mark.mark.digest).ok());
      expected.records.push_back(mark);
    }
    kernel::EpochBegin begin;
    begin.epoch = static_cast<uint64_t>(e);
    begin.t0 = t;
    begin.t1 = t + *rc::gen::inRange<Tick>(1, spec->epoch_ticks + 1);
    begin.modulators = GenModulators(t);
    begin.events = GenEvents(begin.t0, begin.t1);
    begin.full_digest = *rc::gen::arbitrary<bool>();
    begin.inbound.resize(n);
    kernel::EpochDone done;
    done.epoch = begin.epoch;
    done.regions.resize(n);
    for (size_t r = 0; r < n; ++r) {
      begin.external.push_back(GenExternal(begin.t0, begin.t1, spec->regions[r].size));
      done.regions[r].spikes = GenSpikes(begin.t0, begin.t1, spec->regions[r].size);
      done.regions[r].digest = *rc::gen::arbitrary<uint64_t>();
    }
    RC_ASSERT(w.value()->OnEpoch(begin, done).ok());
    recorder::DecodedRecord rec;
    rec.kind = recorder::RecordKind::kBatch;
    rec.batch = {begin.epoch, begin.t0, begin.t1, begin.full_digest, begin.modulators, begin.events,
                 begin.external, {}, {}};
    for (const auto& rr : done.regions) {
      rec.batch.spikes.push_back(rr.spikes);
      rec.batch.digests.push_back(rr.digest);
    }
    expected.records.push_back(rec);
    t = begin.t1;
  }
  RC_ASSERT(w.value()->Close().ok());
  expected.complete = true;
  return expected;
}

RC_GTEST_PROP(CodecProperties, TraceRoundTripsAndADamagedTraceYieldsOnlyAnIntactPrefix, ()) {
  TempDir dir;
  const std::string path = dir.File("gen.trace");
  const Records expected = WriteGeneratedTrace(path);
  const Records back = ReadTrace(path, true);
  RC_ASSERT(back.status.ok());
  RC_ASSERT(back.complete);
  RC_ASSERT(back.records.size() == expected.records.size());
  AssertPrefix(back, expected);

  const std::vector<uint8_t> good = ReadBytes(path);
  const std::string bad_path = dir.File("bad.trace");
  // Cuts: a crash-cut trace is a clean end in either mode; longer cuts never give fewer records.
  std::vector<size_t> cuts = *rc::gen::container<std::vector<size_t>>(6, rc::gen::inRange<size_t>(0, good.size()));
  std::sort(cuts.begin(), cuts.end());
  size_t last = 0;
  for (size_t cut : cuts) {
    WriteBytes(bad_path, std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(cut)));
    for (bool strict : {true, false}) {
      Records got = ReadTrace(bad_path, strict);
      RC_LOG() << "cut at " << cut << " of " << good.size() << (strict ? " strict: " : " lenient: ")
               << got.status.message() << ", " << got.records.size() << " records\n";
      if (!got.opened) continue;  // the header chunk itself was cut
      RC_ASSERT(got.status.ok());
      RC_ASSERT(!got.complete);
      AssertPrefix(got, expected);
      RC_ASSERT(got.records.size() >= last);
      last = got.records.size();
    }
  }
  // Flips: strict gives a prefix then an error (or a prefix that is all of it, when only the
  // index or footer was hit and the chunks were scanned); lenient gives a prefix, never an error.
  for (int k = 0; k < 6; ++k) {
    const size_t at = *rc::gen::inRange<size_t>(0, good.size());
    const auto mask = static_cast<uint8_t>(*rc::gen::inRange(1, 256));
    std::vector<uint8_t> bad = good;
    bad[at] ^= mask;
    WriteBytes(bad_path, bad);
    for (bool strict : {true, false}) {
      Records got = ReadTrace(bad_path, strict);
      RC_LOG() << "flip " << int{mask} << " at " << at << " of " << good.size() << (strict ? " strict: " : " lenient: ")
               << got.status.message() << ", " << got.records.size() << " records\n";
      if (!got.opened) continue;
      if (!strict) RC_ASSERT(got.status.ok());
      AssertPrefix(got, expected);
      if (got.complete) RC_ASSERT(got.records.size() == expected.records.size());
    }
  }
}

// ---- checkpoints ----------------------------------------------------------------------------

RC_GTEST_PROP(CodecProperties, CheckpointRoundTripsAndEveryCutOrFlipIsRefused, ()) {
  auto spec = GenSmallBrain();
  kernel::RunOptions o;
  o.workers = 0;
  auto brain = kernel::Brain::Create(spec, o);
  RC_ASSERT(brain.ok());
  const Tick split = *rc::gen::inRange<Tick>(0, spec->DurationTicks() / 2 + 1);
  RunWithInputs(**brain, GenApiInputs(*spec, split + 50), split);
  for (const ApiInput& in : GenApiInputs(*spec, 1)) {  // pending at the checkpoint
    ApiInput later = in;
    later.when = split;
    later.at = split + (in.at - in.when);
    RC_ASSERT(Apply(**brain, later).ok());
  }
  const recorder::TracePosition trace{*rc::gen::element<std::string>("", "run.trace", "a/b c.trace"),
                                      *rc::gen::inRange<uint64_t>(0, 1000)};
  auto c = recorder::CaptureCheckpoint(**brain, trace);
  RC_ASSERT(c.ok());
  auto file = recorder::EncodeCheckpoint(c.value());
  RC_ASSERT(file.ok());
  auto back = recorder::DecodeCheckpoint(file.value(), "mem");
  RC_ASSERT(back.ok());
  const recorder::Checkpoint &a = c.value(), &b = back.value();
  RC_ASSERT(b.format_version == a.format_version);
  RC_ASSERT(b.config == a.config);
  RC_ASSERT(b.seed == a.seed);
  RC_ASSERT(b.state.tick == a.state.tick && b.state.epoch == a.state.epoch);
  RC_ASSERT(b.state.modulators == a.state.modulators);
  RC_ASSERT(b.state.pending_events == a.state.pending_events);
  RC_ASSERT(b.state.in_flight == a.state.in_flight);
  RC_ASSERT(b.state.pending_external == a.state.pending_external);
  RC_ASSERT(b.state.regions == a.state.regions);
  RC_ASSERT(b.region_names == a.region_names);
  RC_ASSERT(b.digests == a.digests);
  RC_ASSERT(b.trace.path == a.trace.path && b.trace.epochs_recorded == a.trace.epochs_recorded);
  RC_ASSERT(b.executor == a.executor && b.workers == a.workers);
  // Encoding is a function of the content.
  RC_ASSERT(recorder::EncodeCheckpoint(b).value() == file.value());

  const std::vector<uint8_t>& good = file.value();
  for (int k = 0; k < 8; ++k) {
    const size_t cut = *rc::gen::inRange<size_t>(0, good.size());
    RC_ASSERT(!recorder::DecodeCheckpoint(std::span(good.data(), cut), "cut").ok());
    std::vector<uint8_t> bad = good;
    bad[*rc::gen::inRange<size_t>(0, good.size())] ^= static_cast<uint8_t>(*rc::gen::inRange(1, 256));
    auto d = recorder::DecodeCheckpoint(bad, "flipped");
    RC_ASSERT(!d.ok());
  }
}

// ---- region states (inside checkpoints, and LoadStates messages to workers) -----------------

RC_GTEST_PROP(CodecProperties, RegionStateRoundTripsAndDamageIsRefusedOrLoadsSafely, ()) {
  auto spec = GenSmallBrain();
  kernel::RunOptions o;
  o.workers = 0;
  auto brain = kernel::Brain::Create(spec, o);
  RC_ASSERT(brain.ok());
  const Tick split = Uniform<Tick>(0, spec->DurationTicks() / 2 + 1);
  RunWithInputs(**brain, GenApiInputs(*spec, split + 1), split);
  auto state = (*brain)->CaptureState();
  RC_ASSERT(state.ok());
  auto digests = (*brain)->RegionDigests();
  RC_ASSERT(digests.ok());
  const kernel::RegionId r = Uniform<kernel::RegionId>(0, spec->regions.size());
  const std::vector<uint8_t>& good = state->regions[r];
  auto fresh = kernel::BuildRegion(*spec, r);
  RC_ASSERT(kernel::LoadRegionState(*fresh, good).ok());
  RC_ASSERT(fresh->tick() == split);
  RC_ASSERT(fresh->Digest(true) == digests.value()[r]);
  RC_ASSERT(kernel::SaveRegionState(*fresh) == good);

  // A damaged state is refused, or loads into a region that still runs an epoch safely.
  const kernel::ModulatorState mods;
  auto run_an_epoch = [&](kernel::Region& region) {
    kernel::EpochContext ctx{0, region.tick(), region.tick() + spec->epoch_ticks, mods, {}};
    std::vector<kernel::Spike> out;
    region.Advance(ctx, {}, {}, &out);
    for (const kernel::Spike& sp : out) {
      RC_ASSERT(sp.neuron < spec->regions[r].size);
      RC_ASSERT(sp.tick >= ctx.t0 && sp.tick < ctx.t1);
    }
  };
  for (int k = 0; k < 16; ++k) {
    const size_t cut = Uniform<size_t>(0, good.size());
    auto region = kernel::BuildRegion(*spec, r);
    RC_ASSERT(!kernel::LoadRegionState(*region, std::span(good.data(), cut)).ok());
    std::vector<uint8_t> bad = good;
    const size_t at = Uniform<size_t>(0, good.size());
    bad[at] ^= static_cast<uint8_t>(Uniform(1, 256));
    auto damaged = kernel::BuildRegion(*spec, r);
    RC_LOG() << "flip at " << at << " of " << good.size() << "\n";
    if (kernel::LoadRegionState(*damaged, bad).ok()) run_an_epoch(*damaged);
  }
}

}  // namespace
}  // namespace thalia::testing
