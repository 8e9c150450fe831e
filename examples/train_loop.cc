// A training loop driving the C++ API: build a brain from a configuration, present a stimulus to
// cortex, read striatal output, reward the brain when D1 wins, and print a learning curve. The same
// code runs sequentially or in worker processes (`--workers N`), with the same results.
//
// usage: train_loop CONFIG [--workers N] [--launch fork|spawn] [--trials N]
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernel/brain.h"
#include "kernel/digest.h"
#include "transport/install.h"
#include "transport/worker.h"

using thalia::kernel::Brain;
using thalia::kernel::RegionId;

int main(int argc, char** argv) {
  thalia::transport::MaybeRunWorker(argc, argv);  // a spawned worker never returns from here
  thalia::transport::Install();
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::printf("usage: train_loop CONFIG [--workers N] [--launch fork|spawn] [--trials N]\n\n"
                "Presents a stimulus to cortex on every trial, rewards the brain with dopamine when\n"
                "striatum D1 fires more than D2, and prints spikes per trial and the final digest.\n");
    return argc < 2 ? 2 : 0;
  }
  thalia::kernel::RunOptions options;
  int trials = 10;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 == argc) {
      std::fprintf(stderr, "train_loop: %s needs a value (see --help)\n", argv[i]);
      return 2;
    }
    if (std::strcmp(argv[i], "--workers") == 0) options.workers = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--launch") == 0) options.launch = argv[i + 1];
    else if (std::strcmp(argv[i], "--trials") == 0) trials = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "train_loop: unknown option '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  options.keep_spikes = true;
  auto spec = thalia::kernel::LoadBrainSpec(argv[1]);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.status().message().c_str());
    return 2;
  }
  const int cortex = spec.value()->RegionIndex("cortex");
  const int striatum = spec.value()->RegionIndex("striatum");
  if (cortex < 0 || striatum < 0) {
    std::fprintf(stderr, "%s: needs regions named cortex and striatum\n", argv[1]);
    return 2;
  }
  auto brain_or = Brain::Create(spec.value(), options);
  if (!brain_or.ok()) {
    std::fprintf(stderr, "%s\n", brain_or.status().message().c_str());
    return 1;
  }
  Brain& brain = *brain_or.value();
  const auto& str = spec.value()->regions[striatum];
  const auto& d1 = str.populations[str.PopulationIndex("D1")];
  const auto& d2 = str.populations[str.PopulationIndex("D2")];
  const thalia::kernel::Tick trial_ticks = thalia::kernel::MsToTicks(100, spec.value()->dt_ms);
  for (int trial = 0; trial < trials; ++trial) {
    // Stimulus: the first 50 cortical neurons get an input spike every 2 ms of the trial.
    for (thalia::kernel::Tick t = 0; t < trial_ticks; t += 20)
      for (uint32_t n = 0; n < 50; ++n)
        if (!brain.InjectSpike(static_cast<RegionId>(cortex), n, 0.5f, brain.tick() + t).ok()) return 1;
    thalia::Status st = brain.RunUntil(brain.tick() + trial_ticks);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return 1;
    }
    uint64_t n1 = 0, n2 = 0;
    for (const auto& s : brain.TakeSpikes(static_cast<RegionId>(striatum))) {
      if (s.neuron >= d1.offset && s.neuron < d1.offset + d1.size) ++n1;
      if (s.neuron >= d2.offset && s.neuron < d2.offset + d2.size) ++n2;
    }
    for (RegionId r = 0; r < spec.value()->regions.size(); ++r)
      if (static_cast<int>(r) != striatum) (void)brain.TakeSpikes(r);
    const bool rewarded = n1 > n2;
    std::printf("trial %2d  D1 %6" PRIu64 "  D2 %6" PRIu64 "  dopamine %.3f  %s\n", trial, n1, n2,
                brain.ModulatorLevel(0), rewarded ? "reward" : "");
    if (rewarded && !brain.Reward(0.5f).ok()) return 1;
  }
  auto digest = brain.Digest();
  if (!digest.ok()) return 1;
  std::printf("digest %016" PRIx64 "\n", digest.value());
  return 0;
}
