// y[n × rows] = x[n × cols] · Wᵀ over the worker pool, for every weight type the runtime keeps
// in its file's encoding. Rows are split into contiguous chunks (multiples of 4, the kernels'
// row block; 8 for Q4_0's row tiles), so each thread streams its own part of the matrix.
#include "SplitKernels.h"
#include <stdlib.h>

typedef struct {
    int type;
    const split_matmul_part *parts;
    size_t count;           // matrices in `parts`
    size_t units;           // row blocks (of row_unit rows) in all of them
    size_t cols;
    const void *x;          // floats, or the quantized activation of a quantized type
    size_t n;
} matmul_job;

static void gemm_rows(const matmul_job *job, const split_matmul_part *part, size_t begin, size_t end) {
    switch (job->type) {
    case SPLIT_WEIGHT_F32:
        split_gemm_f32(part->w, job->x, job->n, part->y, part->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_F16:
        // Decode has its own kernel (bit-identical, prefetching for a single stream).
        if (job->n == 1) split_gemv_f16(part->w, job->x, part->y, begin, end, job->cols);
        else split_gemm_f16(part->w, job->x, job->n, part->y, part->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_BF16:
        split_gemm_bf16(part->w, job->x, job->n, part->y, part->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_Q8_0:
        split_gemm_q8_0(part->w, job->x, job->n, part->y, part->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_Q4_0: case SPLIT_WEIGHT_Q4_1: case SPLIT_WEIGHT_Q5_0: case SPLIT_WEIGHT_Q5_1:
    case SPLIT_WEIGHT_IQ4_NL:
        split_gemm_legacy(job->type, part->w, job->x, job->n, part->y, part->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_Q4_0_X8:
        split_gemm_q4_0x8(part->w, job->x, job->n, part->y, part->rows, begin, end, job->cols);
        break;
    case SPLIT_WEIGHT_IQ4_XS:
        split_gemm_iq4_xs(part->w, job->x, job->n, part->y, part->rows, begin, end, job->cols);
        break;
    default:
        split_gemm_k(job->type, part->w, job->x, job->n, part->y, part->rows, begin, end, job->cols);
        break;
    }
}

// The input each quantized type is multiplied against, as llama.cpp pairs them (vec_dot_type):
// its stride per vector, 0 for the float types.
static size_t activation_stride(int type, size_t cols) {
    switch (type) {
    case SPLIT_WEIGHT_F32: case SPLIT_WEIGHT_F16: case SPLIT_WEIGHT_BF16: return 0;
    case SPLIT_WEIGHT_Q8_0: case SPLIT_WEIGHT_Q5_0: case SPLIT_WEIGHT_IQ4_NL:
        return split_q8_activation_stride(cols);
    case SPLIT_WEIGHT_Q4_0: case SPLIT_WEIGHT_Q4_0_X8: return split_q8s_activation_stride(cols);
    case SPLIT_WEIGHT_Q4_1: case SPLIT_WEIGHT_Q5_1: return split_q8_1_activation_stride(cols);
    default: return split_q8k_activation_stride(cols);
    }
}

static void quantize_activation(int type, const float *x, size_t n, size_t cols, void *xq) {
    switch (type) {
    case SPLIT_WEIGHT_Q4_1: case SPLIT_WEIGHT_Q5_1: split_quantize_q8_1_activation(x, n, cols, xq); break;
    case SPLIT_WEIGHT_Q8_0: case SPLIT_WEIGHT_Q5_0: case SPLIT_WEIGHT_IQ4_NL:
        split_quantize_q8_activation(x, n, cols, xq);
        break;
    case SPLIT_WEIGHT_Q4_0: case SPLIT_WEIGHT_Q4_0_X8: split_quantize_q8s_activation(x, n, cols, xq); break;
    default: split_quantize_q8k_activation(x, n, cols, xq); break;
    }
}

void split_dequantize_blocks(int type, const void *source, float *destination, size_t count) {
    switch (type) {
    case SPLIT_WEIGHT_Q8_0: split_dequantize_q8_0(source, destination, count); break;
    case SPLIT_WEIGHT_Q4_0: case SPLIT_WEIGHT_Q4_1: case SPLIT_WEIGHT_Q5_0: case SPLIT_WEIGHT_Q5_1:
    case SPLIT_WEIGHT_IQ4_NL:
        split_dequantize_legacy(type, source, destination, count);
        break;
    case SPLIT_WEIGHT_Q2_K: case SPLIT_WEIGHT_Q3_K: case SPLIT_WEIGHT_Q4_K: case SPLIT_WEIGHT_Q5_K: case SPLIT_WEIGHT_Q6_K:
        split_dequantize_k(type, source, destination, count);
        break;
    case SPLIT_WEIGHT_IQ4_XS: split_dequantize_iq4_xs(source, destination, count); break;
    default: break;
    }
}

// Rows per unit of work: Q4_0 (both layouts) is computed in tiles of 8 rows; a chunk boundary
// inside one would make two part-used tiles, each costing a whole one.
static size_t row_unit(int type) { return type == SPLIT_WEIGHT_Q4_0 || type == SPLIT_WEIGHT_Q4_0_X8 ? 8 : 4; }

// A chunk is a contiguous range of row blocks in the matrices laid end to end; where it spans
// two matrices, each gets its own kernel call over its part of the range.
static void matmul_chunk(void *context, size_t chunk, size_t chunks) {
    const matmul_job *job = context;
    size_t begin = job->units * chunk / chunks, end = job->units * (chunk + 1) / chunks, first = 0, unit = row_unit(job->type);
    for (size_t i = 0; i < job->count && first < end; i++) {
        const split_matmul_part *part = &job->parts[i];
        size_t units = (part->rows + unit - 1) / unit, last = first + units;
        if (begin < last) {
            size_t from = (begin > first ? begin - first : 0) * unit, to = ((end < last ? end : last) - first) * unit;
            gemm_rows(job, part, from, to < part->rows ? to : part->rows);
        }
        first = last;
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

int split_matmul_parts(int type, const split_matmul_part *parts, size_t count, size_t cols, const float *x, size_t n,
                       size_t threads) {
    size_t rows = 0, units = 0;
    for (size_t i = 0; i < count; i++) {
        rows += parts[i].rows;
        units += (parts[i].rows + row_unit(type) - 1) / row_unit(type);
    }
    if (n == 0 || rows == 0) return 1;
    matmul_job job = {type, parts, count, units, cols, x, n};
    size_t stride = activation_stride(type, cols);
    if (stride) {
        void *xq = thread_scratch(n * stride);
        if (!xq) return 0;
        quantize_activation(type, x, n, cols, xq);
        job.x = xq;
    }
    // Chunks are claimed dynamically: on a shared machine a worker may be descheduled, and the
    // caller then runs the chunks it has not claimed instead of waiting. Four per thread where
    // the multiply is compute-bound (n ≥ 2); two for a decode step (n = 1), where each chunk's
    // start is a cold memory stream: with 2 MB pages at ~80 GB/s, 2 per thread decoded 1.5-3.2%
    // faster than 4 (1 per thread 2.3-4.8%, but a descheduled worker then holds half a matrix);
    // at ~44 GB/s no difference. Tokens of the variants alternated in one process (BENCHMARKS.md,
    // issue 10, session 6). A chunk is worth a hand-off
    // once it reads ~32 K weights (a few µs of memory traffic at n = 1, where the pool's spinning
    // workers pick it up within a microsecond).
    size_t work = rows * cols * n, chunks = threads > 1 ? threads * (n == 1 ? 2 : 4) : 1;
    size_t most = work / 32768;
    if (chunks > most) chunks = most ? most : 1;
    if (chunks > units) chunks = units;
    split_pool_run(matmul_chunk, &job, chunks);
    return 1;
}

int split_matmul(int type, const void *w, size_t rows, size_t cols, const float *x, size_t n, float *y,
                 size_t threads) {
    split_matmul_part part = {w, rows, y};
    return split_matmul_parts(type, &part, 1, cols, x, n, threads);
}
