// The AVX-512 path (F, BW, DQ, VL and VNNI: Ice Lake, Sapphire Rapids, Zen 4 and later; a
// Skylake-X without VNNI runs the AVX2 path), compiled for those instructions whatever the
// baseline; KernelPath.c runs it only where cpuid reports them all. (The machine Split is
// developed on is a Zen 3 without AVX-512: this path is compiled and tested only where it runs.)
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#define __AVX__ 1
#define __AVX2__ 1
#define __FMA__ 1
#define __F16C__ 1
#define __AVX512F__ 1
#define __AVX512BW__ 1
#define __AVX512DQ__ 1
#define __AVX512VL__ 1
#define __AVX512VNNI__ 1
#define SPLIT_PATH_SUFFIX avx512
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni"))), \
                             apply_to = function)
#include "PathKernels.h"
#pragma clang attribute pop
#endif
