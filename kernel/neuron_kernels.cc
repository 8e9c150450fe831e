// The neuron kernels: the per-neuron loops of a tick, as free functions over restrict pointers
// so that they vectorise (one clone per instruction set, kernel/simd.h). Each neuron sees the same
// float operations in the same order in every clone and whatever range of neurons a call covers.
#include "kernel/neuron_kernels.h"

#include <algorithm>
#include <bit>

#include "kernel/simd.h"

namespace thalia::kernel {

// Poisson counts from random words: k = the first index with word < thr[k], at most thr.size() - 1
// (thr is non-decreasing and >= 1). In 32 bits: word >= thr[j] <=> word > thr[j] - 1, and
// thr[j] = 2^32 becomes 0xffffffff, which no word exceeds. The first two comparisons run
// branch-free (vectorised) over blocks of the population; only in a block with a word above
// thr[1] - 1 (rare at low means) do the further entries count, each in one vectorised pass.
THALIA_VECTOR_CLONES void CountPoisson(uint32_t n, const uint32_t* __restrict words,
                                       const std::vector<uint64_t>& thr, uint32_t* __restrict k) {
  const uint32_t a0 = static_cast<uint32_t>(thr[0] - 1);
  const uint32_t a1 = thr.size() > 2 ? static_cast<uint32_t>(thr[1] - 1) : 0xffffffffu;
  const bool longer = thr.size() > 3;
  constexpr uint32_t kBlock = 64;
  for (uint32_t b = 0; b < n; b += kBlock) {
    const uint32_t e = std::min(n, b + kBlock);
    uint32_t high = 0;
    for (uint32_t i = b; i < e; ++i) {
      const uint32_t above = static_cast<uint32_t>(words[i] > a1);
      k[i] = static_cast<uint32_t>(words[i] > a0) + above;
      high |= above;
    }
    if (!longer || high == 0) continue;
    // k = how many of the thresholds the word reaches: one vectorised pass per further entry,
    // until no word of the block reaches it (the table is non-decreasing).
    for (size_t j = 2; j + 1 < thr.size(); ++j) {
      const uint32_t aj = static_cast<uint32_t>(thr[j] - 1);
      uint32_t more = 0;
      for (uint32_t i = b; i < e; ++i) {
        const uint32_t above = static_cast<uint32_t>(words[i] > aj);
        k[i] += above;
        more |= above;
      }
      if (more == 0) break;
    }
  }
}

// in[i] += counts[i] * weight.
THALIA_VECTOR_CLONES void AddCounts(uint32_t n, const uint32_t* __restrict counts, float weight,
                                    float* __restrict in) {
  for (uint32_t i = 0; i < n; ++i) in[i] += static_cast<float>(counts[i]) * weight;
}

// The membrane steps, one per synapse kind, as free functions over restrict pointers so that
// they vectorise; every neuron sees the same float operations in the same order. Each step also
// clears the tick's inputs it has consumed (ie, ii), which saves a separate pass over them.
THALIA_VECTOR_CLONES void StepDelta(uint32_t n, float v_rest, float pm, float omp, float bias, float* __restrict v,
               const float* __restrict iext, const float* __restrict w, float* __restrict ie,
               float* __restrict ii) {
  for (uint32_t i = 0; i < n; ++i) {
    v[i] = v_rest + (v[i] - v_rest) * pm + (bias + iext[i] - w[i]) * omp + ie[i] - ii[i];
    ie[i] = 0.0f;
    ii[i] = 0.0f;
  }
}

THALIA_VECTOR_CLONES void StepCurrent(uint32_t n, float v_rest, float pm, float omp, float pem, float pim, float pe,
                 float pi, float bias, float* __restrict v, float* __restrict se,
                 float* __restrict si, const float* __restrict iext, const float* __restrict w,
                 float* __restrict ie, float* __restrict ii) {
  for (uint32_t i = 0; i < n; ++i) {
    const float e = se[i] + ie[i], h = si[i] + ii[i];
    v[i] = v_rest + (v[i] - v_rest) * pm + (bias + iext[i] - w[i]) * omp + e * pem - h * pim;
    se[i] = e * pe;
    si[i] = h * pi;
    ie[i] = 0.0f;
    ii[i] = 0.0f;
  }
}

// Conductance: exact decay of g, Euler step of V with g held over the step.
THALIA_VECTOR_CLONES void StepConductance(uint32_t n, float v_rest, float dto, float e_exc, float e_inh, float pe,
                     float pi, float bias, float* __restrict v, float* __restrict se,
                     float* __restrict si, const float* __restrict iext,
                     const float* __restrict w, float* __restrict ie, float* __restrict ii) {
  for (uint32_t i = 0; i < n; ++i) {
    const float e = se[i] + ie[i], h = si[i] + ii[i], vi = v[i];
    v[i] = vi + dto * (-(vi - v_rest) - e * (vi - e_exc) - h * (vi - e_inh) + bias + iext[i] - w[i]);
    se[i] = e * pe;
    si[i] = h * pi;
    ie[i] = 0.0f;
    ii[i] = 0.0f;
  }
}

// The same steps for neurons whose external current and adaptation are +0 (the "quiet" forms),
// fused with the threshold pass (as Threshold with adapt_b = 0, which would store w + 0 = +0 for
// a neuron that fires and w = +0 for the others, so w is left alone): they neither read iext nor
// w, three streams fewer per neuron and tick, and each neuron's V is read and written once. `drive` is the value
// the full form computes from the two, so every neuron gets the same bits: for Delta and Current
// (bias + iext - w) * omp with iext = w = +0, i.e. (bias + 0.0f - 0.0f) * omp, a constant; for
// Conductance the sum keeps its order (... + bias + 0.0f - 0.0f; g++ keeps x + 0.0f, which
// turns -0 into +0, and may drop x - 0.0f, which changes no value).
// Refractoriness, threshold and reset of one neuron whose adaptation stays +0 (see
// ThresholdQuiet), for the fused quiet steps; returns all ones if it fired.
[[gnu::always_inline]] inline int32_t ResetLane(float vi, float v_thresh, int32_t reset_bits,
                                                int32_t ref_ticks, float* v, int32_t* refr,
                                                uint8_t* fired) {
  const int32_t r = *refr;
  const int32_t refractory = -static_cast<int32_t>(r > 0);
  const int32_t fires = -static_cast<int32_t>(vi >= v_thresh) & ~refractory;
  const int32_t reset = refractory | fires;
  *v = std::bit_cast<float>((reset & reset_bits) | (~reset & std::bit_cast<int32_t>(vi)));
  const int32_t r_minus_1 = static_cast<int32_t>(static_cast<uint32_t>(r) - 1u);
  *refr = (refractory & r_minus_1) | (fires & ref_ticks) | (~reset & r);
  *fired = static_cast<uint8_t>(fires & 1);
  return fires;
}

THALIA_VECTOR_CLONES_BYTES bool StepDeltaQuiet(uint32_t n, float v_rest, float pm, float drive,
                                               float* __restrict v, float* __restrict ie,
                                               float* __restrict ii, const QuietReset& q,
                                               int32_t* __restrict refr, uint8_t* __restrict fired) {
  const int32_t reset_bits = std::bit_cast<int32_t>(q.v_reset);
  int32_t any = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const float vi = v_rest + (v[i] - v_rest) * pm + drive + ie[i] - ii[i];
    ie[i] = 0.0f;
    ii[i] = 0.0f;
    any |= ResetLane(vi, q.v_thresh, reset_bits, q.ref_ticks, v + i, refr + i, fired + i);
  }
  return any != 0;
}

THALIA_VECTOR_CLONES_BYTES bool StepCurrentQuiet(uint32_t n, float v_rest, float pm, float drive,
                                                 float pem, float pim, float pe, float pi,
                                                 float* __restrict v, float* __restrict se,
                                                 float* __restrict si, float* __restrict ie,
                                                 float* __restrict ii, const QuietReset& q,
                                                 int32_t* __restrict refr, uint8_t* __restrict fired) {
  const int32_t reset_bits = std::bit_cast<int32_t>(q.v_reset);
  int32_t any = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const float e = se[i] + ie[i], h = si[i] + ii[i];
    const float vi = v_rest + (v[i] - v_rest) * pm + drive + e * pem - h * pim;
    se[i] = e * pe;
    si[i] = h * pi;
    ie[i] = 0.0f;
    ii[i] = 0.0f;
    any |= ResetLane(vi, q.v_thresh, reset_bits, q.ref_ticks, v + i, refr + i, fired + i);
  }
  return any != 0;
}

THALIA_VECTOR_CLONES_BYTES bool StepConductanceQuiet(uint32_t n, float v_rest, float dto, float e_exc,
                                                     float e_inh, float pe, float pi, float bias,
                                                     float* __restrict v, float* __restrict se,
                                                     float* __restrict si, float* __restrict ie,
                                                     float* __restrict ii, const QuietReset& q,
                                                     int32_t* __restrict refr,
                                                     uint8_t* __restrict fired) {
  const int32_t reset_bits = std::bit_cast<int32_t>(q.v_reset);
  int32_t any = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const float e = se[i] + ie[i], h = si[i] + ii[i], v0 = v[i];
    const float vi = v0 + dto * (-(v0 - v_rest) - e * (v0 - e_exc) - h * (v0 - e_inh) + bias + 0.0f - 0.0f);
    se[i] = e * pe;
    si[i] = h * pi;
    ie[i] = 0.0f;
    ii[i] = 0.0f;
    any |= ResetLane(vi, q.v_thresh, reset_bits, q.ref_ticks, v + i, refr + i, fired + i);
  }
  return any != 0;
}

// Refractoriness, threshold and reset of neurons [0, n), branch-free so that it vectorises: a
// refractory neuron counts down clamped at v_reset; any other neuron at or above threshold fires
// (v_reset, a new refractory period, the adaptation jump) and gets fired[i] = 1. Returns whether
// any neuron fired. The choices are bit masks over the floats' bits (g++ does not if-convert float
// selects), so every stored value is exactly the one the branching form would store.
THALIA_VECTOR_CLONES_BYTES bool Threshold(uint32_t n, float v_reset, float v_thresh, float adapt_b, int32_t ref_ticks,
               float* __restrict v, int32_t* __restrict refr, float* __restrict w,
               uint8_t* __restrict fired) {
  const int32_t reset_bits = std::bit_cast<int32_t>(v_reset);
  int32_t any = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t r = refr[i];
    const float vi = v[i], wi = w[i], jumped = wi + adapt_b;
    const int32_t refractory = -static_cast<int32_t>(r > 0);       // all ones or zero
    const int32_t fires = -static_cast<int32_t>(vi >= v_thresh) & ~refractory;
    const int32_t reset = refractory | fires;
    v[i] = std::bit_cast<float>((reset & reset_bits) | (~reset & std::bit_cast<int32_t>(vi)));
    // r - 1 in unsigned arithmetic: the same bits for every counting-down r, and defined for any
    // value a loaded state may hold (INT_MIN - 1 would overflow).
    const int32_t r_minus_1 = static_cast<int32_t>(static_cast<uint32_t>(r) - 1u);
    refr[i] = (refractory & r_minus_1) | (fires & ref_ticks) | (~reset & r);
    w[i] = std::bit_cast<float>((fires & std::bit_cast<int32_t>(jumped)) | (~fires & std::bit_cast<int32_t>(wi)));
    fired[i] = static_cast<uint8_t>(fires & 1);
    any |= fires;
  }
  return any != 0;
}

}  // namespace thalia::kernel
