// y[n × rows] = x[n × cols] · Wᵀ over the worker pool, for every weight type the runtime keeps
// in its file's encoding. Rows are split into contiguous chunks (multiples of 4, the kernels'
// row block), so each thread streams its own part of the matrix.
#include "SplitKernels.h"
#include <stdlib.h>

typedef struct {
    int type;
    const void *w;
    size_t rows, cols;
    const void *x;  // floats, or the quantized activation for Q8_0
    size_t n;
    float *y;
} matmul_job;

static void matmul_chunk(void *context, size_t chunk, size_t chunks) {
    const matmul_job *job = context;
    size_t units = (job->rows + 3) / 4;
    size_t begin = units * chunk / chunks * 4, end = units * (chunk + 1) / chunks * 4;
    if (end > job->rows) end = job->rows;
    if (begin >= end) return;
    switch (job->type) {
    case SPLIT_WEIGHT_F32:
        split_gemm_f32(job->w, job->x, job->n, job->y, job->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_F16:
        split_gemm_f16(job->w, job->x, job->n, job->y, job->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_BF16:
        split_gemm_bf16(job->w, job->x, job->n, job->y, job->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_Q8_0:
        split_gemm_q8_0(job->w, job->x, job->n, job->y, job->rows, begin, end, job->cols);
        break;
    }
}

// The quantized activation of the calling thread, grown when a larger one is needed and then
// reused: the decode loop does not allocate once it has seen its largest input.
static _Thread_local void *scratch;
static _Thread_local size_t scratch_bytes;

static void *thread_scratch(size_t bytes) {
    if (bytes > scratch_bytes) {
        free(scratch);
        scratch = aligned_alloc(64, (bytes + 63) / 64 * 64);
        scratch_bytes = scratch ? bytes : 0;
    }
    return scratch;
}

int split_matmul(int type, const void *w, size_t rows, size_t cols, const float *x, size_t n, float *y,
                 size_t threads) {
    if (n == 0 || rows == 0) return 1;
    matmul_job job = {type, w, rows, cols, x, n, y};
    if (type == SPLIT_WEIGHT_Q8_0) {
        void *xq = thread_scratch(n * split_q8_activation_stride(cols));
        if (!xq) return 0;
        split_quantize_q8_activation(x, n, cols, xq);
        job.x = xq;
    }
    // A chunk is worth a thread once it holds ~64 K multiply-adds (a few µs).
    size_t work = rows * cols * n, chunks = threads ? threads : 1;
    size_t most = work / 65536;
    if (chunks > most) chunks = most ? most : 1;
    if (chunks > (rows + 3) / 4) chunks = (rows + 3) / 4;
    split_pool_run(matmul_chunk, &job, chunks);
    return 1;
}
