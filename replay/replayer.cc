// Replay, in order: open the trace and rebuild the configuration from its header; build the brain
// (or the one region) in this process; then per recorded batch: feed its inputs, run exactly its
// ticks [t0, t1), compare spikes, digests and modulator state; stop at the first divergence.
#include "replay/replayer.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "kernel/brain.h"
#include "kernel/registry.h"
#include "kernel/routing.h"
#include "kernel/state_codec.h"
#include "replay/probe.h"
#include "recorder/checkpoint.h"
#include "replay/replay_start.h"

extern "C" __attribute__((noinline, used)) void thalia_replay_break(uint64_t epoch) {
  // The asm keeps the call from being folded away even though it does nothing.
  asm volatile("" : : "r"(epoch) : "memory");
}

namespace thalia::replay {
namespace {

using kernel::RegionId;
using kernel::Spike;
using recorder::DecodedRecord;
using recorder::RecordKind;
using recorder::TraceBatch;
using recorder::TraceReader;

std::string Hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof(b), "%016" PRIx64, v);
  return b;
}

std::string SpikeText(const std::optional<Spike>& s) {
  if (!s) return "no spike";
  return "spike (tick " + std::to_string(s->tick) + ", neuron " + std::to_string(s->neuron) + ")";
}

// The first difference between one region's recorded and replayed epoch, if any.
std::optional<Divergence> CompareRegion(const TraceBatch& b, RegionId r, const std::string& name,
                                        const std::vector<Spike>& got, uint64_t got_digest) {
  const std::vector<Spike>& want = b.spikes[r];
  Divergence d;
  d.epoch = b.epoch;
  d.t0 = b.t0;
  d.t1 = b.t1;
  d.region = name;
  d.expected_digest = b.digests[r];
  d.got_digest = got_digest;
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  if (i < want.size() || i < got.size()) {
    if (i < want.size()) d.expected = want[i];
    if (i < got.size()) d.got = got[i];
    d.tick = std::min(d.expected ? d.expected->tick : b.t1, d.got ? d.got->tick : b.t1);
    return d;
  }
  if (got_digest != b.digests[r]) {
    d.tick = b.t1;
    return d;
  }
  return std::nullopt;
}

// Keeps the earlier divergence: lower tick first; on a tie the one found first (lower region id).
void KeepFirst(std::optional<Divergence>* best, std::optional<Divergence> d) {
  if (d && (!*best || d->tick < (*best)->tick)) *best = std::move(d);
}

Result<std::shared_ptr<const kernel::BrainSpec>> SpecFromHeader(const TraceReader& reader,
                                                                bool from_checkpoint) {
  const recorder::TraceHeaderInfo& h = reader.header();
  if (!from_checkpoint && (!h.checkpoint.path.empty() || h.first_epoch != 0))
    return Status::Invalid(reader.path() + ": the trace starts at epoch " + std::to_string(h.first_epoch) +
                           (h.checkpoint.path.empty() ? "" : " from checkpoint " + h.checkpoint.path) +
                           "; replaying it needs that checkpoint, which this replay cannot load yet");
  auto spec = kernel::ResolveBrainSpec(h.config, reader.path() + " (trace header)");
  if (!spec.ok()) return spec.status();
  const kernel::BrainSpec& s = *spec.value();
  bool same = s.regions.size() == h.region_sizes.size() && s.epoch_ticks == h.epoch_ticks &&
              s.dt_ms == h.dt_ms && s.seed == h.seed;
  for (size_t r = 0; same && r < s.regions.size(); ++r)
    same = s.regions[r].size == h.region_sizes[r] && s.regions[r].name == h.region_names[r];
  if (!same)
    return Status::Corrupt(reader.path() + ": the trace header's regions, seed or epoch length do "
                           "not match its own configuration");
  return spec;
}

// Reads the batches in order and hands each to `run` (which compares it); handles marks,
// --until and --break-at. `run` returns a divergence to stop at.
// Batches before `start` (a checkpoint's epoch at `start_tick`) are skipped.
template <typename Run>
Status ForEachBatch(TraceReader& reader, const kernel::BrainSpec& spec, const ReplayOptions& o,
                    ReplayResult* result, const ReplayStart* start, Run run) {
  DecodedRecord rec;
  while (true) {
    auto more = reader.Next(&rec);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    if (rec.kind == RecordKind::kMark) {
      ++result->checkpoint_marks;
      continue;
    }
    const TraceBatch& b = rec.batch;
    if (start && b.epoch < start->checkpoint.state.epoch) continue;
    if (start && b.epoch == start->checkpoint.state.epoch && b.t0 != start->checkpoint.state.tick)
      return Status::Invalid(start->path + " holds tick " + std::to_string(start->checkpoint.state.tick) +
                             " at epoch " + std::to_string(b.epoch) + ", the trace tick " + std::to_string(b.t0));
    if (o.until_epoch && b.epoch > *o.until_epoch) {
      result->stopped_early = true;
      return Status::Ok();
    }
    if (b.t1 - b.t0 > spec.epoch_ticks)
      return Status::Corrupt(reader.path() + ": epoch " + std::to_string(b.epoch) +
                             " is longer than the configuration's epoch length");
    if (o.break_at_epoch && b.epoch == *o.break_at_epoch) thalia_replay_break(b.epoch);
    auto d = run(b);
    if (!d.ok()) return d.status();
    ++result->epochs;
    // Only the spikes compared count: those of the one region replayed alone, if one is.
    const int only = o.region.empty() ? -1 : spec.RegionIndex(o.region);
    for (size_t r = 0; r < b.spikes.size(); ++r)
      if (only < 0 || static_cast<size_t>(only) == r) result->spikes += b.spikes[r].size();
    if (d.value()) {
      result->divergence = std::move(d.value());
      return Status::Ok();
    }
  }
  result->trace_complete = reader.complete();
  result->trace_end = reader.end_reason();
  return Status::Ok();
}

// Feeds a brain the recorded inputs of the current batch and compares what it did.
class BatchFeed final : public kernel::EpochInputSource, public kernel::EpochObserver {
 public:
  explicit BatchFeed(const kernel::BrainSpec& spec) : spec_(spec) {}
  void Set(const TraceBatch* b) {
    batch_ = b;
    divergence_.reset();
  }
  Status EpochInputs(kernel::EpochBegin* begin) override {
    if (!batch_ || begin->epoch != batch_->epoch || begin->t0 != batch_->t0 || begin->t1 != batch_->t1)
      return Status::Internal("replay ran an epoch the trace does not hold");
    begin->events = batch_->events;
    begin->external = batch_->external;
    begin->full_digest = batch_->full_digest;
    return Status::Ok();
  }
  Status OnEpoch(const kernel::EpochBegin& begin, const kernel::EpochDone& done) override {
    if (!(begin.modulators == batch_->modulators)) {
      Divergence d;
      d.epoch = batch_->epoch;
      d.t0 = batch_->t0;
      d.t1 = batch_->t1;
      d.region = "modulators";
      d.tick = batch_->t0;
      divergence_ = d;
    }
    for (RegionId r = 0; r < done.regions.size() && !divergence_; ++r)
      KeepFirst(&divergence_, CompareRegion(*batch_, r, spec_.regions[r].name, done.regions[r].spikes,
                                            done.regions[r].digest));
    if (divergence_) return Status::Error(ErrorKind::kDiverged, "diverged");
    return Status::Ok();
  }
  std::optional<Divergence>& divergence() { return divergence_; }

 private:
  const kernel::BrainSpec& spec_;
  const TraceBatch* batch_ = nullptr;
  std::optional<Divergence> divergence_;
};

Status ReplayBrain(TraceReader& reader, std::shared_ptr<const kernel::BrainSpec> spec,
                   const ReplayOptions& o, ReplayResult* result, const ReplayStart* start) {
  kernel::RunOptions run;
  run.workers = 0;
  run.executor = "inproc";
  auto brain_or = start ? recorder::ResumeBrain(start->checkpoint, run) : kernel::Brain::Create(spec, run);
  if (!brain_or.ok()) return brain_or.status();
  kernel::Brain& brain = *brain_or.value();
  if (!o.perturb_region.empty()) {
    int r = spec->RegionIndex(o.perturb_region);
    if (r < 0) return Status::Invalid("no region '" + o.perturb_region + "' in the trace's configuration");
    THALIA_RETURN_IF_ERROR(brain.PerturbWeightForTest(static_cast<RegionId>(r), o.perturb_delta));
  }
  BatchFeed feed(*spec);
  brain.SetInputSource(&feed);
  brain.AddObserver(&feed);
  return ForEachBatch(reader, *spec, o, result, start, [&](const TraceBatch& b) -> Result<std::optional<Divergence>> {
    feed.Set(&b);
    Status st = brain.RunUntil(b.t1);
    if (feed.divergence()) return feed.divergence();
    if (!st.ok()) return st;
    return std::optional<Divergence>();
  });
}

Status ReplayRegion(TraceReader& reader, std::shared_ptr<const kernel::BrainSpec> spec,
                    RegionId r, const ReplayOptions& o, ReplayResult* result, const ReplayStart* start) {
  std::unique_ptr<kernel::Region> region = kernel::BuildRegion(*spec, r);
  // A checkpoint's spikes in flight were handed to the regions when it was captured, so the
  // region's own state is all it needs.
  if (start) THALIA_RETURN_IF_ERROR(kernel::LoadRegionState(*region, start->checkpoint.state.regions[r]));
  if (!o.perturb_region.empty()) {
    if (o.perturb_region != spec->regions[r].name)
      return Status::Invalid("--region replays only " + spec->regions[r].name + "; cannot perturb " +
                             o.perturb_region);
    if (!region->PerturbWeightForTest(o.perturb_delta)) return Status::Invalid("no weight to perturb");
  }
  const kernel::SpikeRouter router(*spec);
  const size_t n = spec->regions.size();
  std::vector<std::vector<kernel::InSpike>> inbound(n);  // routed from the previous batch
  std::vector<Spike> out;
  return ForEachBatch(reader, *spec, o, result, start, [&](const TraceBatch& b) -> Result<std::optional<Divergence>> {
    kernel::EpochContext ctx{b.epoch, b.t0, b.t1, b.modulators, b.events};
    out.clear();
    region->Advance(ctx, inbound[r], b.external[r], &out);
    auto d = CompareRegion(b, r, spec->regions[r].name, out, region->Digest(b.full_digest));
    for (auto& v : inbound) v.clear();
    router.Route(b.spikes, &inbound);
    return d;
  });
}

// The regions a probed replay runs (null: not run) and the probes of each (null: none), loaded
// from the checkpoint it starts at, if any.
struct ProbedRegions {
  std::vector<std::unique_ptr<kernel::Region>> regions;
  std::vector<std::unique_ptr<RegionProbe>> probes;
};

Status BuildProbedRegions(const kernel::BrainSpec& s, const ReplayOptions& o, const ReplayStart* start,
                          ProbeData* data, ProbedRegions* out) {
  if (o.probe_every == 0) return Status::Invalid("--probe-every: expected at least 1 tick");
  if (!o.region.empty() && s.RegionIndex(o.region) < 0)
    return Status::Invalid("no region '" + o.region + "' in the trace's configuration");
  std::vector<ProbeSpec> probes;
  for (const std::string& text : o.probes) {
    auto p = ParseProbe(text, s);
    if (!p.ok()) return p.status();
    if (!o.region.empty() && p->region != o.region)
      return Status::Invalid("--probe " + text + ": --region runs only " + o.region + ", not " + p->region);
    probes.push_back(std::move(p).value());
  }
  out->regions.resize(s.regions.size());
  out->probes.resize(s.regions.size());
  for (RegionId r = 0; r < s.regions.size(); ++r) {
    if (!o.region.empty() && s.regions[r].name != o.region) continue;
    out->regions[r] = kernel::BuildRegion(s, r);
    if (start) THALIA_RETURN_IF_ERROR(kernel::LoadRegionState(*out->regions[r], start->checkpoint.state.regions[r]));
    std::vector<const ProbeSpec*> mine;
    for (const ProbeSpec& p : probes) {
      if (p.region_id != r) continue;
      THALIA_RETURN_IF_ERROR(CheckProbeVars(p, *out->regions[r], s));
      mine.push_back(&p);
    }
    // RegionProbe copies what it needs from the specs.
    if (!mine.empty()) out->probes[r] = std::make_unique<RegionProbe>(mine, *out->regions[r], s, data);
  }
  if (!o.perturb_region.empty()) {
    const int r = s.RegionIndex(o.perturb_region);
    if (r < 0 || !out->regions[r]) return Status::Invalid("cannot perturb " + o.perturb_region + ": it does not run");
    if (!out->regions[r]->PerturbWeightForTest(o.perturb_delta)) return Status::Invalid("no weight to perturb");
  }
  data->dt_ms = s.dt_ms;
  return Status::Ok();
}

// Probed replay: each region that runs (all, or the --region one) is fed, as in ReplayRegion,
// with the inbound spikes rebuilt from the other regions' recorded output, and compared with the
// record; a probed region advances one tick at a time from the probe window's first epoch on.
Status ReplayProbed(TraceReader& reader, std::shared_ptr<const kernel::BrainSpec> spec,
                    const ReplayOptions& o, ReplayResult* result, const ReplayStart* start) {
  const kernel::BrainSpec& s = *spec;
  const size_t n = s.regions.size();
  ProbedRegions built;
  THALIA_RETURN_IF_ERROR(BuildProbedRegions(s, o, start, &result->probes, &built));
  auto& regions = built.regions;
  auto& probers = built.probes;
  const kernel::ModulatorModel model(s);
  const kernel::SpikeRouter router(s);
  std::vector<std::vector<kernel::InSpike>> inbound(n);  // routed from the previous batch
  std::vector<Spike> out;
  bool probing = false;
  const kernel::Tick window = o.from_ms ? kernel::MsToTicks(*o.from_ms, s.dt_ms) : 0;
  const kernel::Tick window_end = o.until_ms ? kernel::MsToTicks(*o.until_ms, s.dt_ms) : kernel::kMaxTick;
  auto sampled = [&](kernel::Tick t) { return t >= window && t < window_end && t % o.probe_every == 0; };
  return ForEachBatch(reader, s, o, result, start, [&](const TraceBatch& b) -> Result<std::optional<Divergence>> {
    probing = probing || !o.from_epoch || b.epoch >= *o.from_epoch;
    const kernel::EpochContext ctx{b.epoch, b.t0, b.t1, b.modulators, b.events};
    std::optional<Divergence> first;
    for (RegionId r = 0; r < n; ++r) {
      if (!regions[r]) continue;
      out.clear();
      if (probers[r] && probing) {
        AdvanceTickByTick(*regions[r], model, ctx, inbound[r], b.external[r], &out, [&](kernel::Tick t) {
          if (sampled(t)) probers[r]->Sample(*regions[r]);
        });
        auto later = std::lower_bound(out.begin(), out.end(), window,
                                      [](const Spike& sp, kernel::Tick t) { return sp.tick < t; });
        auto end = std::lower_bound(later, out.end(), window_end,
                                    [](const Spike& sp, kernel::Tick t) { return sp.tick < t; });
        probers[r]->NoteSpikes({later, end});
      } else {
        regions[r]->Advance(ctx, inbound[r], b.external[r], &out);
      }
      KeepFirst(&first, CompareRegion(b, r, s.regions[r].name, out, regions[r]->Digest(b.full_digest)));
    }
    if (probing)
      for (kernel::Tick t = b.t0; t < b.t1; ++t)
        if (sampled(t)) result->probes.ticks.push_back(t);
    for (auto& v : inbound) v.clear();
    router.Route(b.spikes, &inbound);
    return first;
  });
}

// --from/--until TIME: the epoch whose ticks hold `ms` (read from the trace's batches; epochs need not
// all be of the configured length).
Result<uint64_t> EpochAtTime(const std::string& trace_path, const recorder::TraceReaderOptions& ro, double ms,
                             const std::string& option) {
  auto reader = TraceReader::Open(trace_path, ro);
  if (!reader.ok()) return reader.status();
  const kernel::Tick tick = kernel::MsToTicks(ms, reader.value()->header().dt_ms);
  DecodedRecord rec;
  kernel::Tick end = 0;
  while (true) {
    auto more = reader.value()->Next(&rec);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    if (rec.kind != RecordKind::kBatch) continue;
    if (rec.batch.t0 <= tick && tick < rec.batch.t1) return rec.batch.epoch;
    end = rec.batch.t1;
  }
  return Status::Invalid(option + " " + std::to_string(ms) + " ms (tick " + std::to_string(tick) +
                         "): past the end of the trace, which ends at tick " + std::to_string(end));
}

}  // namespace

Result<ReplayResult> Replay(const std::string& trace_path, const ReplayOptions& given) {
  recorder::TraceReaderOptions ro;
  ro.strict = given.strict;
  ro.reporter = given.reporter;
  ReplayOptions options = given;
  if (options.from_ms) {
    auto epoch = EpochAtTime(trace_path, ro, *options.from_ms, "--from");
    if (!epoch.ok()) return epoch.status();
    options.from_epoch = epoch.value();
  }
  if (options.until_ms) {
    auto epoch = EpochAtTime(trace_path, ro, *options.until_ms, "--until");
    if (!epoch.ok()) return epoch.status();
    options.until_epoch = epoch.value();
  }
  auto reader = TraceReader::Open(trace_path, ro);
  if (!reader.ok()) return reader.status();
  auto start = FindReplayStart(trace_path, reader.value()->header(), options.from_epoch,
                               options.checkpoint_dir, ro);
  if (!start.ok()) return start.status();
  const ReplayStart* from = start->has_value() ? &start->value() : nullptr;
  auto spec = SpecFromHeader(*reader.value(), from != nullptr);
  if (!spec.ok()) return spec.status();
  ReplayResult result;
  if (from) {
    result.started_from = from->path;
    result.first_epoch = from->checkpoint.state.epoch;
  }
  Status st;
  if (!options.probes.empty()) {
    st = ReplayProbed(*reader.value(), spec.value(), options, &result, from);
  } else if (options.region.empty()) {
    st = ReplayBrain(*reader.value(), spec.value(), options, &result, from);
  } else {
    int r = spec.value()->RegionIndex(options.region);
    if (r < 0) return Status::Invalid("no region '" + options.region + "' in the trace's configuration");
    st = ReplayRegion(*reader.value(), spec.value(), static_cast<RegionId>(r), options, &result, from);
  }
  if (!st.ok()) return st;
  // --from past the trace's end (the epoch after its last, where a final checkpoint may stand)
  // had nothing to compare: say so, rather than "identical: 0 epochs".
  if (options.from_epoch && !result.divergence && !result.stopped_early &&
      *options.from_epoch > result.first_epoch + result.epochs) {
    return Status::Invalid("--from " + std::to_string(*options.from_epoch) + ": past the end of the trace" +
                           (result.trace_complete ? "" : "'s intact prefix") + ", epoch " +
                           std::to_string(result.first_epoch + result.epochs));
  }
  return result;
}

std::string Describe(const ReplayResult& r) {
  if (r.divergence) {
    const Divergence& d = *r.divergence;
    std::string s = "diverged at epoch " + std::to_string(d.epoch) + " (ticks " + std::to_string(d.t0) +
                    ".." + std::to_string(d.t1) + "), region " + d.region;
    if (d.region == "modulators") return s + ": the modulator state at the epoch's start differs";
    s += ", tick " + std::to_string(d.tick) + ": ";
    if (d.expected || d.got)
      s += "expected " + SpikeText(d.expected) + ", got " + SpikeText(d.got) + "; ";
    else
      s += "same spikes; ";
    return s + "digest expected " + Hex(d.expected_digest) + ", got " + Hex(d.got_digest);
  }
  std::string s = "identical: " + std::to_string(r.epochs) + " epochs, " + std::to_string(r.spikes) +
                  " spikes and every digest as recorded";
  if (r.stopped_early) return s + " (stopped at --until)";
  if (r.trace_complete) return s + " (trace complete)";
  return s + " (trace not complete, verdict on its intact prefix: " + r.trace_end + ")";
}

Status ToStatus(const ReplayResult& r) {
  if (r.divergence) return Status::Error(ErrorKind::kDiverged, Describe(r));
  return Status::Ok();
}

}  // namespace thalia::replay
