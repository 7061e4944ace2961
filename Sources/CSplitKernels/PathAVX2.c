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
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#include "PathKernels.h"
#pragma clang attribute pop
#endif
