// A checkpoint is written between slices of the run loop, at the exact tick it is due (the loop
// stops there); the kernel's results do not depend on where epochs are cut.
#include "tools/run_checkpoint.h"

#include <cstdio>

#include "kernel/digest.h"
#include "kernel/spec.h"

namespace thalia::tools {

void AddCheckpointOptions(Args& args) {
  args.Option("resume", "CHECKPOINT", "continue the run saved in a checkpoint (instead of CONFIG)");
  args.Option("checkpoint-every", "DURATION", "write a checkpoint every DURATION of simulated time");
  args.Option("checkpoint-dir", "DIR", "folder of the checkpoints (DIR/ckpt-<epoch>.thck)");
  args.Option("keep", "K", "keep only the newest K checkpoints (default: all)");
}

Result<std::optional<ResumePoint>> LoadResumePoint(const Args& args) {
  if (!args.Has("resume")) return std::optional<ResumePoint>();
  if (!args.positionals().empty())
    return Status::Invalid("give either CONFIG or --resume CHECKPOINT, not both");
  if (args.Has("seed"))
    return Status::Invalid("--seed cannot change a resumed run: the checkpoint holds its seed");
  ResumePoint p;
  p.path = args.Get("resume");
  auto c = recorder::ReadCheckpointFile(p.path);
  if (!c.ok()) return c.status();
  p.checkpoint = std::move(c).value();
  auto spec = kernel::ResolveBrainSpec(p.checkpoint.config, p.path);
  if (!spec.ok()) return spec.status().Context("the configuration inside " + p.path);
  p.spec = spec.value();
  return std::optional<ResumePoint>(std::move(p));
}

Result<RunCheckpointer> RunCheckpointer::FromArgs(const Args& args, const kernel::BrainSpec& spec) {
  RunCheckpointer c;
  const bool every = args.Has("checkpoint-every"), dir = args.Has("checkpoint-dir");
  if (!every && !dir) {
    if (args.Has("keep")) return Status::Invalid("--keep needs --checkpoint-every and --checkpoint-dir");
    return c;
  }
  if (every != dir) return Status::Invalid("--checkpoint-every and --checkpoint-dir go together");
  auto parsed = ParseDurationTicks(args.Get("checkpoint-every"), spec.dt_ms);
  if (!parsed.ok()) return parsed.status().Context("--checkpoint-every");
  const kernel::Tick ticks = parsed.value();
  if (ticks == 0)
    return Status::Invalid("--checkpoint-every: " + args.Get("checkpoint-every") + " is shorter than one tick");
  auto keep = args.GetUint("keep", 0);
  if (!keep.ok()) return keep.status();
  if (args.Has("keep") && keep.value() == 0) return Status::Invalid("--keep: expected at least 1");
  if (keep.value() > 1000000) return Status::Invalid("--keep: expected at most 1000000");
  auto series = recorder::CheckpointSeries::Open(args.Get("checkpoint-dir"), ticks,
                                                 static_cast<uint32_t>(keep.value()), spec);
  if (!series.ok()) return series.status();
  c.series_.emplace(std::move(series).value());
  return c;
}

kernel::Tick RunCheckpointer::NextStop(kernel::Tick tick, kernel::Tick until) const {
  if (!series_) return until;
  return std::min(until, series_->NextDue(tick));
}

Status RunCheckpointer::AfterSlice(kernel::Brain& brain) {
  if (!series_ || brain.tick() % series_->every() != 0) return Status::Ok();
  return Write(brain);
}

Status RunCheckpointer::Final(kernel::Brain& brain) {
  if (!series_) return Status::Ok();
  if (brain.tick() != last_tick_) THALIA_RETURN_IF_ERROR(Write(brain));
  return series_->Wait();
}

Status RunCheckpointer::Write(kernel::Brain& brain) {
  if (brain.tick() == last_tick_) return Status::Ok();
  recorder::TracePosition position;
  if (trace_) position = {trace_->path(), trace_->stats().epochs};
  // --profile: the capture on this thread (the file is written in the background).
  kernel::Profiler* profiler = brain.profiler();
  const uint64_t epoch = brain.epoch(), start = profiler ? kernel::ProfileNow() : 0;
  const uint64_t mark = profiler ? profiler->mark() : 0;
  auto saved = series_->Save(brain, position);
  if (profiler && profiler->active())
    profiler->AddAround(kernel::SpanKind::kCheckpoint, epoch, start, kernel::ProfileNow(), mark);
  if (!saved.ok()) return saved.status();
  last_tick_ = brain.tick();
  last_path_ = saved->path;
  if (trace_) THALIA_RETURN_IF_ERROR(trace_->MarkCheckpoint(saved->epoch, saved->tick, saved->path, saved->digest));
  return Status::Ok();
}

recorder::TraceWriterOptions TraceOptionsFor(const std::optional<ResumePoint>& resume) {
  recorder::TraceWriterOptions o;
  if (resume) {
    const recorder::Checkpoint& c = resume->checkpoint;
    o.from_checkpoint = {resume->path, c.state.epoch, c.state.tick, kernel::CombineDigests(c.digests)};
  }
  return o;
}

std::string RunCheckpointer::ResumeHint(const std::string& until_args) {
  if (!series_) return "";
  (void)series_->Wait();  // its error, if any, is the run's already or superseded by it
  auto list = recorder::ListCheckpoints(series_->dir());
  if (!list.ok() || list->empty()) return "";
  return "; continue from its newest checkpoint: thalia run --resume " + list->back().path + until_args;
}

}  // namespace thalia::tools
