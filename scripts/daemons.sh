# Sourced by the scripts that start daemons (demo, robot-wallclock, soak): a work directory
# removed on exit with every started daemon killed, and a wait for a daemon's log line.
# Usage: source scripts/daemons.sh PREFIX; then `PIDS+=($!)` after starting each daemon.
WORK=$(mktemp -d "/tmp/split-$1.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
wait_for() {  # file text
    for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "timed out waiting for '$2' in $1:"; cat "$1"; exit 1
}
