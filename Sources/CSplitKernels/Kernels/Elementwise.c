// Element-wise kernels of the decode and prefill paths. The exponential is a vectorised
// polynomial (Cephes-style range reduction, degree-6 minimax on [-ln2/2, ln2/2], relative
// error < 2e-7): libm's scalar expf made softmax and SiLU cost as much as the attention GEMMs
// in prefill.
#include "SplitKernels.h"
#include <math.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

static inline __m256 exp256(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365478515625f);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline float hsum256e(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float exp1(float x) {
    float in[8] = {x}, out[8];
    _mm256_storeu_ps(out, exp256(_mm256_loadu_ps(in)));
    return out[0];
}

float split_softmax(float *x, size_t count) {
    size_t i = 0;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= count; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float maxValue = hmax256(vmax);
    for (; i < count; i++) if (x[i] > maxValue) maxValue = x[i];
    __m256 m = _mm256_set1_ps(maxValue), vsum = _mm256_setzero_ps();
    i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        _mm256_storeu_ps(x + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum256e(vsum);
    for (; i < count; i++) { x[i] = exp1(x[i] - maxValue); sum += x[i]; }
    __m256 inv = _mm256_set1_ps(1.0f / sum);
    i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < count; i++) x[i] *= 1.0f / sum;
    return maxValue;
}

float split_log_sum_exp(const float *x, size_t count) {
    size_t i = 0;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= count; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float maxValue = hmax256(vmax);
    for (; i < count; i++) if (x[i] > maxValue) maxValue = x[i];
    if (maxValue == -INFINITY) return -INFINITY;
    __m256 m = _mm256_set1_ps(maxValue), a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    i = 0;
    for (; i + 16 <= count; i += 16) {
        a = _mm256_add_ps(a, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), m)));
        b = _mm256_add_ps(b, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m)));
    }
    float sum = hsum256e(_mm256_add_ps(a, b));
    for (; i < count; i++) sum += exp1(x[i] - maxValue);
    return maxValue + logf(sum);
}

// NaN lanes of v replaced by `none` (an integer test: under -ffast-math, which this file is
// built with, float compares and maxps may assume no NaNs).
static inline __m256 without_nans(__m256 v, __m256 none) {
    __m256i magnitude = _mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7fffffff));
    __m256i nan = _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32(0x7f800000));
    return _mm256_blendv_ps(v, none, _mm256_castsi256_ps(nan));
}

// Two vector passes, NaNs first replaced by −∞ (a `>` scan never takes one): the largest value,
// then the first index that holds it. Precise float semantics here whatever the target's flags:
// the compares meet ±∞, which -ffast-math lets the compiler assume away.
#pragma float_control(precise, on, push)
size_t split_argmax(const float *x, size_t count) {
    const __m256 none = _mm256_castsi256_ps(_mm256_set1_epi32((int)0xff800000));  // −∞
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    size_t i = 0;
    __m256 vmax = none;
    for (; i + 8 <= count; i += 8) vmax = _mm256_max_ps(without_nans(_mm256_loadu_ps(x + i), none), vmax);
    __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count - i)), lanes);
    __m256 last = _mm256_blendv_ps(none, without_nans(_mm256_maskload_ps(x + i, tail), none), _mm256_castsi256_ps(tail));
    __m256 m = _mm256_set1_ps(hmax256(_mm256_max_ps(last, vmax)));
    if (_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_castps_si256(m), _mm256_castps_si256(none)))))
        return 0;  // nothing above −∞
    for (i = 0; i + 8 <= count; i += 8) {
        int hits = _mm256_movemask_ps(_mm256_cmp_ps(without_nans(_mm256_loadu_ps(x + i), none), m, _CMP_EQ_OQ));
        if (hits) return i + (size_t)__builtin_ctz((unsigned)hits);
    }
    int hits = _mm256_movemask_ps(_mm256_cmp_ps(last, m, _CMP_EQ_OQ));
    return hits ? i + (size_t)__builtin_ctz((unsigned)hits) : 0;
}
#pragma float_control(pop)

void split_silu_gate(float *gate, const float *up, size_t count) {
    size_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= count; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    for (; i < count; i++) gate[i] = gate[i] / (1.0f + exp1(-gate[i])) * up[i];
}

void split_gelu_tanh(float *x, size_t count) {
    // tanh(y) = 1 - 2 / (exp(2y) + 1)
    size_t i = 0;
    const __m256 c = _mm256_set1_ps(0.7978845608028654f), k = _mm256_set1_ps(0.044715f);
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f), half = _mm256_set1_ps(0.5f);
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 y = _mm256_mul_ps(c, _mm256_fmadd_ps(_mm256_mul_ps(k, v), _mm256_mul_ps(v, v), v));
        __m256 t = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(exp256(_mm256_mul_ps(two, y)), one)));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, t)));
    }
    for (; i < count; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

void split_rms_norm(float *x, const float *weight, size_t width, float eps) {
    size_t i = 0;
    __m256 acc = _mm256_setzero_ps();
    for (; i + 8 <= width; i += 8) { __m256 v = _mm256_loadu_ps(x + i); acc = _mm256_fmadd_ps(v, v, acc); }
    float sum = hsum256e(acc);
    for (; i < width; i++) sum += x[i] * x[i];
    float scale = 1.0f / sqrtf(sum / (float)width + eps);
    __m256 s = _mm256_set1_ps(scale);
    i = 0;
    for (; i + 8 <= width; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), s), _mm256_loadu_ps(weight + i)));
    for (; i < width; i++) x[i] = x[i] * scale * weight[i];
}

#else

float split_softmax(float *x, size_t count) {
    float maxValue = -INFINITY;
    for (size_t i = 0; i < count; i++) if (x[i] > maxValue) maxValue = x[i];
    float sum = 0;
    for (size_t i = 0; i < count; i++) { x[i] = expf(x[i] - maxValue); sum += x[i]; }
    for (size_t i = 0; i < count; i++) x[i] /= sum;
    return maxValue;
}

float split_log_sum_exp(const float *x, size_t count) {
    float maxValue = -INFINITY;
    for (size_t i = 0; i < count; i++) if (x[i] > maxValue) maxValue = x[i];
    if (maxValue == -INFINITY) return -INFINITY;
    float sum = 0;
    for (size_t i = 0; i < count; i++) sum += expf(x[i] - maxValue);
    return maxValue + logf(sum);
}

#pragma float_control(precise, on, push)
size_t split_argmax(const float *x, size_t count) {
    size_t best = 0;
    float bestValue = -INFINITY;
    for (size_t i = 0; i < count; i++)
        if (x[i] > bestValue) { bestValue = x[i]; best = i; }
    return best;
}
#pragma float_control(pop)

void split_silu_gate(float *gate, const float *up, size_t count) {
    for (size_t i = 0; i < count; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void split_gelu_tanh(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

void split_rms_norm(float *x, const float *weight, size_t width, float eps) {
    float sum = 0;
    for (size_t i = 0; i < width; i++) sum += x[i] * x[i];
    float scale = 1.0f / sqrtf(sum / (float)width + eps);
    for (size_t i = 0; i < width; i++) x[i] = x[i] * scale * weight[i];
}
#endif
