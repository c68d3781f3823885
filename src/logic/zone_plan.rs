//! Pod → zone plan: what zone should run a pod on a given node, decided purely from the
//! pod, the node's profile and the pod's network. The plan is plain data; the illumos layer
//! turns it into a zonecfg script and zfs commands. Every string the plan carries that a
//! user controls (annotation attribute values, mount paths, host paths) is checked here so
//! that it can be safely double-quoted for zonecfg; the renderer checks again.
//!
//! Decisions (reference §1.5, §6.4, §9):
//! - brand: annotation `reddwarf.io/zone-brand` (must be one of the node's brands), else
//!   `lipkg` when the node has it, else the node's first brand;
//! - always `autoboot=false` (the agent boots pods) and `ip-type=exclusive`;
//! - `capped-cpu` and `capped-memory physical` from the pod's effective limits: per
//!   container the limit, or the request when there is no limit; the sum over app
//!   containers, or the largest init container if larger. No cap when an app container has
//!   neither;
//! - emptyDir → a ZFS dataset per volume (`sizeLimit` → quota, `mountpoint=legacy`) mounted
//!   with `fs type=zfs`; `medium: Memory` → `tmpfs`;
//! - hostPath → `fs type=lofs`, only under the node's allowed prefixes;
//! - configMap, secret, projected, downwardAPI → `fs type=lofs` read-only from a directory
//!   the agent fills;
//! - annotations `zone-attr.reddwarf.io/NAME: VALUE` → string `attr`s (for brand options
//!   such as lx `kernel-version` or OmniOS `resolvers`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::logic::naming;
use crate::model::brands::{BRAND_ANNOTATION, DEFAULT_BRAND};
use crate::model::k8s::core::v1::{Container, Pod, Volume};
use crate::model::quantity::{Quantity, parse_quantity};
pub use crate::model::zone_annotations::{ATTR_ANNOTATION_PREFIX, OWN_ATTR_PREFIX};
use crate::model::zone_annotations::{attr_name_problem, quotable_problem};

/// The smallest `capped-memory physical` zonecfg accepts.
pub const MIN_PHYSICAL_MEMORY: u64 = 1 << 20;

/// What the planner needs to know about the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeProfile {
    /// Installed brands, in order of preference.
    pub brands: Vec<String>,
    /// The directory under which zonepaths are created (`/pods`); it should be the
    /// mountpoint of a ZFS dataset so that install creates one dataset per zone.
    pub zonepath_root: String,
    /// The dataset under which emptyDir datasets are created (`rpool/reddwarf/volumes`).
    pub volume_dataset_root: String,
    /// The global-zone directory under which the agent materialises configMap, secret,
    /// projected and downwardAPI volumes.
    pub volume_dir_root: String,
    /// Host paths a pod may mount with hostPath; anything else is refused.
    pub host_path_prefixes: Vec<String>,
    /// The `zone.max-lwps` resource control for every pod zone.
    pub max_lwps: Option<u32>,
}

impl Default for NodeProfile {
    fn default() -> Self {
        Self {
            brands: vec!["lipkg".into(), "sparse".into()],
            zonepath_root: "/pods".into(),
            volume_dataset_root: "rpool/reddwarf/volumes".into(),
            volume_dir_root: "/var/lib/reddwarf/volumes".into(),
            host_path_prefixes: Vec::new(),
            max_lwps: Some(2000),
        }
    }
}

/// The network a pod was given: its VNIC and its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodNetwork {
    /// The VNIC (already named by [`naming::vnic_name`]).
    pub vnic: String,
    /// The pod's address.
    pub address: IpAddr,
    /// The prefix length of the pod network.
    pub prefix_len: u8,
    /// The default router, normally the node's gateway on the pod network.
    pub gateway: Option<IpAddr>,
}

/// `ip-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpType {
    /// The zone has its own IP stack (what pods use).
    Exclusive,
    /// The zone shares the global zone's IP stack.
    Shared,
}

impl IpType {
    /// The value zonecfg takes.
    pub fn as_str(self) -> &'static str {
        match self {
            IpType::Exclusive => "exclusive",
            IpType::Shared => "shared",
        }
    }
}

/// The zone's `net` resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetPlan {
    /// `physical`: the VNIC.
    pub physical: String,
    /// `allowed-address` (`ADDR/PREFIX`); native brands configure their IP from it.
    pub allowed_address: Option<String>,
    /// `defrouter`.
    pub defrouter: Option<String>,
    /// `property` entries (the lx brand's `ips`, `gateway`, `primary`).
    pub properties: Vec<(String, String)>,
}

/// `capped-cpu`, held as the `zone.cpu-cap` percentage zonecfg stores (`ncpus × 100`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuCap {
    /// Percent of one CPU: 150 is `ncpus=1.5`.
    pub percent: u32,
}

impl CpuCap {
    /// The `ncpus` value: `1.5`, `0.25`, `2`.
    pub fn ncpus(self) -> String {
        let (whole, hundredths) = (self.percent / 100, self.percent % 100);
        match hundredths {
            0 => whole.to_string(),
            h if h % 10 == 0 => format!("{whole}.{}", h / 10),
            h => format!("{whole}.{h:02}"),
        }
    }
}

/// An `fs` resource.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FsPlan {
    /// `dir`: the mount point inside the zone.
    pub dir: String,
    /// `special`: a global-zone path, a dataset, or `swap` for tmpfs.
    pub special: String,
    /// `type`: `zfs`, `lofs` or `tmpfs`.
    pub fs_type: String,
    /// `options`, such as `ro`, `nodevices`, `size=64m`.
    pub options: Vec<String>,
}

/// A dataset to create before the zone is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeDataset {
    /// The full dataset name.
    pub name: String,
    /// The `quota`, in bytes, from `sizeLimit`.
    pub quota_bytes: Option<u64>,
}

/// The zone a pod runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZonePlan {
    /// The zone name ([`naming::zone_name`]).
    pub zone_name: String,
    /// The brand.
    pub brand: String,
    /// The zonepath.
    pub zonepath: String,
    /// Always false: the agent boots pods.
    pub autoboot: bool,
    /// Always exclusive.
    pub ip_type: IpType,
    /// The one network interface.
    pub net: NetPlan,
    /// `capped-cpu`.
    pub cpu_cap: Option<CpuCap>,
    /// `capped-memory physical`, in bytes (a multiple of 1 KiB, at least 1 MiB).
    pub physical_memory: Option<u64>,
    /// The `zone.max-lwps` rctl.
    pub max_lwps: Option<u32>,
    /// `fs` resources, in a stable order.
    pub filesystems: Vec<FsPlan>,
    /// String `attr` resources, as (name, value).
    pub attrs: Vec<(String, String)>,
    /// Datasets to create (emptyDir volumes) before configuring the zone.
    pub volume_datasets: Vec<VolumeDataset>,
    /// The parent of `volume_datasets`, destroyed recursively when the pod goes.
    pub volume_dataset_parent: Option<String>,
    /// Global-zone directories the agent must fill before boot (configMap, secret, …).
    pub prepared_dirs: Vec<String>,
}

/// Why a pod cannot be planned as a zone.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The pod has no spec.
    #[error("pod {pod} has no spec")]
    MissingSpec {
        /// `namespace/name`.
        pod: String,
    },
    /// A resource quantity does not parse.
    #[error("pod {pod}: container {container} has an invalid {resource} quantity '{value}'")]
    InvalidQuantity {
        /// `namespace/name`.
        pod: String,
        /// The container (or volume) name.
        container: String,
        /// `cpu`, `memory` or `sizeLimit`.
        resource: String,
        /// The quantity text.
        value: String,
    },
    /// The requested brand is not installed on the node.
    #[error("pod {pod}: brand '{brand}' is not available on this node (available: {available:?})")]
    UnsupportedBrand {
        /// `namespace/name`.
        pod: String,
        /// The requested brand.
        brand: String,
        /// The node's brands.
        available: Vec<String>,
    },
    /// A hostPath lies outside the allowed prefixes.
    #[error("pod {pod}: hostPath volume {volume} path '{path}' is not under an allowed prefix")]
    HostPathNotAllowed {
        /// `namespace/name`.
        pod: String,
        /// The volume name.
        volume: String,
        /// The host path.
        path: String,
    },
    /// A volume type (or mount feature) this node cannot provide.
    #[error("pod {pod}: volume {volume}: {detail}")]
    UnsupportedVolume {
        /// `namespace/name`.
        pod: String,
        /// The volume name.
        volume: String,
        /// What is unsupported.
        detail: String,
    },
    /// A string that would reach zonecfg cannot be quoted safely.
    #[error("pod {pod}: {field} '{value}' {reason}")]
    UnsafeValue {
        /// `namespace/name`.
        pod: String,
        /// Where the value came from.
        field: String,
        /// The value (escaped for display).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The pod network is unusable.
    #[error("pod {pod}: invalid network: {detail}")]
    InvalidNetwork {
        /// `namespace/name`.
        pod: String,
        /// What is wrong.
        detail: String,
    },
}

/// Plans the zone for `pod` on `node` with `network`.
pub fn plan_zone(pod: &Pod, node: &NodeProfile, network: &PodNetwork) -> Result<ZonePlan, PlanError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let id = format!("{namespace}/{name}");
    let spec = pod.spec.as_ref().ok_or_else(|| PlanError::MissingSpec { pod: id.clone() })?;
    let annotations = pod.metadata.annotations.clone().unwrap_or_default();
    let zone_name = naming::zone_name(namespace, name);
    let brand = choose_brand(&id, annotations.get(BRAND_ANNOTATION).map(String::as_str), node)?;

    let init = spec.init_containers.as_deref().unwrap_or_default();
    let cpu = effective_limit(&id, &spec.containers, init, "cpu")?;
    let memory = effective_limit(&id, &spec.containers, init, "memory")?;
    let cpu_cap = cpu
        .filter(|q| q.millis() > 0)
        .map(|q| CpuCap { percent: u32::try_from((q.millis() + 9) / 10).unwrap_or(u32::MAX) });
    let physical_memory = memory.filter(|q| q.units() > 0).map(|q| {
        let bytes = u64::try_from(q.units()).unwrap_or(u64::MAX);
        bytes.div_ceil(1024).saturating_mul(1024).max(MIN_PHYSICAL_MEMORY)
    });

    let volumes = plan_volumes(&id, &zone_name, spec.volumes.as_deref().unwrap_or_default(), spec, node)?;
    let mut attrs =
        vec![("reddwarf-namespace".to_string(), namespace.to_string()), ("reddwarf-pod".to_string(), name.to_string())];
    if let Some(uid) = &pod.metadata.uid {
        attrs.push(("reddwarf-pod-uid".to_string(), uid.clone()));
    }
    for (key, value) in &annotations {
        if let Some(attr) = key.strip_prefix(ATTR_ANNOTATION_PREFIX) {
            check_attr_name(&id, attr)?;
            attrs.push((attr.to_string(), value.clone()));
        }
    }
    for (attr, value) in &attrs {
        check_quotable(&id, &format!("attr {attr}"), value)?;
    }

    Ok(ZonePlan {
        zonepath: format!("{}/{zone_name}", node.zonepath_root.trim_end_matches('/')),
        net: plan_net(&id, &brand, network)?,
        zone_name,
        brand,
        autoboot: false,
        ip_type: IpType::Exclusive,
        cpu_cap,
        physical_memory,
        max_lwps: node.max_lwps,
        filesystems: volumes.filesystems,
        attrs,
        volume_dataset_parent: (!volumes.datasets.is_empty()).then_some(volumes.dataset_parent),
        volume_datasets: volumes.datasets,
        prepared_dirs: volumes.prepared_dirs,
    })
}

fn choose_brand(pod: &str, requested: Option<&str>, node: &NodeProfile) -> Result<String, PlanError> {
    let default = if node.brands.is_empty() || node.brands.iter().any(|b| b == DEFAULT_BRAND) {
        DEFAULT_BRAND
    } else {
        &node.brands[0]
    };
    match requested {
        None => Ok(default.to_string()),
        Some(brand) if brand == default || node.brands.iter().any(|b| b == brand) => Ok(brand.to_string()),
        Some(brand) => Err(PlanError::UnsupportedBrand {
            pod: pod.to_string(),
            brand: brand.to_string(),
            available: node.brands.clone(),
        }),
    }
}

fn plan_net(pod: &str, brand: &str, network: &PodNetwork) -> Result<NetPlan, PlanError> {
    let invalid = |detail: String| PlanError::InvalidNetwork { pod: pod.to_string(), detail };
    naming::check_link_name(&network.vnic).map_err(|e| invalid(e.to_string()))?;
    let max_prefix = if network.address.is_ipv4() { 32 } else { 128 };
    if network.prefix_len > max_prefix {
        return Err(invalid(format!("prefix length {} is too long for {}", network.prefix_len, network.address)));
    }
    let address = format!("{}/{}", network.address, network.prefix_len);
    let gateway = network.gateway.map(|g| g.to_string());
    if brand == "lx" {
        // The lx brand configures its network from `property` entries, not allowed-address.
        let mut properties = vec![("ips".to_string(), address)];
        if let Some(gateway) = gateway {
            properties.push(("gateway".to_string(), gateway));
        }
        properties.push(("primary".to_string(), "true".to_string()));
        return Ok(NetPlan { physical: network.vnic.clone(), allowed_address: None, defrouter: None, properties });
    }
    Ok(NetPlan {
        physical: network.vnic.clone(),
        allowed_address: Some(address),
        defrouter: gateway,
        properties: Vec::new(),
    })
}

/// The pod's effective limit for one resource, or `None` when it is unbounded.
fn effective_limit(
    pod: &str,
    app: &[Container],
    init: &[Container],
    resource: &str,
) -> Result<Option<Quantity>, PlanError> {
    let mut app_sum = Quantity::ZERO;
    for container in app {
        match container_limit(pod, container, resource)? {
            Some(q) => app_sum = app_sum.plus(q),
            None => return Ok(None),
        }
    }
    let mut init_max = Quantity::ZERO;
    for container in init {
        match container_limit(pod, container, resource)? {
            Some(q) => init_max = init_max.max(q),
            None => return Ok(None),
        }
    }
    Ok(Some(app_sum.max(init_max)))
}

fn container_limit(pod: &str, container: &Container, resource: &str) -> Result<Option<Quantity>, PlanError> {
    let Some(resources) = &container.resources else { return Ok(None) };
    let value = resources
        .limits
        .as_ref()
        .and_then(|l| l.get(resource))
        .or_else(|| resources.requests.as_ref().and_then(|r| r.get(resource)));
    value
        .map(|q| {
            parse_quantity(&q.0).map_err(|_| PlanError::InvalidQuantity {
                pod: pod.to_string(),
                container: container.name.clone(),
                resource: resource.to_string(),
                value: q.0.clone(),
            })
        })
        .transpose()
}

struct VolumePlan {
    filesystems: Vec<FsPlan>,
    datasets: Vec<VolumeDataset>,
    dataset_parent: String,
    prepared_dirs: Vec<String>,
}

fn plan_volumes(
    pod: &str,
    zone: &str,
    volumes: &[Volume],
    spec: &crate::model::k8s::core::v1::PodSpec,
    node: &NodeProfile,
) -> Result<VolumePlan, PlanError> {
    let unsupported = |volume: &str, detail: String| PlanError::UnsupportedVolume {
        pod: pod.to_string(),
        volume: volume.to_string(),
        detail,
    };
    // Volume name → mount path → read-only (read-write wins when containers disagree).
    let mut mounts: BTreeMap<&str, BTreeMap<&str, bool>> = BTreeMap::new();
    let containers = spec.init_containers.iter().flatten().chain(spec.containers.iter());
    for mount in containers.flat_map(|c| c.volume_mounts.iter().flatten()) {
        if mount.sub_path.as_deref().is_some_and(|s| !s.is_empty())
            || mount.sub_path_expr.as_deref().is_some_and(|s| !s.is_empty())
        {
            return Err(unsupported(&mount.name, "subPath mounts are not supported".into()));
        }
        check_path(pod, "mountPath", &mount.mount_path)?;
        let read_only = mount.read_only.unwrap_or(false);
        let entry = mounts.entry(mount.name.as_str()).or_default().entry(mount.mount_path.as_str()).or_insert(true);
        *entry &= read_only;
    }

    let dataset_parent = format!("{}/{zone}", node.volume_dataset_root.trim_end_matches('/'));
    let mut plan =
        VolumePlan { filesystems: Vec::new(), datasets: Vec::new(), dataset_parent, prepared_dirs: Vec::new() };
    let known: BTreeSet<&str> = volumes.iter().map(|v| v.name.as_str()).collect();
    if let Some(name) = mounts.keys().find(|name| !known.contains(*name)) {
        return Err(unsupported(name, "is mounted but not declared in spec.volumes".into()));
    }
    for volume in volumes {
        let Some(paths) = mounts.get(volume.name.as_str()) else { continue };
        let options = |read_only: bool, extra: &[String]| {
            let mut options: Vec<String> = extra.to_vec();
            if read_only {
                options.insert(0, "ro".to_string());
            }
            options
        };
        let single_path = || -> Result<(&str, bool), PlanError> {
            match paths.iter().collect::<Vec<_>>().as_slice() {
                [(path, read_only)] => Ok((path, **read_only)),
                _ => Err(unsupported(&volume.name, "an emptyDir may be mounted at only one path".into())),
            }
        };
        if let Some(empty_dir) = &volume.empty_dir {
            let size = empty_dir
                .size_limit
                .as_ref()
                .map(|q| {
                    parse_quantity(&q.0).map(|q| u64::try_from(q.units()).unwrap_or(0)).map_err(|_| {
                        PlanError::InvalidQuantity {
                            pod: pod.to_string(),
                            container: volume.name.clone(),
                            resource: "sizeLimit".into(),
                            value: q.0.clone(),
                        }
                    })
                })
                .transpose()?
                .filter(|&bytes| bytes > 0);
            let (path, read_only) = single_path()?;
            if empty_dir.medium.as_deref() == Some("Memory") {
                let extra: Vec<String> =
                    size.map(|bytes| format!("size={}k", bytes.div_ceil(1024))).into_iter().collect();
                plan.filesystems.push(FsPlan {
                    dir: path.to_string(),
                    special: "swap".into(),
                    fs_type: "tmpfs".into(),
                    options: options(read_only, &extra),
                });
            } else {
                let dataset = format!("{}/{}", plan.dataset_parent, volume.name);
                plan.datasets.push(VolumeDataset { name: dataset.clone(), quota_bytes: size });
                plan.filesystems.push(FsPlan {
                    dir: path.to_string(),
                    special: dataset,
                    fs_type: "zfs".into(),
                    options: options(read_only, &[]),
                });
            }
        } else if let Some(host_path) = &volume.host_path {
            check_path(pod, "hostPath", &host_path.path)?;
            if !node.host_path_prefixes.iter().any(|prefix| is_under(&host_path.path, prefix)) {
                return Err(PlanError::HostPathNotAllowed {
                    pod: pod.to_string(),
                    volume: volume.name.clone(),
                    path: host_path.path.clone(),
                });
            }
            for (path, read_only) in paths {
                plan.filesystems.push(FsPlan {
                    dir: path.to_string(),
                    special: host_path.path.clone(),
                    fs_type: "lofs".into(),
                    options: options(*read_only, &["nodevices".to_string()]),
                });
            }
        } else if volume.config_map.is_some()
            || volume.secret.is_some()
            || volume.projected.is_some()
            || volume.downward_api.is_some()
        {
            let dir = format!("{}/{zone}/{}", node.volume_dir_root.trim_end_matches('/'), volume.name);
            for path in paths.keys() {
                plan.filesystems.push(FsPlan {
                    dir: path.to_string(),
                    special: dir.clone(),
                    fs_type: "lofs".into(),
                    options: vec!["ro".into(), "nodevices".into()],
                });
            }
            plan.prepared_dirs.push(dir);
        } else {
            return Err(unsupported(&volume.name, "this volume type is not supported on illumos nodes".into()));
        }
    }
    plan.filesystems.sort();
    Ok(plan)
}

/// True when `path` is `prefix` or lies below it (by whole components).
fn is_under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return path.starts_with('/');
    }
    path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// An absolute, normalised path that can be quoted for zonecfg.
fn check_path(pod: &str, field: &str, path: &str) -> Result<(), PlanError> {
    let fail = |reason| {
        Err(PlanError::UnsafeValue {
            pod: pod.to_string(),
            field: field.to_string(),
            value: path.escape_debug().to_string(),
            reason,
        })
    };
    if !path.starts_with('/') || path == "/" {
        return fail("must be an absolute path below /");
    }
    if path.split('/').any(|component| component == ".." || component == ".") {
        return fail("must not contain '.' or '..' components");
    }
    check_quotable(pod, field, path)
}

/// zonecfg values are double-quoted with no escapes (see [`quotable_problem`]).
fn check_quotable(pod: &str, field: &str, value: &str) -> Result<(), PlanError> {
    let Some(reason) = quotable_problem(value) else { return Ok(()) };
    Err(PlanError::UnsafeValue {
        pod: pod.to_string(),
        field: field.to_string(),
        value: value.escape_debug().to_string(),
        reason,
    })
}

fn check_attr_name(pod: &str, name: &str) -> Result<(), PlanError> {
    let Some(reason) = attr_name_problem(name) else { return Ok(()) };
    Err(PlanError::UnsafeValue {
        pod: pod.to_string(),
        field: "attr name".into(),
        value: name.escape_debug().to_string(),
        reason,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A representative pod, shared with the zonecfg golden test.
    pub(crate) fn representative_pod() -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "web-1",
                "namespace": "shop",
                "uid": "3f7c2a10-8c51-4b62-9a0e-2f6d1c9b7e11",
                "annotations": {
                    "reddwarf.io/zone-brand": "sparse",
                    "zone-attr.reddwarf.io/resolvers": "10.96.0.10",
                    "zone-attr.reddwarf.io/note": "a; delete -F",
                    "unrelated": "x\"; delete -F"
                }
            },
            "spec": {
                "initContainers": [{
                    "name": "migrate",
                    "image": "migrate",
                    "resources": {"limits": {"cpu": "2", "memory": "256Mi"}}
                }],
                "containers": [
                    {
                        "name": "app",
                        "image": "app",
                        "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
                        "volumeMounts": [
                            {"name": "cache", "mountPath": "/var/cache/app"},
                            {"name": "logs", "mountPath": "/var/log/host", "readOnly": true},
                            {"name": "config", "mountPath": "/etc/app"}
                        ]
                    },
                    {
                        "name": "sidecar",
                        "image": "sidecar",
                        "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}},
                        "volumeMounts": [
                            {"name": "cache", "mountPath": "/var/cache/app", "readOnly": true},
                            {"name": "scratch", "mountPath": "/tmp/scratch"}
                        ]
                    }
                ],
                "volumes": [
                    {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
                    {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                    {"name": "logs", "hostPath": {"path": "/var/log/pods"}},
                    {"name": "config", "configMap": {"name": "app-config"}},
                    {"name": "unused", "emptyDir": {}}
                ]
            }
        }))
        .unwrap()
    }

    pub(crate) fn representative_node() -> NodeProfile {
        NodeProfile { host_path_prefixes: vec!["/var/log".into()], ..NodeProfile::default() }
    }

    pub(crate) fn representative_network() -> PodNetwork {
        PodNetwork {
            vnic: naming::vnic_name("shop", "web-1"),
            address: "10.0.0.7".parse().unwrap(),
            prefix_len: 24,
            gateway: Some("10.0.0.1".parse().unwrap()),
        }
    }

    fn pod_with(spec: serde_json::Value, annotations: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "annotations": annotations},
            "spec": spec,
        }))
        .unwrap()
    }

    fn container(resources: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"name": "c", "image": "i", "resources": resources})
    }

    fn plan(pod: &Pod) -> Result<ZonePlan, PlanError> {
        plan_zone(pod, &representative_node(), &representative_network())
    }

    #[test]
    fn representative_pod_plan() {
        let plan = plan(&representative_pod()).unwrap();
        assert_eq!(plan.zone_name, "shop_web-1");
        assert_eq!(plan.brand, "sparse");
        assert_eq!(plan.zonepath, "/pods/shop_web-1");
        assert!(!plan.autoboot);
        assert_eq!(plan.ip_type, IpType::Exclusive);
        assert_eq!(plan.net.allowed_address.as_deref(), Some("10.0.0.7/24"));
        assert_eq!(plan.net.defrouter.as_deref(), Some("10.0.0.1"));
        // app containers: 1 + 0.25 CPU, 512Mi + 64Mi; the init container's 2 CPU is larger.
        assert_eq!(plan.cpu_cap, Some(CpuCap { percent: 200 }));
        assert_eq!(plan.physical_memory, Some(576 << 20));
        assert_eq!(plan.max_lwps, Some(2000));
        assert_eq!(
            plan.volume_datasets,
            [VolumeDataset { name: "rpool/reddwarf/volumes/shop_web-1/cache".into(), quota_bytes: Some(1 << 30) }]
        );
        assert_eq!(plan.volume_dataset_parent.as_deref(), Some("rpool/reddwarf/volumes/shop_web-1"));
        assert_eq!(plan.prepared_dirs, ["/var/lib/reddwarf/volumes/shop_web-1/config"]);
        let dirs: Vec<(&str, &str, &[String])> =
            plan.filesystems.iter().map(|f| (f.dir.as_str(), f.fs_type.as_str(), f.options.as_slice())).collect();
        assert_eq!(
            dirs,
            [
                ("/etc/app", "lofs", &["ro".to_string(), "nodevices".to_string()][..]),
                ("/tmp/scratch", "tmpfs", &["size=65536k".to_string()][..]),
                // Read-write wins: one container mounts the cache read-write.
                ("/var/cache/app", "zfs", &[][..]),
                ("/var/log/host", "lofs", &["ro".to_string(), "nodevices".to_string()][..]),
            ]
        );
        let attrs: Vec<(&str, &str)> = plan.attrs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(
            attrs,
            [
                ("reddwarf-namespace", "shop"),
                ("reddwarf-pod", "web-1"),
                ("reddwarf-pod-uid", "3f7c2a10-8c51-4b62-9a0e-2f6d1c9b7e11"),
                ("note", "a; delete -F"),
                ("resolvers", "10.96.0.10"),
            ]
        );
    }

    #[test]
    fn cpu_and_memory_caps() {
        let cases = [
            // (containers' resources, expected cpu percent, expected memory bytes)
            (vec![serde_json::json!({"limits": {"cpu": "1500m", "memory": "1Gi"}})], Some(150), Some(1 << 30)),
            (vec![serde_json::json!({"requests": {"cpu": "100m", "memory": "100M"}})], Some(10), Some(100_000_768)),
            (vec![serde_json::json!({"limits": {"cpu": "1m", "memory": "1"}})], Some(1), Some(MIN_PHYSICAL_MEMORY)),
            (vec![serde_json::json!({"limits": {"cpu": "1"}}), serde_json::json!({})], None, None),
            (
                vec![
                    serde_json::json!({"limits": {"cpu": "250m"}, "requests": {"cpu": "100m"}}),
                    serde_json::json!({"requests": {"cpu": "333m"}}),
                ],
                Some(59),
                None,
            ),
            (vec![serde_json::json!({"limits": {"cpu": "0"}})], None, None),
        ];
        for (resources, cpu, memory) in cases {
            let containers: Vec<_> = resources.into_iter().map(container).collect();
            let plan = plan(&pod_with(serde_json::json!({"containers": containers}), serde_json::json!({}))).unwrap();
            assert_eq!(plan.cpu_cap.map(|c| c.percent), cpu);
            assert_eq!(plan.physical_memory, memory);
        }
    }

    #[test]
    fn ncpus_rendering() {
        for (percent, text) in [(100, "1"), (150, "1.5"), (25, "0.25"), (5, "0.05"), (210, "2.1"), (1234, "12.34")] {
            assert_eq!(CpuCap { percent }.ncpus(), text);
        }
    }

    #[test]
    fn brand_choice() {
        let node = representative_node();
        let network = representative_network();
        let brand = |annotations, node: &NodeProfile| {
            let pod = pod_with(serde_json::json!({"containers": [container(serde_json::json!({}))]}), annotations);
            plan_zone(&pod, node, &network).map(|p| p.brand)
        };
        assert_eq!(brand(serde_json::json!({}), &node).unwrap(), "lipkg");
        assert_eq!(brand(serde_json::json!({BRAND_ANNOTATION: "sparse"}), &node).unwrap(), "sparse");
        assert!(matches!(
            brand(serde_json::json!({BRAND_ANNOTATION: "sparse; delete -F"}), &node),
            Err(PlanError::UnsupportedBrand { .. })
        ));
        let lx_only = NodeProfile { brands: vec!["lx".into(), "bhyve".into()], ..node.clone() };
        assert_eq!(brand(serde_json::json!({}), &lx_only).unwrap(), "lx");
        assert!(brand(serde_json::json!({BRAND_ANNOTATION: "lipkg"}), &lx_only).is_err());
    }

    #[test]
    fn lx_zones_use_net_properties() {
        let node = NodeProfile { brands: vec!["lx".into()], ..representative_node() };
        let pod =
            pod_with(serde_json::json!({"containers": [container(serde_json::json!({}))]}), serde_json::json!({}));
        let net = plan_zone(&pod, &node, &representative_network()).unwrap().net;
        assert_eq!(net.allowed_address, None);
        assert_eq!(
            net.properties,
            [
                ("ips".into(), "10.0.0.7/24".into()),
                ("gateway".into(), "10.0.0.1".into()),
                ("primary".into(), "true".into())
            ]
        );
    }

    #[test]
    fn host_paths_are_confined() {
        let spec = |path: &str| {
            serde_json::json!({
                "containers": [{"name": "c", "image": "i", "volumeMounts": [{"name": "h", "mountPath": "/h"}]}],
                "volumes": [{"name": "h", "hostPath": {"path": path}}]
            })
        };
        let table = [
            ("/var/log", true),
            ("/var/log/pods", true),
            ("/var/logs", false),
            ("/var/log/../../etc", false),
            ("/etc/shadow", false),
            ("var/log/x", false),
            ("/var/log/\"x", false),
        ];
        for (path, allowed) in table {
            let result = plan(&pod_with(spec(path), serde_json::json!({})));
            assert_eq!(result.is_ok(), allowed, "{path}: {result:?}");
        }
    }

    #[test]
    fn unsafe_values_are_rejected() {
        let containers = serde_json::json!({"containers": [container(serde_json::json!({}))]});
        for value in ["x\"; delete -F; \"", "line\nadd attr", "back\\slash", "tab\there"] {
            let annotations = serde_json::json!({"zone-attr.reddwarf.io/note": value});
            let error = plan(&pod_with(containers.clone(), annotations)).unwrap_err();
            assert!(matches!(error, PlanError::UnsafeValue { .. }), "{value:?}: {error:?}");
        }
        for name in ["zonename", "reddwarf-pod", "-x", "a b", "a;b"] {
            let annotations = serde_json::json!({format!("{ATTR_ANNOTATION_PREFIX}{name}"): "v"});
            assert!(plan(&pod_with(containers.clone(), annotations)).is_err(), "{name}");
        }
        // A semicolon is harmless inside a quoted value, so it is kept.
        let annotations = serde_json::json!({"zone-attr.reddwarf.io/note": "a; b"});
        assert!(plan(&pod_with(containers, annotations)).is_ok());
    }

    #[test]
    fn unsupported_volumes_and_mounts() {
        let with = |volume: serde_json::Value, mounts: serde_json::Value| {
            plan(&pod_with(
                serde_json::json!({
                    "containers": [{"name": "c", "image": "i", "volumeMounts": mounts}],
                    "volumes": [volume]
                }),
                serde_json::json!({}),
            ))
        };
        let pvc = serde_json::json!({"name": "v", "persistentVolumeClaim": {"claimName": "c"}});
        assert!(matches!(
            with(pvc, serde_json::json!([{"name": "v", "mountPath": "/v"}])),
            Err(PlanError::UnsupportedVolume { .. })
        ));
        let empty = serde_json::json!({"name": "v", "emptyDir": {}});
        let two_paths = serde_json::json!([{"name": "v", "mountPath": "/a"}, {"name": "v", "mountPath": "/b"}]);
        assert!(matches!(with(empty.clone(), two_paths), Err(PlanError::UnsupportedVolume { .. })));
        let sub_path = serde_json::json!([{"name": "v", "mountPath": "/a", "subPath": "x"}]);
        assert!(matches!(with(empty.clone(), sub_path), Err(PlanError::UnsupportedVolume { .. })));
        let undeclared = serde_json::json!([{"name": "w", "mountPath": "/a"}]);
        assert!(matches!(with(empty.clone(), undeclared), Err(PlanError::UnsupportedVolume { .. })));
        let bad_size = serde_json::json!({"name": "v", "emptyDir": {"sizeLimit": "lots"}});
        assert!(matches!(
            with(bad_size, serde_json::json!([{"name": "v", "mountPath": "/a"}])),
            Err(PlanError::InvalidQuantity { .. })
        ));
        let root = serde_json::json!([{"name": "v", "mountPath": "/"}]);
        assert!(matches!(with(empty, root), Err(PlanError::UnsafeValue { .. })));
    }

    #[test]
    fn invalid_network_and_missing_spec() {
        let pod = pod_with(serde_json::json!({"containers": []}), serde_json::json!({}));
        let bad_vnic = PodNetwork { vnic: "net01".into(), ..representative_network() };
        assert!(matches!(plan_zone(&pod, &representative_node(), &bad_vnic), Err(PlanError::InvalidNetwork { .. })));
        let bad_prefix = PodNetwork { prefix_len: 33, ..representative_network() };
        assert!(matches!(plan_zone(&pod, &representative_node(), &bad_prefix), Err(PlanError::InvalidNetwork { .. })));
        let no_spec = Pod { spec: None, ..pod };
        assert!(matches!(plan(&no_spec), Err(PlanError::MissingSpec { .. })));
    }
}
