//! `PodRouter`: routes this node's pods to their `PodActor`s.
//!
//! - **Watch:** a kube-rs `watcher` over pods with `fieldSelector spec.nodeName=<node>`
//!   (it re-lists after errors; a pod missing from a re-list is gone). The newest pod per
//!   uid goes in that pod's [`PodInbox`]; the actor is kicked with `try_send` (a full
//!   mailbox means it is already kicked), so mailboxes stay O(1) whatever the watch rate.
//! - **Relist:** every `relist_interval` one `zoneadm list -cip` observes all zones; a
//!   zone whose state changed is delivered to its pod's actor (this is how an exit nobody
//!   asked for is noticed), and the node's zone summary is updated.
//! - **Supervision:** a dead actor (a panic) is respawned after a backoff by
//!   [`Children`]; the new incarnation rebuilds from the pod and the observed zone. An
//!   actor that finished its pod is forgotten.
//! - **Start-up reconciliation** (once the first list is complete): zones that Reddwarf
//!   owns (by their ownership attributes) but whose pod no longer exists are torn down
//!   (zone, VNIC, volume datasets and files) and their addresses released; the IP pool
//!   keeps only the addresses of pods that exist.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use actix::prelude::*;
use futures_util::StreamExt;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};

use crate::actors::agent::AgentContext;
use crate::actors::agent::ipam::{ReleaseIp, RetainIps};
use crate::actors::agent::pod::{PodActor, PodFinished, PodInbox, PodNet, PodParent, zone_status};
use crate::actors::coalesce::{Kick, deliver};
use crate::actors::directory::{Describe, Registration};
use crate::actors::supervision::{ChildExited, Children, ExitVerdict};
use crate::illumos::zoneadm::ZoneEntry;
use crate::logic::backoff::Backoff;
use crate::logic::lifecycle::ZoneStatus;
use crate::logic::naming;
use crate::model::k8s::core::v1::Pod;

type WatchItem = Result<Event<Pod>, watcher::Error>;

/// The router.
pub struct PodRouter {
    shared: Arc<AgentContext>,
    net: PodNet,
    pods: HashMap<String, Arc<Pod>>,
    inboxes: HashMap<String, PodInbox>,
    gone: HashSet<String>,
    children: Children<String, PodActor>,
    /// The last zone state delivered per pod uid.
    delivered: HashMap<String, ZoneStatus>,
    relisting: Option<HashSet<String>>,
    listed_once: bool,
    relist_in_flight: bool,
    registration: Option<Registration>,
}

/// The outcome of one zone listing.
struct Listing {
    zones: Vec<ZoneEntry>,
    started: tokio::time::Instant,
}

impl PodRouter {
    /// A router for the node in `shared`, whose pods get addresses from `net`.
    pub fn new(shared: Arc<AgentContext>, net: PodNet) -> Self {
        Self {
            shared,
            net,
            pods: HashMap::new(),
            inboxes: HashMap::new(),
            gone: HashSet::new(),
            children: Children::new(Backoff::RESPAWN),
            delivered: HashMap::new(),
            relisting: None,
            listed_once: false,
            relist_in_flight: false,
            registration: None,
        }
    }

    fn publish(&self) {
        if let Some(r) = &self.registration {
            let state = if self.listed_once { "routing" } else { "listing" };
            r.set_state(format!("{state}: {} pods, {} actors", self.pods.len(), self.children.len()));
        }
    }

    fn spawn(&mut self, uid: &str, ctx: &mut Context<Self>) {
        let Some(pod) = self.pods.get(uid).cloned() else { return };
        let inbox = self.inboxes.entry(uid.to_string()).or_default().clone();
        inbox.pod.put(pod.clone());
        if self.gone.contains(uid) {
            inbox.gone.put(());
        }
        let (incarnation, restarts) = self.children.next_incarnation(&uid.to_string());
        let parent = PodParent { exited: ctx.address().recipient(), finished: ctx.address().recipient() };
        let actor =
            PodActor::new(pod, inbox, self.shared.clone(), self.net.clone(), parent, incarnation, restarts).start();
        self.children.started(uid.to_string(), actor, incarnation, restarts);
    }

    fn upsert(&mut self, pod: Pod, ctx: &mut Context<Self>) {
        let Some(uid) = pod.metadata.uid.clone() else { return };
        let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
        if node != Some(self.shared.settings.node_name.as_str()) {
            return;
        }
        if let Some(seen) = &mut self.relisting {
            seen.insert(uid.clone());
        }
        let pod = Arc::new(pod);
        self.pods.insert(uid.clone(), pod.clone());
        match self.children.get(&uid) {
            Some(actor) => {
                let inbox = self.inboxes.entry(uid.clone()).or_default();
                deliver(&inbox.pod, pod, &actor.clone().recipient());
            }
            None if self.children.keys().any(|k| *k == uid) => {}
            None => self.spawn(&uid, ctx),
        }
    }

    fn remove(&mut self, uid: &str) {
        if !self.pods.contains_key(uid) {
            return;
        }
        self.gone.insert(uid.to_string());
        if let (Some(inbox), Some(actor)) = (self.inboxes.get(uid), self.children.get(&uid.to_string())) {
            deliver(&inbox.gone, (), &actor.clone().recipient());
        }
    }

    fn relist(&mut self, ctx: &mut Context<Self>) {
        if self.relist_in_flight {
            return;
        }
        self.relist_in_flight = true;
        let runtime = self.shared.runtime.clone();
        let started = tokio::time::Instant::now();
        let list = async move { runtime.list_zones().await.map(|zones| Listing { zones, started }) };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(list).map(|result, this, ctx| {
            this.relist_in_flight = false;
            match result {
                Ok(listing) => this.listed(listing, ctx),
                Err(error) => tracing::warn!(%error, "could not list the zones"),
            }
        }));
    }

    fn listed(&mut self, listing: Listing, ctx: &mut Context<Self>) {
        let by_name: HashMap<&str, &ZoneEntry> = listing.zones.iter().map(|z| (z.name.as_str(), z)).collect();
        let mut summary = BTreeMap::new();
        for zone in &listing.zones {
            *summary.entry(zone.state.to_string()).or_insert(0) += 1;
        }
        *self.shared.zone_summary.lock() = summary;
        for (uid, pod) in &self.pods {
            let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
            let name = pod.metadata.name.as_deref().unwrap_or_default();
            let zone = naming::zone_name(namespace, name);
            let state = zone_status(by_name.get(zone.as_str()).map(|z| z.state));
            if self.delivered.get(uid) == Some(&state) {
                continue;
            }
            self.delivered.insert(uid.clone(), state);
            if let (Some(inbox), Some(actor)) = (self.inboxes.get(uid), self.children.get(uid)) {
                deliver(&inbox.zone, (state, listing.started), &actor.clone().recipient());
            }
        }
        let _ = ctx;
    }

    /// Tears down zones that are ours but whose pods are gone, and trims the IP pool.
    fn reconcile_once(&mut self, ctx: &mut Context<Self>) {
        let shared = self.shared.clone();
        let ipam = self.net.ipam.clone();
        let zones_of_pods: HashSet<String> = self
            .pods
            .values()
            .map(|p| {
                naming::zone_name(
                    p.metadata.namespace.as_deref().unwrap_or("default"),
                    p.metadata.name.as_deref().unwrap_or(""),
                )
            })
            .collect();
        let live: HashSet<String> = self.pods.keys().cloned().collect();
        let work = async move {
            let zones = match shared.runtime.list_zones().await {
                Ok(zones) => zones,
                Err(error) => {
                    tracing::warn!(%error, "start-up reconciliation could not list zones; will retry");
                    return false;
                }
            };
            let mut keep = live.clone();
            let mut orphans = Vec::new();
            for zone in zones.into_iter().filter(|z| !zones_of_pods.contains(&z.name)) {
                let config = match shared.runtime.zone_config(&zone.name).await {
                    Ok(Some(config)) => config,
                    Ok(None) => continue,
                    Err(error) => {
                        tracing::warn!(zone = %zone.name, %error, "cannot read a zone's configuration");
                        return false;
                    }
                };
                if !config.attrs.contains_key("reddwarf-namespace") {
                    continue;
                }
                let uid = config.attrs.get("reddwarf-pod-uid").map(|(_, v)| v.clone());
                if let Some(uid) = &uid {
                    keep.insert(uid.clone());
                }
                orphans.push((zone.name, config.nets.first().map(|n| n.physical.clone()), uid));
            }
            if let Err(error) = ipam
                .send(RetainIps { keep })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
            {
                tracing::warn!(%error, "could not reconcile the IP pool");
            }
            let mut all_clean = true;
            for (zone, vnic, uid) in orphans {
                tracing::info!(%zone, "removing a zone whose pod no longer exists");
                let datasets = format!("{}/{zone}", shared.settings.node_profile().volume_dataset_root);
                let removed = async {
                    shared.runtime.remove_zone(&zone).await?;
                    if let Some(vnic) = &vnic {
                        shared.runtime.delete_vnic(vnic).await?;
                    }
                    shared.runtime.destroy_dataset(&datasets).await?;
                    Ok::<_, crate::illumos::runtime::RuntimeError>(())
                }
                .await;
                match removed {
                    Ok(()) => {
                        let _ = tokio::fs::remove_dir_all(shared.settings.volume_dir_root().join(&zone)).await;
                        if let Some(uid) = uid {
                            let _ = ipam.send(ReleaseIp { uid }).await;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%zone, %error, "could not remove an orphaned zone; will retry");
                        all_clean = false;
                    }
                }
            }
            all_clean
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(work).map(|clean, _this, ctx| {
            if !clean {
                ctx.run_later(std::time::Duration::from_secs(5), |this, ctx| this.reconcile_once(ctx));
            }
        }));
    }
}

impl Actor for PodRouter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(4096);
        let registration = self.shared.directory.register(
            "PodRouter",
            self.shared.settings.node_name.clone(),
            1,
            0,
            Some(ctx.address().recipient()),
        );
        self.registration = Some(registration);
        self.publish();
        let api: Api<Pod> = Api::all(self.shared.client.clone());
        let config = watcher::Config::default().fields(&format!("spec.nodeName={}", self.shared.settings.node_name));
        let pods = watcher::watcher(api, config).default_backoff().modify(compact);
        ctx.add_stream(pods.boxed());
        let interval = self.shared.settings.relist_interval;
        ctx.run_interval(interval, |this, ctx| this.relist(ctx));
    }
}

/// Trims a pod from the watch to what the agent holds for as long as the pod lives.
/// managedFields are for writers, and would be most of the agent's memory per pod. The
/// decoder doubles a list's capacity as it fills (from four, or from one for items over a
/// kilobyte), and k8s-openapi's items are large inline (a `ContainerStatus` is 752 bytes,
/// a `Container` 2,120), so a one-container pod's status alone carried two kilobytes of
/// empty slots (heaptrack, 1,000 idle pods).
fn compact(pod: &mut Pod) {
    fn shrink<T>(list: Option<&mut Vec<T>>) {
        if let Some(list) = list {
            list.shrink_to_fit();
        }
    }
    pod.metadata.managed_fields = None;
    if let Some(spec) = &mut pod.spec {
        for containers in [Some(&mut spec.containers), spec.init_containers.as_mut()].into_iter().flatten() {
            containers.shrink_to_fit();
            for container in containers.iter_mut() {
                shrink(container.env.as_mut());
                shrink(container.ports.as_mut());
                shrink(container.volume_mounts.as_mut());
            }
        }
        shrink(spec.volumes.as_mut());
    }
    if let Some(status) = &mut pod.status {
        shrink(status.conditions.as_mut());
        shrink(status.container_statuses.as_mut());
        shrink(status.init_container_statuses.as_mut());
        shrink(status.host_ips.as_mut());
        shrink(status.pod_ips.as_mut());
    }
}

impl StreamHandler<WatchItem> for PodRouter {
    fn handle(&mut self, item: WatchItem, ctx: &mut Context<Self>) {
        if let Some(r) = &self.registration {
            r.handled();
        }
        match item {
            Ok(Event::Init) => self.relisting = Some(HashSet::new()),
            Ok(Event::InitApply(pod) | Event::Apply(pod)) => self.upsert(pod, ctx),
            Ok(Event::Delete(pod)) => {
                if let Some(uid) = pod.metadata.uid {
                    self.remove(&uid);
                }
            }
            Ok(Event::InitDone) => {
                let seen = self.relisting.take().unwrap_or_default();
                let missing: Vec<String> = self.pods.keys().filter(|uid| !seen.contains(*uid)).cloned().collect();
                for uid in missing {
                    self.remove(&uid);
                }
                if !self.listed_once {
                    self.listed_once = true;
                    self.reconcile_once(ctx);
                    self.relist(ctx);
                }
            }
            Err(error) => tracing::warn!(%error, "the pod watch failed; it will re-list"),
        }
        self.publish();
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The watcher never ends on its own; if it does, the router is useless: stop, and
        // let the NodeAgent's watchdog escalate.
        tracing::error!("the pod watch ended");
    }
}

impl Handler<ChildExited<String>> for PodRouter {
    type Result = ();

    fn handle(&mut self, exit: ChildExited<String>, ctx: &mut Context<Self>) {
        match self.children.exited(&exit.key, exit.incarnation) {
            ExitVerdict::Stale => {}
            ExitVerdict::Respawn { after, restarts } => {
                tracing::warn!(uid = %exit.key, incarnation = exit.incarnation, restarts, ?after, "a pod actor died; respawning");
                let uid = exit.key;
                ctx.run_later(after, move |this, ctx| {
                    if this.pods.contains_key(&uid) && this.children.get(&uid).is_none() {
                        this.spawn(&uid, ctx);
                        this.publish();
                    }
                });
            }
        }
    }
}

impl Handler<PodFinished> for PodRouter {
    type Result = ();

    fn handle(&mut self, finished: PodFinished, _: &mut Context<Self>) {
        let uid = finished.uid;
        if self.children.exited(&uid, finished.incarnation) == ExitVerdict::Stale {
            return;
        }
        self.children.remove(&uid);
        self.pods.remove(&uid);
        self.inboxes.remove(&uid);
        self.gone.remove(&uid);
        self.delivered.remove(&uid);
        self.publish();
    }
}

impl Handler<Kick> for PodRouter {
    type Result = ();

    fn handle(&mut self, _: Kick, ctx: &mut Context<Self>) {
        self.relist(ctx);
    }
}

impl Handler<Describe> for PodRouter {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!("{} pods, {} actors, {} gone", self.pods.len(), self.children.len(), self.gone.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_drops_managed_fields_and_spare_list_capacity_and_keeps_the_pod() {
        // Decoded from text, as the watch decodes (a `Value` would tell the decoder each length).
        let json = serde_json::json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1",
                "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {}}}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "img",
                "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 80}]}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "web", "image": "img", "imageID": "", "ready": true, "restartCount": 0}]}
        });
        let decoded: Pod = serde_json::from_str(&json.to_string()).unwrap();
        let conditions = decoded.status.as_ref().unwrap().conditions.as_ref().unwrap();
        assert!(conditions.capacity() > conditions.len(), "the decoder no longer over-allocates");
        let mut pod = decoded.clone();
        compact(&mut pod);

        assert_eq!(pod.metadata.managed_fields, None);
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.containers.capacity(), 1);
        assert_eq!(spec.containers[0].env.as_ref().unwrap().capacity(), 1);
        let status = pod.status.as_ref().unwrap();
        assert_eq!(status.conditions.as_ref().unwrap().capacity(), 1);
        assert_eq!(status.container_statuses.as_ref().unwrap().capacity(), 1);
        let mut expected = decoded;
        expected.metadata.managed_fields = None;
        assert_eq!(pod, expected);
    }
}
