// Exact properties of the kernel over generated brains: results do not depend on how the run is
// cut into epochs (batch_window) or a region into parts held apart (as processes will), and a
// run captured and restored at any tick continues exactly as the uninterrupted one, inputs and
// modulator events pending at the split included.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "kernel/brain.h"
#include "tests/kernel/region_parts.h"
#include "tests/properties/brain_gen.h"

namespace thalia::testing {
namespace {

using kernel::Brain;
using kernel::RunOptions;

std::vector<uint8_t> WithBatchWindow(const std::vector<uint8_t>& config, double ms) {
  schema::BrainT b;
  schema::GetBrain(config.data())->UnPackTo(&b);
  b.batch_window_ms = ms;
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Brain::Pack(fbb, &b), schema::BrainIdentifier());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::shared_ptr<const kernel::BrainSpec> Resolve(std::vector<uint8_t> config) {
  auto s = kernel::ResolveBrainSpec(std::move(config), "generated");
  RC_ASSERT(s.ok());
  return s.value();
}

std::unique_ptr<Brain> Make(std::shared_ptr<const kernel::BrainSpec> spec) {
  RunOptions o;
  o.keep_spikes = true;
  auto b = Brain::Create(std::move(spec), o);
  RC_ASSERT(b.ok());
  return std::move(b).value();
}

RC_GTEST_PROP(KernelProperties, BatchWindowNeverChangesSpikesOrDigests, ()) {
  auto config = GenBrainConfig();
  RC_LOG() << kernel::ConfigToJson(config) << "\n";
  auto a = Make(Resolve(config));
  const double window = *rc::gen::element(0.1, 0.2, 0.3, 0.7, 1.3);
  RC_LOG() << "batch_window_ms " << window << "\n";
  auto b = Make(Resolve(WithBatchWindow(config, window)));
  const kernel::Tick until = a->spec().DurationTicks();
  RC_ASSERT(a->RunUntil(until).ok());
  RC_ASSERT(b->RunUntil(until).ok());
  RC_TAG(a->spec().epoch_ticks, b->spec().epoch_ticks);
  for (kernel::RegionId r = 0; r < a->spec().regions.size(); ++r)
    RC_ASSERT(a->TakeSpikes(r) == b->TakeSpikes(r));
  RC_LOG() << "spikes equal\n";
  RC_ASSERT(a->Digest().value() == b->Digest().value());
}

// Any region of a generated brain cut into 1-4 parts (each on 1-3 shards), run through epochs
// of random length up to its smallest internal delay with spikes of other regions and API
// inputs: the parts emit the whole's spikes and their digests combine into the whole's, light
// every epoch and full at the end.
RC_GTEST_PROP(KernelProperties, RegionPartsEqualTheWholeRegion, ()) {
  auto config = GenBrainConfig();
  RC_LOG() << kernel::ConfigToJson(config) << "\n";
  auto spec = Resolve(config);
  const auto id = *rc::gen::inRange<kernel::RegionId>(0, spec->regions.size());
  const uint32_t n = spec->regions[id].size;
  std::vector<uint32_t> cuts;
  const int parts = *rc::gen::inRange(1, static_cast<int>(std::min<uint32_t>(n, 4)) + 1);
  while (cuts.size() + 1 < static_cast<size_t>(parts)) {
    const uint32_t c = *rc::gen::inRange<uint32_t>(1, n);
    if (std::find(cuts.begin(), cuts.end(), c) == cuts.end()) cuts.push_back(c);
  }
  std::sort(cuts.begin(), cuts.end());
  const uint32_t shards = *rc::gen::inRange(1, 4);
  RC_LOG() << "region " << id << " cut at " << rc::toString(cuts) << ", " << shards << " shards\n";
  kernel::testing::RegionParts run(*spec, id, cuts, shards);
  RC_ASSERT(run.ok());
  const kernel::Tick max_epoch = run.whole().InternalDelay() == 0 ? 20 : run.whole().InternalDelay();
  kernel::ModulatorModel model(*spec);
  const kernel::ModulatorState mods = model.Initial();
  const kernel::Tick until = spec->DurationTicks();
  for (uint64_t e = 0; run.whole().tick() < until; ++e) {
    const kernel::Tick t0 = run.whole().tick();
    const kernel::Tick t1 = std::min(until, t0 + *rc::gen::inRange<kernel::Tick>(1, max_epoch + 1));
    kernel::EpochContext ctx{e, t0, t1, mods, {}};
    std::vector<kernel::InSpike> outside;
    for (kernel::RegionId r = 0; r < spec->regions.size(); ++r)
      if (r != id && e % 3 == 0)
        for (kernel::NeuronId k = 0; k < 4; ++k)
          outside.push_back({t0, r, static_cast<kernel::NeuronId>((e * 13 + k * 5) % spec->regions[r].size)});
    std::vector<kernel::ExternalInput> external;
    if (e % 4 == 1) {
      external.push_back({t0, static_cast<kernel::NeuronId>(e % n), 4.0f, kernel::ExternalInput::kSpike});
      external.push_back({t1 - 1, static_cast<kernel::NeuronId>((e * 7) % n), 2.5f, kernel::ExternalInput::kCurrent});
    }
    const std::string diff = run.Step(ctx, outside, external, t1 == until);
    RC_LOG() << diff << "\n";
    RC_ASSERT(diff.empty());
  }
  RC_CLASSIFY(run.spikes() == 0, "silent");
}

RC_GTEST_PROP(KernelProperties, RestoredRunContinuesExactlyAsUninterrupted, ()) {
  auto config = GenBrainConfig();
  RC_LOG() << kernel::ConfigToJson(config) << "\n";
  auto spec = Resolve(config);
  const kernel::Tick until = spec->DurationTicks();
  const kernel::Tick split = *rc::gen::inRange<kernel::Tick>(1, until);
  auto straight = Make(spec);
  auto first = Make(spec);
  // Inputs and modulator changes through the API, some still pending at the split.
  const kernel::RegionId region = *rc::gen::inRange<kernel::RegionId>(0, spec->regions.size());
  const kernel::NeuronId neuron = *rc::gen::inRange<kernel::NeuronId>(0, spec->regions[region].size);
  const kernel::Tick at = *rc::gen::inRange<kernel::Tick>(0, until);
  for (Brain* b : {straight.get(), first.get()}) {
    RC_ASSERT(b->InjectSpike(region, neuron, 5.0f, at).ok());
    RC_ASSERT(b->SetCurrent(region, neuron, 3.0f, until / 2).ok());
    RC_ASSERT(b->Reward(1.0f).ok());
  }
  RC_ASSERT(straight->RunUntil(until).ok());
  RC_ASSERT(first->RunUntil(split).ok());
  auto state = first->CaptureState();
  RC_ASSERT(state.ok());
  RunOptions o;
  o.keep_spikes = true;
  auto resumed_or = Brain::Restore(spec, state.value(), o);
  RC_ASSERT(resumed_or.ok());
  auto resumed = std::move(resumed_or).value();
  RC_ASSERT(resumed->tick() == first->tick());
  RC_ASSERT(resumed->RunUntil(until).ok());
  for (kernel::RegionId r = 0; r < spec->regions.size(); ++r) {
    auto all = straight->TakeSpikes(r);
    auto before = first->TakeSpikes(r);
    auto after = resumed->TakeSpikes(r);
    before.insert(before.end(), after.begin(), after.end());
    RC_ASSERT(before == all);
  }
  RC_ASSERT(resumed->Digest().value() == straight->Digest().value());
}

}  // namespace
}  // namespace thalia::testing
