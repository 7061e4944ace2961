// A fixed pool of worker threads, started once, that runs the chunks of one parallel loop at a
// time. Decode runs ~210 matrix multiplies per token (30 layers × 7), each a few tens of µs, so
// a hand-off must cost far less than that: workers spin on a generation counter for a short while
// after each job (the next multiply usually follows within microseconds), then sleep on a
// condition variable so an idle process burns no CPU. The submitting thread runs chunks too.
//
// One job at a time: a thread that finds the pool busy (another caller mid-job, e.g. tests or a
// cloud and an edge in one process) runs its chunks itself. Nothing here allocates per job.
#include "SplitKernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define SPIN_PAUSE() _mm_pause()
#else
#define SPIN_PAUSE() ((void)0)
#endif

#define MAX_WORKERS 63
// How long an idle worker keeps spinning before it sleeps (nanoseconds).
#define SPIN_NANOSECONDS 200000

// The job ticket packs the job's generation, its chunk count and the next unclaimed chunk into
// one atomic word, so a worker can only ever claim a chunk of the job it read the count of.
#define TICKET(gen, chunks, next) (((uint64_t)(gen) << 40) | ((uint64_t)(chunks) << 20) | (uint64_t)(next))
#define TICKET_GEN(t) ((t) >> 40)
#define TICKET_CHUNKS(t) (((t) >> 20) & 0xfffff)
#define TICKET_NEXT(t) ((t) & 0xfffff)
#define MAX_CHUNKS 0xfffff

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic uint64_t ticket;     // generation | chunks | next chunk
    atomic_int sleepers;         // workers blocked on `wake`
    atomic_int busy;             // 1 while a job is running
    atomic_size_t done_chunks;   // chunks of the current job finished
    split_task_fn fn;
    void *context;
    int workers;
} pool_t;

static pool_t pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static inline uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// Claims and runs chunks of job `gen` until none is left.
static void run_chunks(uint64_t gen) {
    uint64_t t = atomic_load_explicit(&pool.ticket, memory_order_acquire);
    for (;;) {
        if (TICKET_GEN(t) != gen || TICKET_NEXT(t) >= TICKET_CHUNKS(t)) return;
        if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        pool.fn(pool.context, TICKET_NEXT(t), TICKET_CHUNKS(t));
        atomic_fetch_add_explicit(&pool.done_chunks, 1, memory_order_acq_rel);
        t = atomic_load_explicit(&pool.ticket, memory_order_acquire);
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    uint64_t seen = TICKET_GEN(atomic_load(&pool.ticket));
    for (;;) {
        uint64_t deadline = now_ns() + SPIN_NANOSECONDS;
        unsigned spins = 0;
        while (TICKET_GEN(atomic_load_explicit(&pool.ticket, memory_order_acquire)) == seen) {
            SPIN_PAUSE();
            // Every few µs, let any thread that wants this core run (on a shared machine, the
            // caller preparing the next job may be waiting for it).
            if ((++spins & 255) == 0) sched_yield();
            if ((spins & 255) == 0 && now_ns() > deadline) {
                pthread_mutex_lock(&pool.lock);
                atomic_fetch_add(&pool.sleepers, 1);
                while (TICKET_GEN(atomic_load(&pool.ticket)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
                atomic_fetch_sub(&pool.sleepers, 1);
                pthread_mutex_unlock(&pool.lock);
            }
        }
        seen = TICKET_GEN(atomic_load_explicit(&pool.ticket, memory_order_acquire));
        run_chunks(seen);
    }
    return NULL;
}

static void start_pool(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = cores > 1 ? (int)cores - 1 : 0;
    if (workers > MAX_WORKERS) workers = MAX_WORKERS;
    int started = 0;
    for (int i = 0; i < workers; i++) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&thread, &attributes, worker_main, NULL) == 0) started++;
        pthread_attr_destroy(&attributes);
    }
    pool.workers = started;
}

int split_pool_workers(void) {
    pthread_once(&pool_once, start_pool);
    return pool.workers;
}

void split_pool_run(split_task_fn fn, void *context, size_t chunks) {
    if (chunks == 0) return;
    int expected = 0;
    if (chunks == 1 || chunks > MAX_CHUNKS || split_pool_workers() == 0 ||
        !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        for (size_t chunk = 0; chunk < chunks; chunk++) fn(context, chunk, chunks);
        return;
    }
    pool.fn = fn;
    pool.context = context;
    atomic_store(&pool.done_chunks, 0);
    uint64_t gen = (TICKET_GEN(atomic_load(&pool.ticket)) + 1) & 0xffffff;
    atomic_store(&pool.ticket, TICKET(gen, chunks, 0));  // seq_cst: pairs with the sleepers check below
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    run_chunks(gen);
    // The chunks left are running on workers; if one of them was descheduled mid-chunk, spinning
    // here would keep it off this core, so yield now and then.
    for (unsigned spins = 1; atomic_load_explicit(&pool.done_chunks, memory_order_acquire) < chunks; spins++) {
        SPIN_PAUSE();
        if ((spins & 255) == 0) sched_yield();
    }
    atomic_store(&pool.busy, 0);
}
