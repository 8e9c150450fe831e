// Exact cross-mode properties over generated brains and generated API inputs: the sequential run
// equals every parallel run (any worker count, placement, fork or spawn); a recorded run replays
// identically, whole and one region alone; a checkpoint written by one mode and resumed by another
// at any tick gives the uninterrupted run. Spikes and full digests are compared for equality.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "recorder/checkpoint.h"
#include "recorder/trace_writer.h"
#include "replay/replayer.h"
#include "tests/properties/prop_util.h"
#include "tests/recorder/trace_test_util.h"

namespace thalia::testing {
namespace {

using kernel::Brain;
using kernel::Tick;

struct Outcome {
  std::vector<std::vector<kernel::Spike>> spikes;
  std::vector<uint64_t> last_epoch_digests;  // the light digests of the last epoch
  std::vector<uint64_t> digests;             // full digests at the end
  uint64_t epochs = 0;
};

std::unique_ptr<Brain> Create(std::shared_ptr<const kernel::BrainSpec> spec, const Mode& mode) {
  auto b = Brain::Create(std::move(spec), OptionsFor(mode));
  if (!b.ok()) RC_FAIL("cannot create the brain in mode " + ToString(mode) + ": " + b.status().message());
  return std::move(b).value();
}

Outcome Finish(Brain& b) {
  Outcome o;
  o.spikes = TakeAllSpikes(b);
  o.last_epoch_digests = b.epoch_digests();
  auto d = b.RegionDigests();
  RC_ASSERT(d.ok());
  o.digests = d.value();
  o.epochs = b.epoch();
  RC_ASSERT(b.Shutdown().ok());
  return o;
}

Outcome RunSequential(std::shared_ptr<const kernel::BrainSpec> spec, const std::vector<ApiInput>& inputs) {
  auto b = Create(spec, Mode{});
  RunWithInputs(*b, inputs, spec->DurationTicks());
  return Finish(*b);
}

void AssertSame(const Outcome& a, const Outcome& b) {
  RC_ASSERT(a.spikes.size() == b.spikes.size());
  for (size_t r = 0; r < a.spikes.size(); ++r) {
    RC_LOG() << "region " << r << ": " << a.spikes[r].size() << " vs " << b.spikes[r].size() << " spikes\n";
    RC_ASSERT(a.spikes[r] == b.spikes[r]);
  }
  RC_ASSERT(a.digests == b.digests);
}

uint64_t SpikeCount(const Outcome& o) {
  uint64_t n = 0;
  for (const auto& s : o.spikes) n += s.size();
  return n;
}

// The same configuration with its epochs capped at `ms` (batch_window_ms).
std::shared_ptr<const kernel::BrainSpec> WithBatchWindow(const kernel::BrainSpec& spec, double ms) {
  schema::BrainT b;
  schema::GetBrain(spec.config.data())->UnPackTo(&b);
  b.batch_window_ms = ms;
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Brain::Pack(fbb, &b), schema::BrainIdentifier());
  return ResolveGenerated({fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()});
}

// The parallel run may also cut its epochs shorter (batch_window): results depend on neither.
RC_GTEST_PROP(ExactProperties, SequentialEqualsEveryParallelMode, ()) {
  auto spec = GenSmallBrain();
  const auto inputs = GenApiInputs(*spec, spec->DurationTicks());
  const Mode mode = GenMode(spec->regions.size(), false);
  const double window = *rc::gen::element(0.0, 0.0, 0.2, 0.7);
  RC_LOG() << "mode " << ToString(mode) << ", batch window " << window << " ms\n";
  for (const ApiInput& in : inputs) RC_LOG() << in << "\n";
  RC_TAG(mode.launch, mode.workers);
  const Outcome seq = RunSequential(spec, inputs);
  auto b = Create(window > 0 ? WithBatchWindow(*spec, window) : spec, mode);
  RunWithInputs(*b, inputs, spec->DurationTicks());
  const Outcome par = Finish(*b);
  RC_CLASSIFY(SpikeCount(seq) == 0, "silent");
  AssertSame(seq, par);
  if (window == 0) RC_ASSERT(seq.last_epoch_digests == par.last_epoch_digests);
  RC_ASSERT(NoChildLeft());
}

// Regions split into parts over worker processes by a drawn placement (1-3 parts per region, one
// tick internal delays included; fork or spawn; threads and shards inside the parts too): every
// spike and the full digests of the sequential run.
RC_GTEST_PROP(ExactProperties, SequentialEqualsRegionsSplitOverWorkers, ()) {
  auto spec = GenSmallBrain();
  const auto inputs = GenApiInputs(*spec, spec->DurationTicks());
  Mode mode;
  GenParts(*spec, Uniform(2, 6), &mode);
  mode.launch = Uniform(0, 4) == 0 ? "spawn" : "fork";
  if (Uniform(0, 3) == 0) GenSplit(&mode);
  // Forked workers that send each other their spikes, the coordinator an epoch ahead.
  if (mode.launch == "fork" && Uniform(0, 2) == 0) mode.exchange = "direct";
  RC_LOG() << "mode " << ToString(mode) << "\n";
  RC_TAG(mode.workers, mode.exchange);
  const Outcome seq = RunSequential(spec, inputs);
  auto b = Create(spec, mode);
  RunWithInputs(*b, inputs, spec->DurationTicks());
  const Outcome par = Finish(*b);
  RC_CLASSIFY(SpikeCount(seq) == 0, "silent");
  AssertSame(seq, par);
  RC_ASSERT(NoChildLeft());
}

// Regions split into any number of shards (one-tick internal delays included), on any number of
// threads in this process: every spike and digest of the unsplit run, the last epoch's too.
RC_GTEST_PROP(ExactProperties, SequentialEqualsEverySplitOnThreads, ()) {
  auto spec = GenSmallBrain();
  const auto inputs = GenApiInputs(*spec, spec->DurationTicks());
  Mode mode;
  mode.threads = Uniform(1, 5);
  mode.shards = Uniform(1, 8);
  RC_LOG() << "mode " << ToString(mode) << "\n";
  RC_TAG(mode.threads, mode.shards);
  const Outcome seq = RunSequential(spec, inputs);
  auto b = Create(spec, mode);
  RunWithInputs(*b, inputs, spec->DurationTicks());
  const Outcome split = Finish(*b);
  RC_CLASSIFY(SpikeCount(seq) == 0, "silent");
  AssertSame(seq, split);
  RC_ASSERT(seq.last_epoch_digests == split.last_epoch_digests);
}

// Records the run of `spec` in `mode` with `inputs` to `path`, in chunks of `chunk_bytes`.
Outcome Record(std::shared_ptr<const kernel::BrainSpec> spec, const Mode& mode,
               const std::vector<ApiInput>& inputs, const std::string& path, size_t chunk_bytes) {
  auto b = Create(spec, mode);
  recorder::TraceWriterOptions wo;
  wo.chunk_raw_bytes = chunk_bytes;
  auto w = recorder::TraceWriter::Open(path, *b, wo);
  RC_ASSERT(w.ok());
  b->AddObserver(w.value().get());
  RunWithInputs(*b, inputs, spec->DurationTicks());
  b->RemoveObserver(w.value().get());
  RC_ASSERT(w.value()->Close().ok());
  return Finish(*b);
}

RC_GTEST_PROP(ExactProperties, RecordedRunReplaysIdentically, ()) {
  auto spec = GenSmallBrain();
  const auto inputs = GenApiInputs(*spec, spec->DurationTicks());
  const Mode mode = GenMode(spec->regions.size(), true);
  const size_t chunk = *rc::gen::element<size_t>(256, 4096, 1 << 20);
  RC_LOG() << "mode " << ToString(mode) << ", chunk " << chunk << "\n";
  TempDir dir;
  const Outcome rec = Record(spec, mode, inputs, dir.File("run.trace"), chunk);
  auto r = replay::Replay(dir.File("run.trace"), {});
  RC_ASSERT(r.ok());
  RC_LOG() << replay::Describe(r.value()) << "\n";
  RC_ASSERT(!r->divergence.has_value());
  RC_ASSERT(r->trace_complete);
  RC_ASSERT(r->epochs == rec.epochs);
  RC_ASSERT(r->spikes == SpikeCount(rec));
  // The replayed run is also the sequential one.
  AssertSame(RunSequential(spec, inputs), rec);
}

RC_GTEST_PROP(ExactProperties, OneRegionReplayedAloneEqualsItsRecordedOutput, ()) {
  auto spec = GenSmallBrain();
  const auto inputs = GenApiInputs(*spec, spec->DurationTicks());
  const Mode mode = GenMode(spec->regions.size(), true);
  const kernel::RegionId region = Uniform<kernel::RegionId>(0, spec->regions.size());
  RC_LOG() << "mode " << ToString(mode) << ", region " << spec->regions[region].name << "\n";
  TempDir dir;
  const Outcome rec = Record(spec, mode, inputs, dir.File("run.trace"), 4096);
  replay::ReplayOptions o;
  o.region = spec->regions[region].name;
  auto r = replay::Replay(dir.File("run.trace"), o);
  RC_ASSERT(r.ok());
  RC_LOG() << replay::Describe(r.value()) << "\n";
  RC_ASSERT(!r->divergence.has_value());
  RC_ASSERT(r->epochs == rec.epochs);
  RC_ASSERT(r->spikes == rec.spikes[region].size());
}

// Regression (shrunk by the property above to a two-region brain): replaying one region alone
// reported every region's recorded spikes as compared, not only its own.
TEST(ExactRegression, RegionReplayCountsOnlyThatRegionsSpikes) {
  auto spec = LoadExample("tiny.json");
  TempDir dir;
  auto brain = RecordRun(spec, dir.File("run.trace"), 500);
  for (kernel::RegionId r = 0; r < spec->regions.size(); ++r) {
    const size_t recorded = brain->TakeSpikes(r).size();
    replay::ReplayOptions o;
    o.region = spec->regions[r].name;
    auto result = replay::Replay(dir.File("run.trace"), o);
    ASSERT_TRUE(result.ok()) << result.status().message();
    EXPECT_FALSE(result->divergence) << replay::Describe(result.value());
    EXPECT_EQ(result->spikes, recorded) << o.region;
  }
}

RC_GTEST_PROP(ExactProperties, ResumedAtAnyTickInAnyModeEqualsTheUninterruptedRun, ()) {
  auto spec = GenSmallBrain();
  const Tick until = spec->DurationTicks();
  const auto inputs = GenApiInputs(*spec, until);
  const Tick split = Uniform<Tick>(0, until + 1);
  const Mode writer = GenMode(spec->regions.size(), true);
  const Mode resumer = GenMode(spec->regions.size(), true);
  const bool via_file = *rc::gen::arbitrary<bool>();
  RC_LOG() << "split " << split << ", " << ToString(writer) << " -> " << ToString(resumer)
           << (via_file ? " via a file" : " via Encode/Decode") << "\n";
  for (const ApiInput& in : inputs) RC_LOG() << in << "\n";
  const Outcome straight = RunSequential(spec, inputs);

  TempDir dir;
  auto first = Create(spec, writer);
  RunWithInputs(*first, inputs, split);
  auto before = TakeAllSpikes(*first);
  std::unique_ptr<Brain> resumed;
  kernel::RunOptions ro = OptionsFor(resumer);
  if (via_file) {
    RC_ASSERT(recorder::SaveCheckpoint(*first, dir.File("c.thck")).ok());
    RC_ASSERT(first->Shutdown().ok());
    auto b = recorder::ResumeBrain(dir.File("c.thck"), ro);
    if (!b.ok()) RC_FAIL(b.status().message());
    resumed = std::move(b).value();
  } else {
    auto c = recorder::CaptureCheckpoint(*first);
    RC_ASSERT(c.ok());
    RC_ASSERT(first->Shutdown().ok());
    auto bytes = recorder::EncodeCheckpoint(c.value());
    RC_ASSERT(bytes.ok());
    auto back = recorder::DecodeCheckpoint(bytes.value(), "memory");
    RC_ASSERT(back.ok());
    auto b = recorder::ResumeBrain(back.value(), ro);
    if (!b.ok()) RC_FAIL(b.status().message());
    resumed = std::move(b).value();
  }
  first.reset();
  RC_ASSERT(resumed->tick() == split);
  RunWithInputs(*resumed, inputs, until);
  Outcome joined = Finish(*resumed);
  for (size_t r = 0; r < joined.spikes.size(); ++r)
    joined.spikes[r].insert(joined.spikes[r].begin(), before[r].begin(), before[r].end());
  AssertSame(straight, joined);
  RC_ASSERT(NoChildLeft());
}

}  // namespace
}  // namespace thalia::testing
