// Every kernel of every path this CPU runs against the scalar path, on odd shapes, and within
// each path every batched row bit-identical to the same row alone. Plain C, so it runs natively
// and, cross-compiled, under qemu-aarch64 for the NEON paths (scripts/test-kernels.sh). Exit
// status 1, with each difference printed, when a kernel disagrees.
#include "SplitKernels.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static const split_kernel_table *ref;  // the scalar path
static const char *path_name;         // the path under test

static uint32_t seed = 12345;
static float uniform(void) {  // [-1, 1)
    seed = seed * 1664525u + 1013904223u;
    return (float)(seed >> 8) / (float)(1u << 23) - 1.f;
}
static uint8_t random_byte(void) { return (uint8_t)((uniform() + 1.f) * 128.f); }
static uint16_t half(float v) {
    uint16_t h;
    ref->f32_to_f16(&v, &h, 1);
    return h;
}

static void fail(const char *path, const char *what, size_t a, size_t b, double got, double want) {
    if (failures++ < 20)
        fprintf(stderr, "FAIL %s %s (%zu, %zu): %.9g, reference %.9g\n", path, what, a, b, got, want);
}

// Outputs against the scalar reference, to a tolerance relative to the largest reference output
// (paths sum in different orders); `exact` for integer-valued and elementwise-exact results.
static void expect_close(const char *path, const char *what, const float *got, const float *want, size_t count,
                         double tolerance, size_t shape) {
    double scale = 1;
    for (size_t i = 0; i < count; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < count; i++)
        if (!(fabs((double)got[i] - want[i]) <= tolerance * scale)) { fail(path, what, shape, i, got[i], want[i]); return; }
}
static void expect_same(const char *path, const char *what, const float *got, const float *want, size_t count,
                        size_t shape) {
    if (memcmp(got, want, count * sizeof(float)) != 0)
        for (size_t i = 0; i < count; i++)
            if (memcmp(&got[i], &want[i], sizeof(float)) != 0) { fail(path, what, shape, i, got[i], want[i]); return; }
}

static const size_t row_counts[] = {1, 3, 4, 7, 13};
static const size_t batch_sizes[] = {1, 2, 3, 5, 7, 8, 13};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

// f32, f16 and bf16 weights: the GEMM of n vectors against the scalar path, every vector's row
// of the batch against the same vector alone, and the decode GEMV against the GEMM.
static void test_float_weights(const split_kernel_table *p) {
    static const size_t widths[] = {1, 7, 16, 33, 100, 577};
    for (size_t wi = 0; wi < COUNT(widths); wi++)
        for (size_t ri = 0; ri < COUNT(row_counts); ri++) {
            size_t cols = widths[wi], rows = row_counts[ri], nmax = 13;
            float *w32 = malloc(rows * cols * 4), *x = malloc(nmax * cols * 4);
            uint16_t *w16 = malloc(rows * cols * 2), *wb16 = malloc(rows * cols * 2);
            float *y = malloc(nmax * rows * 4), *single = malloc(rows * 4), *want = malloc(nmax * rows * 4);
            for (size_t i = 0; i < rows * cols; i++) {
                w32[i] = uniform();
                w16[i] = half(w32[i]);
                uint32_t bits;
                memcpy(&bits, &w32[i], 4);
                wb16[i] = (uint16_t)(bits >> 16);
            }
            for (size_t i = 0; i < nmax * cols; i++) x[i] = uniform();
            for (int type = 0; type < 3; type++) {
                const char *name = type == 0 ? "gemm_f32" : type == 1 ? "gemm_f16" : "gemm_bf16";
                for (size_t bi = 0; bi < COUNT(batch_sizes); bi++) {
                    size_t n = batch_sizes[bi];
                    if (type == 0) { p->gemm_f32(w32, x, n, y, rows, 0, rows, cols); ref->gemm_f32(w32, x, n, want, rows, 0, rows, cols); }
                    if (type == 1) { p->gemm_f16(w16, x, n, y, rows, 0, rows, cols); ref->gemm_f16(w16, x, n, want, rows, 0, rows, cols); }
                    if (type == 2) { p->gemm_bf16(wb16, x, n, y, rows, 0, rows, cols); ref->gemm_bf16(wb16, x, n, want, rows, 0, rows, cols); }
                    expect_close(path_name, name, y, want, n * rows, 1e-5, cols);
                    for (size_t j = 0; j < n; j++) {
                        if (type == 0) p->gemm_f32(w32, x + j * cols, 1, single, rows, 0, rows, cols);
                        if (type == 1) p->gemm_f16(w16, x + j * cols, 1, single, rows, 0, rows, cols);
                        if (type == 2) p->gemm_bf16(wb16, x + j * cols, 1, single, rows, 0, rows, cols);
                        expect_same(path_name, name, y + j * rows, single, rows, n);
                    }
                }
                // Decode's GEMV (and a row range that starts inside a block of 4) gives the GEMM's bits.
                if (type < 2) {
                    float *gemv = malloc(rows * 4);
                    if (type == 0) { p->gemm_f32(w32, x, 1, y, rows, 0, rows, cols); p->gemv_f32(w32, x, gemv, 0, rows, cols); }
                    else { p->gemm_f16(w16, x, 1, y, rows, 0, rows, cols); p->gemv_f16(w16, x, gemv, 0, rows, cols); }
                    expect_same(path_name, type == 0 ? "gemv_f32" : "gemv_f16", gemv, y, rows, cols);
                    if (rows > 1) {
                        if (type == 0) p->gemv_f32(w32, x, gemv, 1, rows, cols); else p->gemv_f16(w16, x, gemv, 1, rows, cols);
                        expect_same(path_name, "gemv row range", gemv + 1, y + 1, rows - 1, cols);
                    }
                    free(gemv);
                }
            }
            free(w32); free(x); free(w16); free(wb16); free(y); free(single); free(want);
        }
}

// A batch large enough that the GEMM goes through several row panels (AVX2: 128 KB of weights
// each, so 63 rows of f16 at 1031 columns) with a row range starting inside a block of 4 and a
// remainder of rows and of vectors: every vector's row still the bits of that vector alone.
static void test_float_panels(const split_kernel_table *p) {
    size_t rows = 150, cols = 1031, n = 11, begin = 2;
    float *w32 = malloc(rows * cols * 4), *x = malloc(n * cols * 4);
    uint16_t *w16 = malloc(rows * cols * 2);
    float *y = calloc(n * rows, 4), *single = calloc(rows, 4), *want = calloc(n * rows, 4);
    for (size_t i = 0; i < rows * cols; i++) w16[i] = half(w32[i] = uniform());
    for (size_t i = 0; i < n * cols; i++) x[i] = uniform();
    for (int type = 0; type < 2; type++) {
        const char *name = type == 0 ? "gemm_f32 panels" : "gemm_f16 panels";
        if (type == 0) { p->gemm_f32(w32, x, n, y, rows, begin, rows, cols); ref->gemm_f32(w32, x, n, want, rows, begin, rows, cols); }
        else { p->gemm_f16(w16, x, n, y, rows, begin, rows, cols); ref->gemm_f16(w16, x, n, want, rows, begin, rows, cols); }
        expect_close(path_name, name, y, want, n * rows, 1e-5, cols);
        for (size_t j = 0; j < n; j++) {
            if (type == 0) p->gemv_f32(w32, x + j * cols, single, begin, rows, cols);
            else p->gemv_f16(w16, x + j * cols, single, begin, rows, cols);
            expect_same(path_name, name, y + j * rows + begin, single + begin, rows - begin, j);
        }
    }
    free(w32); free(x); free(w16); free(y); free(single); free(want);
}

// Bytes per block, values per block and where its f16 scales sit, for filling random blocks
// whose scales are finite and modest (random bytes there would be NaNs and infinities).
typedef struct { int type; const char *name; size_t bytes, values; int scale_at[2]; } block_type;
static const block_type block_types[] = {
    {SPLIT_WEIGHT_Q8_0, "q8_0", 34, 32, {0, -1}},     {SPLIT_WEIGHT_Q4_0, "q4_0", 18, 32, {0, -1}},
    {SPLIT_WEIGHT_Q4_1, "q4_1", 20, 32, {0, 2}},      {SPLIT_WEIGHT_Q5_0, "q5_0", 22, 32, {0, -1}},
    {SPLIT_WEIGHT_Q5_1, "q5_1", 24, 32, {0, 2}},      {SPLIT_WEIGHT_IQ4_NL, "iq4_nl", 18, 32, {0, -1}},
    {SPLIT_WEIGHT_Q2_K, "q2_k", 84, 256, {80, 82}},   {SPLIT_WEIGHT_Q3_K, "q3_k", 110, 256, {108, -1}},
    {SPLIT_WEIGHT_Q4_K, "q4_k", 144, 256, {0, 2}},    {SPLIT_WEIGHT_Q5_K, "q5_k", 176, 256, {0, 2}},
    {SPLIT_WEIGHT_Q6_K, "q6_k", 210, 256, {208, -1}}, {SPLIT_WEIGHT_IQ4_XS, "iq4_xs", 136, 256, {0, -1}},
};

// The types whose input is quantized as Q8_K: the k-quants and IQ4_XS.
static int takes_q8k(int type) {
    return (type >= SPLIT_WEIGHT_Q2_K && type <= SPLIT_WEIGHT_Q6_K) || type == SPLIT_WEIGHT_IQ4_XS;
}
static size_t activation_stride(const split_kernel_table *p, int type, size_t cols) {
    if (type == SPLIT_WEIGHT_Q4_1 || type == SPLIT_WEIGHT_Q5_1) return p->q8_1_activation_stride(cols);
    if (takes_q8k(type)) return p->q8k_activation_stride(cols);
    if (type == SPLIT_WEIGHT_Q4_0) return p->q8s_activation_stride(cols);
    return p->q8_activation_stride(cols);
}
static void quantize(const split_kernel_table *p, int type, const float *x, size_t n, size_t cols, void *xq) {
    if (type == SPLIT_WEIGHT_Q4_1 || type == SPLIT_WEIGHT_Q5_1) p->quantize_q8_1_activation(x, n, cols, xq);
    else if (takes_q8k(type)) p->quantize_q8k_activation(x, n, cols, xq);
    else if (type == SPLIT_WEIGHT_Q4_0) p->quantize_q8s_activation(x, n, cols, xq);
    else p->quantize_q8_activation(x, n, cols, xq);
}
static void gemm_rows(const split_kernel_table *p, int type, const void *w, const void *xq, size_t n, float *y,
                      size_t ldy, size_t begin, size_t end, size_t cols) {
    if (type == SPLIT_WEIGHT_Q8_0) p->gemm_q8_0(w, xq, n, y, ldy, begin, end, cols);
    else if (type == SPLIT_WEIGHT_IQ4_XS) p->gemm_iq4_xs(w, xq, n, y, ldy, begin, end, cols);
    else if (type >= SPLIT_WEIGHT_Q2_K && type <= SPLIT_WEIGHT_Q6_K) p->gemm_k(type, w, xq, n, y, ldy, begin, end, cols);
    else p->gemm_legacy(type, w, xq, n, y, ldy, begin, end, cols);
}
static void gemm(const split_kernel_table *p, int type, const void *w, const void *xq, size_t n, float *y,
                 size_t ldy, size_t rows, size_t cols) {
    gemm_rows(p, type, w, xq, n, y, ldy, 0, rows, cols);
}
static void dequantize(const split_kernel_table *p, int type, const void *w, float *out, size_t count) {
    if (type == SPLIT_WEIGHT_Q8_0) p->dequantize_q8_0(w, out, count);
    else if (type == SPLIT_WEIGHT_IQ4_XS) p->dequantize_iq4_xs(w, out, count);
    else if (type >= SPLIT_WEIGHT_Q2_K && type <= SPLIT_WEIGHT_Q6_K) p->dequantize_k(type, w, out, count);
    else p->dequantize_legacy(type, w, out, count);
}

// Every block type over many rows from a row range that starts inside a tile, with a remainder
// of vectors: every vector's row the bits of it alone. The 32-value types over enough rows that
// the batched kernel goes through several row panels (AVX2: 64 KB of weights each, 642 rows of
// Q8_0 at 3 blocks); the 256-value ones (k-quants, IQ4_XS) over 4-row groups of the decode from
// row 2 with one row left over, and against the scalar path's bits.
static void test_block_panels(const split_kernel_table *p) {
    size_t blocks = 3, n = 13;
    for (size_t ti = 0; ti < COUNT(block_types); ti++) {
        const block_type *t = &block_types[ti];
        size_t rows = t->values == 32 ? 1301 : 67, begin = t->values == 32 ? 1 : 2;
        size_t cols = blocks * t->values, stride = activation_stride(p, t->type, cols);
        uint8_t *w = malloc(rows * blocks * t->bytes);
        for (size_t i = 0; i < rows * blocks * t->bytes; i++) w[i] = random_byte();
        for (size_t b = 0; b < rows * blocks; b++)
            for (int s = 0; s < 2; s++)
                if (t->scale_at[s] >= 0) {
                    uint16_t h = half(0.01f + 0.02f * (uniform() + 1.f));
                    memcpy(w + b * t->bytes + t->scale_at[s], &h, 2);
                }
        float *x = malloc(n * cols * 4), *y = calloc(n * rows, 4), *single = calloc(rows, 4);
        void *xq = aligned_alloc(64, n * stride);
        for (size_t i = 0; i < n * cols; i++) x[i] = uniform();
        quantize(p, t->type, x, n, cols, xq);
        gemm_rows(p, t->type, w, xq, n, y, rows, begin, rows, cols);
        if (t->values == 256) {
            float *want = calloc(n * rows, 4);
            gemm_rows(ref, t->type, w, xq, n, want, rows, begin, rows, cols);
            expect_same(path_name, "scalar bits from a row inside a group", y, want, n * rows, rows);
            free(want);
        }
        for (size_t j = 0; j < n; j++) {
            gemm_rows(p, t->type, w, (const uint8_t *)xq + j * stride, 1, single, rows, begin, rows, cols);
            expect_same(path_name, t->name, y + j * rows + begin, single + begin, rows - begin, j);
        }
        free(w); free(x); free(y); free(single); free(xq);
    }
}

// Each GGML block type: dequantization identical to the scalar path's, the GEMM of quantized
// vectors close to the scalar path's, and every batched row bit-identical to its vector alone.
static void test_block_weights(const split_kernel_table *p) {
    for (size_t ti = 0; ti < COUNT(block_types); ti++) {
        const block_type *t = &block_types[ti];
        for (size_t blocks = 1; blocks <= 3; blocks++)
            for (size_t ri = 0; ri < COUNT(row_counts); ri++) {
                size_t cols = blocks * t->values, rows = row_counts[ri], nmax = 13;
                size_t row_bytes = blocks * t->bytes, stride = activation_stride(p, t->type, cols);
                uint8_t *w = malloc(rows * row_bytes);
                for (size_t i = 0; i < rows * row_bytes; i++) w[i] = random_byte();
                for (size_t b = 0; b < rows * blocks; b++)
                    for (int s = 0; s < 2; s++)
                        if (t->scale_at[s] >= 0) {
                            uint16_t h = half(0.01f + 0.02f * (uniform() + 1.f));
                            memcpy(w + b * t->bytes + t->scale_at[s], &h, 2);
                        }
                float *x = malloc(nmax * cols * 4), *y = malloc(nmax * rows * 4), *want = malloc(nmax * rows * 4);
                float *single = malloc(rows * 4), *dq = malloc(rows * cols * 4), *dq_want = malloc(rows * cols * 4);
                void *xq = aligned_alloc(64, nmax * stride), *xq_ref = aligned_alloc(64, nmax * stride);
                for (size_t i = 0; i < nmax * cols; i++) x[i] = uniform();
                dequantize(p, t->type, w, dq, rows * cols);
                dequantize(ref, t->type, w, dq_want, rows * cols);
                expect_close(path_name, t->name, dq, dq_want, rows * cols, 1e-6, cols);
                quantize(p, t->type, x, nmax, cols, xq);
                quantize(ref, t->type, x, nmax, cols, xq_ref);
                for (size_t bi = 0; bi < COUNT(batch_sizes); bi++) {
                    size_t n = batch_sizes[bi];
                    gemm(p, t->type, w, xq, n, y, rows, rows, cols);
                    gemm(ref, t->type, w, xq_ref, n, want, rows, rows, cols);
                    expect_close(path_name, t->name, y, want, n * rows, 1e-4, cols);
                    // The legacy kernels sum in 8 lanes on every path (the AVX2 kernel's order,
                    // llama.cpp's x86 one), NEON's Q8_0 in the scalar kernel's, and every path's
                    // k-quant and IQ4_XS sums are one exact integer per super-block: the same bits.
                    if ((t->values == 32 && (t->type != SPLIT_WEIGHT_Q8_0 || strncmp(path_name, "neon", 4) == 0))
                        || t->values == 256)
                        expect_same(path_name, "scalar bits", y, want, n * rows, cols);
                    for (size_t j = 0; j < n; j++) {
                        gemm(p, t->type, w, (const uint8_t *)xq + j * stride, 1, single, rows, rows, cols);
                        expect_same(path_name, t->name, y + j * rows, single, rows, n);
                    }
                }
                free(w); free(x); free(y); free(want); free(single); free(dq); free(dq_want); free(xq); free(xq_ref);
            }
    }
}

// Zero columns (possible through the table; split_matmul's callers never have them): every output
// an empty sum, 0, on every path and weight type, not a division by zero in a panel size.
static void test_zero_columns(const split_kernel_table *p) {
    enum { rows = 16, n = 7 };
    static const float zeros[n * rows];
    float y[n * rows], w32[1] = {0}, x[1] = {0};
    uint16_t w16[1] = {0};
    _Alignas(64) uint8_t blocks[256] = {0}, xq[512] = {0};
    for (size_t kind = 0; kind < 4 + COUNT(block_types); kind++) {
        for (size_t i = 0; i < COUNT(y); i++) y[i] = NAN;
        if (kind == 0) p->gemm_f32(w32, x, n, y, rows, 0, rows, 0);
        else if (kind == 1) p->gemm_f16(w16, x, n, y, rows, 0, rows, 0);
        else if (kind == 2) p->gemm_bf16(w16, x, n, y, rows, 0, rows, 0);
        else if (kind == 3) p->gemm_q4_0x8(blocks, xq, n, y, rows, 0, rows, 0);
        else gemm(p, block_types[kind - 4].type, blocks, xq, n, y, rows, rows, 0);
        expect_same(path_name, "zero columns", y, zeros, COUNT(y), kind);
    }
}

// Q4_0 repacked into groups of 8 rows: every path's GEMM (any batch, row ranges of whole groups)
// bit-identical to the scalar path's Q4_0 in the file's layout, and each row reads back the same.
static void test_q4_0x8(const split_kernel_table *p) {
    static const size_t group_counts[] = {1, 2, 5};
    for (size_t blocks = 1; blocks <= 9; blocks += 4)
        for (size_t gi = 0; gi < COUNT(group_counts); gi++) {
            size_t rows = 8 * group_counts[gi], cols = 32 * blocks, nmax = 13, bytes = rows * blocks * 18;
            size_t stride = p->q8s_activation_stride(cols);
            uint8_t *w = malloc(bytes), *packed = malloc(bytes);
            for (size_t i = 0; i < bytes; i++) w[i] = random_byte();
            for (size_t b = 0; b < rows * blocks; b++) {
                uint16_t h = half(0.01f + 0.02f * (uniform() + 1.f));
                memcpy(w + b * 18, &h, 2);
            }
            p->repack_q4_0x8(w, packed, rows, cols);
            float *x = malloc(nmax * cols * 4), *y = malloc(nmax * rows * 4), *want = malloc(nmax * rows * 4);
            float *row = malloc(cols * 4), *row_want = malloc(cols * 4);
            void *xq = aligned_alloc(64, nmax * stride), *xq_ref = aligned_alloc(64, nmax * stride);
            for (size_t i = 0; i < nmax * cols; i++) x[i] = uniform();
            memset(xq, 0, nmax * stride);  // (the padding after each vector's sums is never written)
            memset(xq_ref, 0, nmax * stride);
            p->quantize_q8s_activation(x, nmax, cols, xq);
            ref->quantize_q8s_activation(x, nmax, cols, xq_ref);
            if (memcmp(xq, xq_ref, nmax * stride) != 0) fail(path_name, "q8s activation", cols, 0, 0, 0);
            uint8_t *unpacked = malloc(bytes);
            p->unpack_q4_0x8_rows(packed, unpacked, 0, 3, cols);  // two ranges, the second starting inside a group
            p->unpack_q4_0x8_rows(packed, unpacked + 3 * blocks * 18, 3, rows - 3, cols);
            if (memcmp(unpacked, w, bytes) != 0) fail(path_name, "q4_0x8 unpacked rows", rows, cols, 0, 0);
            free(unpacked);
            for (size_t r = 0; r < rows; r++) {
                p->dequantize_q4_0x8_row(packed, r, cols, row);
                ref->dequantize_legacy(SPLIT_WEIGHT_Q4_0, w + r * blocks * 18, row_want, cols);
                expect_same(path_name, "q4_0x8 row", row, row_want, cols, r);
            }
            for (size_t bi = 0; bi < COUNT(batch_sizes); bi++) {
                size_t n = batch_sizes[bi];
                ref->gemm_legacy(SPLIT_WEIGHT_Q4_0, w, xq_ref, n, want, rows, 0, rows, cols);
                p->gemm_q4_0x8(packed, xq, n, y, rows, 0, rows, cols);
                expect_same(path_name, "q4_0x8 vs scalar q4_0", y, want, n * rows, n);
                // The groups one call each, as the pool's chunks run them.
                for (size_t g = 0; g < rows / 8; g++) p->gemm_q4_0x8(packed, xq, n, y, rows, 8 * g, 8 * g + 8, cols);
                expect_same(path_name, "q4_0x8 by groups", y, want, n * rows, n);
                // Ranges that start and end inside groups.
                for (size_t i = 0; i < n * rows; i++) y[i] = NAN;
                for (size_t r = 0; r < rows; r += 3) p->gemm_q4_0x8(packed, xq, n, y, rows, r, r + 3 < rows ? r + 3 : rows, cols);
                expect_same(path_name, "q4_0x8 by rows of 3", y, want, n * rows, n);
            }
            free(w); free(packed); free(x); free(y); free(want); free(row); free(row_want); free(xq); free(xq_ref);
        }
}

// Conversions, the element-wise kernels and attention.
static void test_rows(const split_kernel_table *p) {
    static const size_t lengths[] = {1, 5, 8, 17, 64, 131};
    for (size_t li = 0; li < COUNT(lengths); li++) {
        size_t count = lengths[li];
        float a[131], b[131], up[131], weight[131], want_a[131], want_b[131];
        uint16_t h[131], h_want[131];
        for (size_t i = 0; i < count; i++) { a[i] = 8 * uniform(); up[i] = uniform(); weight[i] = uniform(); }
        p->f32_to_f16(a, h, count);
        ref->f32_to_f16(a, h_want, count);
        if (memcmp(h, h_want, count * 2) != 0) fail(path_name, "f32_to_f16", count, 0, 0, 0);
        p->f16_to_f32(h, b, count);
        ref->f16_to_f32(h, want_b, count);
        expect_same(path_name, "f16_to_f32", b, want_b, count, count);
        p->bf16_to_f32(h, b, count);
        ref->bf16_to_f32(h, want_b, count);
        expect_same(path_name, "bf16_to_f32", b, want_b, count, count);
        float got_max = p->log_sum_exp(a, count), want_max = ref->log_sum_exp(a, count);
        expect_close(path_name, "log_sum_exp", &got_max, &want_max, 1, 1e-5, count);
        if (p->argmax(a, count) != ref->argmax(a, count)) fail(path_name, "argmax", count, 0, 0, 0);
        memcpy(b, a, count * 4); memcpy(want_b, a, count * 4);
        p->softmax(b, count); ref->softmax(want_b, count);
        expect_close(path_name, "softmax", b, want_b, count, 1e-5, count);
        memcpy(b, a, count * 4); memcpy(want_b, a, count * 4);
        p->silu_gate(b, up, count); ref->silu_gate(want_b, up, count);
        expect_close(path_name, "silu_gate", b, want_b, count, 1e-5, count);
        memcpy(b, a, count * 4); memcpy(want_b, a, count * 4);
        p->gelu_tanh(b, count); ref->gelu_tanh(want_b, count);
        expect_close(path_name, "gelu_tanh", b, want_b, count, 1e-5, count);
        memcpy(b, a, count * 4); memcpy(want_a, a, count * 4);
        p->rms_norm(b, weight, count, 1e-5f); ref->rms_norm(want_a, weight, count, 1e-5f);
        expect_close(path_name, "rms_norm", b, want_a, count, 1e-5, count);
    }
    // Attention: 6 query heads over 2 key/value heads of 24, a prefill of 5 rows after 7 cached
    // positions, plain, with a window and with a soft cap; each row also alone.
    enum { heads = 6, kv_heads = 2, dim = 24, start = 7, rows = 5, total = start + rows };
    static float q[rows * heads * dim], k[total * kv_heads * dim], v[total * kv_heads * dim];
    static float out[rows * heads * dim], want[rows * heads * dim], alone[heads * dim], scores[heads * total];
    for (size_t i = 0; i < COUNT(q); i++) q[i] = uniform();
    for (size_t i = 0; i < COUNT(k); i++) { k[i] = uniform(); v[i] = uniform(); }
    for (int variant = 0; variant < 3; variant++) {
        size_t window = variant == 1 ? 4 : 0;
        float cap = variant == 2 ? 2.f : 0.f;
        p->attention(q, rows, start, k, v, heads, kv_heads, dim, heads * dim, kv_heads * dim, 0.2f, window, cap, scores, out, 1);
        ref->attention(q, rows, start, k, v, heads, kv_heads, dim, heads * dim, kv_heads * dim, 0.2f, window, cap, scores, want, 1);
        expect_close(path_name, "attention", out, want, COUNT(out), 1e-5, variant);
        for (size_t r = 0; r < rows; r++) {
            p->attention(q + r * heads * dim, 1, start + r, k, v, heads, kv_heads, dim, heads * dim, kv_heads * dim,
                         0.2f, window, cap, scores, alone, 1);
            expect_same(path_name, "attention row alone", alone, out + r * heads * dim, heads * dim, r);
        }
    }
}

// The element-wise kernels and attention give the same bits on the AVX2 and NEON paths (the same
// operations in the same order; Vector8.h), so an x86 node and an ARM node agree on them. Each
// kernel's outputs over fixed inputs are hashed (FNV-1a over the float bits) and compared with the
// hash the AVX2 path gave on x86 when this was written: a NEON or AVX2 change in an operation, its
// order or its rounding fails here on the architecture that changed. (AVX-512 attention sums in
// 16 lanes, and the scalar path uses libm's expf: neither is held to these bits, but for RMS norm,
// which every path computes as ggml does, in one scalar double sum.)
static uint64_t hash_bits(uint64_t h, const void *data, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) h = (h ^ ((const uint8_t *)data)[i]) * 0x100000001b3u;
    return h;
}
// Precise float semantics: under -ffast-math the inputs themselves (12 · uniform()) came out
// differently on the two architectures (an FMA on one, a multiply and a subtraction on the other).
#pragma float_control(precise, on, push)
static float exact_uniform(void) { return (float)(int32_t)((seed = seed * 1664525u + 1013904223u) >> 8) / (1 << 23) - 1.f; }
static void test_agreement(const split_kernel_table *p, int path) {
    int eight_lanes = path == SPLIT_PATH_AVX2 || path == SPLIT_PATH_NEON || path == SPLIT_PATH_NEON_DOTPROD;
    if (!eight_lanes && path != SPLIT_PATH_SCALAR) return;
    static const size_t lengths[] = {1, 3, 8, 15, 16, 17, 33, 64, 131, 1000};
    enum { softmax, log_sum_exp, argmax, silu_gate, gelu_tanh, rms_norm, attention, kernels };
    static const char *const names[kernels] = {"softmax", "log_sum_exp", "argmax", "silu_gate", "gelu_tanh", "rms_norm", "attention"};
    static const uint64_t want[kernels] = {0xd664cf952639e054, 0x6a2f9b5bb316cdff, 0x74795b3f9c0e458e, 0x4b541caaaf4cea87,
                                           0x4db5c7c5d10d3991, 0x5b4a9fbe4c785502, 0x0d0793795eb54710};
    uint64_t h[kernels];
    for (int k = 0; k < kernels; k++) h[k] = 0xcbf29ce484222325u;
    uint32_t saved = seed;
    seed = 2718281;
    static float a[1000], b[1000], up[1000], weight[1000];
    for (size_t li = 0; li < COUNT(lengths); li++) {
        size_t count = lengths[li];
        for (size_t i = 0; i < count; i++) { a[i] = 12 * exact_uniform(); up[i] = exact_uniform(); weight[i] = exact_uniform(); }
        a[count / 2] = li % 2 ? -100.f : 95.f;  // the exponential's out-of-range branch
        float value = p->log_sum_exp(a, count);
        h[log_sum_exp] = hash_bits(h[log_sum_exp], &value, 4);
        uint64_t index = p->argmax(a, count);
        h[argmax] = hash_bits(h[argmax], &index, 8);
        memcpy(b, a, count * 4);
        value = p->softmax(b, count);
        h[softmax] = hash_bits(hash_bits(h[softmax], &value, 4), b, count * 4);
        memcpy(b, a, count * 4);
        p->silu_gate(b, up, count);
        h[silu_gate] = hash_bits(h[silu_gate], b, count * 4);
        for (size_t i = 0; i < count; i++) b[i] = a[i] / 3;
        p->gelu_tanh(b, count);
        h[gelu_tanh] = hash_bits(h[gelu_tanh], b, count * 4);
        memcpy(b, a, count * 4);
        p->rms_norm(b, weight, count, 1e-5f);
        h[rms_norm] = hash_bits(h[rms_norm], b, count * 4);
    }
    // Inputs whose x · log2(e) is a tie, k + 0.5 exactly: the exponential's rounding to an integer
    // must be to even on both. A softmax whose maximum is 0 sees them unchanged.
    size_t ties = 0;
    b[ties++] = 0;
    for (int k = -40; k < 0; k++)
        for (float x = (k + 0.5f) / 1.44269504088896341f, step = 0; step < 64 && ties < 64; step++) {
            if (x * 1.44269504088896341f == k + 0.5f) { b[ties++] = x; break; }
            x = nextafterf(x, step < 32 ? -INFINITY : INFINITY);
            if (step == 31) x = nextafterf((k + 0.5f) / 1.44269504088896341f, INFINITY);
        }
    if (ties < 9) { fprintf(stderr, "FAIL %s: only %zu inputs at a rounding tie\n", path_name, ties); failures++; }
    memcpy(a, b, ties * 4);
    float value = p->softmax(b, ties);
    h[softmax] = hash_bits(hash_bits(h[softmax], &value, 4), b, ties * 4);
    value = p->log_sum_exp(a, ties);
    h[log_sum_exp] = hash_bits(h[log_sum_exp], &value, 4);
    // Head sizes with and without a tail of 8, keys in and past whole blocks of 8, a window, a cap.
    static const size_t dims[] = {64, 24, 20, 13};
    enum { heads = 4, kv_heads = 2, start = 11, rows = 6, total = start + rows };
    static float q[rows * heads * 64], k[total * kv_heads * 64], v[total * kv_heads * 64];
    static float out[rows * heads * 64], scores[heads * total];
    for (size_t di = 0; di < COUNT(dims); di++) {
        size_t dim = dims[di];
        for (size_t i = 0; i < rows * heads * dim; i++) q[i] = exact_uniform();
        for (size_t i = 0; i < total * kv_heads * dim; i++) { k[i] = exact_uniform(); v[i] = exact_uniform(); }
        for (int variant = 0; variant < 3; variant++) {
            p->attention(q, rows, start, k, v, heads, kv_heads, dim, heads * dim, kv_heads * dim, 0.125f,
                         variant == 1 ? 5 : 0, variant == 2 ? 1.5f : 0.f, scores, out, 1);
            h[attention] = hash_bits(h[attention], out, rows * heads * dim * 4);
        }
    }
    seed = saved;
    for (int kernel = 0; kernel < kernels; kernel++)
        if ((eight_lanes || kernel == rms_norm) && h[kernel] != want[kernel]) {
            fprintf(stderr, "FAIL %s %s: outputs hash to 0x%016llx, the AVX2 path's to 0x%016llx\n", path_name,
                    names[kernel], (unsigned long long)h[kernel], (unsigned long long)want[kernel]);
            failures++;
        }
}
#pragma float_control(pop)

int main(void) {
    ref = split_kernels_for_path(SPLIT_PATH_SCALAR);
    int tested = 0;
    for (int path = 0; path < SPLIT_PATH_COUNT; path++) {
        const split_kernel_table *p = split_kernels_for_path(path);
        if (p == NULL) continue;
        int before = failures;
        path_name = split_kernel_path_name(path);
        test_float_weights(p);
        test_float_panels(p);
        test_zero_columns(p);
        test_block_weights(p);
        test_q4_0x8(p);
        test_block_panels(p);
        test_rows(p);
        test_agreement(p, path);
        printf("%-13s %s\n", path_name, failures == before ? "ok" : "FAILED");
        tested++;
    }
    printf("kernel paths tested: %d; chosen: %s\n", tested, split_kernel_path_name(split_kernel_path()));
    return failures == 0 ? 0 : 1;
}
