// `thalia run`: builds a brain from a configuration, runs it with progress on a terminal, and
// ends with per-region counts and one line `digest <16 hex digits>`.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kernel/brain.h"
#include "kernel/profile.h"
#include "kernel/registry.h"
#include "recorder/checkpoint_format.h"
#include "recorder/trace_format.h"
#include "recorder/trace_writer.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/run_checkpoint.h"
#include "tools/run_report.h"
#include "transport/install.h"

namespace thalia::tools {
namespace {

std::atomic<int> g_stop_signal{0};
void OnStopSignal(int sig) { g_stop_signal.store(sig); }

int Fail(const Status& st) {
  std::fprintf(stderr, "thalia run: %s\n", st.message().c_str());
  return st.ExitCode();
}

// A trace or checkpoint given where a configuration belongs gets a pointer to the right
// command, not a JSON parse error.
Status NotARecording(const std::string& path) {
  char head[8] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in.read(head, sizeof head)) return Status::Ok();  // short or unreadable: the loader says
  if (std::equal(head, head + 8, recorder::kFileMagic))
    return Status::Invalid(path + " is a thalia trace, not a configuration: thalia replay " + path +
                           " replays it, thalia trace info " + path + " describes it");
  if (std::equal(head, head + 8, recorder::kCheckpointMagic))
    return Status::Invalid(path + " is a thalia checkpoint, not a configuration: thalia run --resume " + path +
                           " continues it");
  return Status::Ok();
}

// Whether a file can be created at `path`: its folder exists and is writable.
Status CheckWritableFolder(const std::string& path) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  const std::string dir = folder.empty() ? "." : folder.string();
  if (::access(dir.c_str(), W_OK) != 0)
    return Status::Invalid(path + ": cannot write in folder " + dir + ": " + std::strerror(errno));
  return Status::Ok();
}

// On stderr: where the profile went, and whether its span limit cut it short.
void ReportProfile(kernel::Brain& brain, const Status& written) {
  const kernel::Profiler* p = brain.profiler();
  if (!p) return;
  if (!written.ok()) {
    std::fprintf(stderr, "thalia run: %s\n", written.message().c_str());
    return;
  }
  std::fprintf(stderr, "profile %s: %llu spans\n", p->path().c_str(), static_cast<unsigned long long>(p->spans()));
  if (p->stopped())
    std::fprintf(stderr, "profile %s: the limit of spans was reached; the timeline stops at epoch %llu\n",
                 p->path().c_str(), static_cast<unsigned long long>(p->stopped_at_epoch()));
}

}  // namespace

int RunCommand(int argc, char** argv) {
  Args args("thalia run CONFIG [options]  |  thalia run --resume CHECKPOINT [options]",
            "Runs a brain configuration (JSON, see schemas/config.fbs) and prints per-region spike\n"
            "counts and rates, then one line 'digest <16 hex digits>': the combined digest of every\n"
            "region's state at the end, identical in every execution mode.");
  args.Positional("CONFIG", "brain configuration (JSON); not with --resume", false);
  args.Option("until", "DURATION", "simulated time to run to, e.g. 500ms or 2s (default: the config's)");
  args.Option("seed", "N", "override the configuration's seed");
  args.Option("workers", "N", "worker processes; 0 runs in this process (default: the config's). More workers than regions\n"
              "split the costliest regions into parts, one per worker, where a region has at least 256 neurons\n"
              "per part and no internal delay under 5 ticks (else fewer workers run); same results for any split");
  args.Option("threads", "N|auto", "threads per process (in this process, or in each worker): in this process whole regions run\n"
              "side by side and the costliest are split into as many shards, in a worker each region is split;\n"
              "same results for any number (default: the config's, 1; auto: the cores each process may use)");
  args.Option("launch", "fork|spawn", "how workers start (default fork)");
  args.Option("executor", "inproc|socket|mpi", "how regions run (default: inproc for 0 workers; mpi: under mpirun, see README)");
  args.Option("placement", "W,W,...", "worker of each region, in configuration order; W+W+... splits that region into parts\n"
              "of about equal cost on those workers, in neuron order (e.g. 0,1+2,0: the second region on workers 1 and 2)");
  args.Option("exchange", "direct|star",
              "workers send each other the spikes they have targets for and the coordinator runs an epoch\n"
              "ahead (direct: the default under --executor mpi and for forked worker processes), or every\n"
              "spike goes through the coordinator (star: the default with --launch spawn or\n"
              "--coordinator-share, which direct does not support); same results");
  args.Flag("coordinator-share", "run worker 0's regions in this process instead of a worker process");
  args.Option("hang-timeout", "DURATION", "a worker silent this long in one request is declared hung and the run fails (default: the config's, 30s)");
  args.Option("record", "TRACE", "record every epoch to TRACE (see thalia replay, thalia trace)");
  args.Option("summary", "FILE.json", "write a summary of the run (rates, digests, worker load)");
  args.Option("profile", "FILE.json", "write a timeline of every worker and thread per epoch (compute, waiting, exchange,\n"
              "recording, checkpointing) as Chrome trace-event JSON for Perfetto or chrome://tracing; times are\n"
              "CLOCK_MONOTONIC, shared by the processes of one host (MPI ranks on other hosts: per host)");
  args.Flag("quiet", "no progress line");
  AddCheckpointOptions(args);
  if (Status st = args.Parse(argc, argv); !st.ok()) return Fail(st);
  if (args.help()) {
    std::printf("%s", args.Help().c_str());
    return 0;
  }
  auto resume = LoadResumePoint(args);
  if (!resume.ok()) return Fail(resume.status());
  if (!resume->has_value() && args.positionals().empty())
    return Fail(Status::Invalid("missing CONFIG (or --resume CHECKPOINT); see --help"));
  const std::string config_path = resume->has_value() ? resume->value().path : args.positionals()[0];
  Result<std::shared_ptr<const kernel::BrainSpec>> spec = Status::Internal("no configuration");
  if (resume->has_value()) {
    spec = resume->value().spec;
  } else {
    if (Status st = NotARecording(config_path); !st.ok()) return Fail(st);
    auto bytes = kernel::LoadConfigFile(config_path);
    if (!bytes.ok()) return Fail(bytes.status());
    std::vector<uint8_t> config = std::move(bytes).value();
    if (args.Has("seed")) {
      auto seed = args.GetUint("seed", 0);
      if (!seed.ok()) return Fail(seed.status());
      config = kernel::WithSeed(config, seed.value());
    }
    spec = kernel::ResolveBrainSpec(std::move(config), config_path);
  }
  if (!spec.ok()) return Fail(spec.status());
  auto checkpointer = RunCheckpointer::FromArgs(args, *spec.value());
  if (!checkpointer.ok()) return Fail(checkpointer.status());

  kernel::RunOptions opts;
  auto workers = args.GetInt("workers", -1);
  if (!workers.ok()) return Fail(workers.status());
  opts.workers = static_cast<int>(workers.value());
  opts.launch = args.Get("launch");
  opts.executor = args.Get("executor");
  // Both given on the command line and contradicting each other: neither silently wins. (A
  // configuration's workers may still be overridden by --executor inproc, to debug in process.)
  if (args.Has("workers") && args.Has("executor")) {
    if (opts.executor == "inproc" && opts.workers > 0)
      return Fail(Status::Invalid("--executor inproc runs every region in this process, but --workers " +
                                  std::to_string(opts.workers) + " asks for worker processes: give one of them"));
    if (opts.executor != "inproc" && opts.workers == 0)
      return Fail(Status::Invalid("--workers 0 runs every region in this process, but --executor " + opts.executor +
                                  " runs them in workers: give one of them"));
  }
  opts.coordinator_share = args.Has("coordinator-share");
  opts.exchange = args.Get("exchange");
  if (args.Has("threads")) {
    const std::string t = args.Get("threads");
    if (t == "auto") {
      opts.threads = -1;
    } else {
      auto n = args.GetInt("threads", 1);
      if (!n.ok() || n.value() < 1 || n.value() > kernel::kMaxThreads)
        return Fail(Status::Invalid("--threads: expected a number from 1 to " + std::to_string(kernel::kMaxThreads) +
                                    ", or auto; got '" + t + "'"));
      opts.threads = static_cast<int>(n.value());
    }
  }
  if (!opts.launch.empty() && opts.launch != "fork" && opts.launch != "spawn")
    return Fail(Status::Invalid("--launch: expected fork or spawn, got '" + opts.launch + "'"));
  if (args.Has("placement")) {
    std::string p = args.Get("placement");
    size_t pos = 0;
    bool split = false;
    while (pos <= p.size()) {
      size_t comma = p.find(',', pos);
      std::string item = p.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      std::vector<int> on;
      size_t at = 0;
      while (at <= item.size()) {
        size_t plus = item.find('+', at);
        std::string one = item.substr(at, plus == std::string::npos ? std::string::npos : plus - at);
        char* end = nullptr;
        long w = std::strtol(one.c_str(), &end, 10);
        if (one.empty() || *end || w < 0 || w > 1'000'000)
          return Fail(Status::Invalid("--placement: expected worker numbers like 0,1,0 (or 0,1+2,0 to split a region), "
                                      "got '" + item + "'"));
        on.push_back(static_cast<int>(w));
        if (plus == std::string::npos) break;
        at = plus + 1;
      }
      split = split || on.size() > 1;
      opts.placement.push_back(on[0]);
      opts.placement_parts.push_back(std::move(on));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (opts.placement.size() != spec.value()->regions.size())
      return Fail(Status::Invalid("--placement: expected one worker per region (" +
                                  std::to_string(spec.value()->regions.size()) + "), got " +
                                  std::to_string(opts.placement.size())));
    if (!split) opts.placement_parts.clear();
  }
  if (args.Has("hang-timeout")) {
    auto d = ParseDurationMs(args.Get("hang-timeout"));
    if (!d.ok()) return Fail(d.status().Context("--hang-timeout"));
    if (!(d.value() >= 1)) return Fail(Status::Invalid("--hang-timeout: expected at least 1ms"));
    opts.hang_timeout_ms = d.value();
  }
  if (opts.workers < 0 && !opts.placement.empty()) {  // --placement alone implies its workers
    opts.workers = *std::max_element(opts.placement.begin(), opts.placement.end()) + 1;
    for (const auto& on : opts.placement_parts) opts.workers = std::max(opts.workers, *std::max_element(on.begin(), on.end()) + 1);
  }
  kernel::Tick until = spec.value()->DurationTicks();  // under kMaxTick: checked with the config
  if (args.Has("until")) {
    auto d = ParseDurationTicks(args.Get("until"), spec.value()->dt_ms);
    if (!d.ok()) return Fail(d.status().Context("--until"));
    until = d.value();
  }
  // The printed --resume commands carry the run's --until, so they continue to the same end.
  const std::string until_args = args.Has("until") ? " --until " + args.Get("until") : "";
  // --until is the simulated time to run to, not a duration to add: a resumed run cannot go back.
  if (resume->has_value() && until < resume->value().checkpoint.state.tick) {
    char at[64];
    std::snprintf(at, sizeof at, "%.10g ms", kernel::TicksToMs(resume->value().checkpoint.state.tick, spec.value()->dt_ms));
    return Fail(Status::Invalid("--until: " + (args.Has("until") ? args.Get("until") : std::string("the configuration's duration")) +
                                " is before the checkpoint's time (" + at + "); --until is the time to run to"));
  }

  // Before the brain is built: an earlier run's unfinished trace is not overwritten, and a
  // summary that could never be written is said now, not after the run.
  if (args.Has("record")) {
    if (Status ts = recorder::TraceWriter::CheckTarget(args.Get("record")); !ts.ok()) return Fail(ts);
    if (Status ws = CheckWritableFolder(args.Get("record")); !ws.ok()) return Fail(ws.Context("--record"));
  }
  if (args.Has("summary"))
    if (Status ss = CheckWritableFolder(args.Get("summary")); !ss.ok()) return Fail(ss.Context("--summary"));
  if (args.Has("profile")) {
    if (Status ps = CheckWritableFolder(args.Get("profile")); !ps.ok()) return Fail(ps.Context("--profile"));
    opts.profile_path = args.Get("profile");
  }

  transport::Install();
  auto wall0 = std::chrono::steady_clock::now();
  auto brain_or = resume->has_value() ? recorder::ResumeBrain(resume->value().checkpoint, opts)
                                      : kernel::Brain::Create(spec.value(), opts);
  if (!brain_or.ok()) return Fail(brain_or.status());
  std::unique_ptr<kernel::Brain> brain = std::move(brain_or).value();
  double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::unique_ptr<recorder::TraceWriter> trace;
  if (args.Has("record")) {
    auto w = recorder::TraceWriter::Open(args.Get("record"), *brain, TraceOptionsFor(resume.value()));
    if (!w.ok()) return Fail(w.status());
    trace = std::move(w).value();
    brain->AddObserver(trace.get());
    checkpointer->set_trace(trace.get());
  }

  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  Progress progress(!args.Has("quiet") && isatty(STDERR_FILENO), *brain, until);
  auto run0 = std::chrono::steady_clock::now();
  // Run in slices so progress and Ctrl-C are seen between epochs. A slice is a whole number of
  // epochs, so slicing never shortens an epoch (results would not change, but the trace would).
  const kernel::Tick epoch = spec.value()->epoch_ticks;
  const kernel::Tick slice = epoch * std::max<kernel::Tick>(1, kernel::MsToTicks(20, spec.value()->dt_ms) / epoch);
  Status st;
  checkpointer->StartAt(brain->tick());
  while (brain->tick() < until && st.ok()) {
    if (int sig = g_stop_signal.load()) {
      std::string why = std::string("stopped by signal ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                        " at tick " + std::to_string(brain->tick());
      if (Status cs = checkpointer->Final(*brain); !cs.ok()) why += "; the final checkpoint failed: " + cs.message();
      else if (checkpointer->active())
        why += "; continue with: thalia run --resume " + checkpointer->last_path() + until_args;
      st = Status::Error(ErrorKind::kIo, why);
      break;
    }
    st = brain->RunUntil(checkpointer->NextStop(brain->tick(), std::min(until, brain->tick() + slice)));
    if (st.ok()) st = checkpointer->AfterSlice(*brain);
    progress.Update();
  }
  if (st.ok()) st = checkpointer->Final(*brain);
  progress.Finish();
  double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - run0).count();
  if (trace) {
    brain->RemoveObserver(trace.get());
    // A failed run leaves TRACE.incomplete: a readable prefix up to the failure.
    Status ts = st.ok() ? trace->Close() : trace->Abandon();
    if (st.ok() && !ts.ok()) st = ts;
  }
  if (!st.ok()) {
    // The timeline up to the failure is written too: it may show why.
    ReportProfile(*brain, brain->WriteProfile(st.message()));
    (void)brain->Shutdown();
    // A stop signal's message names its final checkpoint already.
    if (g_stop_signal.load() != 0) return Fail(st);
    return Fail(Status::Error(st.kind(), st.message() + checkpointer->ResumeHint(until_args)));
  }
  if (trace) {
    recorder::TraceWriterStats ts = trace->stats();
    std::fprintf(stderr, "trace %s: %llu epochs, %llu spikes, %llu bytes (%.2f bytes/spike)\n",
                 trace->path().c_str(), static_cast<unsigned long long>(ts.epochs),
                 static_cast<unsigned long long>(ts.spikes), static_cast<unsigned long long>(ts.file_bytes),
                 ts.spikes ? static_cast<double>(ts.file_bytes) / static_cast<double>(ts.spikes) : 0.0);
    if (!trace->previous_path().empty())
      std::fprintf(stderr, "the trace it replaced is kept as %s\n", trace->previous_path().c_str());
  }
  auto digests = brain->RegionDigests();
  if (!digests.ok()) return Fail(digests.status());
  RunReport report = MakeReport(*brain, digests.value(), build_s, run_s);
  const Status profile_status = brain->WriteProfile("complete");
  (void)brain->Shutdown();
  report.workers = brain->Stats();
  // The report is printed even if the summary cannot be written: a long run's results are not
  // lost to a full disk at the end.
  PrintReport(report);
  if (args.Has("summary")) {
    if (Status ws = WriteSummary(args.Get("summary"), config_path, report); !ws.ok()) return Fail(ws);
  }
  ReportProfile(*brain, profile_status);
  if (!profile_status.ok()) return Fail(profile_status);
  return 0;
}

}  // namespace thalia::tools
