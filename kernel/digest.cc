// IndexedSum, out of line so that it can be compiled for the vector units the CPU has.
#include "kernel/digest.h"

#include "kernel/simd.h"

namespace thalia::kernel {
namespace digest_detail {  // not anonymous: g++ dispatches target_clones of external functions only

// The elements are independent: 64-bit multiplies in vector lanes (AVX-512DQ, in x86-64-v4;
// AVX2 emulates them, still ahead of one multiply at a time).
THALIA_VECTOR_CLONES_BYTES uint64_t SumMixed(const unsigned char* b, size_t n, uint64_t first) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t w;
    std::memcpy(&w, b + i * 4, 4);
    sum += MixElement(first + i, w);
  }
  return sum;
}

}  // namespace digest_detail

uint64_t IndexedSum(const void* data, size_t n, uint64_t first) {
  return digest_detail::SumMixed(static_cast<const unsigned char*>(data), n, first);
}

}  // namespace thalia::kernel
