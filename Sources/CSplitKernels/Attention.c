// Causal grouped-query attention of new rows against a layer's cached keys and values, one head
// per chunk of the worker pool. Each head has its own scores area and writes its own columns of
// the output, so heads run in parallel without sharing anything. OpenBLAS does the two small
// GEMMs per head single-threaded (the pool is the parallelism; see split_attention's caller).
#include "SplitKernels.h"

// From cblas.h (OpenBLAS, linked by the Split target); declared here so this target needs no
// BLAS headers. Enumerations: CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);

typedef struct {
    const float *query, *keys, *values;
    size_t rows, start, head_dim, group, query_width, kv_width;
    float scale;
    float *scores, *output;
} attention_job;

static void attention_head(void *context, size_t head, size_t heads) {
    (void)heads;
    const attention_job *job = context;
    size_t total = job->start + job->rows, hd = job->head_dim, kv_head = head / job->group;
    float *scores = job->scores + head * job->rows * total;
    // scores[rows × total] = scale · Q_h · K_gᵀ
    cblas_sgemm(101, 111, 112, (int)job->rows, (int)total, (int)hd, job->scale, job->query + head * hd,
                (int)job->query_width, job->keys + kv_head * hd, (int)job->kv_width, 0, scores, (int)total);
    for (size_t row = 0; row < job->rows; row++) {
        size_t visible = job->start + row + 1;
        float *s = scores + row * total;
        split_softmax(s, visible);
        for (size_t j = visible; j < total; j++) s[j] = 0;
    }
    // out_h[rows × hd] = P · V_g
    cblas_sgemm(101, 111, 111, (int)job->rows, (int)hd, (int)total, 1, scores, (int)total,
                job->values + kv_head * hd, (int)job->kv_width, 0, job->output + head * hd, (int)job->query_width);
}

void split_attention(const float *query, size_t rows, size_t start, const float *keys, const float *values,
                     size_t head_count, size_t kv_head_count, size_t head_dim, size_t query_width, size_t kv_width,
                     float scale, float *scores, float *output, size_t threads) {
    attention_job job = {query, keys, values, rows, start, head_dim, head_count / kv_head_count,
                         query_width, kv_width, scale, scores, output};
    if (threads <= 1) {
        for (size_t head = 0; head < head_count; head++) attention_head(&job, head, head_count);
    } else {
        split_pool_run(attention_head, &job, head_count);
    }
}
