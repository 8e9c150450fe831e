// `thalia checkpoint info CHECKPOINT`: what a checkpoint holds (run, time, regions, digests),
// after the same checks a resume makes; --verify also loads it into a brain.
#include <cstdio>

#include "kernel/digest.h"
#include "kernel/spec.h"
#include "recorder/checkpoint.h"
#include "recorder/checkpoint_format.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/run_report.h"

namespace thalia::tools {
namespace {

int Fail(const Status& st) {
  std::fprintf(stderr, "thalia checkpoint: %s\n", st.message().c_str());
  return st.ExitCode();
}

void PrintInfo(const std::string& path, const recorder::Checkpoint& c, const kernel::BrainSpec& spec) {
  const kernel::BrainState& s = c.state;
  std::printf("checkpoint   %s\n", path.c_str());
  std::printf("format       version %u\n", c.format_version);
  std::printf("brain        %s (seed %llu, dt %g ms, epoch %llu ticks)\n", spec.name.c_str(),
              static_cast<unsigned long long>(c.seed), spec.dt_ms,
              static_cast<unsigned long long>(spec.epoch_ticks));
  std::printf("time         tick %llu (%g ms), epoch %llu\n", static_cast<unsigned long long>(s.tick),
              kernel::TicksToMs(s.tick, spec.dt_ms), static_cast<unsigned long long>(s.epoch));
  // The executor's name says how it ran ("inproc", "socket/fork, 2 workers"); any can resume it.
  std::printf("written by   %s\n", c.executor.c_str());
  std::printf("modulators   dopamine %g, acetylcholine %g, noradrenaline %g (levels at their last change)\n",
              s.modulators.level[0], s.modulators.level[1], s.modulators.level[2]);
  std::printf("pending      %zu modulator event(s) from the API\n", s.pending_events.size());
  if (c.trace.path.empty())
    std::printf("trace        none\n");
  else
    std::printf("trace        %s (%llu epochs recorded)\n", c.trace.path.c_str(),
                static_cast<unsigned long long>(c.trace.epochs_recorded));
  std::printf("\n%-14s %12s %10s %10s  %s\n", "region", "state bytes", "in flight", "inputs", "digest");
  for (size_t r = 0; r < c.region_names.size(); ++r)
    std::printf("%-14s %12zu %10zu %10zu  %s\n", c.region_names[r].c_str(), s.regions[r].size(),
                s.in_flight[r].size(), s.pending_external[r].size(), Hex64(c.digests[r]).c_str());
  std::printf("digest %s\n", Hex64(kernel::CombineDigests(c.digests)).c_str());
}

int Info(const Args& args) {
  const std::string path = args.positionals()[1];
  auto c = recorder::ReadCheckpointFile(path);
  if (!c.ok()) return Fail(c.status());
  auto spec = kernel::ResolveBrainSpec(c.value().config, path);
  if (!spec.ok()) return Fail(spec.status().Context("the configuration inside " + path));
  PrintInfo(path, c.value(), *spec.value());
  if (args.Has("verify")) {
    kernel::RunOptions o;
    o.workers = 0;
    auto brain = recorder::ResumeBrain(c.value(), o);
    if (!brain.ok()) return Fail(brain.status().Context(path));
    std::printf("verified: the state loads and reproduces every region's digest\n");
  }
  return 0;
}

}  // namespace

int CheckpointCommand(int argc, char** argv) {
  Args args("thalia checkpoint info CHECKPOINT [--verify]",
            "Shows what a checkpoint (.thck, written by `thalia run --checkpoint-every`) holds: the\n"
            "run it belongs to, its time and epoch, each region's state size, spikes in flight and\n"
            "pending inputs, and the digests a resumed run starts from. A damaged, truncated or\n"
            "other-version file is refused with exit status 2.");
  args.Positional("ACTION", "info");
  args.Positional("CHECKPOINT", "checkpoint file");
  args.Flag("verify", "also load the state into a brain and check its digests");
  if (Status st = args.Parse(argc, argv); !st.ok()) return Fail(st);
  if (args.help()) {
    std::printf("%s", args.Help().c_str());
    return 0;
  }
  if (args.positionals()[0] != "info")
    return Fail(Status::Invalid("unknown action '" + args.positionals()[0] + "': expected info (see --help)"));
  return Info(args);
}

}  // namespace thalia::tools
