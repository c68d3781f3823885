//! The pod lifecycle as a pure state machine: [`step`]`(state, input, now) -> effects`.
//! A `PodActor` feeds it every input (the desired pod, the observed zone state, a finished
//! or failed operation, a timer, a probe verdict) and carries out the [`Effect`]s it returns:
//! host operations, IP allocation and release, timers, status publication, events, and the
//! final deletion of the pod object. It never waits: long operations are started with an
//! operation id ([`Effect::Run`]) and their results come back as [`Input::OpFinished`];
//! a result whose id is not the one in flight (the operation was superseded, for example by
//! a deletion) is dropped.
//!
//! The machine, level-triggered: after each input, if no operation is in flight and no
//! timer is pending, [`PodState`] decides the next operation from what it knows.
//!
//! - **Creating:** observe the zone → allocate the IP (idempotent per pod uid) → prepare
//!   (VNIC, volumes, projected files, zone configuration) → install → boot → Running. An
//!   observed `running` zone is adopted as it is (restart safety). A failed operation is
//!   retried after [`RETRY`] backoff, and the zone is observed again first.
//! - **Running → exited:** a running zone seen halted without our asking is an exit: exit
//!   code 0 (`Completed`) when it is cleanly `installed`, 1 (`Error`) otherwise. Then
//!   restartPolicy decides: restart after [`Backoff::CRASH_LOOP`] (CrashLoopBackOff, 10 s
//!   doubling to 5 min, reset after 10 min of running), or finish the pod (Succeeded or
//!   Failed).
//! - **Terminating** (deletionTimestamp set): cancel what is in flight, `shutdown`, `halt`
//!   once the deadline (the deletionTimestamp) passes, tear down (uninstall, delete the
//!   configuration, VNIC, datasets), release the IP, then delete the pod object with grace
//!   0. Each step retries until done. A pod that vanished from the API goes the same way,
//!   halting at once and without the final delete.
//!
//! Zone states map to the container's state (rendered by [`status`]): absent, configured,
//! incomplete, installed and ready before the first run → waiting `ContainerCreating`;
//! running → running; shutting_down → still running but not ready (`Terminating`); down →
//! terminated (`Error`) once the zone is seen halted.

pub mod status;

#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::logic::backoff::Backoff;

/// Retrying a failed host or API operation: 1 s doubling to 5 min.
pub const RETRY: Backoff = Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(300) };

/// The exit code of a zone killed because a probe failed (a container killed by SIGKILL).
pub const KILLED_EXIT_CODE: i32 = 137;

/// How often a zone in a transitional state (shutting_down, down, mounted) is looked at
/// again while the machine waits for it to settle.
pub const SETTLE_POLL: Duration = Duration::from_secs(1);

/// How long a container must run before its crash-loop backoff starts over (the
/// kubelet's: twice the 5-minute cap).
pub const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(600);

/// A zone's state as the lifecycle sees it (the illumos states plus `Absent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneStatus {
    /// No zone of that name.
    Absent,
    /// Configured, nothing installed.
    Configured,
    /// An install or uninstall was interrupted.
    Incomplete,
    /// Installed, not running.
    Installed,
    /// Kernel zone without processes.
    Ready,
    /// Booted.
    Running,
    /// Shutting down or halting.
    ShuttingDown,
    /// Processes gone, kernel resources being released.
    Down,
    /// Scratch-mounted by a package operation.
    Mounted,
}

impl ZoneStatus {
    /// The word zoneadm prints (`absent` for no zone).
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneStatus::Absent => "absent",
            ZoneStatus::Configured => "configured",
            ZoneStatus::Incomplete => "incomplete",
            ZoneStatus::Installed => "installed",
            ZoneStatus::Ready => "ready",
            ZoneStatus::Running => "running",
            ZoneStatus::ShuttingDown => "shutting_down",
            ZoneStatus::Down => "down",
            ZoneStatus::Mounted => "mounted",
        }
    }

    fn settling(self) -> bool {
        matches!(self, ZoneStatus::ShuttingDown | ZoneStatus::Down | ZoneStatus::Mounted)
    }
}

/// `spec.restartPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Always restart (the default).
    #[default]
    Always,
    /// Restart after a non-zero exit.
    OnFailure,
    /// Never restart.
    Never,
}

impl RestartPolicy {
    /// Parses the API value; anything unknown is `Always`, the API default.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("OnFailure") => RestartPolicy::OnFailure,
            Some("Never") => RestartPolicy::Never,
            _ => RestartPolicy::Always,
        }
    }

    fn restarts_after(self, exit_code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => exit_code != 0,
            RestartPolicy::Never => false,
        }
    }
}

/// What the API wants of the pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    /// `spec.restartPolicy`.
    pub restart_policy: RestartPolicy,
    /// `metadata.deletionTimestamp`: the pod is terminating and its zone must be halted by
    /// then.
    pub deletion_deadline: Option<Timestamp>,
    /// The pod has startup or readiness probes: each run of its zone starts not ready,
    /// until the probes say otherwise ([`Input::Readiness`]).
    pub probes_gate_readiness: bool,
}

/// An operation the actor carries out for the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Read the zone's state (and the address its configuration holds).
    Observe,
    /// Ask the node's IP pool for the pod's address (idempotent per pod uid).
    AllocateIp,
    /// VNIC, volume datasets, projected files (configMap, secret), zone configuration.
    Prepare,
    /// Install the zone (resolving the image where the brand needs one).
    Install,
    /// Boot the zone.
    Boot,
    /// Graceful `zoneadm shutdown`.
    Shutdown,
    /// `zoneadm halt`.
    Halt,
    /// Halt if needed, uninstall, delete the configuration, the VNIC, datasets and files.
    Teardown,
    /// Give the pod's address back to the pool.
    ReleaseIp,
    /// Delete the pod object with grace period 0.
    DeleteObject,
}

impl Op {
    /// A short verb for states, logs and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Observe => "observe",
            Op::AllocateIp => "allocate-ip",
            Op::Prepare => "prepare",
            Op::Install => "install",
            Op::Boot => "boot",
            Op::Shutdown => "shutdown",
            Op::Halt => "halt",
            Op::Teardown => "teardown",
            Op::ReleaseIp => "release-ip",
            Op::DeleteObject => "delete-object",
        }
    }

    /// The event reason for a failure of this operation.
    fn failure_reason(self) -> &'static str {
        match self {
            Op::Observe | Op::AllocateIp | Op::Prepare => "FailedCreatePodSandBox",
            Op::Install | Op::Boot => "Failed",
            Op::Shutdown | Op::Halt | Op::Teardown | Op::ReleaseIp | Op::DeleteObject => "FailedKillPod",
        }
    }
}

/// Why an operation failed, as far as the machine cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Anything that may succeed later: retry.
    Transient,
    /// The image could not be resolved (`ErrImagePull`, then `ImagePullBackOff`).
    Image,
    /// The pod cannot be turned into a zone as it is (`CreateContainerConfigError`).
    Config,
}

/// A failed operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// The human message (the command and its stderr, for host failures).
    pub message: String,
}

/// What a finished operation produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// It did what was asked.
    Done,
    /// [`Op::Observe`]: the zone's state, and the address its configuration holds.
    Observed {
        /// The zone's state.
        zone: ZoneStatus,
        /// The address in the zone's configuration, if any.
        address: Option<IpAddr>,
    },
    /// [`Op::AllocateIp`]: the pod's address.
    IpAllocated(IpAddr),
    /// It failed.
    Failed(Failure),
}

/// Everything that can happen to a pod's machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The newest desired pod.
    Desired(Desired),
    /// The pod object is gone from the API.
    PodGone,
    /// The node's periodic observation of the zone.
    Observed(ZoneStatus),
    /// An operation finished.
    OpFinished {
        /// The operation id from [`Effect::Run`].
        id: u64,
        /// Its result.
        result: OpResult,
    },
    /// A timer fired.
    TimerFired {
        /// The timer id from [`Effect::StartTimer`].
        id: u64,
    },
    /// The readiness verdict of the pod's probes (a pod without probes is never sent one
    /// and counts as ready while its zone runs).
    Readiness(bool),
    /// A liveness or startup probe failed at its threshold: stop the running zone
    /// (shutdown, halt once `grace` has passed) and treat that as an exit with code 137,
    /// which the restart policy then judges like any other exit.
    Kill {
        /// How long the zone may take to shut down before it is halted.
        grace: Duration,
    },
}

/// What the actor must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Start `op`; report back with `Input::OpFinished { id, .. }`.
    Run {
        /// The operation id.
        id: u64,
        /// The operation.
        op: Op,
    },
    /// Abandon the operation `id` (drop its future; a late result would be ignored anyway).
    Cancel {
        /// The operation id.
        id: u64,
    },
    /// Fire `Input::TimerFired { id }` after `after`.
    StartTimer {
        /// The timer id.
        id: u64,
        /// The delay.
        after: Duration,
    },
    /// The status changed: render and publish it (through `pods/status`, if it differs
    /// from what was published).
    PublishStatus,
    /// Record an event on the pod.
    Event {
        /// `Warning` rather than `Normal`.
        warning: bool,
        /// The CamelCase reason.
        reason: &'static str,
        /// The message.
        message: String,
    },
    /// The pod is finished with: the actor should stop.
    Stop,
}

/// Where the pod is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Working toward a running zone.
    Creating,
    /// The zone runs.
    Running,
    /// The zone exited; waiting to restart it.
    BackOff,
    /// The zone exited and will not be restarted (Succeeded or Failed).
    Completed,
    /// Deletion: stopping and removing everything.
    Terminating,
    /// Nothing is left to do.
    Finished,
}

impl Stage {
    /// A short word for the actor's one-line state.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Creating => "creating",
            Stage::Running => "running",
            Stage::BackOff => "backoff",
            Stage::Completed => "completed",
            Stage::Terminating => "terminating",
            Stage::Finished => "finished",
        }
    }
}

/// The container's state, as the status shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerState {
    /// Not running yet (or waiting to restart).
    Waiting {
        /// `ContainerCreating`, `CrashLoopBackOff`, `ErrImagePull`, …
        reason: String,
        /// Details, if any.
        message: Option<String>,
    },
    /// Running since then.
    Running {
        /// When the zone was seen running.
        started_at: Timestamp,
    },
    /// Exited.
    Terminated(Termination),
}

/// One exit of the pod's zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    /// 0 for a clean halt.
    pub exit_code: i32,
    /// `Completed` or `Error`.
    pub reason: String,
    /// When it had started, if known.
    pub started_at: Option<Timestamp>,
    /// When it was seen stopped.
    pub finished_at: Timestamp,
}

/// Why the machine's one pending timer was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Retry after a failure, or look again at a settling zone.
    Retry,
    /// Restart after CrashLoopBackOff.
    Restart,
}

/// The machine's state. Build it with [`PodState::new`] (from the pod's existing status,
/// so a new incarnation continues counts and timestamps instead of resetting them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodState {
    /// Where the pod is.
    pub stage: Stage,
    /// What the API wants.
    pub desired: Desired,
    /// The zone's last known state; `None` when it must be observed before acting.
    pub zone: Option<ZoneStatus>,
    /// The address in the zone's configuration when last observed.
    pub zone_address: Option<IpAddr>,
    /// The pod's address, once allocated.
    pub ip: Option<IpAddr>,
    /// Prepare has succeeded in this incarnation.
    pub prepared: bool,
    /// The operation in flight.
    pub op: Option<(u64, Op)>,
    /// The pending wake-up.
    pub wake: Option<(u64, Wake)>,
    /// The pending grace-deadline timer.
    pub deadline_timer: Option<u64>,
    /// The grace deadline has passed (or the pod is gone): halt rather than shut down.
    pub halt_due: bool,
    /// Teardown has succeeded.
    pub torn_down: bool,
    /// The address has been released.
    pub ip_released: bool,
    /// The pod object is deleted (by us) or gone (seen by the watch).
    pub object_deleted: bool,
    /// The pod object vanished from the API.
    pub gone: bool,
    /// Consecutive failures of the current step.
    pub failures: u32,
    /// Consecutive image failures (`ErrImagePull` first, `ImagePullBackOff` after).
    pub image_failures: u32,
    /// The container as the status shows it.
    pub container: ContainerState,
    /// The previous exit (`lastState`).
    pub last_termination: Option<Termination>,
    /// Restarts so far.
    pub restart_count: u32,
    /// Exits since the backoff last reset.
    pub crash_attempt: u32,
    /// The readiness verdict; true until probes say otherwise.
    pub ready: bool,
    /// A probe asked for the running zone to be killed ([`Input::Kill`]); the pending
    /// grace timer, if any.
    pub killing: Option<Option<u64>>,
    /// The container has been running at least once (phase Running rather than Pending).
    pub has_run: bool,
    next_id: u64,
}

/// What a new incarnation learns from the pod's existing status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// `containerStatuses[0].restartCount`.
    pub restart_count: u32,
    /// `containerStatuses[0].state.running.startedAt`.
    pub running_since: Option<Timestamp>,
    /// `containerStatuses[0].lastState.terminated`.
    pub last_termination: Option<Termination>,
    /// `status.phase` was Running, Succeeded or Failed.
    pub has_run: bool,
}

impl PodState {
    /// A fresh machine for a pod whose existing status says `resume`.
    pub fn new(desired: Desired, resume: Resume) -> Self {
        let container = match resume.running_since {
            Some(started_at) => ContainerState::Running { started_at },
            None => waiting("ContainerCreating", None),
        };
        Self {
            stage: Stage::Creating,
            desired,
            zone: None,
            zone_address: None,
            ip: None,
            prepared: false,
            op: None,
            wake: None,
            deadline_timer: None,
            halt_due: false,
            torn_down: false,
            ip_released: false,
            object_deleted: false,
            gone: false,
            failures: 0,
            image_failures: 0,
            container,
            last_termination: resume.last_termination,
            restart_count: resume.restart_count,
            crash_attempt: 0,
            ready: true,
            killing: None,
            has_run: resume.has_run,
            next_id: 1,
        }
    }

    /// The first effects of a new machine (observe the zone).
    pub fn start(self, now: Timestamp) -> (Self, Vec<Effect>) {
        let mut state = self;
        let mut effects = Vec::new();
        if state.desired.deletion_deadline.is_some() {
            state.begin_termination(now, &mut effects);
        }
        state.advance(now, &mut effects);
        (state, effects)
    }

    /// The pod's phase.
    pub fn phase(&self) -> &'static str {
        match &self.container {
            // Only a pod that will not restart shows a terminated container.
            ContainerState::Terminated(t) if t.exit_code == 0 => "Succeeded",
            ContainerState::Terminated(_) => "Failed",
            _ if self.has_run => "Running",
            _ => "Pending",
        }
    }

    /// Whether the pod is Ready: running, not terminating, not shutting down, and ready by
    /// the probes.
    pub fn is_ready(&self) -> bool {
        matches!(self.container, ContainerState::Running { .. })
            && self.stage == Stage::Running
            && self.zone == Some(ZoneStatus::Running)
            && self.ready
    }

    /// The one-line state for the actor directory.
    pub fn summary(&self) -> String {
        let zone = self.zone.map_or("unknown", ZoneStatus::as_str);
        match self.op {
            Some((_, op)) => format!("{} zone={zone} op={}", self.stage.as_str(), op.as_str()),
            None => format!("{} zone={zone}", self.stage.as_str()),
        }
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn run(&mut self, op: Op, effects: &mut Vec<Effect>) {
        let id = self.id();
        self.op = Some((id, op));
        effects.push(Effect::Run { id, op });
    }

    fn sleep(&mut self, wake: Wake, after: Duration, effects: &mut Vec<Effect>) {
        let id = self.id();
        self.wake = Some((id, wake));
        effects.push(Effect::StartTimer { id, after });
    }

    fn cancel_op(&mut self, effects: &mut Vec<Effect>) {
        if let Some((id, _)) = self.op.take() {
            effects.push(Effect::Cancel { id });
            // What the cancelled operation did is unknown: look again.
            self.zone = None;
        }
    }

    /// A fingerprint of everything the status shows, to tell whether it changed.
    fn shown(&self) -> (&'static str, ContainerState, Option<IpAddr>, bool, u32, Option<Termination>) {
        (
            self.phase(),
            self.container.clone(),
            self.ip,
            self.is_ready(),
            self.restart_count,
            self.last_termination.clone(),
        )
    }

    fn begin_termination(&mut self, now: Timestamp, effects: &mut Vec<Effect>) {
        if matches!(self.stage, Stage::Terminating | Stage::Finished) {
            return;
        }
        self.stage = Stage::Terminating;
        self.killing = None;
        self.cancel_op(effects);
        self.wake = None;
        self.failures = 0;
        if !self.gone {
            effects.push(Effect::Event {
                warning: false,
                reason: "Killing",
                message: "Stopping the pod's zone".into(),
            });
        }
        if let Some(deadline) = self.desired.deletion_deadline {
            let after = duration_until(now, deadline);
            if after.is_zero() {
                self.halt_due = true;
            } else {
                let id = self.id();
                self.deadline_timer = Some(id);
                effects.push(Effect::StartTimer { id, after });
            }
        }
    }

    /// Decides the next operation when nothing is in flight and nothing is pending.
    fn advance(&mut self, now: Timestamp, effects: &mut Vec<Effect>) {
        if self.op.is_some() || self.wake.is_some() {
            return;
        }
        match self.stage {
            Stage::Finished | Stage::Completed | Stage::BackOff => {}
            Stage::Running => match self.zone {
                None => self.run(Op::Observe, effects),
                Some(zone) if self.killing.is_some() => self.advance_killing(zone, now, effects),
                Some(_) => {}
            },
            Stage::Creating => self.advance_creating(now, effects),
            Stage::Terminating => self.advance_terminating(effects),
        }
    }

    fn advance_creating(&mut self, now: Timestamp, effects: &mut Vec<Effect>) {
        let Some(zone) = self.zone else { return self.run(Op::Observe, effects) };
        if self.ip.is_none() {
            return self.run(Op::AllocateIp, effects);
        }
        match zone {
            ZoneStatus::Running => self.now_running(now, effects),
            _ if zone.settling() => self.sleep(Wake::Retry, SETTLE_POLL, effects),
            _ if !self.prepared => self.run(Op::Prepare, effects),
            ZoneStatus::Absent | ZoneStatus::Configured | ZoneStatus::Incomplete => self.run(Op::Install, effects),
            _ => self.run(Op::Boot, effects),
        }
    }

    fn now_running(&mut self, now: Timestamp, effects: &mut Vec<Effect>) {
        self.stage = Stage::Running;
        self.failures = 0;
        self.image_failures = 0;
        self.has_run = true;
        self.ready = !self.desired.probes_gate_readiness;
        if !matches!(self.container, ContainerState::Running { .. }) {
            self.container = ContainerState::Running { started_at: now };
            effects.push(Effect::Event { warning: false, reason: "Started", message: "Started the pod's zone".into() });
        }
    }

    /// Stops a zone a probe asked to kill: shutdown, halt once the grace timer fired, and
    /// once it is down, an exit with code 137 (as a killed container reports).
    fn advance_killing(&mut self, zone: ZoneStatus, now: Timestamp, effects: &mut Vec<Effect>) {
        match zone {
            ZoneStatus::Running if !self.halt_due => self.run(Op::Shutdown, effects),
            ZoneStatus::ShuttingDown if !self.halt_due => self.sleep(Wake::Retry, SETTLE_POLL, effects),
            ZoneStatus::Running | ZoneStatus::Ready | ZoneStatus::ShuttingDown | ZoneStatus::Down => {
                self.run(Op::Halt, effects)
            }
            _ => {
                self.killing = None;
                self.halt_due = false;
                self.exit(KILLED_EXIT_CODE, "Error", zone, now, effects);
            }
        }
    }

    fn advance_terminating(&mut self, effects: &mut Vec<Effect>) {
        if !self.torn_down {
            let Some(zone) = self.zone else { return self.run(Op::Observe, effects) };
            return match zone {
                ZoneStatus::Running if !self.halt_due => self.run(Op::Shutdown, effects),
                ZoneStatus::ShuttingDown if !self.halt_due => self.sleep(Wake::Retry, SETTLE_POLL, effects),
                ZoneStatus::Running | ZoneStatus::Ready | ZoneStatus::ShuttingDown | ZoneStatus::Down => {
                    self.run(Op::Halt, effects)
                }
                _ => self.run(Op::Teardown, effects),
            };
        }
        if !self.ip_released {
            return self.run(Op::ReleaseIp, effects);
        }
        if !self.object_deleted && !self.gone {
            return self.run(Op::DeleteObject, effects);
        }
        self.stage = Stage::Finished;
        effects.push(Effect::Stop);
    }

    fn finished(&mut self, op: Op, result: OpResult, now: Timestamp, effects: &mut Vec<Effect>) {
        if let OpResult::Failed(failure) = result {
            return self.failed(op, failure, effects);
        }
        if op != Op::Observe {
            self.failures = 0;
        }
        match (op, result) {
            (Op::Observe, OpResult::Observed { zone, address }) => {
                self.zone_address = address;
                self.observed(zone, now, effects);
            }
            (Op::AllocateIp, OpResult::IpAllocated(ip)) => self.ip = Some(ip),
            (Op::Prepare, _) => {
                self.prepared = true;
                if self.zone == Some(ZoneStatus::Absent) {
                    self.zone = Some(ZoneStatus::Configured);
                }
            }
            (Op::Install, _) => {
                self.image_failures = 0;
                self.zone = Some(ZoneStatus::Installed);
            }
            (Op::Boot, _) => self.zone = Some(ZoneStatus::Running),
            (Op::Shutdown | Op::Halt, _) => self.zone = Some(ZoneStatus::Installed),
            (Op::Teardown, _) => {
                self.torn_down = true;
                self.zone = Some(ZoneStatus::Absent);
            }
            (Op::ReleaseIp, _) => self.ip_released = true,
            (Op::DeleteObject, _) => self.object_deleted = true,
            // A result of the wrong shape is treated as "look again".
            (_, _) => self.zone = None,
        }
    }

    fn failed(&mut self, op: Op, failure: Failure, effects: &mut Vec<Effect>) {
        let attempt = self.failures;
        self.failures = self.failures.saturating_add(1);
        // What the failed operation left behind is unknown: observe before the next step.
        self.zone = None;
        if op == Op::Prepare {
            self.prepared = false;
        }
        let creating = self.stage == Stage::Creating;
        let reason = match failure.kind {
            FailureKind::Image => {
                self.image_failures = self.image_failures.saturating_add(1);
                if self.image_failures == 1 { "ErrImagePull" } else { "ImagePullBackOff" }
            }
            FailureKind::Config => "CreateContainerConfigError",
            FailureKind::Transient => op.failure_reason(),
        };
        if creating && !matches!(self.container, ContainerState::Running { .. }) {
            let shown = if failure.kind == FailureKind::Transient { "ContainerCreating" } else { reason };
            self.container = waiting(shown, Some(failure.message.clone()));
        }
        let event_reason = if failure.kind == FailureKind::Transient { reason } else { "Failed" };
        effects.push(Effect::Event {
            warning: true,
            reason: event_reason,
            message: format!("{} failed: {}", op.as_str(), failure.message),
        });
        self.sleep(Wake::Retry, RETRY.delay(attempt), effects);
    }

    /// A fresh observation of the zone, when nothing is in flight.
    fn observed(&mut self, zone: ZoneStatus, now: Timestamp, effects: &mut Vec<Effect>) {
        self.zone = Some(zone);
        if self.stage == Stage::Running && zone != ZoneStatus::Running && !zone.settling() && self.killing.is_none() {
            self.exited(zone, now, effects);
        }
    }

    fn exited(&mut self, zone: ZoneStatus, now: Timestamp, effects: &mut Vec<Effect>) {
        let (exit_code, reason) = if zone == ZoneStatus::Installed { (0, "Completed") } else { (1, "Error") };
        self.exit(exit_code, reason, zone, now, effects);
    }

    fn exit(&mut self, exit_code: i32, reason: &str, zone: ZoneStatus, now: Timestamp, effects: &mut Vec<Effect>) {
        let started_at = match self.container {
            ContainerState::Running { started_at } => Some(started_at),
            _ => None,
        };
        let termination = Termination { exit_code, reason: reason.into(), started_at, finished_at: now };
        if zone == ZoneStatus::Absent {
            // The zone vanished underneath us: everything must be made again.
            self.prepared = false;
        }
        let ran_long = started_at.is_some_and(|s| duration_until(s, now) >= BACKOFF_RESET_AFTER);
        if ran_long {
            self.crash_attempt = 0;
        }
        self.last_termination = Some(termination.clone());
        if self.desired.restart_policy.restarts_after(exit_code) {
            let delay = Backoff::CRASH_LOOP.delay(self.crash_attempt);
            self.crash_attempt = self.crash_attempt.saturating_add(1);
            self.stage = Stage::BackOff;
            self.container =
                waiting("CrashLoopBackOff", Some(format!("back-off {} restarting failed container", humanize(delay))));
            effects.push(Effect::Event {
                warning: true,
                reason: "BackOff",
                message: format!("Back-off {} restarting the pod's zone (exit code {exit_code})", humanize(delay)),
            });
            self.sleep(Wake::Restart, delay, effects);
        } else {
            self.stage = Stage::Completed;
            self.container = ContainerState::Terminated(termination);
        }
    }

    fn timer(&mut self, id: u64, effects: &mut Vec<Effect>) {
        if let Some(kill_timer) = self.killing
            && kill_timer == Some(id)
        {
            // The kill's grace period is over: halt rather than wait for the shutdown.
            self.killing = Some(None);
            self.halt_due = true;
            if matches!(self.op, Some((_, Op::Shutdown))) {
                self.cancel_op(effects);
            }
            if matches!(self.wake, Some((_, Wake::Retry))) {
                self.wake = None;
                self.zone = None;
            }
            return;
        }
        if self.deadline_timer == Some(id) {
            self.deadline_timer = None;
            if matches!(self.op, Some((_, Op::Shutdown))) {
                effects.push(Effect::Event {
                    warning: true,
                    reason: "Killing",
                    message: "The grace period ended before the zone shut down; halting it".into(),
                });
            }
            self.timer_now_due(effects);
            return;
        }
        match self.wake {
            Some((wake_id, wake)) if wake_id == id => {
                self.wake = None;
                // Whatever the wait was for, look at the zone again before acting.
                self.zone = None;
                if wake == Wake::Restart && self.stage == Stage::BackOff {
                    self.restart_count = self.restart_count.saturating_add(1);
                    self.stage = Stage::Creating;
                    self.container = waiting("ContainerCreating", None);
                }
            }
            _ => {}
        }
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState::Waiting { reason: reason.into(), message }
}

/// `deadline - now`, or zero when it has passed.
fn duration_until(now: Timestamp, deadline: Timestamp) -> Duration {
    let gap = deadline.duration_since(now);
    if gap <= SignedDuration::ZERO { Duration::ZERO } else { Duration::try_from(gap).unwrap_or(Duration::ZERO) }
}

/// `10s`, `2m40s`, `5m0s`, as the kubelet writes back-off delays.
fn humanize(delay: Duration) -> String {
    let seconds = delay.as_secs();
    if seconds < 60 { format!("{seconds}s") } else { format!("{}m{}s", seconds / 60, seconds % 60) }
}

/// Feeds one input to the machine: the new state and what to do.
pub fn step(state: PodState, input: Input, now: Timestamp) -> (PodState, Vec<Effect>) {
    let mut state = state;
    let mut effects = Vec::new();
    let before = state.shown();
    match input {
        Input::Desired(desired) => {
            let deleting = desired.deletion_deadline.is_some();
            // A later delete may shorten the grace period: re-arm the deadline.
            let shortened = state.stage == Stage::Terminating
                && desired.deletion_deadline.is_some()
                && desired.deletion_deadline < state.desired.deletion_deadline;
            state.desired = desired;
            if deleting && state.stage != Stage::Terminating {
                state.begin_termination(now, &mut effects);
            } else if shortened && let Some(deadline) = state.desired.deletion_deadline {
                let after = duration_until(now, deadline);
                if after.is_zero() {
                    state.deadline_timer = None;
                    state.timer_now_due(&mut effects);
                } else {
                    let id = state.id();
                    state.deadline_timer = Some(id);
                    effects.push(Effect::StartTimer { id, after });
                }
            }
        }
        Input::PodGone => {
            state.gone = true;
            state.object_deleted = true;
            state.halt_due = true;
            if state.stage == Stage::Terminating {
                if matches!(state.op, Some((_, Op::Shutdown | Op::DeleteObject))) {
                    state.cancel_op(&mut effects);
                }
            } else {
                state.begin_termination(now, &mut effects);
            }
        }
        Input::Observed(zone) => {
            // Racy while an operation is in flight: its own result decides.
            if state.op.is_none() && state.stage != Stage::Finished {
                state.observed(zone, now, &mut effects);
            }
        }
        Input::OpFinished { id, result } => match state.op {
            Some((current, op)) if current == id => {
                state.op = None;
                state.finished(op, result, now, &mut effects);
            }
            _ => {}
        },
        Input::TimerFired { id } => state.timer(id, &mut effects),
        Input::Readiness(ready) => state.ready = ready,
        Input::Kill { grace } => {
            if state.stage == Stage::Running && state.killing.is_none() {
                let id = state.id();
                state.killing = Some(Some(id));
                effects.push(Effect::StartTimer { id, after: grace });
            }
        }
    }
    state.advance(now, &mut effects);
    if state.shown() != before {
        effects.push(Effect::PublishStatus);
    }
    (state, effects)
}

impl PodState {
    fn timer_now_due(&mut self, effects: &mut Vec<Effect>) {
        self.halt_due = true;
        if matches!(self.op, Some((_, Op::Shutdown))) {
            self.cancel_op(effects);
        }
        // Stop waiting for a shutdown to settle (or a retry): halt now.
        if self.stage == Stage::Terminating && matches!(self.wake, Some((_, Wake::Retry))) {
            self.wake = None;
            self.zone = None;
        }
    }
}
