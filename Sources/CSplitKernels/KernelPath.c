// The run-time choice of kernel path: each Path*.c holds one path's copy of the kernels; this file
// picks the fastest one the CPU runs (or the one SPLIT_KERNELS names) once, before main, and its
// public split_* functions call through that path's table. One indirect call per kernel call (a
// GEMV over a whole matrix, a norm over a row), never per element.
#include "SplitKernels.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

extern const split_kernel_table split_kernels_scalar;
#if defined(__x86_64__)
extern const split_kernel_table split_kernels_avx2, split_kernels_avx512;
#elif defined(__aarch64__)
extern const split_kernel_table split_kernels_neon, split_kernels_neon_dotprod;
#endif

static const char *const path_names[SPLIT_PATH_COUNT] = {"scalar", "avx2", "avx512", "neon", "neon-dotprod"};

const char *split_kernel_path_name(int path) {
    return path >= 0 && path < SPLIT_PATH_COUNT ? path_names[path] : NULL;
}

// Whether the CPU (and, for vector state, the kernel: cpuid's checks include XGETBV) runs `path`.
static int cpu_runs(int path) {
    switch (path) {
    case SPLIT_PATH_SCALAR: return 1;
#if defined(__x86_64__)
    case SPLIT_PATH_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case SPLIT_PATH_AVX512:
        __builtin_cpu_init();
        return cpu_runs(SPLIT_PATH_AVX2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512vnni");
#elif defined(__aarch64__)
    case SPLIT_PATH_NEON: return 1;  // Advanced SIMD is part of every AArch64 core
    case SPLIT_PATH_NEON_DOTPROD:
#if defined(__linux__)
        return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
        return 0;
#endif
#endif
    default: return 0;
    }
}

const split_kernel_table *split_kernels_for_path(int path) {
    if (!cpu_runs(path)) return NULL;
    switch (path) {
    case SPLIT_PATH_SCALAR: return &split_kernels_scalar;
#if defined(__x86_64__)
    case SPLIT_PATH_AVX2: return &split_kernels_avx2;
    case SPLIT_PATH_AVX512: return &split_kernels_avx512;
#elif defined(__aarch64__)
    case SPLIT_PATH_NEON: return &split_kernels_neon;
    case SPLIT_PATH_NEON_DOTPROD: return &split_kernels_neon_dotprod;
#endif
    default: return NULL;
    }
}

int split_kernel_path_request(const char *value, char *message, size_t capacity) {
    int named = -1;
    for (int path = 0; path < SPLIT_PATH_COUNT; path++)
        if (strcmp(value, path_names[path]) == 0) named = path;
    if (named >= 0 && split_kernels_for_path(named) != NULL) return named;
    char available[96] = "";
    for (int path = 0; path < SPLIT_PATH_COUNT; path++)
        if (split_kernels_for_path(path) != NULL) {
            if (available[0] != 0) strncat(available, ", ", sizeof available - strlen(available) - 1);
            strncat(available, path_names[path], sizeof available - strlen(available) - 1);
        }
    if (capacity > 0)
        snprintf(message, capacity, "SPLIT_KERNELS=%s: %s; this CPU runs: %s", value,
                 named < 0 ? "no such kernel path" : "this CPU lacks its instructions", available);
    return -1;
}

static int chosen_path = SPLIT_PATH_SCALAR;
static const split_kernel_table *chosen;  // NULL until choose() has run
static pthread_once_t choice_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    const char *request = getenv("SPLIT_KERNELS");
    if (request != NULL && request[0] != 0) {
        char message[256];
        int path = split_kernel_path_request(request, message, sizeof message);
        if (path < 0) {  // a process on the wrong kernels would measure or serve something else
            fprintf(stderr, "split: %s\n", message);
            exit(2);
        }
        chosen_path = path;
    } else {
        for (int path = 0; path < SPLIT_PATH_COUNT; path++)  // later paths are the faster ones
            if (split_kernels_for_path(path) != NULL) chosen_path = path;
    }
    __atomic_store_n(&chosen, split_kernels_for_path(chosen_path), __ATOMIC_RELEASE);
}

// Before main, so a refused SPLIT_KERNELS stops the process at once; active() covers a kernel
// called from another library's constructor first.
__attribute__((constructor)) static void choose_at_start(void) { pthread_once(&choice_once, choose); }

static inline const split_kernel_table *active(void) {
    const split_kernel_table *table = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);  // one load, one branch
    if (__builtin_expect(table == NULL, 0)) {
        pthread_once(&choice_once, choose);
        table = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    }
    return table;
}

int split_kernel_path(void) {
    active();
    return chosen_path;
}

#define SPLIT_PATH_FORWARD(ret, name, params, args) \
    ret split_##name params { return active()->name args; }
SPLIT_PATH_KERNELS(SPLIT_PATH_FORWARD)
