// What `thalia run` shows: the progress line on a terminal, the end-of-run table and digest
// line, and the JSON summary (--summary).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "kernel/brain.h"

namespace thalia::tools {

class Progress {
 public:
  Progress(bool enabled, const kernel::Brain& brain, kernel::Tick until);
  void Update();  // at most a few times per second
  void Finish();

 private:
  bool enabled_;
  const kernel::Brain& brain_;
  kernel::Tick start_, until_;
  std::chrono::steady_clock::time_point t0_, last_;
  bool printed_ = false;
};

struct RegionLine {
  std::string name;
  uint32_t neurons = 0;
  uint64_t spikes = 0;
  double rate_hz = 0;
  uint64_t synaptic_events = 0;
  uint64_t digest = 0;
};

struct RunReport {
  double simulated_s = 0, build_s = 0, wall_s = 0;
  uint64_t epochs = 0;
  std::string executor;
  std::vector<RegionLine> regions;
  uint64_t digest = 0;
  std::vector<kernel::WorkerStats> workers;
};

RunReport MakeReport(const kernel::Brain& brain, const std::vector<uint64_t>& digests,
                     double build_s, double run_s);
void PrintReport(const RunReport& r);
Status WriteSummary(const std::string& path, const std::string& config, const RunReport& r);
std::string Hex64(uint64_t v);

}  // namespace thalia::tools
