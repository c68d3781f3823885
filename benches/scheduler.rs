//! The scheduling algorithm alone (no IO): 10,000 pods placed one after another onto 100,
//! 1,000 and 5,000 nodes, each placement counted on its node before the next. Criterion
//! reports pods per second. Two variants: `sampled` is what the SchedulerActor runs
//! (upstream's adaptive percentage of nodes to score, rotating start); `full` examines
//! every node for every pod, to show the per-pod cost growing with the node count.
//!
//! `cargo bench --bench scheduler`
#![allow(clippy::disallowed_methods, reason = "a benchmark measures real elapsed time")]

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::{Node, Pod};
use reddwarf::logic::schedule::{NodeInfo, PodRequest, schedule, schedule_sampled};
use serde_json::json;

const PODS: u64 = 10_000;

fn nodes(count: usize) -> Vec<NodeInfo> {
    (0..count)
        .map(|i| {
            let node: Node = serde_json::from_value(json!({
                "metadata": {"name": format!("node-{i:05}"), "labels": {"kubernetes.io/hostname": format!("node-{i:05}"), "zone": if i % 2 == 0 { "east" } else { "west" }}},
                "spec": {"taints": if i % 10 == 0 { json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]) } else { json!([]) }},
                "status": {"allocatable": {"cpu": "32", "memory": "128Gi", "pods": "250"}, "conditions": [{"type": "Ready", "status": "True"}]}
            }))
            .unwrap();
            NodeInfo::from_node(&node)
        })
        .collect()
}

fn pod() -> PodRequest {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
                 "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
                 "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                     {"weight": 10, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["east"]}]}}]}}}
    }))
    .unwrap();
    PodRequest::from_pod(&pod)
}

fn scheduling(c: &mut Criterion) {
    for variant in ["sampled", "full"] {
        scheduling_variant(c, variant);
    }
}

fn scheduling_variant(c: &mut Criterion, variant: &str) {
    let mut group = c.benchmark_group(format!("scheduler_10k_pods_{variant}"));
    group.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements(PODS));
    let request = pod();
    for count in [100usize, 1_000, 5_000] {
        let template = nodes(count);
        let index: std::collections::HashMap<String, usize> =
            template.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect();
        group.bench_function(BenchmarkId::new("nodes", count), |b| {
            b.iter_custom(|iterations| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iterations {
                    let mut cluster = template.clone();
                    let started = Instant::now();
                    let mut start = 0;
                    for n in 0..PODS {
                        let chosen = if variant == "sampled" {
                            let (choice, examined) = schedule_sampled(&request, &cluster, start, n);
                            start += examined;
                            choice.expect("room for every pod").to_string()
                        } else {
                            schedule(&request, cluster.iter(), n).expect("room for every pod").to_string()
                        };
                        cluster[index[&chosen]].assume(&request);
                    }
                    elapsed += started.elapsed();
                }
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, scheduling);
criterion_main!(benches);
