// Rates are spikes / neurons / simulated seconds, over the whole run (including any resumed part).
#include "tools/run_report.h"

#include <cinttypes>
#include <cstdio>
#include <fstream>

#include "kernel/digest.h"

namespace thalia::tools {

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

Progress::Progress(bool enabled, const kernel::Brain& brain, kernel::Tick until)
    : enabled_(enabled), brain_(brain), start_(brain.tick()), until_(until),
      t0_(std::chrono::steady_clock::now()), last_(t0_) {}

void Progress::Update() {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250) && brain_.tick() < until_) return;
  last_ = now;
  double wall = std::chrono::duration<double>(now - t0_).count();
  double dt = brain_.spec().dt_ms / 1000.0;
  double sim = static_cast<double>(brain_.tick() - start_) * dt;
  uint64_t spikes = 0;
  for (size_t r = 0; r < brain_.spec().regions.size(); ++r) spikes += brain_.counters(static_cast<kernel::RegionId>(r)).spikes;
  std::fprintf(stderr, "\r  t = %.3f / %.3f s   real-time factor %.2fx   %.3g spikes/s wall   ",
               static_cast<double>(brain_.tick()) * dt, static_cast<double>(until_) * dt,
               wall > 0 ? sim / wall : 0.0, wall > 0 ? static_cast<double>(spikes) / wall : 0.0);
  printed_ = true;
}

void Progress::Finish() {
  if (printed_) std::fprintf(stderr, "\n");
}

RunReport MakeReport(const kernel::Brain& brain, const std::vector<uint64_t>& digests,
                     double build_s, double run_s) {
  RunReport r;
  const kernel::BrainSpec& spec = brain.spec();
  r.simulated_s = static_cast<double>(brain.tick()) * spec.dt_ms / 1000.0;
  r.build_s = build_s;
  r.wall_s = run_s;
  r.epochs = brain.epoch();
  r.executor = brain.executor_name();
  for (size_t i = 0; i < spec.regions.size(); ++i) {
    RegionLine l;
    l.name = spec.regions[i].name;
    l.neurons = spec.regions[i].size;
    const kernel::RegionCounters& c = brain.counters(static_cast<kernel::RegionId>(i));
    l.spikes = c.spikes;
    l.synaptic_events = c.synaptic_events;
    l.rate_hz = r.simulated_s > 0 ? static_cast<double>(c.spikes) / l.neurons / r.simulated_s : 0;
    l.digest = digests[i];
    r.regions.push_back(l);
  }
  r.digest = kernel::CombineDigests(digests);
  return r;
}

void PrintReport(const RunReport& r) {
  std::printf("%-16s %9s %12s %10s\n", "region", "neurons", "spikes", "rate_hz");
  for (const RegionLine& l : r.regions)
    std::printf("%-16s %9u %12" PRIu64 " %10.2f\n", l.name.c_str(), l.neurons, l.spikes, l.rate_hz);
  std::printf("simulated %.3f s in %.3f s wall (%s, %" PRIu64 " epochs)\n", r.simulated_s, r.wall_s,
              r.executor.c_str(), r.epochs);
  // Load per worker and per thread: where the time went, and how uneven it was.
  for (const kernel::WorkerStats& w : r.workers) {
    if (w.pid != 0) std::printf("worker %d (pid %d): busy %.3f s, waiting %.3f s", w.worker, w.pid, w.busy_s, w.wait_s);
    else std::printf("this process");
    // What its replies brought the coordinator: with the MPI direct exchange, no spike unless
    // the run records them.
    if (w.pid != 0 && w.epochs > 0)
      std::printf(", sent the coordinator %.0f B/epoch (%" PRIu64 " spikes)",
                  static_cast<double>(w.bytes_to_coordinator) / static_cast<double>(w.epochs), w.spikes_to_coordinator);
    if (!w.thread_busy_s.empty()) {
      std::printf("%s threads busy", w.pid != 0 ? ";" : ":");
      for (double b : w.thread_busy_s) std::printf(" %.3f", b);
      std::printf(" s, waiting at barriers");
      for (double b : w.thread_wait_s) std::printf(" %.3f", b);
      std::printf(" s");
    }
    std::printf("\n");
  }
  std::printf("digest %s\n", Hex64(r.digest).c_str());
}

namespace {
std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
      continue;
    }
    o += c;
  }
  return o + "\"";
}
}  // namespace

Status WriteSummary(const std::string& path, const std::string& config, const RunReport& r) {
  std::ofstream out(path);
  if (!out) return Status::Io(path + ": cannot write the summary");
  out << "{\n  \"config\": " << JsonString(config) << ",\n  \"executor\": " << JsonString(r.executor)
      << ",\n  \"simulated_s\": " << r.simulated_s << ",\n  \"build_s\": " << r.build_s
      << ",\n  \"wall_s\": " << r.wall_s << ",\n  \"epochs\": " << r.epochs
      << ",\n  \"digest\": \"" << Hex64(r.digest) << "\",\n  \"regions\": [";
  for (size_t i = 0; i < r.regions.size(); ++i) {
    const RegionLine& l = r.regions[i];
    out << (i ? "," : "") << "\n    {\"name\": " << JsonString(l.name) << ", \"neurons\": " << l.neurons
        << ", \"spikes\": " << l.spikes << ", \"rate_hz\": " << l.rate_hz
        << ", \"synaptic_events\": " << l.synaptic_events << ", \"digest\": \"" << Hex64(l.digest) << "\"}";
  }
  out << "\n  ],\n  \"workers\": [";
  for (size_t i = 0; i < r.workers.size(); ++i) {
    const kernel::WorkerStats& w = r.workers[i];
    out << (i ? "," : "") << "\n    {\"worker\": " << w.worker << ", \"pid\": " << w.pid << ", \"regions\": [";
    for (size_t k = 0; k < w.regions.size(); ++k) out << (k ? ", " : "") << w.regions[k];
    out << "], \"epochs\": " << w.epochs << ", \"busy_s\": " << w.busy_s << ", \"wait_s\": " << w.wait_s
        << ", \"bytes_to_coordinator\": " << w.bytes_to_coordinator
        << ", \"spikes_to_coordinator\": " << w.spikes_to_coordinator << ", \"thread_busy_s\": [";
    for (size_t t = 0; t < w.thread_busy_s.size(); ++t) out << (t ? ", " : "") << w.thread_busy_s[t];
    out << "], \"thread_wait_s\": [";
    for (size_t t = 0; t < w.thread_wait_s.size(); ++t) out << (t ? ", " : "") << w.thread_wait_s[t];
    out << "]}";
  }
  out << "\n  ]\n}\n";
  out.close();
  if (!out) return Status::Io(path + ": write failed");
  return Status::Ok();
}

}  // namespace thalia::tools
