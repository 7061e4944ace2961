#!/usr/bin/env bash
# Soak test (not in CI): one edge node in front of two cloud replicas for the code model and two
# for the robot policy, every cloud behind its own link emulator (`split-bench relay`, 10 ms RTT,
# 1 ms jitter), and 64 concurrent clients mixing completions (HTTP and socket API) with robot
# `act` requests for 10 minutes. Every answer must equal its reference (greedy completions and
# policy chunks are deterministic; activations travel as f32); RSS of all five daemons is
# sampled every 10 s. Prints the driver's JSON report; exits 1 on any failed request.
#
#   scripts/soak.sh [SECONDS] [CLIENTS]        (BIN=.build/release by default; builds it if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-600}
CLIENTS=${2:-64}
BIN=${BIN:-.build/release}
MODEL=${MODEL:-models/split-code-7m.gguf}
POLICY=${POLICY:-models/split-robot-policy.gguf}
SPLIT_LAYER=${SPLIT_LAYER:-3}
POLICY_SPLIT_LAYER=${POLICY_SPLIT_LAYER:-2}
RTT_MS=${RTT_MS:-10}
OUT=${OUT:-.build-soak}
python3 -c "import zmq" 2>/dev/null || { echo "the soak driver needs pyzmq (pip install pyzmq)"; exit 2; }
if [ ! -x "$BIN/edge-node" ] || [ ! -x "$BIN/cloud-node" ] || [ ! -x "$BIN/split-bench" ]; then
    swift build -c release --product edge-node
    swift build -c release --product cloud-node
    swift build -c release --product split-bench
fi

mkdir -p "$OUT"
source scripts/daemons.sh soak
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

$BIN/cloud-node keygen --secret-file "$WORK/cloud.key" --public-file "$WORK/cloud.pub" >/dev/null
$BIN/edge-node keygen --secret-file "$WORK/edge.key" --public-file "$WORK/edge.pub" >/dev/null

# name model  -> a cloud replica and a relay in front of it; prints the relay's port.
start_cloud() {
    local name=$1 model=$2 port relay_port http_port
    port=$(free_port)
    http_port=$(free_port)
    echo "$http_port" >"$WORK/$name.http"
    $BIN/cloud-node serve --model "$model" --bind "tcp://127.0.0.1:$port" --threads 1 --http-port "$http_port" \
        --key "$WORK/cloud.key" --allow "$WORK/edge.pub" >"$OUT/$name.log" 2>&1 &
    PIDS+=($!)
    echo "$!" >"$WORK/$name.pid"
    wait_for "$OUT/$name.log" "serving"
    relay_port=$(free_port)
    $BIN/split-bench relay --listen-port "$relay_port" --target-port "$port" --rtt-ms "$RTT_MS" --jitter-ms 1 \
        >"$OUT/$name-relay.log" 2>&1 &
    PIDS+=($!)
    sleep 0.5
    echo "$relay_port" >"$WORK/$name.relay"
}
start_cloud code-a "$MODEL"
start_cloud code-b "$MODEL"
start_cloud policy-a "$POLICY"
start_cloud policy-b "$POLICY"

HTTP_PORT=$(free_port)
SOCKET="ipc://$WORK/edge.sock"
$BIN/edge-node serve --model "$MODEL" --split-layer "$SPLIT_LAYER" --encoding f32 \
    --cloud "tcp://127.0.0.1:$(cat "$WORK/code-a.relay")" --cloud "tcp://127.0.0.1:$(cat "$WORK/code-b.relay")" \
    --policy "$POLICY" --policy-split-layer "$POLICY_SPLIT_LAYER" \
    --policy-cloud "tcp://127.0.0.1:$(cat "$WORK/policy-a.relay")" --policy-cloud "tcp://127.0.0.1:$(cat "$WORK/policy-b.relay")" \
    --cloud-key "$WORK/cloud.pub" --key "$WORK/edge.key" \
    --listen "$SOCKET" --http-port "$HTTP_PORT" >"$OUT/edge.log" 2>&1 &
EDGE_PID=$!
PIDS+=($EDGE_PID)
wait_for "$OUT/edge.log" "edge node serving"
sleep 1

echo "soak: $CLIENTS clients for $SECONDS_TO_RUN s; load before: $(uptime)"
status=0
python3 tools/soak/soak.py --socket "$SOCKET" --http "http://127.0.0.1:$HTTP_PORT" \
    --pids "edge=$EDGE_PID,code-a=$(cat "$WORK/code-a.pid"),code-b=$(cat "$WORK/code-b.pid"),policy-a=$(cat "$WORK/policy-a.pid"),policy-b=$(cat "$WORK/policy-b.pid")" \
    --clients "$CLIENTS" --seconds "$SECONDS_TO_RUN" --rss-csv "$OUT/rss.csv" | tee "$OUT/report.json" || status=$?
echo "load after: $(uptime)"
# What the clouds hold at the end (sessions, connections, KV bytes), next to their RSS.
for name in code-a code-b policy-a policy-b; do
    curl -s "http://127.0.0.1:$(cat "$WORK/$name.http")/metrics" | grep -E '^split_cloud_(sessions|connections|kv_bytes|kv_peak_bytes|requests_overloaded_total|messages_malformed_total|replies_total) ' \
        | sed "s/^/$name: /"
done | tee "$OUT/cloud-metrics.txt"
echo "RSS samples: $OUT/rss.csv; daemon logs: $OUT/*.log"
exit $status
