//! The node agent (our kubelet), as actors:
//!
//! ```text
//! NodeAgent (registration, Lease heartbeat, NodeStatus)
//! ├─ IpamPool (this node's pod addresses, persisted)
//! └─ PodRouter (pod watch; zone relist; respawn) → PodActor per pod
//! kubelet HTTPS server (logs), EventRecorder (events through the API)
//! ```
//!
//! The agent speaks only the Kubernetes API, through `kube::Client` ([`credentials`]), so
//! it works against any conformant API server. Start it with [`start`]. Host work goes
//! through [`IllumosRuntime`] (the real host, or the `FakeHost` with `--runtime sim`).

pub mod credentials;
pub mod ipam;
pub mod logs;
pub mod node;
pub mod pod;
pub mod probes;
pub mod router;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::BoxFuture;
use ipnet::IpNet;
use kube::api::{Api, PostParams};
use parking_lot::Mutex;
use serde_json::Value;

use crate::actors::directory::ActorDirectory;
use crate::actors::events::{EventSink, Recorder};
use crate::clock::Clock;
use crate::illumos::runtime::IllumosRuntime;
use crate::logic::zone_plan::NodeProfile;
use crate::model::k8s::core::v1::Event;

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The kubelet server could not start.
    #[error(transparent)]
    Logs(#[from] logs::LogsError),
    /// The data directory could not be prepared.
    #[error("agent data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// What the node offers before reservations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// CPU, in millicores.
    pub cpu_millis: u64,
    /// Memory, in bytes.
    pub memory_bytes: u64,
    /// Ephemeral storage, in bytes.
    pub ephemeral_storage_bytes: u64,
}

/// Everything the agent is told at start.
#[derive(Clone, Debug)]
pub struct AgentSettings {
    /// The Node's name.
    pub node_name: String,
    /// The node's address (status.addresses InternalIP; the kubelet endpoint's address).
    pub node_ip: IpAddr,
    /// `sim` or `illumos`, for nodeInfo.
    pub runtime_name: String,
    /// Installed zone brands, in order of preference.
    pub brands: Vec<String>,
    /// The zonepath root (`/zones`).
    pub zonepath_root: String,
    /// The ZFS dataset under which the agent creates everything (`rpool/reddwarf`).
    pub zfs_root: String,
    /// The pods' etherstub (`reddwarf0`).
    pub etherstub: String,
    /// hostPath volumes are allowed only under these.
    pub host_path_prefixes: Vec<String>,
    /// Detected (or, in sim, configured) capacity.
    pub capacity: Capacity,
    /// `--system-reserved-cpu`, in millicores.
    pub reserved_cpu_millis: u64,
    /// `--system-reserved-memory`, in bytes.
    pub reserved_memory_bytes: u64,
    /// `--max-pods`.
    pub max_pods: u32,
    /// A fixed pod CIDR, instead of waiting for `node.spec.podCIDR`.
    pub pod_cidr: Option<IpNet>,
    /// The agent's local state (IP pool, projected volumes).
    pub data_dir: PathBuf,
    /// Where the kubelet HTTPS server listens.
    pub kubelet_listen: SocketAddr,
    /// How often all zones are listed to notice changes nobody asked for.
    pub relist_interval: Duration,
    /// How often the node's Lease is renewed.
    pub lease_interval: Duration,
    /// How often the NodeStatus is checked (and sent when it changed, or once a minute).
    pub status_interval: Duration,
    /// `--max-concurrent-exec-probes`: exec probes running at once on the node.
    pub max_concurrent_exec_probes: usize,
    /// Honour the test-only fault annotation ([`pod::TEST_PANIC_ANNOTATION`]). Only code
    /// sets this; no flag does.
    pub test_faults: bool,
}

impl AgentSettings {
    /// A simulated node with the agent's default paths and intervals, 8 CPUs and 32 GiB,
    /// and its kubelet server on an ephemeral loopback port: the base that tests (and
    /// embedders) change field by field.
    pub fn simulated(node_name: &str, data_dir: PathBuf) -> Self {
        Self {
            node_name: node_name.to_string(),
            node_ip: IpAddr::from([127, 0, 0, 1]),
            runtime_name: "sim".into(),
            brands: vec!["lipkg".into()],
            zonepath_root: "/zones".into(),
            zfs_root: "rpool/reddwarf".into(),
            etherstub: "reddwarf0".into(),
            host_path_prefixes: Vec::new(),
            capacity: Capacity { cpu_millis: 8000, memory_bytes: 32 << 30, ephemeral_storage_bytes: 100 << 30 },
            reserved_cpu_millis: 100,
            reserved_memory_bytes: 256 << 20,
            max_pods: 110,
            pod_cidr: None,
            data_dir,
            kubelet_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            relist_interval: Duration::from_secs(5),
            lease_interval: Duration::from_secs(10),
            status_interval: Duration::from_secs(10),
            max_concurrent_exec_probes: 10,
            test_faults: false,
        }
    }

    /// The planner's view of this node.
    pub fn node_profile(&self) -> NodeProfile {
        NodeProfile {
            brands: self.brands.clone(),
            zonepath_root: self.zonepath_root.clone(),
            volume_dataset_root: format!("{}/volumes", self.zfs_root.trim_end_matches('/')),
            volume_dir_root: self.volume_dir_root().display().to_string(),
            host_path_prefixes: self.host_path_prefixes.clone(),
            ..NodeProfile::default()
        }
    }

    /// Where configMap and secret volumes are materialised.
    pub fn volume_dir_root(&self) -> PathBuf {
        self.data_dir.join("volumes")
    }

    /// The global zone's VNIC on the etherstub: the pods' default router.
    pub fn gateway_vnic(&self) -> String {
        // A link name must end in a digit and contain only letters, digits and '_'.
        let stem: String = self.etherstub.trim_end_matches(|c: char| c.is_ascii_digit()).chars().take(24).collect();
        format!("{stem}_gw0")
    }
}

/// What every agent actor shares.
pub struct AgentContext {
    /// The settings.
    pub settings: AgentSettings,
    /// The host.
    pub runtime: IllumosRuntime,
    /// The API client.
    pub client: kube::Client,
    /// Events, through the API.
    pub recorder: Recorder,
    /// The actor directory.
    pub directory: ActorDirectory,
    /// Wall time.
    pub clock: Clock,
    /// The kubelet server's port, once bound.
    pub kubelet_port: u16,
    /// The zones' observed states, counted by state (the router writes, the node reads).
    pub zone_summary: Mutex<std::collections::BTreeMap<String, usize>>,
    /// What every pod's probes share (exec-probe permits, the HTTP client).
    pub probes: Arc<probes::NodeProbes>,
    /// Slots for pod status writes ([`STATUS_WRITES_IN_FLIGHT`]). A pod actor renders its
    /// status when it gets one, so in a burst a pod that moved on while it waited writes
    /// once instead of once per step.
    pub status_writes: Arc<tokio::sync::Semaphore>,
}

/// Pod status writes a node keeps in flight: half of what its API client allows
/// (`credentials::MAX_REQUESTS_IN_FLIGHT`), leaving room for the Lease, node status,
/// events and deletes.
pub const STATUS_WRITES_IN_FLIGHT: usize = credentials::MAX_REQUESTS_IN_FLIGHT / 2;

/// Writes events through the API (the agent has no store of its own).
pub struct KubeEvents {
    client: kube::Client,
}

impl KubeEvents {
    /// A sink over `client`.
    pub fn new(client: kube::Client) -> Self {
        Self { client }
    }
}

impl EventSink for KubeEvents {
    fn get(&self, namespace: &str, name: &str) -> BoxFuture<'static, Result<Option<Value>, String>> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let name = name.to_string();
        Box::pin(async move {
            match api.get_opt(&name).await {
                Ok(found) => Ok(found.map(|e| serde_json::to_value(e).unwrap_or_default())),
                Err(e) => Err(e.to_string()),
            }
        })
    }

    fn create(&self, event: Value) -> BoxFuture<'static, Result<(), String>> {
        let client = self.client.clone();
        Box::pin(async move {
            let event: Event = serde_json::from_value(event).map_err(|e| e.to_string())?;
            let namespace = event.metadata.namespace.clone().unwrap_or_else(|| "default".into());
            let api: Api<Event> = Api::namespaced(client, &namespace);
            api.create(&PostParams::default(), &event).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }

    fn replace(&self, event: Value) -> BoxFuture<'static, Result<(), String>> {
        let client = self.client.clone();
        Box::pin(async move {
            let event: Event = serde_json::from_value(event).map_err(|e| e.to_string())?;
            let namespace = event.metadata.namespace.clone().unwrap_or_else(|| "default".into());
            let name = event.metadata.name.clone().unwrap_or_default();
            let api: Api<Event> = Api::namespaced(client, &namespace);
            let patch = kube::api::Patch::Merge(serde_json::json!({
                "count": event.count, "lastTimestamp": event.last_timestamp,
            }));
            api.patch(&name, &kube::api::PatchParams::default(), &patch).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }
}

/// A running agent.
pub struct AgentHandle {
    /// The NodeAgent.
    pub node: Addr<node::NodeAgent>,
    /// The kubelet server's address.
    pub kubelet_address: SocketAddr,
    /// What the actors share.
    pub context: Arc<AgentContext>,
}

/// Starts the agent on the current actix system: the kubelet server, the event recorder
/// and the NodeAgent (which registers the node, then starts the IP pool and the router).
pub fn start(
    settings: AgentSettings,
    runtime: IllumosRuntime,
    client: kube::Client,
    console: Arc<dyn logs::ConsoleSource>,
    api_access: logs::ApiAccess,
    clock: Clock,
    directory: ActorDirectory,
) -> Result<AgentHandle, AgentError> {
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|source| AgentError::DataDir { path: settings.data_dir.clone(), source })?;
    if settings.runtime_name == "sim" {
        tracing::warn!(node = %settings.node_name, "=== SIMULATED NODE: --runtime sim runs no real zones; pods run in an in-memory illumos emulation ===");
    }
    let kubelet_address = logs::start(
        settings.kubelet_listen,
        &settings.node_name,
        settings.node_ip,
        console,
        api_access,
        clock.clone(),
    )?;
    let recorder = Recorder::start(Arc::new(KubeEvents::new(client.clone())), clock.clone(), directory.clone());
    let probes = Arc::new(probes::NodeProbes::new(settings.max_concurrent_exec_probes));
    let context = Arc::new(AgentContext {
        settings,
        runtime,
        client,
        recorder,
        directory,
        clock,
        kubelet_port: kubelet_address.port(),
        zone_summary: Mutex::default(),
        probes,
        status_writes: Arc::new(tokio::sync::Semaphore::new(STATUS_WRITES_IN_FLIGHT)),
    });
    let node = node::NodeAgent::new(context.clone()).start();
    Ok(AgentHandle { node, kubelet_address, context })
}
