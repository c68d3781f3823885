//! `NodeCidrAllocator` (the control plane's IPAM pool): gives every Node a `podCIDR`, cut
//! from the cluster CIDR (`--cluster-cidr`, default `10.88.0.0/16`; `127.77.0.0/16` for
//! sim nodes, whose pod addresses are loopback) in blocks of `--node-cidr-prefix` (`/24`).
//! Fed by a store watch over nodes, it never polls: a node without a `podCIDR` gets the
//! first free block ([`crate::logic::ipam::allocate_node_cidr`]) written into
//! `spec.podCIDR` and `spec.podCIDRs` with a compare-and-swap; a deleted node frees its
//! block. An exhausted cluster CIDR is an error in the log and a `CIDRNotAvailable` event
//! on the node, once per node while it waits (heartbeats do not repeat them), and the node
//! gets a block when one frees up.

use std::collections::{BTreeMap, BTreeSet};

use actix::prelude::*;
use futures_util::stream;
use ipnet::IpNet;
use serde_json::{Value, json};

use crate::actors::directory::{ActorDirectory, Describe, Registration};
use crate::actors::events::Recorder;
use crate::logic::events::{EventSpec, InvolvedObject};
use crate::logic::ipam::{IpamError, allocate_node_cidr};
use crate::store::WatchItem;
use crate::store::{EventKind, ReadAt, Selection, Store, StoreError, WatchFrom, keys};

const NODES_PREFIX: &str = "/registry/nodes/";

/// Why a node could not get a block.
#[derive(Debug, thiserror::Error)]
pub enum CidrError {
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No block was free, or the prefixes do not fit.
    #[error(transparent)]
    Ipam(#[from] IpamError),
}

/// The allocator.
pub struct NodeCidrAllocator {
    store: Store,
    cluster: IpNet,
    node_prefix: u8,
    recorder: Recorder,
    directory: ActorDirectory,
    /// Node name → its block (None: waiting for one).
    nodes: BTreeMap<String, Option<IpNet>>,
    /// Nodes whose write is in flight.
    writing: BTreeSet<String>,
    /// Waiting nodes already told (log and event) that no block is free: each is told once
    /// per wait, not on every node change while the cluster CIDR stays full.
    told_exhausted: BTreeSet<String>,
    watch: Option<SpawnHandle>,
    registration: Option<Registration>,
}

fn pod_cidr(node: &Value) -> Option<IpNet> {
    node.pointer("/spec/podCIDR").and_then(Value::as_str).and_then(|c| c.parse().ok())
}

fn node_name(node: &Value) -> String {
    node.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string()
}

impl NodeCidrAllocator {
    /// An allocator cutting `cluster` into `/node_prefix` blocks.
    pub fn new(store: Store, cluster: IpNet, node_prefix: u8, recorder: Recorder, directory: ActorDirectory) -> Self {
        Self {
            store,
            cluster,
            node_prefix,
            recorder,
            directory,
            nodes: BTreeMap::new(),
            writing: BTreeSet::new(),
            told_exhausted: BTreeSet::new(),
            watch: None,
            registration: None,
        }
    }

    fn publish(&self) {
        if let Some(r) = &self.registration {
            let waiting = self.nodes.values().filter(|c| c.is_none()).count();
            r.set_state(format!("{} nodes, {waiting} waiting for a CIDR in {}", self.nodes.len(), self.cluster));
        }
    }

    fn resync(&mut self, ctx: &mut Context<Self>) -> Result<(), StoreError> {
        let page = self.store.list(&Selection::prefix(NODES_PREFIX), ReadAt::Latest, None, None)?;
        self.nodes = page.items.iter().map(|o| o.json()).map(|n| (node_name(&n), pod_cidr(&n))).collect();
        let watch = self.store.watch(Selection::prefix(NODES_PREFIX), WatchFrom::After(page.revision))?;
        if let Some(old) = self.watch.take() {
            ctx.cancel_future(old);
        }
        self.watch = Some(ctx.add_stream(stream::unfold(watch, |mut w| async move { Some((w.next().await, w)) })));
        self.assign(ctx);
        Ok(())
    }

    fn taken(&self) -> BTreeSet<IpNet> {
        self.nodes.values().flatten().copied().collect()
    }

    /// Gives a block to every node waiting for one.
    fn assign(&mut self, ctx: &mut Context<Self>) {
        let waiting: Vec<String> = self
            .nodes
            .iter()
            .filter(|(name, cidr)| cidr.is_none() && !self.writing.contains(*name))
            .map(|(name, _)| name.clone())
            .collect();
        let mut taken = self.taken();
        for (index, name) in waiting.iter().enumerate() {
            let block = match allocate_node_cidr(self.cluster, self.node_prefix, &taken) {
                Ok(block) => block,
                Err(error) => {
                    // No block is free for this node, nor for any after it.
                    for name in &waiting[index..] {
                        if self.told_exhausted.insert(name.clone()) {
                            tracing::error!(node = %name, %error, "cannot give the node a pod CIDR");
                            self.event(name, &error.to_string());
                        }
                    }
                    break;
                }
            };
            let name = name.clone();
            taken.insert(block);
            self.told_exhausted.remove(&name);
            // Reserve it now so the next node gets another block.
            self.nodes.insert(name.clone(), Some(block));
            self.writing.insert(name.clone());
            let store = self.store.clone();
            let key = keys::object_key("nodes", None, &name);
            let write = async move {
                store
                    .update_with::<CidrError>(&key, |current| {
                        let mut node = current.json();
                        if pod_cidr(&node).is_some() {
                            return Ok(None);
                        }
                        node["spec"]["podCIDR"] = json!(block.to_string());
                        node["spec"]["podCIDRs"] = json!([block.to_string()]);
                        Ok(Some(node))
                    })
                    .await
                    .map(|object| pod_cidr(&object.json()))
            };
            ctx.spawn(actix::fut::wrap_future::<_, Self>(write).map(move |result, this, ctx| {
                this.writing.remove(&name);
                match result {
                    Ok(actual) => {
                        tracing::info!(node = %name, cidr = ?actual, "assigned the node's pod CIDR");
                        if this.nodes.contains_key(&name) {
                            this.nodes.insert(name, actual);
                        }
                    }
                    Err(CidrError::Store(StoreError::NotFound { .. })) => {
                        this.nodes.remove(&name);
                    }
                    Err(error) => {
                        tracing::warn!(node = %name, %error, "could not write the node's pod CIDR; retrying");
                        this.nodes.insert(name, None);
                        ctx.run_later(std::time::Duration::from_secs(1), |this, ctx| this.assign(ctx));
                    }
                }
                this.publish();
            }));
        }
        self.publish();
    }

    fn event(&self, node: &str, message: &str) {
        self.recorder.record(EventSpec {
            involved: InvolvedObject {
                kind: "Node".into(),
                api_version: "v1".into(),
                namespace: String::new(),
                name: node.to_string(),
                uid: node.to_string(),
                field_path: String::new(),
            },
            warning: true,
            reason: "CIDRNotAvailable".into(),
            message: format!("Node {node} status is now: CIDRNotAvailable ({message})"),
            component: "cidrAllocator".into(),
            host: String::new(),
        });
    }
}

impl Actor for NodeCidrAllocator {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.registration =
            Some(self.directory.register("IpamPool", "cluster-cidr", 1, 0, Some(ctx.address().recipient())));
        if let Err(error) = self.resync(ctx) {
            tracing::error!(%error, "the node CIDR allocator could not read the nodes; stopping");
            ctx.stop();
        }
    }
}

impl StreamHandler<WatchItem> for NodeCidrAllocator {
    fn handle(&mut self, item: WatchItem, ctx: &mut Context<Self>) {
        match item {
            WatchItem::Event { kind: EventKind::Deleted, object } => {
                let name = node_name(&object.json());
                self.nodes.remove(&name);
                self.told_exhausted.remove(&name);
                // A freed block may let a waiting node in.
                self.assign(ctx);
            }
            WatchItem::Event { object, .. } => {
                let node = object.json();
                let name = node_name(&node);
                let cidr = pod_cidr(&node);
                // Most node writes are heartbeats: they change nothing here.
                if self.nodes.get(&name) == Some(&cidr) {
                    return;
                }
                // While our own write is in flight, the reservation stands.
                if cidr.is_some() || !self.writing.contains(&name) {
                    self.nodes.insert(name, cidr);
                }
                self.assign(ctx);
            }
            WatchItem::Lagged => {
                tracing::warn!("the node CIDR allocator's watch fell behind; re-listing");
                if let Err(error) = self.resync(ctx) {
                    tracing::error!(%error, "could not re-list nodes");
                }
            }
            WatchItem::Closed => ctx.stop(),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<Describe> for NodeCidrAllocator {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!("{} nodes with blocks of /{} from {}", self.nodes.len(), self.node_prefix, self.cluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::store::WatchItem;
    use std::sync::Arc;
    use std::time::Duration;

    async fn wait_for_cidr(store: &Store, name: &str) -> String {
        let key = keys::object_key("nodes", None, name);
        let mut watch = store.watch(Selection::prefix(NODES_PREFIX), WatchFrom::After(0)).unwrap();
        loop {
            if let Some(cidr) = store.get(&key).and_then(|o| pod_cidr(&o.json())) {
                return cidr.to_string();
            }
            let item = tokio::time::timeout(Duration::from_secs(10), watch.next()).await.expect("a node change");
            assert!(matches!(item, WatchItem::Event { .. }), "{item:?}");
        }
    }

    #[actix::test]
    async fn nodes_get_distinct_blocks_and_an_exhausted_pool_is_an_event() {
        let store = Store::in_memory();
        let clock = Clock::system();
        let directory = ActorDirectory::new(clock.clone());
        let recorder =
            Recorder::start(Arc::new(crate::actors::events::StoreEvents::new(store.clone())), clock, directory.clone());
        let node = |name: &str| json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}});
        store.create(keys::object_key("nodes", None, "a"), node("a")).await.unwrap();
        let fixed =
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "b"}, "spec": {"podCIDR": "10.0.0.0/25"}});
        store.create(keys::object_key("nodes", None, "b"), fixed).await.unwrap();
        NodeCidrAllocator::new(store.clone(), "10.0.0.0/24".parse().unwrap(), 25, recorder.clone(), directory.clone())
            .start();
        assert_eq!(wait_for_cidr(&store, "a").await, "10.0.0.128/25");
        store.create(keys::object_key("nodes", None, "c"), node("c")).await.unwrap();
        // The cluster CIDR is full: an event says so.
        let mut events = store.watch(Selection::prefix("/registry/events/"), WatchFrom::After(0)).unwrap();
        let item = tokio::time::timeout(Duration::from_secs(10), events.next()).await.unwrap();
        let WatchItem::Event { object, .. } = item else { panic!("{item:?}") };
        assert_eq!(object.json()["reason"], "CIDRNotAvailable");
        // Heartbeats of the waiting node and of others repeat neither the log nor the event.
        for round in 0..5 {
            for name in ["a", "c"] {
                let key = keys::object_key("nodes", None, name);
                store
                    .update_with::<StoreError>(&key, |current| {
                        let mut node = current.json();
                        node["status"]["heartbeat"] = json!(round);
                        Ok(Some(node))
                    })
                    .await
                    .unwrap();
            }
        }
        // A new node is seen after those heartbeats (the watch is in revision order), and the
        // recorder writes in order: once its event is stored, every earlier one is.
        store.create(keys::object_key("nodes", None, "d"), node("d")).await.unwrap();
        let first = object.json();
        let mut counts =
            BTreeMap::from([(first["involvedObject"]["name"].as_str().unwrap().to_string(), first["count"].clone())]);
        while !counts.contains_key("d") {
            let item = tokio::time::timeout(Duration::from_secs(10), events.next()).await.unwrap();
            let WatchItem::Event { object, .. } = item else { panic!("{item:?}") };
            let event = object.json();
            assert_eq!(event["reason"], "CIDRNotAvailable");
            counts.insert(event["involvedObject"]["name"].as_str().unwrap().to_string(), event["count"].clone());
        }
        assert_eq!(counts, BTreeMap::from([("c".to_string(), json!(1)), ("d".to_string(), json!(1))]));
        assert_eq!(store.count("/registry/events/"), 2);

        // Deleting a node frees its block for the waiting one.
        store.delete(keys::object_key("nodes", None, "b"), None).await.unwrap();
        assert_eq!(wait_for_cidr(&store, "c").await, "10.0.0.0/25");
        assert_eq!(directory.snapshot(Some("IpamPool")).len(), 1);
    }
}
