// One k-quant decode GEMV, one thread, 2048 columns: this tree's split_gemm_k (n = 1) against
// llama.cpp's ggml_vec_dot_q4_K_q8_K / ggml_vec_dot_q6_K_q8_K row by row (what llama.cpp c392e50
// runs on x86: no k-quant repack there), in cache (512 rows) and from memory (57344 rows), best
// of 400 / 9, in GB/s of weights; with -DOLD also a previous QuantK.c (symbols renamed) in the same
// process, and whether every row's bits match it (docs/benchmarks/issue-18-quantized.md, session 10).
// From the repository root (L = a native llama.cpp build's bin/, OLD_QUANTK = a copy of the old file):
//   K=Sources/CSplitKernels; L=/work/llama.cpp/build/bin
//   clang -O3 -march=native -I$K/include -I$K/Kernels -c $K/Kernels/QuantK.c -o /tmp/new.o
//   clang -O3 -march=native -I$K/include -I$K/Kernels -c $OLD_QUANTK -Dsplit_gemm_k=old_gemm_k \
//       -Dsplit_quantize_q8k_activation=old_q8k -Dsplit_q8k_activation_stride=old_q8ks \
//       -Dsplit_dequantize_k=old_deqk -o /tmp/old.o
//   clang -O3 -march=native -DOLD tools/bench/kquant_vs_ggml.c /tmp/new.o /tmp/old.o -L$L -lggml-cpu \
//       -lggml-base -lggml -Wl,-rpath,$L -lm -o /tmp/kquant_vs_ggml
//   flock /work/bench.lock sh -c '/tmp/kquant_vs_ggml 10; /tmp/kquant_vs_ggml 12'   # Q4_K, Q6_K
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <math.h>
void ggml_cpu_init(void);
struct ggml_init_params { size_t mem_size; void *mem_buffer; _Bool no_alloc; };
void *ggml_init(struct ggml_init_params);
#include <time.h>
#include <sys/mman.h>
void split_gemm_k(int type, const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols);
void old_gemm_k(int type, const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t b, size_t e, size_t cols);
void split_quantize_q8k_activation(const float *x, size_t n, size_t cols, void *d);
void ggml_vec_dot_q4_K_q8_K(int n, float *s, size_t bs, const void *vx, size_t bx, const void *vy, size_t by, int nrc);
void quantize_row_q8_K(const float *x, void *y, int64_t k);
void quantize_row_q4_K_ref(const float *x, void *y, int64_t k);
void quantize_row_q6_K_ref(const float *x, void *y, int64_t k);
void ggml_vec_dot_q6_K_q8_K(int n, float *s, size_t bs, const void *vx, size_t bx, const void *vy, size_t by, int nrc);
#define TYPE_Q4_K 10  // SPLIT_WEIGHT_Q4_K (12: Q6_K)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) { { struct ggml_init_params p = {1<<20, 0, 0}; ggml_init(p); ggml_cpu_init(); }
    int type = argc > 1 ? atoi(argv[1]) : TYPE_Q4_K;
    size_t cols = 2048, big = 57344, bytes = cols / 256 * (type == 12 ? 210 : 144);
    void (*qr)(const float *, void *, int64_t) = type == 12 ? quantize_row_q6_K_ref : quantize_row_q4_K_ref;
    void (*vd)(int, float *, size_t, const void *, size_t, const void *, size_t, int) = type == 12 ? ggml_vec_dot_q6_K_q8_K : ggml_vec_dot_q4_K_q8_K;
    uint8_t *w = aligned_alloc(2 << 20, big * bytes);
    madvise(w, big * bytes, MADV_HUGEPAGE);
    float *f = malloc(cols * 4 * 64);
    srand(1);
    for (size_t i = 0; i < cols * 64; i++) f[i] = (float)rand() / 2147483648.0f - 0.5f;
    for (size_t r = 0; r < big; r++) qr(f + (r % 64) * cols, w + r * bytes, cols);
    float *x = malloc(cols * 4);
    for (size_t i = 0; i < cols; i++) x[i] = sinf(i * 0.1f);
    uint8_t xq[8 * 320] __attribute__((aligned(64))), xl[8 * 292] __attribute__((aligned(64)));
    split_quantize_q8k_activation(x, 1, cols, xq);
    quantize_row_q8_K(x, xl, cols);
    float *y0 = malloc(big * 4), *y1 = malloc(big * 4), *y2 = malloc(big * 4);
    size_t sizes[2] = {512, big};
    for (int s = 0; s < 2; s++) {
        size_t rows = sizes[s];
        int reps = s ? 9 : 400;
        double b0 = 1e9, b1 = 1e9, b2 = 1e9;
        for (int rep = 0; rep < reps; rep++) {
            double t = now(); split_gemm_k(type, w, xq, 1, y0, rows, 0, rows, cols); t = now() - t; if (t < b0) b0 = t;
            t = now(); for (size_t r = 0; r < rows; r++) vd(cols, y1 + r, 0, w + r * bytes, 0, xl, 0, 1); t = now() - t; if (t < b1) b1 = t;
#ifdef OLD
            t = now(); old_gemm_k(type, w, xq, 1, y2, rows, 0, rows, cols); t = now() - t; if (t < b2) b2 = t;
#endif
        }
        double maxd = 0; int same = 1;
        for (size_t r = 0; r < rows; r++) { double d = fabs(y0[r] - y1[r]); if (d > maxd) maxd = d;
#ifdef OLD
            if (memcmp(&y0[r], &y2[r], 4)) same = 0;
#endif
        }
        double gb = rows * bytes / 1e9;
        printf("%6zu rows: split %.2f GB/s (%.1f us)  llama.cpp %.2f GB/s (%.1f us)", rows, gb / b0, b0 * 1e6, gb / b1, b1 * 1e6);
#ifdef OLD
        printf("  old %.2f GB/s, bits %s", gb / b2, same ? "same" : "DIFFER");
#endif
        printf("  max|split-llama| %.3g\n", maxd);
    }
    return 0;
}
