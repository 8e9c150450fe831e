// Storage for the large read-mostly arrays of a region (synapses), placed for the walk a spike
// makes through them: arrays from 64 KiB are carved one after another from 32 MiB mappings (from
// 8 MiB, a mapping each), on 2 MiB boundaries and marked for transparent huge pages where the
// system allows it, so they cost few TLB misses and their speed does not depend on what the heap
// did before; smaller arrays, and every array in sanitizer builds, come from the heap. Where an
// array lives never changes what it holds.
#pragma once

#include <cstddef>
#include <vector>

namespace thalia::kernel {

// Raw storage: BigAllocate(bytes) / BigFree(p, bytes), with the same `bytes`.
void* BigAllocate(size_t bytes);
void BigFree(void* p, size_t bytes) noexcept;

template <typename T>
struct BigAllocator {
  using value_type = T;
  BigAllocator() = default;
  template <typename U>
  BigAllocator(const BigAllocator<U>&) {}  // NOLINT: rebinding is implicit by design
  T* allocate(size_t n) { return static_cast<T*>(BigAllocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { BigFree(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const BigAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using BigVector = std::vector<T, BigAllocator<T>>;

}  // namespace thalia::kernel
