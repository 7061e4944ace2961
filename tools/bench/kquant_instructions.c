// How many AArch64 instructions each k-quant kernel executes per super-block (256 weights), for the
// scalar path's portable C and the NEON paths: no ARM machine here, so a count, never a timing
// (docs/benchmarks/issue-22-neon.md). Built three ways (QuantK.c as each path compiles it) and run
// under qemu-aarch64 with one instruction per translation block, counting the executed ones:
//   tools/bench/kquant_instructions.sh
// argv[1] names the function (dot1_q4_k: the decode dot, one vector; decode_q4_k: the batch's
// decoder; kdot: the batch's dot of a decoded block with one vector), argv[2] how many calls (the
// script's two counts have arguments of one length, so the process around the calls is the same).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if PROBE_NEON
#include <arm_neon.h>
#define SPLIT_NEON 1
#if PROBE_DOTPROD
#define SPLIT_NEON_DOTPROD 1
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#endif
#endif
#define SPLIT_PATH_SUFFIX probe
#include "KernelNames.h"
#include "Kernels/QuantK.c"

#define PROBE(T, U)                                                                                   \
    float probe_dot1_##T(const uint8_t *b, const uint8_t *x, float s) {                               \
        kblock k;                                                                                    \
        return DOT1_##U(b, x, s, &k);                                                                \
    }                                                                                                \
    void probe_decode_##T(const uint8_t *b, kblock *k) {                                             \
        DECODE_##U(b, k);                                                                            \
        spread_scales(k);                                                                            \
    }
PROBE(q2_k, Q2_K)
PROBE(q3_k, Q3_K)
PROBE(q4_k, Q4_K)
PROBE(q5_k, Q5_K)
PROBE(q6_k, Q6_K)
float probe_kdot(const kblock *k, const uint8_t *x, float s) { return kdot(k, x, s); }
#if PROBE_DOTPROD
#pragma clang attribute pop
#endif

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s dot1_q4_k|decode_q4_k|kdot|… calls\n", argv[0]);
        return 2;
    }
    static _Alignas(64) uint8_t b[256], x[Q8K_BYTES];
    static kblock k;
    for (int i = 0; i < 256; i++) b[i] = (uint8_t)(i * 37 + 11);
    for (int i = 0; i < Q8K_BYTES; i++) x[i] = (uint8_t)((i * 53 + 7) % 200);
    const uint16_t one = 0x3c00;  // every type's f16 scales 1.0, wherever they sit
    for (int at = 0; at < 4; at += 2) memcpy(b + at, &one, 2);
    memcpy(b + 80, &one, 2), memcpy(b + 82, &one, 2), memcpy(b + 108, &one, 2), memcpy(b + 208, &one, 2);
    const float dx = 0.01f;
    memcpy(x + Q8K_D, &dx, 4);
    float (*dot)(const uint8_t *, const uint8_t *, float) = NULL;
    void (*decode)(const uint8_t *, kblock *) = NULL;
#define PICK(T)                                                                                       \
    if (strcmp(argv[1], "dot1_" #T) == 0) dot = probe_dot1_##T;                                      \
    if (strcmp(argv[1], "decode_" #T) == 0) decode = probe_decode_##T;
    PICK(q2_k) PICK(q3_k) PICK(q4_k) PICK(q5_k) PICK(q6_k)
    if (dot == NULL && decode == NULL && strcmp(argv[1], "kdot") != 0) {
        fprintf(stderr, "no function %s\n", argv[1]);
        return 2;
    }
    probe_decode_q4_k(b, &k);
    float s = 0;
    for (int c = atoi(argv[2]); c > 0; c--) {  // chosen once: the calls are all that differs between counts
        if (dot) s = dot(b, x, s);
        else if (decode) decode(b, &k);
        else s = probe_kdot(&k, x, s);
        __asm__ volatile("" ::: "memory");
    }
    volatile float kept = s;  // (no printf: its cost varies with the number printed)
    (void)kept;
    return 0;
}
