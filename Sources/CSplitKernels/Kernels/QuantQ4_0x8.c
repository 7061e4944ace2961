// Q4_0 weights, in the file's layout or repacked at load into groups of 8 rows (Q4_0x8), computed
// with the arithmetic of llama.cpp's repacked Q4_0 (ggml_gemv/gemm_q4_0_8x8_q8_0, what it runs on
// AVX2 and ARM): per output, over the blocks in order,
//   acc = fma((float) Σ (q_w − 8) q_x, d_w · d_x, acc)
// with the block's integer sum exact and d_w · d_x exact (two f16 values). Every path, both
// layouts, and any batch give the same bits: a batched row is bit-identical to the row alone.
//
// The Q4_0x8 group of rows 8g … 8g+7 is, per block of 32 columns, 144 bytes: the 8 rows' f16
// scales, then four 32-byte vectors V_0 … V_3 where the 4 bytes of lane j of V_k are row j's quant
// bytes 4k … 4k+3 (low nibbles values 4k … 4k+3, high nibbles values 16+4k … 16+4k+3, as in the
// file). One 32-byte load then holds 4 values of all 8 rows: on AVX2 a block is 4 loads, 8
// multiply-adds against broadcast inputs, and the 8 rows' sums land one per lane, with no
// horizontal sum (the file's layout needs one per row and block; decode of the Llama-3.2-1B-shaped
// Q4_0 file ran at 0.66x llama.cpp, compute-bound).
//
// The input is Q8_0 (QuantQ8.c's layout) followed by each block's Σ q_x as an int32, so the −8
// offset is one subtraction per block for all 8 rows: split_quantize_q8s_activation.
#include "QuantBlocks.h"
#include <math.h>
#pragma clang fp reassociate(off)

#define Q4X8_BLOCK_BYTES 144  // 8 f16 scales, 4 × 32 quant bytes

size_t split_q8s_activation_stride(size_t cols) {
    return split_q8_activation_stride(cols) + (cols / QL_BLOCK * 4 + 63) / 64 * 64;
}

void split_quantize_q8s_activation(const float *x, size_t n, size_t cols, void *destination) {
    size_t blocks = cols / QL_BLOCK, stride = split_q8s_activation_stride(cols), q8 = split_q8_activation_stride(cols);
    for (size_t j = 0; j < n; j++) {
        uint8_t *out = (uint8_t *)destination + j * stride;
        split_quantize_q8_activation(x + j * cols, 1, cols, out);
        int32_t *sums = (int32_t *)(out + q8);
        for (size_t b = 0; b < blocks; b++) {
            const int8_t *q = (const int8_t *)act_quants(out, b);
            int32_t sum = 0;
            for (int i = 0; i < QL_BLOCK; i++) sum += q[i];
            sums[b] = sum;
        }
    }
}

void split_repack_q4_0x8(const void *source, void *destination, size_t rows, size_t cols) {
    size_t blocks = cols / QL_BLOCK, rowBytes = blocks * Q4_0_BYTES;
    for (size_t g = 0; g < rows / 8; g++)
        for (size_t b = 0; b < blocks; b++) {
            uint8_t *out = (uint8_t *)destination + (g * blocks + b) * Q4X8_BLOCK_BYTES;
            for (int j = 0; j < 8; j++) {
                const uint8_t *block = (const uint8_t *)source + (g * 8 + j) * rowBytes + b * Q4_0_BYTES;
                memcpy(out + 2 * j, block, 2);
                for (int k = 0; k < 4; k++) memcpy(out + 16 + 32 * k + 4 * j, block + 2 + 4 * k, 4);
            }
        }
}

// Row j's block (as in the file: f16 scale, 16 quant bytes) of a Q4_0x8 block.
static inline void q4x8_row_block(const uint8_t *group_block, int j, uint8_t block[Q4_0_BYTES]) {
    memcpy(block, group_block + 2 * j, 2);
    for (int k = 0; k < 4; k++) memcpy(block + 2 + 4 * k, group_block + 16 + 32 * k + 4 * j, 4);
}

void split_unpack_q4_0x8_rows(const void *w, void *destination, size_t first_row, size_t count, size_t cols) {
    size_t blocks = cols / QL_BLOCK;
    for (size_t i = 0; i < count; i++) {
        size_t row = first_row + i;
        const uint8_t *group = (const uint8_t *)w + (row / 8) * blocks * Q4X8_BLOCK_BYTES;
        for (size_t b = 0; b < blocks; b++)
            q4x8_row_block(group + b * Q4X8_BLOCK_BYTES, (int)(row % 8), (uint8_t *)destination + (i * blocks + b) * Q4_0_BYTES);
    }
}

void split_dequantize_q4_0x8_row(const void *w, size_t row, size_t cols, float *destination) {
    size_t blocks = cols / QL_BLOCK;
    const uint8_t *group = (const uint8_t *)w + (row / 8) * blocks * Q4X8_BLOCK_BYTES;
    uint8_t block[Q4_0_BYTES];
    for (size_t b = 0; b < blocks; b++) {
        q4x8_row_block(group + b * Q4X8_BLOCK_BYTES, (int)(row % 8), block);
        split_dequantize_legacy(SPLIT_WEIGHT_Q4_0, block, destination + b * QL_BLOCK, QL_BLOCK);
    }
}

#if defined(__AVX2__)
#include <immintrin.h>

// One block of 8 rows against V vectors: `raw` the block's four 32-byte quant vectors (Q4_0x8's
// V_0 … V_3), `dw` the 8 rows' scales; acc[v] lane j += row j's block sum (the order above).
static inline __attribute__((always_inline)) void q4x8_block(const __m256i raw[4], __m256 dw, const uint8_t *x, size_t xs,
                                                             const int32_t *sums, size_t b, __m256 acc[4], const int V) {
    const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    __m256i lo[4], hi[4];
    for (int k = 0; k < 4; k++) {
        lo[k] = _mm256_and_si256(raw[k], low);
        hi[k] = _mm256_and_si256(_mm256_srli_epi16(raw[k], 4), low);
    }
    for (int v = 0; v < V; v++) {
        const uint8_t *q = act_quants(x + v * xs, b);
        // |q_w q_x + q_w' q_x'| ≤ 2 · 15 · 127, so 8 of them sum exactly in 16 bits.
        __m256i s = _mm256_maddubs_epi16(lo[0], _mm256_set1_epi32((int)quant_u32(q)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(hi[0], _mm256_set1_epi32((int)quant_u32(q + 16))));
        for (int k = 1; k < 4; k++) {
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(lo[k], _mm256_set1_epi32((int)quant_u32(q + 4 * k))));
            s = _mm256_add_epi16(s, _mm256_maddubs_epi16(hi[k], _mm256_set1_epi32((int)quant_u32(q + 16 + 4 * k))));
        }
        __m256i offset = _mm256_slli_epi32(_mm256_set1_epi32(sums[v * (xs / 4) + b]), 3);
        __m256i dot = _mm256_sub_epi32(_mm256_madd_epi16(s, ones), offset);
        __m256 scale = _mm256_mul_ps(dw, _mm256_loadu_ps(act_scales(x + v * xs, b)));
        acc[v] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, acc[v]);
    }
}

static inline uint16_t q4x8_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

// Rows first … first+count−1 (first + count ≤ 8) of a group of 8 against V vectors: `group` the
// group's Q4_0x8 blocks, or NULL to assemble each block's vectors from the file's layout at `plain`
// (first = 0 there; a missing row repeats row 0). Each lane's sum is its own row's alone, so
// storing some lanes gives those rows' bits.
static inline __attribute__((always_inline)) void q4x8_tile(const uint8_t *group, const uint8_t *plain, size_t rowBytes,
                                                            size_t first, size_t count, size_t blocks, const uint8_t *x,
                                                            size_t xs, size_t sumsAt, float *y, size_t ldy, const int V) {
    __m256 acc[4];
    for (int v = 0; v < V; v++) acc[v] = _mm256_setzero_ps();
    const int32_t *sums = (const int32_t *)(x + sumsAt);
    const uint8_t *row[8];
    for (size_t j = 0; j < 8; j++) row[j] = plain + (j < count ? j : 0) * rowBytes;
    for (size_t b = 0; b < blocks; b++) {
        __m256i raw[4];
        __m256 dw;
        if (group) {
            const uint8_t *blk = group + b * Q4X8_BLOCK_BYTES;
            _mm_prefetch((const char *)blk + 1024, _MM_HINT_T0);
            for (int k = 0; k < 4; k++) raw[k] = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * k));
            dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
        } else {
            size_t at = b * Q4_0_BYTES;
            for (int k = 0; k < 4; k++) {
                size_t q = at + 2 + 4 * k;
                raw[k] = _mm256_setr_epi32((int)quant_u32(row[0] + q), (int)quant_u32(row[1] + q), (int)quant_u32(row[2] + q),
                                           (int)quant_u32(row[3] + q), (int)quant_u32(row[4] + q), (int)quant_u32(row[5] + q),
                                           (int)quant_u32(row[6] + q), (int)quant_u32(row[7] + q));
            }
            dw = _mm256_cvtph_ps(_mm_setr_epi16((short)q4x8_u16(row[0] + at), (short)q4x8_u16(row[1] + at),
                                                (short)q4x8_u16(row[2] + at), (short)q4x8_u16(row[3] + at),
                                                (short)q4x8_u16(row[4] + at), (short)q4x8_u16(row[5] + at),
                                                (short)q4x8_u16(row[6] + at), (short)q4x8_u16(row[7] + at)));
        }
        q4x8_block(raw, dw, x, xs, sums, b, acc, V);
    }
    for (int v = 0; v < V; v++) {
        if (count == 8) {
            _mm256_storeu_ps(y + v * ldy, acc[v]);
        } else {
            float lanes[8];
            _mm256_storeu_ps(lanes, acc[v]);
            memcpy(y + v * ldy, lanes + first, count * 4);
        }
    }
}

static void q4x8_rows(const uint8_t *w, int interleaved, const void *xq, size_t n, float *y, size_t ldy,
                      size_t row_begin, size_t row_end, size_t cols) {
    size_t blocks = cols / QL_BLOCK, rowBytes = blocks * Q4_0_BYTES, xs = split_q8s_activation_stride(cols);
    size_t sumsAt = split_q8_activation_stride(cols);
    const uint8_t *x = xq;
    for (size_t r = row_begin; r < row_end;) {
        size_t first = interleaved ? r % 8 : 0;  // a range may start inside a group (Matmul.c's never do)
        size_t count = row_end - r < 8 - first ? row_end - r : 8 - first;
        const uint8_t *group = interleaved ? w + (r / 8) * blocks * Q4X8_BLOCK_BYTES : NULL;
        const uint8_t *plain = w + r * rowBytes;
        size_t j = 0;
        for (; j + 4 <= n; j += 4)
            q4x8_tile(group, plain, rowBytes, first, count, blocks, x + j * xs, xs, sumsAt, y + j * ldy + r, ldy, 4);
        switch (n - j) {
        case 3: q4x8_tile(group, plain, rowBytes, first, count, blocks, x + j * xs, xs, sumsAt, y + j * ldy + r, ldy, 3); break;
        case 2: q4x8_tile(group, plain, rowBytes, first, count, blocks, x + j * xs, xs, sumsAt, y + j * ldy + r, ldy, 2); break;
        case 1: q4x8_tile(group, plain, rowBytes, first, count, blocks, x + j * xs, xs, sumsAt, y + j * ldy + r, ldy, 1); break;
        default: break;
        }
        r += count;
    }
}

#else
// Portable: the same integers (SDOT or widening multiplies on AArch64, a loop elsewhere) and the
// same float operations, output by output. The runtime repacks Q4_0 only for the x86 paths
// (WeightMatrix.repacksQ4_0): here the file's layout is read directly, where the interleaved one
// needs each block gathered first.
static void q4x8_rows(const uint8_t *w, int interleaved, const void *xq, size_t n, float *y, size_t ldy,
                      size_t row_begin, size_t row_end, size_t cols) {
    size_t blocks = cols / QL_BLOCK, rowBytes = blocks * Q4_0_BYTES, xs = split_q8s_activation_stride(cols);
    uint8_t gathered[Q4_0_BYTES];
#if !defined(SPLIT_NEON)
    int8_t q[32];
#endif
    for (size_t j = 0; j < n; j++) {
        const uint8_t *x = (const uint8_t *)xq + j * xs;
        for (size_t r = row_begin; r < row_end; r++) {
            float acc = 0;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *block = w + r * rowBytes + b * Q4_0_BYTES;
                if (interleaved) {
                    q4x8_row_block(w + ((r / 8) * blocks + b) * Q4X8_BLOCK_BYTES, (int)(r % 8), gathered);
                    block = gathered;
                }
#if defined(SPLIT_NEON)
                // Low nibbles are values 0-15, high nibbles 16-31, less 8: the loop's integers below.
                uint8x16_t qs = vld1q_u8(block + 2);
                int8x16_t eight = vdupq_n_s8(8);
                int32_t dot = quant_dot32_neon(vsubq_s8(vreinterpretq_s8_u8(vandq_u8(qs, vdupq_n_u8(0x0F))), eight),
                                               vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(qs, 4)), eight),
                                               (const int8_t *)act_quants(x, b));
#else
                for (int i = 0; i < 16; i++) {
                    q[i] = (int8_t)((block[2 + i] & 0xF) - 8);
                    q[i + 16] = (int8_t)((block[2 + i] >> 4) - 8);
                }
                int32_t dot = quant_dot32(q, (const int8_t *)act_quants(x, b));
#endif
                acc = fmaf((float)dot, quant_half(block) * act_scales(x, b)[0], acc);
            }
            y[j * ldy + r] = acc;
        }
    }
}
#endif

void split_gemm_q4_0x8(const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,
                       size_t row_end, size_t cols) {
    q4x8_rows(w, 1, xq, n, y, ldy, row_begin, row_end, cols);
}

// Q4_0 in the file's layout (split_gemm_legacy's Q4_0 case): the same arithmetic, so a matrix gives
// the same bits repacked or not.
static void gemm_q4_0_plain(const void *w, const void *xq, size_t n, float *y, size_t ldy, size_t row_begin,
                            size_t row_end, size_t cols) {
    q4x8_rows(w, 0, xq, n, y, ldy, row_begin, row_end, cols);
}
