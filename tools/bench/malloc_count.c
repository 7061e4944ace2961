// Counts allocation calls in a process, for checking that a decode loop does not allocate
// (RuntimeBenchmark reads the count through `split_malloc_count` when this is preloaded):
//   gcc -O2 -shared -fPIC tools/bench/malloc_count.c -o /tmp/malloc_count.so
//   LD_PRELOAD=/tmp/malloc_count.so .build/release/split-bench runtime --model … --json
// → "decode_allocations": calls during the last repetition's decode loop (all threads).
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_uint_fast64_t calls;

uint64_t split_malloc_count(void) { return atomic_load(&calls); }

#define COUNT() atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed)
void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { COUNT(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    COUNT();
    void *p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
