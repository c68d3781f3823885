#!/usr/bin/env python3
"""Draws one PNG per benchmark workload from bench/results/*.jsonl (written by
bench/run-all.sh) into bench/plots/. Workloads without results are skipped.

    python3 bench/plot.py
"""
import json
import pathlib
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"
PLOTS = HERE / "plots"
ROOT = HERE.parent


def runs(name):
    path = RESULTS / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def save(fig, name):
    PLOTS.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(PLOTS / f"{name}.png", dpi=110)
    plt.close(fig)
    print(f"wrote {PLOTS / (name + '.png')}")


def latency_axes(ax, xs, reports, key, label):
    for q, style in (("p50", "o-"), ("p99", "s--")):
        ax.plot(xs, [r[key][q] for r in reports], style, label=f"{label} {q}")
    ax.set_ylabel("ms")


def w1():
    reports = sorted(runs("w1"), key=lambda r: r["clients"])
    if not reports:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [str(r["clients"]) for r in reports]
    ax.bar(xs, [r["pods_per_second"] for r in reports], color="tab:red", alpha=0.7, label="pods/s")
    ax.axhline(2000, color="grey", ls=":", label="target 2,000/s at 16 clients")
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("creates per second")
    twin = ax.twinx()
    latency_axes(twin, xs, reports, "latency_ms", "latency")
    ax.legend(loc="upper left")
    twin.legend(loc="upper right")
    ax.set_title("W1: pod creates over HTTPS (durable)")
    save(fig, "w1")


def w2():
    # Runs that recorded their node count (run-all.sh's current W2); the newest per shape.
    latest = {}
    for r in runs("w2"):
        if "nodes" in r:
            anchor_burst = r["mode"] == "burst" and r["pods"] == 30 * r["nodes"]
            latest[(r["nodes"], "anchor" if anchor_burst else r["mode"])] = r
    if not latest:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    shapes = (("20 pods/s", "o", "1,000 at 20 pods/s"), ("burst", "s", "1,000 at once"),
              ("anchor", "^", "30 per node at once"))
    for shape, style, label in shapes:
        reports = sorted((r for (_, m), r in latest.items() if m == shape), key=lambda r: r["nodes"])
        xs = [str(r["nodes"]) for r in reports]
        ax.plot(xs, [r["startup_ms"]["p50"] for r in reports], f"{style}-", label=f"{label} p50")
        ax.plot(xs, [r["startup_ms"]["p99"] for r in reports], f"{style}--", label=f"{label} p99")
    ax.set_yscale("log")
    ax.axhline(5000, color="grey", ls=":", label="upstream SLO p99 5 s")
    ax.axhline(1000, color="tab:red", ls=":", label="target p99 1 s")
    ax.set_xlabel("simulated nodes")
    ax.set_ylabel("create to Running and Ready, ms")
    ax.legend(fontsize=7)
    ax.set_title("W2: pod startup observed through a watch")
    save(fig, "w2")


def w3():
    reports = sorted(runs("w3"), key=lambda r: r["watchers"])
    if not reports:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    xs = [str(r["watchers"]) for r in reports]
    latency_axes(left, xs, reports, "delivery_latency_ms", "delivery")
    left.axhline(100, color="grey", ls=":", label="target p99 100 ms")
    left.set_xlabel("watchers")
    left.legend()
    right.bar(xs, [r["server_kib_per_watcher"] or 0 for r in reports], color="tab:purple")
    right.set_xlabel("watchers")
    right.set_ylabel("server KiB per watcher")
    fig.suptitle("W3: watch fan-out at 100 writes/s")
    save(fig, "w3")


def w4():
    base = ROOT / "target" / "criterion"
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = False
    for variant in ("sampled", "full"):
        points = []
        for nodes in (100, 1000, 5000):
            estimates = base / f"scheduler_10k_pods_{variant}" / "nodes" / str(nodes) / "new" / "estimates.json"
            if estimates.exists():
                seconds = json.loads(estimates.read_text())["median"]["point_estimate"] / 1e9
                points.append((nodes, 10_000 / seconds))
        if points:
            drawn = True
            ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=variant)
    if not drawn:
        plt.close(fig)
        return
    ax.axhspan(680, 810, color="grey", alpha=0.2, label="scheduler_perf floor 680-810/s")
    ax.axhline(1000, color="grey", ls=":", label="target 1,000/s at 5,000 nodes")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("nodes")
    ax.set_ylabel("pods scheduled per second")
    ax.legend()
    ax.set_title("W4: scheduler alone, 10,000 pods")
    save(fig, "w4")


def w5():
    reports = runs("w5")
    if not reports:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in reports:
        levels = r["levels"]
        ax.plot([l["pods"] for l in levels], [l["rss_kib"] / 1024 for l in levels], "o-",
                label=f'{r["nodes"]} nodes heartbeating')
    ax.set_xlabel("pods stored")
    ax.set_ylabel("server RSS, MiB")
    ax.legend()
    ax.set_title("W5: server memory")
    save(fig, "w5")


def w6():
    reports = sorted(runs("w6"), key=lambda r: r["preloaded"])
    if not reports:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [str(r["preloaded"]) for r in reports]
    ax.bar(xs, [r["restart_to_readyz_seconds"] for r in reports], color="tab:green")
    ax.axhline(2, color="grey", ls=":", label="target 2 s")
    for x, r in zip(xs, reports):
        ax.annotate(f'lost {r["acknowledged_lost"]}', (x, r["restart_to_readyz_seconds"]), ha="center",
                    va="bottom")
    ax.set_xlabel("pods before kill -9")
    ax.set_ylabel("restart to /readyz, s")
    ax.legend()
    ax.set_title("W6: recovery after kill -9")
    save(fig, "w6")


def w7():
    reports = runs("w7")
    if not reports:
        return
    clients = sorted({r["clients"] for r in reports})
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.38
    for i, system in enumerate(("etcd", "reddwarf-store")):
        medians = [statistics.median(r["ops_per_second"] for r in reports
                                     if r["clients"] == c and r["system"] == system) for c in clients]
        ax.bar([k + (i - 0.5) * width for k in range(len(clients))], medians, width, label=system)
    ax.set_xticks(range(len(clients)), [str(c) for c in clients])
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("durable puts per second (median of rounds)")
    ax.legend()
    ax.set_title("W7: etcd 3.4 vs Reddwarf's store, same 3 KB document")
    save(fig, "w7")


def w8():
    reports = runs("w8")
    if not reports:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [str(r["nodes"]) for r in reports]
    latency_axes(ax, xs, reports, "lease_put_latency_ms", "Lease PUT")
    twin = ax.twinx()
    twin.bar(xs, [r["server_cpu_percent"] or 0 for r in reports], alpha=0.3, color="tab:orange", label="server CPU %")
    twin.set_ylabel("server CPU, % of one core")
    ax.set_xlabel("simulated nodes")
    ax.legend(loc="upper left")
    twin.legend(loc="upper right")
    ax.set_title("W8: Lease renewals every 10 s")
    save(fig, "w8")


for draw in (w1, w2, w3, w4, w5, w6, w7, w8):
    draw()
