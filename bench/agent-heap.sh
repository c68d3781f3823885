#!/bin/sh
# The agent's memory per idle pod, by owner. Runs a release control plane (--no-agent)
# and a separate `reddwarf agent --runtime sim` under heaptrack, starts FEW and then (on
# a fresh pair) MANY pods on it with `reddwarf-bench startup`, waits IDLE seconds, and
# SIGKILLs the agent: heaptrack then reports as "leaked" exactly what the idle agent held.
# bench/heap_owners.py groups that by owner and divides the difference by MANY - FEW. The
# JSON report is appended to bench/results/agent-heap.jsonl.
#
#   bench/agent-heap.sh              # FEW=10 MANY=1000 IDLE=100
#
# Needs heaptrack (apt install heaptrack).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
FEW=${FEW:-10}
MANY=${MANY:-1000}
IDLE=${IDLE:-100}
PORT=${PORT:-17444}
command -v heaptrack >/dev/null || { echo "agent-heap: heaptrack is not installed" >&2; exit 1; }
cd "$ROOT"
cargo build --release --bins
BIN=$ROOT/target/release
WORK=$(mktemp -d /var/tmp/reddwarf-agent-heap.XXXXXX)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

run() { # pods -> $WORK/<pods>.folded
    pods=$1
    dir=$WORK/$pods
    mkdir -p "$dir"
    "$BIN/reddwarf" serve --data-dir "$dir/server" --listen "127.0.0.1:$PORT" --runtime sim --no-agent \
        --node-cidr-prefix 22 --cluster-cidr 127.77.0.0/16 >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    tries=0
    until [ -s "$dir/server/admin.kubeconfig" ]; do
        tries=$((tries + 1))
        [ $tries -gt 600 ] && { echo "agent-heap: the server did not start" >&2; exit 1; }
        sleep 0.1
    done
    heaptrack -o "$dir/heap" "$BIN/reddwarf" agent --kubeconfig "$dir/server/admin.kubeconfig" --runtime sim \
        --data-dir "$dir/agent" --node-name solo --max-pods $((MANY + 100)) --kubelet-listen 127.0.0.1:0 \
        >"$dir/agent.log" 2>&1 &
    tracer=$!
    "$BIN/reddwarf-bench" --kubeconfig "$dir/server/admin.kubeconfig" startup --pods "$pods" --rate 0 \
        --ready-nodes 1 --namespace heap >"$dir/startup.json"
    sleep "$IDLE"
    # The agent itself, not heaptrack's wrapper script (which also names it).
    agent=$(pgrep -f "reddwarf agent --kubeconfig $dir/server" | while read -r pid; do
        [ "$(cat /proc/"$pid"/comm)" = reddwarf ] && echo "$pid"; done)
    [ -n "$agent" ] || { echo "agent-heap: the agent is not running" >&2; exit 1; }
    kill -9 "$agent"
    wait "$tracer" 2>/dev/null || true
    kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    heaptrack_print --flamegraph-cost-type leaked -F "$dir/leaked.folded" "$dir"/heap*.zst >/dev/null
}

run "$FEW"
run "$MANY"
mkdir -p "$HERE/results"
python3 "$HERE/heap_owners.py" "$FEW" "$WORK/$FEW/leaked.folded" "$MANY" "$WORK/$MANY/leaked.folded" |
    tee -a "$HERE/results/agent-heap.jsonl"
rm -rf "$WORK"
