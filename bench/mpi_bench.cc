// The MPI executor against the socket executor, side by side in one run under
// `mpirun -np 3` (rank 0 measures; ranks 1 and 2 are the MPI workers): the per-epoch cost with
// tiny regions (the round trip) and the per-epoch time and speedup on two large regions, each
// mode's digest checked against the sequential one. Usage (bench/RESULTS.md, "MPI vs sockets"):
//   mpirun -np 3 mpi_bench [EPOCHS_TINY [EPOCHS_LARGE]]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench_util.h"
#include "kernel/brain.h"
#include "transport/install.h"
#include "transport/mpi_session.h"

namespace thalia {
namespace {

struct Mode {
  const char* name;
  kernel::RunOptions options;
};

std::vector<Mode> Modes() {
  kernel::RunOptions seq, socket, mpi;
  seq.workers = 0;
  socket.workers = 2;
  socket.launch = "fork";
  socket.executor = "socket";
  mpi.executor = "mpi";
  return {{"sequential", seq}, {"socket, 2 forked workers", socket}, {"mpi, 2 worker ranks", mpi}};
}

// Wall seconds per epoch over `epochs` epochs after a warm-up of 10; the digest at the end.
double PerEpoch(std::shared_ptr<const kernel::BrainSpec> spec, const kernel::RunOptions& o, uint64_t epochs,
                uint64_t* digest) {
  auto b = kernel::Brain::Create(spec, o);
  if (!b.ok() || !(*b)->StepEpochs(10).ok()) {
    std::fprintf(stderr, "%s\n", b.ok() ? "run failed" : b.status().message().c_str());
    std::exit(1);
  }
  double s = bench::TimeEpochs(**b, epochs, digest);
  if (s < 0) std::exit(1);
  return s;
}

// Prints one line per mode; returns false if a digest differs from the sequential one.
bool Compare(const char* title, std::shared_ptr<const kernel::BrainSpec> spec, uint64_t epochs, double unit,
             const char* unit_name) {
  std::printf("%s, %lu epochs of %lu ticks:\n", title, static_cast<unsigned long>(epochs),
              static_cast<unsigned long>(spec->epoch_ticks));
  bool same = true;
  double seq = 0;
  uint64_t seq_digest = 0;
  for (const Mode& m : Modes()) {
    uint64_t digest = 0;
    double t = PerEpoch(spec, m.options, epochs, &digest);
    if (seq == 0) {
      seq = t;
      seq_digest = digest;
    }
    same = same && digest == seq_digest;
    std::printf("  %-26s %9.2f %s/epoch   %5.2fx sequential   digest %s\n", m.name, t * unit, unit_name, seq / t,
                digest == seq_digest ? "equal" : "DIFFERS");
  }
  return same;
}

}  // namespace
}  // namespace thalia

int main(int argc, char** argv) {
  using namespace thalia;
  auto session = transport::StartMpi(argc, argv);  // ranks other than 0 serve and exit here
  transport::Install();
  const uint64_t tiny_epochs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
  const uint64_t large_epochs = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10;
  bool same = Compare("round trip, 4 tiny regions", bench::FromJson(bench::TinyRing(4, "ring4"), "mpi_bench.json"),
                      tiny_epochs, 1e6, "us");
  auto large = bench::FromJson(bench::TwoLargeRegions(), "mpi_bench.json");
  same = Compare("2 x 40000-neuron regions", large, large_epochs, 1e3, "ms") && same;
  return session.Finish(same ? 0 : 1);
}
