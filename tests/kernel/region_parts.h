// Runs one region whole and, beside it, as parts (PopulationRegion::RestrictTo) the way processes
// will hold them: each part computes only its neurons and is given the other parts' spikes of the
// previous epoch. Step compares, every epoch, the parts' spikes with the whole's and their combined
// digest entries (CombineDigestParts) with the whole's digest. Shared by the kernel tests and the
// properties.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "kernel/digest.h"
#include "kernel/population_region.h"

namespace thalia::kernel::testing {

class RegionParts {
 public:
  // Region `id` of `spec`, whole, and cut at `cuts` (ascending, inside the region), each part
  // split into `shards` shards (run one after another).
  RegionParts(const BrainSpec& spec, RegionId id, const std::vector<uint32_t>& cuts, uint32_t shards)
      : id_(id), whole_(spec, id) {
    bounds_ = {0};
    bounds_.insert(bounds_.end(), cuts.begin(), cuts.end());
    bounds_.push_back(spec.regions[id].size);
    for (size_t k = 0; k + 1 < bounds_.size(); ++k) {
      parts_.push_back(std::make_unique<PopulationRegion>(spec, id));
      ok_ = ok_ && parts_.back()->RestrictTo(bounds_[k], bounds_[k + 1]);
      parts_.back()->SetParallelism(nullptr, shards);
    }
    last_.resize(parts_.size());
  }
  bool ok() const { return ok_; }
  PopulationRegion& whole() { return whole_; }
  uint64_t spikes() const { return spikes_; }

  // Runs one epoch on the whole and on the parts (`outside`: spikes of other regions, alike for
  // all); returns "" if the parts' spikes and digests (full as well if `full`) are the whole's,
  // else what differs.
  std::string Step(const EpochContext& ctx, const std::vector<InSpike>& outside,
                   const std::vector<ExternalInput>& external, bool full) {
    std::vector<Spike> want;
    whole_.Advance(ctx, outside, external, &want);
    spikes_ += want.size();
    std::vector<std::vector<InSpike>> inbound(parts_.size(), outside);
    for (size_t k = 0; k < parts_.size(); ++k)
      for (size_t j = 0; j < parts_.size(); ++j)
        if (j != k)
          for (const Spike& s : last_[j]) inbound[k].push_back({s.tick, id_, s.neuron});
    std::vector<Spike> got;
    for (size_t k = 0; k < parts_.size(); ++k) {
      std::vector<Spike> mine;
      parts_[k]->Advance(ctx, inbound[k], external, &mine);
      for (const Spike& s : mine)
        if (s.neuron < bounds_[k] || s.neuron >= bounds_[k + 1])
          return "part " + std::to_string(k) + " emitted neuron " + std::to_string(s.neuron);
      got.insert(got.end(), mine.begin(), mine.end());
      last_[k] = std::move(mine);
    }
    std::stable_sort(got.begin(), got.end(), [](const Spike& a, const Spike& b) { return a.tick < b.tick; });
    const std::string at = "epoch " + std::to_string(ctx.epoch) + ": ";
    if (got != want)
      return at + std::to_string(got.size()) + " spikes from the parts, " + std::to_string(want.size()) +
             " from the whole";
    for (bool f : {false, true}) {
      if (f && !full) continue;
      std::vector<DigestPart> entries;
      for (auto& p : parts_) entries.push_back(p->DigestEntries(f));
      uint64_t combined = 0;
      if (!CombineDigestParts(entries, &combined)) return at + "the parts' digest entries do not combine";
      if (combined != whole_.Digest(f)) return at + (f ? "full" : "light") + " digests differ";
    }
    return "";
  }

 private:
  RegionId id_;
  PopulationRegion whole_;
  std::vector<uint32_t> bounds_;
  std::vector<std::unique_ptr<PopulationRegion>> parts_;
  std::vector<std::vector<Spike>> last_;  // each part's spikes of the last epoch
  uint64_t spikes_ = 0;
  bool ok_ = true;
};

}  // namespace thalia::kernel::testing
