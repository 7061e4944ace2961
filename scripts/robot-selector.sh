#!/usr/bin/env bash
# The edge choosing the control strategy per `act` request, end to end: an edge-node serving the
# arm policy locally with a selection history, and `split-bench robot-loop --adopt-edge-mode`
# running each next request in the mode the edge named (first with quality exact, then
# agreement>=0); then the history's records per strategy.
# Usage: scripts/robot-selector.sh [BIN=.build/release] (set POLICY, STEPS; more robot-loop options as arguments)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
POLICY=${POLICY:-models/split-robot-policy-arm.gguf}
STEPS=${STEPS:-300}
source scripts/daemons.sh robot-select
$BIN/edge-node serve --policy "$POLICY" --history "$WORK/history.sqlite" --listen "ipc://$WORK/edge.sock" --http-port 0 \
    --threads 1 >"$WORK/edge.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/edge.log" "edge node serving"
for quality in exact 'agreement>=0'; do
    $BIN/split-bench robot-loop --connect "ipc://$WORK/edge.sock" --steps "$STEPS" --seeds 1 --mode sync --adopt-edge-mode \
        --quality "$quality" "$@"
done
$BIN/edge-node history stats --db "$WORK/history.sqlite"
