// Horizontal sums shared by the AVX-512 matrix kernels (Gemv.c, QuantQ8.c). Every output of a
// kernel ends with one of these, so both must pair lanes in the same fixed order.
#ifndef SPLIT_REDUCE_H
#define SPLIT_REDUCE_H
#include <immintrin.h>

// One row · one vector: a 16-lane FMA chain over the columns in order (the last, partial step
// masked), then this fixed horizontal sum.
static inline float hsum512(__m512 v) {
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

// The sums of four accumulators at once, with exactly hsum512's pairings (lane i + lane i+8, then
// i + i+4, i + i+2, i + i+1; IEEE addition is commutative, so each sum is bit-identical to
// hsum512 of its accumulator), stored to out[0..3]. Saves most of the shuffles of four hsum512s.
static inline void hsum512x4(__m512 a, __m512 b, __m512 c, __m512 d, float *out) {
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
    __m512 v = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, 0x4E));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));
    __m512 packed = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12), v);
    _mm_storeu_ps(out, _mm512_castps512_ps128(packed));
}

#endif
