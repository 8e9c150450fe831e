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

#include "kernel/brain.h"
#include "kernel/registry.h"
#include "transport/install.h"

namespace thalia {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::shared_ptr<const kernel::BrainSpec> FromJson(const std::string& json) {
  auto c = kernel::ParseConfigJson(json, "bench.json");
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().message().c_str());
    std::exit(2);
  }
  auto s = kernel::ResolveBrainSpec(std::move(c).value(), "bench.json");
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().message().c_str());
    std::exit(2);
  }
  return s.value();
}

// Five regions of 20 neurons in a ring with 1 ms delays: epochs of 10 ticks, almost no compute.
std::string TinyRing() {
  std::string j = R"({"name": "ring", "regions": [)";
  for (int i = 0; i < 5; ++i)
    j += std::string(i ? "," : "") + R"({"name": "r)" + std::to_string(i) +
         R"(", "type": "generic", "size": 20, "populations": [{"name": "all", "size": 20, "neuron": {"bias": 16}}]})";
  j += R"(], "pathways": [)";
  for (int i = 0; i < 5; ++i)
    j += std::string(i ? "," : "") + R"({"from": "r)" + std::to_string(i) + R"(", "to": "r)" +
         std::to_string((i + 1) % 5) + R"(", "indegree": 2, "weight": 0.1, "delay_ms": 1})";
  return j + "]}";
}

std::string TwoLargeRegions() {
  return R"({"name": "two-large", "regions": [
    {"name": "cortex", "type": "cortex", "size": 40000},
    {"name": "cerebellum", "type": "cerebellum", "size": 40000}],
  "pathways": [{"from": "cortex", "to": "cerebellum", "indegree": 10, "weight": 0.03, "delay_ms": 5},
               {"from": "cerebellum", "to": "cortex.L23", "indegree": 10, "weight": 0.02, "delay_ms": 5}]})";
}

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
  auto t0 = Clock::now();
  if (!(*b)->StepEpochs(epochs).ok()) return -1;
  double s = Seconds(Clock::now() - t0) / static_cast<double>(epochs);
  *digest = (*b)->Digest().value();
  return s;
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

  auto ring = FromJson(TinyRing());
  uint64_t d_seq = 0, d_par = 0;
  const uint64_t epochs = 3000;
  double seq = PerEpoch(ring, Options(0, "", binary), epochs, &d_seq);
  double par = PerEpoch(ring, Options(5, "fork", binary), epochs, &d_par);
  std::printf("round trip, 5 tiny regions, %lu epochs of %lu ticks:\n", static_cast<unsigned long>(epochs),
              static_cast<unsigned long>(ring->epoch_ticks));
  std::printf("  sequential        %8.2f us/epoch\n", seq * 1e6);
  std::printf("  5 forked workers  %8.2f us/epoch   (round trip cost %.2f us/epoch)   digests %s\n", par * 1e6,
              (par - seq) * 1e6, d_seq == d_par ? "equal" : "DIFFER");

  auto tiny = FromJson(TwoLargeRegions());  // reused below; start-up uses the ring's 5 regions
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
