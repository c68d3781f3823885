//! The objects workloads write: a pod about the size of a real one (about 3 KB once the
//! server has defaulted it), and Nodes and Leases for simulated heartbeats.

use serde_json::{Value, json};

/// The annotation carrying the client's send time (microseconds since the Unix epoch).
pub const SENT_AT: &str = "bench.reddwarf.io/sent-at-us";

pub fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "load"},
            "annotations": {"bench.reddwarf.io/padding": "x".repeat(600)}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
            "ports": [{"containerPort": 80}, {"containerPort": 443}],
            "env": [{"name": "MODE", "value": "bench"}],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 80}}}]}
    })
}

/// A Ready node with room for 110 pods, as an agent would register it.
pub fn node(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "illumos",
            "reddwarf.io/zone-brands": "lipkg", "bench.reddwarf.io/simulated": "true"}},
        "status": {
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "110"},
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "simulated by reddwarf-bench", "lastHeartbeatTime": now(), "lastTransitionTime": now()}],
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "illumos", "kernelVersion": "5.11",
                "osImage": "bench", "kubeletVersion": "v1.33.0", "containerRuntimeVersion": "zones://bench",
                "bootID": "", "machineID": "", "systemUUID": "", "kubeProxyVersion": ""}
        }
    })
}

/// A node's Lease in `kube-node-lease`.
pub fn lease(node: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": node, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": now_micro()}
    })
}

/// Microseconds since the Unix epoch, the clock watch-delivery latency is taken against.
pub fn unix_micros() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

pub fn now() -> String {
    reddwarf::api::objects::format_time(jiff::Timestamp::now())
}

/// The current time as `metav1.MicroTime`.
pub fn now_micro() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
