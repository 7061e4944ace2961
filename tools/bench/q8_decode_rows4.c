// The Q8_0 decode GEMV (n = 1), one thread, on the AVX2 path: this tree's kernel against a previous
// tree's (its PathAVX2.c built under the suffix oldavx2) and llama.cpp's ggml_vec_dot_q8_0_q8_0 row
// by row (c392e50 on x86 has no Q8_0 repack), at 576 columns × 1536 rows (SmolLM2-135M's FFN up)
// and 2048 × 8192 (Llama-3.2-1B's), in cache (one matrix again and again) and from memory (copies
// of it filling 256 MB, each read once per pass), best of several passes, A B C A B C, in GB/s of
// weights; and whether every output's bits match the old kernel's (also over a row range with a
// tail of 3 rows). From the repository root (OLD = a checkout of the old tree's Sources/CSplitKernels):
//   K=Sources/CSplitKernels; L=/work/llama.cpp/build/bin; F="-O3 -ffast-math -march=x86-64-v2"
//   sed 's/SPLIT_PATH_SUFFIX avx2/SPLIT_PATH_SUFFIX oldavx2/' $OLD/PathAVX2.c > $OLD/PathOldAVX2.c
//   clang $F -I$K/include -I$K -c $K/PathAVX2.c -o /tmp/new.o
//   clang $F -I$OLD/include -I$OLD -c $OLD/PathOldAVX2.c -o /tmp/old.o
//   clang $F tools/bench/q8_decode_rows4.c $K/Pool.c /tmp/new.o /tmp/old.o -I$K/include -L$L -lggml-cpu \
//       -lggml-base -lggml -Wl,-rpath,$L -lpthread -lm -o /tmp/q8_decode_rows4
//   flock /work/bench.lock /tmp/q8_decode_rows4
#include "SplitKernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

extern const split_kernel_table split_kernels_avx2, split_kernels_oldavx2;
struct ggml_init_params { size_t mem_size; void *mem_buffer; _Bool no_alloc; };
void *ggml_init(struct ggml_init_params);
void ggml_cpu_init(void);
void quantize_row_q8_0(const float *x, void *y, int64_t k);
void ggml_vec_dot_q8_0_q8_0(int n, float *s, size_t bs, const void *vx, size_t bx, const void *vy, size_t by, int nrc);
void split_f32_to_f16_avx2(const float *x, uint16_t *y, size_t n);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint32_t seed = 1;
static uint32_t next(void) { return seed = seed * 1664525u + 1013904223u; }

int main(void) {
    { struct ggml_init_params p = {1 << 20, 0, 0}; ggml_init(p); ggml_cpu_init(); }
    const split_kernel_table *new = &split_kernels_avx2, *old = &split_kernels_oldavx2;
    static const size_t shapes[2][2] = {{576, 1536}, {2048, 8192}};  // columns, rows
    const size_t pool = 256u << 20;
    int all_same = 1;
    for (int s = 0; s < 2; s++) {
        size_t cols = shapes[s][0], rows = shapes[s][1], bytes = rows * cols / 32 * 34;
        size_t copies = pool / bytes;
        uint8_t *w = aligned_alloc(2 << 20, (copies * bytes + (2 << 20)) & ~(size_t)((2 << 20) - 1));
        madvise(w, copies * bytes, MADV_HUGEPAGE);
        // Random quants (every byte value, −128 too) and modest finite scales.
        for (size_t i = 0; i < bytes; i++) w[i] = (uint8_t)(next() >> 24);
        for (size_t b = 0; b < bytes / 34; b++) {
            float d = 0.01f + 0.02f * (float)(next() >> 8) / 16777216.f;
            uint16_t h;
            split_f32_to_f16_avx2(&d, &h, 1);
            memcpy(w + b * 34, &h, 2);
        }
        for (size_t c = 1; c < copies; c++) memcpy(w + c * bytes, w, bytes);
        float *x = malloc(cols * 4);
        for (size_t i = 0; i < cols; i++) x[i] = sinf((float)i * 0.1f) + 0.3f * cosf((float)i * 0.37f);
        uint8_t *xq = aligned_alloc(64, new->q8_activation_stride(cols)), *xl = malloc(cols / 32 * 34);
        new->quantize_q8_activation(x, 1, cols, xq);
        quantize_row_q8_0(x, xl, (int64_t)cols);
        float *y0 = malloc(rows * 4), *y1 = malloc(rows * 4), *y2 = malloc(rows * 4);

        // Bits: every row, all rows and a range with a tail (1 … rows − 2: 4k + 2 rows).
        for (int range = 0; range < 2; range++) {
            size_t begin = range, end = range ? rows - 1 : rows;
            memset(y0, 0, rows * 4); memset(y1, 0, rows * 4);
            new->gemm_q8_0(w, xq, 1, y0, rows, begin, end, cols);
            old->gemm_q8_0(w, xq, 1, y1, rows, begin, end, cols);
            if (memcmp(y0, y1, rows * 4)) all_same = 0;
        }

        for (int where = 0; where < 2; where++) {  // in cache, from memory
            size_t passes = where ? copies : 1;
            int reps = where ? 7 : 200;
            double best[3] = {1e9, 1e9, 1e9};
            for (int rep = 0; rep < reps; rep++)
                for (int k = 0; k < 3; k++) {
                    double t = now();
                    for (size_t c = 0; c < passes; c++) {
                        const uint8_t *m = w + c * bytes;
                        if (k == 0) new->gemm_q8_0(m, xq, 1, y0, rows, 0, rows, cols);
                        else if (k == 1) old->gemm_q8_0(m, xq, 1, y1, rows, 0, rows, cols);
                        else
                            for (size_t r = 0; r < rows; r++)
                                ggml_vec_dot_q8_0_q8_0((int)cols, y2 + r, 0, m + r * (cols / 32 * 34), 0, xl, 0, 1);
                    }
                    t = (now() - t) / (double)passes;
                    if (t < best[k]) best[k] = t;
                }
            double gb = bytes / 1e9, maxd = 0;
            for (size_t r = 0; r < rows; r++) maxd = fmax(maxd, fabs(y0[r] - y2[r]));
            printf("%4zu x %4zu %-11s new %5.2f GB/s  old %5.2f GB/s (new/old %.2fx)  llama.cpp %5.2f GB/s"
                   "  max|new-llama| %.3g\n",
                   cols, rows, where ? "from memory" : "in cache", gb / best[0], gb / best[1], best[1] / best[0],
                   gb / best[2], maxd);
        }
        free(w); free(x); free(xq); free(xl); free(y0); free(y1); free(y2);
    }
    printf("bits: %s\n", all_same ? "every row the same as the old kernel's" : "DIFFER from the old kernel's");
    return all_same ? 0 : 1;
}
