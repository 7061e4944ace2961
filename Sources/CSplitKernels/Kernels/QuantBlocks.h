// Shared by the quantized-weight kernels (QuantQ8.c, QuantQ4_0x8.c, QuantLegacy.c, QuantK.c,
// QuantIQ4XS.c): GGML's block layouts (ggml-common.h), the quantized activations' layouts, and the
// scalar helpers every path uses the same way.
#ifndef SPLIT_QUANT_BLOCKS_H
#define SPLIT_QUANT_BLOCKS_H
#include "SplitKernels.h"
#include <string.h>

// Legacy blocks of 32 values: an f16 scale d (and for the _1 types an f16 minimum m) and packed
// quants; Q5's fifth bits are one 32-bit word, bit j for value j.
#define QL_BLOCK 32
#define Q4_0_BYTES 18  // d, qs[16]
#define Q4_1_BYTES 20  // d, m, qs[16]
#define Q5_0_BYTES 22  // d, qh[4], qs[16]
#define Q5_1_BYTES 24  // d, m, qh[4], qs[16]
#define Q8_0_BYTES 34  // d, qs[32]
#define IQ4_NL_BYTES 18  // d, qs[16]: nibbles index a fixed non-linear table

// The IQ4_NL table (ggml-quants.c's kvalues_iq4nl).
static const int8_t quant_iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// K-quant super-blocks of 256 values.
#define QK 256
#define Q2_K_BYTES 84   // scales[16] (low 4 bits scale, high 4 bits min), qs[64], d, dmin
#define Q3_K_BYTES 110  // hmask[32], qs[64], scales[12] (16 × 6 bits), d
#define Q4_K_BYTES 144  // d, dmin, scales[12] (8 scales + 8 mins, 6 bits), qs[128]
#define Q5_K_BYTES 176  // d, dmin, scales[12], qh[32], qs[128]
#define Q6_K_BYTES 210  // ql[128], qh[64], scales[16] (int8), d

// The Q8_K activation of one super-block (llama.cpp's block_q8_K, re-laid to 64-byte alignment):
// 256 int8 quants, the sums of each 16, and the scale.
#define Q8K_QS 0
#define Q8K_BSUMS 256
#define Q8K_D 288
#define Q8K_BYTES 320

// An f16 scale, inline (a call per block into Convert.c cost Q4_0 decode 4x its time).
#if defined(__F16C__)
#include <immintrin.h>
static inline float quant_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}
#elif defined(SPLIT_NEON)
// FCVT, part of every AArch64 core (exact, as the integer conversion below).
static inline float quant_half(const uint8_t *p) {
    __fp16 h;
    memcpy(&h, p, 2);
    return (float)h;
}
#else
#include "Half.h"
static inline float quant_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return half_to_float(h);
}
#endif

// Σ w[i]·x[i] over one block of 32 int8 pairs, exactly: on AArch64 by SDOT (vdotq_s32,
// PathNEONDot.c, where the CPU has the dot-product instructions) or by widening multiplies
// (SMULL/SMLAL, then SADALP into 32 bits: two products of |q| ≤ 127 fit 16 bits); else a loop.
#if defined(SPLIT_NEON)
#include <arm_neon.h>
static inline int32_t quant_dot32_neon(int8x16_t w0, int8x16_t w1, const int8_t *x) {
    int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
#if defined(SPLIT_NEON_DOTPROD)
    return vaddvq_s32(vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1));
#else
    int16x8_t a = vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), vget_high_s8(w0), vget_high_s8(x0));
    int16x8_t b = vmlal_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), vget_high_s8(w1), vget_high_s8(x1));
    return vaddvq_s32(vpadalq_s16(vpaddlq_s16(a), b));
#endif
}
static inline int32_t quant_dot32(const int8_t *w, const int8_t *x) {
    return quant_dot32_neon(vld1q_s8(w), vld1q_s8(w + 16), x);
}
// The same products summed in 8 lanes, lane l holding values 4l..4l+3 (the AVX2 kernels' lanes).
static inline void quant_dot32_lanes_neon(int8x16_t w0, int8x16_t w1, const int8_t *x, int32_t lanes[8]) {
    int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
#if defined(SPLIT_NEON_DOTPROD)
    vst1q_s32(lanes, vdotq_s32(vdupq_n_s32(0), w0, x0));
    vst1q_s32(lanes + 4, vdotq_s32(vdupq_n_s32(0), w1, x1));
#else
    int32x4_t a = vpaddq_s32(vpaddlq_s16(vmull_s8(vget_low_s8(w0), vget_low_s8(x0))),
                             vpaddlq_s16(vmull_s8(vget_high_s8(w0), vget_high_s8(x0))));
    int32x4_t b = vpaddq_s32(vpaddlq_s16(vmull_s8(vget_low_s8(w1), vget_low_s8(x1))),
                             vpaddlq_s16(vmull_s8(vget_high_s8(w1), vget_high_s8(x1))));
    vst1q_s32(lanes, a);
    vst1q_s32(lanes + 4, b);
#endif
}
static inline void quant_dot32_lanes(const int8_t *w, const int8_t *x, int32_t lanes[8]) {
    quant_dot32_lanes_neon(vld1q_s8(w), vld1q_s8(w + 16), x, lanes);
}
#else
static inline int32_t quant_dot32(const int8_t *w, const int8_t *x) {
    int32_t sum = 0;
    for (int i = 0; i < 32; i++) sum += (int32_t)w[i] * (int32_t)x[i];
    return sum;
}
static inline void quant_dot32_lanes(const int8_t *w, const int8_t *x, int32_t lanes[8]) {
    for (int l = 0; l < 8; l++) {
        int32_t sum = 0;
        for (int i = 4 * l; i < 4 * l + 4; i++) sum += (int32_t)w[i] * (int32_t)x[i];
        lanes[l] = sum;
    }
}
#endif

// The Q8_0-layout activation (QuantQ8.c: per pair of blocks 64 bytes of quants, then 64 bytes of
// their scales, each 8 times): block b's 32 quants, and its scale's 8 copies.
static inline const uint8_t *act_quants(const uint8_t *x, size_t b) { return x + (b / 2) * 128 + (b % 2) * 32; }
static inline const float *act_scales(const uint8_t *x, size_t b) { return (const float *)(act_quants(x, b) + 64); }

static inline uint32_t quant_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

// Q4_K and Q5_K: scale and min j (0..7) of the 12 packed bytes (ggml's get_scale_min_k4).
static inline void quant_scale_min_k4(int j, const uint8_t *q, int *scale, int *min) {
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// The eight lanes of a block-quantized dot product added as llama.cpp's x86 hsum_float_8 (and
// Split's AVX2 hsum_f32x8) adds them: every path of the legacy types and IQ4_XS sums so, for the same bits.
static inline float quant_lane_sum8(const float l[8]) {
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

// IQ4_XS: sub-block s's signed 6-bit scale (low 4 bits in scales_l at byte 4, high 2 bits in the
// 16-bit scales_h at byte 2 of the 136-byte block b).
static inline int quant_iq4_xs_scale(const uint8_t *b, uint16_t high, int s) {
    return (((b[4 + s / 2] >> (4 * (s % 2))) & 0xF) | (((high >> (2 * s)) & 3) << 4)) - 32;
}

// Q3_K: the 16 signed 6-bit scales (stored +32) of the 12 packed bytes.
static inline void quant_scales_q3_k(const uint8_t *packed, int8_t scales[16]) {
    const uint32_t low4 = 0x0f0f0f0f, high2 = 0x03030303;
    uint32_t aux[4];
    memcpy(aux, packed, 12);
    uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & low4) | (((tmp >> 4) & high2) << 4);
    aux[3] = ((aux[1] >> 4) & low4) | (((tmp >> 6) & high2) << 4);
    aux[0] = (aux[0] & low4) | (((tmp >> 0) & high2) << 4);
    aux[1] = (aux[1] & low4) | (((tmp >> 2) & high2) << 4);
    memcpy(scales, aux, 16);
    for (int i = 0; i < 16; i++) scales[i] = (int8_t)(scales[i] - 32);
}

#endif
