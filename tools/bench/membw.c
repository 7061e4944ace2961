// Read bandwidth of this machine's memory, the bound on decode speed (every weight is read once
// per token): T threads each stream their share of a 1 GiB buffer (far larger than the caches)
// with 64-byte loads; best of 5 passes. Prints one JSON line. The buffer is asked for in 2 MB pages
// (MADV_HUGEPAGE), as the runtime maps its weights: with 4 KB pages this machine read 5-10% less in
// its low-bandwidth mode (~1% in the high one),
// and the limit a decode is held to is the best the memory can do.
//   clang -O2 -march=native tools/bench/membw.c -lpthread -o /tmp/membw && /tmp/membw [threads]
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES ((size_t)1 << 30)
static char *buffer;
static int threads;
static pthread_barrier_t barrier;
static double best[64];

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static void *reader(void *arg) {
    long id = (long)arg;
    size_t share = BYTES / threads;
    const char *p = buffer + id * share;
    volatile float sink;
    for (int pass = 0; pass < 6; pass++) {
        pthread_barrier_wait(&barrier);
        double t0 = now();
#if defined(__AVX512F__)
        __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps(), c = _mm512_setzero_ps(), d = _mm512_setzero_ps();
        for (size_t i = 0; i < share; i += 256) {
            a = _mm512_add_ps(a, _mm512_load_ps((const float *)(p + i)));
            b = _mm512_add_ps(b, _mm512_load_ps((const float *)(p + i + 64)));
            c = _mm512_add_ps(c, _mm512_load_ps((const float *)(p + i + 128)));
            d = _mm512_add_ps(d, _mm512_load_ps((const float *)(p + i + 192)));
        }
        sink = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
#else  // AVX2 machines: the same 256 bytes per step in 32-byte loads
        __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps(), c = _mm256_setzero_ps(), d = _mm256_setzero_ps();
        for (size_t i = 0; i < share; i += 256) {
            a = _mm256_add_ps(a, _mm256_add_ps(_mm256_load_ps((const float *)(p + i)), _mm256_load_ps((const float *)(p + i + 32))));
            b = _mm256_add_ps(b, _mm256_add_ps(_mm256_load_ps((const float *)(p + i + 64)), _mm256_load_ps((const float *)(p + i + 96))));
            c = _mm256_add_ps(c, _mm256_add_ps(_mm256_load_ps((const float *)(p + i + 128)), _mm256_load_ps((const float *)(p + i + 160))));
            d = _mm256_add_ps(d, _mm256_add_ps(_mm256_load_ps((const float *)(p + i + 192)), _mm256_load_ps((const float *)(p + i + 224))));
        }
        __m256 s = _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
        float lanes[8];
        _mm256_storeu_ps(lanes, s);
        sink = lanes[0] + lanes[7];
#endif
        pthread_barrier_wait(&barrier);
        double t = now() - t0;
        if (pass > 0 && (best[id] == 0 || t < best[id])) best[id] = t;
    }
    (void)sink;
    return NULL;
}

int main(int argc, char **argv) {
    threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1 || threads > 64) return 1;
    buffer = aligned_alloc((size_t)2 << 20, BYTES);
    if (!buffer) return 1;
    madvise(buffer, BYTES, MADV_HUGEPAGE);  // advice: where refused, 4 KB pages
    memset(buffer, 1, BYTES);
    pthread_barrier_init(&barrier, NULL, threads);
    pthread_t t[64];
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, reader, (void *)i);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double slowest = 0;
    for (int i = 0; i < threads; i++) if (best[i] > slowest) slowest = best[i];
    printf("{\"threads\": %d, \"read_gb_per_second\": %.2f}\n", threads, BYTES / slowest / 1e9);
    return 0;
}
