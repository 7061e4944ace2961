#!/bin/sh
# Issue 10: Split against llama.cpp (llama-cpp-python 0.3.36, 2 threads) on the same GGUF files at
# f32, f16 and q8_0, prefill 128 and decode 128 tokens, alternating rounds in one script, plus this
# machine's memory read bandwidth (before and after, and right before each Split run) and each
# decode's fraction of the bandwidth limit, the decode
# loop's allocation count and peak RSS against the file size.
#
#   swift build -c release --product split-bench
#   pip install llama-cpp-python==0.3.36 gguf numpy
#   tools/bench/bench_llamacpp.sh [rounds]          # ROUNDS=2 by default; TYPES="f32 f16 q8_0"
#
# Run it under `flock /work/bench.lock` on a shared machine. llama.cpp's OpenMP threads need
# OMP_WAIT_POLICY=passive when other work shares the cores (tools/bench/README.md).
set -eu
cd "$(dirname "$0")/../.."
DIR=${SPLIT_BENCH_DIR:-/tmp/split-bench}
ROUNDS=${1:-${ROUNDS:-2}}
TYPES=${TYPES:-"f32 f16 q8_0"}
THREADS=${THREADS:-2}
missing=""
for t in $TYPES; do [ -f "$DIR/smollm2-135m-$t.gguf" ] || missing="$missing,$t"; done
if [ -n "$missing" ]; then
    python3 tools/bench/make_smollm_shape.py --out-dir "$DIR" --types "${missing#,}"
fi
# Each file's cached pages are dropped and read back through Split's mapping (2 MB-aligned, advised
# MADV_HUGEPAGE), so the kernel caches the file in 2 MB folios, as on a model's first load after a
# boot; llama.cpp then maps the same cached pages. (A file cached earlier in 4 KB pages would keep
# them: Split's weights would be mapped in 4 KB pages; a decode step's matrix work ran ~20% slower so
# in the high-bandwidth mode.)
for t in $TYPES; do
    python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' \
        "$DIR/smollm2-135m-$t.gguf"
    warm=$(.build/release/split-bench runtime --model "$DIR/smollm2-135m-$t.gguf" --prompt-tokens 1 --decode-tokens 1 --repetitions 1)
    # "(… MB of it in 2 MB pages)": 0 where the kernel kept 4 KB pages
    echo "$warm" | grep 'resident after' >&2 || true
done
clang -O2 -march=native tools/bench/membw.c -lpthread -o /tmp/split-membw
cc -O2 -shared -fPIC tools/bench/malloc_count.c -o /tmp/split-malloc-count.so
models=""
for t in $TYPES; do models="$models --model $DIR/smollm2-135m-$t.gguf"; done
echo "# $(uptime)" >&2
# shellcheck disable=SC2086
python3 tools/bench/compare.py $models --rounds "$ROUNDS" --threads "$THREADS" \
    --swift-cmd "LD_PRELOAD=/tmp/split-malloc-count.so .build/release/split-bench runtime --model {model} --prompt-tokens {prompt} --decode-tokens {decode} --threads {threads} --repetitions 1 --json" \
    --swift-build-cmd true --bandwidth-cmd "/tmp/split-membw $THREADS" --paired-bandwidth
echo "# $(uptime)"
