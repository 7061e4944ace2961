// Included by each Path*.c before the kernel files: renames every kernel the paths compute
// differently (split_gemm_f16 → split_gemm_f16_avx2 under SPLIT_PATH_SUFFIX avx2), so one binary
// holds each path's copy and KernelPath.c's public functions call the one chosen at start.
// The one list of those kernels is SPLIT_PATH_KERNELS in SplitKernels.h; this must name the same.
#ifndef SPLIT_KERNEL_NAMES_H
#define SPLIT_KERNEL_NAMES_H
#define SPLIT_PATH_PASTE2(name, suffix) name##_##suffix
#define SPLIT_PATH_PASTE(name, suffix) SPLIT_PATH_PASTE2(name, suffix)
#define SPLIT_PATH_NAME(name) SPLIT_PATH_PASTE(name, SPLIT_PATH_SUFFIX)

#define split_f16_to_f32 SPLIT_PATH_NAME(split_f16_to_f32)
#define split_f32_to_f16 SPLIT_PATH_NAME(split_f32_to_f16)
#define split_bf16_to_f32 SPLIT_PATH_NAME(split_bf16_to_f32)
#define split_gemv_f16 SPLIT_PATH_NAME(split_gemv_f16)
#define split_gemv_f32 SPLIT_PATH_NAME(split_gemv_f32)
#define split_gemm_f16 SPLIT_PATH_NAME(split_gemm_f16)
#define split_gemm_f32 SPLIT_PATH_NAME(split_gemm_f32)
#define split_gemm_bf16 SPLIT_PATH_NAME(split_gemm_bf16)
#define split_q8_activation_stride SPLIT_PATH_NAME(split_q8_activation_stride)
#define split_quantize_q8_activation SPLIT_PATH_NAME(split_quantize_q8_activation)
#define split_gemm_q8_0 SPLIT_PATH_NAME(split_gemm_q8_0)
#define split_dequantize_q8_0 SPLIT_PATH_NAME(split_dequantize_q8_0)
#define split_q8_1_activation_stride SPLIT_PATH_NAME(split_q8_1_activation_stride)
#define split_quantize_q8_1_activation SPLIT_PATH_NAME(split_quantize_q8_1_activation)
#define split_gemm_legacy SPLIT_PATH_NAME(split_gemm_legacy)
#define split_dequantize_legacy SPLIT_PATH_NAME(split_dequantize_legacy)
#define split_q8s_activation_stride SPLIT_PATH_NAME(split_q8s_activation_stride)
#define split_quantize_q8s_activation SPLIT_PATH_NAME(split_quantize_q8s_activation)
#define split_repack_q4_0x8 SPLIT_PATH_NAME(split_repack_q4_0x8)
#define split_unpack_q4_0x8_rows SPLIT_PATH_NAME(split_unpack_q4_0x8_rows)
#define split_dequantize_q4_0x8_row SPLIT_PATH_NAME(split_dequantize_q4_0x8_row)
#define split_gemm_q4_0x8 SPLIT_PATH_NAME(split_gemm_q4_0x8)
#define split_q8k_activation_stride SPLIT_PATH_NAME(split_q8k_activation_stride)
#define split_quantize_q8k_activation SPLIT_PATH_NAME(split_quantize_q8k_activation)
#define split_gemm_k SPLIT_PATH_NAME(split_gemm_k)
#define split_dequantize_k SPLIT_PATH_NAME(split_dequantize_k)
#define split_gemm_iq4_xs SPLIT_PATH_NAME(split_gemm_iq4_xs)
#define split_dequantize_iq4_xs SPLIT_PATH_NAME(split_dequantize_iq4_xs)
#define split_attention SPLIT_PATH_NAME(split_attention)
#define split_softmax SPLIT_PATH_NAME(split_softmax)
#define split_log_sum_exp SPLIT_PATH_NAME(split_log_sum_exp)
#define split_argmax SPLIT_PATH_NAME(split_argmax)
#define split_silu_gate SPLIT_PATH_NAME(split_silu_gate)
#define split_gelu_tanh SPLIT_PATH_NAME(split_gelu_tanh)
#define split_rms_norm SPLIT_PATH_NAME(split_rms_norm)
#endif
