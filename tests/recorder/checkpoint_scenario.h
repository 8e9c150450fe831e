// The scenario of the resume tests: a tiny brain driven like a training script (inputs injected
// ahead of time, currents, rewards), run straight or checkpointed at a tick and resumed from file.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "kernel/brain.h"
#include "recorder/checkpoint.h"
#include "tests/recorder/checkpoint_test_util.h"

namespace thalia::testing {

using kernel::Brain;
using kernel::Spike;
using kernel::Tick;

// Something a training script does to the brain at a tick.
struct Action {
  Tick tick;
  std::function<Status(Brain&)> apply;
};

// Inputs injected ahead of time (some still pending at any split), currents, and rewards.
inline std::vector<Action> Script() {
  std::vector<Action> a;
  a.push_back({0, [](Brain& b) {
                 for (Tick t = 5; t < 6000; t += 397)
                   THALIA_RETURN_IF_ERROR(b.InjectSpike(static_cast<kernel::RegionId>(t % 5), t % 97, 2.0f, t));
                 return b.SetCurrent(3, 11, 4.0f, 2500);
               }});
  a.push_back({1500, [](Brain& b) { return b.Reward(0.8f); }});
  a.push_back({1777, [](Brain& b) { return b.AddModulator(1, 0.3f); }});
  a.push_back({2000, [](Brain& b) { return b.Reward(-0.4f); }});
  a.push_back({3001, [](Brain& b) { return b.InjectSpike(0, 5, -1.0f, 3100); }});
  return a;
}

struct Outcome {
  std::vector<std::vector<Spike>> spikes;  // per region, ticks >= from
  std::vector<uint64_t> digests;
};

inline std::vector<std::vector<Spike>> SpikesFrom(Brain& b, Tick from) {
  std::vector<std::vector<Spike>> out;
  for (kernel::RegionId r = 0; r < b.spec().regions.size(); ++r) {
    auto s = b.TakeSpikes(r);
    std::erase_if(s, [&](const Spike& x) { return x.tick < from; });
    out.push_back(std::move(s));
  }
  return out;
}

// Runs the script to `until`; with split set, checkpoints at that tick (after its actions) into
// `path`, drops the brain and resumes a new one from the file.
// `options` run the first brain, `resume_options` (default: the same) the resumed one; `example`
// names the bundled brain.
inline Outcome Run(Tick until, std::optional<Tick> split, const std::string& path, Tick spikes_from,
            kernel::RunOptions options = Options(0, true),
            std::optional<kernel::RunOptions> resume_options = std::nullopt,
            const std::string& example = "tiny.json") {
  auto created = Brain::Create(LoadExample(example), options);
  THALIA_CHECK_MSG(created.ok(), created.status().message());
  std::unique_ptr<Brain> brain = std::move(created).value();
  std::vector<Action> script = Script();
  size_t next = 0;
  auto do_actions_through = [&](Tick t) {
    for (; next < script.size() && script[next].tick <= t; ++next) {
      THALIA_CHECK(brain->RunUntil(script[next].tick).ok());
      Status st = script[next].apply(*brain);
      THALIA_CHECK_MSG(st.ok(), st.message());
    }
  };
  if (split) {
    do_actions_through(*split);
    THALIA_CHECK(brain->RunUntil(*split).ok());
    Status st = recorder::SaveCheckpoint(*brain, path);
    THALIA_CHECK_MSG(st.ok(), st.message());
    brain.reset();
    auto resumed = recorder::ResumeBrain(path, resume_options.value_or(options));
    THALIA_CHECK_MSG(resumed.ok(), resumed.status().message());
    brain = std::move(resumed).value();
    THALIA_CHECK(brain->tick() == *split);
  }
  do_actions_through(until);
  THALIA_CHECK(brain->RunUntil(until).ok());
  Outcome o;
  o.spikes = SpikesFrom(*brain, spikes_from);
  o.digests = brain->RegionDigests().value();
  return o;
}

// Checks that `resumed` has exactly `straight`'s spikes from tick `from` on (`straight` may hold
// earlier ones) and the same digests; adds the number of spikes compared to `*compared`.
inline void ExpectSameRunAfter(const Outcome& straight, const Outcome& resumed, Tick from, const std::string& what,
                               size_t* compared = nullptr) {
  ASSERT_EQ(straight.spikes.size(), resumed.spikes.size()) << what;
  for (size_t r = 0; r < straight.spikes.size(); ++r) {
    std::vector<Spike> expected = straight.spikes[r];
    std::erase_if(expected, [&](const Spike& x) { return x.tick < from; });
    if (compared) *compared += expected.size();
    ASSERT_EQ(expected, resumed.spikes[r]) << what << ", region " << r << ", split at tick " << from;
  }
  ASSERT_EQ(straight.digests, resumed.digests) << what << ", split at tick " << from;
}

}  // namespace thalia::testing
