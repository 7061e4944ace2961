#!/usr/bin/env bash
# The element-wise kernels and a decode step's attention (tools/bench/row_kernels.c).
#   row_kernels.sh build      x86: builds this tree's kernels and BASE's (default main), then
#   row_kernels.sh [ROUNDS]   times them A B A B, ns per call (input copy included): the lock goes
#                             around this step only (flock /work/bench.lock row_kernels.sh 2)
#   row_kernels.sh count      AArch64 under qemu-aarch64: instructions executed per call, scalar path
#                             against NEON (one instruction per translation block, -d exec,nochain, the
#                             difference of 2 calls and 1, input copy included). A count, not a timing.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${TMPDIR:-/tmp}/split-row-kernels
mkdir -p "$out"
kernels=(rms_norm silu_gate gelu_tanh softmax log_sum_exp argmax attention)
flags=(-O3 -ffast-math -Wno-nan-infinity-disabled)
build() {  # tree-root output [clang flags]
    local K=$1/Sources/CSplitKernels
    clang "${flags[@]}" "${@:3}" -I"$K"/include tools/bench/row_kernels.c "$K"/KernelPath.c "$K"/Path*.c \
        "$K"/Matmul.c "$K"/Pool.c -lpthread -lm -o "$2"
}
if [ "${1:-}" = count ]; then
    build . "$out/aarch64" --target=aarch64-linux-gnu -march=armv8-a
    executed() {  # the log streams through grep: a file of it would be gigabytes
        SPLIT_KERNELS=$1 qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max -singlestep -d exec,nochain -D /dev/stderr \
            "$out/aarch64" "$2" "$3" 2>&1 >/dev/null | grep -c '^Trace'
    }
    printf '%-12s %10s %10s %13s\n' kernel scalar neon neon-dotprod
    for k in "${kernels[@]}"; do
        row=("$k")
        for p in scalar neon neon-dotprod; do row+=($(( $(executed "$p" "$k" 2) - $(executed "$p" "$k" 1) ))); done
        printf '%-12s %10s %10s %13s\n' "${row[@]}"
    done
    exit 0
fi
base=${BASE:-main}
if [ "${1:-}" = build ]; then
    rm -rf "$out/base" && mkdir -p "$out/base" && git archive "$base" Sources/CSplitKernels | tar -x -C "$out/base"
    build "$out/base" "$out/base.bin" -march=x86-64-v2
    build . "$out/this.bin" -march=x86-64-v2
    exit 0
fi
[ -x "$out/this.bin" ] || { echo "row_kernels: run 'tools/bench/row_kernels.sh build' first" >&2; exit 1; }
echo "load: $(uptime)"
for round in $(seq "${1:-2}"); do
    for k in "${kernels[@]}"; do
        calls=20000; [ "$k" = softmax ] || [ "$k" = log_sum_exp ] || [ "$k" = argmax ] && calls=2000
        printf '%s  %s\n' "$base" "$("$out/base.bin" "$k" "$calls")"
        printf '%s  %s\n' this "$("$out/this.bin" "$k" "$calls")"
    done
done
echo "load: $(uptime)"
