// Function multi-versioning for the kernel's hot loops: each marked function is compiled for
// AVX-512, AVX2 and the baseline, and the loader picks one for the CPU it runs on. Every clone
// performs the same IEEE operations per element (no FMA: the project builds with
// -ffp-contract=off; integer ops are exact), so results are bit-identical on every machine.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define THALIA_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define THALIA_VECTOR_CLONES
#endif
