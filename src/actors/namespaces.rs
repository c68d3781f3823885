//! The NamespaceController: empties and removes namespaces being deleted. A namespace
//! whose deletion began (phase Terminating) has everything in it deleted — pods gracefully
//! (the node agent finishes them), objects with finalizers marked — and, once nothing is
//! left, loses its `kubernetes` finalizer and is removed. It wakes on deletions inside the
//! namespace, with a slow timer as a backstop; it never polls otherwise.

use std::collections::BTreeSet;
use std::time::Duration;

use actix::prelude::*;
use futures_util::stream;
use serde_json::{Value, json};

use crate::actors::directory::{ActorDirectory, Describe, Registration};
use crate::clock::Clock;
use crate::logic::binding::set_condition;
use crate::logic::deletion::{Deletion, DeletionInput, plain_deletion, pod_deletion};
use crate::store::{EventKind, ReadAt, Selection, Store, StoreError, WatchFrom, WatchItem, keys};

const NAMESPACES_PREFIX: &str = "/registry/namespaces/";
/// How long a namespace with content still terminating waits before looking again, if no
/// deletion wakes it first.
const BACKSTOP: Duration = Duration::from_secs(5);

/// A namespaced collection the controller empties.
#[derive(Clone, Debug)]
pub struct NamespacedCollection {
    /// The storage path segment, as `store::keys::resource_path` gives it.
    pub storage: String,
    /// Pods are deleted gracefully.
    pub pods: bool,
}

/// The controller.
pub struct NamespaceController {
    store: Store,
    clock: Clock,
    directory: ActorDirectory,
    collections: Vec<NamespacedCollection>,
    terminating: BTreeSet<String>,
    registration: Option<Registration>,
    backstop: Option<SpawnHandle>,
    working: bool,
    finished: u64,
}

impl NamespaceController {
    /// A controller emptying `collections`.
    pub fn new(store: Store, clock: Clock, directory: ActorDirectory, collections: Vec<NamespacedCollection>) -> Self {
        Self {
            store,
            clock,
            directory,
            collections,
            terminating: BTreeSet::new(),
            registration: None,
            backstop: None,
            working: false,
            finished: 0,
        }
    }

    fn publish(&self) {
        if let Some(r) = &self.registration {
            r.set_state(format!("{} terminating", self.terminating.len()));
        }
    }

    fn is_terminating(namespace: &Value) -> bool {
        namespace.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null())
    }

    /// Runs a pass over every terminating namespace (one at a time; a pass queued while
    /// one runs is merged into the next).
    fn work(&mut self, ctx: &mut Context<Self>) {
        if self.working || self.terminating.is_empty() {
            return;
        }
        self.working = true;
        let namespaces: Vec<String> = self.terminating.iter().cloned().collect();
        let (store, clock, collections) = (self.store.clone(), self.clock.clone(), self.collections.clone());
        let pass = async move {
            let mut done = Vec::new();
            for namespace in namespaces {
                match empty_namespace(&store, &clock, &collections, &namespace).await {
                    Ok(true) => done.push(namespace),
                    Ok(false) => {}
                    Err(err) => tracing::warn!(%namespace, %err, "namespace cleanup failed; will retry"),
                }
            }
            done
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(pass).map(|done, this, ctx| {
            this.working = false;
            for namespace in done {
                this.terminating.remove(&namespace);
                this.finished += 1;
            }
            this.publish();
            if let Some(handle) = this.backstop.take() {
                ctx.cancel_future(handle);
            }
            if !this.terminating.is_empty() {
                this.backstop = Some(ctx.run_later(BACKSTOP, |this, ctx| {
                    this.backstop = None;
                    this.work(ctx);
                }));
            }
        }));
    }
}

fn without_version(mut value: Value) -> Value {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    value
}

/// Deletes what is in `namespace`; when nothing is left, removes the namespace. Returns
/// true when the namespace is gone.
async fn empty_namespace(
    store: &Store,
    clock: &Clock,
    collections: &[NamespacedCollection],
    namespace: &str,
) -> Result<bool, StoreError> {
    let now = clock.now();
    let stamp = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut remaining: Vec<(String, usize)> = Vec::new();
    for collection in collections {
        let prefix = keys::collection_prefix(&collection.storage, Some(namespace));
        let page = store.list(&Selection::prefix(prefix), ReadAt::Latest, None, None)?;
        let mut left = 0;
        for object in page.items {
            let mut value = object.json();
            let input = DeletionInput {
                has_finalizers: value
                    .pointer("/metadata/finalizers")
                    .and_then(Value::as_array)
                    .is_some_and(|f| !f.is_empty()),
                deletion_timestamp: value
                    .pointer("/metadata/deletionTimestamp")
                    .and_then(Value::as_str)
                    .and_then(|t| t.parse().ok()),
                deletion_grace: value.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64),
                node_name: value.pointer("/spec/nodeName").and_then(Value::as_str),
                phase: value.pointer("/status/phase").and_then(Value::as_str),
                spec_grace: value.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64),
                requested_grace: None,
            };
            let decision = if collection.pods { pod_deletion(&input, now) } else { plain_deletion(&input, now) };
            let outcome = match decision {
                Deletion::Remove => store.delete(object.key.to_string(), Some(object.revision)).await.map(|_| false),
                Deletion::Mark { at, grace_seconds } => {
                    value["metadata"]["deletionTimestamp"] = json!(stamp(at));
                    value["metadata"]["deletionGracePeriodSeconds"] = json!(grace_seconds);
                    store
                        .update(object.key.to_string(), without_version(value), Some(object.revision))
                        .await
                        .map(|_| true)
                }
                Deletion::AlreadyDeleting => Ok(true),
            };
            match outcome {
                Ok(still_there) => left += usize::from(still_there),
                // Someone else changed or removed it: the next pass sees the new state.
                Err(StoreError::Conflict { .. }) => left += 1,
                Err(StoreError::NotFound { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        if left > 0 {
            remaining.push((collection.storage.clone(), left));
        }
    }
    let key = keys::object_key("namespaces", None, namespace);
    let Some(current) = store.get(&key) else { return Ok(true) };
    let mut ns = current.json();
    if !remaining.is_empty() {
        let message =
            remaining.iter().map(|(r, n)| format!("{r} has {n} resource instances")).collect::<Vec<_>>().join(", ");
        if set_condition(
            &mut ns,
            "NamespaceContentRemaining",
            "True",
            Some("SomeResourcesRemain"),
            Some(&format!("Some resources are remaining: {message}")),
            &stamp(now),
        ) {
            store.update(key, without_version(ns), Some(current.revision)).await?;
        }
        return Ok(false);
    }
    // Empty: drop the `kubernetes` finalizer; with no other finalizers, the namespace goes.
    let finalizers: Vec<Value> = ns["spec"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f != "kubernetes")
        .collect();
    let held = ns.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
    if finalizers.is_empty() && !held {
        store.delete(key, Some(current.revision)).await?;
        return Ok(true);
    }
    ns["spec"]["finalizers"] = Value::Array(finalizers);
    store.update(key, without_version(ns), Some(current.revision)).await?;
    Ok(false)
}

impl Actor for NamespaceController {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.registration =
            Some(self.directory.register("NamespaceController", "namespaces", 1, 0, Some(ctx.address().recipient())));
        let listed = match self.store.list(&Selection::prefix(NAMESPACES_PREFIX), ReadAt::Latest, None, None) {
            Ok(page) => page,
            Err(err) => {
                tracing::error!(%err, "the namespace controller could not read the store");
                ctx.stop();
                return;
            }
        };
        for object in &listed.items {
            if Self::is_terminating(&object.json()) {
                self.terminating.insert(object.key.trim_start_matches(NAMESPACES_PREFIX).to_string());
            }
        }
        match self.store.watch(Selection::prefix("/registry/"), WatchFrom::After(listed.revision)) {
            Ok(watch) => {
                ctx.add_stream(stream::unfold(watch, |mut w| async move { Some((w.next().await, w)) }));
            }
            Err(err) => {
                tracing::error!(%err, "the namespace controller could not watch the store");
                ctx.stop();
                return;
            }
        }
        self.publish();
        self.work(ctx);
    }
}

impl StreamHandler<WatchItem> for NamespaceController {
    fn handle(&mut self, item: WatchItem, ctx: &mut Context<Self>) {
        match item {
            WatchItem::Event { kind, object } => {
                if let Some(name) = object.key.strip_prefix(NAMESPACES_PREFIX) {
                    if kind != EventKind::Deleted
                        && Self::is_terminating(&object.json())
                        && self.terminating.insert(name.to_string())
                    {
                        self.publish();
                        self.work(ctx);
                    }
                } else if kind == EventKind::Deleted {
                    // A deletion inside a terminating namespace may have emptied it.
                    let namespace =
                        object.json().pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string);
                    if namespace.is_some_and(|ns| self.terminating.contains(&ns)) {
                        self.work(ctx);
                    }
                }
            }
            WatchItem::Lagged => {
                // Everything terminating is looked at again; the backstop covers the rest.
                self.work(ctx);
            }
            WatchItem::Closed => ctx.stop(),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<Describe> for NamespaceController {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!("terminating: {:?}; {} removed since start", self.terminating, self.finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collections() -> Vec<NamespacedCollection> {
        ["pods", "configmaps", "secrets", "events"]
            .into_iter()
            .map(|s| NamespacedCollection { storage: s.into(), pods: s == "pods" })
            .collect()
    }

    async fn settle() {
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[actix::test]
    async fn deleting_a_namespace_empties_it_then_removes_it() {
        tokio::time::pause();
        let store = Store::in_memory();
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        store.create("/registry/namespaces/team", ns.clone()).await.unwrap();
        store.create("/registry/namespaces/other", json!({"metadata": {"name": "other"}})).await.unwrap();
        store
            .create("/registry/configmaps/team/c", json!({"metadata": {"name": "c", "namespace": "team"}}))
            .await
            .unwrap();
        store
            .create("/registry/secrets/team/s", json!({"metadata": {"name": "s", "namespace": "team"}}))
            .await
            .unwrap();
        store
            .create("/registry/configmaps/other/keep", json!({"metadata": {"name": "keep", "namespace": "other"}}))
            .await
            .unwrap();
        store
            .create(
                "/registry/pods/team/unbound",
                json!({"metadata": {"name": "unbound", "namespace": "team"}, "spec": {}}),
            )
            .await
            .unwrap();
        let running = json!({"metadata": {"name": "running", "namespace": "team"}, "spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 30}, "status": {"phase": "Running"}});
        store.create("/registry/pods/team/running", running).await.unwrap();
        let directory = ActorDirectory::new(Clock::tokio_anchored());
        let _controller =
            NamespaceController::new(store.clone(), Clock::tokio_anchored(), directory.clone(), collections()).start();
        settle().await;
        assert!(store.get("/registry/configmaps/team/c").is_some(), "nothing happens before deletion");

        // What DELETE does: deletionTimestamp and phase Terminating.
        let mut terminating = ns;
        terminating["metadata"]["deletionTimestamp"] = json!("2026-11-27T00:00:00Z");
        terminating["status"]["phase"] = json!("Terminating");
        store.update("/registry/namespaces/team", terminating, None).await.unwrap();
        settle().await;
        assert!(store.get("/registry/configmaps/team/c").is_none());
        assert!(store.get("/registry/secrets/team/s").is_none());
        assert!(store.get("/registry/pods/team/unbound").is_none(), "an unscheduled pod goes at once");
        let running = store.get("/registry/pods/team/running").unwrap().json();
        assert_eq!(running["metadata"]["deletionGracePeriodSeconds"], 30, "a running pod is deleted gracefully");
        let namespace = store.get("/registry/namespaces/team").unwrap().json();
        assert_eq!(crate::logic::binding::condition_status(&namespace, "NamespaceContentRemaining"), Some("True"));
        assert_eq!(directory.snapshot(Some("NamespaceController"))[0].state, "1 terminating");

        // The node agent finishes the pod: the namespace is then removed.
        store.delete("/registry/pods/team/running", None).await.unwrap();
        settle().await;
        assert!(store.get("/registry/namespaces/team").is_none());
        assert!(store.get("/registry/configmaps/other/keep").is_some(), "other namespaces are untouched");
        assert_eq!(directory.snapshot(Some("NamespaceController"))[0].state, "0 terminating");
    }
}
