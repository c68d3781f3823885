//! The scheduler's view of pods and nodes, extracted once from the API objects: exact
//! resource amounts (millicores, bytes, pod slots), labels, taints, host ports and zone
//! brands. Nodes also carry what the pods bound to them request, updated as pods are
//! assumed (bound by this scheduler) or forgotten.

use std::collections::{BTreeMap, HashSet};

use crate::model::k8s::core::v1::{Node, NodeSelector, Pod, PreferredSchedulingTerm, Taint, Toleration};
use crate::model::quantity::parse_quantity;

use crate::model::brands::{BRAND_ANNOTATION, BRANDS_LABEL};

/// Amounts of the scheduled resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU in millicores.
    pub cpu_millis: i64,
    /// Memory in bytes.
    pub memory_bytes: i64,
    /// Pod slots.
    pub pods: i64,
}

impl Resources {
    fn add(&mut self, other: Resources) {
        self.cpu_millis += other.cpu_millis;
        self.memory_bytes += other.memory_bytes;
        self.pods += other.pods;
    }

    fn subtract(&mut self, other: Resources) {
        self.cpu_millis -= other.cpu_millis;
        self.memory_bytes -= other.memory_bytes;
        self.pods -= other.pods;
    }
}

/// A host port a pod claims: (protocol, port, host IP; empty means all addresses).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// TCP, UDP or SCTP.
    pub protocol: String,
    /// The port.
    pub port: i32,
    /// The host IP, or empty for every address.
    pub ip: String,
}

/// What a pod asks of a node.
#[derive(Clone, Debug, Default)]
pub struct PodRequest {
    /// `namespace/name`, for messages.
    pub key: String,
    /// Requested resources (pods = 1).
    pub requests: Resources,
    /// Requests with upstream's non-zero defaults (100m CPU, 200 MiB) for scoring.
    pub scoring_requests: Resources,
    /// `spec.nodeSelector`.
    pub node_selector: BTreeMap<String, String>,
    /// Required node affinity.
    pub required_affinity: Option<NodeSelector>,
    /// Preferred node affinity terms.
    pub preferred_affinity: Vec<PreferredSchedulingTerm>,
    /// `spec.tolerations`.
    pub tolerations: Vec<Toleration>,
    /// Host ports of its containers.
    pub host_ports: Vec<HostPort>,
    /// The zone brand it asks for, if any.
    pub brand: Option<String>,
}

/// What a node offers, and what is already bound to it.
#[derive(Clone, Debug, Default)]
pub struct NodeInfo {
    /// Node name.
    pub name: String,
    /// Node labels.
    pub labels: BTreeMap<String, String>,
    /// `spec.taints`.
    pub taints: Vec<Taint>,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// The Ready condition is True.
    pub ready: bool,
    /// `status.allocatable`.
    pub allocatable: Resources,
    /// The sum of the requests of pods bound to the node.
    pub requested: Resources,
    /// The same with non-zero defaults, for scoring.
    pub scoring_requested: Resources,
    /// Host ports in use.
    pub used_ports: HashSet<HostPort>,
    /// Zone brands it runs; empty when the node does not say.
    pub brands: Vec<String>,
}

const DEFAULT_CPU_MILLIS: i64 = 100;
const DEFAULT_MEMORY_BYTES: i64 = 200 * 1024 * 1024;

fn amount(
    map: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    name: &str,
) -> Option<i64> {
    let quantity = parse_quantity(&map?.get(name)?.0).ok()?;
    Some(if name == "cpu" { quantity.millis() } else { quantity.units() })
}

impl PodRequest {
    /// Extracts the scheduling view of a pod.
    pub fn from_pod(pod: &Pod) -> Self {
        let spec = pod.spec.clone().unwrap_or_default();
        let container_requests = |c: &k8s_openapi::api::core::v1::Container, defaults: bool| {
            let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
            let cpu = amount(requests, "cpu");
            let memory = amount(requests, "memory");
            Resources {
                cpu_millis: cpu.unwrap_or(if defaults { DEFAULT_CPU_MILLIS } else { 0 }),
                memory_bytes: memory.unwrap_or(if defaults { DEFAULT_MEMORY_BYTES } else { 0 }),
                pods: 0,
            }
        };
        // A pod needs the sum of its containers, or its largest init container if that is more.
        let effective = |defaults: bool| {
            let mut sum = Resources { pods: 1, ..Resources::default() };
            for c in &spec.containers {
                sum.add(container_requests(c, defaults));
            }
            for c in spec.init_containers.iter().flatten() {
                let init = container_requests(c, defaults);
                sum.cpu_millis = sum.cpu_millis.max(init.cpu_millis);
                sum.memory_bytes = sum.memory_bytes.max(init.memory_bytes);
            }
            sum
        };
        let host_ports = spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .filter(|p| p.host_port.unwrap_or(0) > 0)
            .map(|p| HostPort {
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                port: p.host_port.unwrap_or(0),
                ip: p.host_ip.clone().filter(|ip| ip != "0.0.0.0").unwrap_or_default(),
            })
            .collect();
        let node_affinity = spec.affinity.as_ref().and_then(|a| a.node_affinity.as_ref());
        Self {
            key: format!(
                "{}/{}",
                pod.metadata.namespace.as_deref().unwrap_or(""),
                pod.metadata.name.as_deref().unwrap_or("")
            ),
            requests: effective(false),
            scoring_requests: effective(true),
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            required_affinity: node_affinity
                .and_then(|a| a.required_during_scheduling_ignored_during_execution.clone()),
            preferred_affinity: node_affinity
                .and_then(|a| a.preferred_during_scheduling_ignored_during_execution.clone())
                .unwrap_or_default(),
            tolerations: spec.tolerations.clone().unwrap_or_default(),
            host_ports,
            brand: pod.metadata.annotations.as_ref().and_then(|a| a.get(BRAND_ANNOTATION)).cloned(),
        }
    }
}

impl NodeInfo {
    /// Extracts the scheduling view of a node (with nothing bound yet).
    pub fn from_node(node: &Node) -> Self {
        let status = node.status.as_ref();
        let allocatable = status.and_then(|s| s.allocatable.as_ref());
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let labels = node.metadata.labels.clone().unwrap_or_default();
        let brands = labels
            .get(BRANDS_LABEL)
            .map(|b| b.split(',').map(str::trim).filter(|b| !b.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        Self {
            name: node.metadata.name.clone().unwrap_or_default(),
            labels,
            taints: node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default(),
            unschedulable: node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
            ready,
            allocatable: Resources {
                cpu_millis: amount(allocatable, "cpu").unwrap_or(0),
                memory_bytes: amount(allocatable, "memory").unwrap_or(0),
                pods: amount(allocatable, "pods").unwrap_or(0),
            },
            brands,
            ..Self::default()
        }
    }

    /// Counts `pod` as bound here.
    pub fn assume(&mut self, pod: &PodRequest) {
        self.requested.add(pod.requests);
        self.scoring_requested.add(pod.scoring_requests);
        self.used_ports.extend(pod.host_ports.iter().cloned());
    }

    /// Stops counting `pod` (it was deleted, or its binding failed).
    pub fn forget(&mut self, pod: &PodRequest) {
        self.requested.subtract(pod.requests);
        self.scoring_requested.subtract(pod.scoring_requests);
        for port in &pod.host_ports {
            self.used_ports.remove(port);
        }
    }

    /// Keeps what is bound when the node object itself changes.
    pub fn refresh_from(&mut self, node: &Node) {
        let fresh = NodeInfo::from_node(node);
        *self = NodeInfo {
            requested: self.requested,
            scoring_requested: self.scoring_requested,
            used_ports: std::mem::take(&mut self.used_ports),
            ..fresh
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_requests_sum_containers_and_respect_init_containers() {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns",
            "annotations": {"reddwarf.io/zone-brand": "lx"}},
            "spec": {"containers": [
                {"name": "a", "image": "x", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}},
                 "ports": [{"containerPort": 80, "hostPort": 8080}]},
                {"name": "b", "image": "x"}],
              "initContainers": [{"name": "i", "image": "x", "resources": {"requests": {"cpu": "2"}}}]}}))
        .unwrap();
        let request = PodRequest::from_pod(&pod);
        assert_eq!(request.key, "ns/p");
        assert_eq!(request.requests, Resources { cpu_millis: 2000, memory_bytes: 64 << 20, pods: 1 });
        assert_eq!(request.scoring_requests.memory_bytes, (64 << 20) + DEFAULT_MEMORY_BYTES);
        assert_eq!(request.host_ports, vec![HostPort { protocol: "TCP".into(), port: 8080, ip: String::new() }]);
        assert_eq!(request.brand.as_deref(), Some("lx"));
    }

    #[test]
    fn nodes_track_what_is_bound() {
        let node: Node = serde_json::from_value(json!({"metadata": {"name": "n", "labels": {"reddwarf.io/zone-brands": "lipkg, lx"}},
            "spec": {"unschedulable": true},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}, "conditions": [{"type": "Ready", "status": "False"}]}}))
        .unwrap();
        let mut info = NodeInfo::from_node(&node);
        assert!(info.unschedulable && !info.ready);
        assert_eq!(info.brands, ["lipkg", "lx"]);
        assert_eq!(info.allocatable, Resources { cpu_millis: 4000, memory_bytes: 8 << 30, pods: 110 });
        let pod =
            PodRequest { requests: Resources { cpu_millis: 500, memory_bytes: 1, pods: 1 }, ..Default::default() };
        info.assume(&pod);
        info.refresh_from(&node);
        assert_eq!(info.requested.cpu_millis, 500, "refreshing the node keeps its pods");
        info.forget(&pod);
        assert_eq!(info.requested, Resources::default());
    }
}
