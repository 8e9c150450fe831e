// The per-neuron loops of one tick (membrane steps, threshold and reset, Poisson counts), over
// any contiguous range of neurons: a population or the part of it one shard owns. Contracts
// here; the reasons for their form in kernel/neuron_kernels.cc.
#pragma once

#include <cstdint>
#include <vector>

namespace thalia::kernel {

// Poisson counts k[i] from random words: the first j with words[i] < thr[j], at most
// thr.size() - 1 (thr non-decreasing, >= 1).
void CountPoisson(uint32_t n, const uint32_t* __restrict words, const std::vector<uint64_t>& thr,
                  uint32_t* __restrict k);
// in[i] += counts[i] * weight.
void AddCounts(uint32_t n, const uint32_t* __restrict counts, float weight, float* __restrict in);

// The membrane steps, one per synapse kind; each also clears the tick's inputs ie, ii.
void StepDelta(uint32_t n, float v_rest, float pm, float omp, float bias, float* __restrict v,
               const float* __restrict iext, const float* __restrict w, float* __restrict ie,
               float* __restrict ii);
void StepCurrent(uint32_t n, float v_rest, float pm, float omp, float pem, float pim, float pe,
                 float pi, float bias, float* __restrict v, float* __restrict se,
                 float* __restrict si, const float* __restrict iext, const float* __restrict w,
                 float* __restrict ie, float* __restrict ii);
void StepConductance(uint32_t n, float v_rest, float dto, float e_exc, float e_inh, float pe,
                     float pi, float bias, float* __restrict v, float* __restrict se,
                     float* __restrict si, const float* __restrict iext, const float* __restrict w,
                     float* __restrict ie, float* __restrict ii);

// The steps for neurons whose external current (iext) and adaptation (w) are all +0 and that
// have no adaptation (adapt_b == 0), fused with Threshold: they read neither iext nor w and
// give the same bits as the full step and Threshold, with drive = (bias + 0.0f - 0.0f) * omp for
// Delta and Current (Conductance takes bias itself). Return whether any neuron fired.
struct QuietReset {
  float v_reset, v_thresh;
  int32_t ref_ticks;
};
bool StepDeltaQuiet(uint32_t n, float v_rest, float pm, float drive, float* __restrict v,
                    float* __restrict ie, float* __restrict ii, const QuietReset& q,
                    int32_t* __restrict refr, uint8_t* __restrict fired);
bool StepCurrentQuiet(uint32_t n, float v_rest, float pm, float drive, float pem, float pim,
                      float pe, float pi, float* __restrict v, float* __restrict se,
                      float* __restrict si, float* __restrict ie, float* __restrict ii,
                      const QuietReset& q, int32_t* __restrict refr, uint8_t* __restrict fired);
bool StepConductanceQuiet(uint32_t n, float v_rest, float dto, float e_exc, float e_inh, float pe,
                          float pi, float bias, float* __restrict v, float* __restrict se,
                          float* __restrict si, float* __restrict ie, float* __restrict ii,
                          const QuietReset& q, int32_t* __restrict refr,
                          uint8_t* __restrict fired);

// Refractoriness, threshold and reset of neurons [0, n); fired[i] = 1 for each neuron that
// fired, 0 for the others. Returns whether any did.
bool Threshold(uint32_t n, float v_reset, float v_thresh, float adapt_b, int32_t ref_ticks,
               float* __restrict v, int32_t* __restrict refr, float* __restrict w,
               uint8_t* __restrict fired);

}  // namespace thalia::kernel
