// Eight float lanes for the element-wise kernels and attention (Elementwise.c, Attention.c): an
// __m256 on the AVX2 path, two float32x4_t (lanes 0-3, 4-7) on the NEON paths. Each operation is
// the same IEEE operation on both (FMA fused on both, the horizontal sums in the one order below;
// the exponential is ggml's, in its AVX2 and NEON forms), so the kernels written once on these give an x86
// node and an ARM node the same bits (test_kernels' agreement hashes). The exceptions, on inputs
// the models do not produce: a maximum of +0 and −0 may keep either sign, and a NaN lane of
// v8_max's second operand (x86 keeps the NaN, NEON the number).
// SPLIT_VECTOR8 is defined where one of the two forms applies.
//
// Additions and multiplications are written as operators, not _mm256_add_ps or vaddq_f32: those
// are header functions compiled under the command line's -ffast-math, whose reassociation
// licence let clang regroup a NEON sum of four registers (log_sum_exp's a + b) where the x86
// build kept the written order. Here, under reassociate(off), the order is the one written.
#ifndef SPLIT_VECTOR8_H
#define SPLIT_VECTOR8_H
#include <math.h>
#pragma float_control(push)
#pragma clang fp reassociate(off)

#if defined(__AVX2__) && defined(__FMA__)
#define SPLIT_VECTOR8 1
#include <immintrin.h>

typedef __m256 v8;
typedef __m256i v8_mask;  // a lane all ones or all zeros

static inline v8 v8_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v8_store(float *p, v8 v) { _mm256_storeu_ps(p, v); }
static inline v8 v8_set1(float x) { return _mm256_set1_ps(x); }
static inline v8 v8_zero(void) { return _mm256_setzero_ps(); }
static inline float v8_first(v8 v) { return _mm256_cvtss_f32(v); }
static inline v8 v8_add(v8 a, v8 b) { return a + b; }
static inline v8 v8_sub(v8 a, v8 b) { return a - b; }
static inline v8 v8_mul(v8 a, v8 b) { return a * b; }
static inline v8 v8_fma(v8 a, v8 b, v8 c) { return _mm256_fmadd_ps(a, b, c); }   // a·b + c, one rounding
static inline v8 v8_max(v8 a, v8 b) { return _mm256_max_ps(a, b); }

// Lanes [0, count) (count ≤ 8) of a mask; loads through it read nothing past them and give 0.
static inline v8_mask v8_lanes(size_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline v8 v8_load_lanes(const float *p, v8_mask m) { return _mm256_maskload_ps(p, m); }
static inline void v8_store_lanes(float *p, v8_mask m, v8 v) { _mm256_maskstore_ps(p, m, v); }
// Lanes of `m` from a, the others from b.
static inline v8 v8_select(v8_mask m, v8 a, v8 b) { return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(m)); }
// The lanes holding a NaN (an integer test: -ffast-math lets float compares assume no NaNs).
static inline v8_mask v8_nans(v8 v) {
    __m256i magnitude = _mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7fffffff));
    return _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32(0x7f800000));
}
// Bit k set where lane k of a equals lane k of b (ordered compare).
static inline int v8_equal_bits(v8 a, v8 b) { return _mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_EQ_OQ)); }
// Bit k set where lane k of a and b have the same bits.
static inline int v8_same_bits(v8 a, v8 b) {
    return _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b))));
}

// Horizontal sum: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
static inline float v8_sum(v8 v) {
    __m128 s = _mm256_castps256_ps128(v) + _mm256_extractf128_ps(v, 1);
    s = s + _mm_movehl_ps(s, s);
    return s[0] + s[1];
}
static inline float v8_hmax(v8 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// Lane k of the result is the sum of a[k]'s 8 lanes: per half h (lanes 4h … 4h+3),
// (x0 + x2) + (x1 + x3), then half 0's sum + half 1's, for each k in a fixed pairing.
static inline v8 v8_transpose_sum(const v8 a[8]) {
    __m256 b[4], c[2];
    for (int i = 0; i < 4; i++)  // per 128-bit lane: (k:x, k':x, k:y, k':y)
        b[i] = _mm256_unpacklo_ps(a[2 * i], a[2 * i + 1]) + _mm256_unpackhi_ps(a[2 * i], a[2 * i + 1]);
    for (int i = 0; i < 2; i++) {  // per 128-bit lane: keys 4i .. 4i+3
        __m256d x = _mm256_castps_pd(b[2 * i]), y = _mm256_castps_pd(b[2 * i + 1]);
        c[i] = _mm256_castpd_ps(_mm256_unpacklo_pd(x, y)) + _mm256_castpd_ps(_mm256_unpackhi_pd(x, y));
    }
    return _mm256_permute2f128_ps(c[0], c[1], 0x20) + _mm256_permute2f128_ps(c[0], c[1], 0x31);
}

#elif defined(SPLIT_NEON)
#define SPLIT_VECTOR8 1
#include <arm_neon.h>
#include <string.h>

typedef struct { float32x4_t lo, hi; } v8;
typedef struct { uint32x4_t lo, hi; } v8_mask;

#define V8_LANEWISE(name, op)                                                        \
    static inline v8 name(v8 a, v8 b) { return (v8){op(a.lo, b.lo), op(a.hi, b.hi)}; }
static inline v8 v8_add(v8 a, v8 b) { return (v8){a.lo + b.lo, a.hi + b.hi}; }
static inline v8 v8_sub(v8 a, v8 b) { return (v8){a.lo - b.lo, a.hi - b.hi}; }
static inline v8 v8_mul(v8 a, v8 b) { return (v8){a.lo * b.lo, a.hi * b.hi}; }
static inline v8 v8_load(const float *p) { return (v8){vld1q_f32(p), vld1q_f32(p + 4)}; }
static inline void v8_store(float *p, v8 v) { vst1q_f32(p, v.lo); vst1q_f32(p + 4, v.hi); }
static inline v8 v8_set1(float x) { return (v8){vdupq_n_f32(x), vdupq_n_f32(x)}; }
static inline v8 v8_zero(void) { return v8_set1(0.f); }
static inline float v8_first(v8 v) { return vgetq_lane_f32(v.lo, 0); }
// maxNum: a NaN first operand gives the second, as maxps does.
V8_LANEWISE(v8_max, vmaxnmq_f32)
static inline v8 v8_fma(v8 a, v8 b, v8 c) { return (v8){vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)}; }

static inline v8_mask v8_lanes(size_t count) {
    static const uint32_t index[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    uint32x4_t c = vdupq_n_u32((uint32_t)count);
    return (v8_mask){vcltq_u32(vld1q_u32(index), c), vcltq_u32(vld1q_u32(index + 4), c)};
}
// Through a buffer: a plain load of the masked lanes could cross into an unmapped page.
static inline size_t mask_count(v8_mask m) { return vaddvq_u32(vshrq_n_u32(m.lo, 31)) + vaddvq_u32(vshrq_n_u32(m.hi, 31)); }
static inline v8 v8_load_lanes(const float *p, v8_mask m) {
    size_t count = mask_count(m);
    if (count == 8) return v8_load(p);
    float lanes[8] = {0};
    memcpy(lanes, p, count * sizeof(float));
    return v8_load(lanes);
}
static inline void v8_store_lanes(float *p, v8_mask m, v8 v) {
    float lanes[8];
    v8_store(lanes, v);
    memcpy(p, lanes, mask_count(m) * sizeof(float));
}
static inline v8 v8_select(v8_mask m, v8 a, v8 b) { return (v8){vbslq_f32(m.lo, a.lo, b.lo), vbslq_f32(m.hi, a.hi, b.hi)}; }
static inline uint32x4_t nans4(float32x4_t v) {
    uint32x4_t magnitude = vandq_u32(vreinterpretq_u32_f32(v), vdupq_n_u32(0x7fffffff));
    return vcgtq_u32(magnitude, vdupq_n_u32(0x7f800000));
}
static inline v8_mask v8_nans(v8 v) { return (v8_mask){nans4(v.lo), nans4(v.hi)}; }
static inline int mask_bits(uint32x4_t lo, uint32x4_t hi) {
    static const uint32_t bit[8] = {1, 2, 4, 8, 16, 32, 64, 128};
    return (int)(vaddvq_u32(vandq_u32(lo, vld1q_u32(bit))) + vaddvq_u32(vandq_u32(hi, vld1q_u32(bit + 4))));
}
static inline int v8_equal_bits(v8 a, v8 b) { return mask_bits(vceqq_f32(a.lo, b.lo), vceqq_f32(a.hi, b.hi)); }
static inline int v8_same_bits(v8 a, v8 b) {
    return mask_bits(vceqq_u32(vreinterpretq_u32_f32(a.lo), vreinterpretq_u32_f32(b.lo)),
                     vceqq_u32(vreinterpretq_u32_f32(a.hi), vreinterpretq_u32_f32(b.hi)));
}

// The AVX2 form's order: s = lo + hi, then (s0 + s2) + (s1 + s3).
static inline float v8_sum(v8 v) {
    float32x4_t s = v.lo + v.hi;
    float32x2_t t = vget_low_f32(s) + vget_high_f32(s);
    return t[0] + t[1];
}
static inline float v8_hmax(v8 v) {
    float32x4_t m = vmaxnmq_f32(v.lo, v.hi);
    return vpmaxnms_f32(vmaxnm_f32(vget_low_f32(m), vget_high_f32(m)));
}

// The AVX2 form's pairing, one 4-lane half at a time: zip1/zip2 are unpacklo/unpackhi, and their
// 64-bit forms unpacklo_pd/unpackhi_pd.
static inline float32x4_t transpose_sum4(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3) {
    float32x4_t b0 = vzip1q_f32(a0, a1) + vzip2q_f32(a0, a1);
    float32x4_t b1 = vzip1q_f32(a2, a3) + vzip2q_f32(a2, a3);
    float64x2_t x = vreinterpretq_f64_f32(b0), y = vreinterpretq_f64_f32(b1);
    return vreinterpretq_f32_f64(vzip1q_f64(x, y)) + vreinterpretq_f32_f64(vzip2q_f64(x, y));
}
static inline v8 v8_transpose_sum(const v8 a[8]) {
    return (v8){transpose_sum4(a[0].lo, a[1].lo, a[2].lo, a[3].lo) + transpose_sum4(a[0].hi, a[1].hi, a[2].hi, a[3].hi),
                transpose_sum4(a[4].lo, a[5].lo, a[6].lo, a[7].lo) + transpose_sum4(a[4].hi, a[5].hi, a[6].hi, a[7].hi)};
}
#undef V8_LANEWISE
#endif

// Division as IEEE rounds it: under -ffast-math x86 compilers use an rcpps estimate plus a Newton
// step, whose bits differ between Intel and AMD (the ISA fixes only its error bound) and cannot be
// matched on ARM; a division may also become a multiplication by a reciprocal on one architecture
// and not the other. (The operators, not _mm256_div_ps or vdivq_f32: those are header functions
// compiled under the command line's -ffast-math.) RMS norm's 1/√x is Elementwise.c's rms_scale.
#pragma float_control(precise, on, push)
static inline float divide(float a, float b) { return a / b; }
#if defined(SPLIT_VECTOR8) && defined(SPLIT_NEON)
static inline v8 v8_div(v8 a, v8 b) { return (v8){a.lo / b.lo, a.hi / b.hi}; }
#elif defined(SPLIT_VECTOR8)
static inline v8 v8_div(v8 a, v8 b) { return a / b; }
#endif
#pragma float_control(pop)

#if defined(SPLIT_VECTOR8)
// e^x as llama.cpp computes it (ggml_v_expf of ggml-cpu.c at c392e50, adapted there from Arm's
// optimized routines: error ≤ 1.45 ulp + 0.5, ∞ above 88.38, 0 below −103.97), in ggml's own AVX2
// and NEON forms, which are the same operations: SiLU then gives ggml's bits (with Split's former
// Cephes-style polynomial, 25% of SiLU outputs on [−10, 10) differed from ggml's by an ulp or more,
// each a chance to flip a rounding of the down projection's 8-bit input), softmax and log-sum-exp
// the exponential llama.cpp's softmax uses. A lane's result does not depend on the others': the
// special-case blend gives the lanes in range what the fast return gives them.
#if defined(SPLIT_NEON)
static inline float32x4_t exp4(float32x4_t x) {
    const float32x4_t r = vdupq_n_f32(0x1.8p23f);
    const float32x4_t z = vfmaq_f32(r, x, vdupq_n_f32(0x1.715476p+0f));
    const float32x4_t n = z - r;
    const float32x4_t b = vfmsq_f32(vfmsq_f32(x, n, vdupq_n_f32(0x1.62e4p-1f)), n, vdupq_n_f32(0x1.7f7d1cp-20f));
    const uint32x4_t e = vshlq_n_u32(vreinterpretq_u32_f32(z), 23);
    const float32x4_t k = vreinterpretq_f32_u32(vaddq_u32(e, vreinterpretq_u32_f32(vdupq_n_f32(1))));
    const uint32x4_t c = vcagtq_f32(n, vdupq_n_f32(126));
    const float32x4_t u = b * b;
    const float32x4_t j = vfmaq_f32(vdupq_n_f32(0x1.ffffecp-1f) * b,
                                    vfmaq_f32(vfmaq_f32(vdupq_n_f32(0x1.fffdb6p-2f), vdupq_n_f32(0x1.555e66p-3f), b),
                                              vfmaq_f32(vdupq_n_f32(0x1.573e2ep-5f), vdupq_n_f32(0x1.0e4020p-7f), b), u),
                                    u);
    if (!vpaddd_u64(vreinterpretq_u64_u32(c))) return vfmaq_f32(k, j, k);
    const uint32x4_t d = vandq_u32(vclezq_f32(n), vdupq_n_u32(0x82000000));
    const float32x4_t s1 = vreinterpretq_f32_u32(vaddq_u32(d, vdupq_n_u32(0x7f000000)));
    const float32x4_t s2 = vreinterpretq_f32_u32(vsubq_u32(e, d));
    return vbslq_f32(vcagtq_f32(n, vdupq_n_f32(192)), s1 * s1, vbslq_f32(c, vfmaq_f32(s2, s2, j) * s1, vfmaq_f32(k, k, j)));
}
static inline v8 v8_exp(v8 x) { return (v8){exp4(x.lo), exp4(x.hi)}; }
#else
static inline v8 v8_exp(v8 x) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = z - r;
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    const __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1))));
    const __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.f), n);
    const __m256i c = _mm256_castps_si256(_mm256_cmp_ps(magnitude, _mm256_set1_ps(126), _CMP_GT_OQ));
    const __m256 u = b * b;
    const __m256 j = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                                                     _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
                                     u, _mm256_set1_ps(0x1.ffffecp-1f) * b);
    if (!_mm256_movemask_ps(_mm256_castsi256_ps(c))) return _mm256_fmadd_ps(j, k, k);
    const __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                       _mm256_set1_epi32((int)0x82000000u));
    const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    const __m256 d = _mm256_cmp_ps(magnitude, _mm256_set1_ps(192), _CMP_GT_OQ);
    return _mm256_blendv_ps(_mm256_blendv_ps(_mm256_fmadd_ps(k, j, k), _mm256_fmadd_ps(s2, j, s2) * s1, _mm256_castsi256_ps(c)),
                            s1 * s1, d);
}
#endif

// tanh(y) = 1 − 2 / (e^{2y} + 1), absolute error ~1e-7 (libm's tanhf differs between glibc's
// x86-64 and AArch64 builds in ~0.06% of floats, so it cannot be the function both compute).
static inline v8 v8_tanh(v8 y) {
    const v8 one = v8_set1(1.0f), two = v8_set1(2.0f);
    return v8_sub(one, v8_div(two, v8_add(v8_exp(v8_mul(two, y)), one)));
}
#endif
#pragma float_control(pop)
#endif
