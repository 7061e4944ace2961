// Causal grouped-query attention of new rows against a layer's cached keys and values. Each
// (head, query row) is computed on its own by one fixed sequence of operations: scores against
// its visible keys, softmax, then the weighted sum of values in position order. So a row's
// output never depends on how many rows share the call (a decode step, a prefill, a verify batch
// and a cloud batch give the same bits for the same position), and nothing here needs a BLAS
// library or its per-thread buffers. Heads run on the worker pool when the work is large enough.
#include "SplitKernels.h"
#include "Vector8.h"
#include <math.h>
#include <string.h>
#pragma clang fp reassociate(off)

typedef struct {
    const float *query, *keys, *values;
    size_t rows, start, head_dim, group, query_width, kv_width, window;
    float scale, softcap;
    float *scores, *output;
} attention_job;

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

// Lane sums of 16 accumulators at once: lane k of the result is the sum of a[k]'s 16 lanes, in a
// fixed pairing that depends only on k (the accumulators of other keys never enter key k's sum).
static inline __m512 transpose_sum16(const __m512 a[16]) {
    __m512 b[8], c[4], d[2];
    for (int i = 0; i < 8; i++)  // per 128-bit chunk: (k:x, k':x, k:y, k':y)
        b[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
    for (int i = 0; i < 4; i++) {  // per 128-bit chunk: keys 4i .. 4i+3
        __m512d x = _mm512_castps_pd(b[2 * i]), y = _mm512_castps_pd(b[2 * i + 1]);
        c[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
    }
    for (int i = 0; i < 2; i++)  // chunks (c0: 0+1, c0: 2+3, c1: 0+1, c1: 2+3)
        d[i] = _mm512_add_ps(_mm512_shuffle_f32x4(c[2 * i], c[2 * i + 1], 0x88),
                             _mm512_shuffle_f32x4(c[2 * i], c[2 * i + 1], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(d[0], d[1], 0x88), _mm512_shuffle_f32x4(d[0], d[1], 0xDD));
}

// s[j] = scale · q·k_j for j in [0, count): keys in blocks of 16, each key's dot product one
// FMA chain over the head's dimensions in order, then transpose_sum16.
static void scores_row(const float *q, const float *keys, size_t kv_width, size_t hd, size_t count, float scale,
                       float *s) {
    size_t full = hd / 16;
    __mmask16 tail = (__mmask16)((1u << (hd % 16)) - 1);
    for (size_t j0 = 0; j0 < count; j0 += 16) {
        size_t block = count - j0 < 16 ? count - j0 : 16;
        __m512 acc[16];
        for (size_t k = 0; k < 16; k++) {
            __m512 a = _mm512_setzero_ps();
            if (k < block) {
                const float *key = keys + (j0 + k) * kv_width;
                size_t c = 0;
                for (; c < full; c++) a = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * c), _mm512_loadu_ps(key + 16 * c), a);
                if (tail) a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, q + 16 * c), _mm512_maskz_loadu_ps(tail, key + 16 * c), a);
            }
            acc[k] = a;
        }
        __m512 sums = _mm512_mul_ps(transpose_sum16(acc), _mm512_set1_ps(scale));
        _mm512_mask_storeu_ps(s + j0, (__mmask16)((1u << block) - 1), sums);
    }
}

// out[d] = Σ_j p[j] · v_j[d], j in order, 64 dimensions (four accumulators) at a time.
static void weighted_values(const float *p, const float *values, size_t kv_width, size_t hd, size_t count, float *out) {
    for (size_t d0 = 0; d0 < hd; d0 += 64) {
        size_t width = hd - d0 < 64 ? hd - d0 : 64;
        __mmask16 m[4];
        for (int c = 0; c < 4; c++) {
            size_t lanes = width > 16 * (size_t)c ? width - 16 * c : 0;
            m[c] = (__mmask16)(lanes >= 16 ? 0xffff : (1u << lanes) - 1);
        }
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (size_t j = 0; j < count; j++) {
            __m512 w = _mm512_set1_ps(p[j]);
            const float *v = values + j * kv_width + d0;
            for (int c = 0; c < 4; c++)
                if (m[c]) acc[c] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m[c], v + 16 * c), acc[c]);
        }
        for (int c = 0; c < 4; c++)
            if (m[c]) _mm512_mask_storeu_ps(out + d0 + 16 * c, m[c], acc[c]);
    }
}

#elif defined(SPLIT_VECTOR8)  // AVX2 or NEON, with the same bits (Vector8.h)

// The 8-lane FMA chains of keys [0, block) of a block, over the head's dimensions in order: each
// key's chain alone decides its bits, so the dimensions run outside and q is loaded once for all
// 8 keys (16 independent chains on NEON's two halves).
static inline __attribute__((always_inline)) void key_chains(const float *q, const float *key, size_t kv_width,
                                                             size_t hd, size_t block, v8 acc[8]) {
    size_t full = hd / 8;
    for (size_t k = 0; k < 8; k++) acc[k] = v8_zero();
    for (size_t c = 0; c < full; c++) {
        v8 qc = v8_load(q + 8 * c);
        for (size_t k = 0; k < block; k++) acc[k] = v8_fma(qc, v8_load(key + k * kv_width + 8 * c), acc[k]);
    }
    if (hd % 8) {
        v8_mask tail = v8_lanes(hd % 8);
        v8 qc = v8_load_lanes(q + 8 * full, tail);
        for (size_t k = 0; k < block; k++) acc[k] = v8_fma(qc, v8_load_lanes(key + k * kv_width + 8 * full, tail), acc[k]);
    }
}

// s[j] = scale · q·k_j: keys in blocks of 8, each key's dot product one 8-lane FMA chain over the
// head's dimensions in order, then v8_transpose_sum. The portable loop below is one scalar chain
// per key (the fixed order forbids vectorising it), which made attention 10-16% of a SmolLM2
// decode step and 14-16% of a prefill on AVX2 (perf, session 9).
static void scores_row(const float *q, const float *keys, size_t kv_width, size_t hd, size_t count, float scale,
                       float *s) {
    v8 acc[8];
    size_t j0 = 0;
    for (; j0 + 8 <= count; j0 += 8) {  // the block size a constant: the accumulators stay in registers
        key_chains(q, keys + j0 * kv_width, kv_width, hd, 8, acc);
        v8_store(s + j0, v8_mul(v8_transpose_sum(acc), v8_set1(scale)));
    }
    if (j0 < count) {
        key_chains(q, keys + j0 * kv_width, kv_width, hd, count - j0, acc);
        v8_store_lanes(s + j0, v8_lanes(count - j0), v8_mul(v8_transpose_sum(acc), v8_set1(scale)));
    }
}

// out[d] = Σ_j p[j] · v_j[d], j in order, 32 dimensions (four accumulators) at a time.
static void weighted_values(const float *p, const float *values, size_t kv_width, size_t hd, size_t count, float *out) {
    for (size_t d0 = 0; d0 < hd; d0 += 32) {
        size_t width = hd - d0 < 32 ? hd - d0 : 32;
        v8_mask m[4];
        for (int c = 0; c < 4; c++) m[c] = v8_lanes(width > 8 * (size_t)c ? width - 8 * c : 0);
        v8 acc[4] = {v8_zero(), v8_zero(), v8_zero(), v8_zero()};
        for (size_t j = 0; j < count; j++) {
            v8 w = v8_set1(p[j]);
            const float *v = values + j * kv_width + d0;
            if (width == 32)
                for (int c = 0; c < 4; c++) acc[c] = v8_fma(w, v8_load(v + 8 * c), acc[c]);
            else
                for (int c = 0; c < 4; c++) acc[c] = v8_fma(w, v8_load_lanes(v + 8 * c, m[c]), acc[c]);
        }
        for (int c = 0; c < 4; c++) v8_store_lanes(out + d0 + 8 * c, m[c], acc[c]);
    }
}

#else
// Portable version of the same sequences (one accumulator per key or dimension, in order).
static void scores_row(const float *q, const float *keys, size_t kv_width, size_t hd, size_t count, float scale,
                       float *s) {
    for (size_t j = 0; j < count; j++) {
        const float *key = keys + j * kv_width;
        float a = 0;
        for (size_t c = 0; c < hd; c++) a += q[c] * key[c];
        s[j] = a * scale;
    }
}

static void weighted_values(const float *p, const float *values, size_t kv_width, size_t hd, size_t count, float *out) {
    for (size_t d = 0; d < hd; d++) out[d] = 0;
    for (size_t j = 0; j < count; j++)
        for (size_t d = 0; d < hd; d++) out[d] += p[j] * values[j * kv_width + d];
}
#endif

// Gemma 2's soft-capping: cap · tanh(score / cap), after the scale, before the softmax; on eight
// lanes where the path has them (v8_tanh: libm's tanhf differs between x86 and ARM).
static void soft_cap(float *s, size_t count, float cap) {
#if defined(SPLIT_VECTOR8)
    v8 c = v8_set1(cap);
    size_t j = 0;
    for (; j + 8 <= count; j += 8) v8_store(s + j, v8_mul(c, v8_tanh(v8_div(v8_load(s + j), c))));
    if (j < count) {
        v8_mask tail = v8_lanes(count - j);
        v8_store_lanes(s + j, tail, v8_mul(c, v8_tanh(v8_div(v8_load_lanes(s + j, tail), c))));
    }
#else
    for (size_t j = 0; j < count; j++) s[j] = cap * tanhf(divide(s[j], cap));
#endif
}

static void attention_head(void *context, size_t head, size_t heads) {
    (void)heads;
    const attention_job *job = context;
    size_t total = job->start + job->rows, hd = job->head_dim, kv_head = head / job->group;
    const float *keys = job->keys + kv_head * hd, *values = job->values + kv_head * hd;
    for (size_t row = 0; row < job->rows; row++) {
        // A sliding window shows the query itself and the window - 1 positions before it
        // (HF `kv_idx > q_idx - sliding_window`; llama.cpp masks `p1 - p0 >= n_swa`).
        size_t position = job->start + row;
        size_t first = job->window && position + 1 > job->window ? position + 1 - job->window : 0;
        size_t visible = position + 1 - first;
        float *s = job->scores + head * total;  // this head's row scratch, reused row after row
        scores_row(job->query + row * job->query_width + head * hd, keys + first * job->kv_width, job->kv_width, hd,
                   visible, job->scale, s);
        if (job->softcap > 0) soft_cap(s, visible, job->softcap);
        split_softmax(s, visible);
        weighted_values(s, values + first * job->kv_width, job->kv_width, hd, visible,
                        job->output + row * job->query_width + head * hd);
    }
}

void split_attention(const float *query, size_t rows, size_t start, const float *keys, const float *values,
                     size_t head_count, size_t kv_head_count, size_t head_dim, size_t query_width, size_t kv_width,
                     float scale, size_t window, float softcap, float *scores, float *output, size_t threads) {
    attention_job job = {query, keys, values, rows, start, head_dim, head_count / kv_head_count,
                         query_width, kv_width, window, scale, softcap, scores, output};
    // A hand-off to the pool costs about a µs. A decode step's heads over ~57+ positions of a
    // SmolLM2-135M-sized model (9 heads of 64) already take longer than that, their keys and values
    // coming from memory (the weights went through the caches since): split over two threads the
    // decode ran 1.4-3.0% faster, alternating with the serial heads token by token in one process
    // at ~45 GB/s (BENCHMARKS.md, issue 10, session 6).
    size_t work = head_count * rows * (start + rows) * head_dim;
    if (threads <= 1 || work < (1u << 15)) {
        for (size_t head = 0; head < head_count; head++) attention_head(&job, head, head_count);
    } else {
        split_pool_run(attention_head, &job, head_count);
    }
}
