// The NEON path with the dot-product instructions (SDOT, ARMv8.2's FEAT_DotProd: Cortex-A55,
// A76 — a Raspberry Pi 5 — and later), compiled for them whatever the baseline; KernelPath.c
// runs it only where the kernel reports HWCAP_ASIMDDP. The int8 block dots take SDOT (Q8_0, the
// legacy types, the k-quants, IQ4_XS); the rest is the NEON path's code.
#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#define SPLIT_NEON 1
#define SPLIT_NEON_DOTPROD 1
#define SPLIT_PATH_SUFFIX neon_dotprod
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#include "PathKernels.h"
#pragma clang attribute pop
#endif
