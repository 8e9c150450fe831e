// `thalia replay TRACE`: re-runs a recorded run in this process and compares it epoch by epoch.
// Exit 0 with a one-line verdict when identical, 3 when diverged, 2 when the trace is unusable.
// With --probe, also writes the probed variables (CSV, or an SVG plot) to --probe-out.
#include <cstdio>
#include <optional>
#include <string>

#include "replay/probe_output.h"
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

// A number is an epoch; a duration with a unit (93min, 1.5s) is a time in the run.
struct EpochOrTimeValue {
  uint64_t epoch = 0;
  std::optional<double> ms;
};
Result<EpochOrTimeValue> EpochOrTime(const Args& args, const std::string& name) {
  const std::string text = args.Get(name);
  EpochOrTimeValue v;
  if (!text.empty() && text.find_first_not_of("0123456789") != std::string::npos) {
    auto ms = ParseDurationMs(text);
    if (!ms.ok())
      return Status::Invalid("--" + name + ": expected an epoch (120) or a time (93min, 1.5s); " + ms.status().message());
    v.ms = ms.value();
    return v;
  }
  auto e = args.GetUint(name, 0);
  if (!e.ok()) return e.status();
  v.epoch = e.value();
  return v;
}

}  // namespace

int ReplayCommand(int argc, char** argv) {
  Args args("thalia replay TRACE [options]",
            "Rebuilds the brain from the trace's header, runs it sequentially in this process with the\n"
            "recorded epochs, modulator events and external inputs, and compares every epoch's spikes\n"
            "and digests with the record. Exit status: 0 identical, 3 diverged (the first epoch, region,\n"
            "tick, differing spike and digests are printed), 2 unusable trace. A trace cut short by a\n"
            "crash is replayed up to its last intact epoch.\n\n"
            "Probes recompute any state variable of any neuron from the trace, tick by tick:\n"
            "  --probe cortex:0-9:v,syn_e --probe pfc:17:v --probe-out probe.csv (or probe.svg)\n"
            "NEURONS: 17, 0-99, a population name (L5) or a comma list; VARS: see thalia regions --vars.\n"
            "VARS may include w_in, the weights onto each probed neuron through plastic pathways: one\n"
            "column per synapse, REGION:NEURON:w_in[src=SOURCE_REGION:SOURCE_NEURON] (#2, #3 for more\n"
            "synapses from one source neuron); w_in.SOURCE keeps the pathways from SOURCE (a region or\n"
            "region.population), e.g. --probe striatum:0-3:w_in.cortex.\n"
            "With --from the probe starts at that epoch (replay starts at a checkpoint before it).");
  args.Positional("TRACE", "trace file written by thalia run --record");
  args.Option("region", "NAME", "replay this region alone, fed with the other regions' recorded spikes");
  args.Option("until", "EPOCH|TIME", "stop after this epoch, or after the epoch holding TIME (probes end before TIME)");
  args.Option("break-at", "EPOCH",
              "call thalia_replay_break(EPOCH) before running this epoch (a debugger breakpoint)");
  args.Option("from", "EPOCH|TIME",
              "start at the nearest checkpoint at or before EPOCH, or the epoch holding TIME (e.g. 93min)\n"
              "                          (checkpoints: the trace's marks, or --checkpoint-dir)");
  args.Option("checkpoint-dir", "DIR", "with --from: also look for checkpoints in DIR");
  args.Repeated("probe", "REGION:NEURONS:VARS", "record these variables of these neurons after every tick");
  args.Option("probe-out", "FILE", "where the probes go: CSV, or an SVG plot when FILE ends in .svg");
  args.Option("probe-every", "TICKS", "sample the probes every TICKS ticks (ticks that are multiples of it; default 1)");
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
    auto e = EpochOrTime(args, "until");
    if (!e.ok()) return Fail(e.status());
    if (e->ms) o.until_ms = e->ms; else o.until_epoch = e->epoch;
  }
  if (args.Has("break-at")) {
    auto e = args.GetUint("break-at", 0);
    if (!e.ok()) return Fail(e.status());
    o.break_at_epoch = e.value();
  }
  if (args.Has("from")) {
    auto e = EpochOrTime(args, "from");
    if (!e.ok()) return Fail(e.status());
    if (e->ms) o.from_ms = e->ms; else o.from_epoch = e->epoch;
  }
  o.checkpoint_dir = args.Get("checkpoint-dir");
  if (!o.checkpoint_dir.empty() && !o.from_epoch && !o.from_ms) return Fail(Status::Invalid("--checkpoint-dir goes with --from EPOCH"));
  o.probes = args.GetAll("probe");
  const std::string probe_out = args.Get("probe-out");
  if (o.probes.empty() && (!probe_out.empty() || args.Has("probe-every")))
    return Fail(Status::Invalid("--probe-out and --probe-every go with --probe REGION:NEURONS:VARS"));
  if (!o.probes.empty() && probe_out.empty()) return Fail(Status::Invalid("--probe needs --probe-out FILE (.csv or .svg)"));
  if (args.Has("probe-every")) {
    auto e = args.GetUint("probe-every", 1);
    if (!e.ok()) return Fail(e.status());
    if (e.value() == 0) return Fail(Status::Invalid("--probe-every: expected at least 1 tick, got 0"));
    o.probe_every = e.value();
  }
  auto r = replay::Replay(args.positionals()[0], o);
  if (!r.ok()) return Fail(r.status());
  if (!o.probes.empty()) {
    // Written even when the replay diverged: the values up to the divergence are what a user
    // looks at next.
    if (Status st = replay::WriteProbeFile(r->probes, probe_out); !st.ok()) return Fail(st);
    std::fprintf(stderr, "thalia replay: %zu probed series, %zu samples each, written to %s\n", r->probes.series.size(),
                 r->probes.ticks.size(), probe_out.c_str());
  }
  if (!r->started_from.empty())
    std::fprintf(stderr, "thalia replay: starting from checkpoint %s (epoch %llu)\n", r->started_from.c_str(),
                 static_cast<unsigned long long>(r->first_epoch));
  Status verdict = replay::ToStatus(r.value());
  if (!verdict.ok()) {
    std::printf("%s\n", verdict.message().c_str());
    return verdict.ExitCode();
  }
  std::printf("%s\n", replay::Describe(r.value()).c_str());
  return 0;
}

}  // namespace thalia::tools
