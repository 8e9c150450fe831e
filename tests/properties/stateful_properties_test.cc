// Stateful property (rc::state): any sequence of commands on a generated brain - run n ticks,
// API input, checkpoint + resume into another executor or worker count, start and stop a
// recording, replay what was recorded (whole or one region) - ends with the spikes and digests of
// one uninterrupted in-process run of the same inputs (the model), and every replay is identical.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "kernel/digest.h"
#include "recorder/checkpoint.h"
#include "recorder/trace_writer.h"
#include "replay/replayer.h"
#include "tests/properties/prop_util.h"
#include "tests/recorder/trace_test_util.h"

namespace thalia::testing {
namespace {

using kernel::Brain;
using kernel::Tick;

// What the reference run needs: the brain, how far the run got and every input made on the way.
struct Model {
  std::shared_ptr<const kernel::BrainSpec> spec;
  Tick tick = 0;
  std::vector<ApiInput> inputs;  // in the order they were made, `when` = the tick then
  bool recording = false;
  int traces = 0;  // finished recordings
};

struct Trace {
  std::string path;
  uint64_t first_epoch = 0, epochs = 0;
  std::vector<uint64_t> spikes;            // recorded per region
  std::vector<uint64_t> checkpoint_epochs;  // the header's checkpoint and the marks
};

// The system under test: a brain that is checkpointed, resumed elsewhere, recorded and replayed.
struct Sut {
  TempDir dir;
  Mode mode;
  std::unique_ptr<Brain> brain;
  std::vector<std::vector<kernel::Spike>> spikes;  // every spike so far, per region
  std::unique_ptr<recorder::TraceWriter> writer;
  uint64_t writer_first_epoch = 0;
  std::vector<uint64_t> writer_checkpoints;
  std::vector<uint64_t> spikes_at_record_start;
  std::vector<Trace> traces;
  int files = 0;

  std::string NewFile(const std::string& suffix) { return dir.File("f" + std::to_string(files++) + suffix); }
  void Collect() {
    auto s = TakeAllSpikes(*brain);
    for (size_t r = 0; r < s.size(); ++r) spikes[r].insert(spikes[r].end(), s[r].begin(), s[r].end());
  }
};

using Command = rc::state::Command<Model, Sut>;

std::unique_ptr<Brain> Resume(const recorder::Checkpoint& c, const Mode& mode) {
  auto b = recorder::ResumeBrain(c, OptionsFor(mode));
  if (!b.ok()) RC_FAIL("resume in mode " + ToString(mode) + ": " + b.status().message());
  return std::move(b).value();
}

struct RunTicks : Command {
  Tick n;
  explicit RunTicks(const Model&) : n(Uniform<Tick>(1, 120)) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(m.tick + n <= m.spec->DurationTicks()); }
  void apply(Model& m) const override { m.tick += n; }
  void run(const Model& m, Sut& sut) const override {
    RC_ASSERT(sut.brain->RunUntil(m.tick + n).ok());
    RC_ASSERT(sut.brain->tick() == m.tick + n);
    sut.Collect();
  }
  void show(std::ostream& os) const override { os << "Run(" << n << ")"; }
};

struct Input : Command {
  ApiInput in;
  explicit Input(const Model& m) : in(GenApiInput(*m.spec, m.tick)) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(in.when == m.tick); }
  void apply(Model& m) const override { m.inputs.push_back(in); }
  void run(const Model&, Sut& sut) const override { RC_ASSERT(Apply(*sut.brain, in).ok()); }
  void show(std::ostream& os) const override { os << "Input(" << in << ")"; }
};

// Checkpoint now, end the brain (and its workers), resume in another mode. A recording goes on
// through the resumed brain, as one trace.
struct CheckpointResume : Command {
  Mode mode;
  bool via_file;
  explicit CheckpointResume(const Model& m)
      : mode(GenMode(m.spec->regions.size(), true)), via_file(*rc::gen::arbitrary<bool>()) {}
  void run(const Model& m, Sut& sut) const override {
    sut.Collect();
    auto c = recorder::CaptureCheckpoint(*sut.brain);
    RC_ASSERT(c.ok());
    if (sut.writer) sut.brain->RemoveObserver(sut.writer.get());
    RC_ASSERT(sut.brain->Shutdown().ok());
    sut.brain.reset();
    if (via_file) {
      const std::string path = sut.NewFile(".thck");
      RC_ASSERT(recorder::WriteCheckpointFile(c.value(), path).ok());
      if (sut.writer) {  // the recording names it, for a replay --from
        RC_ASSERT(sut.writer->MarkCheckpoint(c->state.epoch, c->state.tick, path, kernel::CombineDigests(c->digests)).ok());
        sut.writer_checkpoints.push_back(c->state.epoch);
      }
      auto back = recorder::ReadCheckpointFile(path);
      RC_ASSERT(back.ok());
      sut.brain = Resume(back.value(), mode);
    } else {
      sut.brain = Resume(c.value(), mode);
    }
    sut.mode = mode;
    RC_ASSERT(sut.brain->tick() == m.tick);
    if (sut.writer) sut.brain->AddObserver(sut.writer.get());
  }
  void show(std::ostream& os) const override {
    os << "CheckpointResume(" << ToString(mode) << (via_file ? ", file)" : ", memory)");
  }
};

// From tick 0 a trace needs nothing else; later it starts from a checkpoint written now.
struct StartRecord : Command {
  explicit StartRecord(const Model&) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.recording); }
  void apply(Model& m) const override { m.recording = true; }
  void run(const Model& m, Sut& sut) const override {
    recorder::TraceWriterOptions wo;
    wo.chunk_raw_bytes = 1024;
    if (m.tick > 0) {
      const std::string ckpt = sut.NewFile(".thck");
      auto c = recorder::CaptureCheckpoint(*sut.brain);
      RC_ASSERT(c.ok());
      RC_ASSERT(recorder::WriteCheckpointFile(c.value(), ckpt).ok());
      wo.from_checkpoint = {ckpt, c->state.epoch, c->state.tick, kernel::CombineDigests(c->digests)};
    }
    auto w = recorder::TraceWriter::Open(sut.NewFile(".trace"), *sut.brain, wo);
    RC_ASSERT(w.ok());
    sut.writer = std::move(w).value();
    sut.writer_first_epoch = sut.brain->epoch();
    sut.writer_checkpoints.clear();
    if (m.tick > 0) sut.writer_checkpoints.push_back(sut.brain->epoch());
    sut.brain->AddObserver(sut.writer.get());
    sut.Collect();
    sut.spikes_at_record_start.clear();
    for (const auto& s : sut.spikes) sut.spikes_at_record_start.push_back(s.size());
  }
  void show(std::ostream& os) const override { os << "StartRecord"; }
};

void StopRecording(Sut& sut) {
  sut.brain->RemoveObserver(sut.writer.get());
  RC_ASSERT(sut.writer->Close().ok());
  sut.Collect();
  Trace t{sut.writer->path(), sut.writer_first_epoch, sut.brain->epoch() - sut.writer_first_epoch, {},
          sut.writer_checkpoints};
  for (size_t r = 0; r < sut.spikes.size(); ++r) t.spikes.push_back(sut.spikes[r].size() - sut.spikes_at_record_start[r]);
  sut.traces.push_back(t);
  sut.writer.reset();
}

struct StopRecord : Command {
  explicit StopRecord(const Model&) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(m.recording); }
  void apply(Model& m) const override {
    m.recording = false;
    ++m.traces;
  }
  void run(const Model&, Sut& sut) const override { StopRecording(sut); }
  void show(std::ostream& os) const override { os << "StopRecord"; }
};

// Replays a finished trace (whole, or one region alone): identical to what was recorded.
void ReplayAndCheck(const Sut& sut, size_t index, int region) {
  const Trace& t = sut.traces[index];
  replay::ReplayOptions o;
  o.strict = true;
  uint64_t expected = 0;
  for (uint64_t n : t.spikes) expected += n;
  if (region >= 0) {
    o.region = sut.brain->spec().regions[static_cast<size_t>(region)].name;
    expected = t.spikes[static_cast<size_t>(region)];
  }
  auto r = replay::Replay(t.path, o);
  if (!r.ok()) RC_FAIL("replay of trace " + std::to_string(index) + ": " + r.status().message());
  RC_LOG() << "replay of trace " << index << (o.region.empty() ? "" : " region " + o.region) << ": "
           << replay::Describe(r.value()) << "\n";
  RC_ASSERT(!r->divergence.has_value());
  RC_ASSERT(r->trace_complete);
  RC_ASSERT(r->epochs == t.epochs);
  RC_ASSERT(r->spikes == expected);
}

// Replays a finished trace from the newest checkpoint at or before `from` (an epoch of the trace):
// a header or mark checkpoint then gives the rest of the trace identically; with none, it is an
// error that names what was tried.
void ReplayFromAndCheck(const Sut& sut, size_t index, uint64_t from, int region) {
  const Trace& t = sut.traces[index];
  replay::ReplayOptions o;
  o.from_epoch = from;
  if (region >= 0) o.region = sut.brain->spec().regions[static_cast<size_t>(region)].name;
  std::optional<uint64_t> start;
  for (uint64_t e : t.checkpoint_epochs)
    if (e <= from && (!start || e > *start)) start = e;
  auto r = replay::Replay(t.path, o);
  RC_LOG() << "replay of trace " << index << " from epoch " << from << (o.region.empty() ? "" : " region " + o.region) << ": "
           << (r.ok() ? replay::Describe(r.value()) : r.status().message()) << "\n";
  RC_CLASSIFY(start.has_value() && *start > t.first_epoch, "replay --from a mark");
  if (!start) {
    RC_ASSERT(!r.ok());
    RC_ASSERT(r.status().kind() == ErrorKind::kInvalidInput);
    return;
  }
  RC_ASSERT(r.ok());
  RC_ASSERT(!r->divergence.has_value());
  RC_ASSERT(r->trace_complete);
  RC_ASSERT(r->first_epoch == *start);
  RC_ASSERT(r->epochs == t.first_epoch + t.epochs - *start);
}

struct ReplayFrom : Command {
  size_t index;
  uint64_t offset;
  int region;
  explicit ReplayFrom(const Model& m)
      : index(m.traces > 0 ? Uniform<size_t>(0, static_cast<size_t>(m.traces)) : 0),
        offset(Uniform<uint64_t>(0, 1000)),
        region(Uniform<int>(-1, static_cast<int>(m.spec->regions.size()))) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(index < static_cast<size_t>(m.traces)); }
  void run(const Model&, Sut& sut) const override {
    const Trace& t = sut.traces[index];
    ReplayFromAndCheck(sut, index, t.first_epoch + offset % (t.epochs + 1), region);
  }
  void show(std::ostream& os) const override {
    os << "ReplayFrom(trace " << index << ", offset " << offset << ", region " << region << ")";
  }
};

struct ReplayRecorded : Command {
  size_t index;
  int region;
  explicit ReplayRecorded(const Model& m)
      : index(m.traces > 0 ? Uniform<size_t>(0, static_cast<size_t>(m.traces)) : 0),
        region(Uniform<int>(-1, static_cast<int>(m.spec->regions.size()))) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(index < static_cast<size_t>(m.traces)); }
  void run(const Model&, Sut& sut) const override { ReplayAndCheck(sut, index, region); }
  void show(std::ostream& os) const override { os << "Replay(trace " << index << ", region " << region << ")"; }
};

RC_GTEST_PROP(StatefulProperties, AnyCommandSequenceEndsAsTheUninterruptedRun, ()) {
  Model m0;
  m0.spec = GenSmallBrain();
  const auto commands = *rc::state::gen::commands(m0, [](const Model& m) {
    return rc::state::gen::execOneOfWithArgs<RunTicks, RunTicks, Input, CheckpointResume, StartRecord, StopRecord,
                                             ReplayRecorded, ReplayFrom>()(m);
  });
  Sut sut;
  sut.mode = GenMode(m0.spec->regions.size(), true);
  RC_LOG() << "starts in mode " << ToString(sut.mode) << "\n";
  {
    auto b = Brain::Create(m0.spec, OptionsFor(sut.mode));
    RC_ASSERT(b.ok());
    sut.brain = std::move(b).value();
  }
  sut.spikes.resize(m0.spec->regions.size());
  rc::state::runAll(commands, m0, sut);
  Model end = m0;
  rc::state::applyAll(commands, end);
  if (sut.writer) {
    StopRecording(sut);
    ReplayAndCheck(sut, sut.traces.size() - 1, -1);
  }
  RC_TAG(commands.size() / 10 * 10, sut.traces.size());
  size_t total = 0;
  for (const auto& s : sut.spikes) total += s.size();
  RC_CLASSIFY(total == 0, "silent");

  // The reference: one in-process run, never interrupted, with the same inputs at the same ticks.
  kernel::RunOptions o;
  o.workers = 0;
  o.keep_spikes = true;
  auto ref = Brain::Create(end.spec, o);
  RC_ASSERT(ref.ok());
  RunWithInputs(**ref, end.inputs, end.tick);
  RC_ASSERT(sut.brain->tick() == end.tick);
  const auto ref_spikes = TakeAllSpikes(**ref);
  for (size_t r = 0; r < ref_spikes.size(); ++r) RC_ASSERT(ref_spikes[r] == sut.spikes[r]);
  auto a = (*ref)->RegionDigests();
  auto b = sut.brain->RegionDigests();
  RC_ASSERT(a.ok() && b.ok());
  RC_ASSERT(a.value() == b.value());
  RC_ASSERT(sut.brain->Shutdown().ok());
  sut.brain.reset();
  RC_ASSERT(NoChildLeft());
}

}  // namespace
}  // namespace thalia::testing
