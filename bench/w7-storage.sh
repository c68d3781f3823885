#!/bin/sh
# W7: durable puts of the same ~3 KB pod JSON (bench/pod-3k.json) into etcd 3.4 (Debian's
# etcd-server, on loopback, one member, default fsync-per-batch WAL) and into Reddwarf's
# store (sled, group commit, flushed before acknowledgement), at 1, 16 and 64 concurrent
# clients. The two alternate, A-B then B-A, for ROUNDS rounds, each run on a fresh data
# directory on the same disk. Prints a table of medians and their ratio.
#
#   bench/w7-storage.sh                      # ROUNDS=5 COUNT=5000 CLIENTS="1 16 64"
#   ROUNDS=7 COUNT=10000 bench/w7-storage.sh
set -eu

ROUNDS=${ROUNDS:-5}
COUNT=${COUNT:-5000}
CLIENTS=${CLIENTS:-"1 16 64"}
WORK=${W7_DIR:-/var/tmp/reddwarf-w7}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
RESULTS=$WORK/results.jsonl

need() { command -v "$1" >/dev/null 2>&1 || { echo "w7: $1 is missing: $2" >&2; exit 1; }; }
need etcd "apt-get install etcd-server"
need etcdctl "apt-get install etcd-client"
need protoc "apt-get install protobuf-compiler (the etcd client crate needs it to build)"
need python3 "install python3"

(cd "$ROOT" && cargo build --release --bin reddwarf-bench)
(cd "$HERE/etcd-peer" && cargo build --release)
BENCH=$ROOT/target/release/reddwarf-bench
PEER=$HERE/etcd-peer/target/release/etcd-peer

rm -rf "$WORK" && mkdir -p "$WORK"
ETCD_PID=
stop_etcd() { if [ -n "$ETCD_PID" ]; then kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null || true; fi; ETCD_PID=; }
trap stop_etcd EXIT INT TERM

run_etcd() { # clients
    dir=$WORK/etcd-data && rm -rf "$dir"
    ETCDCTL_API=3 etcd --name w7 --data-dir "$dir" \
        --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
        --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
        --initial-cluster w7=http://127.0.0.1:23800 --quota-backend-bytes 8589934592 \
        --log-level error >"$WORK/etcd.log" 2>&1 &
    ETCD_PID=$!
    tries=0
    until ETCDCTL_API=3 etcdctl --endpoints http://127.0.0.1:23790 endpoint health >/dev/null 2>&1; do
        tries=$((tries + 1)); [ $tries -gt 200 ] && { echo "w7: etcd did not start" >&2; cat "$WORK/etcd.log" >&2; exit 1; }
        sleep 0.1
    done
    "$PEER" --endpoint http://127.0.0.1:23790 --document "$HERE/pod-3k.json" --clients "$1" --count "$COUNT" >>"$RESULTS"
    stop_etcd
}

run_reddwarf() { # clients
    dir=$WORK/reddwarf-data && rm -rf "$dir"
    "$BENCH" store-put --data-dir "$dir" --document "$HERE/pod-3k.json" --clients "$1" --count "$COUNT" >>"$RESULTS"
}

round=1
while [ $round -le "$ROUNDS" ]; do
    for c in $CLIENTS; do
        if [ $((round % 2)) -eq 1 ]; then run_etcd "$c"; run_reddwarf "$c"; else run_reddwarf "$c"; run_etcd "$c"; fi
        echo "w7: round $round, $c clients done" >&2
    done
    round=$((round + 1))
done

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
print("| clients | etcd ops/s (median) | Reddwarf ops/s (median) | ratio R/E | etcd p99 ms | Reddwarf p99 ms | rounds |")
print("|---|---|---|---|---|---|---|")
for c in sorted({r["clients"] for r in runs}):
    pick = lambda s: [r for r in runs if r["clients"] == c and r["system"] == s]
    e, r = pick("etcd"), pick("reddwarf-store")
    med = lambda rs, f: statistics.median(f(x) for x in rs)
    eo, ro = med(e, lambda x: x["ops_per_second"]), med(r, lambda x: x["ops_per_second"])
    ep, rp = med(e, lambda x: x["latency_ms"]["p99"]), med(r, lambda x: x["latency_ms"]["p99"])
    print(f"| {c} | {eo:,.0f} | {ro:,.0f} | {ro/eo:.2f} | {ep:.2f} | {rp:.2f} | {len(e)}+{len(r)} |")
errors = [r for r in runs if r.get("errors")]
if errors:
    print(f"\nruns with errors: {len(errors)}")
PY
