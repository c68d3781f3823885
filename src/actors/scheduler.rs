//! The SchedulerActor: assigns unbound pods to nodes. It keeps a cache of nodes (with the
//! requests of the pods bound to them) and of pending pods, fed by store watches — it never
//! polls. Each pass runs `logic::schedule` for the pods whose backoff has passed; a chosen
//! node is counted at once ("assumed"), and the binding is committed in the background with
//! a revision precondition, so a lost race is retried from the fresh pod and a pod is never
//! bound twice. A pod that fits nowhere gets `PodScheduled=False` (reason `Unschedulable`,
//! upstream's message) and a `FailedScheduling` event, and waits with backoff; any change to
//! nodes, or a pod leaving a node, wakes it early.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use actix::prelude::*;
use futures_util::stream;
use serde_json::Value;
use tokio::time::Instant;

use crate::actors::directory::{ActorDirectory, Describe, Registration};
use crate::actors::events::Recorder;
use crate::clock::Clock;
use crate::logic::backoff::Backoff;
use crate::logic::binding::{bind_pod, set_condition};
use crate::logic::events::{EventSpec, InvolvedObject};
use crate::logic::schedule::{NodeInfo, PodRequest, schedule_sampled};
use crate::model::k8s::core::v1::{Node, Pod};
use crate::store::{EventKind, Object, ReadAt, Selection, Store, StoreError, WatchFrom, WatchItem};

/// The scheduler's name, as pods ask for it in `spec.schedulerName`.
pub const SCHEDULER_NAME: &str = "default-scheduler";
/// Pods placed per pass before the actor yields to its mailbox.
const PODS_PER_PASS: usize = 500;

const PODS_PREFIX: &str = "/registry/pods/";
const NODES_PREFIX: &str = "/registry/nodes/";

struct Pending {
    request: PodRequest,
    uid: String,
    attempts: u32,
    not_before: Option<Instant>,
    /// The last unschedulable message written to the pod.
    reported: Option<String>,
    /// When the pod entered the queue (for the scheduling SLI).
    queued_at: Instant,
}

/// A change the watches delivered.
enum Change {
    Pod(WatchItem),
    Node(WatchItem),
}

/// The scheduler.
pub struct SchedulerActor {
    store: Store,
    /// Where `scheduler_pod_scheduling_sli_duration_seconds` is recorded, if anywhere.
    metrics: Option<crate::metrics::Metrics>,
    clock: Clock,
    recorder: Recorder,
    directory: ActorDirectory,
    registration: Option<Registration>,
    /// Nodes, sorted by name.
    nodes: Vec<NodeInfo>,
    node_index: HashMap<String, usize>,
    /// Pods bound (or being bound) to a node, with what they request.
    bound: HashMap<String, (String, PodRequest)>,
    pending: BTreeMap<String, Pending>,
    binding: HashSet<String>,
    next_start: usize,
    tie_break: u64,
    pass_queued: bool,
    wake: Option<SpawnHandle>,
    /// The watch streams of the current resync.
    watches: Option<SpawnHandle>,
    scheduled: u64,
}

impl SchedulerActor {
    /// A scheduler over `store`; start it with `Actor::start`.
    pub fn new(store: Store, clock: Clock, recorder: Recorder, directory: ActorDirectory) -> Self {
        Self {
            store,
            metrics: None,
            clock,
            recorder,
            directory,
            registration: None,
            nodes: Vec::new(),
            node_index: HashMap::new(),
            bound: HashMap::new(),
            pending: BTreeMap::new(),
            binding: HashSet::new(),
            next_start: 0,
            tie_break: rand::random(),
            pass_queued: false,
            wake: None,
            watches: None,
            scheduled: 0,
        }
    }

    /// Records `scheduler_pod_scheduling_sli_duration_seconds` in `metrics` as pods bind.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn publish(&self) {
        if let Some(r) = &self.registration {
            r.set_state(format!(
                "{} pending, {} binding, {} nodes",
                self.pending.len(),
                self.binding.len(),
                self.nodes.len()
            ));
            r.set_in_flight(self.binding.len() as u32);
        }
    }

    fn now_text(&self) -> String {
        self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// Rebuilds the cache from the store and (re)starts the watches.
    fn resync(&mut self, ctx: &mut Context<Self>) -> Result<(), StoreError> {
        let pods = self.store.list(&Selection::prefix(PODS_PREFIX), ReadAt::Latest, None, None)?;
        let nodes = self.store.list(&Selection::prefix(NODES_PREFIX), ReadAt::Exact(pods.revision), None, None)?;
        self.nodes.clear();
        self.node_index.clear();
        self.bound.clear();
        self.pending.clear();
        for node in &nodes.items {
            if let Ok(node) = serde_json::from_slice::<Node>(&node.value) {
                self.upsert_node(&node);
            }
        }
        for pod in &pods.items {
            self.observe_pod(pod, false);
        }
        let watch = |prefix: &str, wrap: fn(WatchItem) -> Change| {
            let watch = self.store.watch(Selection::prefix(prefix), WatchFrom::After(pods.revision))?;
            Ok::<_, StoreError>(stream::unfold(watch, move |mut w| async move { Some((wrap(w.next().await), w)) }))
        };
        let pods_stream = watch(PODS_PREFIX, Change::Pod)?;
        let nodes_stream = watch(NODES_PREFIX, Change::Node)?;
        if let Some(old) = self.watches.take() {
            ctx.cancel_future(old);
        }
        self.watches = Some(ctx.add_stream(stream::select(pods_stream, nodes_stream)));
        Ok(())
    }

    fn upsert_node(&mut self, node: &Node) {
        let name = node.metadata.name.clone().unwrap_or_default();
        match self.node_index.get(&name) {
            Some(&i) => self.nodes[i].refresh_from(node),
            None => {
                let mut info = NodeInfo::from_node(node);
                for (_, (bound_to, request)) in self.bound.iter().filter(|(_, (n, _))| *n == name) {
                    debug_assert_eq!(bound_to, &name);
                    info.assume(request);
                }
                let at = self.nodes.partition_point(|n| n.name < name);
                self.nodes.insert(at, info);
                self.reindex();
            }
        }
    }

    fn remove_node(&mut self, name: &str) {
        if let Some(i) = self.node_index.get(name).copied() {
            self.nodes.remove(i);
            self.reindex();
        }
    }

    fn reindex(&mut self) {
        self.node_index = self.nodes.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect();
    }

    fn count_on(&mut self, node: &str, request: &PodRequest, add: bool) {
        if let Some(&i) = self.node_index.get(node) {
            if add {
                self.nodes[i].assume(request);
            } else {
                self.nodes[i].forget(request);
            }
        }
    }

    /// Takes a pod's current state into the cache. Returns true if it freed room (a pod
    /// left a node).
    fn observe_pod(&mut self, object: &Object, deleted: bool) -> bool {
        let Ok(pod) = serde_json::from_slice::<Pod>(&object.value) else { return false };
        let key = object.key.trim_start_matches(PODS_PREFIX).to_string();
        let spec = pod.spec.as_ref();
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        let finished = matches!(phase, Some("Succeeded" | "Failed"));
        let node = spec.and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty());
        if deleted || finished {
            self.pending.remove(&key);
            if let Some((node, request)) = self.bound.remove(&key) {
                self.count_on(&node, &request, false);
                return true;
            }
            return false;
        }
        if let Some(node) = node {
            self.pending.remove(&key);
            if !self.bound.contains_key(&key) {
                let request = PodRequest::from_pod(&pod);
                self.count_on(&node, &request, true);
                self.bound.insert(key, (node, request));
            }
            return false;
        }
        let ours = spec.and_then(|s| s.scheduler_name.as_deref()).is_none_or(|n| n.is_empty() || n == SCHEDULER_NAME);
        let deleting = pod.metadata.deletion_timestamp.is_some();
        if !ours || deleting || self.binding.contains(&key) {
            if deleting {
                self.pending.remove(&key);
            }
            return false;
        }
        let request = PodRequest::from_pod(&pod);
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        match self.pending.get_mut(&key) {
            Some(existing) if existing.uid == uid => existing.request = request,
            _ => {
                let queued_at = Instant::now();
                self.pending
                    .insert(key, Pending { request, uid, attempts: 0, not_before: None, reported: None, queued_at });
            }
        }
        false
    }

    fn wake_unschedulable(&mut self) {
        for pending in self.pending.values_mut() {
            pending.not_before = None;
        }
    }

    fn queue_pass(&mut self, ctx: &mut Context<Self>) {
        if !self.pass_queued {
            self.pass_queued = true;
            ctx.run_later(Duration::ZERO, |this, ctx| {
                this.pass_queued = false;
                this.pass(ctx);
            });
        }
    }

    /// One scheduling pass over the pods that are due.
    fn pass(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(k, p)| p.not_before.is_none_or(|t| t <= now) && !self.binding.contains(*k))
            .map(|(k, _)| k.clone())
            .take(PODS_PER_PASS)
            .collect();
        let more = due.len() == PODS_PER_PASS;
        for key in due {
            let Some(pending) = self.pending.get(&key) else { continue };
            self.tie_break = self.tie_break.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let (choice, examined) =
                schedule_sampled(&pending.request, &self.nodes, self.next_start, self.tie_break >> 33);
            self.next_start = self.next_start.wrapping_add(examined);
            match choice {
                Ok(node) => {
                    let node = node.to_string();
                    let pending = self.pending.remove(&key).expect("present above");
                    self.count_on(&node, &pending.request, true);
                    self.binding.insert(key.clone());
                    self.bound.insert(key.clone(), (node.clone(), pending.request.clone()));
                    self.bind(ctx, key, node, pending);
                }
                Err(no_fit) => {
                    let pending = self.pending.get_mut(&key).expect("present above");
                    pending.attempts += 1;
                    pending.not_before = Some(now + Backoff::SCHEDULING.delay(pending.attempts - 1));
                    if pending.reported.as_deref() != Some(no_fit.message.as_str()) {
                        pending.reported = Some(no_fit.message.clone());
                        let uid = pending.uid.clone();
                        self.report_unschedulable(ctx, &key, uid, no_fit.message);
                    }
                }
            }
        }
        self.publish();
        if more {
            self.queue_pass(ctx);
        } else {
            self.arm_wake(ctx);
        }
    }

    /// Wakes the scheduler when the earliest backoff ends.
    fn arm_wake(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.wake.take() {
            ctx.cancel_future(handle);
        }
        if let Some(earliest) = self.pending.values().filter_map(|p| p.not_before).min() {
            let delay = earliest.saturating_duration_since(Instant::now());
            self.wake = Some(ctx.run_later(delay, |this, ctx| {
                this.wake = None;
                this.queue_pass(ctx);
            }));
        }
    }

    fn involved(key: &str, uid: &str) -> InvolvedObject {
        let (namespace, name) = key.split_once('/').unwrap_or(("", key));
        InvolvedObject {
            kind: "Pod".into(),
            api_version: "v1".into(),
            namespace: namespace.into(),
            name: name.into(),
            uid: uid.into(),
            field_path: String::new(),
        }
    }

    fn report_unschedulable(&mut self, ctx: &mut Context<Self>, key: &str, uid: String, message: String) {
        self.recorder.record(EventSpec {
            involved: Self::involved(key, &uid),
            warning: true,
            reason: "FailedScheduling".into(),
            message: message.clone(),
            component: SCHEDULER_NAME.into(),
            host: String::new(),
        });
        let store = self.store.clone();
        let store_key = format!("{PODS_PREFIX}{key}");
        let now = self.now_text();
        ctx.spawn(actix::fut::wrap_future(async move {
            let result = store
                .update_with(&store_key, |object| {
                    let mut pod = object.json();
                    let unbound = pod.pointer("/spec/nodeName").and_then(Value::as_str).is_none_or(str::is_empty);
                    let uid_matches = pod.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid.as_str());
                    if !unbound || !uid_matches {
                        return Ok::<_, StoreError>(None);
                    }
                    let changed =
                        set_condition(&mut pod, "PodScheduled", "False", Some("Unschedulable"), Some(&message), &now);
                    Ok(changed.then_some(pod))
                })
                .await;
            if let Err(err) = result
                && !matches!(err, StoreError::NotFound { .. })
            {
                tracing::warn!(%err, "could not record an unschedulable pod's condition");
            }
        }));
    }

    fn bind(&mut self, ctx: &mut Context<Self>, key: String, node: String, pending: Pending) {
        let store = self.store.clone();
        let store_key = format!("{PODS_PREFIX}{key}");
        let now = self.now_text();
        let (target, uid) = (node.clone(), pending.uid.clone());
        let commit = async move {
            loop {
                let Some(current) = store.get(&store_key) else { return Err("gone".to_string()) };
                let mut pod = current.json();
                if pod.pointer("/metadata/uid").and_then(Value::as_str) != Some(uid.as_str()) {
                    return Err("replaced by another pod of the same name".to_string());
                }
                bind_pod(&mut pod, &target, &now).map_err(|e| e.to_string())?;
                if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("resourceVersion");
                }
                match store.update(store_key.clone(), pod, Some(current.revision)).await {
                    Ok(_) => return Ok(()),
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(err) => return Err(err.to_string()),
                }
            }
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(commit).map(move |outcome, this, ctx| {
            this.binding.remove(&key);
            match outcome {
                Ok(()) => {
                    this.scheduled += 1;
                    if let Some(metrics) = &this.metrics {
                        metrics.observe_pod_scheduling(pending.attempts + 1, pending.queued_at.elapsed());
                    }
                    let (namespace, name) = key.split_once('/').unwrap_or(("", &key));
                    this.recorder.record(EventSpec {
                        involved: Self::involved(&key, &pending.uid),
                        warning: false,
                        reason: "Scheduled".into(),
                        message: format!("Successfully assigned {namespace}/{name} to {node}"),
                        component: SCHEDULER_NAME.into(),
                        host: String::new(),
                    });
                }
                Err(reason) => {
                    tracing::debug!(pod = %key, %reason, "binding failed; the pod is requeued");
                    if let Some((node, request)) = this.bound.remove(&key) {
                        this.count_on(&node, &request, false);
                    }
                    // The watch brings the pod back as pending if it still needs a node.
                    if let Some(object) = this.store.get(&format!("{PODS_PREFIX}{key}")) {
                        this.observe_pod(&object, false);
                    }
                    this.queue_pass(ctx);
                }
            }
            this.publish();
        }));
    }
}

impl Actor for SchedulerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let registration =
            self.directory.register("SchedulerActor", SCHEDULER_NAME, 1, 0, Some(ctx.address().recipient()));
        self.registration = Some(registration);
        if let Err(err) = self.resync(ctx) {
            tracing::error!(%err, "the scheduler could not read the store");
            ctx.stop();
            return;
        }
        self.publish();
        self.queue_pass(ctx);
    }
}

impl StreamHandler<Change> for SchedulerActor {
    fn handle(&mut self, change: Change, ctx: &mut Context<Self>) {
        if let Some(r) = &self.registration {
            r.handled();
        }
        let (item, is_pod) = match change {
            Change::Pod(item) => (item, true),
            Change::Node(item) => (item, false),
        };
        match item {
            WatchItem::Event { kind, object } => {
                if is_pod {
                    if self.observe_pod(&object, kind == EventKind::Deleted) {
                        self.wake_unschedulable();
                    }
                } else {
                    match (kind, serde_json::from_slice::<Node>(&object.value)) {
                        (EventKind::Deleted, _) => self.remove_node(object.key.trim_start_matches(NODES_PREFIX)),
                        (_, Ok(node)) => self.upsert_node(&node),
                        (_, Err(_)) => {}
                    }
                    self.wake_unschedulable();
                }
                self.queue_pass(ctx);
            }
            WatchItem::Lagged => {
                tracing::warn!("the scheduler's watch fell behind; re-listing");
                if self.resync(ctx).is_err() {
                    ctx.stop();
                }
                self.queue_pass(ctx);
            }
            WatchItem::Closed => ctx.stop(),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<Describe> for SchedulerActor {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!(
            "{} pending, {} binding, {} bound, {} nodes, {} scheduled",
            self.pending.len(),
            self.binding.len(),
            self.bound.len(),
            self.nodes.len(),
            self.scheduled
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::actors::events::StoreEvents;

    fn node(name: &str, cpu: &str, pods: u32) -> Value {
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {}, "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": pods.to_string()},
            "capacity": {"cpu": cpu, "memory": "8Gi", "pods": pods.to_string()},
            "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    fn pod(name: &str, cpu: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
            "spec": {"schedulerName": "default-scheduler", "containers": [{"name": "c", "image": "x",
                "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}}}]},
            "status": {"phase": "Pending"}})
    }

    fn start(store: &Store) -> (Addr<SchedulerActor>, ActorDirectory) {
        start_with(store, crate::metrics::Metrics::new())
    }

    fn start_with(store: &Store, metrics: crate::metrics::Metrics) -> (Addr<SchedulerActor>, ActorDirectory) {
        let directory = ActorDirectory::new(Clock::tokio_anchored());
        let recorder =
            Recorder::start(Arc::new(StoreEvents::new(store.clone())), Clock::tokio_anchored(), directory.clone());
        let scheduler = SchedulerActor::new(store.clone(), Clock::tokio_anchored(), recorder, directory.clone())
            .with_metrics(metrics)
            .start();
        (scheduler, directory)
    }

    /// Waits (on store events, under paused time) until `done` holds for the pods.
    async fn until_pods(store: &Store, mut done: impl FnMut(&[Value]) -> bool) -> Vec<Value> {
        let mut watch = store.watch(Selection::prefix(PODS_PREFIX), WatchFrom::Now).unwrap();
        loop {
            let pods: Vec<Value> = store
                .list(&Selection::prefix(PODS_PREFIX), ReadAt::Latest, None, None)
                .unwrap()
                .items
                .iter()
                .map(|o| o.json())
                .collect();
            if done(&pods) {
                return pods;
            }
            tokio::time::timeout(Duration::from_secs(600), watch.next()).await.expect("progress in time");
        }
    }

    #[actix::test]
    async fn a_burst_of_2000_pods_binds_each_once_and_overfills_no_node() {
        tokio::time::pause();
        let store = Store::in_memory();
        // 5 cpus hold 50 pods of 100m, but half the nodes allow only 35 pods: 25*35 + 25*45 = 2000.
        let max_pods = |i: usize| if i.is_multiple_of(2) { 35 } else { 45 };
        for i in 0..50 {
            store
                .create(format!("{NODES_PREFIX}node-{i:02}"), node(&format!("node-{i:02}"), "5", max_pods(i)))
                .await
                .unwrap();
        }
        let mut transitions = store.watch(Selection::prefix(PODS_PREFIX), WatchFrom::After(store.revision())).unwrap();
        let (_scheduler, _directory) = start(&store);
        for i in 0..2000 {
            store.create(format!("{PODS_PREFIX}default/p{i:04}"), pod(&format!("p{i:04}"), "100m")).await.unwrap();
        }
        // Follow every change: each pod must go from unbound to bound exactly once.
        let mut bound: HashMap<String, String> = HashMap::new();
        while bound.len() < 2000 {
            let item =
                tokio::time::timeout(Duration::from_secs(600), transitions.next()).await.expect("progress in time");
            let WatchItem::Event { object, .. } = item else { panic!("the watch ended: {item:?}") };
            let value = object.json();
            if let Some(node) = value["spec"]["nodeName"].as_str() {
                match bound.get(&*object.key) {
                    Some(first) => assert_eq!(first, node, "{} moved from {first} to {node}", object.key),
                    None => {
                        bound.insert(object.key.to_string(), node.to_string());
                    }
                }
            }
        }
        let mut per_node: HashMap<&str, usize> = HashMap::new();
        for node in bound.values() {
            *per_node.entry(node).or_default() += 1;
        }
        assert_eq!(per_node.len(), 50, "2000 pods need every node");
        for (node, count) in &per_node {
            let index: usize = node.trim_start_matches("node-").parse().unwrap();
            assert!(*count as u32 <= max_pods(index), "{node} holds {count} pods, over its max-pods");
            assert!(*count <= 50, "{node} holds {count} pods of 100m: over its 5 cpus");
        }
        for object in store.list(&Selection::prefix(PODS_PREFIX), ReadAt::Latest, None, None).unwrap().items {
            let value = object.json();
            assert_eq!(crate::logic::binding::condition_status(&value, "PodScheduled"), Some("True"), "{}", object.key);
        }
    }

    #[actix::test]
    async fn unschedulable_pods_say_why_and_wake_when_a_node_fits() {
        tokio::time::pause();
        let store = Store::in_memory();
        store.create(format!("{NODES_PREFIX}small"), node("small", "1", 110)).await.unwrap();
        let metrics = crate::metrics::Metrics::new();
        let (_scheduler, directory) = start_with(&store, metrics.clone());
        store.create(format!("{PODS_PREFIX}default/big"), pod("big", "8")).await.unwrap();
        let pods = until_pods(&store, |pods| {
            pods.iter().any(|p| crate::logic::binding::condition_status(p, "PodScheduled") == Some("False"))
        })
        .await;
        let condition = pods[0]["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "PodScheduled")
            .unwrap()
            .clone();
        assert_eq!(condition["reason"], "Unschedulable");
        assert_eq!(condition["message"], "0/1 nodes are available: 1 Insufficient cpu.");
        let events: Vec<Value> = loop {
            let events: Vec<Value> = store
                .list(&Selection::prefix("/registry/events/default/"), ReadAt::Latest, None, None)
                .unwrap()
                .items
                .iter()
                .map(|o| o.json())
                .collect();
            if !events.is_empty() {
                break events;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(events[0]["reason"], "FailedScheduling");
        assert_eq!(events[0]["type"], "Warning");
        assert_eq!(events[0]["involvedObject"]["name"], "big");

        // Retries back off (no new writes while nothing changes), and a new node wakes it.
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(store.get(&format!("{PODS_PREFIX}default/big")).unwrap().json()["spec"].get("nodeName").is_none());
        store.create(format!("{NODES_PREFIX}large"), node("large", "16", 110)).await.unwrap();
        let pods = until_pods(&store, |pods| pods[0]["spec"]["nodeName"] == "large").await;
        assert_eq!(crate::logic::binding::condition_status(&pods[0], "PodScheduled"), Some("True"));
        let snapshot = directory.snapshot(Some("SchedulerActor"));
        assert_eq!(snapshot[0].state, "0 pending, 0 binding, 2 nodes");

        // The scheduling SLI: one pod, several attempts, at least the 30 s it waited.
        let text = metrics.encode_prometheus();
        let count = text
            .lines()
            .find(|l| l.starts_with("scheduler_pod_scheduling_sli_duration_seconds_count{"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(count.ends_with(" 1") && !count.contains(r#"attempts="1""#), "{count}");
        let sum = text.lines().find(|l| l.starts_with("scheduler_pod_scheduling_sli_duration_seconds_sum{")).unwrap();
        let seconds: f64 = sum.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((30.0..40.0).contains(&seconds), "{sum}");
    }
}
