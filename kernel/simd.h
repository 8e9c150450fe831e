// Function multi-versioning for the kernel's hot loops: each marked function is compiled for
// AVX-512, AVX2 and the baseline, and the loader picks one for the CPU it runs on. Every clone
// performs the same IEEE operations per element (no FMA: the project builds with
// -ffp-contract=off; integer ops are exact), so results are bit-identical on every machine.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define THALIA_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
// For loops that store bytes from 32-bit lanes (threshold flags): with AVX-512F alone g++ falls
// back to 256-bit vectors and blends there; x86-64-v4 adds AVX-512BW/VL, which keep 512 bits.
// v4 also has FMA, which -ffp-contract=off keeps out, so the bits are those of the other clones.
#define THALIA_VECTOR_CLONES_BYTES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define THALIA_VECTOR_CLONES
#define THALIA_VECTOR_CLONES_BYTES
#endif
