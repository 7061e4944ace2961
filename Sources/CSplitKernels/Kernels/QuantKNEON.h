// The k-quants on NEON (PathNEON.c; SDOT in PathNEONDot.c), included by QuantK.c after `finish`.
// A super-block is unpacked into registers in the kblock's form (kvec: 16 vectors of 16 unsigned
// quants in value order, a scale and an offset per 16 values as int16, d, dmin), and dotted with
// one Q8_K block into the same two exact integer sums as the scalar kdot (Σ_g scale_g Σ q·x and
// Σ_g offset_g·bsum_g), finished by the same `finish`: the scalar path's bits. Decode (one
// vector) dots straight from the block's bytes; the batch stores the kvec as a kblock once and
// reloads it per vector, so both give the same integers, hence the same bits.
#include <arm_neon.h>

typedef struct {
    uint8x16_t q[16];      // group g: values 16g … 16g + 15
    int16x8_t scale[2];    // per group: groups 0-7, 8-15
    int16x8_t offset[2];   // per group, in units of dmin
    float d, dmin;
    int separate;
} kvec;

// Σ q·x over one group of 16 in four int32 lanes (q ≤ 63 unsigned, |x| ≤ 127): SDOT, or widening
// multiplies (two products per int16 lane, |sum| ≤ 2·63·127) added pairwise into 32 bits.
static inline int32x4_t kdot16(uint8x16_t q, const int8_t *x) {
    int8x16_t w = vreinterpretq_s8_u8(q), v = vld1q_s8(x);
#if defined(SPLIT_NEON_DOTPROD)
    return vdotq_s32(vdupq_n_s32(0), w, v);
#else
    return vpaddlq_s16(vmlal_high_s8(vmull_s8(vget_low_s8(w), vget_low_s8(v)), w, v));
#endif
}

// The same over two groups of one scale (Q4_K, Q5_K): four products per int16 lane, ≤ 4·63·127.
static inline int32x4_t kdot32(uint8x16_t q0, uint8x16_t q1, const int8_t *x) {
    int8x16_t w0 = vreinterpretq_s8_u8(q0), w1 = vreinterpretq_s8_u8(q1), v0 = vld1q_s8(x), v1 = vld1q_s8(x + 16);
#if defined(SPLIT_NEON_DOTPROD)
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, v0), w1, v1);
#else
    int16x8_t p = vmlal_high_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(v0)), w0, v0);
    return vpaddlq_s16(vmlal_high_s8(vmlal_s8(p, vget_low_s8(w1), vget_low_s8(v1)), w1, v1));
#endif
}

// The two integer sums of a super-block with one Q8_K block, finished as the scalar kdot does.
// `paired`: groups 2i and 2i + 1 have one scale (a constant where the type is known), so their
// products share one sum; the integers, and so the bits, are the same either way.
static inline __attribute__((always_inline)) float kvec_dot(const kvec *v, const uint8_t *x, int paired, float sumf) {
    const int8_t *qx = (const int8_t *)(x + Q8K_QS);
    int32x4_t acc = vdupq_n_s32(0);
    for (int f = 0; f < 4; f++) {  // groups 4f … 4f + 3: a lane per group, times their scales
        const uint8x16_t *q = v->q + 4 * f;
        const int8_t *xf = qx + 64 * f;
        int32x4_t sums;
        if (paired) {  // lanes 0-1 the first pair's, 2-3 the second's: the scales are pairs too
            sums = vpaddq_s32(kdot32(q[0], q[1], xf), kdot32(q[2], q[3], xf + 32));
        } else {
            int32x4_t g[4];
            for (int i = 0; i < 4; i++) g[i] = kdot16(q[i], xf + 16 * i);
            sums = vpaddq_s32(vpaddq_s32(g[0], g[1]), vpaddq_s32(g[2], g[3]));
        }
        int16x8_t s = v->scale[f / 2];
        acc = vmlaq_s32(acc, sums, f % 2 ? vmovl_high_s16(s) : vmovl_s16(vget_low_s16(s)));
    }
    int16x8_t b0 = vld1q_s16((const int16_t *)(x + Q8K_BSUMS)), b1 = vld1q_s16((const int16_t *)(x + Q8K_BSUMS) + 8);
    int32x4_t mins = vmull_s16(vget_low_s16(b0), vget_low_s16(v->offset[0]));
    mins = vmlal_high_s16(mins, b0, v->offset[0]);
    mins = vmlal_s16(mins, vget_low_s16(b1), vget_low_s16(v->offset[1]));
    mins = vmlal_high_s16(mins, b1, v->offset[1]);
    kblock k = {.d = v->d, .dmin = v->dmin, .separate = v->separate};
    float dx;
    memcpy(&dx, x + Q8K_D, 4);
    return finish(&k, dx, vaddvq_s32(acc), vaddvq_s32(mins), sumf);
}

// MARK: unpacking, one super-block into a kvec (the scalar decoders' values)

// The nibbles of 128 bytes in runs of `width` vectors: a run's low nibbles, then its high ones.
static inline void k_nibbles(const uint8_t *p, int width, uint8x16_t q[16]) {
    for (int r = 0; r < 8 / width; r++)
        for (int i = 0; i < width; i++) {
            uint8x16_t v = vld1q_u8(p + 16 * (width * r + i));
            q[2 * width * r + i] = vandq_u8(v, vdupq_n_u8(0x0F));
            q[2 * width * r + width + i] = vshrq_n_u8(v, 4);
        }
}

// Q2_K and Q3_K's low two bits: per 32 bytes, bits 2j of each byte are values 32j … 32j + 31.
static inline void k_crumbs(const uint8_t *p, uint8x16_t q[16]) {
    for (int n = 0; n < 2; n++) {
        uint8x16_t v0 = vld1q_u8(p + 32 * n), v1 = vld1q_u8(p + 32 * n + 16);
        for (int j = 0; j < 4; j++) {
            q[8 * n + 2 * j] = vandq_u8(v0, vdupq_n_u8(3));
            q[8 * n + 2 * j + 1] = vandq_u8(v1, vdupq_n_u8(3));
            v0 = vshrq_n_u8(v0, 2);
            v1 = vshrq_n_u8(v1, 2);
        }
    }
}

// Per-group int16 scales (and offsets) from 16 int8.
static inline void k_widen(int8x16_t s, int16x8_t out[2]) {
    out[0] = vmovl_s8(vget_low_s8(s));
    out[1] = vmovl_high_s8(s);
}

static inline __attribute__((always_inline)) void kvec_q2_k(const uint8_t *b, kvec *v) {
    k_crumbs(b + 16, v->q);
    uint8x16_t packed = vld1q_u8(b);
    k_widen(vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0F))), v->scale);
    k_widen(vreinterpretq_s8_u8(vshrq_n_u8(packed, 4)), v->offset);
    v->d = quant_half(b + 80);
    v->dmin = quant_half(b + 82);
    v->separate = 1;
}

static inline __attribute__((always_inline)) void kvec_q3_k(const uint8_t *b, kvec *v) {
    k_crumbs(b + 32, v->q);
    // The high bit (a clear one means q − 4) of value 128n + 32j + l is bit 4n + j of hmask[l].
    uint8x16_t m0 = vld1q_u8(b), m1 = vld1q_u8(b + 16);
    for (int i = 0; i < 8; i++) {
        v->q[2 * i] = vorrq_u8(v->q[2 * i], vandq_u8(vshlq_n_u8(m0, 2), vdupq_n_u8(4)));
        v->q[2 * i + 1] = vorrq_u8(v->q[2 * i + 1], vandq_u8(vshlq_n_u8(m1, 2), vdupq_n_u8(4)));
        m0 = vshrq_n_u8(m0, 1);
        m1 = vshrq_n_u8(m1, 1);
    }
    int8_t scales[16];
    quant_scales_q3_k(b + 96, scales);
    k_widen(vld1q_s8(scales), v->scale);
    for (int h = 0; h < 2; h++) v->offset[h] = vshlq_n_s16(v->scale[h], 2);  // 4 · scale
    v->d = v->dmin = quant_half(b + 108);
    v->separate = 0;
}

// Q4_K and Q5_K: one scale and one min per two groups.
static inline void k4_scales(const uint8_t *b, kvec *v) {
    uint8_t sm[16];
    k4_unpack_scales(b + 4, sm);
    int16x8_t scales = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(sm))), mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(sm + 8)));
    v->scale[0] = vzip1q_s16(scales, scales);
    v->scale[1] = vzip2q_s16(scales, scales);
    v->offset[0] = vzip1q_s16(mins, mins);
    v->offset[1] = vzip2q_s16(mins, mins);
    v->d = quant_half(b);
    v->dmin = quant_half(b + 2);
    v->separate = 1;
}

static inline __attribute__((always_inline)) void kvec_q4_k(const uint8_t *b, kvec *v) {
    k_nibbles(b + 16, 2, v->q);
    k4_scales(b, v);
}

static inline __attribute__((always_inline)) void kvec_q5_k(const uint8_t *b, kvec *v) {
    k_nibbles(b + 48, 2, v->q);
    // The fifth bit of value 64c + l is bit 2c of qh[l], of value 64c + 32 + l bit 2c + 1.
    uint8x16_t h[2] = {vld1q_u8(b + 16), vld1q_u8(b + 32)};
    const uint8x16_t five = vdupq_n_u8(0x10);
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 2; i++) {
            v->q[4 * c + i] = vorrq_u8(v->q[4 * c + i], vandq_u8(vshlq_n_u8(h[i], 4), five));
            v->q[4 * c + 2 + i] = vorrq_u8(v->q[4 * c + 2 + i], vandq_u8(vshlq_n_u8(h[i], 3), five));
            h[i] = vshrq_n_u8(h[i], 2);
        }
    k4_scales(b, v);
}

static inline __attribute__((always_inline)) void kvec_q6_k(const uint8_t *b, kvec *v) {
    k_nibbles(b, 4, v->q);
    // Bits 2j, 2j + 1 of qh[32n + l] are bits 4-5 of value 128n + 32j + l.
    const uint8x16_t two = vdupq_n_u8(0x30);
    for (int n = 0; n < 2; n++)
        for (int i = 0; i < 2; i++) {
            uint8x16_t h = vld1q_u8(b + 128 + 32 * n + 16 * i);
            uint8x16_t *q = v->q + 8 * n + i;
            q[0] = vorrq_u8(q[0], vandq_u8(vshlq_n_u8(h, 4), two));
            q[2] = vorrq_u8(q[2], vandq_u8(vshlq_n_u8(h, 2), two));
            q[4] = vorrq_u8(q[4], vandq_u8(h, two));
            q[6] = vorrq_u8(q[6], vandq_u8(vshrq_n_u8(h, 2), two));
        }
    k_widen(vld1q_s8((const int8_t *)(b + 192)), v->scale);
    for (int h = 0; h < 2; h++) v->offset[h] = vshlq_n_s16(v->scale[h], 5);  // quants are stored + 32
    v->d = v->dmin = quant_half(b + 208);
    v->separate = 0;
}

// MARK: per type, the decode dot (DOT1_*) and the batch's decoder (DECODE_*)

static inline void kvec_store(const kvec *v, kblock *k) {
    for (int g = 0; g < 16; g++) vst1q_u8(k->q + 16 * g, v->q[g]);
    for (int h = 0; h < 2; h++) {
        vst1q_s16(k->scale + 8 * h, v->scale[h]);
        vst1q_s16(k->offset + 8 * h, v->offset[h]);
    }
    k->d = v->d;
    k->dmin = v->dmin;
    k->separate = v->separate;
}

// The batch's dot with a stored block: kvec_dot on the block reloaded.
static inline __attribute__((always_inline)) float kdot(const kblock *k, const uint8_t *x, float sumf) {
    kvec v = {.d = k->d, .dmin = k->dmin, .separate = k->separate};
    for (int g = 0; g < 16; g++) v.q[g] = vld1q_u8(k->q + 16 * g);
    for (int h = 0; h < 2; h++) {
        v.scale[h] = vld1q_s16(k->scale + 8 * h);
        v.offset[h] = vld1q_s16(k->offset + 8 * h);
    }
    return kvec_dot(&v, x, 0, sumf);
}

#define KVEC_TYPE(T, PAIRED)                                                                                    \
    static inline __attribute__((always_inline)) float dot1_##T##_neon(const uint8_t *b, const uint8_t *x, \
                                                                       float sumf, kblock *unused) {  \
        (void)unused;                                                                                   \
        kvec v;                                                                                         \
        kvec_##T(b, &v);                                                                                \
        return kvec_dot(&v, x, PAIRED, sumf);                                                           \
    }                                                                                                   \
    static inline void decode_##T##_neon(const uint8_t *b, kblock *k) {                                 \
        kvec v;                                                                                         \
        kvec_##T(b, &v);                                                                                \
        kvec_store(&v, k);                                                                              \
    }
KVEC_TYPE(q2_k, 0)
KVEC_TYPE(q3_k, 0)
KVEC_TYPE(q4_k, 1)
KVEC_TYPE(q5_k, 1)
KVEC_TYPE(q6_k, 0)
#undef KVEC_TYPE
