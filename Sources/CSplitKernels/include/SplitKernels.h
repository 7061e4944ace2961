#ifndef SPLIT_KERNELS_H
#define SPLIT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Converts `count` IEEE half-precision values to single precision.
void split_f16_to_f32(const uint16_t *src, float *dst, size_t count);
/// Converts `count` single-precision values to IEEE half precision (round to nearest even).
void split_f32_to_f16(const float *src, uint16_t *dst, size_t count);
/// Converts `count` bfloat16 values to single precision.
void split_bf16_to_f32(const uint16_t *src, float *dst, size_t count);

/// Fixes glibc's mmap threshold at `bytes` (no dynamic raising), so every larger allocation is
/// its own mapping, returned to the system when freed. Returns 1 on success, 0 otherwise.
int split_set_mmap_threshold(int bytes);

/// Adds up the `Rss:` lines of /proc/self/smaps by mapping: `bytes[0]` for mappings of the file
/// `model_path`, `bytes[1]` for every other file, `bytes[2]` for anonymous memory; `bytes[3]` is
/// the part of `bytes[0]` mapped in 2 MB pages (`FilePmdMapped:`). Reads through a fixed buffer,
/// so taking the measurement does not itself raise the peak resident set.
/// Returns 1 on success, 0 where the file cannot be read.
int split_resident_breakdown(const char *model_path, uint64_t bytes[4]);

#endif

#ifndef SPLIT_KERNELS_GEMV_H
#define SPLIT_KERNELS_GEMV_H
/// y[r] = dot(w[r, :], x) for r in [row_begin, row_end), with w stored as IEEE half precision,
/// row-major with `cols` columns. Accumulates in single precision.
void split_gemv_f16(const uint16_t *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols);
/// Same as split_gemv_f16 for single-precision weights.
void split_gemv_f32(const float *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols);
/// y[j * ldy + r] = dot(w[r, :], x[j * cols, ...]) for the `n` vectors of x and r in
/// [row_begin, row_end): a batch of GEMVs sharing each load of w. Every output is bit-identical
/// to split_gemv_f16 of its own vector, whatever n is.
void split_gemm_f16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols);
/// Same as split_gemm_f16 for single-precision weights.
void split_gemm_f32(const float *w, const float *x, size_t n, float *y, size_t ldy,
                    size_t row_begin, size_t row_end, size_t cols);
/// Same as split_gemm_f16 for bfloat16 weights.
void split_gemm_bf16(const uint16_t *w, const float *x, size_t n, float *y, size_t ldy,
                     size_t row_begin, size_t row_end, size_t cols);
#endif

#ifndef SPLIT_KERNELS_Q8_H
#define SPLIT_KERNELS_Q8_H
/// Bytes one vector of `cols` values takes once quantized for split_gemm_q8_0 (cols a multiple of 32).
size_t split_q8_activation_stride(size_t cols);
/// Quantizes `n` vectors of `cols` floats into 8-bit blocks of 32 (as llama.cpp's Q8_0), laid out
/// for split_gemm_q8_0; `destination` holds n × split_q8_activation_stride(cols) bytes.
void split_quantize_q8_activation(const float *x, size_t n, size_t cols, void *destination);
/// y[j * ldy + r] = dot(w[r, :], x_j) for GGML Q8_0 rows `w` (34-byte blocks, `cols` a multiple
/// of 32) and quantized vectors `xq`; bit-identical per (r, j) whatever n and the row range.
void split_gemm_q8_0(const void *w, const void *xq, size_t n, float *y, size_t ldy,
                     size_t row_begin, size_t row_end, size_t cols);
/// Expands `count` values (whole blocks) of GGML Q8_0 into f32.
void split_dequantize_q8_0(const void *source, float *destination, size_t count);

/// Bytes one vector of `cols` values takes quantized as llama.cpp's Q8_1 (Q8_0's layout, then
/// a float s = d · Σ q per block), the input of Q4_1 and Q5_1 weights.
size_t split_q8_1_activation_stride(size_t cols);
/// Quantizes `n` vectors of `cols` floats (a multiple of 32) as Q8_1.
void split_quantize_q8_1_activation(const float *x, size_t n, size_t cols, void *destination);
/// y[j * ldy + r] = dot(w[r, :], x_j) for Q5_0, IQ4_NL (x quantized as Q8_0), Q4_1, Q5_1 (x as
/// Q8_1) or Q4_0 (x as Q8_0 with block sums, split_quantize_q8s_activation) rows; bit-identical per
/// (r, j) whatever n and the row range. (On AVX2 machines without AVX-512 it computes Q8_0 rows
/// too, for split_gemm_q8_0.)
void split_gemm_legacy(int type, const void *w, const void *xq, size_t n, float *y, size_t ldy,
                       size_t row_begin, size_t row_end, size_t cols);
/// Expands `count` values (whole blocks) of Q4_0, Q4_1, Q5_0, Q5_1 or IQ4_NL into f32.
void split_dequantize_legacy(int type, const void *source, float *destination, size_t count);
/// Bytes one vector of `cols` values takes quantized as Q8_0 followed by each block's Σ q as an
/// int32, the input of Q4_0 weights (in the file's layout and repacked).
size_t split_q8s_activation_stride(size_t cols);
/// Quantizes `n` vectors of `cols` floats (a multiple of 32) as Q8_0 with block sums.
void split_quantize_q8s_activation(const float *x, size_t n, size_t cols, void *destination);
/// Repacks `rows` (a multiple of 8) × `cols` Q4_0 weights into groups of 8 rows interleaved block by
/// block (SPLIT_WEIGHT_Q4_0_X8; the same number of bytes).
void split_repack_q4_0x8(const void *source, void *destination, size_t rows, size_t cols);
/// Rows first_row … first_row + count − 1 of Q4_0x8 weights `cols` wide, copied back into the
/// file's Q4_0 layout at `destination` (count × cols / 32 blocks of 18 bytes).
void split_unpack_q4_0x8_rows(const void *w, void *destination, size_t first_row, size_t count, size_t cols);
/// Row `row` of Q4_0x8 weights `cols` wide, expanded into f32 as Q4_0's dequantization does.
void split_dequantize_q4_0x8_row(const void *w, size_t row, size_t cols, float *destination);
/// y[j * ldy + r] = dot(w[r, :], x_j) for Q4_0x8 weights (any row range; whole 8-row groups are
/// fastest) and x quantized by split_quantize_q8s_activation; the same bits as Q4_0 in the file's layout.
void split_gemm_q4_0x8(const void *w, const void *xq, size_t n, float *y, size_t ldy,
                       size_t row_begin, size_t row_end, size_t cols);

/// Bytes one vector of `cols` values (a multiple of 256) takes quantized as Q8_K.
size_t split_q8k_activation_stride(size_t cols);
/// Quantizes `n` vectors of `cols` floats as llama.cpp's Q8_K (per 256 values a scale, 256
/// int8 and the sums of each 16), the input of the k-quant weights.
void split_quantize_q8k_activation(const float *x, size_t n, size_t cols, void *destination);
/// y[j * ldy + r] = dot(w[r, :], x_j) for Q2_K … Q6_K rows and Q8_K vectors; bit-identical per
/// (r, j) whatever n and the row range, and the same bits in the AVX-512, AVX2 and scalar builds.
void split_gemm_k(int type, const void *w, const void *xq, size_t n, float *y, size_t ldy,
                  size_t row_begin, size_t row_end, size_t cols);
/// Expands `count` values (whole super-blocks) of Q2_K … Q6_K into f32.
void split_dequantize_k(int type, const void *source, float *destination, size_t count);
/// y[j * ldy + r] = dot(w[r, :], x_j) for IQ4_XS rows and Q8_K vectors; bit-identical per (r, j)
/// whatever n and the row range, and the same bits in every path.
void split_gemm_iq4_xs(const void *w, const void *xq, size_t n, float *y, size_t ldy,
                       size_t row_begin, size_t row_end, size_t cols);
/// Expands `count` values (whole super-blocks) of IQ4_XS into f32.
void split_dequantize_iq4_xs(const void *source, float *destination, size_t count);
#endif

#ifndef SPLIT_KERNELS_POOL_H
#define SPLIT_KERNELS_POOL_H
/// One chunk of a parallel loop: `chunk` of `chunks`.
typedef void (*split_task_fn)(void *context, size_t chunk, size_t chunks);
/// Runs fn(context, i, chunks) for every i in [0, chunks) on the process's fixed worker pool (one
/// thread per core, started on first use; the caller runs chunks too) and returns when all are
/// done. Runs them on the calling thread when the pool is busy with another caller's job.
void split_pool_run(split_task_fn fn, void *context, size_t chunks);
/// Number of worker threads in the pool (cores − 1), starting it if needed.
int split_pool_workers(void);

/// Weight encodings split_matmul computes on: plain, and GGML's quantized blocks.
enum {
    SPLIT_WEIGHT_F32 = 0, SPLIT_WEIGHT_F16 = 1, SPLIT_WEIGHT_BF16 = 2, SPLIT_WEIGHT_Q8_0 = 3,
    SPLIT_WEIGHT_Q4_0 = 4, SPLIT_WEIGHT_Q4_1 = 5, SPLIT_WEIGHT_Q5_0 = 6, SPLIT_WEIGHT_Q5_1 = 7,
    SPLIT_WEIGHT_Q2_K = 8, SPLIT_WEIGHT_Q3_K = 9, SPLIT_WEIGHT_Q4_K = 10, SPLIT_WEIGHT_Q5_K = 11, SPLIT_WEIGHT_Q6_K = 12,
    SPLIT_WEIGHT_IQ4_NL = 13, SPLIT_WEIGHT_IQ4_XS = 14,
    /// Q4_0 repacked at load into groups of 8 rows (split_repack_q4_0x8); rows a multiple of 8.
    SPLIT_WEIGHT_Q4_0_X8 = 15
};
/// Expands `count` values (whole blocks) of GGML blocks of `type` (Q8_0, a legacy or a k-quant
/// type) into f32, with ggml's dequantize_row arithmetic.
void split_dequantize_blocks(int type, const void *source, float *destination, size_t count);
/// y[n × rows] = x[n × cols] · Wᵀ for `rows` × `cols` weights of `type`, split over up to `threads`
/// threads of the pool. Every output row is bit-identical to the n = 1 call on its vector.
/// Returns 0 only when the quantized activation scratch cannot be allocated.
int split_matmul(int type, const void *w, size_t rows, size_t cols, const float *x, size_t n, float *y,
                 size_t threads);
/// One matrix of a split_matmul_parts call: `rows` × cols weights and its output y[n × rows].
typedef struct {
    const void *w;
    size_t rows;
    float *y;
} split_matmul_part;
/// split_matmul for `count` matrices of one type and width that read the same x (a layer's
/// query, key and value; its gate and up): one pool job over the rows of all of them, so a
/// decode step pays one hand-off instead of one per matrix. Each output is bit-identical to
/// split_matmul of its matrix alone.
int split_matmul_parts(int type, const split_matmul_part *parts, size_t count, size_t cols, const float *x, size_t n,
                       size_t threads);

/// Causal grouped-query attention: output[rows × query_width] for query rows at positions
/// start ..< start + rows against keys/values[(start + rows) × kv_width] (which already hold the
/// new rows), heads on the worker pool when threads > 1. `scores` is scratch for
/// head_count × (start + rows) floats. Each (head, row) is computed alone by one fixed
/// sequence, so a row's output is bit-identical whichever other rows share the call. A `window`
/// above 0 lets a row see only itself and the window - 1 positions before it (sliding-window
/// attention); a `softcap` above 0 replaces each scaled score s by softcap · tanh(s / softcap).
void split_attention(const float *query, size_t rows, size_t start, const float *keys, const float *values,
                     size_t head_count, size_t kv_head_count, size_t head_dim, size_t query_width, size_t kv_width,
                     float scale, size_t window, float softcap, float *scores, float *output, size_t threads);
#endif

#ifndef SPLIT_KERNELS_ELEMENTWISE_H
#define SPLIT_KERNELS_ELEMENTWISE_H
/// In-place softmax over `count` values; returns the maximum input.
float split_softmax(float *x, size_t count);
/// log Σ exp(x[i]), computed stably (−∞ when every value is −∞).
float split_log_sum_exp(const float *x, size_t count);
/// Index of the largest of `count` values, the first on ties; NaNs never win; 0 when no value
/// is above −∞ (what a scalar `x[i] > best` scan from best = −∞ gives).
size_t split_argmax(const float *x, size_t count);
/// gate[i] = silu(gate[i]) * up[i] (the SwiGLU of Llama-family MLPs).
void split_silu_gate(float *gate, const float *up, size_t count);
/// x[i] = gelu(x[i]) with the tanh approximation (GPT-2's gelu_new).
void split_gelu_tanh(float *x, size_t count);
/// x = x / sqrt(mean(x^2) + eps) * weight over one row of `width`.
void split_rms_norm(float *x, const float *weight, size_t width, float eps);
#endif

#ifndef SPLIT_KERNELS_PATH_H
#define SPLIT_KERNELS_PATH_H
/// The instruction-set paths the kernels exist in. One binary holds every path its architecture
/// has (x86-64: scalar, AVX2+FMA+F16C, AVX-512; AArch64: scalar, NEON, NEON with the dot-product
/// instructions) and runs the fastest one the CPU has, chosen once when the process starts;
/// `SPLIT_KERNELS=<name>` picks another (refused, exit status 2, when the CPU lacks it).
enum {
    SPLIT_PATH_SCALAR = 0, SPLIT_PATH_AVX2 = 1, SPLIT_PATH_AVX512 = 2, SPLIT_PATH_NEON = 3,
    SPLIT_PATH_NEON_DOTPROD = 4, SPLIT_PATH_COUNT = 5
};
/// Every kernel a path computes in its own way, as X(return type, name, parameters, arguments):
/// the public split_<name> calls the chosen path's copy. (Sources/CSplitKernels/KernelNames.h
/// renames the same list inside each path's translation unit.)
#define SPLIT_PATH_KERNELS(X)                                                                                  \
    X(void, f16_to_f32, (const uint16_t *src, float *dst, size_t count), (src, dst, count))                     \
    X(void, f32_to_f16, (const float *src, uint16_t *dst, size_t count), (src, dst, count))                     \
    X(void, bf16_to_f32, (const uint16_t *src, float *dst, size_t count), (src, dst, count))                    \
    X(void, gemv_f16, (const uint16_t *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols), \
      (w, x, y, row_begin, row_end, cols))                                                                      \
    X(void, gemv_f32, (const float *w, const float *x, float *y, size_t row_begin, size_t row_end, size_t cols), \
      (w, x, y, row_begin, row_end, cols))                                                                      \
    X(void, gemm_f16, (const uint16_t *w, const float *x, size_t n, float *y, size_t ldy, size_t row_begin,     \
                       size_t row_end, size_t cols), (w, x, n, y, ldy, row_begin, row_end, cols))               \
    X(void, gemm_f32, (const float *w, const float *x, size_t n, float *y, size_t ldy, size_t row_begin,        \
                       size_t row_end, size_t cols), (w, x, n, y, ldy, row_begin, row_end, cols))               \
    X(void, gemm_bf16, (const uint16_t *w, const float *x, size_t n, float *y, size_t ldy, size_t row_begin,    \
                        size_t row_end, size_t cols), (w, x, n, y, ldy, row_begin, row_end, cols))              \
    X(size_t, q8_activation_stride, (size_t cols), (cols))                                                      \
    X(void, quantize_q8_activation, (const float *x, size_t n, size_t cols, void *destination),                 \
      (x, n, cols, destination))                                                                                \
    X(void, gemm_q8_0, (const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,        \
                        size_t row_end, size_t cols), (w, xq, n, y, ldy, row_begin, row_end, cols))             \
    X(void, dequantize_q8_0, (const void *source, float *destination, size_t count), (source, destination, count)) \
    X(size_t, q8_1_activation_stride, (size_t cols), (cols))                                                    \
    X(void, quantize_q8_1_activation, (const float *x, size_t n, size_t cols, void *destination),               \
      (x, n, cols, destination))                                                                                \
    X(void, gemm_legacy, (int type, const void *w, const void *xq, size_t n, float *y, size_t ldy,              \
                          size_t row_begin, size_t row_end, size_t cols),                                       \
      (type, w, xq, n, y, ldy, row_begin, row_end, cols))                                                       \
    X(void, dequantize_legacy, (int type, const void *source, float *destination, size_t count),                \
      (type, source, destination, count))                                                                       \
    X(size_t, q8s_activation_stride, (size_t cols), (cols))                                                     \
    X(void, quantize_q8s_activation, (const float *x, size_t n, size_t cols, void *destination),                \
      (x, n, cols, destination))                                                                                \
    X(void, repack_q4_0x8, (const void *source, void *destination, size_t rows, size_t cols),                   \
      (source, destination, rows, cols))                                                                        \
    X(void, unpack_q4_0x8_rows, (const void *w, void *destination, size_t first_row, size_t count, size_t cols), \
      (w, destination, first_row, count, cols))                                                                 \
    X(void, dequantize_q4_0x8_row, (const void *w, size_t row, size_t cols, float *destination),                \
      (w, row, cols, destination))                                                                              \
    X(void, gemm_q4_0x8, (const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,      \
                          size_t row_end, size_t cols), (w, xq, n, y, ldy, row_begin, row_end, cols))           \
    X(size_t, q8k_activation_stride, (size_t cols), (cols))                                                     \
    X(void, quantize_q8k_activation, (const float *x, size_t n, size_t cols, void *destination),                \
      (x, n, cols, destination))                                                                                \
    X(void, gemm_k, (int type, const void *w, const void *xq, size_t n, float *y, size_t ldy,                   \
                     size_t row_begin, size_t row_end, size_t cols),                                            \
      (type, w, xq, n, y, ldy, row_begin, row_end, cols))                                                       \
    X(void, dequantize_k, (int type, const void *source, float *destination, size_t count),                     \
      (type, source, destination, count))                                                                       \
    X(void, gemm_iq4_xs, (const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,      \
                          size_t row_end, size_t cols), (w, xq, n, y, ldy, row_begin, row_end, cols))           \
    X(void, dequantize_iq4_xs, (const void *source, float *destination, size_t count), (source, destination, count)) \
    X(void, attention, (const float *query, size_t rows, size_t start, const float *keys, const float *values,  \
                        size_t head_count, size_t kv_head_count, size_t head_dim, size_t query_width,           \
                        size_t kv_width, float scale, size_t window, float softcap, float *scores, float *output, \
                        size_t threads),                                                                        \
      (query, rows, start, keys, values, head_count, kv_head_count, head_dim, query_width, kv_width, scale,      \
       window, softcap, scores, output, threads))                                                               \
    X(float, softmax, (float *x, size_t count), (x, count))                                                     \
    X(float, log_sum_exp, (const float *x, size_t count), (x, count))                                           \
    X(size_t, argmax, (const float *x, size_t count), (x, count))                                               \
    X(void, silu_gate, (float *gate, const float *up, size_t count), (gate, up, count))                         \
    X(void, gelu_tanh, (float *x, size_t count), (x, count))                                                    \
    X(void, rms_norm, (float *x, const float *weight, size_t width, float eps), (x, weight, width, eps))

/// One path's kernels (field `gemm_f16` is that path's split_gemm_f16).
typedef struct split_kernel_table {
#define SPLIT_PATH_FIELD(ret, name, params, args) ret (*name) params;
    SPLIT_PATH_KERNELS(SPLIT_PATH_FIELD)
#undef SPLIT_PATH_FIELD
} split_kernel_table;

/// The path this process runs (SPLIT_PATH_*), chosen at start.
int split_kernel_path(void);
/// "scalar", "avx2", "avx512", "neon" or "neon-dotprod"; NULL for a number that is none of them.
const char *split_kernel_path_name(int path);
/// The kernels of `path` when this binary holds them and this CPU runs them, else NULL: tests
/// and benchmarks compare the paths side by side without changing the process's choice.
const split_kernel_table *split_kernels_for_path(int path);
/// The path a SPLIT_KERNELS value names when this CPU runs it; otherwise -1, with why (the
/// value, and the paths this CPU has) written to `message` (`capacity` bytes, NUL-terminated).
int split_kernel_path_request(const char *value, char *message, size_t capacity);
#endif
