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
#endif

#ifndef SPLIT_KERNELS_ELEMENTWISE_H
#define SPLIT_KERNELS_ELEMENTWISE_H
/// In-place softmax over `count` values; returns the maximum input.
float split_softmax(float *x, size_t count);
/// gate[i] = silu(gate[i]) * up[i] (the SwiGLU of Llama-family MLPs).
void split_silu_gate(float *gate, const float *up, size_t count);
/// x[i] = gelu(x[i]) with the tanh approximation (GPT-2's gelu_new).
void split_gelu_tanh(float *x, size_t count);
/// x = x / sqrt(mean(x^2) + eps) * weight over one row of `width`.
void split_rms_norm(float *x, const float *weight, size_t width, float eps);
#endif
