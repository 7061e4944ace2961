// How fast the f16 decode kernel streams on the pool when nothing interrupts it: one 226 MB
// multiply (4 × the SmolLM2-135M LM head, 196608 × 576 f16, in 2 MB pages) over `threads`
// threads, best of 10, in GB/s of weights read. Against `membw`, the ceiling of a decode step's
// matrix work without its 121 hand-offs (BENCHMARKS.md, issue 10, session 6). From the repository root:
//   K=Sources/CSplitKernels
//   clang -O3 -march=native -ffast-math -I$K/include tools/bench/one_multiply.c $K/Kernels/Gemv.c $K/Matmul.c \
//       $K/Pool.c $K/Kernels/QuantQ8.c $K/Kernels/Convert.c -lpthread -o /tmp/one_multiply
//   flock /work/bench.lock sh -c '/tmp/split-membw 2; /tmp/one_multiply 2; /tmp/one_multiply 1; /tmp/split-membw 1'
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include "SplitKernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    size_t rows = 49152 * 4, cols = 576, huge = (size_t)2 << 20;
    size_t bytes = (rows * cols * 2 + huge - 1) / huge * huge;
    uint16_t *w = aligned_alloc(huge, bytes);
    float *x = malloc(cols * sizeof *x), *y = malloc(rows * sizeof *y);
    if (!w || !x || !y) return 1;
    madvise(w, bytes, MADV_HUGEPAGE);
    for (size_t i = 0; i < rows * cols; i++) w[i] = (uint16_t)(0x3000 + (i * 7 & 0x3ff));
    for (size_t i = 0; i < cols; i++) x[i] = (float)i * 0.001f;
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1) return 1;
    split_pool_workers();
    double best = 1e30;
    for (int rep = 0; rep < 10; rep++) {
        double t0 = now();
        split_matmul(SPLIT_WEIGHT_F16, w, rows, cols, x, 1, y, (size_t)threads);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("{\"threads\": %d, \"gemv_gb_per_second\": %.2f, \"check\": %g}\n", threads, rows * cols * 2 / best / 1e9, y[7]);
    return 0;
}
