// Element-wise kernels of the decode and prefill paths, on eight lanes (Vector8.h: AVX2 or NEON,
// the same bits on both) with its vectorised exponential: libm's scalar expf made softmax and
// SiLU cost as much as the attention GEMMs in prefill.
#include "SplitKernels.h"
#include "Vector8.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

// −∞ from its bits: the INFINITY macro is undefined behaviour under the build's -ffast-math.
static inline float minus_infinity(void) {
    uint32_t bits = 0xff800000u;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// RMS norm's 1/√(mean(x²) + eps) as ggml computes it (ggml_compute_forward_rms_norm_f32): each
// square rounded to float, summed in double in index order, the mean rounded to float, then an
// exact square root and division. The same bits on every path and architecture (IEEE double adds
// in a fixed order), and llama.cpp's: the norm feeds the matrices' 8-bit activation quantizers,
// where a scale one ulp off llama.cpp's can flip a Q8_0 rounding. An 8-lane float sum did, with an
// exact 1/√ (QuantizedModelLogitsTests' Q4_0 file 0.10 from llama.cpp at position 0, against
// 1e-6); with an rsqrtss estimate it happened not to, until position 10.
#pragma float_control(precise, on, push)
#pragma clang fp contract(off)
static float rms_scale(const float *x, size_t width, float eps) {
    double sum = 0;
    for (size_t i = 0; i < width; i++) {
        float square = x[i] * x[i];
        sum += (double)square;
    }
    float mean = (float)(sum / (double)width);
    return 1.0f / sqrtf(mean + eps);
}
#pragma float_control(pop)

#if defined(SPLIT_VECTOR8)
// Sums in the order written (-ffast-math would let the compiler choose one per architecture).
#pragma float_control(push)
#pragma clang fp reassociate(off)

static inline float exp1(float x) { return v8_first(v8_exp(v8_set1(x))); }

float split_softmax(float *x, size_t count) {
    size_t i = 0;
    v8 vmax = v8_set1(minus_infinity());
    for (; i + 8 <= count; i += 8) vmax = v8_max(vmax, v8_load(x + i));
    float maxValue = v8_hmax(vmax);
    for (; i < count; i++) if (x[i] > maxValue) maxValue = x[i];
    v8 m = v8_set1(maxValue), vsum = v8_zero();
    i = 0;
    for (; i + 8 <= count; i += 8) {
        v8 e = v8_exp(v8_sub(v8_load(x + i), m));
        v8_store(x + i, e);
        vsum = v8_add(vsum, e);
    }
    float sum = v8_sum(vsum);
    for (; i < count; i++) { x[i] = exp1(x[i] - maxValue); sum += x[i]; }
    float inverse = divide(1.0f, sum);
    v8 inv = v8_set1(inverse);
    i = 0;
    for (; i + 8 <= count; i += 8) v8_store(x + i, v8_mul(v8_load(x + i), inv));
    for (; i < count; i++) x[i] *= inverse;
    return maxValue;
}

float split_log_sum_exp(const float *x, size_t count) {
    size_t i = 0;
    v8 vmax = v8_set1(minus_infinity());
    for (; i + 8 <= count; i += 8) vmax = v8_max(vmax, v8_load(x + i));
    float maxValue = v8_hmax(vmax);
    for (; i < count; i++) if (x[i] > maxValue) maxValue = x[i];
    if (maxValue == minus_infinity()) return minus_infinity();
    v8 m = v8_set1(maxValue), a = v8_zero(), b = v8_zero();
    i = 0;
    for (; i + 16 <= count; i += 16) {
        a = v8_add(a, v8_exp(v8_sub(v8_load(x + i), m)));
        b = v8_add(b, v8_exp(v8_sub(v8_load(x + i + 8), m)));
    }
    float sum = v8_sum(v8_add(a, b));
    for (; i < count; i++) sum += exp1(x[i] - maxValue);
    return maxValue + logf(sum);
}

// Two vector passes, NaNs first replaced by −∞ (a `>` scan never takes one): the largest value,
// then the first index that holds it. Precise float semantics here whatever the target's flags:
// the compares meet ±∞, which -ffast-math lets the compiler assume away.
#pragma float_control(precise, on, push)
size_t split_argmax(const float *x, size_t count) {
    const v8 none = v8_set1(minus_infinity());
    size_t i = 0;
    v8 vmax = none;
    for (; i + 8 <= count; i += 8) {
        v8 v = v8_load(x + i);
        vmax = v8_max(v8_select(v8_nans(v), none, v), vmax);
    }
    v8_mask tail = v8_lanes(count - i);
    v8 last = v8_load_lanes(x + i, tail);
    last = v8_select(tail, v8_select(v8_nans(last), none, last), none);
    v8 m = v8_set1(v8_hmax(v8_max(last, vmax)));
    if (v8_same_bits(m, none)) return 0;  // nothing above −∞
    for (i = 0; i + 8 <= count; i += 8) {
        v8 v = v8_load(x + i);
        int hits = v8_equal_bits(v8_select(v8_nans(v), none, v), m);
        if (hits) return i + (size_t)__builtin_ctz((unsigned)hits);
    }
    int hits = v8_equal_bits(last, m);
    return hits ? i + (size_t)__builtin_ctz((unsigned)hits) : 0;
}
#pragma float_control(pop)

void split_silu_gate(float *gate, const float *up, size_t count) {
    size_t i = 0;
    const v8 one = v8_set1(1.0f);
    for (; i + 8 <= count; i += 8) {
        v8 g = v8_load(gate + i);
        v8 s = v8_div(g, v8_add(one, v8_exp(v8_sub(v8_zero(), g))));
        v8_store(gate + i, v8_mul(s, v8_load(up + i)));
    }
    for (; i < count; i++) gate[i] = divide(gate[i], 1.0f + exp1(-gate[i])) * up[i];
}

// The tail through the same lanes (libm's tanhf is not the same function on x86 and ARM).
static inline v8 gelu8(v8 v) {
    v8 y = v8_mul(v8_set1(0.7978845608028654f), v8_fma(v8_mul(v8_set1(0.044715f), v), v8_mul(v, v), v));
    return v8_mul(v8_mul(v8_set1(0.5f), v), v8_add(v8_set1(1.0f), v8_tanh(y)));
}

void split_gelu_tanh(float *x, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) v8_store(x + i, gelu8(v8_load(x + i)));
    if (i < count) {
        v8_mask tail = v8_lanes(count - i);
        v8_store_lanes(x + i, tail, gelu8(v8_load_lanes(x + i, tail)));
    }
}

void split_rms_norm(float *x, const float *weight, size_t width, float eps) {
    float scale = rms_scale(x, width, eps);
    v8 s = v8_set1(scale);
    size_t i = 0;
    for (; i + 8 <= width; i += 8) v8_store(x + i, v8_mul(v8_mul(v8_load(x + i), s), v8_load(weight + i)));
    for (; i < width; i++) x[i] = x[i] * scale * weight[i];
}
#pragma float_control(pop)

#else

float split_softmax(float *x, size_t count) {
    float maxValue = minus_infinity();
    for (size_t i = 0; i < count; i++) if (x[i] > maxValue) maxValue = x[i];
    float sum = 0;
    for (size_t i = 0; i < count; i++) { x[i] = expf(x[i] - maxValue); sum += x[i]; }
    for (size_t i = 0; i < count; i++) x[i] /= sum;
    return maxValue;
}

float split_log_sum_exp(const float *x, size_t count) {
    float maxValue = minus_infinity();
    for (size_t i = 0; i < count; i++) if (x[i] > maxValue) maxValue = x[i];
    if (maxValue == minus_infinity()) return minus_infinity();
    float sum = 0;
    for (size_t i = 0; i < count; i++) sum += expf(x[i] - maxValue);
    return maxValue + logf(sum);
}

#pragma float_control(precise, on, push)
size_t split_argmax(const float *x, size_t count) {
    size_t best = 0;
    float bestValue = minus_infinity();
    for (size_t i = 0; i < count; i++)
        if (x[i] > bestValue) { bestValue = x[i]; best = i; }
    return best;
}
#pragma float_control(pop)

void split_silu_gate(float *gate, const float *up, size_t count) {
    for (size_t i = 0; i < count; i++) gate[i] = divide(gate[i], 1.0f + expf(-gate[i])) * up[i];
}

void split_gelu_tanh(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

void split_rms_norm(float *x, const float *weight, size_t width, float eps) {
    float scale = rms_scale(x, width, eps);
    for (size_t i = 0; i < width; i++) x[i] = x[i] * scale * weight[i];
}
#endif
