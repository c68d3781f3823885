//! `reddwarf-bench`: load generator for a running Reddwarf (or any Kubernetes API server),
//! over HTTPS with an admin kubeconfig. It reports throughput and latency percentiles from
//! an HDR histogram, and counts errors by status code.
//!
//! Workloads:
//! - `create` (W1): N pod creates from C concurrent clients, as fast as the server
//!   answers, or open-loop at a fixed total `--rate`.
//! - `startup`: N pods created from C clients while a watch records, per pod, the time
//!   from sending its create to the first watch event that shows it Running and Ready
//!   (so scheduling, the agent, the zone operations and the status write all count).
//!   With `--agent-pid` it also reports the growth of that process's resident memory per
//!   pod once all are Running (an upper bound on an idle pod actor's cost: it includes
//!   the pod object, its IP and, with `--runtime sim`, the emulated zone).
#![allow(clippy::disallowed_methods, reason = "a benchmark measures real elapsed time")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(name = "reddwarf-bench", about = "Load generator for the Reddwarf API")]
struct Cli {
    /// The admin kubeconfig of the server under test.
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: PathBuf,
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Subcommand)]
enum Workload {
    /// W1: pod creates per second.
    Create {
        /// Concurrent clients (each waits for its answer before sending again).
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Pods to create in total.
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        /// Open-loop total arrival rate (pods/s); 0 means as fast as possible.
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
        /// The namespace to create them in (created if missing).
        #[arg(long, default_value = "bench")]
        namespace: String,
    },
    /// Pod start-up latency: create → Running (observed through a watch).
    Startup {
        /// Pods to create.
        #[arg(long, default_value_t = 1000)]
        pods: u64,
        /// Concurrent creating clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Bind the pods to this node directly (default: let the scheduler place them).
        #[arg(long)]
        node: Option<String>,
        /// The namespace to create them in (created if missing).
        #[arg(long, default_value = "startup")]
        namespace: String,
        /// The agent's process, to report its memory growth per pod.
        #[arg(long)]
        agent_pid: Option<u32>,
        /// Give up after this long.
        #[arg(long, default_value = "300s", value_parser = humantime::parse_duration)]
        timeout: Duration,
    },
}

/// Server, CA and token from a kubeconfig.
struct Target {
    server: String,
    client: reqwest::Client,
}

fn target(kubeconfig: &PathBuf, connections: usize) -> anyhow::Result<Target> {
    let text = std::fs::read_to_string(kubeconfig).with_context(|| format!("reading {}", kubeconfig.display()))?;
    let config: Value = serde_yaml::from_str(&text)?;
    let server = config.pointer("/clusters/0/cluster/server").and_then(Value::as_str).context("no server")?.to_string();
    let ca =
        config.pointer("/clusters/0/cluster/certificate-authority-data").and_then(Value::as_str).context("no CA")?;
    let ca = base64::engine::general_purpose::STANDARD.decode(ca)?;
    let token = config.pointer("/users/0/user/token").and_then(Value::as_str).context("no token")?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse()?);
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
        .default_headers(headers)
        .pool_max_idle_per_host(connections)
        .http1_only()
        .timeout(Duration::from_secs(60))
        .build()?;
    Ok(Target { server, client })
}

/// A pod about the size of a real one (~3 KB once defaulted).
fn pod(name: &str) -> Value {
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

#[derive(Default)]
struct Tally {
    latency_us: Option<Histogram<u64>>,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn histogram(&mut self) -> &mut Histogram<u64> {
        self.latency_us.get_or_insert_with(|| Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"))
    }
}

async fn create(target: Arc<Target>, clients: usize, count: u64, rate: f64, namespace: String) -> anyhow::Result<()> {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    let response = target.client.post(format!("{}/api/v1/namespaces", target.server)).json(&ns).send().await?;
    if !(response.status().is_success() || response.status() == reqwest::StatusCode::CONFLICT) {
        bail!("creating namespace {namespace}: {}", response.text().await?);
    }
    let run = format!("{:x}", std::process::id());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let interval = (rate > 0.0).then(|| Duration::from_secs_f64(clients as f64 / rate));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (target, next, namespace, run) = (target.clone(), next.clone(), namespace.clone(), run.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let url = format!("{}/api/v1/namespaces/{namespace}/pods", target.server);
            let mut due = Instant::now();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    break;
                }
                if interval.is_some() {
                    // Open loop: latency counts from when the request was due, not sent.
                    tokio::time::sleep_until(due.into()).await;
                } else {
                    due = Instant::now();
                }
                let result = target.client.post(&url).json(&pod(&format!("b{run}-{n}"))).send().await;
                let elapsed = due.elapsed().as_micros() as u64;
                match result {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        let _ = r.bytes().await;
                        tally.histogram().record(elapsed.max(1)).ok();
                    }
                    Ok(r) => *tally.errors.entry(r.status().as_u16().to_string()).or_default() += 1,
                    Err(e) => *tally.errors.entry(format!("transport: {e}")).or_default() += 1,
                }
                if let Some(interval) = interval {
                    due += interval;
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await?;
        if let Some(h) = tally.latency_us {
            total.histogram().add(h)?;
        }
        for (k, v) in tally.errors {
            *total.errors.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let histogram = total.histogram().clone();
    let ok = histogram.len();
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    let report = json!({
        "workload": "W1 create", "clients": clients, "requested": count, "created": ok,
        "seconds": elapsed, "pods_per_second": ok as f64 / elapsed,
        "latency_ms": {"p50": ms(0.50), "p90": ms(0.90), "p99": ms(0.99), "max": histogram.max() as f64 / 1000.0},
        "errors": total.errors,
    });
    println!("{report}");
    Ok(())
}

/// A small pod for start-up runs: tiny requests, so a thousand fit one node.
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

/// Resident memory of a process, in bytes (Linux `/proc`).
fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    let kb: u64 = line.split_whitespace().nth(1).context("no value")?.parse()?;
    Ok(kb * 1024)
}

struct StartupRun {
    pods: u64,
    clients: usize,
    node: Option<String>,
    namespace: String,
    agent_pid: Option<u32>,
    timeout: Duration,
}

async fn startup(target: Arc<Target>, run: StartupRun) -> anyhow::Result<()> {
    use futures_util::StreamExt;
    use std::collections::HashMap;

    let namespace = run.namespace.clone();
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    let response = target.client.post(format!("{}/api/v1/namespaces", target.server)).json(&ns).send().await?;
    if !(response.status().is_success() || response.status() == reqwest::StatusCode::CONFLICT) {
        bail!("creating namespace {namespace}: {}", response.text().await?);
    }
    let pods_url = format!("{}/api/v1/namespaces/{namespace}/pods", target.server);
    let listed: Value = target.client.get(&pods_url).send().await?.json().await?;
    if listed["items"].as_array().is_some_and(|items| !items.is_empty()) {
        bail!("namespace {namespace} already has pods; use a fresh one");
    }
    let rv = listed.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("0").to_string();
    let rss_before = run.agent_pid.map(rss_bytes).transpose()?;

    // The watch: the first Running+Ready sighting of each pod, by name.
    let watch = target
        .client
        .get(format!("{pods_url}?watch=1&resourceVersion={rv}&allowWatchBookmarks=false&timeoutSeconds=3600"))
        .timeout(Duration::from_secs(3600))
        .send()
        .await?;
    if !watch.status().is_success() {
        bail!("watch: {}", watch.status());
    }
    let sent: Arc<parking_lot::Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = run.pods;
    let watcher_sent = sent.clone();
    let watcher = tokio::spawn(async move {
        let mut latencies: HashMap<String, Duration> = HashMap::new();
        let mut stream = watch.bytes_stream();
        let mut buffer: Vec<u8> = Vec::new();
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { break };
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                let Ok(event) = serde_json::from_slice::<Value>(&line) else { continue };
                let pod = &event["object"];
                let Some(name) = pod.pointer("/metadata/name").and_then(Value::as_str) else { continue };
                if latencies.contains_key(name) || !running_and_ready(pod) {
                    continue;
                }
                let seen = Instant::now();
                if let Some(at) = watcher_sent.lock().get(name) {
                    latencies.insert(name.to_string(), seen - *at);
                }
                if latencies.len() as u64 >= total {
                    return latencies;
                }
            }
        }
        latencies
    });

    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..run.clients {
        let (target, next, url, sent, node) =
            (target.clone(), next.clone(), pods_url.clone(), sent.clone(), run.node.clone());
        tasks.push(tokio::spawn(async move {
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let name = format!("s{n:05}");
                sent.lock().insert(name.clone(), Instant::now());
                match target.client.post(&url).json(&startup_pod(&name, node.as_deref())).send().await {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        let _ = r.bytes().await;
                    }
                    Ok(r) => *errors.entry(r.status().as_u16().to_string()).or_default() += 1,
                    Err(e) => *errors.entry(format!("transport: {e}")).or_default() += 1,
                }
            }
            errors
        }));
    }
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        for (k, v) in task.await? {
            *errors.entry(k).or_default() += v;
        }
    }
    let created_in = started.elapsed().as_secs_f64();
    let latencies = match tokio::time::timeout(run.timeout, watcher).await {
        Ok(result) => result?,
        Err(_) => bail!("not every pod was Running within {:?}", run.timeout),
    };
    let all_running_in = started.elapsed().as_secs_f64();
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    for latency in latencies.values() {
        histogram.record((latency.as_micros() as u64).max(1))?;
    }
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    let memory = match (run.agent_pid, rss_before) {
        (Some(pid), Some(before)) => {
            let after = rss_bytes(pid)?;
            json!({"agent_rss_before_mb": before as f64 / 1048576.0, "agent_rss_after_mb": after as f64 / 1048576.0,
                "agent_rss_growth_per_pod_kb": after.saturating_sub(before) as f64 / 1024.0 / total as f64})
        }
        _ => Value::Null,
    };
    let report = json!({
        "workload": "startup", "pods": total, "clients": run.clients, "running": histogram.len(),
        "create_seconds": created_in, "all_running_seconds": all_running_in,
        "create_to_running_ms": {"p50": ms(0.50), "p90": ms(0.90), "p99": ms(0.99), "max": histogram.max() as f64 / 1000.0},
        "memory": memory,
        "errors": errors,
    });
    println!("{report}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.workload {
        Workload::Create { clients, count, rate, namespace } => {
            let target = Arc::new(target(&cli.kubeconfig, clients)?);
            create(target, clients, count, rate, namespace).await
        }
        Workload::Startup { pods, clients, node, namespace, agent_pid, timeout } => {
            let target = Arc::new(target(&cli.kubeconfig, clients + 1)?);
            startup(target, StartupRun { pods, clients, node, namespace, agent_pid, timeout }).await
        }
    }
}
