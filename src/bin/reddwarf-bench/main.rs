//! `reddwarf-bench`: the load generator for Reddwarf's workloads (BENCHMARKS.md). It talks
//! to a running server over HTTPS with the credentials of a kubeconfig, or (W6) starts and
//! kills the server itself, or (W7) drives the store in process. Each workload prints one
//! JSON report: throughput, p50/p90/p99/max latency from an HDR histogram, errors counted
//! by cause, and server memory and CPU where it asks for the server's pid.
#![allow(clippy::disallowed_methods, reason = "a benchmark measures real elapsed time")]

mod create;
mod fanout;
mod heartbeat;
mod memory;
mod objects;
mod recovery;
mod report;
mod startup;
mod storage;
mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::target::Target;

#[derive(Parser)]
#[command(name = "reddwarf-bench", about = "Load generator for Reddwarf's benchmark workloads")]
struct Cli {
    /// The admin kubeconfig of the server under test (not used by `recovery`, `store-put`).
    #[arg(long, env = "KUBECONFIG", global = true)]
    kubeconfig: Option<PathBuf>,
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
    /// W2: pod startup, create to Running observed through a watch.
    Startup {
        #[arg(long, default_value_t = 1000)]
        pods: u64,
        /// Creates per second; 0 sends them in one burst.
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        #[arg(long, default_value = "startup")]
        namespace: String,
        /// Bind the pods to this node directly (default: the scheduler places them).
        #[arg(long)]
        node: Option<String>,
        /// The agent's pid, to report its memory growth per running pod.
        #[arg(long)]
        agent_pid: Option<u32>,
        /// How long to wait for the last pod to run (and for --ready-nodes).
        #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
        timeout: Duration,
        /// Wait until this many nodes are Ready before the first create.
        #[arg(long, default_value_t = 1)]
        ready_nodes: usize,
    },
    /// W3: watch fan-out, delivery latency and server memory per watcher.
    Fanout {
        #[arg(long, default_value_t = 100)]
        watchers: usize,
        /// Pod creates per second while the watchers listen.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        #[arg(long, default_value = "fanout")]
        namespace: String,
        /// The server's pid, to read its resident memory.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// W5: server memory with simulated nodes heartbeating and pods loaded to each level.
    Memory {
        #[arg(long, default_value_t = 1000)]
        nodes: usize,
        /// Pod totals at which memory is read, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10000,50000")]
        pods: Vec<u64>,
        /// How long to let the server settle before each reading.
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        settle: Duration,
        #[arg(long)]
        server_pid: u32,
    },
    /// W6: kill -9 under create load, restart, time to /readyz, and no acknowledged write lost.
    Recovery {
        /// The reddwarf binary to run.
        #[arg(long, default_value = "target/release/reddwarf")]
        server_bin: PathBuf,
        /// A fresh directory for the server's data.
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:16443")]
        listen: String,
        /// Extra arguments for `reddwarf serve` (repeatable).
        #[arg(long = "server-arg", allow_hyphen_values = true)]
        server_args: Vec<String>,
        /// Pods created before the kill load starts.
        #[arg(long, default_value_t = 10_000)]
        preload: u64,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// How long the create load runs before the kill.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        kill_after: Duration,
    },
    /// W8: N simulated nodes renewing Leases; Lease PUT latency and server CPU.
    Heartbeat {
        #[arg(long, default_value_t = 1000)]
        nodes: usize,
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        duration: Duration,
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        interval: Duration,
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// W7 (Reddwarf side): durable creates into the store in process.
    StorePut {
        /// A fresh directory for the store.
        #[arg(long)]
        data_dir: PathBuf,
        /// The JSON document to write (default: bench/pod-3k.json, built in).
        #[arg(long)]
        document: Option<PathBuf>,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        #[arg(long, default_value_t = 5000)]
        count: u64,
    },
}

fn target(cli_kubeconfig: &Option<PathBuf>, connections: usize) -> anyhow::Result<Arc<Target>> {
    let kubeconfig = cli_kubeconfig.as_ref().context("this workload needs --kubeconfig (or KUBECONFIG)")?;
    Ok(Arc::new(Target::from_kubeconfig(kubeconfig, connections)?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let report = match cli.workload {
        Workload::Create { clients, count, rate, namespace } => {
            let target = target(&cli.kubeconfig, clients)?;
            target.ensure_namespace(&namespace).await?;
            let load =
                create::CreateLoad { clients, count, rate, namespace, prefix: format!("b{:x}", std::process::id()) };
            create::run(target, &load, Arc::new(AtomicBool::new(false))).await.report(&load)
        }
        Workload::Startup { pods, rate, namespace, node, agent_pid, timeout, ready_nodes } => {
            let target = target(&cli.kubeconfig, 64)?;
            let startup = startup::Startup { pods, rate, namespace, node, agent_pid, timeout, ready_nodes };
            startup::run(target, startup).await?
        }
        Workload::Fanout { watchers, rate, seconds, namespace, server_pid } => {
            let target = target(&cli.kubeconfig, watchers + 16)?;
            fanout::run(target, fanout::FanOut { watchers, rate, seconds, namespace, server_pid }).await?
        }
        Workload::Memory { nodes, pods, settle, server_pid } => {
            let target = target(&cli.kubeconfig, 32)?;
            memory::run(target, memory::MemoryLoad { nodes, pod_levels: pods, settle, server_pid }).await?
        }
        Workload::Recovery { server_bin, data_dir, listen, server_args, preload, clients, kill_after } => {
            let fresh = !data_dir.exists() || std::fs::read_dir(&data_dir)?.next().is_none();
            anyhow::ensure!(fresh, "{} must be empty: W6 starts from a fresh server", data_dir.display());
            let recovery =
                recovery::Recovery { server_bin, data_dir, listen, server_args, preload, clients, kill_after };
            recovery::run(recovery).await?
        }
        Workload::Heartbeat { nodes, duration, interval, server_pid } => {
            let target = target(&cli.kubeconfig, 64)?;
            let names = heartbeat::node_names("w8-node", nodes);
            heartbeat::register(&target, &names).await?;
            let cpu_before = server_pid.map(report::cpu_seconds).transpose()?;
            let started = Instant::now();
            let stop = Arc::new(AtomicBool::new(false));
            let beats = tokio::spawn(heartbeat::renew(target, names, interval, Duration::from_secs(60), stop.clone()));
            tokio::time::sleep(duration).await;
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let beats = beats.await?;
            let seconds = started.elapsed().as_secs_f64();
            let cpu = match (cpu_before, server_pid.map(report::cpu_seconds).transpose()?) {
                (Some(before), Some(after)) => json!((after - before) / seconds * 100.0),
                _ => serde_json::Value::Null,
            };
            json!({
                "workload": "W8 heartbeat", "nodes": nodes, "interval_seconds": interval.as_secs_f64(),
                "seconds": seconds, "lease_puts": beats.lease_puts.count(),
                "lease_puts_per_second": beats.lease_puts.count() as f64 / seconds,
                "lease_put_latency_ms": beats.lease_puts.latency_ms(), "lease_put_errors": beats.lease_puts.errors,
                "status_patches": beats.status_patches.count(),
                "status_patch_latency_ms": beats.status_patches.latency_ms(),
                "server_cpu_percent": cpu,
            })
        }
        Workload::StorePut { data_dir, document, clients, count } => {
            let text = match document {
                Some(path) => std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
                None => include_str!("../../../bench/pod-3k.json").to_string(),
            };
            storage::store_puts(&data_dir, &serde_json::from_str(&text)?, clients, count).await?
        }
    };
    println!("{report}");
    Ok(())
}
