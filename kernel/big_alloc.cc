#include "kernel/big_alloc.h"

#include <flatbuffers/flatbuffers.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace thalia::kernel {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kHuge = size_t{2} << 20;        // a transparent huge page on x86-64
constexpr size_t kFromArena = size_t{64} << 10;  // a smaller long-lived array comes from the heap
constexpr size_t kOwnMap = size_t{8} << 20;      // a larger one gets a mapping of its own
constexpr size_t kChunk = size_t{32} << 20;      // the arena maps this much at a time
constexpr size_t kAlign = 64;                    // a cache line
constexpr size_t kBufferMap = size_t{1} << 20;   // a transient buffer this large: its own mapping

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)  // g++
#define THALIA_SANITIZED 1
#elif defined(__has_feature)  // clang
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define THALIA_SANITIZED 1
#endif
#endif
#ifdef THALIA_SANITIZED
constexpr bool kSanitized = true;  // every array from the heap, where the sanitizer watches it
#else
constexpr bool kSanitized = false;
#endif

constexpr uintptr_t RoundUp(uintptr_t x, uintptr_t to) { return (x + to - 1) / to * to; }

// `len` bytes (a multiple of kPage) on a kHuge boundary, advised for huge pages.
void* MapAligned(size_t len) {
  void* raw = ::mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t lo = reinterpret_cast<uintptr_t>(raw), start = RoundUp(lo, kHuge);
  const uintptr_t end = start + len, hi = lo + len + kHuge;
  if (start > lo) ::munmap(raw, start - lo);
  if (hi > end) ::munmap(reinterpret_cast<void*>(end), hi - end);
#ifdef MADV_HUGEPAGE
  (void)::madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);  // advice only
#endif
  return reinterpret_cast<void*>(start);
}

// Mid-sized arrays are carved one after another from kChunk mappings, so the synapse arrays of
// a region lie together, in few huge pages, whatever the heap did before. A chunk is returned
// once nothing in it is alive (the newest one is reused from its start instead).
struct Chunk {
  uintptr_t base = 0;
  size_t used = 0, live = 0;
};
std::mutex g_mu;
std::vector<Chunk> g_chunks;  // the newest last

}  // namespace

void* BigAllocate(size_t bytes) {
  if (kSanitized || bytes < kFromArena) return ::operator new(bytes);
  if (bytes >= kOwnMap) return MapAligned(RoundUp(bytes, kPage));
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_chunks.empty() || RoundUp(g_chunks.back().used, kAlign) + bytes > kChunk)
    g_chunks.push_back({reinterpret_cast<uintptr_t>(MapAligned(kChunk)), 0, 0});
  Chunk& c = g_chunks.back();
  const uintptr_t at = RoundUp(c.used, kAlign);
  c.used = at + bytes;
  ++c.live;
  return reinterpret_cast<void*>(c.base + at);
}

void BigFree(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  if (kSanitized || bytes < kFromArena) {
    ::operator delete(p);
    return;
  }
  if (bytes >= kOwnMap) {
    ::munmap(p, RoundUp(bytes, kPage));
    return;
  }
  const uintptr_t x = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = std::find_if(g_chunks.begin(), g_chunks.end(),
                         [&](const Chunk& c) { return x >= c.base && x < c.base + kChunk; });
  if (it == g_chunks.end() || --it->live > 0) return;
  if (it + 1 == g_chunks.end()) {
    it->used = 0;  // the newest chunk: start it over
  } else {
    ::munmap(reinterpret_cast<void*>(it->base), kChunk);
    g_chunks.erase(it);
  }
}

void AdviseHugePages(const void* p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t lo = RoundUp(reinterpret_cast<uintptr_t>(p), kHuge);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + bytes) / kHuge * kHuge;
  if (hi > lo) (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // advice only
#else
  (void)p;
  (void)bytes;
#endif
}

std::vector<uint8_t> FreshBytes(size_t n) {
  std::vector<uint8_t> v;
  v.reserve(n);
  AdviseHugePages(v.data(), n);
  v.resize(n);
  return v;
}

std::vector<uint8_t> CopyToFreshBytes(std::span<const uint8_t> bytes) {
  std::vector<uint8_t> v;
  v.reserve(bytes.size());
  AdviseHugePages(v.data(), bytes.size());
  v.insert(v.end(), bytes.begin(), bytes.end());
  return v;
}

void* BufferAllocate(size_t bytes) {
  if (kSanitized || bytes < kBufferMap) return ::operator new(bytes);
  return MapAligned(RoundUp(bytes, kPage));
}

void BufferFree(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  if (kSanitized || bytes < kBufferMap) {
    ::operator delete(p);
  } else {
    ::munmap(p, RoundUp(bytes, kPage));
  }
}

namespace {

class FlatBufferAllocator final : public flatbuffers::Allocator {
 public:
  uint8_t* allocate(size_t size) override { return static_cast<uint8_t*>(BufferAllocate(size)); }
  void deallocate(uint8_t* p, size_t size) override { BufferFree(p, size); }
};

}  // namespace

flatbuffers::Allocator& BufferAllocator() {
  static FlatBufferAllocator allocator;
  return allocator;
}

}  // namespace thalia::kernel
