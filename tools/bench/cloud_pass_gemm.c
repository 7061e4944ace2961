// The matrix multiplies of one cloud decode pass (BENCHMARKS.md, issue 9): the 15 tail layers
// (q/k/v and gate/up fused as the runtime fuses them, o, down) and the LM head of the
// SmolLM2-135M shape in f16, every layer's weights distinct so that they stream from memory as
// in the server, at n = 1 … 64 rows on the worker pool; best of `reps` passes. Checks the head's
// and a down projection's rows bit-identical to each vector's own GEMV. From the repository root:
//   K=Sources/CSplitKernels; clang -O3 -march=native -ffast-math -I$K/include tools/bench/cloud_pass_gemm.c \
//       $K/Kernels/Gemv.c $K/Kernels/QuantQ8.c $K/Pool.c $K/Matmul.c $K/Kernels/Convert.c -lpthread -lm -o /tmp/cloud_pass_gemm
//   /tmp/cloud_pass_gemm [threads] [reps]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "SplitKernels.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
enum { L = 15, D = 576, KV = 192, FF = 1536, V = 49152 };
typedef struct { uint16_t *q, *k, *v, *o, *g, *u, *d; } layer;
static uint16_t *randw(size_t count) {
    float *f = malloc(4 * count); uint16_t *h = aligned_alloc(64, (2 * count + 63) / 64 * 64);
    for (size_t i = 0; i < count; i++) f[i] = (rand() / (float)RAND_MAX - 0.5f) * 0.1f;
    split_f32_to_f16(f, h, count); free(f); return h;
}
int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    layer ls[L];
    for (int i = 0; i < L; i++) ls[i] = (layer){randw(D * D), randw(KV * D), randw(KV * D), randw(D * D), randw(FF * D), randw(FF * D), randw(D * FF)};
    uint16_t *head = randw((size_t)V * D);
    size_t maxn = 64;
    float *x = malloc(4 * maxn * FF), *y = malloc(4 * maxn * 3 * FF), *yh = malloc(4 * maxn * (size_t)V), *yy = malloc(4 * (size_t)V);
    for (size_t i = 0; i < maxn * FF; i++) x[i] = rand() / (float)RAND_MAX - 0.5f;
    int ns[] = {1, 4, 8, 16, 32, 64};
    for (int k = 0; k < 6; k++) {
        size_t n = ns[k];
        double best[4] = {1e9, 1e9, 1e9, 1e9};
        for (int r = 0; r < reps; r++) {
            double t0 = now(), tq = 0, to = 0, tg = 0, td = 0;
            for (int i = 0; i < L; i++) {
                double a = now();
                split_matmul_part qkv[3] = {{ls[i].q, D, y}, {ls[i].k, KV, y + n * D}, {ls[i].v, KV, y + n * (D + KV)}};
                split_matmul_parts(SPLIT_WEIGHT_F16, qkv, 3, D, x, n, threads);
                double b = now();
                split_matmul(SPLIT_WEIGHT_F16, ls[i].o, D, D, x, n, y, threads);
                double c = now();
                split_matmul_part gu[2] = {{ls[i].g, FF, y}, {ls[i].u, FF, y + n * FF}};
                split_matmul_parts(SPLIT_WEIGHT_F16, gu, 2, D, x, n, threads);
                double d = now();
                split_matmul(SPLIT_WEIGHT_F16, ls[i].d, D, FF, x, n, y, threads);
                double e = now();
                tq += b - a; to += c - b; tg += d - c; td += e - d;
            }
            double t1 = now();
            split_matmul(SPLIT_WEIGHT_F16, head, V, D, x, n, yh, threads);
            double t2 = now();
            (void)tq; (void)to; (void)tg; (void)td;
            if (t1 - t0 < best[0]) best[0] = t1 - t0;
            if (t2 - t1 < best[1]) best[1] = t2 - t1;
            if (tg < best[2]) best[2] = tg;
            if (td < best[3]) best[3] = td;
        }
        double lf = 2.0 * n * L * ((D + 2 * KV + D + 2 * FF) * (double)D + D * (double)FF), hf = 2.0 * n * V * (double)D;
        printf("n=%2zu layers %6.2f ms (%5.0f GFLOP/s; gate/up %5.2f down %5.2f)  head %6.2f ms (%5.0f GFLOP/s)  total %6.2f ms\n", n,
               best[0] * 1e3, lf / best[0] / 1e9, best[2] * 1e3, best[3] * 1e3, best[1] * 1e3, hf / best[1] / 1e9, (best[0] + best[1]) * 1e3);
        // bit-exactness: head rows and a down-projection against GEMV of each vector
        int same = 1;
        for (size_t j = 0; j < n; j++) {
            split_gemv_f16(head, x + j * D, yy, 0, V, D);
            if (memcmp(yy, yh + j * V, 4 * (size_t)V)) same = 0;
        }
        split_matmul(SPLIT_WEIGHT_F16, ls[0].d, D, FF, x, n, y, threads);
        for (size_t j = 0; j < n; j++) {
            split_gemv_f16(ls[0].d, x + j * FF, yy, 0, D, FF);
            if (memcmp(yy, y + j * D, 4 * D)) same = 0;
        }
        if (!same) printf("  NOT BIT-EXACT\n");
    }
}
