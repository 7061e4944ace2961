// Past 400 lines on purpose: five k-quant types, each with its decode, batched and AVX-512/AVX2/
// scalar forms that must give the same bits; split across files they would drift apart. (The
// NEON forms, in registers throughout, are QuantKNEON.h, included below.)
// GGML k-quant weights (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) computed on directly, as llama.cpp does:
// the input vector is quantized to Q8_K (per 256 values an f32 scale, 256 int8 and the sums of
// each 16), so a super-block's dot product is an exact integer sum, scaled once.
//
// Every type is first decoded, one super-block at a time, into one form: 256 unsigned quants in
// value order, a signed scale per 16 values and an integer offset per 16 values. Then
//   Σ w·x = d_x · (d · Σ_g scale_g Σ_{i∈g} q_i x_i − dmin · Σ_g offset_g · bsum_g)
// where the offset is the minimum (Q2_K, Q4_K, Q5_K: dmin is the block's) or the quants' zero
// times the scale (Q3_K: 4·s, Q6_K: 32·s: dmin is d, and both sums are one exact integer).
// Both integer sums are exact in every path (AVX-512, AVX2, NEON, scalar), and the float steps per
// super-block are the same two fmaf calls, so the paths give the same bits, and a batched
// row (a block decoded once for several vectors) gives the same bits as the row alone.
#include "QuantBlocks.h"
#include <math.h>
#pragma clang fp reassociate(off)

typedef struct {
    _Alignas(64) uint8_t q[QK];  // unsigned quants, value order
    _Alignas(64) int16_t spread[8][16];  // per 32 values: [scale of the first 16 × 8, of the next 16 × 8]
    int16_t scale[16];           // per 16 values
    int16_t offset[16];          // per 16 values, in units of dmin
    float d, dmin;
    int separate;                // dmin is its own scale (the offsets are minimums)
    int zero;                    // otherwise: the quant that stands for 0 (offset = zero · scale)
} kblock;

// MARK: decoding, one super-block into a kblock

static void decode_q2_k(const uint8_t *b, kblock *k) {
    const uint8_t *scales = b, *qs = b + 16;
    for (int n = 0; n < 2; n++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) k->q[128 * n + 32 * j + l] = (qs[32 * n + l] >> (2 * j)) & 3;
    for (int g = 0; g < 16; g++) {
        k->scale[g] = scales[g] & 0xF;
        k->offset[g] = scales[g] >> 4;
    }
    k->d = quant_half(b + 80);
    k->dmin = quant_half(b + 82);
    k->separate = 1;
}

static void decode_q3_k(const uint8_t *b, kblock *k) {
    const uint8_t *hmask = b, *qs = b + 32;
    for (int n = 0; n < 2; n++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
                k->q[128 * n + 32 * j + l] =
                    (uint8_t)(((qs[32 * n + l] >> (2 * j)) & 3) | (((hmask[l] >> (4 * n + j)) & 1) << 2));
    int8_t scales[16];
    quant_scales_q3_k(b + 96, scales);
    for (int g = 0; g < 16; g++) {
        k->scale[g] = scales[g];
        k->offset[g] = (int16_t)(4 * scales[g]);  // a clear high bit means q − 4
    }
    k->d = k->dmin = quant_half(b + 108);
    k->separate = 0;
    k->zero = 4;
}

// Q4_K and Q5_K, for the vector kernels: the 8 scales and then the 8 mins of the 12 packed bytes
// (quant_scale_min_k4 for all eight at once, on 32-bit words).
static inline void k4_unpack_scales(const uint8_t *packed, uint8_t scales_mins[16]) {
    const uint32_t six = 0x3f3f3f3f, four = 0x0f0f0f0f, two = 0x03030303;
    uint32_t u[4];
    memcpy(u, packed, 12);
    u[3] = ((u[2] >> 4) & four) | (((u[1] >> 6) & two) << 4);  // mins 4-7
    uint32_t mins = u[1] & six;                                   // mins 0-3
    u[1] = (u[2] & four) | (((u[0] >> 6) & two) << 4);           // scales 4-7
    u[2] = mins;
    u[0] &= six;                                                  // scales 0-3
    memcpy(scales_mins, u, 16);
}

// Q4_K and Q5_K (scalar and vector decoders alike): d, dmin and eight 6-bit scale/min pairs,
// each for 32 values (two 16-value sub-blocks).
static inline void decode_k4_scales(const uint8_t *b, kblock *k) {
    for (int j = 0; j < 8; j++) {
        int scale, min;
        quant_scale_min_k4(j, b + 4, &scale, &min);
        k->scale[2 * j] = k->scale[2 * j + 1] = (int16_t)scale;
        k->offset[2 * j] = k->offset[2 * j + 1] = (int16_t)min;
    }
    k->d = quant_half(b);
    k->dmin = quant_half(b + 2);
    k->separate = 1;
}

static void decode_q4_k(const uint8_t *b, kblock *k) {
    const uint8_t *qs = b + 16;
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            k->q[64 * c + l] = qs[32 * c + l] & 0xF;
            k->q[64 * c + 32 + l] = qs[32 * c + l] >> 4;
        }
    decode_k4_scales(b, k);
}

static void decode_q5_k(const uint8_t *b, kblock *k) {
    const uint8_t *qh = b + 16, *qs = b + 48;
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            k->q[64 * c + l] = (uint8_t)((qs[32 * c + l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4));
            k->q[64 * c + 32 + l] = (uint8_t)((qs[32 * c + l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4));
        }
    decode_k4_scales(b, k);
}

static void decode_q6_k(const uint8_t *b, kblock *k) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = (const int8_t *)(b + 192);
    for (int n = 0; n < 2; n++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *lo = ql + 64 * n, *hi = qh + 32 * n;
            k->q[128 * n + l] = (uint8_t)((lo[l] & 0xF) | ((hi[l] & 3) << 4));
            k->q[128 * n + 32 + l] = (uint8_t)((lo[l + 32] & 0xF) | (((hi[l] >> 2) & 3) << 4));
            k->q[128 * n + 64 + l] = (uint8_t)((lo[l] >> 4) | (((hi[l] >> 4) & 3) << 4));
            k->q[128 * n + 96 + l] = (uint8_t)((lo[l + 32] >> 4) | (((hi[l] >> 6) & 3) << 4));
        }
    for (int g = 0; g < 16; g++) {
        k->scale[g] = scales[g];
        k->offset[g] = (int16_t)(32 * scales[g]);  // quants are stored + 32
    }
    k->d = k->dmin = quant_half(b + 208);
    k->separate = 0;
    k->zero = 32;
}

#if defined(__AVX2__)
#include <immintrin.h>

// The hot types decoded with vector instructions (same bytes as the scalar decoders above).
static inline void decode_q4_k_fast(const uint8_t *b, kblock *k) {
    const uint8_t *qs = b + 16;
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; c++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        _mm256_store_si256((__m256i *)(k->q + 64 * c), _mm256_and_si256(v, low));
        _mm256_store_si256((__m256i *)(k->q + 64 * c + 32), _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
    }
    decode_k4_scales(b, k);
}

static inline void decode_q5_k_fast(const uint8_t *b, kblock *k) {
    const uint8_t *qs = b + 48;
    const __m256i low = _mm256_set1_epi8(0x0F), five = _mm256_set1_epi8(0x10);
    __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 16));
    for (int c = 0; c < 4; c++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        // bit 2c of qh[l] → 0x10 of value 64c + l; bit 2c + 1 → value 64c + 32 + l.
        __m256i h0 = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c), 4), five);
        __m256i h1 = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c + 1), 4), five);
        _mm256_store_si256((__m256i *)(k->q + 64 * c), _mm256_or_si256(_mm256_and_si256(v, low), h0));
        _mm256_store_si256((__m256i *)(k->q + 64 * c + 32),
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low), h1));
    }
    decode_k4_scales(b, k);
}

static inline void decode_q6_k_fast(const uint8_t *b, kblock *k) {
    const __m256i low = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x30);
    for (int n = 0; n < 2; n++) {
        __m256i lo0 = _mm256_loadu_si256((const __m256i *)(b + 64 * n));
        __m256i lo1 = _mm256_loadu_si256((const __m256i *)(b + 64 * n + 32));
        __m256i hi = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * n));
        uint8_t *q = k->q + 128 * n;
        _mm256_store_si256((__m256i *)q, _mm256_or_si256(_mm256_and_si256(lo0, low),
                                                         _mm256_and_si256(_mm256_slli_epi16(hi, 4), two)));
        _mm256_store_si256((__m256i *)(q + 32), _mm256_or_si256(_mm256_and_si256(lo1, low),
                                                                _mm256_and_si256(_mm256_slli_epi16(hi, 2), two)));
        _mm256_store_si256((__m256i *)(q + 64), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo0, 4), low),
                                                                _mm256_and_si256(hi, two)));
        _mm256_store_si256((__m256i *)(q + 96), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo1, 4), low),
                                                                _mm256_and_si256(_mm256_srli_epi16(hi, 2), two)));
    }
    const int8_t *scales = (const int8_t *)(b + 192);
    __m256i s = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)scales));
    _mm256_storeu_si256((__m256i *)k->scale, s);
    _mm256_storeu_si256((__m256i *)k->offset, _mm256_slli_epi16(s, 5));
    k->d = k->dmin = quant_half(b + 208);
    k->separate = 0;
    k->zero = 32;
}
static inline void decode_q2_k_fast(const uint8_t *b, kblock *k) {
    const __m256i three = _mm256_set1_epi8(3);
    for (int n = 0; n < 2; n++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * n));
        for (int j = 0; j < 4; j++)
            _mm256_store_si256((__m256i *)(k->q + 128 * n + 32 * j), _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), three));
    }
    __m256i sc = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)b));
    _mm256_storeu_si256((__m256i *)k->scale, _mm256_and_si256(sc, _mm256_set1_epi16(0xF)));
    _mm256_storeu_si256((__m256i *)k->offset, _mm256_srli_epi16(sc, 4));
    k->d = quant_half(b + 80);
    k->dmin = quant_half(b + 82);
    k->separate = 1;
}

static inline void decode_q3_k_fast(const uint8_t *b, kblock *k) {
    const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256i hm = _mm256_loadu_si256((const __m256i *)b);
    for (int n = 0; n < 2; n++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(b + 32 + 32 * n));
        for (int j = 0; j < 4; j++) {
            __m256i low = _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), three);
            __m256i high = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * n + j), one), 2);
            _mm256_store_si256((__m256i *)(k->q + 128 * n + 32 * j), _mm256_or_si256(low, high));
        }
    }
    int8_t scales[16];
    quant_scales_q3_k(b + 96, scales);
    __m256i s = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)scales));
    _mm256_storeu_si256((__m256i *)k->scale, s);
    _mm256_storeu_si256((__m256i *)k->offset, _mm256_slli_epi16(s, 2));
    k->d = k->dmin = quant_half(b + 108);
    k->separate = 0;
    k->zero = 4;
}
#define DECODE_Q2_K decode_q2_k_fast
#define DECODE_Q3_K decode_q3_k_fast
#define DECODE_Q4_K decode_q4_k_fast
#define DECODE_Q5_K decode_q5_k_fast
#define DECODE_Q6_K decode_q6_k_fast
#elif defined(SPLIT_NEON)  // QuantKNEON.h
#define DECODE_Q2_K decode_q2_k_neon
#define DECODE_Q3_K decode_q3_k_neon
#define DECODE_Q4_K decode_q4_k_neon
#define DECODE_Q5_K decode_q5_k_neon
#define DECODE_Q6_K decode_q6_k_neon
#else
#define DECODE_Q2_K decode_q2_k
#define DECODE_Q3_K decode_q3_k
#define DECODE_Q4_K decode_q4_k
#define DECODE_Q5_K decode_q5_k
#define DECODE_Q6_K decode_q6_k
#endif

// The per-32 scale pairs the x86 vector dots multiply by, once per decoded block (a batch reuses
// them); the scalar and NEON dots read `scale`.
static inline void spread_scales(kblock *k) {
#if defined(__AVX2__)
    __m256i scales = _mm256_loadu_si256((const __m256i *)k->scale);
    // Bytes 0-1 (the first int16 of a dword) across the low 128 bits, bytes 2-3 across the high.
    const __m256i spread = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
                                            2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    for (int c = 0; c < 8; c++)
        _mm256_store_si256((__m256i *)k->spread[c],
                           _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(scales, _mm256_set1_epi32(c)), spread));
#else
    (void)k;
#endif
}

// MARK: the dot product of a decoded block with one Q8_K block: sumf += the block's part

static inline __attribute__((always_inline)) float finish(const kblock *k, float dx, int32_t sumi, int32_t smin,
                                                         float sumf) {
    if (k->separate) {
        sumf = fmaf(dx * k->d, (float)sumi, sumf);
        return fmaf(-(dx * k->dmin), (float)smin, sumf);
    }
    return fmaf(dx * k->d, (float)(sumi - smin), sumf);
}

#if defined(__AVX2__)
static inline int32_t hsum_i32x8(__m256i v) {
    __m128i m = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0x4E));
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0xB1));
    return _mm_cvtsi128_si32(m);
}
#endif

// The 512-bit form below compiles but has not yet run on an AVX-512 machine (issue 18 was built on
// an AVX2-only one): it is opt-in (-DSPLIT_KQUANT_AVX512) until the fixture tests have passed on
// one, and AVX-512 machines take the AVX2 form, which gives the same bits.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(SPLIT_KQUANT_AVX512)
// Per 64 values: unsigned × signed byte pairs (exact: |q| ≤ 63, |x| ≤ 127) into 32 int16, then
// × the group's scale in pairs into 16 int32.
static inline __attribute__((always_inline)) float kdot(const kblock *k, const uint8_t *x, float sumf) {
    __m512i acc = _mm512_setzero_si512();
    for (int c = 0; c < 4; c++) {
        // int16 lane t of chunk c belongs to group 4c + t/8: two rows of `spread`.
        __m512i p = _mm512_maddubs_epi16(_mm512_load_si512(k->q + 64 * c), _mm512_loadu_si512(x + Q8K_QS + 64 * c));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(p, _mm512_load_si512(k->spread[2 * c])));
    }
    __m256i mins = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(x + Q8K_BSUMS)),
                                     _mm256_loadu_si256((const __m256i *)k->offset));
    int32_t sumi = _mm512_reduce_add_epi32(acc);
    __m128i m = _mm_add_epi32(_mm256_castsi256_si128(mins), _mm256_extracti128_si256(mins, 1));
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0x4E));
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0xB1));
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    return finish(k, dx, sumi, _mm_cvtsi128_si32(m), sumf);
}
#elif defined(__AVX2__)

// Per 32 values: unsigned × signed byte pairs (exact: |q| ≤ 63, |x| ≤ 127) into 16 int16, then
// × the two groups' scales in pairs into 8 int32.
static inline __attribute__((always_inline)) float kdot(const kblock *k, const uint8_t *x, float sumf) {
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 8; c++) {
        __m256i s = _mm256_load_si256((const __m256i *)k->spread[c]);
        __m256i p = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(k->q + 32 * c)),
                                         _mm256_loadu_si256((const __m256i *)(x + Q8K_QS + 32 * c)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
    }
    __m256i mins = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(x + Q8K_BSUMS)),
                                     _mm256_loadu_si256((const __m256i *)k->offset));
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    return finish(k, dx, hsum_i32x8(acc), hsum_i32x8(mins), sumf);
}
#elif defined(SPLIT_NEON)
#include "QuantKNEON.h"
#else
static inline float kdot(const kblock *k, const uint8_t *x, float sumf) {
    const int8_t *qx = (const int8_t *)(x + Q8K_QS);
    int16_t bsums[16];
    memcpy(bsums, x + Q8K_BSUMS, sizeof bsums);
    int32_t sumi = 0, smin = 0;
    for (int g = 0; g < 16; g++) {
        int32_t s = 0;
        for (int i = 0; i < 16; i++) s += (int32_t)k->q[16 * g + i] * qx[16 * g + i];
        sumi += s * k->scale[g];
        smin += (int32_t)bsums[g] * k->offset[g];
    }
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    return finish(k, dx, sumi, smin, sumf);
}
#endif

// How far ahead of its loads a decode row asks for its bytes (a few super-blocks).
#ifndef K_PREFETCH_BYTES
#define K_PREFETCH_BYTES 1024
#endif
#ifndef K4_PREFETCH_RUNS
#define K4_PREFETCH_RUNS 1
#endif

#if defined(__AVX2__)
// Decode (one vector) on AVX2 (and AVX-512 machines: a 256-bit stream of one row keeps up): the block's quants go straight from its bytes into the products,
// with no decoded copy. The integer sums are the same exact ones kdot forms, and `finish` the same
// two steps, so the results are bit-identical to the batched path's (the batch tests compare them).
static inline int32_t hsum_i32x4(__m128i m) {
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0x4E));
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0xB1));
    return _mm_cvtsi128_si32(m);
}

// int16 k of each 128-bit lane across that lane.
static inline __m256i broadcast_i16(__m256i v, int k) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)((2 * k) | ((2 * k + 1) << 8))));
}

// Q4_K and Q5_K: the 8 scales and 8 mins of the 12 packed bytes as 16 int16 (scales, then mins).
static inline __m256i scales_mins_k4(const uint8_t *packed) {
    uint8_t sm[16];
    k4_unpack_scales(packed, sm);
    return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)sm));
}

// Q4_K and Q5_K share their super-block header: the 8 scales (broadcast as int16 for the group
// products) and the mins' dot with the activation's 16-value sums.
static inline __attribute__((always_inline)) __m256i k4_scales_and_mins(const uint8_t *b, const uint8_t *x, int32_t *smin) {
    __m256i sm = scales_mins_k4(b + 4);
    __m256i bsums = _mm256_loadu_si256((const __m256i *)(x + Q8K_BSUMS));
    __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
    *smin = hsum_i32x4(_mm_madd_epi16(_mm256_extracti128_si256(sm, 1), pairs));
    return _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm));
}

// The end of a Q4_K / Q5_K block: d · dx · Σ scale·q·x − dmin · dx · Σ min·bsum, added to sumf.
static inline __attribute__((always_inline)) float k4_finish(const uint8_t *b, const uint8_t *x, __m256i acc, int32_t smin,
                                                             float sumf) {
    kblock k = {.d = quant_half(b), .dmin = quant_half(b + 2), .separate = 1};
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    return finish(&k, dx, hsum_i32x8(acc), smin, sumf);
}

static inline __attribute__((always_inline)) float dot1_q4_k_fused(const uint8_t *b, const uint8_t *x, float sumf, kblock *unused) {
    (void)unused;
    int32_t smin;
    __m256i scales = k4_scales_and_mins(b, x, &smin);
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * c));
        __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(v, low), _mm256_loadu_si256((const __m256i *)(x + 64 * c)));
        __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), low),
                                          _mm256_loadu_si256((const __m256i *)(x + 64 * c + 32)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p0, broadcast_i16(scales, 2 * c)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p1, broadcast_i16(scales, 2 * c + 1)));
    }
    return k4_finish(b, x, acc, smin, sumf);
}

// Four Q4_K rows at once (decode): each activation chunk is loaded once for the four, the four
// rows' integer sums are reduced together (three hadds in place of four horizontal sums), and
// the float steps run as one 4-lane fmadd / fnmadd. Per row these are the same exact integer sums
// and the same two roundings as dot1_q4_k_fused (fnmadd(a, b, c) = fmaf(−a, b, c): negation is
// exact), so each row's bits are those of the row alone.
static inline __m128i hsum_rows_i32x8(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
    __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

// Rows in fours, each four's blocks side by side: `block` adds one super-block of four rows
// (q[i]: row i's block) dotted with the activation block x to their four sums.
static inline __attribute__((always_inline)) size_t rows4(
    const uint8_t *w, const uint8_t *xq, float *y, size_t row_begin, size_t row_end, size_t blocks, size_t bytes,
    __m128 (*block)(const uint8_t *const q[4], const uint8_t *x, __m128 sumf)) {
    const size_t rowBytes = blocks * bytes;
    size_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        const uint8_t *row = w + r * rowBytes;
        __m128 sumf = _mm_setzero_ps();
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *q[4];
            for (int i = 0; i < 4; i++) q[i] = row + i * rowBytes + b * bytes;
            // The four rows are one contiguous run read in four places: ask for the next run's
            // bytes as one stream, a block's share (4 × bytes) per block. (Each row asking
            // K_PREFETCH_BYTES past its own loads read a 66 MB Q4_K matrix at 5 GB/s, this at 16.)
            for (size_t l = 0; l < 4 * bytes; l += 64)
                __builtin_prefetch(row + K4_PREFETCH_RUNS * 4 * rowBytes + b * 4 * bytes + l);
            sumf = block(q, xq + b * Q8K_BYTES, sumf);
        }
        _mm_storeu_ps(y + r, sumf);
    }
    return r;
}

static inline __attribute__((always_inline)) __m128 block4_q4_k(const uint8_t *const q[4], const uint8_t *x,
                                                                  __m128 sumf) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i halves = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);  // [d0 dmin0 d1 …] → [d0..d3 dmin0..dmin3]
    __m256i bsums = _mm256_loadu_si256((const __m256i *)(x + Q8K_BSUMS));
    __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
    __m256i scales[4], acc[4];
    __m128i mins[4];
    for (int i = 0; i < 4; i++) {
        __m256i sm = scales_mins_k4(q[i] + 4);
        mins[i] = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), pairs);
        scales[i] = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm));
        acc[i] = _mm256_setzero_si256();
    }
    for (int c = 0; c < 4; c++) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(x + 64 * c));
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(x + 64 * c + 32));
        for (int i = 0; i < 4; i++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(q[i] + 16 + 32 * c));
            __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(v, low), x0);
            __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), low), x1);
            acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(p0, broadcast_i16(scales[i], 2 * c)));
            acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(p1, broadcast_i16(scales[i], 2 * c + 1)));
        }
    }
    __m128i sumi = hsum_rows_i32x8(acc[0], acc[1], acc[2], acc[3]);
    __m128i smin = _mm_hadd_epi32(_mm_hadd_epi32(mins[0], mins[1]), _mm_hadd_epi32(mins[2], mins[3]));
    uint32_t dd[4];
    for (int i = 0; i < 4; i++) memcpy(&dd[i], q[i], 4);
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    __m256 scaled = _mm256_mul_ps(_mm256_set1_ps(dx),
                                  _mm256_cvtph_ps(_mm_setr_epi32((int)dd[0], (int)dd[1], (int)dd[2], (int)dd[3])));
    scaled = _mm256_permutevar8x32_ps(scaled, halves);
    sumf = _mm_fmadd_ps(_mm256_castps256_ps128(scaled), _mm_cvtepi32_ps(sumi), sumf);
    sumf = _mm_fnmadd_ps(_mm256_extractf128_ps(scaled, 1), _mm_cvtepi32_ps(smin), sumf);
    return sumf;
}

static size_t rows4_q4_k(const uint8_t *w, const uint8_t *xq, float *y, size_t row_begin, size_t row_end,
                         size_t blocks) {
    return rows4(w, xq, y, row_begin, row_end, blocks, Q4_K_BYTES, block4_q4_k);
}

static inline __attribute__((always_inline)) float dot1_q5_k_fused(const uint8_t *b, const uint8_t *x, float sumf, kblock *unused) {
    (void)unused;
    int32_t smin;
    __m256i scales = k4_scales_and_mins(b, x, &smin);
    const __m256i low = _mm256_set1_epi8(0x0F), five = _mm256_set1_epi8(0x10);
    __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 16));
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(b + 48 + 32 * c));
        __m256i h0 = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c), 4), five);
        __m256i h1 = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c + 1), 4), five);
        __m256i q0 = _mm256_or_si256(_mm256_and_si256(v, low), h0);
        __m256i q1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low), h1);
        __m256i p0 = _mm256_maddubs_epi16(q0, _mm256_loadu_si256((const __m256i *)(x + 64 * c)));
        __m256i p1 = _mm256_maddubs_epi16(q1, _mm256_loadu_si256((const __m256i *)(x + 64 * c + 32)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p0, broadcast_i16(scales, 2 * c)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p1, broadcast_i16(scales, 2 * c + 1)));
    }
    return k4_finish(b, x, acc, smin, sumf);
}

static inline __attribute__((always_inline)) float dot1_q6_k_fused(const uint8_t *b, const uint8_t *x, float sumf, kblock *unused) {
    (void)unused;
    __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + 192)));
    // Groups 2c and 2c + 1 of chunk c: int16 c·2 and c·2 + 1 spread over the two lanes.
    __m256i lo = _mm256_permute2x128_si256(s16, s16, 0x00), hi = _mm256_permute2x128_si256(s16, s16, 0x11);
    const __m256i low = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x30);
    __m256i acc = _mm256_sub_epi32(_mm256_setzero_si256(),
                                   _mm256_slli_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(x + Q8K_BSUMS)), s16), 5));
    for (int n = 0; n < 2; n++) {
        __m256i lo0 = _mm256_loadu_si256((const __m256i *)(b + 64 * n));
        __m256i lo1 = _mm256_loadu_si256((const __m256i *)(b + 64 * n + 32));
        __m256i h = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * n));
        __m256i q[4] = {
            _mm256_or_si256(_mm256_and_si256(lo0, low), _mm256_and_si256(_mm256_slli_epi16(h, 4), two)),
            _mm256_or_si256(_mm256_and_si256(lo1, low), _mm256_and_si256(_mm256_slli_epi16(h, 2), two)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo0, 4), low), _mm256_and_si256(h, two)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo1, 4), low), _mm256_and_si256(_mm256_srli_epi16(h, 2), two)),
        };
        for (int j = 0; j < 4; j++) {
            int c = 4 * n + j;  // groups 2c, 2c + 1: int16 2c and 2c + 1 of s16
            __m256i pair = c < 4 ? lo : hi;
            __m256i s = _mm256_blend_epi32(broadcast_i16(pair, (2 * c) % 8), broadcast_i16(pair, (2 * c + 1) % 8), 0xF0);
            __m256i p = _mm256_maddubs_epi16(q[j], _mm256_loadu_si256((const __m256i *)(x + 32 * c)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
        }
    }
    kblock k = {.d = quant_half(b + 208), .separate = 0};
    k.dmin = k.d;
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    return finish(&k, dx, hsum_i32x8(acc), 0, sumf);
}

// Four Q6_K rows at once (decode), as rows4_q4_k: the activation loaded once for the four rows,
// their integer sums reduced together, one 4-lane fmadd; per row the same exact sum and the same
// rounding as dot1_q6_k_fused.
static inline __attribute__((always_inline)) __m128 block4_q6_k(const uint8_t *const q[4], const uint8_t *x,
                                                                  __m128 sumf) {
    const __m256i low = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x30);
    __m256i bsums = _mm256_loadu_si256((const __m256i *)(x + Q8K_BSUMS));
    __m256i acc[4], lo[4], hi[4];
    for (int i = 0; i < 4; i++) {
        __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q[i] + 192)));
        lo[i] = _mm256_permute2x128_si256(s16, s16, 0x00);
        hi[i] = _mm256_permute2x128_si256(s16, s16, 0x11);
        acc[i] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(bsums, s16), 5));
    }
    for (int n = 0; n < 2; n++) {
        __m256i xs[4];
        for (int j = 0; j < 4; j++) xs[j] = _mm256_loadu_si256((const __m256i *)(x + 128 * n + 32 * j));
        for (int i = 0; i < 4; i++) {
            __m256i lo0 = _mm256_loadu_si256((const __m256i *)(q[i] + 64 * n));
            __m256i lo1 = _mm256_loadu_si256((const __m256i *)(q[i] + 64 * n + 32));
            __m256i h = _mm256_loadu_si256((const __m256i *)(q[i] + 128 + 32 * n));
            __m256i qv[4] = {
                _mm256_or_si256(_mm256_and_si256(lo0, low), _mm256_and_si256(_mm256_slli_epi16(h, 4), two)),
                _mm256_or_si256(_mm256_and_si256(lo1, low), _mm256_and_si256(_mm256_slli_epi16(h, 2), two)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo0, 4), low), _mm256_and_si256(h, two)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo1, 4), low),
                                _mm256_and_si256(_mm256_srli_epi16(h, 2), two)),
            };
            for (int j = 0; j < 4; j++) {
                int c = 4 * n + j, k0 = (2 * c) % 8, k1 = (2 * c + 1) % 8;
                // int16 k0 across the low 128 bits, k1 across the high: groups 2c, 2c + 1.
                __m256i spread = _mm256_set_m128i(_mm_set1_epi16((short)((2 * k1) | ((2 * k1 + 1) << 8))),
                                                  _mm_set1_epi16((short)((2 * k0) | ((2 * k0 + 1) << 8))));
                __m256i s = _mm256_shuffle_epi8(c < 4 ? lo[i] : hi[i], spread);
                acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(qv[j], xs[j]), s));
            }
        }
    }
    __m128i sumi = hsum_rows_i32x8(acc[0], acc[1], acc[2], acc[3]);
    uint16_t d[4];
    for (int i = 0; i < 4; i++) memcpy(&d[i], q[i] + 208, 2);
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    __m128 scaled = _mm_mul_ps(_mm_set1_ps(dx), _mm_cvtph_ps(_mm_setr_epi16((short)d[0], (short)d[1], (short)d[2],
                                                                            (short)d[3], 0, 0, 0, 0)));
    sumf = _mm_fmadd_ps(scaled, _mm_cvtepi32_ps(sumi), sumf);
    return sumf;
}

static size_t rows4_q6_k(const uint8_t *w, const uint8_t *xq, float *y, size_t row_begin, size_t row_end,
                         size_t blocks) {
    return rows4(w, xq, y, row_begin, row_end, blocks, Q6_K_BYTES, block4_q6_k);
}
#endif

// MARK: activations

size_t split_q8k_activation_stride(size_t cols) { return cols / QK * Q8K_BYTES; }

// llama.cpp's quantize_row_q8_K_ref: the scale is set by the value of largest magnitude (the
// first of them) so that it maps to −127; quants round to nearest even. Strict IEEE here: a
// reciprocal-multiply in place of the divisions would change bits against llama.cpp's.
#pragma float_control(precise, on, push)
void split_quantize_q8k_activation(const float *x, size_t n, size_t cols, void *destination) {
    size_t blocks = cols / QK;
    for (size_t j = 0; j < n; j++)
        for (size_t b = 0; b < blocks; b++) {
            const float *v = x + j * cols + b * QK;
            uint8_t *out = (uint8_t *)destination + (j * blocks + b) * Q8K_BYTES;
            int8_t *q = (int8_t *)(out + Q8K_QS);
            float amax = 0, max = 0;
#if defined(__AVX2__)
            {
                const __m256 sign = _mm256_set1_ps(-0.0f);
                __m256 m = _mm256_setzero_ps();
                for (int i = 0; i < QK; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(v + i)));
                __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
                h = _mm_max_ps(h, _mm_movehl_ps(h, h));
                amax = _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
                // The first value of that magnitude, as the scalar scan finds it.
                for (int i = 0; i < QK && amax > 0; i += 8) {
                    int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(v + i)),
                                                               _mm256_set1_ps(amax), _CMP_EQ_OQ));
                    if (hit) {
                        max = v[i + __builtin_ctz((unsigned)hit)];
                        break;
                    }
                }
            }
#else
            for (int i = 0; i < QK; i++) {
                float a = fabsf(v[i]);
                if (a > amax) {
                    amax = a;
                    max = v[i];
                }
            }
#endif
            int16_t bsums[16] = {0};
            float d = 0;
            if (amax == 0) {
                memset(q, 0, QK);
            } else {
                const float iscale = -127.f / max;
#if defined(__AVX2__)
                // 32 at a time: cvtps_epi32 rounds to nearest even as nearbyintf does.
                const __m256 scale = _mm256_set1_ps(iscale);
                for (int c = 0; c < QK / 32; c++) {
                    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(scale, _mm256_loadu_ps(v + 32 * c)));
                    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(scale, _mm256_loadu_ps(v + 32 * c + 8)));
                    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(scale, _mm256_loadu_ps(v + 32 * c + 16)));
                    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(scale, _mm256_loadu_ps(v + 32 * c + 24)));
                    bsums[2 * c] = (int16_t)hsum_i32x8(_mm256_add_epi32(i0, i1));
                    bsums[2 * c + 1] = (int16_t)hsum_i32x8(_mm256_add_epi32(i2, i3));
                    __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
                    _mm256_storeu_si256((__m256i *)(q + 32 * c),
                                        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
                }
#else
                for (int i = 0; i < QK; i++) {
                    float r = nearbyintf(iscale * v[i]);  // |r| ≤ 127
                    q[i] = (int8_t)(r > 127 ? 127 : r);
                }
                for (int g = 0; g < 16; g++) {
                    int sum = 0;
                    for (int i = 0; i < 16; i++) sum += q[16 * g + i];
                    bsums[g] = (int16_t)sum;
                }
#endif
                d = 1 / iscale;
            }
            memcpy(out + Q8K_BSUMS, bsums, sizeof bsums);
            memcpy(out + Q8K_D, &d, 4);
        }
}
#pragma float_control(pop)

// MARK: matrix products

// Rows of one type: each row's super-blocks are decoded once and dotted with up to KV vectors.
#define KV 16
#define K_GEMM(NAME, DECODE, BYTES, DOT1, ROWS4)                                                      \
    static void NAME(const uint8_t *w, const uint8_t *xq, size_t n, float *y, size_t ldy,          \
                     size_t row_begin, size_t row_end, size_t cols) {                               \
        size_t blocks = cols / QK, rowBytes = blocks * BYTES, xs = blocks * Q8K_BYTES;               \
        kblock k;                                                                                    \
        if (n == 1) { /* decode: one vector, blocks dotted straight from their bytes */             \
            for (size_t r = ROWS4(w, xq, y, row_begin, row_end, blocks); r < row_end; r++) {         \
                const uint8_t *row = w + r * rowBytes;                                               \
                float sum = 0;                                                                       \
                for (size_t b = 0; b < blocks; b++) {                                                \
                    __builtin_prefetch(row + b * BYTES + K_PREFETCH_BYTES);                          \
                    sum = DOT1(row + b * BYTES, xq + b * Q8K_BYTES, sum, &k);                        \
                }                                                                                    \
                y[r] = sum;                                                                          \
            }                                                                                        \
            return;                                                                                  \
        }                                                                                            \
        for (size_t r = row_begin; r < row_end; r++) {                                               \
            const uint8_t *row = w + r * rowBytes;                                                   \
            for (size_t j = 0; j < n; j += KV) {                                                     \
                size_t v = n - j < KV ? n - j : KV;                                                  \
                float sum[KV];                                                                       \
                for (size_t i = 0; i < v; i++) sum[i] = 0;                                           \
                for (size_t b = 0; b < blocks; b++) {                                                \
                    DECODE(row + b * BYTES, &k);                                                     \
                    spread_scales(&k);                                                               \
                    const uint8_t *xb = xq + j * xs + b * Q8K_BYTES;                                 \
                    for (size_t i = 0; i < v; i++) sum[i] = kdot(&k, xb + i * xs, sum[i]);           \
                }                                                                                    \
                for (size_t i = 0; i < v; i++) y[(j + i) * ldy + r] = sum[i];                        \
            }                                                                                        \
        }                                                                                            \
    }

// One vector (decode) by way of the decoded block, for the types without a fused dot.
#define DOT_VIA_BLOCK(NAME, DECODE)                                                                   \
    static inline __attribute__((always_inline)) float NAME(const uint8_t *b, const uint8_t *x, float sumf, kblock *k) { \
        DECODE(b, k);                                                                                \
        spread_scales(k);                                                                            \
        return kdot(k, x, sumf);                                                                     \
    }
#if defined(SPLIT_NEON)  // straight from the bytes, every type (QuantKNEON.h)
#define DOT1_Q2_K dot1_q2_k_neon
#define DOT1_Q3_K dot1_q3_k_neon
#define DOT1_Q4_K dot1_q4_k_neon
#define DOT1_Q5_K dot1_q5_k_neon
#define DOT1_Q6_K dot1_q6_k_neon
#else
DOT_VIA_BLOCK(dot1_q2_k, DECODE_Q2_K)
DOT_VIA_BLOCK(dot1_q3_k, DECODE_Q3_K)
#define DOT1_Q2_K dot1_q2_k
#define DOT1_Q3_K dot1_q3_k
#if defined(__AVX2__)
#define DOT1_Q4_K dot1_q4_k_fused
#define DOT1_Q5_K dot1_q5_k_fused
#define DOT1_Q6_K dot1_q6_k_fused
#else
DOT_VIA_BLOCK(dot1_q4_k, DECODE_Q4_K)
DOT_VIA_BLOCK(dot1_q5_k, DECODE_Q5_K)
DOT_VIA_BLOCK(dot1_q6_k, DECODE_Q6_K)
#define DOT1_Q4_K dot1_q4_k
#define DOT1_Q5_K dot1_q5_k
#define DOT1_Q6_K dot1_q6_k
#endif
#endif

// The decode rows a type's four-row form covers (from row_begin; returns the first row it left).
#define ROWS4_NONE(w, xq, y, row_begin, row_end, blocks) (row_begin)
#if defined(__AVX2__)
#define ROWS4_Q4_K rows4_q4_k
#define ROWS4_Q6_K rows4_q6_k
#else
#define ROWS4_Q6_K ROWS4_NONE
#define ROWS4_Q4_K ROWS4_NONE
#endif

K_GEMM(gemm_q2_k, DECODE_Q2_K, Q2_K_BYTES, DOT1_Q2_K, ROWS4_NONE)
K_GEMM(gemm_q3_k, DECODE_Q3_K, Q3_K_BYTES, DOT1_Q3_K, ROWS4_NONE)
K_GEMM(gemm_q4_k, DECODE_Q4_K, Q4_K_BYTES, DOT1_Q4_K, ROWS4_Q4_K)
K_GEMM(gemm_q5_k, DECODE_Q5_K, Q5_K_BYTES, DOT1_Q5_K, ROWS4_NONE)
K_GEMM(gemm_q6_k, DECODE_Q6_K, Q6_K_BYTES, DOT1_Q6_K, ROWS4_Q6_K)

void split_gemm_k(int type, const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,
                  size_t row_end, size_t cols) {
    switch (type) {
    case SPLIT_WEIGHT_Q2_K: gemm_q2_k(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    case SPLIT_WEIGHT_Q3_K: gemm_q3_k(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    case SPLIT_WEIGHT_Q4_K: gemm_q4_k(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    case SPLIT_WEIGHT_Q5_K: gemm_q5_k(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    case SPLIT_WEIGHT_Q6_K: gemm_q6_k(w, xq, n, y, ldy, row_begin, row_end, cols); break;
    default: break;
    }
}

// MARK: dequantizing (embedding rows, vectors): ggml's dequantize_row_* arithmetic

void split_dequantize_k(int type, const void *source, float *destination, size_t count) {
    size_t bytes = type == SPLIT_WEIGHT_Q2_K ? Q2_K_BYTES : type == SPLIT_WEIGHT_Q3_K ? Q3_K_BYTES
                 : type == SPLIT_WEIGHT_Q4_K ? Q4_K_BYTES : type == SPLIT_WEIGHT_Q5_K ? Q5_K_BYTES : Q6_K_BYTES;
    kblock k;
    for (size_t b = 0; b < count / QK; b++) {
        const uint8_t *block = (const uint8_t *)source + b * bytes;
        switch (type) {
        case SPLIT_WEIGHT_Q2_K: decode_q2_k(block, &k); break;
        case SPLIT_WEIGHT_Q3_K: decode_q3_k(block, &k); break;
        case SPLIT_WEIGHT_Q4_K: decode_q4_k(block, &k); break;
        case SPLIT_WEIGHT_Q5_K: decode_q5_k(block, &k); break;
        default: decode_q6_k(block, &k); break;
        }
        float *y = destination + b * QK;
        for (int g = 0; g < 16; g++) {
            if (k.separate) {  // d·scale·q − dmin·min
                float dl = k.d * k.scale[g], ml = k.dmin * k.offset[g];
                for (int i = 0; i < 16; i++) y[16 * g + i] = dl * k.q[16 * g + i] - ml;
            } else {  // d·scale·(q − zero)
                float dl = k.d * k.scale[g];
                for (int i = 0; i < 16; i++) y[16 * g + i] = dl * (float)(k.q[16 * g + i] - k.zero);
            }
        }
    }
}
