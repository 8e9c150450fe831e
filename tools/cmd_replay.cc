// `thalia replay TRACE`: re-runs a recorded run in this process and compares it epoch by epoch.
// Exit 0 with a one-line verdict when identical, 3 when diverged, 2 when the trace is unusable.
#include <cstdio>

#include "replay/replayer.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace thalia::tools {
namespace {

int Fail(const Status& st) {
  std::fprintf(stderr, "thalia replay: %s\n", st.message().c_str());
  return st.ExitCode();
}

class StderrReporter final : public recorder::TraceReporter {
 public:
  void Dropped(uint64_t offset, uint64_t bytes, const std::string& reason) override {
    std::fprintf(stderr, "thalia replay: trace tail dropped: %llu bytes from byte %llu (%s)\n",
                 static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(offset), reason.c_str());
  }
};

}  // namespace

int ReplayCommand(int argc, char** argv) {
  Args args("thalia replay TRACE [options]",
            "Rebuilds the brain from the trace's header, runs it sequentially in this process with the\n"
            "recorded epochs, modulator events and external inputs, and compares every epoch's spikes\n"
            "and digests with the record. Exit status: 0 identical, 3 diverged (the first epoch, region,\n"
            "tick, differing spike and digests are printed), 2 unusable trace. A trace cut short by a\n"
            "crash is replayed up to its last intact epoch.");
  args.Positional("TRACE", "trace file written by thalia run --record");
  args.Option("region", "NAME", "replay this region alone, fed with the other regions' recorded spikes");
  args.Option("until", "EPOCH", "stop after this epoch");
  args.Option("break-at", "EPOCH",
              "call thalia_replay_break(EPOCH) before running this epoch (a debugger breakpoint)");
  args.Option("from", "EPOCH", "start at the nearest checkpoint at or before EPOCH (needs checkpoints)");
  args.Flag("lenient", "replay the intact prefix of a corrupt trace instead of refusing it");
  args.Option("perturb-weight-for-test", "REGION", "change one weight of REGION first (tests a divergence)");
  if (Status st = args.Parse(argc, argv); !st.ok()) return Fail(st);
  if (args.help()) {
    std::printf("%s", args.Help().c_str());
    return 0;
  }
  replay::ReplayOptions o;
  StderrReporter reporter;
  o.reporter = &reporter;
  o.region = args.Get("region");
  o.strict = !args.Has("lenient");
  o.perturb_region = args.Get("perturb-weight-for-test");
  if (args.Has("until")) {
    auto e = args.GetUint("until", 0);
    if (!e.ok()) return Fail(e.status());
    o.until_epoch = e.value();
  }
  if (args.Has("break-at")) {
    auto e = args.GetUint("break-at", 0);
    if (!e.ok()) return Fail(e.status());
    o.break_at_epoch = e.value();
  }
  if (args.Has("from"))
    return Fail(Status::Invalid("--from needs checkpoints, which this build cannot load yet; replay "
                                "from the start with --break-at EPOCH instead"));
  auto r = replay::Replay(args.positionals()[0], o);
  if (!r.ok()) return Fail(r.status());
  Status verdict = replay::ToStatus(r.value());
  if (!verdict.ok()) {
    std::printf("%s\n", verdict.message().c_str());
    return verdict.ExitCode();
  }
  std::printf("%s\n", replay::Describe(r.value()).c_str());
  return 0;
}

}  // namespace thalia::tools
