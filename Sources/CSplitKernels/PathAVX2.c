// The AVX2 path (with FMA and F16C: Haswell, Zen and later), compiled for those instructions
// whatever the baseline; KernelPath.c runs it only where cpuid reports all three.
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#undef __AVX512F__
#undef __AVX512BW__
#undef __AVX512DQ__
#undef __AVX512VL__
#undef __AVX512VNNI__
#define __AVX__ 1
#define __AVX2__ 1
#define __FMA__ 1
#define __F16C__ 1
#define SPLIT_PATH_SUFFIX avx2
// Tuned for Haswell, the first CPU with all three: with the baseline's generic tuning the f16
// GEMV (2048 × 576, in cache, one thread) ran 3-4% behind a -march=native build of the same code on
// this Zen 3; tuned for Haswell (or Zen 3) it ran level (43.1 vs 42.9, 44.3 vs 43.7 GB/s; issue 22).
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,tune=haswell"))), apply_to = function)
#include "PathKernels.h"
#pragma clang attribute pop
#endif
