// The body of every Path*.c: the kernel files (Kernels/), compiled once per instruction-set path
// under that path's names (KernelNames.h), and the path's table for KernelPath.c. A Path*.c sets
// SPLIT_PATH_SUFFIX and the target macros the kernels test (__AVX2__, SPLIT_NEON, …), includes
// the system headers, then opens `#pragma clang attribute push(target(…))` around this file, so
// the kernels compile for that path while the rest of the binary stays at the baseline
// (-march=x86-64-v2 or armv8-a): one binary runs on any such machine.
#include "KernelNames.h"
#include "Kernels/Convert.c"
#include "Kernels/Gemv.c"
#include "Kernels/QuantQ8.c"
#include "Kernels/QuantQ4_0x8.c"  // before QuantLegacy.c, which computes Q4_0 with it
#include "Kernels/QuantLegacy.c"
#include "Kernels/QuantK.c"
#include "Kernels/QuantIQ4XS.c"
#include "Kernels/Attention.c"
#include "Kernels/Elementwise.c"

#define SPLIT_PATH_ENTRY(ret, name, params, args) .name = split_##name,
const split_kernel_table SPLIT_PATH_NAME(split_kernels) = {
    SPLIT_PATH_KERNELS(SPLIT_PATH_ENTRY)
};
