#!/usr/bin/env bash
# Installs the system libraries Split links against, when they are missing (needs root).
set -euo pipefail
needed=()
# gcc-aarch64-linux-gnu (its aarch64 libc and linker) and qemu-user: the NEON kernels' tests
# (scripts/test-kernels.sh) cross-compiled and run under qemu-aarch64.
for pkg in libzmq3-dev libopenblas-dev libssl-dev libsqlite3-dev pkg-config gcc-aarch64-linux-gnu qemu-user; do
    dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
    echo "installing: ${needed[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${needed[@]}"
fi
