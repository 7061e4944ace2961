// Matrix kernels: this tree's split_gemm_* (1 thread, and split_matmul over the pool on all
// cores) against OpenBLAS sgemm and, when built with OLD=1, the previous kernel (main's Gemv.c,
// symbols renamed), in GFLOP/s; checks every GEMM row bit-identical to its GEMV (BENCHMARKS.md,
// issue 10). From the repository root:
//   K=Sources/CSplitKernels; clang -O3 -march=native -ffast-math -I$K/include tools/bench/kernel_bench.c \
//       $K/Kernels/Gemv.c $K/Kernels/QuantQ8.c $K/Pool.c $K/Matmul.c $K/Kernels/Convert.c -lopenblas -lpthread -lm -o /tmp/kernel_bench
//   /tmp/kernel_bench [threads]
// With the previous kernel for comparison (OLD_GEMV = a copy of the old Gemv.c):
//   clang -O3 -march=native -ffast-math -I$K/include -c $OLD_GEMV -Dsplit_gemm_f16=old_gemm_f16 \
//       -Dsplit_gemm_f32=old_gemm_f32 -Dsplit_gemv_f16=old_gemv_f16 -Dsplit_gemv_f32=old_gemv_f32 -o /tmp/old.o
//   and add -DOLD=1 /tmp/old.o to the line above.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "SplitKernels.h"
void openblas_set_num_threads(int);
#if OLD
void old_gemm_f16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols);
void old_gemm_f32(const float *w, const float *x, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols);
#endif
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
// Best of 7 timings of `it` calls (a shared machine: the minimum is the kernel, not the neighbours).
#define BEST(seconds, it, call)                                                  \
    do {                                                                         \
        seconds = 1e30;                                                          \
        for (int rep = 0; rep < 7; rep++) {                                      \
            double t0_ = now();                                                  \
            for (int i_ = 0; i_ < (it); i_++) { call; }                          \
            double t_ = (now() - t0_) / (it);                                    \
            if (t_ < seconds) seconds = t_;                                      \
        }                                                                        \
    } while (0)

// GGML Q8_0 blocks of w (scale = max|w| / 127, as llama.cpp quantizes).
static void quantize_q8_0(const float *w, uint8_t *out, size_t count) {
    for (size_t b = 0; b < count / 32; b++) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(w[b * 32 + i]));
        float d = amax / 127, id = amax ? 127 / amax : 0;
        uint16_t h;
        split_f32_to_f16(&d, &h, 1);
        memcpy(out + b * 34, &h, 2);
        for (int i = 0; i < 32; i++) out[b * 34 + 2 + i] = (uint8_t)(int8_t)nearbyintf(w[b * 32 + i] * id);
    }
}

enum { F32, F16, Q8, KINDS };
static const char *names[] = {"f32", "f16", "q8_0"};

static void kernel(int kind, const void *w, const float *x, const void *xq, size_t n, float *y, size_t R, size_t C) {
    if (kind == F32) split_gemm_f32(w, x, n, y, R, 0, R, C);
    else if (kind == F16) split_gemm_f16(w, x, n, y, R, 0, R, C);
    else split_gemm_q8_0(w, xq, n, y, R, 0, R, C);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    openblas_set_num_threads(1);
    int shapes[][2] = {{576, 576}, {1536, 576}, {576, 1536}, {49152, 576}};
    int ns[] = {1, 4, 16, 64, 128};
    printf("GFLOP/s; '1t' = one thread, '%dt' = split_matmul on the pool\n", threads);
    for (int s = 0; s < 4; s++) {
        size_t R = shapes[s][0], C = shapes[s][1];
        float *w = malloc(4 * R * C), *x = malloc(4 * 128 * C), *y = malloc(4 * 128 * R), *yy = malloc(4 * R);
        uint16_t *wh = malloc(2 * R * C);
        uint8_t *wq = malloc(R * C / 32 * 34);
        void *xq = malloc(128 * split_q8_activation_stride(C));
        for (size_t i = 0; i < R * C; i++) w[i] = (rand() / (float)RAND_MAX - 0.5f);
        for (size_t i = 0; i < 128 * C; i++) x[i] = (rand() / (float)RAND_MAX - 0.5f);
        split_f32_to_f16(w, wh, R * C);
        quantize_q8_0(w, wq, R * C);
        const void *ws[] = {w, wh, wq};
        for (int k = 0; k < 5; k++) {
            size_t n = ns[k];
            double flop = 2.0 * R * C * n;
            int it = (int)(1e8 / flop) + 1;
            printf("%5zux%-5zu n=%3zu", R, C, n);
            split_quantize_q8_activation(x, n, C, xq);
            for (int kind = 0; kind < KINDS; kind++) {
                double t1, tp;
                BEST(t1, it, kernel(kind, ws[kind], x, xq, n, y, R, C));
                int same = 1;
                for (size_t j = 0; j < n; j++) {
                    kernel(kind, ws[kind], x + j * C, (char *)xq + j * split_q8_activation_stride(C), 1, yy, R, C);
                    if (memcmp(yy, y + j * R, 4 * R)) same = 0;
                }
                int type = kind == F32 ? SPLIT_WEIGHT_F32 : kind == F16 ? SPLIT_WEIGHT_F16 : SPLIT_WEIGHT_Q8_0;
                BEST(tp, it, split_matmul(type, ws[kind], R, C, x, n, y, threads));
                for (size_t j = 0; j < n; j++) {  // the pooled result must be the same bits too
                    kernel(kind, ws[kind], x + j * C, (char *)xq + j * split_q8_activation_stride(C), 1, yy, R, C);
                    if (memcmp(yy, y + j * R, 4 * R)) same = 0;
                }
                printf("  %s 1t %6.1f %dt %6.1f%s", names[kind], flop / t1 / 1e9, threads, flop / tp / 1e9, same ? "" : " NOT-BITEXACT");
            }
            double tb;
            BEST(tb, it, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, R, C, 1, x, C, w, C, 0, y, R));
            printf("  sgemm 1t %6.1f", flop / tb / 1e9);
#if OLD
            BEST(tb, it, old_gemm_f16(wh, x, n, y, R, 0, R, C));
            printf("  old-f16 1t %6.1f", flop / tb / 1e9);
            BEST(tb, it, old_gemm_f32(w, x, n, y, R, 0, R, C));
            printf("  old-f32 1t %6.1f", flop / tb / 1e9);
#endif
            printf("\n");
        }
        free(w); free(x); free(y); free(yy); free(wh); free(wq); free(xq);
    }
}
