// Recording overhead and trace size: runs one configuration with and without a TraceWriter,
// alternating, and prints the wall-time ratio (median of the pairs) and bytes per spike.
// usage: record_bench CONFIG [until_ms=500] [workers=0] [pairs=3] [trace_dir=$TMPDIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "recorder/trace_writer.h"
#include "transport/install.h"
#include "transport/worker.h"

namespace {

using thalia::kernel::Brain;

double RunOnce(std::shared_ptr<const thalia::kernel::BrainSpec> spec, thalia::kernel::Tick until,
               int workers, const std::string& trace, thalia::recorder::TraceWriterStats* stats) {
  thalia::kernel::RunOptions o;
  o.workers = workers;
  auto brain = Brain::Create(spec, o);
  if (!brain.ok()) {
    std::fprintf(stderr, "%s\n", brain.status().message().c_str());
    std::exit(2);
  }
  std::unique_ptr<thalia::recorder::TraceWriter> w;
  auto t0 = std::chrono::steady_clock::now();
  if (!trace.empty()) {
    w = thalia::recorder::TraceWriter::Open(trace, *brain.value()).value();
    brain.value()->AddObserver(w.get());
  }
  if (!brain.value()->RunUntil(until).ok()) std::exit(1);
  if (w && !w->Close().ok()) std::exit(1);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (w) *stats = w->stats();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  thalia::transport::MaybeRunWorker(argc, argv);
  thalia::transport::Install();
  if (argc < 2) {
    std::fprintf(stderr, "usage: record_bench CONFIG [until_ms=500] [workers=0] [pairs=3] [trace_dir]\n");
    return 2;
  }
  auto spec = thalia::kernel::LoadBrainSpec(argv[1]);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.status().message().c_str());
    return 2;
  }
  const double until_ms = argc > 2 ? std::atof(argv[2]) : 500;
  const int workers = argc > 3 ? std::atoi(argv[3]) : 0;
  const int pairs = argc > 4 ? std::atoi(argv[4]) : 3;
  const std::string dir = argc > 5 ? argv[5] : std::filesystem::temp_directory_path().string();
  const std::string trace = dir + "/record_bench.trace";
  const auto until = thalia::kernel::MsToTicks(until_ms, spec.value()->dt_ms);
  std::vector<double> ratios;
  thalia::recorder::TraceWriterStats st;
  double plain_sum = 0, rec_sum = 0;
  for (int i = 0; i < pairs; ++i) {
    double plain = RunOnce(spec.value(), until, workers, "", nullptr);
    std::filesystem::remove(trace);  // so no run pays for keeping the previous one as .old
    double rec = RunOnce(spec.value(), until, workers, trace, &st);
    plain_sum += plain;
    rec_sum += rec;
    ratios.push_back(rec / plain);
  }
  std::sort(ratios.begin(), ratios.end());
  std::filesystem::remove(trace);
  std::printf("config %s, %.0f ms simulated, workers %d, %d pairs\n", argv[1], until_ms, workers, pairs);
  std::printf("wall: plain %.3f s, recorded %.3f s (means); recorded/plain median ratio %.3f (overhead %.1f%%)\n",
              plain_sum / pairs, rec_sum / pairs, ratios[ratios.size() / 2], (ratios[ratios.size() / 2] - 1) * 100);
  std::printf("trace: %llu epochs, %llu spikes, %llu bytes, %.2f bytes/spike, compression %.2fx\n",
              static_cast<unsigned long long>(st.epochs), static_cast<unsigned long long>(st.spikes),
              static_cast<unsigned long long>(st.file_bytes),
              st.spikes ? static_cast<double>(st.file_bytes) / static_cast<double>(st.spikes) : 0.0,
              st.file_bytes ? static_cast<double>(st.raw_bytes) / static_cast<double>(st.file_bytes) : 0.0);
  return 0;
}
