// Transport benchmarks, side by side in one run: the per-epoch round trip with tiny regions
// (sequential vs 5 forked workers), worker start-up (5 forked, 5 spawned), and the speedup of 2
// workers over sequential on a large configuration.
// Usage: transport_bench THALIA_BINARY [LARGE_CONFIG.json]   (without a large config, a
// built-in two-region brain of 2 x 40000 neurons is used).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernel/brain.h"
#include "transport/install.h"

namespace thalia {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

kernel::RunOptions Options(int workers, const std::string& launch, const std::string& binary) {
  kernel::RunOptions o;
  o.workers = workers;
  o.launch = launch;
  o.worker_binary = binary;
  return o;
}

// Wall time per epoch of `epochs` epochs (after a warm-up), or -1 on failure.
double PerEpoch(std::shared_ptr<const kernel::BrainSpec> spec, const kernel::RunOptions& o, uint64_t epochs,
                uint64_t* digest) {
  auto b = kernel::Brain::Create(spec, o);
  if (!b.ok() || !(*b)->StepEpochs(20).ok()) return -1;
  return bench::TimeEpochs(**b, epochs, digest);
}

// Median time of Brain::Create with the regions already built (fork) or not (spawn), minus the
// median time of building them in this process: the cost of starting the workers.
double StartUp(std::shared_ptr<const kernel::BrainSpec> spec, const kernel::RunOptions& o, int reps) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    auto b = kernel::Brain::Create(spec, o);
    double s = Seconds(Clock::now() - t0);
    if (!b.ok()) return -1;
    t.push_back(s);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace
}  // namespace thalia

int main(int argc, char** argv) {
  using namespace thalia;
  if (argc < 2) {
    std::fprintf(stderr, "usage: transport_bench THALIA_BINARY [LARGE_CONFIG.json]\n");
    return 2;
  }
  const std::string binary = argv[1];
  transport::Install();

  auto ring = bench::FromJson(bench::TinyRing(5, "ring"), "bench.json");
  uint64_t d_seq = 0, d_par = 0;
  const uint64_t epochs = 3000;
  double seq = PerEpoch(ring, Options(0, "", binary), epochs, &d_seq);
  double par = PerEpoch(ring, Options(5, "fork", binary), epochs, &d_par);
  std::printf("round trip, 5 tiny regions, %lu epochs of %lu ticks:\n", static_cast<unsigned long>(epochs),
              static_cast<unsigned long>(ring->epoch_ticks));
  std::printf("  sequential        %8.2f us/epoch\n", seq * 1e6);
  std::printf("  5 forked workers  %8.2f us/epoch   (round trip cost %.2f us/epoch)   digests %s\n", par * 1e6,
              (par - seq) * 1e6, d_seq == d_par ? "equal" : "DIFFER");

  // Reused below; start-up uses the ring's 5 regions.
  auto tiny = bench::FromJson(bench::TwoLargeRegions(), "bench.json");
  double inproc = StartUp(ring, Options(0, "", binary), 7);
  double fork = StartUp(ring, Options(5, "fork", binary), 7);
  double spawn = StartUp(ring, Options(5, "spawn", binary), 7);
  std::printf("start-up of 5 workers (median of 7 Brain::Create, minus in-process build %.2f ms):\n", inproc * 1e3);
  std::printf("  fork   %8.2f ms\n", (fork - inproc) * 1e3);
  std::printf("  spawn  %8.2f ms\n", (spawn - inproc) * 1e3);

  std::shared_ptr<const kernel::BrainSpec> large = tiny;
  std::string large_name = "built-in 2 x 40000-neuron brain";
  if (argc > 2) {
    auto s = kernel::LoadBrainSpec(argv[2]);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().message().c_str());
      return 2;
    }
    large = s.value();
    large_name = argv[2];
  }
  const uint64_t large_epochs = 100;
  double l_seq = PerEpoch(large, Options(0, "", binary), large_epochs, &d_seq);
  double l_par = PerEpoch(large, Options(2, "fork", binary), large_epochs, &d_par);
  std::printf("speedup on %s, %lu epochs:\n", large_name.c_str(), static_cast<unsigned long>(large_epochs));
  std::printf("  sequential   %8.3f ms/epoch\n", l_seq * 1e3);
  std::printf("  2 workers    %8.3f ms/epoch   speedup %.2fx   digests %s\n", l_par * 1e3, l_seq / l_par,
              d_seq == d_par ? "equal" : "DIFFER");
  return d_seq == d_par ? 0 : 1;
}
