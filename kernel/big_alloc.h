// Where the kernel's large arrays live. Two kinds:
// - Arrays that live as long as their region (synapses: BigVector), placed for the walk a spike
//   makes through them: from 64 KiB they are carved one after another from 32 MiB mappings (from
//   8 MiB, a mapping each), on 2 MiB boundaries and advised for transparent huge pages where the
//   system allows it, so they cost few TLB misses and their speed does not depend on what the heap
//   did before.
// - Large transient buffers (region states, checkpoint files and their FlatBuffers), advised for
//   huge pages before they are first written (see below).
// Smaller arrays, and every array in sanitizer builds, come from the heap, where the sanitizers
// watch them. Where an array lives never changes what it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace flatbuffers {
class Allocator;
}

namespace thalia::kernel {

// Raw storage: BigAllocate(bytes) / BigFree(p, bytes), with the same `bytes`. For arrays that live
// as long as their region: the shared mappings are reused only once everything in them is freed.
void* BigAllocate(size_t bytes);
void BigFree(void* p, size_t bytes) noexcept;

// Large transient buffers (region states, checkpoint files, their FlatBuffers): a first write into
// fresh memory faults once per 4 KiB page, and on a virtual machine those faults were most of the
// time a checkpoint took. Advised for huge pages before anything touches them, a multi-MiB buffer
// faults a few times instead of a few thousand.
//
// Advises the 2 MiB-aligned part of [p, p + bytes); call it before the memory is first written.
void AdviseHugePages(const void* p, size_t bytes);
// `n` zero bytes in memory advised so.
std::vector<uint8_t> FreshBytes(size_t n);
// A copy of `bytes` in memory advised so.
std::vector<uint8_t> CopyToFreshBytes(std::span<const uint8_t> bytes);
// Raw storage for such buffers, not zeroed: from 1 MiB a mapping of its own, returned at once by
// BufferFree (with the same `bytes`).
void* BufferAllocate(size_t bytes);
void BufferFree(void* p, size_t bytes) noexcept;
// A FlatBuffers allocator over BufferAllocate, for builders of large buffers; stateless, shared.
flatbuffers::Allocator& BufferAllocator();

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
