#!/usr/bin/env bash
# The C kernels alone (Tests/KernelsC/test_kernels.c): every path against the scalar one, every
# weight type, odd shapes, batched rows bit-identical to single ones. Natively (the x86 paths this
# CPU runs), then cross-compiled for AArch64 and run under qemu-aarch64 (the NEON paths: qemu
# emulates the dot-product instructions, so both NEON paths run). Fails when any kernel differs.
set -euo pipefail
cd "$(dirname "$0")/.."
K=Sources/CSplitKernels
out=${TMPDIR:-/tmp}/split-kernel-tests
mkdir -p "$out"
sources=(Tests/KernelsC/test_kernels.c "$K"/KernelPath.c "$K"/Path*.c "$K"/Matmul.c "$K"/Pool.c)
flags=(-O2 -ffast-math -Wno-nan-infinity-disabled -I"$K"/include)
clang "${flags[@]}" -march=x86-64-v2 "${sources[@]}" -lpthread -lm -o "$out/test_kernels"
"$out/test_kernels"
if command -v qemu-aarch64 >/dev/null && [ -d /usr/aarch64-linux-gnu/lib ]; then
    clang "${flags[@]}" --target=aarch64-linux-gnu -march=armv8-a "${sources[@]}" -lpthread -lm \
        -o "$out/test_kernels_aarch64"
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/test_kernels_aarch64"
    # The plain NEON path too, on an emulated core without the dot-product instructions.
    qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu cortex-a53 "$out/test_kernels_aarch64"
else
    echo "test-kernels: no qemu-aarch64 or aarch64 libc (scripts/install-deps.sh installs them); NEON paths not tested" >&2
    exit 1
fi
