// GGML Q8_0 weights computed on directly (no f32 copy): each block is an f16 scale and 32 signed
// bytes. As llama.cpp does, the input vector is quantized to 8-bit blocks too, so a block's dot
// product is an exact integer sum, scaled once: y = Σ_blocks (d_w · d_x) · Σ q_w q_x.
//
// The quantized activation of one vector is laid out for the AVX-512 kernel, two blocks per
// 64-byte step: for each pair of blocks, 64 int8 values (the second half zero when the row has
// an odd block count), then 16 floats [d_x0 × 8, d_x1 × 8]. A vector takes
// split_q8_activation_stride(cols) bytes.
//
// As in Gemv.c, every output y[j, r] is one fixed sequence of operations, so a GEMM row is
// bit-identical to the GEMV of its own vector.
#include "QuantBlocks.h"
#include <math.h>
#include <string.h>
#pragma clang fp reassociate(off)

#define Q8_BLOCK 32
#define Q8_BYTES 34

static inline float f16_bits_to_f32(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    float f;
    split_f16_to_f32(&h, &f, 1);
    return f;
}

static inline float round_to_f16(float v) {
    uint16_t h;
    float f;
    split_f32_to_f16(&v, &h, 1);
    split_f16_to_f32(&h, &f, 1);
    return f;
}

size_t split_q8_activation_stride(size_t cols) {
    size_t blocks = cols / Q8_BLOCK;
    return (blocks + 1) / 2 * 128;
}

void split_dequantize_q8_0(const void *source, float *destination, size_t count) {
    const uint8_t *b = source;
    for (size_t block = 0; block < count / Q8_BLOCK; block++, b += Q8_BYTES) {
        float d = f16_bits_to_f32(b);
        const int8_t *q = (const int8_t *)(b + 2);
        for (int i = 0; i < Q8_BLOCK; i++) destination[block * Q8_BLOCK + i] = d * (float)q[i];
    }
}

// One block as llama.cpp's quantize_row_q8_0: d = max|x| / 127 stored as f16, q = round(x · 127 /
// max|x|) to nearest even.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__)
#include <immintrin.h>
static void quantize_block(const float *x, int8_t *q, float *scale) {
    __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
    float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
    *scale = round_to_f16(amax / 127.f);
    __m512 id = _mm512_set1_ps(amax != 0 ? 127.f / amax : 0.f);
    // cvtps_epi32 rounds to nearest even (the default MXCSR mode); |values| ≤ 127, no saturation.
    _mm_storeu_si128((__m128i *)q, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(a, id))));
    _mm_storeu_si128((__m128i *)(q + 16), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(b, id))));
}
#elif defined(__AVX2__)
#include <immintrin.h>
// The same quants 8 at a time (a decode step quantizes every matrix input: the scalar loop cost
// a Llama-3.2-1B-shaped step ~2 ms on this 2-core AVX2 machine).
static void quantize_block(const float *x, int8_t *q, float *scale) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4], m = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) {
        v[i] = _mm256_loadu_ps(x + 8 * i);
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float amax = _mm_cvtss_f32(h);
    *scale = round_to_f16(amax / 127.f);
    __m256 id = _mm256_set1_ps(amax != 0 ? 127.f / amax : 0.f);
    // cvtps_epi32 rounds to nearest even, as nearbyintf does; |values| ≤ 127, no saturation.
    __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(v[0], id)), b = _mm256_cvtps_epi32(_mm256_mul_ps(v[1], id));
    __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(v[2], id)), d = _mm256_cvtps_epi32(_mm256_mul_ps(v[3], id));
    __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    // The packs work per 128-bit lane: dwords come out in the order 0 4 1 5 2 6 3 7.
    _mm256_storeu_si256((__m256i *)q, _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}
#else
static void quantize_block(const float *x, int8_t *q, float *scale) {
    float amax = 0;
    for (int i = 0; i < Q8_BLOCK; i++) amax = fmaxf(amax, fabsf(x[i]));
    *scale = round_to_f16(amax / 127.f);
    float id = amax != 0 ? 127.f / amax : 0.f;
    for (int i = 0; i < Q8_BLOCK; i++) q[i] = (int8_t)nearbyintf(x[i] * id);
}
#endif

void split_quantize_q8_activation(const float *x, size_t n, size_t cols, void *destination) {
    size_t blocks = cols / Q8_BLOCK, stride = split_q8_activation_stride(cols);
    for (size_t j = 0; j < n; j++) {
        uint8_t *out = (uint8_t *)destination + j * stride;
        if (blocks % 2) memset(out + stride - 128, 0, 128);  // the unused half of the last pair
        for (size_t b = 0; b < blocks; b++) {
            uint8_t *pair = out + (b / 2) * 128;
            float scale;
            quantize_block(x + j * cols + b * Q8_BLOCK, (int8_t *)(pair + (b % 2) * 32), &scale);
            float *scales = (float *)(pair + 64) + (b % 2) * 8;
            for (int i = 0; i < 8; i++) scales[i] = scale;
        }
    }
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include "Reduce512.h"

#ifndef Q8_PREFETCH_BYTES
#define Q8_PREFETCH_BYTES 4608
#endif

// R weight rows × V vectors. Per pair of blocks: |w| as unsigned bytes and x with w's sign
// (vpdpbusd multiplies unsigned by signed), the exact int32 sums of 4 products per lane,
// scaled by d_w · d_x and accumulated in f32.
static inline __attribute__((always_inline)) void block_q8(
    const uint8_t *w, size_t rowBytes, size_t blocks, const uint8_t *xq, size_t xstride,
    float *y, size_t ldy, const int R, const int V) {
    __m512 acc[4][4];
    for (int i = 0; i < R; i++)
        for (int k = 0; k < V; k++) acc[i][k] = _mm512_setzero_ps();
    const __m512i zero = _mm512_setzero_si512();
    size_t pairs = (blocks + 1) / 2;
    for (size_t p = 0; p < pairs; p++) {
        const int two = 2 * p + 1 < blocks;
        __m512i xv[4];
        __m512 xs[4];
        for (int k = 0; k < V; k++) {
            xv[k] = _mm512_loadu_si512(xq + k * xstride + p * 128);
            xs[k] = _mm512_loadu_ps((const float *)(xq + k * xstride + p * 128 + 64));
        }
        for (int i = 0; i < R; i++) {
            const uint8_t *b0 = w + i * rowBytes + 2 * p * Q8_BYTES;
            // Decode (one vector) streams the weights once per token: ask for them ahead, as the
            // f16 GEMV does (Gemv.c). The batched path reuses each load V times and does not need it.
            if (V == 1) _mm_prefetch((const char *)b0 + Q8_PREFETCH_BYTES, _MM_HINT_NTA);
            __m256i lo = _mm256_loadu_si256((const __m256i *)(b0 + 2));
            __m256i hi = two ? _mm256_loadu_si256((const __m256i *)(b0 + Q8_BYTES + 2)) : _mm256_setzero_si256();
            __m512i wq = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
            float d0 = _cvtsh_ss(*(const uint16_t *)b0);
            float d1 = two ? _cvtsh_ss(*(const uint16_t *)(b0 + Q8_BYTES)) : 0.f;
            __m512 dw = _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
            __m512i aw = _mm512_abs_epi8(wq);
            __mmask64 negative = _mm512_movepi8_mask(wq);
            for (int k = 0; k < V; k++) {
                __m512i sx = _mm512_mask_sub_epi8(xv[k], negative, zero, xv[k]);
                __m512i dot = _mm512_dpbusd_epi32(zero, aw, sx);
                acc[i][k] = _mm512_fmadd_ps(_mm512_mul_ps(dw, xs[k]), _mm512_cvtepi32_ps(dot), acc[i][k]);
            }
        }
    }
    if (R == 4)
        for (int k = 0; k < V; k++) hsum512x4(acc[0][k], acc[1][k], acc[2][k], acc[3][k], y + k * ldy);
    else
        for (int i = 0; i < R; i++)
            for (int k = 0; k < V; k++) y[k * ldy + i] = hsum512(acc[i][k]);
}

void split_gemm_q8_0(const void *weights, const void *xq, size_t n, float *y, size_t ldy,
                     size_t row_begin, size_t row_end, size_t cols) {
    const uint8_t *w = weights;
    const uint8_t *x = xq;
    size_t blocks = cols / Q8_BLOCK, rowBytes = blocks * Q8_BYTES, xs = split_q8_activation_stride(cols);
    size_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        const uint8_t *wr = w + r * rowBytes;
        size_t j = 0;
        for (; j + 4 <= n; j += 4) block_q8(wr, rowBytes, blocks, x + j * xs, xs, y + j * ldy + r, ldy, 4, 4);
        switch (n - j) {
        case 3: block_q8(wr, rowBytes, blocks, x + j * xs, xs, y + j * ldy + r, ldy, 4, 3); break;
        case 2: block_q8(wr, rowBytes, blocks, x + j * xs, xs, y + j * ldy + r, ldy, 4, 2); break;
        case 1: block_q8(wr, rowBytes, blocks, x + j * xs, xs, y + j * ldy + r, ldy, 4, 1); break;
        default: break;
        }
    }
    for (; r < row_end; r++) {
        const uint8_t *wr = w + r * rowBytes;
        size_t j = 0;
        for (; j + 4 <= n; j += 4) block_q8(wr, rowBytes, blocks, x + j * xs, xs, y + j * ldy + r, ldy, 1, 4);
        for (; j < n; j++) block_q8(wr, rowBytes, blocks, x + j * xs, xs, y + j * ldy + r, ldy, 1, 1);
    }
}

#elif defined(__AVX2__)
// AVX2 machines: the legacy types' kernel (QuantLegacy.c), which handles Q8_0 blocks as well.
void split_gemm_q8_0(const void *weights, const void *xq, size_t n, float *y, size_t ldy,
                     size_t row_begin, size_t row_end, size_t cols) {
    split_gemm_legacy(SPLIT_WEIGHT_Q8_0, weights, xq, n, y, ldy, row_begin, row_end, cols);
}
#else
// The scalar and NEON kernels: y = Σ_blocks (d_w · d_x) · (exact integer block sum), in block
// order, so the two give the same bits. Rows in blocks of 4 share each input block. A block's
// integer sum is QuantBlocks.h's quant_dot32 (SDOT or widening multiplies on AArch64).
static inline __attribute__((always_inline)) void block_q8_rows(const uint8_t *row, size_t row_bytes, size_t blocks,
                                                                const uint8_t *x, float *y, const int R) {
    float s[4] = {0, 0, 0, 0};
    for (size_t b = 0; b < blocks; b++) {
        const int8_t *qx = (const int8_t *)act_quants(x, b);
        float dx = act_scales(x, b)[0];
        for (int i = 0; i < R; i++) {
            const uint8_t *block = row + i * row_bytes + b * Q8_BYTES;
            s[i] += f16_bits_to_f32(block) * dx * (float)quant_dot32((const int8_t *)(block + 2), qx);
        }
    }
    for (int i = 0; i < R; i++) y[i] = s[i];
}

void split_gemm_q8_0(const void *weights, const void *xq, size_t n, float *y, size_t ldy,
                     size_t row_begin, size_t row_end, size_t cols) {
    const uint8_t *w = weights;
    size_t blocks = cols / Q8_BLOCK, rowBytes = blocks * Q8_BYTES, xs = split_q8_activation_stride(cols);
    for (size_t j = 0; j < n; j++) {
        const uint8_t *x = (const uint8_t *)xq + j * xs;
        size_t r = row_begin;
        for (; r + 4 <= row_end; r += 4) block_q8_rows(w + r * rowBytes, rowBytes, blocks, x, y + j * ldy + r, 4);
        for (; r < row_end; r++) block_q8_rows(w + r * rowBytes, rowBytes, blocks, x, y + j * ldy + r, 1);
    }
}
#endif
