// The AVX2 path's f16 GEMV as the portable binary compiles it (PathAVX2.c: x86-64-v2 baseline,
// target attributes) against Kernels/Gemv.c compiled with -march=native, alternating call by call
// in one process, one thread, median of 41 (issue 22: the portable binary within 3% of a native
// build). Rows default to 2048 (2.4 MB of weights, in cache: the code, not the memory, decides).
// From the repository root:
//   K=Sources/CSplitKernels
//   clang -O3 -march=x86-64-v2 -ffast-math -I$K/include -c $K/PathAVX2.c -o /tmp/path_avx2.o
//   clang -O3 -march=native -ffast-math -I$K/include -c $K/Kernels/Gemv.c -Dsplit_gemv_f16=native_gemv_f16 \
//       -Dsplit_gemv_f32=native_gemv_f32 -Dsplit_gemm_f16=native_gemm_f16 -Dsplit_gemm_f32=native_gemm_f32 \
//       -Dsplit_gemm_bf16=native_gemm_bf16 -o /tmp/native_gemv.o
//   clang -O2 -I$K/include tools/bench/path_vs_native_gemv.c /tmp/path_avx2.o /tmp/native_gemv.o $K/Pool.c \
//       -lpthread -lm -o /tmp/path_vs_native_gemv
//   flock /work/bench.lock /tmp/path_vs_native_gemv [rows]
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void split_gemv_f16_avx2(const uint16_t *w, const float *x, float *y, size_t b, size_t e, size_t cols);
void native_gemv_f16(const uint16_t *w, const float *x, float *y, size_t b, size_t e, size_t cols);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int memcmp_floats(const float *a, const float *b, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    size_t rows = argc > 1 ? (size_t)atol(argv[1]) : 2048, cols = 576;
    uint16_t *w = aligned_alloc(64, rows * cols * 2);
    float *x = malloc(cols * 4), *portable = malloc(rows * 4), *native = malloc(rows * 4);
    if (!w || !x || !portable || !native) return 1;
    for (size_t i = 0; i < rows * cols; i++) w[i] = (uint16_t)(0x3000 + (i * 7 & 0x3ff));
    for (size_t i = 0; i < cols; i++) x[i] = (float)i * 0.001f;
    enum { RUNS = 41 };
    double a[RUNS], b[RUNS];
    for (int run = 0; run < RUNS; run++) {
        double t0 = now();
        split_gemv_f16_avx2(w, x, portable, 0, rows, cols);
        a[run] = now() - t0;
        t0 = now();
        native_gemv_f16(w, x, native, 0, rows, cols);
        b[run] = now() - t0;
    }
    qsort(a, RUNS, sizeof a[0], by_value);
    qsort(b, RUNS, sizeof b[0], by_value);
    double bytes = (double)rows * cols * 2;
    printf("f16 GEMV %zu x %zu, one thread: portable %.2f GB/s, -march=native %.2f GB/s (%.3fx); same outputs: %s\n",
           rows, cols, bytes / a[RUNS / 2] / 1e9, bytes / b[RUNS / 2] / 1e9, b[RUNS / 2] / a[RUNS / 2],
           memcmp_floats(portable, native, rows) ? "yes" : "no");
    return 0;
}
