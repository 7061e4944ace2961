// The matrix work of one f16 decode step of the SmolLM2-135M shape, alone: per layer the fused
// query/key/value job, the output projection, the fused gate/up job and the down projection on
// the worker pool, then the 49152 × 576 LM head — the 269 MB a token reads, laid out as in the
// GGUF file. Prints tokens/s, the GB/s of weights that implies, and this process's read
// bandwidth measured the same way as membw.c right before (the limit the decode is held to).
// Session 5 tuned split_gemv_f16's prefetch with a copy of this that
// alternated kernel variants token batch by token batch in one process (BENCHMARKS.md, issue 10).
// From the repository root:
//   K=Sources/CSplitKernels
//   clang -O3 -march=native -ffast-math -I$K/include tools/bench/decode_gemv.c $K/Kernels/Gemv.c \
//       $K/Matmul.c $K/Pool.c $K/Kernels/QuantQ8.c $K/Kernels/Convert.c -lpthread -o /tmp/decode_gemv
//   flock /work/bench.lock /tmp/decode_gemv [tokens]
#include <immintrin.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "SplitKernels.h"

enum { LAYERS = 30, D = 576, KV = 192, FF = 1536, VOCAB = 49152, THREADS = 2 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    const char *p;
    size_t bytes;
    float sums[64];  // one per chunk: the threads write apart (a sink, so nothing is optimised away)
} read_job;

static void read_chunk(void *context, size_t chunk, size_t chunks) {
    read_job *job = context;
    size_t share = job->bytes / chunks;
    const char *p = job->p + chunk * share;
    __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
    for (size_t i = 0; i < share; i += 256) {
        a = _mm512_add_ps(a, _mm512_load_ps((const float *)(p + i)));
        b = _mm512_add_ps(b, _mm512_load_ps((const float *)(p + i + 64)));
        c = _mm512_add_ps(c, _mm512_load_ps((const float *)(p + i + 128)));
        d = _mm512_add_ps(d, _mm512_load_ps((const float *)(p + i + 192)));
    }
    job->sums[chunk % 64] += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}

int main(int argc, char **argv) {
    int tokens = argc > 1 ? atoi(argv[1]) : 64;
    size_t layer = (size_t)(D + 2 * KV + D + 3 * FF) * D, total = LAYERS * layer + (size_t)VOCAB * D;
    size_t weight_bytes = (total * 2 + ((size_t)2 << 20) - 1) / ((size_t)2 << 20) * ((size_t)2 << 20);
    uint16_t *w = aligned_alloc((size_t)2 << 20, weight_bytes);
    if (w) madvise(w, weight_bytes, MADV_HUGEPAGE);  // 2 MB pages, as the runtime maps its weights
    float *x = aligned_alloc(64, FF * sizeof(float)), *y = aligned_alloc(64, 3 * FF * sizeof(float));
    float *logits = aligned_alloc(64, VOCAB * sizeof(float));
    if (!w || !x || !y || !logits) return 1;
    for (size_t i = 0; i < total; i++) w[i] = (uint16_t)(0x3000 + (i * 7 & 0x3ff));
    for (int i = 0; i < FF; i++) x[i] = (float)i * 1e-4f;
    split_pool_workers();

    // Read bandwidth on the same pool threads (1 GiB, best of 5 after a warm-up), as membw.c.
    size_t bytes = (size_t)1 << 30;
    char *buffer = aligned_alloc((size_t)2 << 20, bytes);
    if (!buffer) return 1;
    madvise(buffer, bytes, MADV_HUGEPAGE);
    memset(buffer, 1, bytes);
    read_job job = {buffer, bytes, {0}};
    double best_read = 1e30;
    for (int pass = 0; pass < 6; pass++) {
        double t0 = now();
        split_pool_run(read_chunk, &job, THREADS);
        double t = now() - t0;
        if (pass > 0 && t < best_read) best_read = t;
    }
    free(buffer);

    double best = 1e30, sum = 0;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (int t = 0; t < tokens; t++) {
            const uint16_t *p = w;
            for (int l = 0; l < LAYERS; l++) {
                split_matmul_part qkv[3] = {{p, D, y}, {p + D * D, KV, y + D}, {p + (D + KV) * D, KV, y + D + KV}};
                split_matmul_parts(SPLIT_WEIGHT_F16, qkv, 3, D, x, 1, THREADS);
                p += (D + 2 * KV) * D;
                split_matmul(SPLIT_WEIGHT_F16, p, D, D, x, 1, y, THREADS);
                p += D * D;
                split_matmul_part gate_up[2] = {{p, FF, y}, {p + FF * D, FF, y + FF}};
                split_matmul_parts(SPLIT_WEIGHT_F16, gate_up, 2, D, x, 1, THREADS);
                p += 2 * FF * D;
                split_matmul(SPLIT_WEIGHT_F16, p, D, FF, x, 1, y, THREADS);
                p += FF * D;
            }
            split_matmul(SPLIT_WEIGHT_F16, p, VOCAB, D, x, 1, logits, THREADS);
        }
        double s = now() - t0;
        if (s < best) best = s;
        sum += logits[7];
    }
    double rate = tokens / best, read = bytes / best_read / 1e9, weights = total * 2 / 1e9;
    printf("{\"tokens_per_second\": %.1f, \"weight_gb_per_second\": %.2f, \"read_gb_per_second\": %.2f, "
           "\"fraction\": %.3f, \"check\": %g, \"sink\": %g}\n",
           rate, rate * weights, read, rate * weights / read, sum, job.sums[0] + job.sums[1]);
    return 0;
}
