#!/bin/sh
# Runs Reddwarf's benchmark workloads at BENCHMARKS.md's sizes, each against a fresh
# release server, and appends one JSON report per run to bench/results/<workload>.jsonl.
# bench/plot.py then draws bench/plots/<workload>.png.
#
#   bench/run-all.sh                 # every workload
#   bench/run-all.sh w1 w3           # some of them
#
# Servers run with $SERVE_ARGS (default: --no-agent, so W1/W3/W5/W6/W8 measure the control
# plane alone). W2 runs the in-process agents with --runtime sim and FakeHost delays of 0,
# at 1, 10, 100 and 1,000 simulated nodes (--sim-nodes): 1,000 pods at 20 pods/s and at
# once, and the anchor's burst of 30 pods per node.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
OUT=$HERE/results
SERVE_ARGS=${SERVE_ARGS:-"--no-agent"}
PORT=${PORT:-17443}
mkdir -p "$OUT"
cd "$ROOT"
cargo build --release --bins
BIN=$ROOT/target/release
SERVER_PID=
SERVER_DIR=

start_server() { # extra serve flags...
    SERVER_DIR=$(mktemp -d /var/tmp/reddwarf-bench.XXXXXX)
    # shellcheck disable=SC2086
    "$BIN/reddwarf" serve --data-dir "$SERVER_DIR" --listen "127.0.0.1:$PORT" "$@" \
        >/dev/null 2>"$SERVER_DIR.log" &
    SERVER_PID=$!
    tries=0
    until [ -s "$SERVER_DIR/admin.kubeconfig" ] && curl -sf --cacert "$SERVER_DIR/tls/ca.crt" \
        "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ $tries -gt 600 ] && { echo "bench: the server did not start" >&2; cat "$SERVER_DIR.log" >&2; exit 1; }
        sleep 0.1
    done
    export KUBECONFIG="$SERVER_DIR/admin.kubeconfig"
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "$SERVER_DIR" ]; then rm -rf "$SERVER_DIR" "$SERVER_DIR.log"; fi
    SERVER_PID= SERVER_DIR=
}
trap stop_server EXIT INT TERM

record() { # workload, then the command
    name=$1; shift
    echo "bench: $name: $*" >&2
    "$@" | tee -a "$OUT/$name.jsonl"
}

w1() {
    for clients in 1 16 64; do
        start_server $SERVE_ARGS
        record w1 "$BIN/reddwarf-bench" create --clients "$clients" --count 20000
        stop_server
    done
}

w2() {
    # Simulated nodes in the server's process; each node's podCIDR block must hold its
    # share of the 1,000 pods within the sim cluster CIDR 127.77.0.0/16.
    for nodes_and_prefix in 1:22 10:24 100:24 1000:26; do
        nodes=${nodes_and_prefix%:*} prefix=${nodes_and_prefix#*:}
        for rate in 20 0; do
            start_server --runtime sim --sim-nodes "$nodes" --max-pods 1100 --node-cidr-prefix "$prefix"
            record w2 "$BIN/reddwarf-bench" startup --pods 1000 --rate "$rate" --ready-nodes "$nodes" \
                --agent-pid "$SERVER_PID" --namespace "startup-$rate"
            stop_server
        done
        # The anchor's burst: 30 pods per node at once (30,000 pods at 1,000 nodes is
        # beyond this machine; that size is skipped).
        if [ "$nodes" -le 100 ]; then
            start_server --runtime sim --sim-nodes "$nodes" --max-pods 1100 --node-cidr-prefix "$prefix"
            record w2 "$BIN/reddwarf-bench" startup --pods $((30 * nodes)) --rate 0 --ready-nodes "$nodes" \
                --agent-pid "$SERVER_PID" --namespace startup-anchor-burst
            stop_server
        fi
    done
}

w3() {
    for watchers in 1 100 1000; do
        start_server $SERVE_ARGS
        record w3 "$BIN/reddwarf-bench" fanout --watchers "$watchers" --rate 100 --seconds 30 --server-pid "$SERVER_PID"
        stop_server
    done
}

w4() {
    cargo bench --bench scheduler 2>&1 | tee "$OUT/w4.txt"
}

w5() {
    start_server $SERVE_ARGS
    record w5 "$BIN/reddwarf-bench" memory --nodes 1000 --pods 10000,50000 --settle 20s --server-pid "$SERVER_PID"
    stop_server
}

w6() {
    for preload in 10000 50000; do
        dir=$(mktemp -d /var/tmp/reddwarf-w6.XXXXXX) && rmdir "$dir"
        # shellcheck disable=SC2086
        record w6 "$BIN/reddwarf-bench" recovery --server-bin "$BIN/reddwarf" --data-dir "$dir" \
            --preload "$preload" --clients 16 --kill-after 5s $(for a in $SERVE_ARGS; do printf -- '--server-arg=%s ' "$a"; done)
        rm -rf "$dir" "$dir.log"
    done
}

w7() {
    "$HERE/w7-storage.sh" | tee "$OUT/w7.md"
    cp /var/tmp/reddwarf-w7/results.jsonl "$OUT/w7.jsonl"
}

w8() {
    start_server $SERVE_ARGS
    record w8 "$BIN/reddwarf-bench" heartbeat --nodes 1000 --duration 60s --server-pid "$SERVER_PID"
    stop_server
}

if [ $# -eq 0 ]; then set -- w1 w2 w3 w4 w5 w6 w7 w8; fi
for workload in "$@"; do
    "$workload"
done
