//! Probe cost in sim mode: N pods, each with three probes (exec through the FakeHost's
//! zlogin, httpGet and tcpSocket against real loopback listeners), all at the same
//! period, run by the real timer chains (`actors::agent::probes`) on one actix arbiter,
//! as the agent runs them. It reports the CPU time of the arbiter thread (the agent's
//! side: timers, checks, FakeHost) and of the whole process (listeners included), per
//! probe run.
//!
//! Two clocks: `real` runs for `--seconds` of wall time (the checks do real socket IO);
//! `virtual` runs exec probes only under paused tokio time, so a minute of probing takes
//! only the CPU the chains and the FakeHost need. Run it twice with different periods to
//! see that the cost follows the number of probe runs, not the number of timers.
//!
//! ```text
//! cargo bench --profile dev --bench probes -- --clock real --pods 1000 --period 1 --seconds 60
//! cargo bench --profile dev --bench probes -- --clock virtual --pods 1000 --period 1 --seconds 60
//! ```
#![allow(clippy::disallowed_methods, reason = "a benchmark measures real elapsed time")]

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix::prelude::*;
use reddwarf::actors::agent::probes::{NodeProbes, ProbeChains, ProbeHost, ProbeTarget};
use reddwarf::illumos::fake::{FakeHost, ZloginReply};
use reddwarf::illumos::profile::PlatformProfile;
use reddwarf::illumos::runtime::IllumosRuntime;
use reddwarf::illumos::zoneadm::InstallSource;
use reddwarf::logic::naming;
use reddwarf::logic::probe::ProbeDecision;
use reddwarf::logic::zone_plan::{NodeProfile, PodNetwork, plan_zone};
use reddwarf::model::k8s::core::v1::Pod;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Options {
    clock: String,
    pods: usize,
    period: u64,
    seconds: u64,
}

fn options() -> Options {
    let mut options = Options { clock: "real".into(), pods: 1000, period: 1, seconds: 60 };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--clock" => options.clock = pair[1].clone(),
            "--pods" => options.pods = pair[1].parse().expect("--pods N"),
            "--period" => options.period = pair[1].parse().expect("--period SECONDS"),
            "--seconds" => options.seconds = pair[1].parse().expect("--seconds N"),
            _ => {}
        }
    }
    options
}

/// CPU seconds (user + system) from a `/proc/.../stat` line.
fn cpu_seconds(path: &str) -> f64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let after = text.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// One pod's probes on the bench arbiter.
struct BenchPod {
    chains: ProbeChains,
    pod: Pod,
    target: ProbeTarget,
    decisions: Arc<AtomicU64>,
}

impl Actor for BenchPod {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let pod = self.pod.clone();
        let target = self.target.clone();
        let now = jiff::Timestamp::UNIX_EPOCH;
        ProbeChains::sync(self, ctx, &pod, Some(now), now, target);
    }
}

impl ProbeHost for BenchPod {
    fn probe_chains(&mut self) -> &mut ProbeChains {
        &mut self.chains
    }

    fn on_probe_decisions(&mut self, decisions: Vec<ProbeDecision>, _: &mut Context<Self>) {
        self.decisions.fetch_add(decisions.len() as u64, Ordering::Relaxed);
    }
}

fn pod(index: usize, period: u64, http_port: u16, tcp_port: u16, exec_only: bool) -> Pod {
    let probe = |handler: serde_json::Value| {
        let mut probe = json!({"periodSeconds": period, "failureThreshold": 1_000_000});
        probe.as_object_mut().unwrap().extend(handler.as_object().unwrap().clone());
        probe
    };
    let containers = if exec_only {
        json!([{"name": "app", "image": "x",
            "livenessProbe": probe(json!({"exec": {"command": ["check", "live"]}})),
            "readinessProbe": probe(json!({"exec": {"command": ["check", "ready"]}})),
            "startupProbe": null},
            {"name": "side", "image": "x", "readinessProbe": probe(json!({"exec": {"command": ["check", "side"]}}))}])
    } else {
        json!([{"name": "app", "image": "x",
            "livenessProbe": probe(json!({"exec": {"command": ["check", "live"]}})),
            "readinessProbe": probe(json!({"httpGet": {"host": "127.0.0.1", "port": http_port, "path": "/ready"}}))},
            {"name": "side", "image": "x",
            "readinessProbe": probe(json!({"tcpSocket": {"host": "127.0.0.1", "port": tcp_port}}))}])
    };
    serde_json::from_value(json!({"metadata": {"name": format!("p{index:05}"), "namespace": "bench"},
        "spec": {"containers": containers}}))
    .unwrap()
}

/// Boots a zone per pod on the FakeHost, and scripts the exec probes to pass.
async fn boot_zones(runtime: &IllumosRuntime, host: &FakeHost, pods: &[Pod]) {
    runtime.ensure_etherstub("reddwarf0").await.unwrap();
    let node = NodeProfile { brands: vec!["lipkg".into()], zonepath_root: "/rpool".into(), ..NodeProfile::default() };
    for (i, pod) in pods.iter().enumerate() {
        let name = pod.metadata.name.clone().unwrap();
        let network = PodNetwork {
            vnic: naming::vnic_name("bench", &name),
            address: IpAddr::from([127, 78, (i / 250) as u8, (i % 250) as u8 + 2]),
            prefix_len: 16,
            gateway: None,
        };
        let plan = plan_zone(pod, &node, &network).unwrap();
        runtime.ensure_vnic(&plan.net.physical, "reddwarf0").await.unwrap();
        runtime.configure_zone(&plan).await.unwrap();
        runtime.install_zone(&plan.zone_name, &InstallSource::Publishers).await.unwrap();
        runtime.boot_zone(&plan.zone_name).await.unwrap();
        for probe in ["live", "ready", "side"] {
            host.set_zlogin_reply(&plan.zone_name, &["check", probe], ZloginReply::ok(""));
        }
    }
}

/// A loopback HTTP server (200 to everything) and a TCP listener, on their own thread.
fn listeners() -> (u16, u16) {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send((http.local_addr().unwrap().port(), tcp.local_addr().unwrap().port())).unwrap();
            tokio::spawn(async move {
                while let Ok((socket, _)) = tcp.accept().await {
                    drop(socket);
                }
            });
            while let Ok((mut socket, _)) = http.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 2048];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let _ =
                        socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                });
            }
        });
    });
    receiver.recv().unwrap()
}

fn main() {
    let options = options();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let virtual_clock = options.clock == "virtual";
    let (http_port, tcp_port) = if virtual_clock { (0, 0) } else { listeners() };
    let system = actix::System::new();
    system.block_on(async move {
        if virtual_clock {
            tokio::time::pause();
        }
        let host = FakeHost::new();
        host.set_log_capacity(1);
        let runtime = IllumosRuntime::new(Arc::new(host.clone()), PlatformProfile::omnios());
        let pods: Vec<Pod> =
            (0..options.pods).map(|i| pod(i, options.period, http_port, tcp_port, virtual_clock)).collect();
        boot_zones(&runtime, &host, &pods).await;
        let node = Arc::new(NodeProbes::new(10));
        let decisions = Arc::new(AtomicU64::new(0));
        let seq_before = host.events().last().map_or(0, |e| e.seq);
        let thread_before = cpu_seconds("/proc/thread-self/stat");
        let process_before = cpu_seconds("/proc/self/stat");
        let wall = Instant::now();
        let mut actors = Vec::new();
        for pod in pods {
            let zone = naming::zone_name("bench", pod.metadata.name.as_deref().unwrap());
            let target =
                ProbeTarget { runtime: runtime.clone(), node: node.clone(), zone, pod_ip: Some(IpAddr::from([127, 0, 0, 1])) };
            actors.push(
                BenchPod { chains: ProbeChains::new(None), pod, target, decisions: decisions.clone() }.start(),
            );
        }
        tokio::time::sleep(Duration::from_secs(options.seconds)).await;
        let thread_cpu = cpu_seconds("/proc/thread-self/stat") - thread_before;
        let process_cpu = cpu_seconds("/proc/self/stat") - process_before;
        // Every command after the zones booted is a probe's zlogin.
        let zlogins = (host.events().last().map_or(0, |e| e.seq) - seq_before) as f64;
        let runs = zlogins * 3.0 / (if virtual_clock { 3.0 } else { 1.0 });
        println!(
            "clock={} pods={} probes={} period={}s span={}s wall={:.1}s",
            options.clock,
            options.pods,
            options.pods * 3,
            options.period,
            options.seconds,
            wall.elapsed().as_secs_f64()
        );
        println!(
            "probe runs ~{runs:.0} (exec {zlogins:.0}); agent thread CPU {thread_cpu:.2}s ({:.1} µs/run, {:.0}% of a core); process CPU {process_cpu:.2}s; decisions {}",
            thread_cpu * 1e6 / runs.max(1.0),
            thread_cpu * 100.0 / options.seconds as f64,
            decisions.load(Ordering::Relaxed)
        );
        drop(actors);
        System::current().stop();
    });
}
