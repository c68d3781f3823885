//! Simulated node heartbeats, as agents send them: each node renews its Lease every
//! `interval` (10 s upstream) and patches its Ready condition every `status_interval`
//! (60 s upstream), at phases spread evenly, so N nodes make N/interval renewals per
//! second. W8 measures this load; W5 runs it underneath its memory readings.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::objects::{lease, node, now, now_micro};
use crate::report::Tally;
use crate::target::Target;

/// The names of `count` simulated nodes.
pub fn node_names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{i}")).collect()
}

/// Creates each node and its Lease (accepting ones that exist), 32 at a time.
pub async fn register(target: &Arc<Target>, names: &[String]) -> anyhow::Result<()> {
    let results: Vec<anyhow::Result<()>> = futures_util::stream::iter(names.iter().cloned())
        .map(|name| {
            let target = target.clone();
            async move {
                create(&target, "/api/v1/nodes", node(&name)).await?;
                create(&target, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease(&name)).await
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    results.into_iter().collect()
}

async fn create(target: &Target, path: &str, object: Value) -> anyhow::Result<()> {
    let response = target.client.post(target.at(path)).json(&object).send().await?;
    if !(response.status().is_success() || response.status() == reqwest::StatusCode::CONFLICT) {
        bail!("creating {path}: {} {}", response.status(), response.text().await?);
    }
    Ok(())
}

/// Latencies of the two kinds of heartbeat.
#[derive(Default)]
pub struct Heartbeats {
    pub lease_puts: Tally,
    pub status_patches: Tally,
}

/// Renews every node's Lease until `stop` is set.
pub async fn renew(
    target: Arc<Target>,
    names: Vec<String>,
    interval: Duration,
    status_interval: Duration,
    stop: Arc<AtomicBool>,
) -> Heartbeats {
    let started = Instant::now();
    let count = names.len().max(1);
    let mut nodes = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let (target, stop) = (target.clone(), stop.clone());
        let phase = interval.mul_f64(i as f64 / count as f64);
        nodes.push(tokio::spawn(async move {
            let mut beats = Heartbeats::default();
            let lease_url = target.at(&format!("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"));
            let status_url = target.at(&format!("/api/v1/nodes/{name}/status"));
            let mut current: Option<Value> = None;
            let mut due = started + phase;
            let mut status_due = started + phase;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep_until(due.into()).await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                match renew_once(&target, &lease_url, &mut current, due).await {
                    Ok(micros) => beats.lease_puts.record(micros),
                    Err(cause) => beats.lease_puts.error(cause),
                }
                if Instant::now() >= status_due {
                    let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True",
                        "reason": "KubeletReady", "message": "simulated by reddwarf-bench", "lastHeartbeatTime": now()}]}});
                    let sent = Instant::now();
                    let result = target
                        .client
                        .patch(&status_url)
                        .header("content-type", "application/strategic-merge-patch+json")
                        .body(patch.to_string())
                        .send()
                        .await;
                    match result {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            beats.status_patches.record(sent.elapsed().as_micros() as u64);
                        }
                        Ok(r) => beats.status_patches.failed(Ok(r.status())),
                        Err(e) => beats.status_patches.failed(Err(&e)),
                    }
                    status_due += status_interval;
                }
                due += interval;
            }
            beats
        }));
    }
    let mut total = Heartbeats::default();
    for node in nodes {
        let beats = node.await.expect("a heartbeat task does not panic");
        total.lease_puts.merge(beats.lease_puts);
        total.status_patches.merge(beats.status_patches);
    }
    total
}

/// One renewal: a PUT of the Lease with a new renewTime and the resourceVersion last
/// seen, re-reading it once on a conflict. Latency counts from when it was due.
async fn renew_once(target: &Target, url: &str, current: &mut Option<Value>, due: Instant) -> Result<u64, String> {
    for _ in 0..2 {
        let mut lease = match current.take() {
            Some(lease) => lease,
            None => fetch(target, url).await.map_err(|e| format!("reading the lease: {e}"))?,
        };
        lease["spec"]["renewTime"] = json!(now_micro());
        let response = target.client.put(url).json(&lease).send().await.map_err(|e| format!("transport: {e}"))?;
        match response.status() {
            reqwest::StatusCode::OK => {
                *current = Some(response.json().await.map_err(|e| format!("body: {e}"))?);
                return Ok(due.elapsed().as_micros() as u64);
            }
            reqwest::StatusCode::CONFLICT => continue,
            other => return Err(other.as_u16().to_string()),
        }
    }
    Err("409 twice".into())
}

async fn fetch(target: &Target, url: &str) -> anyhow::Result<Value> {
    let response = target.client.get(url).send().await?.error_for_status()?;
    response.json().await.context("a lease body")
}
