#!/bin/sh
# Issue 10: Split against llama.cpp (llama-cpp-python 0.3.36, 2 threads) on the same GGUF files at
# f32, f16 and q8_0, prefill 128 and decode 128 tokens, alternating rounds in one script, plus this
# machine's memory read bandwidth (before and after, and right before each Split run) and each
# decode's fraction of the bandwidth limit, the decode
# loop's allocation count and peak RSS against the file size.
#
#   swift build -c release --product edge-node
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
clang -O2 -march=native tools/bench/membw.c -lpthread -o /tmp/split-membw
cc -O2 -shared -fPIC tools/bench/malloc_count.c -o /tmp/split-malloc-count.so
models=""
for t in $TYPES; do models="$models --model $DIR/smollm2-135m-$t.gguf"; done
echo "# $(uptime)" >&2
# shellcheck disable=SC2086
python3 tools/bench/compare.py $models --rounds "$ROUNDS" --threads "$THREADS" \
    --swift-cmd "LD_PRELOAD=/tmp/split-malloc-count.so .build/release/edge-node bench --model {model} --prompt-tokens {prompt} --decode-tokens {decode} --threads {threads} --repetitions 1 --json" \
    --swift-build-cmd true --bandwidth-cmd "/tmp/split-membw $THREADS" --paired-bandwidth
echo "# $(uptime)"
