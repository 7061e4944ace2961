// Past 400 lines on purpose: the f32, f16 and bf16 GEMV/GEMM kernels are one family, each in an
// AVX-512, an AVX2, a NEON and a scalar form, each of which must compute one per-output sequence
// whatever the batch; kept side by side so a change to one path is made to all in one place.
#include "SplitKernels.h"
#include <string.h>
// Every output y[j, r] is computed by one fixed sequence of operations whatever the batch n, the
// row range or the position of (r, j) inside a register block: so a GEMM row is bit-identical
// to the GEMV of its own vector, and a position's result never depends on its batch. Fast-math
// must not reassociate those sequences differently at different inlining sites.
#pragma clang fp reassociate(off)

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#include <immintrin.h>

#include "Reduce512.h"

// How far ahead of its loads each weight row asks for its bytes. The weights are streamed from
// memory once per token; the hardware prefetcher alone kept one thread at about half of what
// it can read (LM head GEMV, 49152 × 576 f16: 21.6 → 42.7 GB/s with this; BENCHMARKS.md,
// issue 10). A prefetch changes no arithmetic, and one past the matrix's end is harmless.
#ifndef PREFETCH_BYTES  // the batched kernel's; decode (n = 1) has its own, split_gemv_f16 below
#define PREFETCH_BYTES 9216
#endif

#define LOAD_F32(p) _mm512_loadu_ps(p)
#define MLOAD_F32(m, p) _mm512_maskz_loadu_ps((__mmask16)(m), p)
#define LOAD_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define MLOAD_F16(m, p) _mm512_cvtph_ps(_mm256_maskz_loadu_epi16((__mmask16)(m), p))
#define LOAD_BF16(p) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16))
#define MLOAD_BF16(m, p) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16((__mmask16)(m), p)), 16))

// A register block of R weight rows × V vectors (R·V accumulators); R and V are constants at
// every call site, so the loops unroll and the accumulators live in registers. 4 × 6 is 24 of
// the 32 zmm registers, and each converted weight vector feeds six FMAs. PF (a constant too) is
// what the block asks of memory: PF_AHEAD, each row's bytes PREFETCH_BYTES ahead into L1 (the
// weights stream from memory); PF_L2, the rows `ahead` elements on into L2 (the batched
// driver's next panel, while this block reads weights L2 already holds).
enum { PF_AHEAD = 1, PF_L2 = 2 };
#define SPLIT_BLOCK_PF(NAME, WT, LOADW, MLOADW)                                                      \
    static inline __attribute__((always_inline)) void NAME(                                        \
        const WT *w, size_t cols, const float *x, float *y, size_t ldy, const int R, const int V,  \
        const int PF, size_t ahead) {                                                               \
        __m512 acc[4][6];                                                                           \
        for (int i = 0; i < R; i++)                                                                 \
            for (int k = 0; k < V; k++) acc[i][k] = _mm512_setzero_ps();                            \
        size_t c = 0;                                                                               \
        for (; c + 16 <= cols; c += 16) {                                                           \
            __m512 xv[6];                                                                           \
            for (int k = 0; k < V; k++) xv[k] = _mm512_loadu_ps(x + k * cols + c);                  \
            for (int i = 0; i < R; i++) {                                                           \
                if (PF == PF_AHEAD)                                                                 \
                    _mm_prefetch((const char *)(w + i * cols + c) + PREFETCH_BYTES, _MM_HINT_T0);   \
                if (PF == PF_L2 && ((c * sizeof(WT)) & 63) == 0) /* once per 64-byte line */      \
                    _mm_prefetch((const char *)(w + i * cols + c + ahead), _MM_HINT_T1);            \
                __m512 wv = LOADW(w + i * cols + c);                                                \
                for (int k = 0; k < V; k++) acc[i][k] = _mm512_fmadd_ps(wv, xv[k], acc[i][k]);      \
            }                                                                                       \
        }                                                                                           \
        if (c < cols) {                                                                             \
            unsigned m = (1u << (cols - c)) - 1;                                                    \
            __m512 xv[6];                                                                           \
            for (int k = 0; k < V; k++) xv[k] = _mm512_maskz_loadu_ps((__mmask16)m, x + k * cols + c); \
            for (int i = 0; i < R; i++) {                                                           \
                __m512 wv = MLOADW(m, w + i * cols + c);                                            \
                for (int k = 0; k < V; k++) acc[i][k] = _mm512_fmadd_ps(wv, xv[k], acc[i][k]);      \
            }                                                                                       \
        }                                                                                           \
        if (R == 4)                                                                                 \
            for (int k = 0; k < V; k++) hsum512x4(acc[0][k], acc[1][k], acc[2][k], acc[3][k], y + k * ldy); \
        else                                                                                        \
            for (int i = 0; i < R; i++)                                                             \
                for (int k = 0; k < V; k++) y[k * ldy + i] = hsum512(acc[i][k]);                    \
    }
// The single-vector and block-major paths: every row prefetched ahead.
#define SPLIT_BLOCK(NAME, WT, LOADW, MLOADW)                                                         \
    SPLIT_BLOCK_PF(NAME##_pf, WT, LOADW, MLOADW)                                                     \
    static inline __attribute__((always_inline)) void NAME(                                        \
        const WT *w, size_t cols, const float *x, float *y, size_t ldy, const int R, const int V) { \
        NAME##_pf(w, cols, x, y, ldy, R, V, PF_AHEAD, 0);                                           \
    }

// Rows in blocks of 4, vectors in blocks of 6; remainders in smaller blocks of the same code.
#define SPLIT_GEMM_DRIVER(BLOCK, WT)                                                                  \
    size_t r = row_begin;                                                                            \
    for (; r + 4 <= row_end; r += 4) {                                                               \
        const WT *wr = w + r * cols;                                                                  \
        size_t j = 0;                                                                                \
        for (; j + 6 <= n; j += 6) BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 4, 6);      \
        switch (n - j) {                                                                             \
        case 5: BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 4, 5); break;                   \
        case 4: BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 4, 4); break;                   \
        case 3: BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 4, 3); break;                   \
        case 2: BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 4, 2); break;                   \
        case 1: BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 4, 1); break;                   \
        default: break;                                                                              \
        }                                                                                            \
    }                                                                                                \
    for (; r < row_end; r++) {                                                                       \
        const WT *wr = w + r * cols;                                                                  \
        size_t j = 0;                                                                                \
        for (; j + 6 <= n; j += 6) BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 1, 6);      \
        for (; j < n; j++) BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 1, 1);              \
    }

// Several vectors (n ≥ 2: a cloud's pass over many sessions, a prefill chunk, a verify batch).
// Same blocks, so the same bits; only the order of the blocks differs. While the n vectors fit
// L1 (n · cols · 4 ≤ X_L1_BYTES) each 4-row block runs every vector group before the next block
// (its weights stay in L1 between groups), as SPLIT_GEMM_DRIVER does. Past that (the down
// projection's 1536 columns at 16 vectors: 98 KB of x) the x of one group (6 vectors) is what
// must stay in L1: rows go in panels of PANEL_BYTES of weights, each panel through one vector
// group after another, the first group streaming it from memory and the second prefetching the
// next panel into L2. Down projection at 16 vectors, one thread, weights from memory:
// ≈ 170 → 214 GFLOP/s; a 16-row pass's matrix multiplies on two threads 6.6 → 6.3 ms
// (tools/bench/cloud_pass_gemm.c; BENCHMARKS.md, issue 9).
#ifndef X_L1_BYTES
#define X_L1_BYTES 40960
#endif
#ifndef PANEL_BYTES
#define PANEL_BYTES 131072
#endif
#define SPLIT_BATCH_GROUP(BLOCK, WT, PF)                                                                 \
    switch (v) {                                                                                     \
    case 6: BLOCK(wr, cols, xj, yj, ldy, 4, 6, PF, ahead); break;                                   \
    case 5: BLOCK(wr, cols, xj, yj, ldy, 4, 5, PF, ahead); break;                                   \
    case 4: BLOCK(wr, cols, xj, yj, ldy, 4, 4, PF, ahead); break;                                   \
    case 3: BLOCK(wr, cols, xj, yj, ldy, 4, 3, PF, ahead); break;                                   \
    case 2: BLOCK(wr, cols, xj, yj, ldy, 4, 2, PF, ahead); break;                                   \
    default: BLOCK(wr, cols, xj, yj, ldy, 4, 1, PF, ahead); break;                                  \
    }
#define SPLIT_GEMM_BATCH_DRIVER(BLOCK, WT)                                                               \
    size_t full = row_begin + (row_end - row_begin) / 4 * 4;                                         \
    size_t panel = n * cols * sizeof(float) <= X_L1_BYTES ? 4 : PANEL_BYTES / (cols * sizeof(WT)) / 4 * 4; \
    if (panel < 4) panel = 4;                                                                        \
    for (size_t p = row_begin; p < full; p += panel) {                                               \
        size_t end = p + panel < full ? p + panel : full, ahead = panel * cols;                      \
        for (size_t j = 0; j < n; j += 6) {                                                          \
            size_t v = n - j < 6 ? n - j : 6;                                                        \
            const float *xj = x + j * cols;                                                          \
            for (size_t r = p; r < end; r += 4) {                                                    \
                const WT *wr = w + r * cols;                                                         \
                float *yj = y + j * ldy + r;                                                         \
                if (j == 0 || panel == 4) { SPLIT_BATCH_GROUP(BLOCK, WT, PF_AHEAD) }                \
                else { SPLIT_BATCH_GROUP(BLOCK, WT, PF_L2) }                                         \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
    for (size_t r = full; r < row_end; r++) {                                                        \
        const WT *wr = w + r * cols;                                                                 \
        size_t j = 0;                                                                                \
        for (; j + 6 <= n; j += 6) BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 1, 6, PF_AHEAD, 0); \
        for (; j < n; j++) BLOCK(wr, cols, x + j * cols, y + j * ldy + r, ldy, 1, 1, PF_AHEAD, 0); \
    }

SPLIT_BLOCK(block_f32, float, LOAD_F32, MLOAD_F32)
SPLIT_BLOCK(block_f16, uint16_t, LOAD_F16, MLOAD_F16)
SPLIT_BLOCK(block_bf16, uint16_t, LOAD_BF16, MLOAD_BF16)

static void gemm_batch_f32(const float *w, const float *x, size_t n, float *y, size_t ldy,
                           size_t row_begin, size_t row_end, size_t cols) {
    SPLIT_GEMM_BATCH_DRIVER(block_f32_pf, float)
}

static void gemm_batch_f16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                           size_t row_begin, size_t row_end, size_t cols) {
    SPLIT_GEMM_BATCH_DRIVER(block_f16_pf, uint16_t)
}

static void gemm_batch_bf16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                            size_t row_begin, size_t row_end, size_t cols) {
    SPLIT_GEMM_BATCH_DRIVER(block_bf16_pf, uint16_t)
}

void split_gemm_f32(const float *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols) {
    if (n > 1) return gemm_batch_f32(w, x, n, y, ldy, row_begin, row_end, cols);
    SPLIT_GEMM_DRIVER(block_f32, float)
}

void split_gemm_f16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols) {
    if (n > 1) return gemm_batch_f16(w, x, n, y, ldy, row_begin, row_end, cols);
    SPLIT_GEMM_DRIVER(block_f16, uint16_t)
}

void split_gemm_bf16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                     size_t row_begin, size_t row_end, size_t cols) {
    if (n > 1) return gemm_batch_bf16(w, x, n, y, ldy, row_begin, row_end, cols);
    SPLIT_GEMM_DRIVER(block_bf16, uint16_t)
}

void split_gemv_f32(const float *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {
    split_gemm_f32(w, x, 1, y, 0, row_begin, row_end, cols);
}

// Decode (n = 1) reads every f16 weight once per token and does two FLOPs per weight: the whole
// question is how fast one thread streams memory. Rows go in blocks of 4, each row's accumulation
// exactly the GEMM's (one 16-lane FMA chain over the columns in order, masked last step, the same
// horizontal sums), so outputs are bit-identical to split_gemm_f16's; what differs is the
// prefetch. Each 64-byte line of a row is asked for once (the GEMM asks twice), GEMV_PREFETCH_BYTES
// ahead of its load, as non-temporal (PREFETCHNTA: the weights are read once and should not push
// the activations and the KV cache out of L2). Measured with tools/bench/decode_gemv.c (the 269 MB
// of matrix work of one SmolLM2-135M decode step on the pool, every variant alternating in one
// process, median of 15): 4.6 KB ahead, non-temporal, 1.18-1.21x the GEMM path's tokens/s; 9 KB
// ahead 1.14x; hint T0 instead of NTA 1.10x; blocks of 8 rows 1.10x (BENCHMARKS.md, issue 10).
#ifndef GEMV_PREFETCH_BYTES  // tools/bench/gemv_bandwidth.c builds it with others to compare
#define GEMV_PREFETCH_BYTES 4608
#endif

static inline __attribute__((always_inline)) void gemv_f16_block(const uint16_t *w, size_t cols, const float *x,
                                                                 float *y, const int R) {
    __m512 acc[4];
    for (int i = 0; i < R; i++) acc[i] = _mm512_setzero_ps();
    const char *ahead = (const char *)w + GEMV_PREFETCH_BYTES;
    size_t c = 0;
    for (; c + 32 <= cols; c += 32) {  // one 64-byte line of each row
        __m512 x0 = _mm512_loadu_ps(x + c), x1 = _mm512_loadu_ps(x + c + 16);
        for (int i = 0; i < R; i++) _mm_prefetch(ahead + (i * cols + c) * 2, _MM_HINT_NTA);
        for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(LOAD_F16(w + i * cols + c), x0, acc[i]);
        for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(LOAD_F16(w + i * cols + c + 16), x1, acc[i]);
    }
    if (c + 16 <= cols) {
        __m512 x0 = _mm512_loadu_ps(x + c);
        for (int i = 0; i < R; i++) _mm_prefetch(ahead + (i * cols + c) * 2, _MM_HINT_NTA);
        for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(LOAD_F16(w + i * cols + c), x0, acc[i]);
        c += 16;
    }
    if (c < cols) {
        unsigned m = (1u << (cols - c)) - 1;
        __m512 x0 = _mm512_maskz_loadu_ps((__mmask16)m, x + c);
        for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(MLOAD_F16(m, w + i * cols + c), x0, acc[i]);
    }
    if (R == 4)
        hsum512x4(acc[0], acc[1], acc[2], acc[3], y);
    else
        for (int i = 0; i < R; i++) y[i] = hsum512(acc[i]);
}

void split_gemv_f16(const uint16_t *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {
    size_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) gemv_f16_block(w + r * cols, cols, x, y + r, 4);
    for (; r < row_end; r++) gemv_f16_block(w + r * cols, cols, x, y + r, 1);
}

#elif defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
#include <immintrin.h>
#include "PanelGemm.h"

static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 shuf = _mm_movehdup_ps(lo);
    __m128 sums = _mm_add_ps(lo, shuf);
    shuf = _mm_movehl_ps(shuf, sums);
    sums = _mm_add_ss(sums, shuf);
    return _mm_cvtss_f32(sums);
}

// Decode (n = 1) streams every weight once per token. Each row is one 8-lane FMA chain over
// the columns in order, a horizontal sum, then the scalar tail: the GEMM's sequence, so outputs
// are bit-identical to split_gemm's. Four rows share each load of x; every 64-byte line of a row
// is asked for once, GEMV_PREFETCH_BYTES ahead, non-temporal, as on AVX-512 above (there it was
// worth 1.18-1.21x; the AVX2 loop had no prefetch at all, and Zen 3's hardware prefetcher alone
// kept an f16 decode step at ~41% of the bandwidth reading).
#ifndef GEMV_PREFETCH_BYTES
#define GEMV_PREFETCH_BYTES 4608
#endif
#define GEMV_AVX2(NAME, WT, LOADW, SCALARW)                                                             \
    void NAME(const WT *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {   \
        enum { LINE = 64 / sizeof(WT) };                                                                 \
        size_t r = row_begin;                                                                            \
        for (; r + 4 <= row_end; r += 4) {                                                               \
            const WT *wr[4] = {w + r * cols, w + (r + 1) * cols, w + (r + 2) * cols, w + (r + 3) * cols}; \
            __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
            size_t c = 0;                                                                                \
            for (; c + LINE <= cols; c += LINE) {                                                        \
                for (int i = 0; i < 4; i++) _mm_prefetch((const char *)(wr[i] + c) + GEMV_PREFETCH_BYTES, _MM_HINT_NTA); \
                for (size_t k = 0; k < LINE; k += 8) {                                                   \
                    __m256 xv = _mm256_loadu_ps(x + c + k);                                              \
                    for (int i = 0; i < 4; i++) a[i] = _mm256_fmadd_ps(LOADW(wr[i] + c + k), xv, a[i]);  \
                }                                                                                        \
            }                                                                                            \
            for (; c + 8 <= cols; c += 8) {                                                              \
                __m256 xv = _mm256_loadu_ps(x + c);                                                      \
                for (int i = 0; i < 4; i++) a[i] = _mm256_fmadd_ps(LOADW(wr[i] + c), xv, a[i]);          \
            }                                                                                            \
            float s[4] = {hsum256(a[0]), hsum256(a[1]), hsum256(a[2]), hsum256(a[3])};                   \
            for (; c < cols; c++)                                                                        \
                for (int i = 0; i < 4; i++) s[i] += SCALARW(wr[i][c]) * x[c];                            \
            for (int i = 0; i < 4; i++) y[r + i] = s[i];                                                 \
        }                                                                                                \
        for (; r < row_end; r++) {                                                                       \
            const WT *w0 = w + r * cols;                                                                 \
            __m256 a0 = _mm256_setzero_ps();                                                             \
            size_t c = 0;                                                                                \
            for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(LOADW(w0 + c), _mm256_loadu_ps(x + c), a0); \
            float s0 = hsum256(a0);                                                                      \
            for (; c < cols; c++) s0 += SCALARW(w0[c]) * x[c];                                           \
            y[r] = s0;                                                                                   \
        }                                                                                                \
    }
#define GEMV_LOAD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define GEMV_SCALAR_F32(v) (v)
GEMV_AVX2(split_gemv_f16, uint16_t, GEMV_LOAD_F16, _cvtsh_ss)
GEMV_AVX2(split_gemv_f32, float, _mm256_loadu_ps, GEMV_SCALAR_F32)

// Several input vectors against the same rows: y[j * ldy + r] = dot(w[r, :], x[j * cols ...]).
// Each (r, j) accumulates exactly as split_gemv does (eight lanes of FMA over the columns, the
// same horizontal sum, the same scalar tail), so every output is bit-identical to the GEMV of
// its own vector: a row's result never depends on which other rows share the batch. Tiles of
// R weight rows × V vectors keep R·V accumulators in registers and reuse each converted weight
// vector V times, which is what makes a batch cheaper than separate GEMVs. 4 × 2 (AVX2_TILE_R,
// AVX2_TILE_V below): 4 × 3 needs all 16 ymm registers, and compiled as the release binary
// compiles it (PathAVX2.c: baseline x86-64-v2, target avx2/fma/f16c, tune=haswell) one
// accumulator was spilled inside the loop, a store-to-load chain that halved the kernel (f16,
// a Llama-3.2-1B layer's matrices at 128 vectors, one thread: 4 × 3 0.52-0.53x of 4 × 3 built
// with -march=native, 4 × 2 1.07x, 3 × 3 1.00x, 2 × 4 0.87x; tools/bench/prefill_gemm.c linked
// against PathAVX2.o, issue 22). The runtime's f16 prefill had run at that halved speed.
#define AVX2_TILE(NAME, WT, LOADW, SCALARW)                                                           \
    static inline __attribute__((always_inline)) void NAME(const WT *w, size_t cols, const float *x,  \
                                                           float *y, size_t ldy, const int R, const int V) { \
        __m256 a[4][4];                                                                              \
        for (int i = 0; i < R; i++)                                                                  \
            for (int k = 0; k < V; k++) a[i][k] = _mm256_setzero_ps();                               \
        size_t c = 0;                                                                                \
        for (; c + 8 <= cols; c += 8) {                                                              \
            __m256 v[4];                                                                             \
            for (int k = 0; k < V; k++) v[k] = _mm256_loadu_ps(x + k * cols + c);                    \
            for (int i = 0; i < R; i++) {                                                            \
                __m256 q = LOADW(w + i * cols + c);                                                  \
                for (int k = 0; k < V; k++) a[i][k] = _mm256_fmadd_ps(q, v[k], a[i][k]);             \
            }                                                                                        \
        }                                                                                            \
        for (int i = 0; i < R; i++)                                                                  \
            for (int k = 0; k < V; k++) {                                                            \
                float t = hsum256(a[i][k]);                                                          \
                for (size_t cc = c; cc < cols; cc++) t += SCALARW(w[i * cols + cc]) * x[k * cols + cc]; \
                y[k * ldy + i] = t;                                                                  \
            }                                                                                        \
    }

// The order of the tiles: PanelGemm.h's panels of AVX2_PANEL_BYTES of weights (x at 2048 columns
// is 1 MB for 128 vectors, 4 MB at 8192; going through all n vectors for each 4-row block streamed
// it from L3 once per 4 rows, 2 FLOPs per byte read).
#ifndef AVX2_PANEL_BYTES
#define AVX2_PANEL_BYTES 131072
#endif
#ifndef AVX2_TILE_R
#define AVX2_TILE_R 4
#endif
#ifndef AVX2_TILE_V
#define AVX2_TILE_V 2
#endif
// (AVX2_TILE's arrays hold tiles up to 4 × 4.)
#define AVX2_PANEL_PASS(TILE, V)                                                                      \
    for (size_t r = p; r < end; r += AVX2_TILE_R) TILE(w + r * cols, cols, x + j * cols, y + j * ldy + r, ldy, AVX2_TILE_R, V)
#define AVX2_GEMM_DRIVER(TILE, WT, GEMV)                                                              \
    size_t full = row_begin + (row_end - row_begin) / AVX2_TILE_R * AVX2_TILE_R;                     \
    SPLIT_PANEL_GEMM(row_begin, full, n, cols * sizeof(WT), AVX2_TILE_R, AVX2_TILE_V, AVX2_PANEL_BYTES, TILE, \
                     AVX2_PANEL_PASS, SPLIT_PANEL_WIDTHS_3);                                         \
    for (size_t j = 0; j < n; j++) GEMV(w, x + j * cols, y + j * ldy, full, row_end, cols);

AVX2_TILE(tile_f16, uint16_t, GEMV_LOAD_F16, _cvtsh_ss)
AVX2_TILE(tile_f32, float, _mm256_loadu_ps, GEMV_SCALAR_F32)

void split_gemm_f16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols) {
    AVX2_GEMM_DRIVER(tile_f16, uint16_t, split_gemv_f16)
}

void split_gemm_f32(const float *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols) {
    AVX2_GEMM_DRIVER(tile_f32, float, split_gemv_f32)
}

#elif defined(SPLIT_NEON)
// AArch64 (PathNEON.c, PathNEONDot.c): four-lane FMAs. Each (row, vector) output is one fixed
// sequence whatever the batch: two accumulators over 8 columns a step (lanes 0-3, 4-7), one more
// 4-column step on the first, their sum reduced by FADDP (vaddvq_f32), then the remaining columns
// in order. Blocks of 4 rows × 2 vectors (16 accumulators, 8 weight and 4 input registers) share
// each load; decode uses the same block with one vector. f16 widens exactly to f32 (FCVTL,
// baseline ARMv8) and accumulates in f32, as on x86 (ggml's fp16-arithmetic kernels accumulate in
// f16 instead; that changes the results, so it is not used here).
#include <arm_neon.h>

static inline float neon_half(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }
static inline float neon_bf16(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}
#define NEON_LOAD_F32(p) vld1q_f32(p)
#define NEON_LOAD_F16(p) vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))
#define NEON_LOAD_BF16(p) vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16))
#define NEON_SCALAR_F32(v) (v)

#define NEON_BLOCK(NAME, WT, LOADW, SCALARW)                                                              \
    static inline __attribute__((always_inline)) void NAME(const WT *w, size_t cols, const float *x, float *y, \
                                                           size_t ldy, const int R, const int V) {       \
        float32x4_t lo[4][2], hi[4][2];                                                                  \
        for (int i = 0; i < R; i++)                                                                      \
            for (int k = 0; k < V; k++) lo[i][k] = hi[i][k] = vdupq_n_f32(0);                            \
        size_t c = 0;                                                                                    \
        for (; c + 8 <= cols; c += 8) {                                                                  \
            float32x4_t xl[2], xh[2];                                                                    \
            for (int k = 0; k < V; k++) { xl[k] = vld1q_f32(x + k * cols + c); xh[k] = vld1q_f32(x + k * cols + c + 4); } \
            for (int i = 0; i < R; i++) {                                                                \
                float32x4_t wl = LOADW(w + i * cols + c), wh = LOADW(w + i * cols + c + 4);              \
                for (int k = 0; k < V; k++) {                                                            \
                    lo[i][k] = vfmaq_f32(lo[i][k], wl, xl[k]);                                           \
                    hi[i][k] = vfmaq_f32(hi[i][k], wh, xh[k]);                                           \
                }                                                                                        \
            }                                                                                            \
        }                                                                                                \
        if (c + 4 <= cols) {                                                                             \
            for (int i = 0; i < R; i++) {                                                                \
                float32x4_t wl = LOADW(w + i * cols + c);                                                \
                for (int k = 0; k < V; k++) lo[i][k] = vfmaq_f32(lo[i][k], wl, vld1q_f32(x + k * cols + c)); \
            }                                                                                            \
            c += 4;                                                                                      \
        }                                                                                                \
        for (int i = 0; i < R; i++)                                                                      \
            for (int k = 0; k < V; k++) {                                                                \
                float s = vaddvq_f32(vaddq_f32(lo[i][k], hi[i][k]));                                     \
                for (size_t t = c; t < cols; t++) s += SCALARW(w[i * cols + t]) * x[k * cols + t];       \
                y[k * ldy + i] = s;                                                                      \
            }                                                                                            \
    }

// Rows in blocks of 4, vectors in pairs; the remainders in smaller blocks of the same code.
#define NEON_GEMM_DRIVER(BLOCK)                                                                          \
    size_t r = row_begin;                                                                                \
    for (; r + 4 <= row_end; r += 4) {                                                                   \
        size_t j = 0;                                                                                    \
        for (; j + 2 <= n; j += 2) BLOCK(w + r * cols, cols, x + j * cols, y + j * ldy + r, ldy, 4, 2); \
        if (j < n) BLOCK(w + r * cols, cols, x + j * cols, y + j * ldy + r, ldy, 4, 1);                 \
    }                                                                                                    \
    for (; r < row_end; r++)                                                                             \
        for (size_t j = 0; j < n; j++) BLOCK(w + r * cols, cols, x + j * cols, y + j * ldy + r, ldy, 1, 1);

NEON_BLOCK(neon_block_f32, float, NEON_LOAD_F32, NEON_SCALAR_F32)
NEON_BLOCK(neon_block_f16, uint16_t, NEON_LOAD_F16, neon_half)
NEON_BLOCK(neon_block_bf16, uint16_t, NEON_LOAD_BF16, neon_bf16)

void split_gemm_f32(const float *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols) {
    NEON_GEMM_DRIVER(neon_block_f32)
}

void split_gemm_f16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols) {
    NEON_GEMM_DRIVER(neon_block_f16)
}

void split_gemm_bf16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                     size_t row_begin, size_t row_end, size_t cols) {
    NEON_GEMM_DRIVER(neon_block_bf16)
}

void split_gemv_f32(const float *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {
    split_gemm_f32(w, x, 1, y, 0, row_begin, row_end, cols);
}

void split_gemv_f16(const uint16_t *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {
    split_gemm_f16(w, x, 1, y, 0, row_begin, row_end, cols);
}

#else
// Portable fallback (ARM devices, older x86): plain loops the compiler may vectorise.
#include <string.h>
static inline float half_bits_to_float(uint16_t h) {
    float f;
    split_f16_to_f32(&h, &f, 1);
    return f;
}

void split_gemv_f16(const uint16_t *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {
    for (size_t r = row_begin; r < row_end; r++) {
        const uint16_t *row = w + r * cols;
        float s = 0;
        for (size_t c = 0; c < cols; c++) s += half_bits_to_float(row[c]) * x[c];
        y[r] = s;
    }
}

void split_gemv_f32(const float *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {
    for (size_t r = row_begin; r < row_end; r++) {
        const float *row = w + r * cols;
        float s = 0;
        for (size_t c = 0; c < cols; c++) s += row[c] * x[c];
        y[r] = s;
    }
}

void split_gemm_f16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols) {
    for (size_t j = 0; j < n; j++) split_gemv_f16(w, x + j * cols, y + j * ldy, row_begin, row_end, cols);
}

void split_gemm_f32(const float *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols) {
    for (size_t j = 0; j < n; j++) split_gemv_f32(w, x + j * cols, y + j * ldy, row_begin, row_end, cols);
}
#endif

#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)) && !defined(SPLIT_NEON)
// bfloat16 weights without AVX-512 or NEON: plain loops (bf16 → f32 is a shift, so this is exact).
void split_gemm_bf16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                     size_t row_begin, size_t row_end, size_t cols) {
    for (size_t j = 0; j < n; j++)
        for (size_t r = row_begin; r < row_end; r++) {
            const uint16_t *row = w + r * cols;
            float s = 0;
            for (size_t c = 0; c < cols; c++) {
                uint32_t bits = (uint32_t)row[c] << 16;
                float v;
                memcpy(&v, &bits, sizeof v);
                s += v * x[j * cols + c];
            }
            y[j * ldy + r] = s;
        }
}
#endif
