// The core's FMA peak: 10 independent 8-lane FMA chains per thread (more than the 2 FMA pipes ×
// 4-cycle latency need), 2 × 10⁹ FMAs, on 1 then 2 threads, in GFLOP/s (an FMA = 2 FLOPs). The
// ceiling the GEMM figures in BENCHMARKS.md (issue 22, prefill) are read against. From the repository root:
//   clang -O2 -mavx2 -mfma tools/bench/fma_peak.c -lpthread -o /tmp/fma_peak && flock /work/bench.lock /tmp/fma_peak
#include <immintrin.h>
#include <stdio.h>
#include <pthread.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void *run(void *p) {
    __m256 a[10]; __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
    for (int i = 0; i < 10; i++) a[i] = _mm256_set1_ps(i);
    long it = 200000000;
    for (long k = 0; k < it; k++)
        for (int i = 0; i < 10; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    float s = 0; for (int i = 0; i < 10; i++) s += a[i][0];
    *(float *)p = s; return 0;
}
int main(int argc, char **argv) {
    for (int t = 1; t <= 2; t++) {
        pthread_t th[2]; float out[2];
        double t0 = now();
        for (int i = 0; i < t; i++) pthread_create(&th[i], 0, run, &out[i]);
        for (int i = 0; i < t; i++) pthread_join(th[i], 0);
        double dt = now() - t0;
        printf("threads %d: %.1f GFLOP/s total (%.1f per thread)\n", t, t * 200e6 * 10 * 16 / dt / 1e9, 200e6 * 10 * 16 / dt / 1e9);
    }
}
