#!/usr/bin/env bash
# AArch64 instructions executed per k-quant super-block, scalar C against the NEON paths
# (tools/bench/kquant_instructions.c): each function called 101 and 201 times under qemu-aarch64,
# one instruction per translation block (-singlestep), executed blocks counted (-d exec,nochain);
# the difference / 100. A count, not a timing.
set -euo pipefail
cd "$(dirname "$0")/../.."
K=Sources/CSplitKernels
out=${TMPDIR:-/tmp}/split-kquant-instructions
mkdir -p "$out"
declare -A flags=([scalar]="" [neon]="-DPROBE_NEON=1" [neon-dotprod]="-DPROBE_NEON=1 -DPROBE_DOTPROD=1")
paths=(scalar neon neon-dotprod)
for p in "${paths[@]}"; do
    # shellcheck disable=SC2086
    clang --target=aarch64-linux-gnu -march=armv8-a -O2 -ffast-math -Wno-nan-infinity-disabled \
        -I"$K"/include -I"$K" ${flags[$p]} tools/bench/kquant_instructions.c -lm -o "$out/$p"
done
executed() {
    qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max -singlestep -d exec,nochain -D "$out/log" "$out/$1" "$2" "$3" >/dev/null
    grep -c '^Trace' "$out/log"
}
printf '%-12s %8s %8s %13s\n' function "${paths[@]}"
for f in dot1_q2_k dot1_q3_k dot1_q4_k dot1_q5_k dot1_q6_k decode_q2_k decode_q3_k decode_q4_k decode_q5_k decode_q6_k kdot; do
    row=("$f")
    for p in "${paths[@]}"; do row+=($(( ($(executed "$p" "$f" 201) - $(executed "$p" "$f" 101)) / 100 ))); done
    printf '%-12s %8s %8s %13s\n' "${row[@]}"
done
rm -f "$out/log"
