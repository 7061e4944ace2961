// The scalar path: the kernels' portable C (which the compiler may still vectorise at the
// baseline level), on every architecture; the reference the other paths are tested against.
#include <math.h>
#include <stdlib.h>
#include <string.h>
// A build with SPLIT_MARCH=native would otherwise hand this path the SIMD branches.
#undef __AVX512F__
#undef __AVX512BW__
#undef __AVX512DQ__
#undef __AVX512VL__
#undef __AVX512VNNI__
#undef __AVX2__
#undef __FMA__
#undef __F16C__
#define SPLIT_PATH_SUFFIX scalar
#include "PathKernels.h"
