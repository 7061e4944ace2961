#!/usr/bin/env bash
# Wall-clock robot control through real daemons: a cloud-node serving the robot policy's tail,
# an emulated 40 ms RTT link (split-bench relay), an edge-node serving the `act` API with layers
# [0, k) of the policy, and `split-bench robot-loop` running the robot benchmark's tasks (H = 32,
# the arm, pushes, target jumps; the course a path with --path) at 30 Hz in each mode.
# Usage: scripts/robot-wallclock.sh [BIN=.build/release] (set POLICY, K, RTT_MS, STEPS, COURSE=--course; more robot-loop
# options as arguments, e.g. --path --quant-ratio 2 --seeds 3)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
POLICY=${POLICY:-models/split-robot-policy-arm.gguf}
K=${K:-2}
RTT_MS=${RTT_MS:-40}
STEPS=${STEPS:-450}
COURSE=${COURSE:---course}
CLOUD_PORT=${CLOUD_PORT:-5655}
RELAY_PORT=${RELAY_PORT:-5656}
source scripts/daemons.sh robot
$BIN/cloud-node keygen --secret-file "$WORK/cloud.key" --public-file "$WORK/cloud.pub" >/dev/null
$BIN/edge-node keygen --secret-file "$WORK/edge.key" --public-file "$WORK/edge.pub" >/dev/null
$BIN/cloud-node serve --model "$POLICY" --bind "tcp://127.0.0.1:$CLOUD_PORT" --key "$WORK/cloud.key" \
    --allow "$WORK/edge.pub" --threads 1 >"$WORK/cloud.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/cloud.log" "serving"
$BIN/split-bench relay --listen-port "$RELAY_PORT" --target-port "$CLOUD_PORT" --rtt-ms "$RTT_MS" >"$WORK/relay.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$RELAY_PORT") 2>/dev/null && break; sleep 0.1; done
$BIN/edge-node serve --policy "$POLICY" --policy-split-layer "$K" --policy-cloud "tcp://127.0.0.1:$RELAY_PORT" \
    --cloud-key "$WORK/cloud.pub" --key "$WORK/edge.key" --listen "ipc://$WORK/edge.sock" --http-port 0 \
    --threads 1 >"$WORK/edge.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/edge.log" "edge node serving"
echo "policy $POLICY split at k=$K, edge <-> cloud over an emulated ${RTT_MS} ms RTT link (CURVE), 30 Hz wall clock"
$BIN/split-bench robot-loop --connect "ipc://$WORK/edge.sock" --steps "$STEPS" $COURSE "$@"
