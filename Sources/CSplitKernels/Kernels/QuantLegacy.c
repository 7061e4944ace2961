// GGML's legacy 32-value weight blocks (Q4_1, Q5_0, Q5_1, and IQ4_NL: 4-bit indices into a
// fixed table; Q4_0 is QuantQ4_0x8.c's, in llama.cpp's repacked order) computed on directly, with
// llama.cpp's arithmetic: Q5_0 and IQ4_NL against the Q8_0-quantized input (QuantQ8.c's layout),
//   y = Σ_blocks d_w · d_x · Σ (q_w − zero) q_x,
// Q4_1 and Q5_1 against Q8_1 (the same plus s_x = d_x · Σ q_x per block, as f16),
//   y = Σ_blocks d_w · d_x · Σ q_w q_x  +  Σ_blocks m_w · s_x.
// Each output y[j, r] is one fixed sequence of operations (per-lane accumulation over the blocks
// in order, one horizontal sum, then the minimums' sum), so a batched row is bit-identical to
// the row alone whatever n is.
#include "QuantBlocks.h"
#include <math.h>
#pragma clang fp reassociate(off)

// The Q8_1 activation: Q8_0's layout (split_q8_activation_stride), then one float s per block, in
// the place of the Q8_0-with-sums activation's integer Σ q (QuantQ4_0x8.c).
size_t split_q8_1_activation_stride(size_t cols) { return split_q8s_activation_stride(cols); }

static inline float f16_round(float v) {
    uint16_t h;
    split_f32_to_f16(&v, &h, 1);
    split_f16_to_f32(&h, &v, 1);
    return v;
}

// As llama.cpp's quantize_row_q8_1: Q8_0's quants and scale, and s = d · Σ q with the unrounded d,
// stored as f16.
#pragma float_control(precise, on, push)
void split_quantize_q8_1_activation(const float *x, size_t n, size_t cols, void *destination) {
    size_t blocks = cols / QL_BLOCK, stride = split_q8_1_activation_stride(cols), q8 = split_q8_activation_stride(cols);
    split_quantize_q8s_activation(x, n, cols, destination);
    for (size_t j = 0; j < n; j++) {
        uint8_t *sums = (uint8_t *)destination + j * stride + q8;
        for (size_t b = 0; b < blocks; b++) {
            const float *v = x + j * cols + b * QL_BLOCK;
            float amax = 0;
            for (int i = 0; i < QL_BLOCK; i++) amax = fmaxf(amax, fabsf(v[i]));
            int32_t sum;
            memcpy(&sum, sums + 4 * b, 4);
            float s = f16_round(amax / 127.f * (float)sum);
            memcpy(sums + 4 * b, &s, 4);
        }
    }
}
#pragma float_control(pop)

// MARK: scalar decoding (dequantizing, and the portable kernels): the 32 quants of a block in value order

static inline void unpack_q4(const uint8_t *qs, int q[32]) {
    for (int i = 0; i < 16; i++) {
        q[i] = qs[i] & 0xF;
        q[i + 16] = qs[i] >> 4;
    }
}

static inline void unpack_q5(const uint8_t *qh, const uint8_t *qs, int q[32]) {
    uint32_t high = quant_u32(qh);
    unpack_q4(qs, q);
    for (int i = 0; i < 32; i++) q[i] |= (int)((high >> i) & 1) << 4;
}

void split_dequantize_legacy(int type, const void *source, float *destination, size_t count) {
    const uint8_t *b = source;
    int q[32];
    for (size_t block = 0; block < count / QL_BLOCK; block++) {
        float *y = destination + block * QL_BLOCK;
        switch (type) {
        case SPLIT_WEIGHT_Q4_0: {
            float d = quant_half(b);
            unpack_q4(b + 2, q);
            for (int i = 0; i < 32; i++) y[i] = (float)(q[i] - 8) * d;
            b += Q4_0_BYTES;
            break;
        }
        case SPLIT_WEIGHT_Q4_1: {
            float d = quant_half(b), m = quant_half(b + 2);
            unpack_q4(b + 4, q);
            for (int i = 0; i < 32; i++) y[i] = (float)q[i] * d + m;
            b += Q4_1_BYTES;
            break;
        }
        case SPLIT_WEIGHT_Q5_0: {
            float d = quant_half(b);
            unpack_q5(b + 2, b + 6, q);
            for (int i = 0; i < 32; i++) y[i] = (float)(q[i] - 16) * d;
            b += Q5_0_BYTES;
            break;
        }
        case SPLIT_WEIGHT_IQ4_NL: {
            float d = quant_half(b);
            unpack_q4(b + 2, q);
            for (int i = 0; i < 32; i++) y[i] = d * (float)quant_iq4_values[q[i]];
            b += IQ4_NL_BYTES;
            break;
        }
        default: {  // Q5_1
            float d = quant_half(b), m = quant_half(b + 2);
            unpack_q5(b + 4, b + 8, q);
            for (int i = 0; i < 32; i++) y[i] = (float)q[i] * d + m;
            b += Q5_1_BYTES;
            break;
        }
        }
    }
}

#if defined(__AVX2__)
#include "PanelGemm.h"
#include <immintrin.h>

// One block's 32 quants in value order as bytes: signed (q − zero) for the _0 types, unsigned
// for the _1 types; d and m its scale and minimum.
typedef struct {
    __m256i q;
    float d, m;
} lblock;

static inline __m256i nibbles(const uint8_t *qs) {
    __m128i packed = _mm_loadu_si128((const __m128i *)qs);
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 0x10 in byte i where bit i of the 32-bit word at qh is set.
static inline __m256i fifth_bits(const uint8_t *qh) {
    __m256i word = _mm256_set1_epi32((int)quant_u32(qh));
    __m256i bytes = _mm256_shuffle_epi8(word, _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                               2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit), _mm256_set1_epi8(0x10));
}

static inline lblock load_q4_1(const uint8_t *b) { return (lblock){nibbles(b + 4), quant_half(b), quant_half(b + 2)}; }
static inline lblock load_q5_0(const uint8_t *b) {
    __m256i q = _mm256_or_si256(nibbles(b + 6), fifth_bits(b + 2));
    return (lblock){_mm256_sub_epi8(q, _mm256_set1_epi8(16)), quant_half(b), 0};
}
static inline lblock load_q5_1(const uint8_t *b) {
    return (lblock){_mm256_or_si256(nibbles(b + 8), fifth_bits(b + 4)), quant_half(b), quant_half(b + 2)};
}
static inline lblock load_iq4_nl(const uint8_t *b) {
    const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)quant_iq4_values));
    return (lblock){_mm256_shuffle_epi8(table, nibbles(b + 2)), quant_half(b), 0};
}
// Q8_0 on AVX2 machines runs here too (QuantQ8.c's own kernel is AVX-512 VNNI).
static inline lblock load_q8_0(const uint8_t *b) {
    return (lblock){_mm256_loadu_si256((const __m256i *)(b + 2)), quant_half(b), 0};
}

static inline float hsum_f32x8(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

// The exact integer sums Σ q_w q_x of 4 values per lane (8 lanes) as floats.
static inline __m256 block_sums(__m256i w, __m256i x, const int SIGNED) {
    __m256i p = SIGNED ? _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w))
                       : _mm256_maddubs_epi16(w, x);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

// R weight rows × V vectors; R and V are constants at every call site. MIN: a _1 type (its
// activation has per-block sums s at `sums` bytes into each vector).
#define LEGACY_BLOCK(NAME, LOAD, BYTES, SIGNED, MIN)                                                  \
    static inline __attribute__((always_inline)) void NAME(                                        \
        const uint8_t *w, size_t rowBytes, size_t blocks, const uint8_t *x, size_t xs, size_t sums, \
        float *y, size_t ldy, const int R, const int V) {                                           \
        __m256 acc[4][8];                                                                           \
        float summ[4][8];                                                                           \
        for (int i = 0; i < R; i++)                                                                 \
            for (int k = 0; k < V; k++) {                                                           \
                acc[i][k] = _mm256_setzero_ps();                                                    \
                summ[i][k] = 0;                                                                     \
            }                                                                                       \
        for (size_t b = 0; b < blocks; b++) {                                                       \
            /* Each vector's quants and scale (the layout holds it 8 times) loaded where used:   \
               read from L1 again per row, not held in registers (which spilled them). */        \
            const uint8_t *xb = act_quants(x, b);                                                   \
            const float *dxb = act_scales(x, b);                                                    \
            for (int i = 0; i < R; i++) {                                                           \
                const uint8_t *block = w + i * rowBytes + b * BYTES;                                \
                if (V == 1) _mm_prefetch((const char *)block + 1024, _MM_HINT_T0);                  \
                lblock l = LOAD(block);                                                             \
                const __m256 dw = _mm256_set1_ps(l.d);                                              \
                for (int k = 0; k < V; k++) {                                                       \
                    __m256i xv = _mm256_loadu_si256((const __m256i *)(xb + k * xs));                \
                    __m256 dx = _mm256_loadu_ps(dxb + k * xs / 4);                                  \
                    acc[i][k] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dx), block_sums(l.q, xv, SIGNED), acc[i][k]); \
                    if (MIN) {                                                                      \
                        float s;                                                                    \
                        memcpy(&s, x + k * xs + sums + 4 * b, 4);                                   \
                        summ[i][k] = fmaf(l.m, s, summ[i][k]);                                      \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        for (int i = 0; i < R; i++)                                                                 \
            for (int k = 0; k < V; k++) y[k * ldy + i] = hsum_f32x8(acc[i][k]) + summ[i][k];        \
    }

// Decode (n = 1): rows in fours (four independent chains); batches: tiles of LEGACY_TILE_R rows ×
// LEGACY_TILE_V vectors (each block decoded once per V vectors), in PanelGemm.h's panels of
// LEGACY_PANEL_BYTES of weights, as the f16 GEMM (Gemv.c). 2 × 6 against the 2 × 4 before (Q8_0, the f16-matrix shapes of a Llama-3.2-1B layer
// at 128 vectors, one thread, tools/bench/prefill_gemm.c, A B A B on a loaded machine): 1.21-1.25x
// in four runs; 1 × 4 1.00-1.05x, 1 × 6 1.01-1.10x, 2 × 8 1.15x, 3 × 4 1.12x, 4 × 3 1.02x.
// Only the order of the tiles changes, not any output's sequence, so not its bits.
#ifndef LEGACY_TILE_R
#define LEGACY_TILE_R 2
#endif
#ifndef LEGACY_TILE_V
#define LEGACY_TILE_V 6
#endif
// One group of V vectors through the panel's rows p … end, LEGACY_TILE_R at a time (PanelGemm.h).
#define LEGACY_PANEL_PASS(BLOCK, V)                                                                   \
    for (size_t q = p; q < end; q += LEGACY_TILE_R)                                                   \
        BLOCK(w + q * rowBytes, rowBytes, blocks, x + j * xs, xs, sums, y + j * ldy + q, ldy, LEGACY_TILE_R, V)
#ifndef LEGACY_PANEL_BYTES
#define LEGACY_PANEL_BYTES 65536
#endif
#define LEGACY_GEMM(NAME, BLOCK, BYTES, MIN)                                                         \
    static void NAME(const uint8_t *w, const uint8_t *x, size_t n, float *y, size_t ldy,           \
                     size_t row_begin, size_t row_end, size_t cols) {                               \
        size_t blocks = cols / QL_BLOCK, rowBytes = blocks * BYTES;                                 \
        size_t xs = MIN ? split_q8_1_activation_stride(cols) : split_q8_activation_stride(cols);   \
        size_t sums = split_q8_activation_stride(cols);                                             \
        size_t r = row_begin;                                                                       \
        if (n == 1)                                                                                 \
            for (; r + 4 <= row_end; r += 4) BLOCK(w + r * rowBytes, rowBytes, blocks, x, xs, sums, y + r, ldy, 4, 1); \
        else {                                                                                      \
            size_t full = r + (row_end - r) / LEGACY_TILE_R * LEGACY_TILE_R;                        \
            SPLIT_PANEL_GEMM(r, full, n, rowBytes, LEGACY_TILE_R, LEGACY_TILE_V, LEGACY_PANEL_BYTES, BLOCK, \
                             LEGACY_PANEL_PASS, SPLIT_PANEL_WIDTHS_7);                              \
            r = full;                                                                               \
        }                                                                                           \
        for (; r < row_end; r++) {                                                                  \
            const uint8_t *wr = w + r * rowBytes;                                                   \
            size_t j = 0;                                                                           \
            for (; j + 4 <= n; j += 4) BLOCK(wr, rowBytes, blocks, x + j * xs, xs, sums, y + j * ldy + r, ldy, 1, 4); \
            switch (n - j) {                                                                        \
            case 3: BLOCK(wr, rowBytes, blocks, x + j * xs, xs, sums, y + j * ldy + r, ldy, 1, 3); break; \
            case 2: BLOCK(wr, rowBytes, blocks, x + j * xs, xs, sums, y + j * ldy + r, ldy, 1, 2); break; \
            case 1: BLOCK(wr, rowBytes, blocks, x + j * xs, xs, sums, y + j * ldy + r, ldy, 1, 1); break; \
            default: break;                                                                         \
            }                                                                                       \
        }                                                                                           \
    }

LEGACY_BLOCK(block_q4_1, load_q4_1, Q4_1_BYTES, 0, 1)
LEGACY_BLOCK(block_q5_0, load_q5_0, Q5_0_BYTES, 1, 0)
LEGACY_BLOCK(block_q5_1, load_q5_1, Q5_1_BYTES, 0, 1)
LEGACY_BLOCK(block_q8_0, load_q8_0, Q8_0_BYTES, 1, 0)
LEGACY_BLOCK(block_iq4_nl, load_iq4_nl, IQ4_NL_BYTES, 1, 0)
LEGACY_GEMM(gemm_q4_1, block_q4_1, Q4_1_BYTES, 1)
LEGACY_GEMM(gemm_q5_0, block_q5_0, Q5_0_BYTES, 0)
LEGACY_GEMM(gemm_q5_1, block_q5_1, Q5_1_BYTES, 1)
LEGACY_GEMM(gemm_q8_0, block_q8_0, Q8_0_BYTES, 0)
LEGACY_GEMM(gemm_iq4_nl, block_iq4_nl, IQ4_NL_BYTES, 0)

// Q8_0 decode (n = 1), four rows at a time: each input block and its scale loaded once for the
// four rows, and the four rows (one contiguous run of the matrix, read in four places) asked for
// one run ahead as a single stream, 4 × 34 bytes per block. Per row the same operations in the
// same order as block_q8_0 (R = 4, V = 1): the exact integer lane sums, dw · dx, one fmadd per
// block, one horizontal sum, + 0 (the minimums' sum of the _0 types), so each row keeps its bits.
// (llama.cpp's ggml_vec_dot_q8_0_q8_0 does the same per block, one row at a time.)
static size_t decode4_q8_0(const uint8_t *w, const uint8_t *x, float *y, size_t row_begin, size_t row_end,
                           size_t cols) {
    const size_t blocks = cols / QL_BLOCK, rowBytes = blocks * Q8_0_BYTES;
    size_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        const uint8_t *run = w + r * rowBytes;
        const uint8_t *ahead = run + 4 * rowBytes;  // (8 and 16 KB ahead measured the same)
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *xb = act_quants(x, b);
            const __m256i xv = _mm256_loadu_si256((const __m256i *)xb);
            const __m256 dx = _mm256_loadu_ps((const float *)(xb + 64));
            // Prefetch addresses 64 bytes apart at most, so every line of the run's share is asked for.
            for (size_t l = 0; l < 4 * Q8_0_BYTES; l += 64) _mm_prefetch((const char *)ahead + b * 4 * Q8_0_BYTES + l, _MM_HINT_T0);
            for (int i = 0; i < 4; i++) {
                lblock q = load_q8_0(run + i * rowBytes + b * Q8_0_BYTES);
                acc[i] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(q.d), dx), block_sums(q.q, xv, 1), acc[i]);
            }
        }
        for (int i = 0; i < 4; i++) y[r + i] = hsum_f32x8(acc[i]) + 0.f;
    }
    return r;
}

void split_gemm_legacy(int type, const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,
                       size_t row_end, size_t cols) {
    switch (type) {
    case SPLIT_WEIGHT_Q4_0: gemm_q4_0_plain(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    case SPLIT_WEIGHT_Q4_1: gemm_q4_1(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    case SPLIT_WEIGHT_Q5_0: gemm_q5_0(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    case SPLIT_WEIGHT_Q5_1: gemm_q5_1(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    case SPLIT_WEIGHT_Q8_0:
        if (n == 1) row_begin = decode4_q8_0(w, xq, y, row_begin, row_end, cols);  // the tail rows below
        gemm_q8_0(w, xq, n, y, ldy, row_begin, row_end, cols);
        break;
    case SPLIT_WEIGHT_IQ4_NL: gemm_iq4_nl(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    default: break;
    }
}

#else
// Portable version of the same sums, in the AVX2 kernel's order, so every path gives the same
// bits: lane l (of 8) of a block is the exact integer sum of its values 4l..4l+3, scaled by
// d_w · d_x and accumulated over the blocks in order; the lanes are summed as hsum_f32x8 does
// (quant_lane_sum8).
// (A per-block scalar sum is llama.cpp's generic order, not its x86 one: a last-bit difference in
// one activation could then round its 8-bit copy the other way, and on the Q4_0 fixture model,
// when Q4_0 was computed here, the scalar path's logits moved 0.064 from llama.cpp's at position 0,
// with a different top token at position 2.) On AArch64 the lane sums are NEON's (SDOT, or
// widening multiplies; Q4_1 and IQ4_NL unpacked in vectors too, IQ4_NL's table by TBL): the same
// integers, so the same bits. Q4_0: QuantQ4_0x8.c.
void split_gemm_legacy(int type, const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,
                       size_t row_end, size_t cols) {
    if (type == SPLIT_WEIGHT_Q4_0) {
        gemm_q4_0_plain(w, xq, n, y, ldy, row_begin, row_end, cols);
        return;
    }
    size_t blocks = cols / QL_BLOCK;
    int minimum = type == SPLIT_WEIGHT_Q4_1 || type == SPLIT_WEIGHT_Q5_1;
    size_t bytes = type == SPLIT_WEIGHT_Q4_1 ? Q4_1_BYTES : type == SPLIT_WEIGHT_Q5_0 ? Q5_0_BYTES : type == SPLIT_WEIGHT_IQ4_NL ? IQ4_NL_BYTES : Q5_1_BYTES;
    size_t xs = minimum ? split_q8_1_activation_stride(cols) : split_q8_activation_stride(cols);
    size_t sums = split_q8_activation_stride(cols);
    int q[32];
    for (size_t j = 0; j < n; j++) {
        const uint8_t *x = (const uint8_t *)xq + j * xs;
        for (size_t r = row_begin; r < row_end; r++) {
            const uint8_t *row = (const uint8_t *)w + r * blocks * bytes;
            float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, summ = 0;
            int32_t lanes[8];
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *block = row + b * bytes;
                float d = quant_half(block), m = minimum ? quant_half(block + 2) : 0;
#if defined(SPLIT_NEON)
                if (type == SPLIT_WEIGHT_Q4_1 || type == SPLIT_WEIGHT_IQ4_NL) {
                    // Low nibbles are values 0-15, high nibbles 16-31; the same integers as unpack_q4.
                    uint8x16_t qs = vld1q_u8(block + (type == SPLIT_WEIGHT_Q4_1 ? 4 : 2));
                    uint8x16_t low = vandq_u8(qs, vdupq_n_u8(0x0F)), high = vshrq_n_u8(qs, 4);
                    int8x16_t w0, w1;
                    if (type == SPLIT_WEIGHT_IQ4_NL) {
                        int8x16_t table = vld1q_s8(quant_iq4_values);
                        w0 = vqtbl1q_s8(table, low);
                        w1 = vqtbl1q_s8(table, high);
                    } else {
                        w0 = vreinterpretq_s8_u8(low);
                        w1 = vreinterpretq_s8_u8(high);
                    }
                    quant_dot32_lanes_neon(w0, w1, (const int8_t *)act_quants(x, b), lanes);
                } else
#endif
                {
                    int zero = 0;
                    switch (type) {
                    case SPLIT_WEIGHT_Q4_1: unpack_q4(block + 4, q); break;
                    case SPLIT_WEIGHT_Q5_0: unpack_q5(block + 2, block + 6, q); zero = 16; break;
                    case SPLIT_WEIGHT_IQ4_NL:
                        unpack_q4(block + 2, q);
                        for (int i = 0; i < 32; i++) q[i] = quant_iq4_values[q[i]];
                        break;
                    default: unpack_q5(block + 4, block + 8, q); break;
                    }
                    int8_t centred[32];
                    for (int i = 0; i < 32; i++) centred[i] = (int8_t)(q[i] - zero);
                    quant_dot32_lanes(centred, (const int8_t *)act_quants(x, b), lanes);
                }
                float scale = d * act_scales(x, b)[0];
                for (int l = 0; l < 8; l++) acc[l] = fmaf(scale, (float)lanes[l], acc[l]);
                if (minimum) {
                    float s;
                    memcpy(&s, x + sums + 4 * b, 4);
                    summ = fmaf(m, s, summ);
                }
            }
            y[j * ldy + r] = quant_lane_sum8(acc) + summ;
        }
    }
}
#endif
