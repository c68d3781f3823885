//! `NodeAgent`: registers the Node (capacity, allocatable = capacity − reservations,
//! labels, addresses, nodeInfo, the kubelet endpoint), renews its Lease in
//! `kube-node-lease` every `lease_interval`, and keeps its NodeStatus (conditions Ready,
//! MemoryPressure, DiskPressure, PIDPressure) current: sent when it changes, and at least
//! once a minute. The zones' observed states are summarised in the annotation
//! [`ZONE_STATES_ANNOTATION`]. Registration retries with backoff and logs every failure;
//! it never gives up.
//!
//! Once the node has a pod CIDR (`node.spec.podCIDR`, written by the control plane's IPAM;
//! or `--pod-cidr`), it starts the [`IpamPool`], prepares the node's network (etherstub,
//! gateway VNIC with the block's first address, forwarding, the zonepath dataset) and
//! starts the [`PodRouter`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::StreamExt;
use ipnet::IpNet;
use jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::{Value, json};

use crate::actors::agent::AgentContext;
use crate::actors::agent::ipam::IpamPool;
use crate::actors::agent::pod::PodNet;
use crate::actors::agent::router::PodRouter;
use crate::actors::directory::{Describe, Registration};
use crate::illumos::runtime::NodeNetwork;
use crate::logic::backoff::Backoff;
use crate::model::k8s::coordination::v1::Lease;
use crate::model::k8s::core::v1::Node;

/// The annotation that summarises the zones' observed states (`running=3,installed=1`).
pub const ZONE_STATES_ANNOTATION: &str = "reddwarf.io/zone-states";
/// The label listing the node's zone brands, joined with `.` (label values allow no `,`).
pub const ZONE_BRANDS_LABEL: &str = "reddwarf.io/zone-brands";
/// The kubelet version the node reports.
pub const KUBELET_VERSION: &str = "v1.33.0-reddwarf";
/// Retrying registration and network preparation.
const REGISTRATION: Backoff = Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(30) };
/// The longest a status may go unsent.
const STATUS_REPORT: Duration = Duration::from_secs(60);

fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn micro_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The node's labels.
pub fn node_labels(shared: &AgentContext) -> BTreeMap<String, String> {
    let s = &shared.settings;
    BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), s.node_name.clone()),
        ("kubernetes.io/os".to_string(), "illumos".to_string()),
        ("kubernetes.io/arch".to_string(), arch().to_string()),
        ("beta.kubernetes.io/os".to_string(), "illumos".to_string()),
        ("beta.kubernetes.io/arch".to_string(), arch().to_string()),
        (ZONE_BRANDS_LABEL.to_string(), s.brands.join(".")),
    ])
}

fn quantity_bytes(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) { format!("{}Mi", bytes >> 20) } else { bytes.to_string() }
}

fn quantity_cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) { (millis / 1000).to_string() } else { format!("{millis}m") }
}

/// The NodeStatus, heartbeat times set to `now` and transition times kept from `previous`.
pub fn node_status(shared: &AgentContext, previous: Option<&Value>, now: Timestamp) -> Value {
    let s = &shared.settings;
    let c = &s.capacity;
    let capacity = json!({
        "cpu": quantity_cpu(c.cpu_millis),
        "memory": quantity_bytes(c.memory_bytes),
        "pods": s.max_pods.to_string(),
        "ephemeral-storage": quantity_bytes(c.ephemeral_storage_bytes),
    });
    let allocatable = json!({
        "cpu": quantity_cpu(c.cpu_millis.saturating_sub(s.reserved_cpu_millis)),
        "memory": quantity_bytes(c.memory_bytes.saturating_sub(s.reserved_memory_bytes)),
        "pods": s.max_pods.to_string(),
        "ephemeral-storage": quantity_bytes(c.ephemeral_storage_bytes),
    });
    let transition = |type_: &str, status: &str| {
        previous
            .and_then(|p| p["conditions"].as_array())
            .and_then(|cs| cs.iter().find(|c| c["type"] == type_ && c["status"] == status))
            .and_then(|c| c["lastTransitionTime"].as_str().map(str::to_string))
            .unwrap_or_else(|| time(now))
    };
    let condition = |type_: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": type_, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": time(now), "lastTransitionTime": transition(type_, status),
        })
    };
    json!({
        "capacity": capacity,
        "allocatable": allocatable,
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "reddwarf agent is posting ready status"),
        ],
        "addresses": [
            {"type": "InternalIP", "address": s.node_ip.to_string()},
            {"type": "Hostname", "address": s.node_name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": shared.kubelet_port}},
        "nodeInfo": {
            "machineID": s.node_name,
            "systemUUID": s.node_name,
            "bootID": "",
            "kernelVersion": if s.runtime_name == "sim" { "5.11 (simulated)" } else { "5.11" },
            "osImage": if s.runtime_name == "sim" { "illumos (reddwarf sim)" } else { "illumos" },
            "containerRuntimeVersion": format!("zones://{}", s.runtime_name),
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": "illumos",
            "architecture": arch(),
        },
    })
}

/// The same status without heartbeat times, to tell a real change from a heartbeat.
fn comparable(status: &Value) -> Value {
    let mut status = status.clone();
    for c in status["conditions"].as_array_mut().into_iter().flatten() {
        c.as_object_mut().map(|o| o.remove("lastHeartbeatTime"));
    }
    status
}

fn summary_text(summary: &BTreeMap<String, usize>) -> String {
    if summary.is_empty() {
        return "none".into();
    }
    summary.iter().map(|(state, n)| format!("{state}={n}")).collect::<Vec<_>>().join(",")
}

/// The node agent.
pub struct NodeAgent {
    shared: Arc<AgentContext>,
    registration: Option<Registration>,
    attempts: u32,
    sent_status: Option<(Value, tokio::time::Instant)>,
    sent_summary: Option<String>,
    status_in_flight: bool,
    lease_in_flight: bool,
    heartbeating: bool,
    router: Option<Addr<PodRouter>>,
    ipam: Option<Addr<IpamPool>>,
}

enum Registered {
    Ready(IpNet),
    WaitForCidr,
}

impl NodeAgent {
    /// A node agent over `shared`.
    pub fn new(shared: Arc<AgentContext>) -> Self {
        Self {
            shared,
            registration: None,
            attempts: 0,
            sent_status: None,
            sent_summary: None,
            status_in_flight: false,
            lease_in_flight: false,
            heartbeating: false,
            router: None,
            ipam: None,
        }
    }

    fn set_state(&self, state: impl AsRef<str>) {
        if let Some(r) = &self.registration {
            r.set_state(state);
        }
    }

    fn retry(&mut self, what: &str, error: String, ctx: &mut Context<Self>, again: fn(&mut Self, &mut Context<Self>)) {
        let delay = REGISTRATION.delay(self.attempts);
        self.attempts = self.attempts.saturating_add(1);
        tracing::warn!(node = %self.shared.settings.node_name, attempt = self.attempts, ?delay, %error, "{what} failed; retrying");
        self.set_state(format!("{what} failed (attempt {}): {error}", self.attempts));
        ctx.run_later(delay, again);
    }

    /// Creates the Node, or brings an existing one's labels and status up to date.
    fn register(&mut self, ctx: &mut Context<Self>) {
        self.set_state("registering");
        let shared = self.shared.clone();
        let work = async move {
            let api: Api<Node> = Api::all(shared.client.clone());
            let name = shared.settings.node_name.clone();
            let labels = node_labels(&shared);
            let now = shared.clock.now();
            let node = match api.get_opt(&name).await.map_err(|e| e.to_string())? {
                Some(existing) => {
                    let patch = json!({"metadata": {"labels": labels}});
                    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                        .map_err(|e| e.to_string())?;
                    existing
                }
                None => {
                    let node: Node = serde_json::from_value(json!({
                        "apiVersion": "v1",
                        "kind": "Node",
                        "metadata": {"name": name, "labels": labels},
                        "spec": shared.settings.pod_cidr.map(|c| json!({"podCIDR": c.to_string(), "podCIDRs": [c.to_string()]})).unwrap_or(json!({})),
                    }))
                    .map_err(|e| e.to_string())?;
                    match api.create(&PostParams::default(), &node).await {
                        Ok(created) => created,
                        Err(kube::Error::Api(e)) if e.code == 409 => api.get(&name).await.map_err(|e| e.to_string())?,
                        Err(e) => return Err(e.to_string()),
                    }
                }
            };
            let previous = node.status.as_ref().and_then(|s| serde_json::to_value(s).ok());
            let status = node_status(&shared, previous.as_ref(), now);
            api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&json!({"status": status})))
                .await
                .map_err(|e| e.to_string())?;
            let cidr = shared
                .settings
                .pod_cidr
                .or_else(|| node.spec.as_ref().and_then(|s| s.pod_cidr.as_deref()).and_then(|c| c.parse().ok()));
            Ok::<_, String>((cidr.map_or(Registered::WaitForCidr, Registered::Ready), status))
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(work).map(|result, this, ctx| match result {
            Ok((registered, status)) => {
                this.attempts = 0;
                this.sent_status = Some((status, tokio::time::Instant::now()));
                tracing::info!(node = %this.shared.settings.node_name, "node registered");
                this.start_heartbeats(ctx);
                match registered {
                    Registered::Ready(cidr) => this.start_pods(cidr, ctx),
                    Registered::WaitForCidr => this.wait_for_cidr(ctx),
                }
            }
            Err(error) => this.retry("node registration", error, ctx, Self::register),
        }));
    }

    fn wait_for_cidr(&mut self, ctx: &mut Context<Self>) {
        self.set_state("waiting for a pod CIDR");
        tracing::info!(node = %self.shared.settings.node_name, "waiting for the control plane to assign a pod CIDR");
        let api: Api<Node> = Api::all(self.shared.client.clone());
        let config = watcher::Config::default().fields(&format!("metadata.name={}", self.shared.settings.node_name));
        let wait = async move {
            let mut stream = watcher::watcher(api, config).boxed();
            while let Some(event) = stream.next().await {
                let nodes = match event {
                    Ok(watcher::Event::Apply(node) | watcher::Event::InitApply(node)) => vec![node],
                    Ok(_) => continue,
                    Err(error) => return Err(error.to_string()),
                };
                for node in nodes {
                    if let Some(cidr) = node.spec.and_then(|s| s.pod_cidr).and_then(|c| c.parse::<IpNet>().ok()) {
                        return Ok(cidr);
                    }
                }
            }
            Err("the node watch ended".to_string())
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(wait).map(|result, this, ctx| match result {
            Ok(cidr) => this.start_pods(cidr, ctx),
            Err(error) => this.retry("waiting for a pod CIDR", error, ctx, Self::wait_for_cidr),
        }));
    }

    fn start_pods(&mut self, cidr: IpNet, ctx: &mut Context<Self>) {
        let settings = &self.shared.settings;
        let path = settings.data_dir.join("ipam.json");
        let pool = match IpamPool::load(cidr, &path, &settings.node_name, self.shared.directory.clone()) {
            Ok(pool) => pool,
            Err(error) => {
                // An unreadable pool must not be silently replaced: addresses could be
                // given twice. Keep retrying (an operator can fix or remove the file).
                self.retry("loading the IP pool", error.to_string(), ctx, Self::register);
                return;
            }
        };
        let gateway = pool.gateway();
        let network = NodeNetwork {
            etherstub: settings.etherstub.clone(),
            gateway_vnic: settings.gateway_vnic(),
            gateway_addrobj: format!("{}/v4", settings.gateway_vnic()),
            gateway_address: format!("{gateway}/{}", cidr.prefix_len()),
            zonepath_dataset: format!("{}/zones", settings.zfs_root.trim_end_matches('/')),
            zonepath_root: settings.zonepath_root.clone(),
        };
        let ipam = pool.start();
        self.ipam = Some(ipam.clone());
        let net = PodNet { ipam, prefix_len: cidr.prefix_len(), gateway };
        self.prepare_network(network, net, ctx);
    }

    fn prepare_network(&mut self, network: NodeNetwork, net: PodNet, ctx: &mut Context<Self>) {
        self.set_state("preparing the node network");
        let runtime = self.shared.runtime.clone();
        let to_prepare = network.clone();
        let work = async move { runtime.prepare_node(&to_prepare).await };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(work).map(move |result, this, ctx| match result {
            Ok(()) => {
                this.attempts = 0;
                let router = PodRouter::new(this.shared.clone(), net).start();
                this.router = Some(router);
                this.set_state("ready");
            }
            Err(error) => {
                let delay = REGISTRATION.delay(this.attempts);
                this.attempts = this.attempts.saturating_add(1);
                tracing::warn!(%error, ?delay, "preparing the node network failed; retrying");
                this.set_state(format!("network preparation failed: {error}"));
                ctx.run_later(delay, move |this, ctx| this.prepare_network(network, net, ctx));
            }
        }));
    }

    fn start_heartbeats(&mut self, ctx: &mut Context<Self>) {
        if self.heartbeating {
            return;
        }
        self.heartbeating = true;
        self.renew_lease(ctx);
        ctx.run_interval(self.shared.settings.lease_interval, |this, ctx| this.renew_lease(ctx));
        ctx.run_interval(self.shared.settings.status_interval, |this, ctx| this.update_status(ctx));
    }

    fn renew_lease(&mut self, ctx: &mut Context<Self>) {
        if self.lease_in_flight {
            return;
        }
        self.lease_in_flight = true;
        let shared = self.shared.clone();
        let work = async move {
            let api: Api<Lease> = Api::namespaced(shared.client.clone(), "kube-node-lease");
            let name = shared.settings.node_name.clone();
            let now = micro_time(shared.clock.now());
            let spec = json!({"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now});
            match api.patch(&name, &PatchParams::default(), &Patch::Merge(&json!({"spec": spec}))).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    let lease: Lease = serde_json::from_value(json!({
                        "apiVersion": "coordination.k8s.io/v1",
                        "kind": "Lease",
                        "metadata": {"name": name, "namespace": "kube-node-lease"},
                        "spec": spec,
                    }))
                    .map_err(|e| e.to_string())?;
                    api.create(&PostParams::default(), &lease).await.map(|_| ()).map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            }
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(work).map(|result, this, _| {
            this.lease_in_flight = false;
            if let Err(error) = result {
                tracing::warn!(%error, "could not renew the node lease");
            }
        }));
    }

    fn update_status(&mut self, ctx: &mut Context<Self>) {
        if self.status_in_flight {
            return;
        }
        let previous = self.sent_status.as_ref().map(|(s, _)| s.clone());
        let status = node_status(&self.shared, previous.as_ref(), self.shared.clock.now());
        let summary = summary_text(&self.shared.zone_summary.lock());
        let due = self
            .sent_status
            .as_ref()
            .is_none_or(|(sent, at)| comparable(sent) != comparable(&status) || at.elapsed() >= STATUS_REPORT);
        let summary_changed = self.sent_summary.as_deref() != Some(summary.as_str());
        if !due && !summary_changed {
            return;
        }
        self.status_in_flight = true;
        let api: Api<Node> = Api::all(self.shared.client.clone());
        let name = self.shared.settings.node_name.clone();
        let body = json!({"status": status});
        let annotation = json!({"metadata": {"annotations": {ZONE_STATES_ANNOTATION: summary}}});
        let work = async move {
            if due {
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&body))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if summary_changed {
                api.patch(&name, &PatchParams::default(), &Patch::Merge(&annotation))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(work).map(move |result, this, _| {
            this.status_in_flight = false;
            match result {
                Ok(()) => {
                    if due {
                        this.sent_status = Some((status, tokio::time::Instant::now()));
                    }
                    this.sent_summary = Some(summary);
                }
                Err(error) => tracing::warn!(%error, "could not update the node status"),
            }
        }));
    }
}

impl Actor for NodeAgent {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let registration = self.shared.directory.register(
            "NodeAgent",
            self.shared.settings.node_name.clone(),
            1,
            0,
            Some(ctx.address().recipient()),
        );
        self.registration = Some(registration);
        self.register(ctx);
    }
}

impl Handler<Describe> for NodeAgent {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!(
            "node {}; router {}; zones {}",
            self.shared.settings.node_name,
            if self.router.is_some() { "running" } else { "not started" },
            summary_text(&self.shared.zone_summary.lock())
        )
    }
}

/// The router, once started (for watchdogs and tests).
#[derive(Message)]
#[rtype(result = "Option<Addr<PodRouter>>")]
pub struct GetRouter;

impl Handler<GetRouter> for NodeAgent {
    type Result = Option<Addr<PodRouter>>;

    fn handle(&mut self, _: GetRouter, _: &mut Context<Self>) -> Self::Result {
        self.router.clone()
    }
}
