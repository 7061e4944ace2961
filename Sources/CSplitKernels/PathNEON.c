// The NEON path (Advanced SIMD, part of every AArch64 core: Cortex-A53, A72, A76, …), for the
// kernels that have a NEON form (f32, f16, bf16 weights; the block dots of Q8_0, the legacy types,
// the k-quants Q2_K–Q6_K and IQ4_XS; attention and the element-wise kernels on Vector8.h, with the
// AVX2 path's bits); the others (the activation quantizers) run their portable C.
#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#define SPLIT_NEON 1
#define SPLIT_PATH_SUFFIX neon
#include "PathKernels.h"
#endif
