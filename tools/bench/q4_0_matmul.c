// Q4_0 matrix work alone, on the worker pool: one Llama-3.2-1B-shaped layer's Q4_0 matrices
// (query 2048 × 2048, key and value 512 × 2048, output 2048 × 2048, gate and up 8192 × 2048, down
// 2048 × 8192: 30 MB) × 16 distinct copies (so decode streams from memory, 2 MB pages), as a decode
// step (n = 1) and a 128-token prefill (n = 128), in the file's layout and, where this tree has it,
// repacked into 8-row groups (SPLIT_WEIGHT_Q4_0_X8). Prints GB/s of weights (decode) and tokens/s
// of the matrix work (prefill). Built against another tree's kernels it times that tree (the A/B
// of issue 18's Q4_0 work; -DREPACKED=1 where the tree has Q4_0x8). From the repository root:
//   K=Sources/CSplitKernels; clang -O3 -march=x86-64-v2 -ffast-math -Wno-nan-infinity-disabled -DREPACKED=1 -I$K/include tools/bench/q4_0_matmul.c \
//       $K/KernelPath.c $K/Path*.c $K/Matmul.c $K/Pool.c -lpthread -lm -o /tmp/q4_0_matmul
//   flock /work/bench.lock /tmp/q4_0_matmul [threads]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "SplitKernels.h"

enum { LAYERS = 16, D = 2048, KV = 512, FF = 8192, PREFILL = 128 };
static const size_t shapes[7][2] = {{D, D}, {KV, D}, {KV, D}, {D, D}, {FF, D}, {FF, D}, {D, FF}};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static size_t q4_bytes(size_t rows, size_t cols) { return rows * cols / 32 * 18; }

int main(int argc, char **argv) {
    size_t threads = argc > 1 ? (size_t)atoi(argv[1]) : 2, layer = 0;
    for (int m = 0; m < 7; m++) layer += q4_bytes(shapes[m][0], shapes[m][1]);
    size_t total = LAYERS * layer, huge = (size_t)2 << 20, mapped = (total + huge - 1) / huge * huge;
    uint8_t *plain = aligned_alloc(huge, mapped);
    if (!plain) return 1;
    madvise(plain, mapped, MADV_HUGEPAGE);
    srand(7);
    for (size_t i = 0; i < total; i++) plain[i] = (uint8_t)rand();
    for (size_t i = 0; i < total; i += 18) { uint16_t h = (uint16_t)(0x2000 + (rand() & 0x3ff)); memcpy(plain + i, &h, 2); }
    float *x = malloc((size_t)PREFILL * FF * 4), *y = malloc((size_t)PREFILL * FF * 4);
    for (size_t i = 0; i < (size_t)PREFILL * FF; i++) x[i] = (float)(rand() & 0xffff) / 65536.f - 0.5f;
    int types[2] = {SPLIT_WEIGHT_Q4_0, -1};
    uint8_t *weights[2] = {plain, NULL};
#if REPACKED
    types[1] = SPLIT_WEIGHT_Q4_0_X8;
    weights[1] = aligned_alloc(huge, mapped);
    if (!weights[1]) return 1;
    madvise(weights[1], mapped, MADV_HUGEPAGE);
    double t0 = now();
    for (size_t at = 0, l = 0; l < LAYERS; l++)
        for (int m = 0; m < 7; m++) {
            split_repack_q4_0x8(plain + at, weights[1] + at, shapes[m][0], shapes[m][1]);
            at += q4_bytes(shapes[m][0], shapes[m][1]);
        }
    printf("repack %.0f MB: %.3f s\n", total / 1e6, now() - t0);
#endif
    split_pool_workers();
    const char *names[2] = {"q4_0 (file layout)", "q4_0x8 (repacked)"};
    for (int round = 0; round < 2; round++)
        for (int v = 0; v < 2; v++) {
            if (types[v] < 0) continue;
            double decode = 1e30, prefill = 1e30;
            for (int rep = 0; rep < 5; rep++) {
                double start = now();
                for (size_t at = 0, l = 0; l < LAYERS; l++)
                    for (int m = 0; m < 7; m++) {
                        split_matmul(types[v], weights[v] + at, shapes[m][0], shapes[m][1], x, 1, y, threads);
                        at += q4_bytes(shapes[m][0], shapes[m][1]);
                    }
                double t = now() - start;
                if (t < decode) decode = t;
            }
            for (int rep = 0; rep < 2; rep++) {
                double start = now();
                for (size_t at = 0, l = 0; l < 2; l++)  // two layers
                    for (int m = 0; m < 7; m++) {
                        split_matmul(types[v], weights[v] + at, shapes[m][0], shapes[m][1], x, PREFILL, y, threads);
                        at += q4_bytes(shapes[m][0], shapes[m][1]);
                    }
                double t = (now() - start) * LAYERS / 2;
                if (t < prefill) prefill = t;
            }
            printf("%-20s decode %.2f GB/s (%.1f ms per token)  prefill %.1f tokens/s  y[5]=%g\n", names[v],
                   total / decode / 1e9, decode * 1e3, PREFILL / prefill, y[5]);
        }
    return 0;
}
