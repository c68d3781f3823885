//! Node lifecycle: the NodeLifecycle router watches Nodes and their Leases in
//! `kube-node-lease` and runs one NodeActor per node. Each NodeActor owns its node's timers:
//! when nothing has been heard from the node (no Lease renewal, no new status heartbeat)
//! for the grace period (`--node-monitor-grace-period`, default 40 s), its conditions
//! become Unknown (`NodeStatusUnknown`) and it gets the `node.kubernetes.io/unreachable`
//! `NoExecute` taint; its pods are then evicted as the taint manager does — at once
//! without a matching toleration, after `tolerationSeconds` with one (the default 300 s),
//! never with an unbounded one. When the node is heard from again the taint goes and the
//! pending evictions are cancelled. A NodeActor that dies is respawned by the router with
//! backoff and rebuilds from the store (an existing taint keeps its `timeAdded`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::stream;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::actors::coalesce::{Kick, Latest, deliver};
use crate::actors::directory::{ActorDirectory, Describe, Registration};
use crate::actors::events::Recorder;
use crate::actors::supervision::{ChildExited, Children, ExitVerdict};
use crate::clock::Clock;
use crate::logic::backoff::Backoff;
use crate::logic::binding::set_condition;
use crate::logic::deletion::{Deletion, DeletionInput, pod_deletion};
use crate::logic::events::{EventSpec, InvolvedObject};
use crate::logic::node_health::{UNREACHABLE_TAINT, eviction_delay, is_unreachable, unreachable_taint};
use crate::model::k8s::core::v1::{Pod, Taint};
use crate::store::{EventKind, Object, ReadAt, Selection, Store, StoreError, WatchFrom, WatchItem};

const NODES_PREFIX: &str = "/registry/nodes/";
const LEASES_PREFIX: &str = "/registry/coordination.k8s.io/leases/kube-node-lease/";
const COMPONENT: &str = "node-controller";

/// What the router knows of a node: enough for its actor to tell whether it was heard from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Heartbeat {
    /// The Lease's `spec.renewTime`.
    pub lease_renewed: Option<String>,
    /// The Ready condition's `lastHeartbeatTime`.
    pub status_heartbeat: Option<String>,
}

/// Settings shared by every NodeActor.
#[derive(Clone)]
pub struct NodeHealthSettings {
    /// How long a node may be silent before it is unreachable.
    pub grace: Duration,
}

impl Default for NodeHealthSettings {
    fn default() -> Self {
        Self { grace: crate::logic::node_health::DEFAULT_GRACE }
    }
}

struct Shared {
    store: Store,
    clock: Clock,
    recorder: Recorder,
    directory: ActorDirectory,
    settings: NodeHealthSettings,
}

fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// === NodeActor ===

/// One node's health watcher.
pub struct NodeActor {
    name: String,
    incarnation: u64,
    restarts: u64,
    shared: Arc<Shared>,
    slot: Latest<Heartbeat>,
    parent: Recipient<ChildExited<String>>,
    registration: Option<Registration>,
    heard: Heartbeat,
    last_heard: Instant,
    /// When the unreachable taint was added, if the node is unreachable.
    unreachable_since: Option<Timestamp>,
    check: Option<SpawnHandle>,
    evictions: HashMap<String, SpawnHandle>,
}

/// Makes a NodeActor panic (tests of supervision).
#[cfg(test)]
#[derive(Message)]
#[rtype(result = "()")]
pub struct InjectPanic;

#[cfg(test)]
impl Handler<InjectPanic> for NodeActor {
    type Result = ();
    fn handle(&mut self, _: InjectPanic, _: &mut Context<Self>) {
        panic!("injected fault in NodeActor {}", self.name);
    }
}

impl NodeActor {
    fn publish(&self) {
        if let Some(r) = &self.registration {
            let state = match self.unreachable_since {
                Some(_) => format!("unreachable, {} evictions pending", self.evictions.len()),
                None => "ready".to_string(),
            };
            r.set_state(state);
            r.set_in_flight(self.evictions.len() as u32);
        }
    }

    fn node_key(&self) -> String {
        format!("{NODES_PREFIX}{}", self.name)
    }

    fn involved(&self) -> InvolvedObject {
        InvolvedObject {
            kind: "Node".into(),
            api_version: "v1".into(),
            namespace: String::new(),
            name: self.name.clone(),
            uid: self.name.clone(),
            field_path: String::new(),
        }
    }

    fn arm_check(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.check.take() {
            ctx.cancel_future(handle);
        }
        let deadline = self.last_heard + self.shared.settings.grace + Duration::from_millis(1);
        self.check = Some(ctx.run_later(deadline.saturating_duration_since(Instant::now()), |this, ctx| {
            this.check = None;
            this.assess(ctx);
        }));
    }

    fn assess(&mut self, ctx: &mut Context<Self>) {
        let silent_for = Instant::now().saturating_duration_since(self.last_heard);
        if self.unreachable_since.is_none() && is_unreachable(silent_for, self.shared.settings.grace) {
            self.mark_unreachable(ctx);
        } else if self.unreachable_since.is_none() {
            self.arm_check(ctx);
        }
    }

    fn mark_unreachable(&mut self, ctx: &mut Context<Self>) {
        let now = self.shared.clock.now();
        self.unreachable_since = Some(now);
        let store = self.shared.store.clone();
        let key = self.node_key();
        let stamp = rfc3339(now);
        let commit = async move {
            store
                .update_with(&key, |object| {
                    let mut node = object.json();
                    let kinds: Vec<String> = node
                        .pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .map(|c| c.iter().filter_map(|c| c["type"].as_str().map(str::to_string)).collect())
                        .unwrap_or_else(|| vec!["Ready".to_string()]);
                    for kind in kinds {
                        set_condition(
                            &mut node,
                            &kind,
                            "Unknown",
                            Some("NodeStatusUnknown"),
                            Some("Kubelet stopped posting node status."),
                            &stamp,
                        );
                    }
                    let taints = node["spec"]["taints"].as_array().cloned().unwrap_or_default();
                    if !taints.iter().any(|t| t["key"] == UNREACHABLE_TAINT && t["effect"] == "NoExecute") {
                        let mut all = taints;
                        all.push(json!({"key": UNREACHABLE_TAINT, "effect": "NoExecute", "timeAdded": stamp}));
                        node["spec"]["taints"] = Value::Array(all);
                    }
                    if let Some(meta) = node.get_mut("metadata").and_then(Value::as_object_mut) {
                        meta.remove("resourceVersion");
                    }
                    Ok::<_, StoreError>(Some(node))
                })
                .await
        };
        self.shared.recorder.record(EventSpec {
            involved: self.involved(),
            warning: false,
            reason: "NodeNotReady".into(),
            message: format!("Node {} status is now: NodeNotReady", self.name),
            component: COMPONENT.into(),
            host: String::new(),
        });
        ctx.spawn(actix::fut::wrap_future::<_, Self>(commit).map(|result, this, ctx| {
            if let Err(err) = result {
                tracing::warn!(node = %this.name, %err, "could not mark the node unreachable");
            }
            this.schedule_evictions(ctx);
            this.publish();
        }));
        self.publish();
    }

    /// Schedules the eviction of every pod on the node, each at its own time.
    fn schedule_evictions(&mut self, ctx: &mut Context<Self>) {
        let Some(since) = self.unreachable_since else { return };
        // Node loss is rare: a scan of the pods, filtered here, keeps this independent of
        // which fields the store happens to index.
        let Ok(page) = self.shared.store.list(&Selection::prefix("/registry/pods/"), ReadAt::Latest, None, None) else {
            return;
        };
        let taint: Taint = unreachable_taint();
        let elapsed = Duration::try_from(self.shared.clock.now().duration_since(since)).unwrap_or_default();
        for object in page.items {
            let Ok(pod) = serde_json::from_slice::<Pod>(&object.value) else { continue };
            let on_this_node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(self.name.as_str());
            if !on_this_node || pod.metadata.deletion_timestamp.is_some() || self.evictions.contains_key(&*object.key) {
                continue;
            }
            let tolerations = pod.spec.as_ref().and_then(|s| s.tolerations.clone()).unwrap_or_default();
            let Some(delay) = eviction_delay(&tolerations, &taint) else { continue };
            let key = object.key.to_string();
            let handle = ctx.run_later(delay.saturating_sub(elapsed), {
                let key = key.clone();
                move |this, ctx| this.evict(ctx, key)
            });
            self.evictions.insert(key, handle);
        }
    }

    fn evict(&mut self, ctx: &mut Context<Self>, key: String) {
        self.evictions.remove(&key);
        if self.unreachable_since.is_none() {
            return;
        }
        let store = self.shared.store.clone();
        let now = self.shared.clock.now();
        let recorder = self.shared.recorder.clone();
        let work = async move {
            let Some(current) = store.get(&key) else { return Ok::<_, StoreError>(()) };
            let mut pod = current.json();
            if pod.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(());
            }
            let input = DeletionInput {
                node_name: pod.pointer("/spec/nodeName").and_then(Value::as_str),
                phase: pod.pointer("/status/phase").and_then(Value::as_str),
                spec_grace: pod.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64),
                has_finalizers: pod
                    .pointer("/metadata/finalizers")
                    .and_then(Value::as_array)
                    .is_some_and(|f| !f.is_empty()),
                ..DeletionInput::default()
            };
            let namespace = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("").to_string();
            let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
            let uid = pod.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("").to_string();
            match pod_deletion(&input, now) {
                Deletion::Remove => {
                    store.delete(key.clone(), Some(current.revision)).await?;
                }
                Deletion::Mark { at, grace_seconds } => {
                    pod["metadata"]["deletionTimestamp"] = json!(rfc3339(at));
                    pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace_seconds);
                    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
                        meta.remove("resourceVersion");
                    }
                    store.update(key.clone(), pod, Some(current.revision)).await?;
                }
                Deletion::AlreadyDeleting => return Ok(()),
            }
            recorder.record(EventSpec {
                involved: InvolvedObject {
                    kind: "Pod".into(),
                    api_version: "v1".into(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                    uid,
                    field_path: String::new(),
                },
                warning: false,
                reason: "TaintManagerEviction".into(),
                message: format!("Marking for deletion Pod {namespace}/{name}"),
                component: "taint-eviction-controller".into(),
                host: String::new(),
            });
            Ok(())
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(work).map(|result, this, _| {
            if let Err(err) = result {
                tracing::warn!(node = %this.name, %err, "eviction failed");
            }
            this.publish();
        }));
    }

    fn recover(&mut self, ctx: &mut Context<Self>) {
        self.unreachable_since = None;
        for (_, handle) in self.evictions.drain() {
            ctx.cancel_future(handle);
        }
        let store = self.shared.store.clone();
        let key = self.node_key();
        ctx.spawn(
            actix::fut::wrap_future::<_, Self>(async move {
                store
                    .update_with(&key, |object| {
                        let mut node = object.json();
                        let Some(taints) = node["spec"]["taints"].as_array().cloned() else {
                            return Ok::<_, StoreError>(None);
                        };
                        let kept: Vec<Value> = taints.into_iter().filter(|t| t["key"] != UNREACHABLE_TAINT).collect();
                        node["spec"]["taints"] = Value::Array(kept);
                        if let Some(meta) = node.get_mut("metadata").and_then(Value::as_object_mut) {
                            meta.remove("resourceVersion");
                        }
                        Ok(Some(node))
                    })
                    .await
            })
            .map(|result, this, _| {
                if let Err(err) = result {
                    tracing::warn!(node = %this.name, %err, "could not remove the unreachable taint");
                }
            }),
        );
        self.publish();
    }
}

impl Actor for NodeActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let registration = self.shared.directory.register(
            "NodeActor",
            self.name.clone(),
            self.incarnation,
            self.restarts,
            Some(ctx.address().recipient()),
        );
        self.registration = Some(registration);
        // Rebuild from durable truth: a taint already on the node means it is unreachable,
        // since the time the taint says.
        if let Some(node) = self.shared.store.get(&self.node_key()) {
            let node = node.json();
            let since = node["spec"]["taints"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["key"] == UNREACHABLE_TAINT && t["effect"] == "NoExecute"))
                .map(|t| {
                    t["timeAdded"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| self.shared.clock.now())
                });
            self.unreachable_since = since;
        }
        if let Some(heartbeat) = self.slot.take() {
            self.heard = heartbeat;
        }
        // Nothing says how long the node was silent before we started: give it a full grace.
        self.last_heard = Instant::now();
        if self.unreachable_since.is_some() {
            self.schedule_evictions(ctx);
        } else {
            self.arm_check(ctx);
        }
        self.publish();
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.parent.do_send(ChildExited { key: self.name.clone(), incarnation: self.incarnation });
    }
}

impl Handler<Kick> for NodeActor {
    type Result = ();

    fn handle(&mut self, _: Kick, ctx: &mut Context<Self>) {
        if let Some(r) = &self.registration {
            r.handled();
        }
        let Some(heartbeat) = self.slot.take() else { return };
        // Only a new renewal or a new status heartbeat is news from the node; our own
        // writes to the node (conditions, taints) are not.
        let renewed = heartbeat.lease_renewed.is_some() && heartbeat.lease_renewed != self.heard.lease_renewed;
        let posted = heartbeat.status_heartbeat.is_some() && heartbeat.status_heartbeat != self.heard.status_heartbeat;
        self.heard = heartbeat;
        if !(renewed || posted) {
            return;
        }
        self.last_heard = Instant::now();
        if self.unreachable_since.is_some() {
            self.recover(ctx);
        }
        self.arm_check(ctx);
    }
}

impl Handler<Describe> for NodeActor {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!(
            "node {}: silent for {:?}, unreachable since {:?}, {} evictions pending",
            self.name,
            Instant::now().saturating_duration_since(self.last_heard),
            self.unreachable_since.map(rfc3339),
            self.evictions.len()
        )
    }
}

// === NodeLifecycle ===

enum Change {
    Node(WatchItem),
    Lease(WatchItem),
}

/// The router: one NodeActor per node, respawned with backoff when it dies.
pub struct NodeLifecycle {
    shared: Arc<Shared>,
    children: Children<String, NodeActor>,
    slots: HashMap<String, Latest<Heartbeat>>,
    heartbeats: HashMap<String, Heartbeat>,
    registration: Option<Registration>,
    watches: Option<SpawnHandle>,
}

impl NodeLifecycle {
    /// A router over `store`; start it with `Actor::start`.
    pub fn new(
        store: Store,
        clock: Clock,
        recorder: Recorder,
        directory: ActorDirectory,
        settings: NodeHealthSettings,
    ) -> Self {
        Self {
            shared: Arc::new(Shared { store, clock, recorder, directory, settings }),
            children: Children::new(Backoff::RESPAWN),
            slots: HashMap::new(),
            heartbeats: HashMap::new(),
            registration: None,
            watches: None,
        }
    }

    /// Counts NodeActor respawns in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.children = self.children.count_restarts_in(metrics, "NodeActor");
        self
    }

    fn publish(&self) {
        if let Some(r) = &self.registration {
            r.set_state(format!("{} nodes", self.heartbeats.len()));
        }
    }

    fn note_node(&mut self, object: &Object) -> String {
        let name = object.key.trim_start_matches(NODES_PREFIX).to_string();
        let node = object.json();
        let ready =
            node["status"]["conditions"].as_array().and_then(|c| c.iter().find(|c| c["type"] == "Ready")).cloned();
        let heartbeat = self.heartbeats.entry(name.clone()).or_default();
        heartbeat.status_heartbeat = ready.and_then(|r| r["lastHeartbeatTime"].as_str().map(str::to_string));
        name
    }

    fn note_lease(&mut self, object: &Object) -> Option<String> {
        let name = object.key.trim_start_matches(LEASES_PREFIX).to_string();
        let heartbeat = self.heartbeats.get_mut(&name)?;
        heartbeat.lease_renewed = object.json()["spec"]["renewTime"].as_str().map(str::to_string);
        Some(name)
    }

    fn spawn(&mut self, name: &str, ctx: &mut Context<Self>) {
        let (incarnation, restarts) = self.children.next_incarnation(&name.to_string());
        let slot = self.slots.entry(name.to_string()).or_default().clone();
        slot.put(self.heartbeats.get(name).cloned().unwrap_or_default());
        let actor = NodeActor {
            name: name.to_string(),
            incarnation,
            restarts,
            shared: self.shared.clone(),
            slot,
            parent: ctx.address().recipient(),
            registration: None,
            heard: Heartbeat::default(),
            last_heard: Instant::now(),
            unreachable_since: None,
            check: None,
            evictions: HashMap::new(),
        };
        self.children.started(name.to_string(), actor.start(), incarnation, restarts);
    }

    /// Sends the newest heartbeat to the node's actor, spawning it if needed.
    fn update(&mut self, name: &str, ctx: &mut Context<Self>) {
        let heartbeat = self.heartbeats.get(name).cloned().unwrap_or_default();
        match self.children.get(&name.to_string()) {
            Some(addr) => {
                let slot = self.slots.entry(name.to_string()).or_default();
                deliver(slot, heartbeat, &addr.clone().recipient());
            }
            None => self.spawn(name, ctx),
        }
    }

    fn forget(&mut self, name: &str) {
        self.heartbeats.remove(name);
        self.slots.remove(name);
        // Removing the slot first lets the actor stop for good; then tell it to.
        if let Some(addr) = self.children.remove(&name.to_string()) {
            addr.do_send(StopNode);
        }
    }

    fn resync(&mut self, ctx: &mut Context<Self>) -> Result<(), StoreError> {
        let nodes = self.shared.store.list(&Selection::prefix(NODES_PREFIX), ReadAt::Latest, None, None)?;
        let leases =
            self.shared.store.list(&Selection::prefix(LEASES_PREFIX), ReadAt::Exact(nodes.revision), None, None)?;
        let mut names = Vec::new();
        for node in &nodes.items {
            names.push(self.note_node(node));
        }
        for lease in &leases.items {
            self.note_lease(lease);
        }
        let gone: Vec<String> = self.heartbeats.keys().filter(|n| !names.contains(n)).cloned().collect();
        for name in gone {
            self.forget(&name);
        }
        for name in names {
            self.update(&name, ctx);
        }
        let watch = |prefix: &str, wrap: fn(WatchItem) -> Change| {
            let watch = self.shared.store.watch(Selection::prefix(prefix), WatchFrom::After(nodes.revision))?;
            Ok::<_, StoreError>(stream::unfold(watch, move |mut w| async move { Some((wrap(w.next().await), w)) }))
        };
        let streams = stream::select(watch(NODES_PREFIX, Change::Node)?, watch(LEASES_PREFIX, Change::Lease)?);
        if let Some(old) = self.watches.take() {
            ctx.cancel_future(old);
        }
        self.watches = Some(ctx.add_stream(streams));
        self.publish();
        Ok(())
    }
}

/// Stops a NodeActor whose node is gone.
#[derive(Message)]
#[rtype(result = "()")]
struct StopNode;

impl Handler<StopNode> for NodeActor {
    type Result = ();
    fn handle(&mut self, _: StopNode, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Actor for NodeLifecycle {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.registration =
            Some(self.shared.directory.register("NodeLifecycle", "nodes", 1, 0, Some(ctx.address().recipient())));
        if let Err(err) = self.resync(ctx) {
            tracing::error!(%err, "node lifecycle could not read the store");
            ctx.stop();
        }
    }
}

impl StreamHandler<Change> for NodeLifecycle {
    fn handle(&mut self, change: Change, ctx: &mut Context<Self>) {
        if let Some(r) = &self.registration {
            r.handled();
        }
        let (item, is_node) = match change {
            Change::Node(item) => (item, true),
            Change::Lease(item) => (item, false),
        };
        match item {
            WatchItem::Event { kind, object } => {
                if is_node && kind == EventKind::Deleted {
                    self.forget(object.key.trim_start_matches(NODES_PREFIX));
                } else if is_node {
                    let name = self.note_node(&object);
                    self.update(&name, ctx);
                } else if kind != EventKind::Deleted
                    && let Some(name) = self.note_lease(&object)
                {
                    self.update(&name, ctx);
                }
                self.publish();
            }
            WatchItem::Lagged => {
                if self.resync(ctx).is_err() {
                    ctx.stop();
                }
            }
            WatchItem::Closed => ctx.stop(),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<ChildExited<String>> for NodeLifecycle {
    type Result = ();

    fn handle(&mut self, exit: ChildExited<String>, ctx: &mut Context<Self>) {
        if let ExitVerdict::Respawn { after, restarts } = self.children.exited(&exit.key, exit.incarnation) {
            tracing::warn!(node = %exit.key, restarts, "a NodeActor died; respawning");
            ctx.run_later(after, move |this, ctx| {
                if this.heartbeats.contains_key(&exit.key) && this.children.get(&exit.key).is_none() {
                    this.spawn(&exit.key, ctx);
                }
            });
        }
    }
}

impl Handler<Describe> for NodeLifecycle {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!("{} nodes, {} actors", self.heartbeats.len(), self.children.len())
    }
}

/// Makes the NodeActor of a node panic (tests of supervision).
#[cfg(test)]
#[derive(Message)]
#[rtype(result = "()")]
pub struct PanicChild(pub String);

#[cfg(test)]
impl Handler<PanicChild> for NodeLifecycle {
    type Result = ();
    fn handle(&mut self, PanicChild(name): PanicChild, _: &mut Context<Self>) {
        if let Some(addr) = self.children.get(&name) {
            addr.do_send(InjectPanic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::events::StoreEvents;
    use crate::actors::scheduler::SchedulerActor;

    fn node(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-11-27T00:00:00Z"},
                               {"type": "MemoryPressure", "status": "False"}]}})
    }

    fn lease(name: &str, renewed: &str) -> Value {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": renewed}})
    }

    fn pod(name: &str, node: &str, tolerations: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 30, "tolerations": tolerations,
                "containers": [{"name": "c", "image": "x"}]},
            "status": {"phase": "Running"}})
    }

    struct Cluster {
        store: Store,
        directory: ActorDirectory,
        lifecycle: Addr<NodeLifecycle>,
        recorder: Recorder,
    }

    async fn cluster(nodes: &[&str]) -> Cluster {
        let store = Store::in_memory();
        for name in nodes {
            store.create(format!("{NODES_PREFIX}{name}"), node(name)).await.unwrap();
            store.create(format!("{LEASES_PREFIX}{name}"), lease(name, "2026-11-27T00:00:00.000000Z")).await.unwrap();
        }
        let directory = ActorDirectory::new(Clock::tokio_anchored());
        let recorder =
            Recorder::start(Arc::new(StoreEvents::new(store.clone())), Clock::tokio_anchored(), directory.clone());
        let lifecycle = NodeLifecycle::new(
            store.clone(),
            Clock::tokio_anchored(),
            recorder.clone(),
            directory.clone(),
            NodeHealthSettings::default(),
        )
        .start();
        Cluster { store, directory, lifecycle, recorder }
    }

    async fn renew(store: &Store, name: &str, at: u32) {
        let renewed = format!("2026-11-27T00:00:{at:02}.000000Z");
        store.update(format!("{LEASES_PREFIX}{name}"), lease(name, &renewed), None).await.unwrap();
    }

    /// Lets actors run whatever their timers and messages started.
    async fn settle() {
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn ready(store: &Store, name: &str) -> String {
        let node = store.get(&format!("{NODES_PREFIX}{name}")).unwrap().json();
        crate::logic::binding::condition_status(&node, "Ready").unwrap().to_string()
    }

    fn deleting(store: &Store, pod: &str) -> bool {
        store.get(&format!("/registry/pods/default/{pod}")).unwrap().json()["metadata"]["deletionTimestamp"].is_string()
    }

    #[actix::test]
    async fn a_silent_node_goes_not_ready_at_the_grace_period_and_its_pods_are_evicted_on_time() {
        tokio::time::pause();
        let c = cluster(&["n1"]).await;
        let default_tolerations =
            json!([{"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]);
        c.store.create("/registry/pods/default/tolerant", pod("tolerant", "n1", default_tolerations)).await.unwrap();
        c.store
            .create(
                "/registry/pods/default/forever",
                pod("forever", "n1", json!([{"key": UNREACHABLE_TAINT, "operator": "Exists"}])),
            )
            .await
            .unwrap();
        c.store.create("/registry/pods/default/intolerant", pod("intolerant", "n1", json!([]))).await.unwrap();
        settle().await;
        let start = Instant::now();

        // Renewals every 10 s keep the node Ready.
        for at in [10, 20, 30] {
            tokio::time::sleep_until(start + Duration::from_secs(at)).await;
            renew(&c.store, "n1", at as u32).await;
            settle().await;
        }
        tokio::time::sleep_until(start + Duration::from_secs(69)).await;
        settle().await;
        assert_eq!(ready(&c.store, "n1"), "True", "still within the grace period after the last renewal");

        tokio::time::sleep_until(start + Duration::from_secs(71)).await;
        settle().await;
        assert_eq!(ready(&c.store, "n1"), "Unknown");
        let node = c.store.get(&format!("{NODES_PREFIX}n1")).unwrap().json();
        let conditions = node["status"]["conditions"].as_array().unwrap();
        assert!(conditions.iter().all(|c| c["status"] == "Unknown" && c["reason"] == "NodeStatusUnknown"));
        assert!(
            node["spec"]["taints"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["key"] == UNREACHABLE_TAINT && t["effect"] == "NoExecute")
        );
        assert!(deleting(&c.store, "intolerant"), "no matching toleration: evicted at once");
        assert!(!deleting(&c.store, "tolerant"));

        tokio::time::sleep_until(start + Duration::from_secs(369)).await;
        settle().await;
        assert!(!deleting(&c.store, "tolerant"), "not before its tolerationSeconds");
        tokio::time::sleep_until(start + Duration::from_secs(371)).await;
        settle().await;
        assert!(deleting(&c.store, "tolerant"), "evicted after 300 s");
        assert!(!deleting(&c.store, "forever"), "an unbounded toleration keeps the pod");

        let reasons: Vec<String> = c
            .store
            .list(&Selection::prefix("/registry/events/"), ReadAt::Latest, None, None)
            .unwrap()
            .items
            .iter()
            .map(|e| e.json()["reason"].as_str().unwrap().to_string())
            .collect();
        assert!(reasons.contains(&"NodeNotReady".to_string()), "{reasons:?}");
        assert_eq!(reasons.iter().filter(|r| *r == "TaintManagerEviction").count(), 2, "{reasons:?}");

        // The node comes back: the taint goes.
        renew(&c.store, "n1", 59).await;
        settle().await;
        let node = c.store.get(&format!("{NODES_PREFIX}n1")).unwrap().json();
        assert!(node["spec"]["taints"].as_array().unwrap().is_empty(), "{node}");
        assert_eq!(c.directory.snapshot(Some("NodeActor"))[0].state, "ready");
        let _ = &c.lifecycle;
    }

    #[actix::test]
    async fn a_panicking_node_actor_is_respawned_and_scheduling_goes_on() {
        tokio::time::pause();
        let c = cluster(&["n1", "n2"]).await;
        let scheduler =
            SchedulerActor::new(c.store.clone(), Clock::tokio_anchored(), c.recorder.clone(), c.directory.clone())
                .start();
        settle().await;
        let n1 = |d: &ActorDirectory| d.snapshot(Some("NodeActor")).into_iter().find(|a| a.id == "n1").unwrap();
        assert_eq!((n1(&c.directory).incarnation, n1(&c.directory).restarts), (1, 0));

        for round in 1..=2u64 {
            c.lifecycle.do_send(PanicChild("n1".into()));
            settle().await;
            assert!(
                c.directory.snapshot(Some("NodeActor")).iter().all(|a| a.id != "n1"),
                "the dead incarnation is gone"
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
            settle().await;
            let respawned = n1(&c.directory);
            assert_eq!((respawned.incarnation, respawned.restarts), (round + 1, round), "round {round}");
        }
        assert_eq!(
            c.directory.snapshot(Some("NodeActor")).iter().find(|a| a.id == "n2").unwrap().incarnation,
            1,
            "n2 untouched"
        );

        // Scheduling goes on.
        let pending = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "after", "namespace": "default", "uid": "u-after"},
            "spec": {"containers": [{"name": "c", "image": "x"}]}, "status": {"phase": "Pending"}});
        c.store.create("/registry/pods/default/after", pending).await.unwrap();
        settle().await;
        let bound = c.store.get("/registry/pods/default/after").unwrap().json();
        assert!(bound["spec"]["nodeName"].is_string(), "{bound}");
        let _ = scheduler;
    }
}
