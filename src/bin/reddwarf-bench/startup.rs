//! W2, pod startup: pods created at a fixed rate (or in one burst) and timed from the
//! moment each create was sent until a watch shows it Running and Ready, upstream's
//! pod-startup SLI (scheduling, the agent, the zone operations and the status write all
//! count). The watch is opened before the first create, so no transition can be missed.
//! With `--agent-pid` it also reports the agent's resident-memory growth per pod once all
//! are running: an upper bound on an idle pod actor's cost (it includes the pod object,
//! its address and, with `--runtime sim`, the emulated zone).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::report::{Tally, rss_kib};
use crate::target::Target;

pub struct Startup {
    pub pods: u64,
    /// Creates per second; 0 sends them all at once (a burst, 64 in flight).
    pub rate: f64,
    pub namespace: String,
    /// Bind the pods to this node directly instead of letting the scheduler place them.
    pub node: Option<String>,
    pub agent_pid: Option<u32>,
    pub timeout: Duration,
    /// Wait (within `timeout`) until this many nodes are Ready before the first create.
    pub ready_nodes: usize,
}

/// A small pod, so a thousand fit one node.
fn startup_pod(name: &str, node: Option<&str>) -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "startup"}},
        "spec": {"containers": [{"name": "app", "image": "app:1",
            "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}}]}
    });
    if let Some(node) = node {
        pod["spec"]["nodeName"] = json!(node);
    }
    pod
}

fn running_and_ready(pod: &Value) -> bool {
    pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

/// The number of nodes whose Ready condition is True.
async fn count_ready_nodes(target: &Target) -> anyhow::Result<usize> {
    let nodes: Value = target.client.get(target.at("/api/v1/nodes")).send().await?.error_for_status()?.json().await?;
    let ready = |node: &&Value| {
        node.pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
    };
    Ok(nodes["items"].as_array().map_or(0, |items| items.iter().filter(ready).count()))
}

/// Waits until `want` nodes are Ready, so start-up times do not include node start-up.
async fn wait_for_ready_nodes(target: &Target, want: usize, timeout: Duration) -> anyhow::Result<usize> {
    let deadline = Instant::now() + timeout;
    loop {
        let ready = count_ready_nodes(target).await?;
        if ready >= want {
            return Ok(ready);
        }
        anyhow::ensure!(Instant::now() < deadline, "only {ready} of {want} nodes became Ready");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn run(target: Arc<Target>, startup: Startup) -> anyhow::Result<Value> {
    let nodes = wait_for_ready_nodes(&target, startup.ready_nodes, startup.timeout).await?;
    target.ensure_namespace(&startup.namespace).await?;
    let pods_path = format!("/api/v1/namespaces/{}/pods", startup.namespace);
    let list: Value = target.client.get(target.at(&format!("{pods_path}?limit=1"))).send().await?.json().await?;
    anyhow::ensure!(
        list["items"].as_array().is_some_and(Vec::is_empty),
        "namespace {} already has pods; use a fresh one",
        startup.namespace
    );
    let revision = list.pointer("/metadata/resourceVersion").and_then(Value::as_str).context("no list revision")?;
    let rss_before = startup.agent_pid.map(rss_kib).transpose()?;
    let url = target.at(&format!("{pods_path}?watch=true&resourceVersion={revision}&timeoutSeconds=3600"));
    let mut response = target.client.get(url).timeout(Duration::from_secs(7200)).send().await?.error_for_status()?;
    let (running_tx, mut running_rx) = mpsc::unbounded_channel::<(String, Instant)>();
    let watcher = tokio::spawn(async move {
        let mut buffer = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let seen = Instant::now();
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                let Ok(event) = serde_json::from_slice::<Value>(&line) else { continue };
                if running_and_ready(&event["object"])
                    && let Some(name) = event.pointer("/object/metadata/name").and_then(Value::as_str)
                    && running_tx.send((name.to_string(), seen)).is_err()
                {
                    return;
                }
            }
        }
    });

    let run_id = format!("s{:x}", std::process::id());
    let started = Instant::now();
    let (sent_tx, mut sent_rx) = mpsc::unbounded_channel::<(String, Instant)>();
    let mut create_errors = Tally::default();
    let interval = (startup.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / startup.rate));
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut creates = Vec::new();
    for n in 0..startup.pods {
        if let Some(interval) = interval {
            tokio::time::sleep_until((started + interval.mul_f64(n as f64)).into()).await;
        }
        let permit = limit.clone().acquire_owned().await?;
        let (target, pods_path, sent_tx) = (target.clone(), pods_path.clone(), sent_tx.clone());
        let name = format!("{run_id}-{n}");
        let node = startup.node.clone();
        creates.push(tokio::spawn(async move {
            let _permit = permit;
            let sent = Instant::now();
            let _ = sent_tx.send((name.clone(), sent));
            match target.client.post(target.at(&pods_path)).json(&startup_pod(&name, node.as_deref())).send().await {
                Ok(r) if r.status() == reqwest::StatusCode::CREATED => Ok(()),
                Ok(r) => Err(r.status().as_u16().to_string()),
                Err(e) => Err(format!("transport: {e}")),
            }
        }));
    }
    drop(sent_tx);
    for create in creates {
        if let Err(cause) = create.await? {
            create_errors.error(cause);
        }
    }
    let mut sent_at = HashMap::new();
    while let Some((name, at)) = sent_rx.recv().await {
        sent_at.insert(name, at);
    }

    let mut latency = Tally::default();
    let deadline = tokio::time::Instant::now() + startup.timeout;
    let expected = sent_at.len() as u64 - create_errors.errors.values().sum::<u64>();
    while latency.count() < expected {
        match tokio::time::timeout_at(deadline, running_rx.recv()).await {
            Ok(Some((name, seen))) => {
                if let Some(sent) = sent_at.remove(&name) {
                    latency.record(seen.saturating_duration_since(sent).as_micros() as u64);
                }
            }
            _ => break,
        }
    }
    watcher.abort();
    let agent_memory = match (startup.agent_pid, rss_before) {
        (Some(pid), Some(before)) => {
            let after = rss_kib(pid)?;
            json!({"rss_kib_before": before, "rss_kib_after": after,
                "kib_per_pod": after.saturating_sub(before) as f64 / latency.count().max(1) as f64})
        }
        _ => Value::Null,
    };
    Ok(json!({
        "workload": "W2 pod startup", "pods": startup.pods, "nodes": nodes,
        "mode": if interval.is_some() { format!("{} pods/s", startup.rate) } else { "burst".to_string() },
        "running": latency.count(), "not_running_by_timeout": expected.saturating_sub(latency.count()),
        "seconds": started.elapsed().as_secs_f64(),
        "startup_ms": latency.latency_ms(), "create_errors": create_errors.errors, "agent_memory": agent_memory,
    }))
}
