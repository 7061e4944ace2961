// The order of a batched GEMM's tiles, one driver for the AVX2 f16/f32 GEMM (Gemv.c) and the AVX2
// legacy-block GEMMs (QuantLegacy.c), chosen for the caches: going through all n vectors for each
// tile of rows streams the whole input from L3 once per tile (a prefill chunk of 128 vectors at
// the Llama-3.2-1B shape: 1 MB of f32 at 2048 columns, 576 KB quantized). Instead rows go in
// panels of PANEL_BYTES of weights (kept in L2), and each group of TILE_V vectors runs through
// the whole panel before the next group: the input is read from L3 once per panel. Only the
// order of the tiles changes, not any output's sequence, so not its bits.
#ifndef SPLIT_PANEL_GEMM_H
#define SPLIT_PANEL_GEMM_H

// Rows begin … full − 1 (full − begin a multiple of TILE_R) of ROW_BYTES of weights each, against
// n vectors: for every panel of rows p … end − 1 and every group of vectors j … j + V − 1, runs
// PASS(TILE, V), the group's tiles over the panel (p, end and j in scope; V a constant: TILE_V, or
// the remainder of n below it, one of the widths REMAINDERS lists: SPLIT_PANEL_WIDTHS_3 or _7).
// Zero ROW_BYTES (no columns) makes panels of TILE_R rows rather than a division by zero.
#define SPLIT_PANEL_GEMM(begin, full, n, ROW_BYTES, TILE_R, TILE_V, PANEL_BYTES, TILE, PASS, REMAINDERS) \
    do {                                                                                               \
        size_t panel_ = (ROW_BYTES) ? (PANEL_BYTES) / (ROW_BYTES) / (TILE_R) * (TILE_R) : 0;             \
        if (panel_ < (TILE_R)) panel_ = (TILE_R);                                                      \
        for (size_t p = (begin); p < (full); p += panel_) {                                            \
            size_t end = p + panel_ < (full) ? p + panel_ : (full);                                    \
            for (size_t j = 0; j < (n); j += (TILE_V)) {                                               \
                switch ((n) - j < (TILE_V) ? (n) - j : 0) {                                            \
                REMAINDERS(PASS, TILE)                                                                 \
                default: PASS(TILE, (TILE_V)); break;                                                  \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    } while (0)
// The remainder widths, as switch cases: up to 3 (tiles of at most 4 vectors) or up to 7. Each
// listed width is compiled whether or not TILE_V leaves it reachable: dropping the unreachable
// ones (widths 6 and 7 at QuantLegacy.c's TILE_V of 6) reshuffled the register allocation of the
// Q8_0 GEMM, 0.89-0.90x in tools/bench/prefill_gemm.c (load 1.0).
#define SPLIT_PANEL_WIDTHS_3(PASS, TILE)                                                               \
    case 3: PASS(TILE, 3); break;                                                                      \
    case 2: PASS(TILE, 2); break;                                                                      \
    case 1: PASS(TILE, 1); break;
#define SPLIT_PANEL_WIDTHS_7(PASS, TILE)                                                               \
    case 7: PASS(TILE, 7); break;                                                                      \
    case 6: PASS(TILE, 6); break;                                                                      \
    case 5: PASS(TILE, 5); break;                                                                      \
    case 4: PASS(TILE, 4); break;                                                                      \
    SPLIT_PANEL_WIDTHS_3(PASS, TILE)

#endif
