// Property: any run length and split point, the resumed run is the uninterrupted one.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tests/recorder/checkpoint_scenario.h"

namespace thalia::testing {
namespace {

RC_GTEST_PROP(ResumeProperty, AnySplitGivesTheUninterruptedRun, ()) {
  const Tick until = *rc::gen::inRange<Tick>(50, 2500);
  const Tick split = *rc::gen::inRange<Tick>(0, until + 1);
  ScratchDir dir;
  Outcome straight = Run(until, std::nullopt, "", split);
  Outcome resumed = Run(until, split, dir / "c.thck", split);
  RC_ASSERT(straight.spikes == resumed.spikes);
  RC_ASSERT(straight.digests == resumed.digests);
}

}  // namespace
}  // namespace thalia::testing
