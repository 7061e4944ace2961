#!/usr/bin/env bash
# The main job: a cloud node and an edge node on loopback, CURVE keys and all, serving the
# bundled code model through the split; a completion over the socket API and over HTTP, the
# same prompt run locally for comparison, and a fill-in-the-middle request (/infill); then a robot control loop through the split (bundled policy).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

MODEL=${MODEL:-models/split-code-7m.gguf}
SPLIT_LAYER=${SPLIT_LAYER:-3}
CLOUD_PORT=${CLOUD_PORT:-5555}
HTTP_PORT=${HTTP_PORT:-8080}
# Infill prompts suffix first (llama.cpp's --spm-infill): the bundled model is trained on both
# layouts and SPM scores higher and reuses more of each prompt while typing (BENCHMARKS.md,
# "Editor replay"); SPM_INFILL=0 for a model trained on PSM only (most FIM models).
SPM_INFILL=${SPM_INFILL:-1}
INFILL_FLAGS=()
if [ "$SPM_INFILL" = 1 ]; then INFILL_FLAGS=(--spm-infill); fi
PROMPT=${PROMPT:-$'import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        '}

echo "== building (release)"
swift build -c release --product edge-node
swift build -c release --product cloud-node
swift build -c release --product split-bench   # the robot control loop client (split-bench robot-loop)
BIN=.build/release

source scripts/daemons.sh demo

echo "== keys"
$BIN/cloud-node keygen --secret-file "$WORK/cloud.key" --public-file "$WORK/cloud.pub"
$BIN/edge-node keygen --secret-file "$WORK/edge.key" --public-file "$WORK/edge.pub"

echo "== cloud node: layers [$SPLIT_LAYER, L) of $MODEL on tcp://127.0.0.1:$CLOUD_PORT"
$BIN/cloud-node serve --model "$MODEL" --bind "tcp://127.0.0.1:$CLOUD_PORT" \
    --key "$WORK/cloud.key" --allow "$WORK/edge.pub" >"$WORK/cloud.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/cloud.log" "serving"

echo "== edge node: layers [0, $SPLIT_LAYER), socket API ipc://$WORK/edge.sock, HTTP 127.0.0.1:$HTTP_PORT"
$BIN/edge-node serve --model "$MODEL" --split-layer "$SPLIT_LAYER" \
    --cloud "tcp://127.0.0.1:$CLOUD_PORT" --cloud-key "$WORK/cloud.pub" --key "$WORK/edge.key" \
    --listen "ipc://$WORK/edge.sock" --http-port "$HTTP_PORT" "${INFILL_FLAGS[@]}" >"$WORK/edge.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/edge.log" "edge node serving"

echo; echo "== completion through the split (socket API)"
$BIN/edge-node complete --connect "ipc://$WORK/edge.sock" --prompt "$PROMPT" --max-tokens 48

echo; echo "== the same prompt, whole model on the edge (local strategy)"
$BIN/edge-node complete --connect "ipc://$WORK/edge.sock" --prompt "$PROMPT" --max-tokens 48 --strategy local

echo; echo "== OpenAI-compatible HTTP: POST /v1/completions"
curl -s "http://127.0.0.1:$HTTP_PORT/v1/completions" -H 'Content-Type: application/json' \
    -d '{"prompt": "def is_prime(n):\n    ", "max_tokens": 32, "temperature": 0}'
echo

echo; echo "== fill-in-the-middle: POST /infill (what llama.vim / llama.vscode send), the model's FIM tokens"
curl -s "http://127.0.0.1:$HTTP_PORT/infill" -H 'Content-Type: application/json' \
    -d '{"input_prefix": "def read_lines(path):\n    with open(path) as f:\n        ", "input_suffix": "\n    return lines\n", "n_predict": 32, "temperature": 0}'
echo

echo; echo "== Ollama's API (Continue's ollama provider, Open WebUI): GET /api/tags lists the served model"
curl -s "http://127.0.0.1:$HTTP_PORT/api/tags"
echo

POLICY=${POLICY:-models/split-robot-policy.gguf}
POLICY_SPLIT_LAYER=${POLICY_SPLIT_LAYER:-2}
POLICY_PORT=${POLICY_PORT:-5557}
echo; echo "== robot control: a cloud node with layers [$POLICY_SPLIT_LAYER, L) + action head of $POLICY, an edge node serving act requests"
$BIN/cloud-node serve --model "$POLICY" --bind "tcp://127.0.0.1:$POLICY_PORT" \
    --key "$WORK/cloud.key" --allow "$WORK/edge.pub" >"$WORK/policy-cloud.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/policy-cloud.log" "serving"
$BIN/edge-node serve --policy "$POLICY" --policy-split-layer "$POLICY_SPLIT_LAYER" \
    --policy-cloud "tcp://127.0.0.1:$POLICY_PORT" --cloud-key "$WORK/cloud.pub" --key "$WORK/edge.key" \
    --listen "ipc://$WORK/robot.sock" --http-port 0 >"$WORK/robot-edge.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/robot-edge.log" "edge node serving"
echo "== a 30 Hz control loop (simulated point mass tracking a jumping target) for 5 s per mode, through the split"
$BIN/split-bench robot-loop --connect "ipc://$WORK/robot.sock" --steps 150 --seeds 1 --horizon 16 --robot point-mass

echo; echo "== done: the nodes stop now"
