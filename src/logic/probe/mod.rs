//! Health probes as pure decisions: what a pod's containers ask to be probed
//! ([`probe_specs`], with the API defaults), and [`PodProbes`], which turns each probe's
//! outcomes into what the kubelet would decide: threshold counting (a verdict changes only
//! after `successThreshold` or `failureThreshold` consecutive results), the startup gate
//! (liveness and readiness do not run until the container's startup probe succeeds), the
//! pod's readiness (every container started and ready; not ready before the first
//! success), and the restart that a liveness or startup failure at threshold demands,
//! with the `Unhealthy` and `Killing` events and their upstream messages.
//!
//! Scheduling is pure too: [`first_delay`] (initialDelaySeconds counted from the
//! container's start, plus a random fraction of the period when an agent restart adopted a
//! running pod) and [`next_delay`] (a run starts `periodSeconds` after the previous one
//! *started*; an overdue run starts at once, never a catch-up burst). The shell
//! (`actors::agent::probes`) owns the timers, runs the checks and feeds the outcomes back.
//! Nothing here reads a clock or touches the network.

#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::model::k8s::core::v1::{Container, Pod, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The API default for `periodSeconds`.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(10);
/// The API default for `timeoutSeconds`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// The API default for `successThreshold`.
pub const DEFAULT_SUCCESS_THRESHOLD: u32 = 1;
/// The API default for `failureThreshold`.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;

/// Which of a container's three probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProbeKind {
    /// `startupProbe`: gates the other two until it succeeds; failure restarts.
    Startup,
    /// `livenessProbe`: failure restarts the container.
    Liveness,
    /// `readinessProbe`: drives the Ready condition.
    Readiness,
}

impl ProbeKind {
    /// `Startup`, `Liveness`, `Readiness`, as upstream's messages spell them.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }

    /// `startup`, `liveness`, `readiness`, as in "failed liveness probe".
    pub fn lowercase(self) -> &'static str {
        match self {
            ProbeKind::Startup => "startup",
            ProbeKind::Liveness => "liveness",
            ProbeKind::Readiness => "readiness",
        }
    }
}

/// `http` or `https` (HTTPS probes do not verify the certificate, like the kubelet's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// TLS without certificate verification.
    Https,
}

/// An `httpGet` probe, its port resolved to a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCheck {
    /// The scheme.
    pub scheme: Scheme,
    /// The host to connect to; `None` means the pod's IP.
    pub host: Option<String>,
    /// The port.
    pub port: u16,
    /// The path, starting with `/`.
    pub path: String,
    /// Extra request headers, in order (a `Host` header overrides the host sent).
    pub headers: Vec<(String, String)>,
}

impl HttpCheck {
    /// The URL to request, with `default_host` (the pod's IP) when no host was given.
    pub fn url(&self, default_host: &str) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let host = self.host.as_deref().unwrap_or(default_host);
        // An IPv6 literal needs brackets in a URL.
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
        let path = if self.path.starts_with('/') { self.path.clone() } else { format!("/{}", self.path) };
        format!("{scheme}://{host}:{}{path}", self.port)
    }
}

/// What a probe checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeAction {
    /// Run this argv inside the zone; exit 0 is success.
    Exec {
        /// The command.
        command: Vec<String>,
    },
    /// An HTTP GET; a status of 200–399 is success.
    Http(HttpCheck),
    /// A TCP connect; an accepted connection is success.
    Tcp {
        /// The host to connect to; `None` means the pod's IP.
        host: Option<String>,
        /// The port.
        port: u16,
    },
}

/// One probe of one container, with the API defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    /// The container's name.
    pub container: String,
    /// Which probe.
    pub kind: ProbeKind,
    /// What it checks.
    pub action: ProbeAction,
    /// `initialDelaySeconds`, counted from the container's start.
    pub initial_delay: Duration,
    /// `periodSeconds`.
    pub period: Duration,
    /// `timeoutSeconds`.
    pub timeout: Duration,
    /// `successThreshold`.
    pub success_threshold: u32,
    /// `failureThreshold`.
    pub failure_threshold: u32,
    /// The probe's own `terminationGracePeriodSeconds` (liveness and startup only).
    pub termination_grace: Option<Duration>,
}

/// Why a pod's probes cannot be run as written (validation should have said so first).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeSpecError {
    /// gRPC probes are not supported.
    #[error("container {container}: {kind} probe: gRPC probes are not supported")]
    Grpc {
        /// The container.
        container: String,
        /// Which probe.
        kind: &'static str,
    },
    /// A probe with no action, or more than one.
    #[error("container {container}: {kind} probe: exactly one of exec, httpGet or tcpSocket must be set")]
    Handler {
        /// The container.
        container: String,
        /// Which probe.
        kind: &'static str,
    },
    /// A named port the container does not declare, or a number out of range.
    #[error("container {container}: {kind} probe: port {port} is not a port of the container")]
    Port {
        /// The container.
        container: String,
        /// Which probe.
        kind: &'static str,
        /// The port as written.
        port: String,
    },
}

fn seconds(value: Option<i32>, default: Duration) -> Duration {
    match value {
        Some(s) if s > 0 => Duration::from_secs(u64::try_from(s).unwrap_or(0)),
        _ => default,
    }
}

fn threshold(value: Option<i32>, default: u32) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(default)
}

/// Resolves a probe port: a number, or the name of one of the container's ports.
fn resolve_port(container: &Container, port: &IntOrString) -> Option<u16> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).ok().filter(|p| *p > 0),
        IntOrString::String(name) => {
            if let Ok(n) = name.parse::<u16>() {
                return Some(n).filter(|p| *p > 0);
            }
            let ports = container.ports.iter().flatten();
            ports
                .filter(|p| p.name.as_deref() == Some(name.as_str()))
                .find_map(|p| u16::try_from(p.container_port).ok())
        }
    }
}

fn spec_of(container: &Container, kind: ProbeKind, probe: &Probe) -> Result<ProbeSpec, ProbeSpecError> {
    let name = container.name.clone();
    let kind_name = kind.lowercase();
    if probe.grpc.is_some() {
        return Err(ProbeSpecError::Grpc { container: name, kind: kind_name });
    }
    let handlers = usize::from(probe.exec.is_some())
        + usize::from(probe.http_get.is_some())
        + usize::from(probe.tcp_socket.is_some());
    if handlers != 1 {
        return Err(ProbeSpecError::Handler { container: name, kind: kind_name });
    }
    let bad_port = |port: &IntOrString| ProbeSpecError::Port {
        container: container.name.clone(),
        kind: kind_name,
        port: match port {
            IntOrString::Int(n) => n.to_string(),
            IntOrString::String(s) => s.clone(),
        },
    };
    let action = if let Some(exec) = &probe.exec {
        ProbeAction::Exec { command: exec.command.clone().unwrap_or_default() }
    } else if let Some(http) = &probe.http_get {
        let port = resolve_port(container, &http.port).ok_or_else(|| bad_port(&http.port))?;
        ProbeAction::Http(HttpCheck {
            scheme: if http.scheme.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("https")) {
                Scheme::Https
            } else {
                Scheme::Http
            },
            host: http.host.clone().filter(|h| !h.is_empty()),
            port,
            path: http.path.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into()),
            headers: http.http_headers.iter().flatten().map(|h| (h.name.clone(), h.value.clone())).collect(),
        })
    } else if let Some(tcp) = &probe.tcp_socket {
        let port = resolve_port(container, &tcp.port).ok_or_else(|| bad_port(&tcp.port))?;
        ProbeAction::Tcp { host: tcp.host.clone().filter(|h| !h.is_empty()), port }
    } else {
        return Err(ProbeSpecError::Handler { container: name, kind: kind_name });
    };
    // Liveness and startup probes must have successThreshold 1 (the API insists).
    let success_threshold = match kind {
        ProbeKind::Readiness => threshold(probe.success_threshold, DEFAULT_SUCCESS_THRESHOLD),
        ProbeKind::Liveness | ProbeKind::Startup => 1,
    };
    let termination_grace = match kind {
        ProbeKind::Readiness => None,
        ProbeKind::Liveness | ProbeKind::Startup => {
            probe.termination_grace_period_seconds.and_then(|s| u64::try_from(s).ok()).map(Duration::from_secs)
        }
    };
    Ok(ProbeSpec {
        container: name,
        kind,
        action,
        initial_delay: seconds(probe.initial_delay_seconds, Duration::ZERO),
        period: seconds(probe.period_seconds, DEFAULT_PERIOD),
        timeout: seconds(probe.timeout_seconds, DEFAULT_TIMEOUT),
        success_threshold,
        failure_threshold: threshold(probe.failure_threshold, DEFAULT_FAILURE_THRESHOLD),
        termination_grace,
    })
}

/// Every probe of every (regular) container of `pod`, in container order, startup first.
pub fn probe_specs(pod: &Pod) -> Result<Vec<ProbeSpec>, ProbeSpecError> {
    let mut specs = Vec::new();
    for container in pod.spec.iter().flat_map(|s| s.containers.iter()) {
        let probes = [
            (ProbeKind::Startup, &container.startup_probe),
            (ProbeKind::Liveness, &container.liveness_probe),
            (ProbeKind::Readiness, &container.readiness_probe),
        ];
        for (kind, probe) in probes {
            if let Some(probe) = probe {
                specs.push(spec_of(container, kind, probe)?);
            }
        }
    }
    Ok(specs)
}

/// Whether any container has a startup or readiness probe, so that each run of the
/// pod's zone starts not ready until its probes pass.
pub fn probes_gate_readiness(pod: &Pod) -> bool {
    pod.spec.iter().flat_map(|s| s.containers.iter()).any(|c| c.readiness_probe.is_some() || c.startup_probe.is_some())
}

/// The pod's `terminationGracePeriodSeconds` (default 30 s): how long a zone killed by a
/// failed probe may take to shut down when the probe sets no grace period of its own.
pub fn pod_termination_grace(pod: &Pod) -> Duration {
    let seconds = pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds);
    Duration::from_secs(seconds.and_then(|s| u64::try_from(s).ok()).unwrap_or(30))
}

/// When a probe chain first runs, after the container started `running_for` ago:
/// `initialDelaySeconds` counted from the container's start and, when an agent restart
/// adopted the running pod, a further `jitter` (in `[0, 1)`) fraction of the period, so
/// a restarted agent does not probe every pod at the same instant (the kubelet does the
/// same).
pub fn first_delay(spec: &ProbeSpec, running_for: Duration, adopted: bool, jitter: f64) -> Duration {
    let delay = spec.initial_delay.saturating_sub(running_for);
    if adopted { delay + spec.period.mul_f64(jitter.clamp(0.0, 0.999_999)) } else { delay }
}

/// How long after a run finishes the next one starts, given how long ago the run
/// started: `period` after the start, or at once when that moment has passed (a slow
/// check, or a stalled actor). Missed runs are dropped, never caught up.
pub fn next_delay(period: Duration, since_start: Duration) -> Duration {
    period.saturating_sub(since_start)
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The check passed.
    Success,
    /// The check failed; the detail is upstream's text (the command's output, "HTTP probe
    /// failed with statuscode: 503", a connection error, a timeout).
    Failure(String),
}

/// A probe's current verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not decided yet (a startup probe before its first success).
    Unknown,
    /// Passing.
    Success,
    /// Failing.
    Failure,
}

/// Threshold counting for one probe: the verdict changes only after `successThreshold`
/// consecutive successes or `failureThreshold` consecutive failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTracker {
    verdict: Verdict,
    last: Option<bool>,
    run: u32,
    success_threshold: u32,
    failure_threshold: u32,
}

impl ProbeTracker {
    /// A tracker with upstream's initial verdict: readiness starts failing (not ready
    /// before the first success), liveness passing, startup undecided.
    pub fn new(spec: &ProbeSpec) -> Self {
        let verdict = match spec.kind {
            ProbeKind::Readiness => Verdict::Failure,
            ProbeKind::Liveness => Verdict::Success,
            ProbeKind::Startup => Verdict::Unknown,
        };
        Self {
            verdict,
            last: None,
            run: 0,
            success_threshold: spec.success_threshold,
            failure_threshold: spec.failure_threshold,
        }
    }

    /// The current verdict.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// Counts one result; returns the new verdict when it changed, or when a failure
    /// reached the threshold again (liveness acts on every threshold crossing).
    pub fn record(&mut self, success: bool) -> Option<Verdict> {
        if self.last == Some(success) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(success);
            self.run = 1;
        }
        let (wanted, needed) = if success {
            (Verdict::Success, self.success_threshold)
        } else {
            (Verdict::Failure, self.failure_threshold)
        };
        if self.run < needed {
            return None;
        }
        let changed = self.verdict != wanted;
        self.verdict = wanted;
        (changed || (!success && self.run == needed)).then_some(wanted)
    }
}

/// What the shell must do after an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeDecision {
    /// The pod's readiness changed.
    Ready(bool),
    /// Kill the container's zone and let the restart policy decide (liveness or startup
    /// failure at threshold); probes hold until the container runs again.
    Restart {
        /// The container whose probe failed.
        container: String,
        /// The probe that failed.
        kind: ProbeKind,
        /// The probe's own termination grace period, if it sets one.
        grace: Option<Duration>,
    },
    /// Record an event on the pod.
    Event {
        /// `Warning` rather than `Normal`.
        warning: bool,
        /// `Unhealthy` or `Killing`.
        reason: &'static str,
        /// Upstream's message.
        message: String,
        /// The container (`spec.containers{NAME}` is the event's field path).
        container: String,
    },
}

/// The probes of one run of a pod's zone: a tracker per probe, each container's
/// started state (its startup probe succeeded, or it has none), and the pod's readiness.
/// Build a fresh one each time the zone starts running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodProbes {
    specs: Vec<ProbeSpec>,
    trackers: Vec<ProbeTracker>,
    containers: Vec<String>,
    started: Vec<bool>,
    ready: bool,
    on_hold: bool,
}

impl PodProbes {
    /// The probes `specs` of a pod whose containers are `containers` (in order).
    /// `already_started` marks containers whose status said `started: true` before an
    /// agent restart: their startup probe is not run again.
    pub fn new(specs: Vec<ProbeSpec>, containers: Vec<String>, already_started: &[String]) -> Self {
        let trackers = specs.iter().map(ProbeTracker::new).collect();
        let started = containers
            .iter()
            .map(|c| {
                already_started.contains(c) || !specs.iter().any(|s| s.container == *c && s.kind == ProbeKind::Startup)
            })
            .collect();
        let mut probes = Self { specs, trackers, containers, started, ready: false, on_hold: false };
        probes.ready = probes.compute_ready();
        probes
    }

    /// The probes, by chain index.
    pub fn specs(&self) -> &[ProbeSpec] {
        &self.specs
    }

    /// Whether the pod is ready by its probes.
    pub fn ready(&self) -> bool {
        self.ready
    }

    /// Whether a container has started (its startup probe succeeded, or it has none).
    pub fn started(&self, container: &str) -> bool {
        self.containers.iter().position(|c| c == container).is_some_and(|i| self.started[i])
    }

    /// Whether a restart was decided (every probe waits for the next run of the zone).
    pub fn on_hold(&self) -> bool {
        self.on_hold
    }

    fn container_index(&self, container: &str) -> Option<usize> {
        self.containers.iter().position(|c| c == container)
    }

    /// Whether chain `chain` should run its check now. Startup probes run until they
    /// succeed; liveness and readiness wait for the startup gate. Nothing runs once a
    /// restart has been decided.
    pub fn should_run(&self, chain: usize) -> bool {
        let Some(spec) = self.specs.get(chain) else { return false };
        if self.on_hold {
            return false;
        }
        let started = self.container_index(&spec.container).is_some_and(|i| self.started[i]);
        match spec.kind {
            ProbeKind::Startup => !started,
            ProbeKind::Liveness | ProbeKind::Readiness => started,
        }
    }

    fn compute_ready(&self) -> bool {
        self.containers.iter().enumerate().all(|(i, name)| {
            self.started[i]
                && self
                    .specs
                    .iter()
                    .zip(&self.trackers)
                    .filter(|(s, _)| s.container == *name && s.kind == ProbeKind::Readiness)
                    .all(|(_, t)| t.verdict() == Verdict::Success)
        })
    }

    /// Counts an outcome of chain `chain` and says what follows.
    pub fn record(&mut self, chain: usize, outcome: &ProbeOutcome) -> Vec<ProbeDecision> {
        let mut decisions = Vec::new();
        if self.on_hold || !self.should_run(chain) {
            // A result that arrives after a restart was decided, or after the gate moved.
            return decisions;
        }
        let spec = self.specs[chain].clone();
        if let ProbeOutcome::Failure(detail) = outcome {
            decisions.push(ProbeDecision::Event {
                warning: true,
                reason: "Unhealthy",
                message: format!("{} probe failed: {detail}", spec.kind.as_str()),
                container: spec.container.clone(),
            });
        }
        let changed = self.trackers[chain].record(*outcome == ProbeOutcome::Success);
        match (spec.kind, changed) {
            (ProbeKind::Startup, Some(Verdict::Success)) => {
                if let Some(i) = self.container_index(&spec.container) {
                    self.started[i] = true;
                }
            }
            (ProbeKind::Startup | ProbeKind::Liveness, Some(Verdict::Failure)) => {
                self.on_hold = true;
                decisions.push(ProbeDecision::Event {
                    warning: false,
                    reason: "Killing",
                    message: format!(
                        "Container {} failed {} probe, will be restarted",
                        spec.container,
                        spec.kind.lowercase()
                    ),
                    container: spec.container.clone(),
                });
                decisions.push(ProbeDecision::Restart {
                    container: spec.container.clone(),
                    kind: spec.kind,
                    grace: spec.termination_grace,
                });
            }
            _ => {}
        }
        let ready = !self.on_hold && self.compute_ready();
        if ready != self.ready {
            self.ready = ready;
            decisions.push(ProbeDecision::Ready(ready));
        }
        decisions
    }
}
