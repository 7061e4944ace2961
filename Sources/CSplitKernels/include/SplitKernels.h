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

#endif
