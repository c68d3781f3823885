//! `PodActor`: one per pod on this node. It feeds every input to
//! [`crate::logic::lifecycle::step`] and carries out the effects: each operation is a
//! spawned future (`ctx.spawn`, never `ctx.wait`) tagged with its operation id, so the
//! mailbox keeps flowing during minutes-long zone installs and a superseded result is
//! dropped; cancelled operations have their futures dropped (which kills a real child
//! process). Its inputs arrive coalesced: the router puts the newest pod, zone
//! observation or "gone" in the pod's [`PodInbox`] and sends a content-free `Kick`.
//!
//! A new incarnation (after a crash, or a new agent process) rebuilds its state from the
//! pod as the API has it (restart count, start times) and from observing the zone, never
//! from the dead actor's memory. Status goes through `pods/status` only when it changes,
//! one write at a time per pod, each in one of the node's status-write slots and rendered
//! when the slot is granted (so a burst writes each pod's newest status, not its history).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix::prelude::*;
use futures_util::future::BoxFuture;
use jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};

use crate::actors::agent::AgentContext;
use crate::actors::agent::ipam::{AllocateIp, IpamPool, ReleaseIp};
use crate::actors::agent::probes::{ProbeChains, ProbeHost, ProbeTarget};
use crate::actors::coalesce::{Kick, Latest};
use crate::actors::directory::{Describe, Registration};
use crate::actors::supervision::ChildExited;
use crate::illumos::runtime::{IllumosRuntime, RuntimeError};
use crate::illumos::zoneadm::{InstallSource, ZoneState};
use crate::logic::events::{EventSpec, InvolvedObject};
use crate::logic::lifecycle::status::{StatusContext, comparable, render_status};
use crate::logic::lifecycle::{
    ContainerState, Desired, Effect, Failure, FailureKind, Input, Op, OpResult, PodState, RestartPolicy, Resume, Stage,
    Termination, ZoneStatus, step,
};
use crate::logic::naming;
use crate::logic::probe::{ProbeDecision, pod_termination_grace, probes_gate_readiness};
use crate::logic::zone_plan::{PodNetwork, ZonePlan, plan_zone};
use crate::model::k8s::core::v1::{ConfigMap, Pod, PodStatus, Secret};

/// Test-only fault hook: a PodActor whose incarnation equals this annotation's value
/// panics when it reads the pod, but only when the agent was built with
/// `AgentSettings::test_faults` (set by code, never by a flag).
pub const TEST_PANIC_ANNOTATION: &str = "reddwarf.io/test-panic-incarnation";

/// What the router leaves for a pod actor: the newest pod, the newest zone observation,
/// and whether the pod is gone. Cloning shares it.
#[derive(Clone, Default)]
pub struct PodInbox {
    /// The newest pod from the watch.
    pub pod: Latest<Arc<Pod>>,
    /// The newest zone state from the relist, with when the listing began.
    pub zone: Latest<(ZoneStatus, tokio::time::Instant)>,
    /// Set once the pod is deleted from the API.
    pub gone: Latest<()>,
}

/// Sent to the router when a pod actor is done for good (its pod is deleted and cleaned).
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct PodFinished {
    /// The pod uid.
    pub uid: String,
    /// The incarnation that finished.
    pub incarnation: u64,
}

/// The pod network the node's IP pool serves.
#[derive(Clone)]
pub struct PodNet {
    /// The pool.
    pub ipam: Addr<IpamPool>,
    /// The prefix length of the node's pod CIDR.
    pub prefix_len: u8,
    /// The pods' gateway.
    pub gateway: IpAddr,
}

/// The recipients a pod actor reports to.
#[derive(Clone)]
pub struct PodParent {
    /// Told from `stopped()` (which runs even after a panic).
    pub exited: Recipient<ChildExited<String>>,
    /// Told when the pod is finished with.
    pub finished: Recipient<PodFinished>,
}

/// One pod's actor.
pub struct PodActor {
    uid: String,
    namespace: String,
    name: String,
    zone: String,
    inbox: PodInbox,
    pod: Arc<Pod>,
    state: Option<PodState>,
    shared: Arc<AgentContext>,
    net: PodNet,
    parent: PodParent,
    incarnation: u64,
    restarts: u64,
    ops: HashMap<u64, SpawnHandle>,
    timers: HashMap<u64, SpawnHandle>,
    accepted_at: Timestamp,
    /// The status this actor last wrote, until the watch brings it back (then the pod's
    /// own status is the same, and holding both would double the memory of an idle pod).
    published: Option<Box<PodStatus>>,
    publishing: bool,
    publish_again: bool,
    last_op_done: Option<tokio::time::Instant>,
    /// When this incarnation first saw the pod's deletion.
    deletion_seen: Option<Timestamp>,
    registration: Option<Registration>,
    /// The pod's health probes (`actors::agent::probes`).
    probes: ProbeChains,
}

fn meta(pod: &Pod) -> (String, String, String) {
    (
        pod.metadata.uid.clone().unwrap_or_default(),
        pod.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

/// What the pod asks for. The grace deadline counts `deletionGracePeriodSeconds` from when
/// this agent first saw the deletion (`seen`, kept across calls), as the kubelet does:
/// `deletionTimestamp` has only whole seconds, so on its own it could end the grace period
/// up to a second early. It still caps the deadline (plus that second), so an agent that
/// starts long after the deletion halts at once rather than granting a new grace period.
fn desired(pod: &Pod, seen: &mut Option<Timestamp>, now: Timestamp) -> Desired {
    let restart_policy = RestartPolicy::parse(pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()));
    let probes_gate_readiness = probes_gate_readiness(pod);
    let Some(stamp) = pod.metadata.deletion_timestamp.as_ref().map(|t| t.0) else {
        return Desired { restart_policy, deletion_deadline: None, probes_gate_readiness };
    };
    let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0).max(0);
    let seen_at = *seen.get_or_insert(now);
    let from_seen = seen_at.saturating_add(jiff::SignedDuration::from_secs(grace)).unwrap_or(seen_at);
    let from_stamp = stamp.saturating_add(jiff::SignedDuration::from_secs(1)).unwrap_or(stamp);
    Desired { restart_policy, deletion_deadline: Some(from_seen.min(from_stamp)), probes_gate_readiness }
}

fn resume(pod: &Pod) -> Resume {
    let status = pod.status.as_ref();
    let first = status.and_then(|s| s.container_statuses.as_ref()).and_then(|cs| cs.first());
    let last = first.and_then(|c| c.last_state.as_ref()).and_then(|s| s.terminated.as_ref());
    Resume {
        restart_count: first.map_or(0, |c| u32::try_from(c.restart_count).unwrap_or(0)),
        running_since: first
            .and_then(|c| c.state.as_ref())
            .and_then(|s| s.running.as_ref())
            .and_then(|r| r.started_at.as_ref())
            .map(|t| t.0),
        last_termination: last.map(|t| Termination {
            exit_code: t.exit_code,
            reason: t.reason.clone().unwrap_or_default(),
            started_at: t.started_at.as_ref().map(|s| s.0),
            finished_at: t.finished_at.as_ref().map_or(Timestamp::UNIX_EPOCH, |f| f.0),
        }),
        has_run: matches!(status.and_then(|s| s.phase.as_deref()), Some("Running" | "Succeeded" | "Failed")),
    }
}

/// Maps a zoneadm state to the lifecycle's.
pub fn zone_status(state: Option<ZoneState>) -> ZoneStatus {
    match state {
        None => ZoneStatus::Absent,
        Some(ZoneState::Configured) => ZoneStatus::Configured,
        Some(ZoneState::Incomplete) => ZoneStatus::Incomplete,
        Some(ZoneState::Installed) => ZoneStatus::Installed,
        Some(ZoneState::Ready) => ZoneStatus::Ready,
        Some(ZoneState::Running) => ZoneStatus::Running,
        Some(ZoneState::ShuttingDown) => ZoneStatus::ShuttingDown,
        Some(ZoneState::Down) => ZoneStatus::Down,
        Some(ZoneState::Mounted) => ZoneStatus::Mounted,
    }
}

fn transient(error: impl std::fmt::Display) -> OpResult {
    OpResult::Failed(Failure { kind: FailureKind::Transient, message: error.to_string() })
}

impl PodActor {
    /// A new incarnation for the pod in `inbox` (which must hold the pod).
    pub fn new(
        pod: Arc<Pod>,
        inbox: PodInbox,
        shared: Arc<AgentContext>,
        net: PodNet,
        parent: PodParent,
        incarnation: u64,
        restarts: u64,
    ) -> Self {
        let (uid, namespace, name) = meta(&pod);
        let zone = naming::zone_name(&namespace, &name);
        let accepted_at = shared.clock.now();
        let probes = ProbeChains::new(resume(&pod).running_since);
        Self {
            uid,
            namespace,
            name,
            zone,
            inbox,
            pod,
            state: None,
            shared,
            net,
            parent,
            incarnation,
            restarts,
            ops: HashMap::new(),
            timers: HashMap::new(),
            accepted_at,
            published: None,
            publishing: false,
            publish_again: false,
            last_op_done: None,
            deletion_seen: None,
            registration: None,
            probes,
        }
    }

    fn check_test_fault(&self) {
        if !self.shared.settings.test_faults {
            return;
        }
        let annotations = self.pod.metadata.annotations.as_ref();
        if annotations.and_then(|a| a.get(TEST_PANIC_ANNOTATION)).is_some_and(|v| *v == self.incarnation.to_string()) {
            panic!(
                "test fault: PodActor {}/{} incarnation {} panics as asked",
                self.namespace, self.name, self.incarnation
            );
        }
    }

    fn feed(&mut self, input: Input, ctx: &mut Context<Self>) {
        let Some(state) = self.state.take() else { return };
        let (state, effects) = step(state, input, self.shared.clock.now());
        self.state = Some(state);
        self.apply(effects, ctx);
        self.sync_probes(ctx);
        if let (Some(r), Some(state)) = (&self.registration, &self.state) {
            r.set_state(state.summary());
            r.set_in_flight(u32::try_from(self.ops.len()).unwrap_or(u32::MAX));
        }
    }

    /// Probes run while the zone runs (a new run starts them afresh) and stop otherwise,
    /// termination included. Their initial readiness goes to the lifecycle.
    fn sync_probes(&mut self, ctx: &mut Context<Self>) {
        let Some(state) = &self.state else { return };
        let run = match (state.stage, &state.container) {
            (Stage::Running, ContainerState::Running { started_at }) => Some(*started_at),
            _ => None,
        };
        let target = ProbeTarget {
            runtime: self.shared.runtime.clone(),
            node: self.shared.probes.clone(),
            zone: self.zone.clone(),
            pod_ip: state.ip,
        };
        let pod = self.pod.clone();
        let now = self.shared.clock.now();
        if let Some(ready) = ProbeChains::sync(self, ctx, &pod, run, now, target)
            && self.state.as_ref().is_some_and(|s| s.ready != ready)
        {
            self.feed(Input::Readiness(ready), ctx);
        }
    }

    fn apply(&mut self, effects: Vec<Effect>, ctx: &mut Context<Self>) {
        for effect in effects {
            match effect {
                Effect::Run { id, op } => {
                    let work = self.operation(op);
                    let handle = ctx.spawn(actix::fut::wrap_future::<_, Self>(work).map(move |result, this, ctx| {
                        this.ops.remove(&id);
                        this.last_op_done = Some(tokio::time::Instant::now());
                        this.feed(Input::OpFinished { id, result }, ctx);
                    }));
                    self.ops.insert(id, handle);
                }
                Effect::Cancel { id } => {
                    if let Some(handle) = self.ops.remove(&id) {
                        ctx.cancel_future(handle);
                    }
                }
                Effect::StartTimer { id, after } => {
                    let handle = ctx.run_later(after, move |this, ctx| {
                        this.timers.remove(&id);
                        this.feed(Input::TimerFired { id }, ctx);
                    });
                    self.timers.insert(id, handle);
                }
                Effect::PublishStatus => self.publish(ctx),
                Effect::Event { warning, reason, message } => self.record(warning, reason, message),
                Effect::Stop => {
                    let _ = self
                        .parent
                        .finished
                        .try_send(PodFinished { uid: self.uid.clone(), incarnation: self.incarnation });
                    ctx.stop();
                }
            }
        }
    }

    fn record(&self, warning: bool, reason: &str, message: String) {
        self.record_about(warning, reason, message, String::new());
    }

    /// Records an event on the pod about `field_path` (`spec.containers{NAME}`).
    fn record_about(&self, warning: bool, reason: &str, message: String, field_path: String) {
        self.shared.recorder.record(EventSpec {
            involved: InvolvedObject {
                kind: "Pod".into(),
                api_version: "v1".into(),
                namespace: self.namespace.clone(),
                name: self.name.clone(),
                uid: self.uid.clone(),
                field_path,
            },
            warning,
            reason: reason.to_string(),
            message,
            component: "kubelet".into(),
            host: self.shared.settings.node_name.clone(),
        });
    }

    /// The status to write now: None when there is nothing to say or it is unchanged.
    fn status_to_publish(&self) -> Option<PodStatus> {
        let state = self.state.as_ref()?;
        if self.pod.metadata.deletion_timestamp.is_some() && state.object_deleted {
            return None;
        }
        let context = StatusContext {
            pod: &self.pod,
            host_ip: Some(self.shared.settings.node_ip),
            zone_name: &self.zone,
            accepted_at: self.accepted_at,
            now: self.shared.clock.now(),
        };
        let status = render_status(state, &context);
        let current = self.published.as_deref().or(self.pod.status.as_ref());
        (!current.is_some_and(|c| comparable(c) == comparable(&status))).then_some(status)
    }

    /// Writes the status once this node has a status-write slot free
    /// ([`AgentContext::status_writes`]), rendering it then: a pod that moved on while it
    /// waited (Pending to Running, in a burst) writes only where it is.
    fn publish(&mut self, ctx: &mut Context<Self>) {
        if self.publishing {
            self.publish_again = true;
            return;
        }
        if self.status_to_publish().is_none() {
            return;
        }
        self.publishing = true;
        let slot = self.shared.status_writes.clone().acquire_owned();
        ctx.spawn(actix::fut::wrap_future::<_, Self>(slot).map(|slot, this, ctx| match slot {
            Ok(slot) => this.publish_in(slot, ctx),
            // The semaphore is never closed; if it were, there would be no way to write.
            Err(_) => this.publishing = false,
        }));
    }

    fn publish_in(&mut self, slot: tokio::sync::OwnedSemaphorePermit, ctx: &mut Context<Self>) {
        let Some(status) = self.status_to_publish() else {
            self.publishing = false;
            self.publish_again = false;
            return;
        };
        let api: Api<Pod> = Api::namespaced(self.shared.client.clone(), &self.namespace);
        let name = self.name.clone();
        let body = serde_json::json!({"status": status});
        let send = async move {
            let result = api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&body)).await;
            drop(slot);
            result
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(send).map(move |result, this, ctx| {
            this.publishing = false;
            match result {
                Ok(_) => this.published = Some(Box::new(status)),
                Err(error) => {
                    tracing::warn!(pod = %format!("{}/{}", this.namespace, this.name), %error, "could not publish the pod status");
                    // Try again shortly; a missing pod is reported by the watch instead.
                    if !matches!(&error, kube::Error::Api(e) if e.code == 404) {
                        ctx.run_later(std::time::Duration::from_secs(1), |this, ctx| this.publish(ctx));
                    }
                }
            }
            if std::mem::take(&mut this.publish_again) {
                this.publish(ctx);
            }
        }));
    }

    /// The future that carries out `op`.
    fn operation(&self, op: Op) -> BoxFuture<'static, OpResult> {
        let runtime = self.shared.runtime.clone();
        let zone = self.zone.clone();
        match op {
            Op::Observe => Box::pin(observe(runtime, zone)),
            Op::AllocateIp => {
                let message =
                    AllocateIp { uid: self.uid.clone(), preferred: self.state.as_ref().and_then(|s| s.zone_address) };
                let ipam = self.net.ipam.clone();
                Box::pin(async move {
                    match ipam.send(message).await {
                        Ok(Ok(ip)) => OpResult::IpAllocated(ip),
                        Ok(Err(error)) => transient(error),
                        Err(error) => transient(format!("the IP pool is unavailable: {error}")),
                    }
                })
            }
            Op::Prepare => {
                let plan = self.plan();
                let shared = self.shared.clone();
                let pod = self.pod.clone();
                Box::pin(async move {
                    let plan = match plan {
                        Ok(plan) => plan,
                        Err(failure) => return OpResult::Failed(failure),
                    };
                    prepare(&shared, &pod, &plan).await
                })
            }
            Op::Install => {
                let plan = self.plan();
                let image = self
                    .pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.containers.first())
                    .and_then(|c| c.image.clone())
                    .unwrap_or_default();
                Box::pin(async move {
                    let plan = match plan {
                        Ok(plan) => plan,
                        Err(failure) => return OpResult::Failed(failure),
                    };
                    install(&runtime, &plan, &image).await
                })
            }
            Op::Boot => Box::pin(async move { done(runtime.boot_zone(&zone).await) }),
            Op::Shutdown => Box::pin(async move { done(runtime.shutdown_zone(&zone).await) }),
            Op::Halt => Box::pin(async move { done(runtime.halt_zone(&zone).await) }),
            Op::Teardown => {
                let shared = self.shared.clone();
                let vnic = naming::vnic_name(&self.namespace, &self.name);
                Box::pin(async move { teardown(&shared, &zone, &vnic).await })
            }
            Op::ReleaseIp => {
                let ipam = self.net.ipam.clone();
                let message = ReleaseIp { uid: self.uid.clone() };
                Box::pin(async move {
                    match ipam.send(message).await {
                        Ok(Ok(())) => OpResult::Done,
                        Ok(Err(error)) => transient(error),
                        Err(error) => transient(format!("the IP pool is unavailable: {error}")),
                    }
                })
            }
            Op::DeleteObject => {
                let api: Api<Pod> = Api::namespaced(self.shared.client.clone(), &self.namespace);
                let name = self.name.clone();
                let uid = self.uid.clone();
                Box::pin(async move {
                    let params = DeleteParams {
                        grace_period_seconds: Some(0),
                        preconditions: Some(Preconditions { uid: Some(uid), resource_version: None }),
                        ..DeleteParams::default()
                    };
                    match api.delete(&name, &params).await {
                        // Still there with nothing holding it: the server did not take the
                        // final delete; try again rather than forget the pod.
                        Ok(outcome)
                            if outcome
                                .as_ref()
                                .left()
                                .is_some_and(|pod| pod.metadata.finalizers.as_ref().is_none_or(Vec::is_empty)) =>
                        {
                            transient("the API server kept the pod after a delete with grace 0")
                        }
                        Ok(_) => OpResult::Done,
                        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => OpResult::Done,
                        Err(error) => transient(error),
                    }
                })
            }
        }
    }

    /// The zone plan, from the pod and its address.
    fn plan(&self) -> Result<ZonePlan, Failure> {
        let ip = self
            .state
            .as_ref()
            .and_then(|s| s.ip)
            .ok_or_else(|| Failure { kind: FailureKind::Transient, message: "no address allocated yet".into() })?;
        let network = PodNetwork {
            vnic: naming::vnic_name(&self.namespace, &self.name),
            address: ip,
            prefix_len: self.net.prefix_len,
            gateway: Some(self.net.gateway),
        };
        plan_zone(&self.pod, &self.shared.settings.node_profile(), &network)
            .map_err(|e| Failure { kind: FailureKind::Config, message: e.to_string() })
    }

    fn forget_published_once_reflected(&mut self) {
        let reflected = match (&self.published, &self.pod.status) {
            (Some(published), Some(current)) => comparable(published) == comparable(current),
            _ => false,
        };
        if reflected {
            self.published = None;
        }
    }

    fn drain_inbox(&mut self, ctx: &mut Context<Self>) {
        if self.inbox.gone.take().is_some() {
            self.feed(Input::PodGone, ctx);
        }
        if let Some(pod) = self.inbox.pod.take() {
            let now = self.shared.clock.now();
            let before = desired(&self.pod, &mut self.deletion_seen, now);
            self.pod = pod;
            self.forget_published_once_reflected();
            self.check_test_fault();
            let after = desired(&self.pod, &mut self.deletion_seen, now);
            if after != before {
                self.feed(Input::Desired(after), ctx);
            }
        }
        if let Some((zone, listed_at)) = self.inbox.zone.take() {
            // A listing that began before our last operation finished may predate it.
            if self.last_op_done.is_none_or(|done| listed_at > done) {
                self.feed(Input::Observed(zone), ctx);
            }
        }
    }
}

fn done(result: Result<crate::illumos::runtime::Step, RuntimeError>) -> OpResult {
    match result {
        Ok(_) => OpResult::Done,
        Err(error) => transient(error),
    }
}

async fn observe(runtime: IllumosRuntime, zone: String) -> OpResult {
    let entry = match runtime.zone(&zone).await {
        Ok(entry) => entry,
        Err(error) => return transient(error),
    };
    let status = zone_status(entry.map(|e| e.state));
    let mut address = None;
    if status != ZoneStatus::Absent {
        match runtime.zone_config(&zone).await {
            Ok(Some(config)) => {
                address = config.nets.first().and_then(|net| {
                    let text = net
                        .allowed_address
                        .clone()
                        .or_else(|| net.properties.iter().find(|(k, _)| k == "ips").map(|(_, v)| v.clone()))?;
                    text.split('/').next()?.parse::<IpAddr>().ok()
                });
            }
            Ok(None) => {}
            Err(error) => return transient(error),
        }
    }
    OpResult::Observed { zone: status, address }
}

async fn prepare(shared: &AgentContext, pod: &Pod, plan: &ZonePlan) -> OpResult {
    let runtime = &shared.runtime;
    if let Err(error) = runtime.ensure_vnic(&plan.net.physical, &shared.settings.etherstub).await {
        return transient(error);
    }
    if let Err(error) = runtime.prepare_volumes(plan).await {
        return transient(error);
    }
    if let Err(message) = project_volumes(shared, pod, &plan.zone_name).await {
        return OpResult::Failed(Failure { kind: FailureKind::Transient, message });
    }
    done(runtime.configure_zone(plan).await)
}

/// Writes configMap and secret volumes into the directories the zone mounts read-only.
async fn project_volumes(shared: &AgentContext, pod: &Pod, zone: &str) -> Result<(), String> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_else(|| "default".into());
    let root = shared.settings.volume_dir_root().join(zone);
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for volume in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
        let dir = root.join(&volume.name);
        let keys_to_paths =
            |items: Option<&Vec<crate::model::k8s::core::v1::KeyToPath>>, key: &str| -> Option<String> {
                match items {
                    None => Some(key.to_string()),
                    Some(items) => items.iter().find(|i| i.key == key).map(|i| i.path.clone()),
                }
            };
        if let Some(source) = &volume.config_map {
            dirs.push(dir.clone());
            let api: Api<ConfigMap> = Api::namespaced(shared.client.clone(), &namespace);
            match api.get_opt(&source.name).await.map_err(|e| e.to_string())? {
                Some(cm) => {
                    for (key, value) in cm.data.unwrap_or_default() {
                        if let Some(path) = keys_to_paths(source.items.as_ref(), &key) {
                            files.push((dir.join(path), value.into_bytes()));
                        }
                    }
                    for (key, value) in cm.binary_data.unwrap_or_default() {
                        if let Some(path) = keys_to_paths(source.items.as_ref(), &key) {
                            files.push((dir.join(path), value.0));
                        }
                    }
                }
                None if source.optional == Some(true) => {}
                None => return Err(format!("configmap \"{}\" not found", source.name)),
            }
        } else if let Some(source) = &volume.secret {
            dirs.push(dir.clone());
            let secret_name = source.secret_name.clone().unwrap_or_default();
            let api: Api<Secret> = Api::namespaced(shared.client.clone(), &namespace);
            match api.get_opt(&secret_name).await.map_err(|e| e.to_string())? {
                Some(secret) => {
                    for (key, value) in secret.data.unwrap_or_default() {
                        if let Some(path) = keys_to_paths(source.items.as_ref(), &key) {
                            files.push((dir.join(path), value.0));
                        }
                    }
                }
                None if source.optional == Some(true) => {}
                None => return Err(format!("secret \"{secret_name}\" not found")),
            }
        } else if volume.projected.is_some() || volume.downward_api.is_some() {
            // Mounted empty for now: their sources are not materialised yet.
            dirs.push(dir);
        }
    }
    if dirs.is_empty() {
        return Ok(());
    }
    let write = move || -> std::io::Result<()> {
        for dir in &dirs {
            std::fs::create_dir_all(dir)?;
        }
        for (path, bytes) in &files {
            if !path.starts_with(&root) || path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                return Err(std::io::Error::other(format!("refusing to write outside the volume: {}", path.display())));
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
        }
        Ok(())
    };
    tokio::task::spawn_blocking(write).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
}

/// Installs the zone, resolving the image where the brand needs one: an lx zone installs
/// from a local tarball (an absolute path) or a ZFS snapshot (`pool/fs@snap`) named by
/// the first container's image; native brands install from the package publishers.
async fn install(runtime: &IllumosRuntime, plan: &ZonePlan, image: &str) -> OpResult {
    let source = if plan.brand == "lx" {
        match resolve_image(runtime, image).await {
            Ok(source) => source,
            Err(failure) => return OpResult::Failed(failure),
        }
    } else {
        InstallSource::Publishers
    };
    done(runtime.install_zone(&plan.zone_name, &source).await)
}

async fn resolve_image(runtime: &IllumosRuntime, image: &str) -> Result<InstallSource, Failure> {
    let image = image.to_string();
    let not_found = |why: &str| Failure {
        kind: FailureKind::Image,
        message: format!(
            "image \"{image}\" cannot be resolved: {why} (an lx pod needs a local tarball path or a ZFS snapshot)"
        ),
    };
    if image.starts_with('/') {
        return match tokio::fs::metadata(&image).await {
            Ok(meta) if meta.is_file() => Ok(InstallSource::Tarball(image.clone())),
            _ => Err(not_found("no such file")),
        };
    }
    if image.contains('@') {
        return match runtime.dataset_exists(&image).await {
            Ok(true) => Ok(InstallSource::ZfsSource(image.clone())),
            Ok(false) => Err(not_found("no such snapshot")),
            Err(error) => Err(Failure { kind: FailureKind::Transient, message: error.to_string() }),
        };
    }
    Err(not_found("not a path or a snapshot"))
}

async fn teardown(shared: &AgentContext, zone: &str, vnic: &str) -> OpResult {
    let runtime = &shared.runtime;
    if let Err(error) = runtime.remove_zone(zone).await {
        return transient(error);
    }
    if let Err(error) = runtime.delete_vnic(vnic).await {
        return transient(error);
    }
    let datasets = format!("{}/{zone}", shared.settings.node_profile().volume_dataset_root);
    if let Err(error) = runtime.destroy_dataset(&datasets).await {
        return transient(error);
    }
    let dir = shared.settings.volume_dir_root().join(zone);
    match remove_dir(&dir).await {
        Ok(()) => OpResult::Done,
        Err(error) => transient(format!("removing {}: {error}", dir.display())),
    }
}

async fn remove_dir(dir: &Path) -> std::io::Result<()> {
    match tokio::fs::remove_dir_all(dir).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl Actor for PodActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Kicks carry nothing: one waiting is as good as many.
        ctx.set_mailbox_capacity(1);
        let registration = self.shared.directory.register(
            "PodActor",
            format!("{}/{}", self.namespace, self.name),
            self.incarnation,
            self.restarts,
            Some(ctx.address().recipient()),
        );
        self.registration = Some(registration);
        if let Some(pod) = self.inbox.pod.take() {
            self.pod = pod;
        }
        self.check_test_fault();
        let now = self.shared.clock.now();
        let desired = desired(&self.pod, &mut self.deletion_seen, now);
        let (state, effects) = PodState::new(desired, resume(&self.pod)).start(now);
        self.state = Some(state);
        self.apply(effects, ctx);
        self.drain_inbox(ctx);
        self.sync_probes(ctx);
        if let (Some(r), Some(state)) = (&self.registration, &self.state) {
            r.set_state(state.summary());
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Runs after a panic too: keep it tiny and panic-free.
        let _ = self.parent.exited.try_send(ChildExited { key: self.uid.clone(), incarnation: self.incarnation });
    }
}

impl Handler<Kick> for PodActor {
    type Result = ();

    fn handle(&mut self, _: Kick, ctx: &mut Context<Self>) {
        if let Some(r) = &self.registration {
            r.handled();
        }
        self.drain_inbox(ctx);
    }
}

impl Handler<Describe> for PodActor {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        let state = self.state.as_ref().map_or_else(|| "no state".to_string(), PodState::summary);
        format!("{state}; zone {}; {} operations, {} timers", self.zone, self.ops.len(), self.timers.len())
    }
}

impl ProbeHost for PodActor {
    fn probe_chains(&mut self) -> &mut ProbeChains {
        &mut self.probes
    }

    fn on_probe_decisions(&mut self, decisions: Vec<ProbeDecision>, ctx: &mut Context<Self>) {
        for decision in decisions {
            match decision {
                ProbeDecision::Ready(ready) => self.feed(Input::Readiness(ready), ctx),
                ProbeDecision::Restart { grace, .. } => {
                    let grace = grace.unwrap_or_else(|| pod_termination_grace(&self.pod));
                    self.feed(Input::Kill { grace }, ctx);
                }
                ProbeDecision::Event { warning, reason, message, container } => {
                    self.record_about(warning, reason, message, format!("spec.containers{{{container}}}"));
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "pod_tests.rs"]
mod tests;
