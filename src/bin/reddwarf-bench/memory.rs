//! W5, memory per object: the server's resident memory at idle, with N simulated nodes
//! heartbeating every 10 s, and after loading pods up to each requested level. Reports KB
//! per pod and MB per node, the quantities the k0s anchors give.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::create::{self, CreateLoad};
use crate::heartbeat::{self, node_names};
use crate::report::rss_kib;
use crate::target::Target;

pub struct MemoryLoad {
    pub nodes: usize,
    pub pod_levels: Vec<u64>,
    pub settle: Duration,
    pub server_pid: u32,
}

pub async fn run(target: Arc<Target>, load: MemoryLoad) -> anyhow::Result<Value> {
    let idle = rss_kib(load.server_pid)?;
    let names = node_names("w5-node", load.nodes);
    heartbeat::register(&target, &names).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let beats = tokio::spawn(heartbeat::renew(
        target.clone(),
        names,
        Duration::from_secs(10),
        Duration::from_secs(60),
        stop.clone(),
    ));
    tokio::time::sleep(load.settle).await;
    let with_nodes = rss_kib(load.server_pid)?;
    target.ensure_namespace("w5").await?;
    let mut levels = vec![json!({"pods": 0, "rss_kib": with_nodes})];
    let mut loaded = 0;
    for &level in &load.pod_levels {
        if level > loaded {
            let batch = CreateLoad {
                clients: 16,
                count: level - loaded,
                rate: 0.0,
                namespace: "w5".into(),
                prefix: format!("w5-{loaded}"),
            };
            let outcome = create::run(target.clone(), &batch, Arc::new(AtomicBool::new(false))).await;
            anyhow::ensure!(outcome.tally.errors.is_empty(), "creates failed: {:?}", outcome.tally.errors);
            loaded = level;
        }
        tokio::time::sleep(load.settle).await;
        levels.push(json!({"pods": loaded, "rss_kib": rss_kib(load.server_pid)?}));
    }
    stop.store(true, Ordering::Relaxed);
    let beats = beats.await?;
    let top = levels.last().and_then(|l| l["rss_kib"].as_u64()).unwrap_or(with_nodes);
    Ok(json!({
        "workload": "W5 memory", "nodes": load.nodes, "settle_seconds": load.settle.as_secs_f64(),
        "rss_kib_idle": idle, "rss_kib_with_nodes": with_nodes, "levels": levels,
        "mib_per_node": (with_nodes as f64 - idle as f64) / 1024.0 / load.nodes.max(1) as f64,
        "kib_per_pod": (top as f64 - with_nodes as f64) / loaded.max(1) as f64,
        "lease_put_latency_ms": beats.lease_puts.latency_ms(), "lease_put_errors": beats.lease_puts.errors,
    }))
}
