// One thread's f16 GEMV over the LM head's shape (49152 × 576, 56 MB: far larger than the caches),
// best of 15, in GB/s of weights read: what software prefetch in Gemv.c's decode kernel buys
// (BENCHMARKS.md, issue 10, sessions 4 and 5). From the repository root:
//   K=Sources/CSplitKernels
//   for p in 0 4608; do clang -O3 -march=native -ffast-math -I$K/include -DGEMV_PREFETCH_BYTES=$p \
//       tools/bench/gemv_bandwidth.c $K/Kernels/Gemv.c -o /tmp/gemv_bandwidth_$p; done
//   clang -O2 -march=native tools/bench/membw.c -lpthread -o /tmp/membw
//   flock /work/bench.lock sh -c '/tmp/gemv_bandwidth_0; /tmp/gemv_bandwidth_4608; /tmp/membw 1'
// (GEMV_PREFETCH_BYTES=0 asks for the line being loaded: the kernel without a useful prefetch.)
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "SplitKernels.h"
#ifdef GEMV_PREFETCH_BYTES
#define PREFETCH_BYTES_ARG GEMV_PREFETCH_BYTES
#else
#define PREFETCH_BYTES_ARG 4608
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    size_t rows = 49152, cols = 576;
    uint16_t *w = aligned_alloc(64, rows * cols * 2);
    float *x = malloc(cols * sizeof *x), *y = malloc(rows * sizeof *y);
    if (!w || !x || !y) return 1;
    for (size_t i = 0; i < rows * cols; i++) w[i] = (uint16_t)(0x3000 + (i * 7 & 0x3ff));
    for (size_t i = 0; i < cols; i++) x[i] = (float)i * 0.001f;
    double best = 1e30;
    for (int rep = 0; rep < 15; rep++) {
        double t0 = now();
        split_gemv_f16(w, x, y, 0, rows, cols);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("{\"prefetch_bytes\": %d, \"gemv_gb_per_second\": %.2f, \"check\": %g}\n", (int)(PREFETCH_BYTES_ARG), rows * cols * 2 / best / 1e9, y[7]);
    return 0;
}
