#!/bin/sh
# The planner's must-show benchmark: this machine's profile (kernels and per-layer times of both
# models), then predicted against measured latency for split layers under emulated network
# profiles, the encoding agreement on held-out files, and the plot.
# Needs a release build: swift build -c release --product edge-node --product split-bench
set -e
cd "$(dirname "$0")/../.."
EDGE=.build/release/edge-node
BENCH=.build/release/split-bench
SMOL=/tmp/split-bench/smollm2-135m-f16.gguf
[ -f "$SMOL" ] || python3 tools/bench/make_smollm_shape.py --types f16
STDLIB=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
$EDGE profile --model models/split-code-7m.gguf --out profiles/devices/this-machine.yaml
$EDGE profile --model "$SMOL" --out profiles/devices/this-machine.yaml
$BENCH plan --model models/split-code-7m.gguf --model "$SMOL" --device this-machine \
    --held-out-list tools/train/splits/valid.txt --held-out-root "$STDLIB" \
    --json-out /tmp/split-bench/plan.json | tee /tmp/split-bench/plan.md
python3 tools/bench/plot_plan.py /tmp/split-bench/plan.json docs/benchmarks/plan
