// Replay speed with and without probes: records CONFIG once, then replays it in rounds, each round
// running (in turn) the plain replay, a replay with a probe of 100 neurons' v, the same with all
// six per-neuron variables, and the probed region replayed alone (--region), and prints the median
// of each and its ratio to the plain replay. The plain replay is the path a replay without
// --probe takes (probes add nothing to it: replay/replayer.cc only branches to the probed path).
// usage: probe_bench CONFIG [until_ms=300] [rounds=3] [region=first] [trace_dir=$TMPDIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "kernel/brain.h"
#include "recorder/trace_writer.h"
#include "replay/replayer.h"

namespace {

using thalia::replay::ReplayOptions;

void Record(std::shared_ptr<const thalia::kernel::BrainSpec> spec, thalia::kernel::Tick until,
            const std::string& path) {
  auto brain = thalia::kernel::Brain::Create(spec, {}).value();
  auto w = thalia::recorder::TraceWriter::Open(path, *brain).value();
  brain->AddObserver(w.get());
  if (!brain->RunUntil(until).ok() || !w->Close().ok()) std::exit(1);
}

double Seconds(const std::string& trace, const ReplayOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = thalia::replay::Replay(trace, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok() || r->divergence) {
    std::fprintf(stderr, "replay failed: %s\n", r.ok() ? Describe(r.value()).c_str() : r.status().message().c_str());
    std::exit(1);
  }
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: probe_bench CONFIG [until_ms=300] [rounds=3] [region=first] [trace_dir]\n");
    return 2;
  }
  auto spec = thalia::kernel::LoadBrainSpec(argv[1]);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.status().message().c_str());
    return 2;
  }
  const double until_ms = argc > 2 ? std::atof(argv[2]) : 300;
  const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  const std::string region = argc > 4 ? argv[4] : spec.value()->regions.front().name;
  const std::string dir = argc > 5 ? argv[5] : std::filesystem::temp_directory_path().string();
  const std::string trace = dir + "/probe_bench." + std::to_string(::getpid()) + ".trace";
  Record(spec.value(), thalia::kernel::MsToTicks(until_ms, spec.value()->dt_ms), trace);

  struct Variant {
    const char* name;
    ReplayOptions options;
    std::vector<double> seconds;
  };
  std::vector<Variant> variants(4);
  variants[0].name = "replay, no probe";
  variants[1].name = "replay, probe of 100 neurons (v)";
  variants[1].options.probes = {region + ":0-99:v"};
  variants[2].name = "replay, probe of 100 neurons (6 variables)";
  variants[2].options.probes = {region + ":0-99:v,syn_e,syn_i,adaptation,i_ext,refractory"};
  variants[3].name = "--region alone, probe of 100 neurons (v)";
  variants[3].options.probes = variants[1].options.probes;
  variants[3].options.region = region;
  for (int r = 0; r < rounds; ++r)
    for (Variant& v : variants) v.seconds.push_back(Seconds(trace, v.options));
  std::filesystem::remove(trace);
  std::printf("%s, %.0f ms, probed region %s, median of %d rounds (variants interleaved):\n", argv[1], until_ms,
              region.c_str(), rounds);
  const double base = Median(variants[0].seconds);
  for (const Variant& v : variants)
    std::printf("  %-44s %8.3f s  %5.2fx\n", v.name, Median(v.seconds), Median(v.seconds) / base);
  return 0;
}
