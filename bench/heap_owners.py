#!/usr/bin/env python3
"""Groups an agent's live heap by owner and reports the marginal bytes per pod.

Input: two heaptrack "leaked" flamegraph files (heaptrack_print --flamegraph-cost-type
leaked -F), taken when the agent was SIGKILLed while idle, so "leaked" is everything it
held at that moment: one with a few pods (the baseline) and one with many. Each stack is
given to the first owner whose pattern one of its frames contains; the report is, per
owner, (bytes with many pods - bytes with few) / (many - few).

    heap_owners.py FEW_PODS FEW.folded MANY_PODS MANY.folded
"""
import json
import re
import sys

# A pattern is a tuple of strings one frame must all contain. First match wins, and the
# order matters: type names appear in generic arguments (the router's stream handler
# names Pod), pods are decoded inside the API client's stream, and a pod actor's
# requests open connections.
OWNERS = [
    ("emulated host (FakeHost)", [("illumos::fake",)]),
    ("decoded pods' contents (strings, lists, maps)", [("k8s_openapi", "Deserialize"), ("EventModify",)]),
    ("API connections (hyper, rustls, kube client)", [("hyper",), ("rustls",), ("kube_client",)]),
    ("pod actors (task, state, directory entry)",
     [("PodRouter::spawn",), ("agent::pod::",), ("actors::directory",), ("supervision::Children",)]),
    ("router (each pod's Pod struct, maps, inboxes)", [("agent::router",)]),
    ("IP pool", [("agent::ipam",)]),
]


def clean(frame):
    for mangled, plain in (("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"), ("$C$", ","), ("..", "::")):
        frame = frame.replace(mangled, plain)
    return re.sub(r"::h[0-9a-f]{16}$", "", frame)


def owners(path):
    totals = {name: 0 for name, _ in OWNERS}
    totals["other"] = 0
    with open(path, errors="replace") as folded:
        for line in folded:
            stack, _, count = line.rstrip().rpartition(" ")
            if not count.isdigit():
                continue
            frames = [clean(f) for f in stack.split(";")]
            owner = next(
                (name for name, patterns in OWNERS
                 if any(all(part in frame for part in pattern) for frame in frames for pattern in patterns)),
                "other",
            )
            totals[owner] += int(count)
    return totals


def main():
    few, few_path, many, many_path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if many <= few:
        sys.exit("heap_owners.py: the second run must have more pods")
    low, high = owners(few_path), owners(many_path)
    per_pod = {name: round((high[name] - low[name]) / (many - few) / 1000, 2) for name in high}
    print(json.dumps({
        "workload": "agent idle heap per pod",
        "pods": [few, many],
        "heap_bytes": [sum(low.values()), sum(high.values())],
        "kb_per_pod": per_pod,
        "kb_per_pod_total": round(sum(per_pod.values()), 2),
    }))


if __name__ == "__main__":
    main()
