//! The shell of a pod's health probes: one timer chain per (container, probe type), owned
//! by the pod's actor, and the checks themselves (exec through `zlogin`, HTTP GET, TCP
//! connect). Every decision (thresholds, the startup gate, readiness, restarts, event
//! texts, delays) is [`crate::logic::probe`]'s; this module only keeps timers, runs
//! checks and hands the outcomes back.
//!
//! Scheduling: a chain's timer fires, the check is spawned (never awaited in the
//! mailbox), and when it finishes the chain re-arms with `run_later` for `period` after
//! the run *started* ([`next_delay`]). So one probe never overlaps itself, and a stalled
//! actor runs each overdue probe once, never a burst of missed runs (`run_interval`
//! would burst, design-notes §1.5). Each (re)start of the chains bumps a generation, so a
//! check or timer from a previous run of the zone is dropped when it comes back.
//!
//! Host cost: timers are cheap; the work is the checks. Exec probes take a permit from a
//! node-wide semaphore (`--max-concurrent-exec-probes`), and the probe timeout starts
//! once the permit is held, so a queue of exec probes cannot time each other out.

#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::illumos::exec::ExecError;
use crate::illumos::runtime::{IllumosRuntime, RuntimeError};
use crate::logic::probe::{
    HttpCheck, PodProbes, ProbeAction, ProbeDecision, ProbeOutcome, ProbeSpec, first_delay, next_delay, probe_specs,
};
use crate::model::k8s::core::v1::Pod;

/// The default of `--max-concurrent-exec-probes`.
pub const DEFAULT_MAX_CONCURRENT_EXEC_PROBES: usize = 10;

/// The `User-Agent` the kubelet sends with HTTP probes (a pod may override it).
pub const PROBE_USER_AGENT: &str = "kube-probe/1.33";

/// What every pod's probes share on a node: the exec-probe permits and the HTTP client.
pub struct NodeProbes {
    exec_slots: Arc<Semaphore>,
    http: OnceLock<Result<reqwest::Client, String>>,
}

impl NodeProbes {
    /// At most `max_concurrent_exec` exec probes run at once on the node (at least one).
    pub fn new(max_concurrent_exec: usize) -> Self {
        Self { exec_slots: Arc::new(Semaphore::new(max_concurrent_exec.max(1))), http: OnceLock::new() }
    }

    /// The HTTP client: no certificate verification (like the kubelet), no connection
    /// reuse (each probe is a fresh connection, so a closed listener fails at once).
    /// Built on first use, once the process has installed its TLS crypto provider.
    fn http(&self) -> Result<reqwest::Client, String> {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .tls_danger_accept_invalid_certs(true)
                    .pool_max_idle_per_host(0)
                    .redirect(reqwest::redirect::Policy::limited(10))
                    .no_proxy()
                    .build()
                    .map_err(|e| format!("cannot build the probe HTTP client: {e}"))
            })
            .clone()
    }
}

/// Where a pod's checks go: its zone (exec) and its address (HTTP, TCP).
#[derive(Clone)]
pub struct ProbeTarget {
    /// The host.
    pub runtime: IllumosRuntime,
    /// The node's shared probe resources.
    pub node: Arc<NodeProbes>,
    /// The pod's zone.
    pub zone: String,
    /// The pod's IP, the default host of HTTP and TCP probes.
    pub pod_ip: Option<IpAddr>,
}

/// An actor that owns probe chains.
pub trait ProbeHost: Actor<Context = Context<Self>> {
    /// The actor's chains.
    fn probe_chains(&mut self) -> &mut ProbeChains;

    /// Carries out what an outcome decided (readiness, restart, events).
    fn on_probe_decisions(&mut self, decisions: Vec<ProbeDecision>, ctx: &mut Context<Self>);
}

#[derive(Default)]
struct Chain {
    timer: Option<SpawnHandle>,
    check: Option<SpawnHandle>,
    runs: u64,
}

/// A pod's probe chains, for the current run of its zone.
pub struct ProbeChains {
    probes: Option<PodProbes>,
    chains: Vec<Chain>,
    target: Option<ProbeTarget>,
    /// The zone run (its start time) the chains belong to.
    run: Option<Timestamp>,
    generation: u64,
    /// The zone run this actor found already running when it started (an agent restart
    /// adopted it): its first probes are jittered and its started containers stay started.
    adopted_run: Option<Timestamp>,
}

impl ProbeChains {
    /// No chains yet; `adopted_run` is the running zone's start time the pod's status
    /// showed when this actor started, if any.
    pub fn new(adopted_run: Option<Timestamp>) -> Self {
        Self { probes: None, chains: Vec::new(), target: None, run: None, generation: 0, adopted_run }
    }

    /// The pod's probe state, while chains run.
    pub fn probes(&self) -> Option<&PodProbes> {
        self.probes.as_ref()
    }

    /// How many checks each chain has started in the current run (for tests and debug).
    pub fn runs(&self) -> Vec<u64> {
        self.chains.iter().map(|c| c.runs).collect()
    }

    /// Whether chains are armed.
    pub fn active(&self) -> bool {
        self.probes.is_some()
    }

    /// Makes the chains match the zone: `run` is the start time of the running zone (or
    /// `None` when it is not running, or the pod terminates), `now` the wall time. A new
    /// run starts fresh chains; no run stops them. Returns the initial readiness when
    /// chains were (re)started, which the caller feeds to the lifecycle.
    pub fn sync<A: ProbeHost>(
        host: &mut A,
        ctx: &mut Context<A>,
        pod: &Pod,
        run: Option<Timestamp>,
        now: Timestamp,
        target: ProbeTarget,
    ) -> Option<bool> {
        let chains = host.probe_chains();
        if chains.run == run {
            if let Some(t) = &mut chains.target {
                t.pod_ip = target.pod_ip;
            }
            return None;
        }
        chains.stop(ctx);
        chains.run = run;
        let started_at = run?;
        let specs = match probe_specs(pod) {
            Ok(specs) => specs,
            Err(error) => {
                // Validation refuses such pods; one admitted before that rule is not probed.
                tracing::warn!(zone = %target.zone, %error, "the pod's probes cannot run");
                Vec::new()
            }
        };
        if specs.is_empty() {
            return Some(true);
        }
        let adopted = chains.adopted_run == Some(started_at);
        let already_started: Vec<String> = if adopted { started_containers(pod) } else { Vec::new() };
        let containers = pod.spec.iter().flat_map(|s| s.containers.iter()).map(|c| c.name.clone()).collect();
        let running_for = Duration::try_from(now.duration_since(started_at)).unwrap_or(Duration::ZERO);
        let delays: Vec<Duration> =
            specs.iter().map(|spec| first_delay(spec, running_for, adopted, rand::random::<f64>())).collect();
        let probes = PodProbes::new(specs, containers, &already_started);
        let ready = probes.ready();
        chains.chains = delays.iter().map(|_| Chain::default()).collect();
        chains.probes = Some(probes);
        chains.target = Some(target);
        let generation = chains.generation;
        for (index, delay) in delays.into_iter().enumerate() {
            arm(host, ctx, index, generation, delay);
        }
        Some(ready)
    }

    /// Cancels every timer and check.
    pub fn stop<A: ProbeHost>(&mut self, ctx: &mut Context<A>) {
        for chain in self.chains.drain(..) {
            for handle in [chain.timer, chain.check].into_iter().flatten() {
                ctx.cancel_future(handle);
            }
        }
        self.probes = None;
        self.target = None;
        self.generation += 1;
    }
}

/// The containers the pod's status shows as started (for an adopted run).
fn started_containers(pod: &Pod) -> Vec<String> {
    let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.as_ref());
    statuses.into_iter().flatten().filter(|c| c.started == Some(true)).map(|c| c.name.clone()).collect()
}

fn arm<A: ProbeHost>(host: &mut A, ctx: &mut Context<A>, index: usize, generation: u64, delay: Duration) {
    let handle = ctx.run_later(delay, move |host: &mut A, ctx| fire(host, ctx, index, generation));
    if let Some(chain) = host.probe_chains().chains.get_mut(index) {
        chain.timer = Some(handle);
    }
}

fn fire<A: ProbeHost>(host: &mut A, ctx: &mut Context<A>, index: usize, generation: u64) {
    let chains = host.probe_chains();
    if chains.generation != generation {
        return;
    }
    let (Some(probes), Some(target), Some(chain)) = (&chains.probes, &chains.target, chains.chains.get_mut(index))
    else {
        return;
    };
    chain.timer = None;
    if chain.check.is_some() {
        // Never two runs of one probe at once (cannot happen: chains re-arm on finish).
        return;
    }
    let spec = probes.specs()[index].clone();
    let started = Instant::now();
    if !probes.should_run(index) {
        // Gated (startup not done yet) or on hold (a restart was decided): tick on
        // cheaply at the probe's period, as the kubelet's worker does.
        arm(host, ctx, index, generation, spec.period);
        return;
    }
    chain.runs += 1;
    let check = run_check(&spec, target);
    let handle = ctx.spawn(actix::fut::wrap_future::<_, A>(check).map(move |outcome, host: &mut A, ctx| {
        finished(host, ctx, index, generation, started, outcome);
    }));
    if let Some(chain) = host.probe_chains().chains.get_mut(index) {
        chain.check = Some(handle);
    }
}

fn finished<A: ProbeHost>(
    host: &mut A,
    ctx: &mut Context<A>,
    index: usize,
    generation: u64,
    started: Instant,
    outcome: ProbeOutcome,
) {
    let chains = host.probe_chains();
    if chains.generation != generation {
        return;
    }
    let (Some(probes), Some(chain)) = (&mut chains.probes, chains.chains.get_mut(index)) else { return };
    chain.check = None;
    let period = probes.specs()[index].period;
    let decisions = probes.record(index, &outcome);
    arm(host, ctx, index, generation, next_delay(period, started.elapsed()));
    if !decisions.is_empty() {
        host.on_probe_decisions(decisions, ctx);
    }
}

/// The check of `spec` against `target`, bounded by the probe's timeout.
fn run_check(spec: &ProbeSpec, target: &ProbeTarget) -> BoxFuture<'static, ProbeOutcome> {
    let timeout = spec.timeout;
    let default_host = target.pod_ip.map(|ip| ip.to_string());
    match &spec.action {
        ProbeAction::Exec { command } => {
            let runtime = target.runtime.clone();
            let zone = target.zone.clone();
            let slots = target.node.exec_slots.clone();
            let command = command.clone();
            Box::pin(async move {
                let Ok(_permit) = slots.acquire_owned().await else {
                    return ProbeOutcome::Failure("the node's exec probe slots are closed".into());
                };
                exec_check(&runtime, &zone, &command, timeout).await
            })
        }
        ProbeAction::Http(check) => {
            let client = target.node.http();
            let check = check.clone();
            Box::pin(async move {
                let Some(host) = check.host.clone().or(default_host) else {
                    return ProbeOutcome::Failure("the pod has no IP yet".into());
                };
                match client {
                    Ok(client) => http_check(&client, &check, &host, timeout).await,
                    Err(error) => ProbeOutcome::Failure(error),
                }
            })
        }
        ProbeAction::Tcp { host, port } => {
            let host = host.clone().or(default_host);
            let port = *port;
            Box::pin(async move {
                match host {
                    Some(host) => tcp_check(&host, port, timeout).await,
                    None => ProbeOutcome::Failure("the pod has no IP yet".into()),
                }
            })
        }
    }
}

/// Runs the command in the zone through `zlogin` (every word quoted); the executor kills
/// it at the timeout. Exit 0 is success; otherwise the output is the failure's detail.
pub async fn exec_check(runtime: &IllumosRuntime, zone: &str, command: &[String], timeout: Duration) -> ProbeOutcome {
    match runtime.exec_in_zone(zone, command, &[], None, timeout).await {
        Ok(output) if output.success() => ProbeOutcome::Success,
        Ok(output) => {
            let text = format!("{}{}", output.stdout, output.stderr);
            ProbeOutcome::Failure(text.trim_end().to_string())
        }
        Err(RuntimeError::Exec { source: ExecError::Timeout { .. }, .. }) => {
            ProbeOutcome::Failure(format!("command {:?} timed out", command.join(" ")))
        }
        Err(error) => ProbeOutcome::Failure(error.to_string()),
    }
}

/// An HTTP GET; 200–399 is success (after following up to 10 redirects).
pub async fn http_check(
    client: &reqwest::Client,
    check: &HttpCheck,
    default_host: &str,
    timeout: Duration,
) -> ProbeOutcome {
    let url = check.url(default_host);
    let mut request = client.get(&url).timeout(timeout);
    let has = |name: &str| check.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !has("user-agent") {
        request = request.header(reqwest::header::USER_AGENT, PROBE_USER_AGENT);
    }
    if !has("accept") {
        request = request.header(reqwest::header::ACCEPT, "*/*");
    }
    for (name, value) in &check.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    match request.send().await {
        Ok(response) if (200..400).contains(&response.status().as_u16()) => ProbeOutcome::Success,
        Ok(response) => {
            ProbeOutcome::Failure(format!("HTTP probe failed with statuscode: {}", response.status().as_u16()))
        }
        Err(error) if error.is_timeout() => ProbeOutcome::Failure(format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
        Err(error) => {
            // reqwest's own text is "error sending request"; the cause says why.
            let mut detail = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                detail = cause.to_string();
                source = cause.source();
            }
            ProbeOutcome::Failure(format!("Get {url:?}: {detail}"))
        }
    }
}

/// A TCP connect; an accepted connection is success (and is closed at once).
pub async fn tcp_check(host: &str, port: u16, timeout: Duration) -> ProbeOutcome {
    let address = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address.as_str())).await {
        Ok(Ok(_stream)) => ProbeOutcome::Success,
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
            ProbeOutcome::Failure(format!("dial tcp {address}: connect: connection refused"))
        }
        Ok(Err(error)) => ProbeOutcome::Failure(format!("dial tcp {address}: {error}")),
        Err(_) => ProbeOutcome::Failure(format!("dial tcp {address}: i/o timeout")),
    }
}
