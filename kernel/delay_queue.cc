// Canonical ordering of a slot by merging its sorted runs, and the packing of a queue for saved
// states and digests.
#include "kernel/delay_queue.h"

#include <algorithm>

namespace thalia::kernel {

void SortArrivals(ArrivalSlot* slot, MergeScratch* scratch) {
  std::vector<uint64_t>& a = slot->keys;
  if (slot->run_starts.empty()) return;  // one run: already in order
  // Many short runs (e.g. jittered internal delays): a sort is as good as the merges.
  constexpr size_t kMaxRuns = 32;
  if (slot->run_starts.size() >= kMaxRuns) {
    std::sort(a.begin(), a.end());
    slot->run_starts.clear();
    return;
  }
  std::vector<uint32_t>& b = scratch->bounds;
  std::vector<uint32_t>& next = scratch->next;
  std::vector<uint64_t>& out = scratch->keys;
  b.assign(1, 0);
  b.insert(b.end(), slot->run_starts.begin(), slot->run_starts.end());
  b.push_back(static_cast<uint32_t>(a.size()));
  // Bottom-up: merge neighbouring runs pairwise until one is left.
  while (b.size() > 2) {
    out.resize(a.size());
    next.clear();
    size_t i = 0;
    for (; i + 2 < b.size(); i += 2) {
      std::merge(a.begin() + b[i], a.begin() + b[i + 1], a.begin() + b[i + 1], a.begin() + b[i + 2],
                 out.begin() + b[i]);
      next.push_back(b[i]);
    }
    if (i + 1 < b.size()) {  // an odd run left over: carried as it is
      std::copy(a.begin() + b[i], a.begin() + b[i + 1], out.begin() + b[i]);
      next.push_back(b[i]);
    }
    next.push_back(static_cast<uint32_t>(a.size()));
    a.swap(out);
    b.swap(next);
  }
  slot->run_starts.clear();
}

size_t DelayQueue::Pending() const {
  size_t n = 0;
  for (const ArrivalSlot& s : slots_) n += s.keys.size();
  return n;
}

std::vector<uint64_t> DelayQueue::Pack(Tick now) {
  std::vector<uint64_t> packed;
  packed.reserve(3 * Pending());
  for (Tick t = now; t < now + slots_.size(); ++t) {
    for (const uint64_t a : Due(t).keys) {
      packed.push_back(t);
      packed.push_back((uint64_t{Arrival::Source(a)} << 32) | Arrival::Neuron(a));
      packed.push_back(Arrival::Group(a));
    }
  }
  return packed;
}

void DelayQueue::Clear() {
  for (ArrivalSlot& s : slots_) s.Clear();
}

}  // namespace thalia::kernel
