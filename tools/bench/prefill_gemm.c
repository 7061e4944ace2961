// The matrix multiplies of one Llama-3.2-1B-shaped prefill layer (q/k/v fused 3072 × 2048,
// o 2048 × 2048, gate/up fused 16384 × 2048, down 2048 × 8192) at n = 128 tokens on the worker
// pool, in f16 (split_gemm_f16) or q8_0 (split_gemm_legacy, the AVX2 machines' Q8_0 kernel),
// this tree's kernel against the previous one (main's Gemv.c / QuantLegacy.c, symbols renamed),
// alternating A B A B, best of `reps`, in GFLOP/s; checks the new outputs bit-identical to the
// old (the per-output sequence is fixed, so any reordering shows) (BENCHMARKS.md, issue 22).
// The rows are split as split_matmul splits them (4 chunks per thread, in 4-row units).
// From the repository root:
//   K=Sources/CSplitKernels; git show main:$K/Kernels/Gemv.c > /tmp/old_Gemv.c
//   clang -O3 -march=native -ffast-math -I$K/include -I$K -c /tmp/old_Gemv.c -Dsplit_gemm_f16=old_gemm_f16 \
//       -Dsplit_gemm_f32=old_gemm_f32 -Dsplit_gemv_f16=old_gemv_f16 -Dsplit_gemv_f32=old_gemv_f32 \
//       -Dsplit_gemm_bf16=old_gemm_bf16 -o /tmp/old_gemv.o
//   git show main:$K/Kernels/QuantLegacy.c > /tmp/old_QuantLegacy.c
//   clang -O3 -march=native -ffast-math -I$K/include -I$K/Kernels -c /tmp/old_QuantLegacy.c \
//       -Dsplit_gemm_legacy=old_gemm_legacy -Dsplit_q8_1_activation_stride=old_q8_1_stride \
//       -Dsplit_quantize_q8_1_activation=old_quantize_q8_1 -Dsplit_dequantize_legacy=old_dequantize_legacy -o /tmp/old_legacy.o
//   clang -O3 -march=native -ffast-math -I$K/include tools/bench/prefill_gemm.c $K/Kernels/Gemv.c /tmp/old_gemv.o \
//       $K/Kernels/QuantLegacy.c $K/Kernels/QuantQ8.c /tmp/old_legacy.o $K/Pool.c $K/Kernels/Convert.c -lpthread -lm \
//       -o /tmp/prefill_gemm
//   flock /work/bench.lock /tmp/prefill_gemm f16|q8_0 [threads] [reps]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "SplitKernels.h"
void old_gemm_f16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols);
void old_gemm_legacy(int type, const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols);
typedef void (*gemm_fn)(const void *, const void *, size_t, float *, size_t, size_t, size_t, size_t);
static void new_f16(const void *w, const void *x, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols) {
    split_gemm_f16(w, x, n, y, ldy, b, e, cols);
}
static void old_f16(const void *w, const void *x, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols) {
    old_gemm_f16(w, x, n, y, ldy, b, e, cols);
}
static void new_q8(const void *w, const void *x, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols) {
    split_gemm_legacy(SPLIT_WEIGHT_Q8_0, w, x, n, y, ldy, b, e, cols);
}
static void old_q8(const void *w, const void *x, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols) {
    old_gemm_legacy(SPLIT_WEIGHT_Q8_0, w, x, n, y, ldy, b, e, cols);
}
// One thread is timed by its own CPU time (a loaded machine then slows it less: descheduled
// time does not count), more than one by the wall clock.
static clockid_t clock_id = CLOCK_MONOTONIC;
static double now(void) { struct timespec t; clock_gettime(clock_id, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
typedef struct { gemm_fn f; const void *w; const void *x; size_t n, rows, cols; float *y; } job;
static void chunk(void *c, size_t i, size_t chunks) {
    const job *j = c;
    size_t units = (j->rows + 3) / 4, b = units * i / chunks * 4, e = units * (i + 1) / chunks * 4;
    j->f(j->w, j->x, j->n, j->y, j->rows, b, e < j->rows ? e : j->rows, j->cols);
}
// f16 weights, or q8_0 blocks (an f16 scale and 32 signed bytes each).
static void *randw(size_t count, int q8) {
    size_t bytes = q8 ? count / 32 * 34 : count * 2;
    uint8_t *b = aligned_alloc(64, (bytes + 63) / 64 * 64);
    for (size_t i = 0; i < count; i++) {
        float f = (rand() / (float)RAND_MAX - 0.5f) * 0.1f;
        if (!q8) split_f32_to_f16(&f, (uint16_t *)b + i, 1);
        else if (i % 32 == 0) { f = 0.001f + f * 0.01f; split_f32_to_f16(&f, (uint16_t *)(b + i / 32 * 34), 1); }
        else b[i / 32 * 34 + 2 + i % 32] = (uint8_t)(rand() & 0xff);
    }
    if (q8) for (size_t i = 0; i < count; i += 32) b[i / 32 * 34 + 2] = (uint8_t)(rand() & 0xff);
    return b;
}
int main(int argc, char **argv) {
    int q8 = argc > 1 && strcmp(argv[1], "q8_0") == 0;
    size_t threads = argc > 2 ? (size_t)atoi(argv[2]) : 2, reps = argc > 3 ? (size_t)atoi(argv[3]) : 5, n = 128;
    enum { M = 4 };
    const char *names[M] = {"qkv 3072x2048", "o 2048x2048", "gate_up 16384x2048", "down 2048x8192"};
    size_t rows[M] = {3072, 2048, 16384, 2048}, cols[M] = {2048, 2048, 2048, 8192};
    split_pool_workers();
    if (threads == 1) clock_id = CLOCK_THREAD_CPUTIME_ID;
    float *x = malloc(4 * n * 8192), *ya = malloc(4 * n * 16384), *yb = malloc(4 * n * 16384);
    for (size_t i = 0; i < n * 8192; i++) x[i] = rand() / (float)RAND_MAX - 0.5f;
    void *xq[2] = {0, 0};  // the quantized activation at 2048 and 8192 columns
    for (int k = 0; q8 && k < 2; k++) {
        size_t c = k ? 8192 : 2048;
        xq[k] = aligned_alloc(64, n * split_q8_activation_stride(c));
        split_quantize_q8_activation(x, n, c, xq[k]);
    }
    double total[2] = {0, 0};
    int same = 1;
    for (int m = 0; m < M; m++) {
        void *w = randw(rows[m] * cols[m], q8);
        const void *xin = q8 ? xq[cols[m] == 8192] : (const void *)x;
        double best[2] = {1e30, 1e30};
        for (size_t r = 0; r < reps; r++)
            for (int v = 0; v < 2; v++) {  // A B A B
                gemm_fn f = q8 ? (v ? new_q8 : old_q8) : (v ? new_f16 : old_f16);
                job j = {f, w, xin, n, rows[m], cols[m], v ? yb : ya};
                double t0 = now();
                split_pool_run(chunk, &j, threads > 1 ? threads * 4 : 1);
                double t = now() - t0;
                if (t < best[v]) best[v] = t;
            }
        int eq = memcmp(ya, yb, 4 * n * rows[m]) == 0;
        same &= eq;
        double flops = 2.0 * n * rows[m] * cols[m];
        printf("%-20s old %6.1f GFLOP/s  new %6.1f GFLOP/s  (%.2f ms -> %.2f ms) %s\n", names[m], flops / best[0] / 1e9,
               flops / best[1] / 1e9, best[0] * 1e3, best[1] * 1e3, eq ? "bit-identical" : "DIFFERENT");
        total[0] += best[0]; total[1] += best[1];
        free(w);
    }
    printf("%s layer: old %.2f ms, new %.2f ms (%.2fx), threads %zu\n", q8 ? "q8_0" : "f16", total[0] * 1e3, total[1] * 1e3,
           total[0] / total[1], threads);
    if (threads == 1) printf("(thread CPU time)\n");
    return same ? 0 : 1;
}
