// GGML's IQ4_XS weights computed on directly, as llama.cpp does. A super-block of 256 values holds
// an f16 scale d, eight 6-bit sub-block scales (stored + 32; low 4 bits in scales_l, high 2 in
// scales_h) and 256 4-bit indices into IQ4_NL's non-linear table. The input is quantized to Q8_K
// (QuantK.c), so a super-block's dot product is exact integer sums, scaled once:
//   Σ w·x = d · d_x · Σ_s (scale_s − 32) · Σ_{i∈s} table[q_i] · x_i
// (llama.cpp's AVX2 form; its scalar and NEON forms scale each sub-block in float, a rounding
// apart). The integers are exact in every path (scalar, AVX2, NEON) and the float steps are the
// same fmas and adds, so the paths give the same bits, and a batched row (a block decoded once for
// several vectors) gives the same bits as the row alone. Included after QuantK.c (its Q8_K activation).
#include "QuantBlocks.h"
#include <math.h>
#pragma clang fp reassociate(off)

#define IQ4_XS_BYTES 136  // d, scales_h (2 bits × 8), scales_l[4] (4 bits × 8), qs[128]

// One super-block decoded: the table values in value order and the signed sub-block scales.
typedef struct {
    _Alignas(32) int8_t value[QK];
    int16_t scale[8];  // per 32 values
    float d;
} xs_block;

static inline void decode_iq4_xs(const uint8_t *b, xs_block *k) {
    const uint8_t *qs = b + 8;  // each 16 bytes: values 32s…32s+15 in the low nibbles, 32s+16… in the high
#if defined(__AVX2__)
    const __m128i table = _mm_loadu_si128((const __m128i *)quant_iq4_values), low = _mm_set1_epi8(0xF);
    for (int s = 0; s < 8; s++) {
        __m128i q = _mm_loadu_si128((const __m128i *)(qs + 16 * s));
        _mm_store_si128((__m128i *)(k->value + 32 * s), _mm_shuffle_epi8(table, _mm_and_si128(q, low)));
        _mm_store_si128((__m128i *)(k->value + 32 * s + 16),
                        _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low)));
    }
#elif defined(SPLIT_NEON)
    const int8x16_t table = vld1q_s8(quant_iq4_values);
    for (int s = 0; s < 8; s++) {
        uint8x16_t q = vld1q_u8(qs + 16 * s);
        vst1q_s8(k->value + 32 * s, vqtbl1q_s8(table, vandq_u8(q, vdupq_n_u8(0xF))));
        vst1q_s8(k->value + 32 * s + 16, vqtbl1q_s8(table, vshrq_n_u8(q, 4)));
    }
#else
    for (int s = 0; s < 8; s++)
        for (int j = 0; j < 16; j++) {
            k->value[32 * s + j] = quant_iq4_values[qs[16 * s + j] & 0xF];
            k->value[32 * s + 16 + j] = quant_iq4_values[qs[16 * s + j] >> 4];
        }
#endif
    uint16_t high;
    memcpy(&high, b + 2, 2);
    for (int s = 0; s < 8; s++)
        k->scale[s] = (int16_t)quant_iq4_xs_scale(b, high, s);
    k->d = quant_half(b);
}

// The block's part of the dot product with one Q8_K block, added to eight lane sums: lane i holds
// values 4i…4i+3 of every sub-block (as an AVX2 register of 32 bytes lays them out), its integer
// sum times d · d_x added by one fma. llama.cpp's AVX2 kernel accumulates the same lanes in the same
// order, so on x86 the result is its bits, not only close to them.
static inline void xs_dot(const xs_block *k, const uint8_t *x, float lanes[8]) {
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    const float scale = k->d * dx;
#if defined(__AVX2__)
    // Signed × signed bytes as |w| × (x with w's sign) into int16 pairs (exact: |w|, |x| ≤ 127),
    // then × the sub-block's scale in pairs into int32.
    __m256i acc = _mm256_setzero_si256();
    for (int s = 0; s < 8; s++) {
        __m256i w = _mm256_load_si256((const __m256i *)(k->value + 32 * s));
        __m256i v = _mm256_loadu_si256((const __m256i *)(x + Q8K_QS + 32 * s));
        __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(v, w));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(k->scale[s])));
    }
    _mm256_storeu_ps(lanes, _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(acc), _mm256_loadu_ps(lanes)));
#elif defined(SPLIT_NEON)
    // Four lanes of four products per 16 values: SDOT's own grouping, or widening multiplies
    // added pairwise twice.
    int32x4_t low = vdupq_n_s32(0), high = vdupq_n_s32(0);
    for (int s = 0; s < 8; s++) {
        int32x4_t part[2];
        for (int h = 0; h < 2; h++) {
            int8x16_t w = vld1q_s8(k->value + 32 * s + 16 * h), v = vld1q_s8((const int8_t *)(x + Q8K_QS + 32 * s + 16 * h));
#if defined(SPLIT_NEON_DOTPROD)
            part[h] = vdotq_s32(vdupq_n_s32(0), w, v);
#else
            part[h] = vpaddq_s32(vpaddlq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(v))),
                                 vpaddlq_s16(vmull_s8(vget_high_s8(w), vget_high_s8(v))));
#endif
        }
        low = vmlaq_n_s32(low, part[0], k->scale[s]);
        high = vmlaq_n_s32(high, part[1], k->scale[s]);
    }
    vst1q_f32(lanes, vfmaq_f32(vld1q_f32(lanes), vcvtq_f32_s32(low), vdupq_n_f32(scale)));
    vst1q_f32(lanes + 4, vfmaq_f32(vld1q_f32(lanes + 4), vcvtq_f32_s32(high), vdupq_n_f32(scale)));
#else
    const int8_t *qx = (const int8_t *)(x + Q8K_QS);
    for (int i = 0; i < 8; i++) {
        int32_t sum = 0;
        for (int s = 0; s < 8; s++) {
            int32_t part = 0;
            for (int t = 0; t < 4; t++) part += (int32_t)k->value[32 * s + 4 * i + t] * qx[32 * s + 4 * i + t];
            sum += part * k->scale[s];
        }
        lanes[i] = fmaf(scale, (float)sum, lanes[i]);
    }
#endif
}

#if defined(__AVX2__)
// One vector (decode): xs_dot's arithmetic on a block straight from its bytes, the lanes kept in a
// register (same integers, same fma, same bits). A 4096 × 4096 GEMV (in cache, one thread, Zen 3,
// 2026-12-06): 0.87 ms through xs_block, 0.76 ms so, against Q4_K's fused dot 0.66-0.68 ms.
static inline __m256 xs_dot1(const uint8_t *b, const uint8_t *x, __m256 lanes) {
    const __m128i table = _mm_loadu_si128((const __m128i *)quant_iq4_values), low = _mm_set1_epi8(0xF);
    uint16_t high;
    memcpy(&high, b + 2, 2);
    __m256i acc = _mm256_setzero_si256();
    for (int s = 0; s < 8; s++) {
        __m128i q = _mm_loadu_si128((const __m128i *)(b + 8 + 16 * s));
        __m256i w = _mm256_set_m128i(_mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low)),
                                     _mm_shuffle_epi8(table, _mm_and_si128(q, low)));
        __m256i v = _mm256_loadu_si256((const __m256i *)(x + Q8K_QS + 32 * s));
        __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(v, w));
        int scale = quant_iq4_xs_scale(b, high, s);
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16((int16_t)scale)));
    }
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    return _mm256_fmadd_ps(_mm256_set1_ps(quant_half(b) * dx), _mm256_cvtepi32_ps(acc), lanes);
}
#endif

// Each row's super-blocks are decoded once and dotted with up to XS_VECTORS vectors.
#define XS_VECTORS 16
void split_gemm_iq4_xs(const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,
                       size_t row_end, size_t cols) {
    size_t blocks = cols / QK, row_bytes = blocks * IQ4_XS_BYTES, xs = blocks * Q8K_BYTES;
#if defined(__AVX2__)
    if (n == 1) {
        for (size_t r = row_begin; r < row_end; r++) {
            const uint8_t *row = (const uint8_t *)w + r * row_bytes;
            __m256 lanes = _mm256_setzero_ps();
            for (size_t b = 0; b < blocks; b++) {
                __builtin_prefetch(row + (b + 4) * IQ4_XS_BYTES);
                lanes = xs_dot1(row + b * IQ4_XS_BYTES, (const uint8_t *)xq + b * Q8K_BYTES, lanes);
            }
            float sums[8];
            _mm256_storeu_ps(sums, lanes);
            y[r] = quant_lane_sum8(sums);
        }
        return;
    }
#endif
    xs_block k;
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *row = (const uint8_t *)w + r * row_bytes;
        for (size_t j = 0; j < n; j += XS_VECTORS) {
            size_t v = n - j < XS_VECTORS ? n - j : XS_VECTORS;
            float lanes[XS_VECTORS][8];
            memset(lanes, 0, sizeof lanes);
            for (size_t b = 0; b < blocks; b++) {
                __builtin_prefetch(row + (b + 4) * IQ4_XS_BYTES);
                decode_iq4_xs(row + b * IQ4_XS_BYTES, &k);
                const uint8_t *xb = (const uint8_t *)xq + j * xs + b * Q8K_BYTES;
                for (size_t i = 0; i < v; i++) xs_dot(&k, xb + i * xs, lanes[i]);
            }
            for (size_t i = 0; i < v; i++) y[(j + i) * ldy + r] = quant_lane_sum8(lanes[i]);
        }
    }
}

// ggml's dequantize_row_iq4_xs arithmetic: (d · (scale − 32)) · table[q].
void split_dequantize_iq4_xs(const void *source, float *destination, size_t count) {
    xs_block k;
    for (size_t b = 0; b < count / QK; b++) {
        decode_iq4_xs((const uint8_t *)source + b * IQ4_XS_BYTES, &k);
        for (int s = 0; s < 8; s++) {
            float dl = k.d * (float)k.scale[s];
            for (int i = 0; i < 32; i++) destination[b * QK + 32 * s + i] = dl * (float)k.value[32 * s + i];
        }
    }
}
