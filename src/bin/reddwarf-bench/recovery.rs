//! W6, restart recovery: starts a server, loads it, kills it with SIGKILL in the middle of
//! a create load, restarts it on the same data directory, and reports the time until
//! `/readyz` answers 200. Then it checks every create the server acknowledged before the
//! kill against what the restarted server lists: none may be missing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::create::{self, CreateLoad};
use crate::report::rss_kib;
use crate::target::Target;

pub struct Recovery {
    pub server_bin: PathBuf,
    pub data_dir: PathBuf,
    pub listen: String,
    pub server_args: Vec<String>,
    pub preload: u64,
    pub clients: usize,
    pub kill_after: Duration,
}

pub async fn run(recovery: Recovery) -> anyhow::Result<Value> {
    let kubeconfig = recovery.data_dir.join("admin.kubeconfig");
    let mut server = start(&recovery)?;
    wait_ready(&kubeconfig, Duration::from_secs(120)).await?;
    let target = Arc::new(Target::from_kubeconfig(&kubeconfig, recovery.clients)?);
    target.ensure_namespace("w6").await?;

    let preload = CreateLoad {
        clients: recovery.clients,
        count: recovery.preload,
        rate: 0.0,
        namespace: "w6".into(),
        prefix: "w6-preload".into(),
    };
    let loaded = create::run(target.clone(), &preload, Arc::new(AtomicBool::new(false))).await;
    anyhow::ensure!(loaded.tally.errors.is_empty(), "preload failed: {:?}", loaded.tally.errors);
    let rss_before_kill = rss_kib(server.id())?;

    // The load that the kill interrupts: far more creates than fit in kill_after.
    let stop = Arc::new(AtomicBool::new(false));
    let during = CreateLoad { count: u64::MAX, prefix: "w6-live".into(), ..preload.clone() };
    let load = tokio::spawn({
        let (target, stop) = (target.clone(), stop.clone());
        async move { create::run(target, &during, stop).await }
    });
    tokio::time::sleep(recovery.kill_after).await;
    server.kill().context("killing the server")?;
    server.wait()?;
    stop.store(true, Ordering::Relaxed);
    let interrupted = load.await?;

    let restarted_at = Instant::now();
    let mut server = start(&recovery)?;
    let ready_after = wait_ready(&kubeconfig, Duration::from_secs(600)).await?;
    let ready_seconds = restarted_at.elapsed().as_secs_f64();
    let target = Target::from_kubeconfig(&kubeconfig, 4)?;
    let present: std::collections::HashSet<String> =
        target.list_names("/api/v1/namespaces/w6/pods").await?.into_iter().collect();
    let acknowledged: Vec<String> = loaded
        .acknowledged
        .lock()
        .expect("not poisoned")
        .iter()
        .chain(interrupted.acknowledged.lock().expect("not poisoned").iter())
        .cloned()
        .collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|name| !present.contains(*name)).collect();
    server.kill().ok();
    server.wait().ok();
    Ok(json!({
        "workload": "W6 recovery", "preloaded": loaded.tally.count(),
        "acknowledged_during_load": interrupted.tally.count(), "errors_at_kill": interrupted.tally.errors,
        "server_rss_kib_before_kill": rss_before_kill,
        "restart_to_readyz_seconds": ready_seconds, "readyz_polls": ready_after,
        "pods_listed_after_restart": present.len(), "acknowledged_total": acknowledged.len(),
        "acknowledged_lost": lost.len(), "lost_examples": lost.iter().take(10).collect::<Vec<_>>(),
    }))
}

fn start(recovery: &Recovery) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(recovery.data_dir.with_extension("log"))?;
    Command::new(&recovery.server_bin)
        .arg("serve")
        .arg("--data-dir")
        .arg(&recovery.data_dir)
        .arg("--listen")
        .arg(&recovery.listen)
        .args(&recovery.server_args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", recovery.server_bin.display()))
}

/// Polls `/readyz` every 10 ms until it answers 200; returns how many polls it took.
async fn wait_ready(kubeconfig: &std::path::Path, limit: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + limit;
    let mut polls = 0;
    while Instant::now() < deadline {
        polls += 1;
        if let Ok(target) = Target::from_kubeconfig(kubeconfig, 1)
            && let Ok(response) = target.client.get(target.at("/readyz")).timeout(Duration::from_secs(1)).send().await
            && response.status().is_success()
        {
            return Ok(polls);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("the server was not ready within {limit:?}")
}
