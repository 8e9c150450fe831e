// Single-process kernel benchmark: runs a configuration sequentially and reports neuron updates/s,
// synaptic events/s, wall and CPU time, synapse memory (bytes per synapse) and peak RSS.
// Usage: kernel_bench CONFIG.json [SIMULATED_MS]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "kernel/brain.h"
#include "kernel/population_region.h"
#include "kernel/registry.h"

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace thalia::kernel;
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::printf("usage: kernel_bench CONFIG.json [SIMULATED_MS]\n"
                "Runs CONFIG sequentially in this process and prints one line of throughput figures.\n");
    return argc < 2 ? 2 : 0;
  }
  auto spec = LoadBrainSpec(argv[1]);
  if (!spec.ok()) {
    std::fprintf(stderr, "kernel_bench: %s\n", spec.status().message().c_str());
    return 2;
  }
  const double ms = argc > 2 ? std::atof(argv[2]) : spec.value()->duration_ms;
  const Tick until = MsToTicks(ms, spec.value()->dt_ms);
  RunOptions o;
  o.workers = 0;
  auto t_build = std::chrono::steady_clock::now();
  auto brain_or = Brain::Create(spec.value(), o);
  if (!brain_or.ok()) {
    std::fprintf(stderr, "kernel_bench: %s\n", brain_or.status().message().c_str());
    return 1;
  }
  auto brain = std::move(brain_or).value();
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_build).count();
  const double cpu0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  if (thalia::Status st = brain->RunUntil(until); !st.ok()) {
    std::fprintf(stderr, "kernel_bench: %s\n", st.message().c_str());
    return 1;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  const long rss_kb = PeakRssKb();
  uint64_t updates = 0, events = 0, spikes = 0, neurons = 0;
  for (RegionId r = 0; r < spec.value()->regions.size(); ++r) {
    updates += brain->counters(r).neuron_updates;
    events += brain->counters(r).synaptic_events;
    spikes += brain->counters(r).spikes;
    neurons += spec.value()->regions[r].size;
  }
  const uint64_t digest = brain->Digest().value();
  brain.reset();
  // Synapse memory, from freshly built regions (the run's are gone with the brain).
  uint64_t synapses = 0, bytes = 0;
  for (RegionId r = 0; r < spec.value()->regions.size(); ++r) {
    auto region = BuildRegion(*spec.value(), r);
    if (auto* p = dynamic_cast<PopulationRegion*>(region.get())) {
      synapses += p->SynapseCount();
      bytes += p->SynapseBytes();
    }
  }
  const double sim_s = static_cast<double>(until) * spec.value()->dt_ms / 1000.0;
  std::printf("%-22s neurons %7llu synapses %10llu  B/syn %5.2f  sim %5.2f s  build %5.2f s  "
              "wall %6.3f s  cpu %6.3f s  rate %6.2f Hz  updates/s %7.1f M  events/s %7.1f M  "
              "events %llu  peakRSS %6.1f MB  digest %016llx\n",
              spec.value()->name.c_str(), static_cast<unsigned long long>(neurons),
              static_cast<unsigned long long>(synapses),
              synapses ? static_cast<double>(bytes) / static_cast<double>(synapses) : 0.0, sim_s,
              build_s, wall, cpu, static_cast<double>(spikes) / static_cast<double>(neurons) / sim_s,
              static_cast<double>(updates) / cpu / 1e6, static_cast<double>(events) / cpu / 1e6,
              static_cast<unsigned long long>(events), static_cast<double>(rss_kb) / 1024.0,
              static_cast<unsigned long long>(digest));
  return 0;
}
