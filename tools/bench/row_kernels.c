// The element-wise kernels and one decode step's attention at SmolLM2-135M's shapes (576 wide,
// MLP 1536, 9 heads of 64 over 3 key/value heads, 256 cached positions, vocabulary 49,152), on
// the kernel path the process chooses (SPLIT_KERNELS names one). Built against another tree it
// times that tree's kernels, for A B A B runs (issue 22: the NEON forms, Vector8.h):
//   tools/bench/row_kernels.sh            x86: this tree against main, nanoseconds per call
//   tools/bench/row_kernels.sh count      AArch64 under qemu: instructions per call, scalar vs NEON
// argv[1] names the kernel, argv[2] how many calls; it prints nanoseconds per call (meaningless
// under qemu, where row_kernels.sh count reads the instructions of 2 calls less those of 1).
#include "SplitKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { hidden = 576, mlp = 1536, heads = 9, kv_heads = 3, head_dim = 64, positions = 256, vocabulary = 49152 };

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: row_kernels rms_norm|silu_gate|gelu_tanh|softmax|log_sum_exp|argmax|attention CALLS\n");
        return 2;
    }
    const char *kernel = argv[1];
    long calls = atol(argv[2]);
    size_t kv = (size_t)positions * kv_heads * head_dim;
    float *a = malloc(vocabulary * 4), *b = malloc(vocabulary * 4), *w = malloc(vocabulary * 4);
    float *keys = malloc(kv * 4), *values = malloc(kv * 4), *query = malloc(heads * head_dim * 4);
    float *out = malloc(heads * head_dim * 4), *scores = malloc(heads * positions * 4);
    uint32_t seed = 1;
    float *all[] = {a, w, keys, values, query};
    size_t sizes[] = {vocabulary, vocabulary, kv, kv, heads * head_dim};
    for (int k = 0; k < 5; k++)
        for (size_t i = 0; i < sizes[k]; i++) all[k][i] = (float)((seed = seed * 1664525u + 1013904223u) >> 9) / (1 << 22) - 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long c = 0; c < calls; c++) {
        if (!strcmp(kernel, "rms_norm")) { memcpy(b, a, hidden * 4); split_rms_norm(b, w, hidden, 1e-5f); }
        else if (!strcmp(kernel, "silu_gate")) { memcpy(b, a, mlp * 4); split_silu_gate(b, w, mlp); }
        else if (!strcmp(kernel, "gelu_tanh")) { memcpy(b, a, mlp * 4); split_gelu_tanh(b, mlp); }
        else if (!strcmp(kernel, "softmax")) { memcpy(b, a, vocabulary * 4); split_softmax(b, vocabulary); }
        else if (!strcmp(kernel, "log_sum_exp")) b[0] = split_log_sum_exp(a, vocabulary);
        else if (!strcmp(kernel, "argmax")) b[0] = (float)split_argmax(a, vocabulary);
        else if (!strcmp(kernel, "attention"))
            split_attention(query, 1, positions - 1, keys, values, heads, kv_heads, head_dim, heads * head_dim,
                            kv_heads * head_dim, 0.125f, 0, 0, scores, out, 1);
        else { fprintf(stderr, "row_kernels: no kernel %s\n", kernel); return 2; }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (double)calls;
    printf("%-12s %-13s %10.1f ns/call (%.4g)\n", kernel, split_kernel_path_name(split_kernel_path()), ns, b[0] + out[0]);
    return 0;
}
