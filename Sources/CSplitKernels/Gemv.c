#include "SplitKernels.h"
#if defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
#include <immintrin.h>

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

void split_gemv_f16(const uint16_t *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {
    size_t r = row_begin;
    // Four rows at a time share each load of x: decode is bound by reading w, not x.
    for (; r + 4 <= row_end; r += 4) {
        const uint16_t *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            __m256 xv = _mm256_loadu_ps(x + c);
            a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w0 + c))), xv, a0);
            a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w1 + c))), xv, a1);
            a2 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w2 + c))), xv, a2);
            a3 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w3 + c))), xv, a3);
        }
        float s0 = hsum256(a0), s1 = hsum256(a1), s2 = hsum256(a2), s3 = hsum256(a3);
        for (; c < cols; c++) {
            float xv = x[c];
            s0 += _cvtsh_ss(w0[c]) * xv; s1 += _cvtsh_ss(w1[c]) * xv;
            s2 += _cvtsh_ss(w2[c]) * xv; s3 += _cvtsh_ss(w3[c]) * xv;
        }
        y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3;
    }
    for (; r < row_end; r++) {
        const uint16_t *w0 = w + r * cols;
        __m256 a0 = _mm256_setzero_ps();
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w0 + c))), _mm256_loadu_ps(x + c), a0);
        }
        float s0 = hsum256(a0);
        for (; c < cols; c++) s0 += _cvtsh_ss(w0[c]) * x[c];
        y[r] = s0;
    }
}

void split_gemv_f32(const float *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols) {
    size_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        const float *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            __m256 xv = _mm256_loadu_ps(x + c);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), xv, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + c), xv, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + c), xv, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + c), xv, a3);
        }
        float s0 = hsum256(a0), s1 = hsum256(a1), s2 = hsum256(a2), s3 = hsum256(a3);
        for (; c < cols; c++) { float xv = x[c]; s0 += w0[c] * xv; s1 += w1[c] * xv; s2 += w2[c] * xv; s3 += w3[c] * xv; }
        y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3;
    }
    for (; r < row_end; r++) {
        const float *w0 = w + r * cols;
        __m256 a0 = _mm256_setzero_ps();
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), _mm256_loadu_ps(x + c), a0);
        float s0 = hsum256(a0);
        for (; c < cols; c++) s0 += w0[c] * x[c];
        y[r] = s0;
    }
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
#endif
