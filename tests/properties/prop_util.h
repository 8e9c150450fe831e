// Helpers of the cross-process properties: generated execution modes (in-process, or forked or
// spawned workers with a generated worker count and placement), resolving generated configs,
// and whole-run results compared exactly.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "tests/properties/brain_gen.h"
#include "tests/transport/transport_test_util.h"

namespace thalia::testing {

// RapidCheck scales inRange with the case's size, so early cases would all be one-region brains
// run by one worker. These draws take the whole range in every case (shrinking still narrows them).
template <typename T>
T Uniform(T lo, T hi) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(lo, hi));
}

// How a run executes. workers == 0: in this process.
struct Mode {
  int workers = 0;
  std::string launch;         // "fork" or "spawn" when workers > 0
  std::vector<int> placement;  // region -> worker; empty: automatic
  std::vector<std::vector<int>> parts;  // region -> workers of its parts (split); empty: none
  int threads = 1;             // per process
  int shards = 0;              // RunOptions::shards: 0 one per thread (large regions only)
  std::string exchange;        // RunOptions::exchange: "direct" (forked workers), or the default
};

inline std::string ToString(const Mode& m) {
  std::ostringstream os;
  if (m.workers == 0) {
    os << "inproc";
  } else {
    os << m.launch << "x" << m.workers;
  }
  if (!m.placement.empty()) {
    os << "[";
    for (size_t i = 0; i < m.placement.size(); ++i) os << (i ? "," : "") << m.placement[i];
    os << "]";
  }
  if (!m.parts.empty()) {
    os << " parts [";
    for (size_t r = 0; r < m.parts.size(); ++r) {
      os << (r ? "," : "");
      for (size_t k = 0; k < m.parts[r].size(); ++k) os << (k ? "+" : "") << m.parts[r][k];
    }
    os << "]";
  }
  if (m.threads != 1 || m.shards != 0) os << " threads " << m.threads << " shards " << m.shards;
  if (!m.exchange.empty()) os << " exchange " << m.exchange;
  return os.str();
}

// Threads and shards of a mode: generated brains are small, so regions are split into a drawn
// number of shards (RunOptions::shards) whatever the threads, or not at all.
inline void GenSplit(Mode* m) {
  m->threads = Uniform(1, 5);
  m->shards = Uniform(0, 3) == 0 ? 0 : Uniform(1, 8);
}

// A placement of `regions` regions on exactly `workers` workers (each hosts at least one): a
// generated permutation gives the first `workers` regions one worker each, the rest go anywhere.
inline std::vector<int> GenPlacement(size_t regions, int workers) {
  std::vector<size_t> order(regions);
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = regions; i > 1; --i) std::swap(order[i - 1], order[Uniform<size_t>(0, i)]);
  std::vector<int> placement(regions);
  for (size_t i = 0; i < regions; ++i)
    placement[order[i]] = i < static_cast<size_t>(workers) ? static_cast<int>(i) : Uniform(0, workers);
  return placement;
}

// Regions split into parts over up to `workers` workers: each region gets 1-3 parts (no more
// than its neurons) on distinct drawn workers; workers that got no part are dropped and the rest
// numbered 0.. in order (m->workers is set to how many remain).
inline void GenParts(const kernel::BrainSpec& spec, int workers, Mode* m) {
  std::vector<std::vector<int>> parts(spec.regions.size());
  std::vector<bool> used(static_cast<size_t>(workers), false);
  for (size_t r = 0; r < parts.size(); ++r) {
    const int k = std::min({Uniform(1, 4), workers, static_cast<int>(spec.regions[r].size)});
    while (static_cast<int>(parts[r].size()) < k) {
      const int w = Uniform(0, workers);
      if (std::find(parts[r].begin(), parts[r].end(), w) == parts[r].end()) parts[r].push_back(w);
    }
    for (int w : parts[r]) used[static_cast<size_t>(w)] = true;
  }
  std::vector<int> number(static_cast<size_t>(workers), -1);
  int count = 0;
  for (int w = 0; w < workers; ++w)
    if (used[static_cast<size_t>(w)]) number[static_cast<size_t>(w)] = count++;
  for (auto& on : parts)
    for (int& w : on) w = number[static_cast<size_t>(w)];
  m->workers = count;
  m->parts = std::move(parts);
}

// Spawned workers cost ~20 ms each to start, forked ones far less: spawn is drawn a quarter of
// the time. `allow_inproc` adds the in-process executor to the choices.
inline Mode GenMode(size_t regions, bool allow_inproc) {
  Mode m;
  if (allow_inproc && Uniform(0, 4) == 0) {
    if (Uniform(0, 2) == 0) GenSplit(&m);
    return m;
  }
  m.workers = Uniform<int>(1, static_cast<int>(regions) + 1);
  m.launch = Uniform(0, 4) == 0 ? "spawn" : "fork";
  if (*rc::gen::arbitrary<bool>()) m.placement = GenPlacement(regions, m.workers);
  if (Uniform(0, 2) == 0) GenSplit(&m);
  return m;
}

inline kernel::RunOptions OptionsFor(const Mode& m) {
  kernel::RunOptions o;
  if (m.workers == 0) {
    o.workers = 0;
    o.keep_spikes = true;
  } else {
    o = Parallel(m.workers, m.launch, m.placement);
  }
  o.threads = m.threads;
  o.shards = m.shards;
  o.placement_parts = m.parts;
  o.exchange = m.exchange;
  return o;
}

inline std::shared_ptr<const kernel::BrainSpec> ResolveGenerated(std::vector<uint8_t> config) {
  auto s = kernel::ResolveBrainSpec(std::move(config), "generated");
  RC_ASSERT(s.ok());
  return s.value();
}

// A generated brain small enough for many cross-process cases: at most 4 regions of at most 120
// neurons, 40 ms.
inline std::shared_ptr<const kernel::BrainSpec> GenSmallBrain() {
  auto config = *rc::gen::resize(100, rc::gen::exec([] { return GenBrainConfig(); }));
  RC_LOG() << kernel::ConfigToJson(config) << "\n";
  return ResolveGenerated(std::move(config));
}

// An input through the Brain API, made when the run reaches tick `when`.
struct ApiInput {
  enum Kind { kSpike, kCurrent, kModulator } kind = kSpike;
  kernel::Tick when = 0;
  kernel::RegionId region = 0;
  kernel::NeuronId neuron = 0;
  float amount = 0;
  kernel::Tick at = 0;  // kSpike, kCurrent: when it takes effect (>= when)
  int modulator = 0;    // kModulator
};

inline std::ostream& operator<<(std::ostream& os, const ApiInput& in) {
  const char* kinds[] = {"spike", "current", "modulator"};
  return os << kinds[in.kind] << "@" << in.when << "{r" << in.region << " n" << in.neuron << " "
            << in.amount << " at " << in.at << " m" << in.modulator << "}";
}

inline ApiInput GenApiInput(const kernel::BrainSpec& spec, kernel::Tick when) {
  ApiInput in;
  in.kind = static_cast<ApiInput::Kind>(Uniform(0, 3));
  in.when = when;
  in.region = Uniform<kernel::RegionId>(0, static_cast<kernel::RegionId>(spec.regions.size()));
  in.neuron = Uniform<kernel::NeuronId>(0, spec.regions[in.region].size);
  in.amount = *rc::gen::element(-2.0f, 1.0f, 5.0f, 20.0f);
  in.at = when + Uniform<kernel::Tick>(0, 200);
  in.modulator = Uniform(0, kernel::kNumModulators);
  return in;
}

// Up to 6 inputs at ticks in [0, until), sorted by `when`.
inline std::vector<ApiInput> GenApiInputs(const kernel::BrainSpec& spec, kernel::Tick until) {
  std::vector<ApiInput> inputs(Uniform(0, 7));
  for (ApiInput& in : inputs) in = GenApiInput(spec, Uniform<kernel::Tick>(0, until));
  std::stable_sort(inputs.begin(), inputs.end(), [](const ApiInput& a, const ApiInput& b) { return a.when < b.when; });
  return inputs;
}

inline Status Apply(kernel::Brain& b, const ApiInput& in) {
  switch (in.kind) {
    case ApiInput::kSpike: return b.InjectSpike(in.region, in.neuron, in.amount, in.at);
    case ApiInput::kCurrent: return b.SetCurrent(in.region, in.neuron, in.amount, in.at);
    case ApiInput::kModulator: return b.AddModulator(in.modulator, in.amount);
  }
  return Status::Ok();
}

// Runs `b` from its tick to `until`, stopping at each input with `when` in [tick, until) to make it.
inline void RunWithInputs(kernel::Brain& b, const std::vector<ApiInput>& inputs, kernel::Tick until) {
  const kernel::Tick from = b.tick();
  for (const ApiInput& in : inputs) {
    if (in.when < from || in.when >= until) continue;
    RC_ASSERT(b.RunUntil(in.when).ok());
    RC_ASSERT(Apply(b, in).ok());
  }
  Status st = b.RunUntil(until);
  RC_ASSERT(st.ok());
}

// Every region's spikes since the last call.
inline std::vector<std::vector<kernel::Spike>> TakeAllSpikes(kernel::Brain& b) {
  std::vector<std::vector<kernel::Spike>> out;
  for (kernel::RegionId r = 0; r < b.spec().regions.size(); ++r) out.push_back(b.TakeSpikes(r));
  return out;
}

}  // namespace thalia::testing
