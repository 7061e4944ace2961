#!/bin/sh
# Issue 18: Split against a native llama.cpp build (llama-bench -t 2 -p 128 -n 128) on the same
# quantized GGUF files: SmolLM2-135M and Llama-3.2-1B shapes (random weights) at Q4_0, Q4_K_M and
# Q6_K, made by llama-quantize from an f16 file, alternating rounds in one script (compare.py with
# --llama-bench), with this machine's memory read bandwidth before and after and right before each
# Split run (each decode's fraction of the bandwidth limit), and Split's peak RSS against the file.
#
#   swift build -c release --product split-bench      # (edge-node, before the bench commands moved)
#   cmake -B /work/llama.cpp/build -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DCMAKE_BUILD_TYPE=Release &&
#       cmake --build /work/llama.cpp/build -j2 --target llama-quantize llama-bench
#   tools/bench/bench_quant_vs_llamacpp.sh [rounds]     # ROUNDS=2; SHAPES, QTYPES, LLAMA_CPP, SPLIT_BENCH_DIR
#
# Note: at the SmolLM2 shape (d 576, not a multiple of 256) llama-quantize stores the 576-wide
# matrices of a k-quant file in its fallback types (Q4_K -> Q5_0, Q6_K -> Q8_0), as for the real model.
# Run it under `flock /work/bench.lock` on a shared machine (tools/bench/README.md).
set -eu
cd "$(dirname "$0")/../.."
DIR=${SPLIT_BENCH_DIR:-/tmp/split-bench}
LLAMA=${LLAMA_CPP:-/work/llama.cpp}
ROUNDS=${1:-${ROUNDS:-2}}
SHAPES=${SHAPES:-"smollm2-135m llama-3.2-1b"}
QTYPES=${QTYPES:-"q4_0 q4_k_m q6_k"}
THREADS=${THREADS:-2}
# The runtime benchmark: `split-bench runtime` (SplitBench target), or `edge-node bench` before it moved.
if [ -z "${SPLIT_BENCH_CMD:-}" ] && [ -x .build/release/split-bench ]; then SPLIT_BENCH_CMD=".build/release/split-bench runtime"; fi
SPLIT=${SPLIT_BENCH_CMD:-.build/release/edge-node bench}
models=""
for shape in $SHAPES; do
    for q in $QTYPES; do
        file="$DIR/$shape-$q.gguf"
        if [ ! -f "$file" ]; then
            [ -f "$DIR/$shape-f16.gguf" ] || python3 tools/bench/make_smollm_shape.py --shape "$shape" --out-dir "$DIR" --types f16
            "$LLAMA/build/bin/llama-quantize" "$DIR/$shape-f16.gguf" "$file" "$(echo "$q" | tr a-z A-Z)" > "$file.log" 2>&1
        fi
        # Cached in 2 MB folios through Split's mapping, as bench_llamacpp.sh does.
        python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$file"
        $SPLIT --model "$file" --prompt-tokens 1 --decode-tokens 1 --repetitions 1 > /dev/null
        models="$models --model $file"
    done
done
clang -O2 -march=native tools/bench/membw.c -lpthread -o /tmp/split-membw
echo "# $(uptime)" >&2
# shellcheck disable=SC2086
python3 tools/bench/compare.py $models --rounds "$ROUNDS" --threads "$THREADS" \
    --llama-bench "$LLAMA/build/bin/llama-bench" \
    --swift-cmd "$SPLIT --model {model} --prompt-tokens {prompt} --decode-tokens {decode} --threads {threads} --repetitions 1 --json" \
    --swift-build-cmd true --bandwidth-cmd "/tmp/split-membw $THREADS" --paired-bandwidth
echo "# $(uptime)"
