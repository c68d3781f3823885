//! Server-side defaulting, so that objects read back look like a real cluster's (`kubectl
//! get -o yaml`, `kubectl describe`): the defaults of the upstream API types plus those the
//! standard admission plugins add (service account, default tolerations).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::model::k8s::core::v1::{
    Container, EmptyDirVolumeSource, Namespace, NamespaceSpec, NamespaceStatus, Pod, PodSecurityContext, PodSpec,
    Probe, ResourceRequirements, Secret, Service, ServiceSpec, Toleration, Volume,
};
use crate::model::quantity::parse_quantity;

/// How long pods tolerate a not-ready or unreachable node before eviction (upstream's
/// DefaultTolerationSeconds admission plugin).
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;
/// The taint a node gets when it is not ready.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The taint a node gets when its heartbeats stop.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The default grace period for pod termination.
pub const DEFAULT_TERMINATION_GRACE_SECONDS: i64 = 30;

fn set<T>(field: &mut Option<T>, value: T) {
    if field.is_none() {
        *field = Some(value);
    }
}

/// Defaults a pod's spec and, when `fresh` (a create), resets its status to Pending.
pub fn default_pod(pod: &mut Pod, fresh: bool) {
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    default_pod_spec(spec);
    if fresh {
        let status = pod.status.get_or_insert_with(Default::default);
        *status = Default::default();
        status.phase = Some("Pending".into());
        status.qos_class = Some(qos_class(spec).into());
    } else if let Some(status) = &mut pod.status {
        set(&mut status.qos_class, qos_class(spec).into());
    }
}

/// Defaults a pod spec (also used for pod templates).
pub fn default_pod_spec(spec: &mut PodSpec) {
    set(&mut spec.restart_policy, "Always".into());
    set(&mut spec.termination_grace_period_seconds, DEFAULT_TERMINATION_GRACE_SECONDS);
    if let Some(grace) = &mut spec.termination_grace_period_seconds
        && *grace < 0
    {
        // Upstream turns a negative grace period into the shortest real one.
        *grace = 1;
    }
    set(&mut spec.dns_policy, "ClusterFirst".into());
    set(&mut spec.scheduler_name, "default-scheduler".into());
    set(&mut spec.security_context, PodSecurityContext::default());
    set(&mut spec.service_account_name, "default".into());
    spec.service_account = spec.service_account_name.clone();
    set(&mut spec.enable_service_links, true);
    if spec.priority_class_name.is_none() {
        set(&mut spec.priority, 0);
    }
    set(&mut spec.preemption_policy, "PreemptLowerPriority".into());
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in [TAINT_NOT_READY, TAINT_UNREACHABLE] {
        let covered = tolerations.iter().any(|t| {
            (t.key.as_deref() == Some(key) || t.key.is_none() && t.operator.as_deref() == Some("Exists"))
                && t.effect.as_deref().is_none_or(|e| e == "NoExecute")
        });
        if !covered {
            tolerations.push(Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
                value: None,
            });
        }
    }
    for container in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()) {
        default_container(container);
    }
    for volume in spec.volumes.iter_mut().flatten() {
        default_volume(volume);
    }
}

fn default_container(container: &mut Container) {
    if container.image_pull_policy.is_none() {
        let image = container.image.as_deref().unwrap_or("");
        let last = image.rsplit('/').next().unwrap_or("");
        let tag = last.split_once('@').map(|(n, _)| n).unwrap_or(last).split_once(':').map(|(_, t)| t);
        let always = !image.contains('@') && tag.is_none_or(|t| t == "latest");
        container.image_pull_policy = Some(if always { "Always" } else { "IfNotPresent" }.into());
    }
    set(&mut container.termination_message_path, "/dev/termination-log".into());
    set(&mut container.termination_message_policy, "File".into());
    let resources = container.resources.get_or_insert_with(ResourceRequirements::default);
    // A limit without a request means the request equals the limit.
    if let Some(limits) = &resources.limits {
        let requests = resources.requests.get_or_insert_with(BTreeMap::new);
        for (name, value) in limits {
            requests.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    for port in container.ports.iter_mut().flatten() {
        set(&mut port.protocol, "TCP".into());
    }
    for probe in [&mut container.liveness_probe, &mut container.readiness_probe, &mut container.startup_probe]
        .into_iter()
        .flatten()
    {
        default_probe(probe);
    }
    for env in container.env.iter_mut().flatten() {
        if let Some(field) = env.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            set(&mut field.api_version, "v1".into());
        }
    }
}

fn default_probe(probe: &mut Probe) {
    set(&mut probe.timeout_seconds, 1);
    set(&mut probe.period_seconds, 10);
    set(&mut probe.success_threshold, 1);
    set(&mut probe.failure_threshold, 3);
    if let Some(http) = &mut probe.http_get {
        set(&mut http.scheme, "HTTP".into());
        set(&mut http.path, "/".into());
    }
}

fn default_volume(volume: &mut Volume) {
    let has_source = volume.empty_dir.is_some()
        || volume.host_path.is_some()
        || volume.config_map.is_some()
        || volume.secret.is_some()
        || volume.persistent_volume_claim.is_some()
        || volume.projected.is_some()
        || volume.downward_api.is_some()
        || volume.nfs.is_some()
        || volume.csi.is_some()
        || volume.ephemeral.is_some()
        || volume.image.is_some();
    if !has_source {
        volume.empty_dir = Some(EmptyDirVolumeSource::default());
    }
    if let Some(cm) = &mut volume.config_map {
        set(&mut cm.default_mode, 0o644);
    }
    if let Some(secret) = &mut volume.secret {
        set(&mut secret.default_mode, 0o644);
    }
    if let Some(host) = &mut volume.host_path {
        set(&mut host.type_, String::new());
    }
}

/// The QoS class of a pod: Guaranteed when every container has equal cpu and memory
/// requests and limits, BestEffort when none has any, Burstable otherwise.
pub fn qos_class(spec: &PodSpec) -> &'static str {
    let containers: Vec<&Container> = spec.containers.iter().chain(spec.init_containers.iter().flatten()).collect();
    let mut any = false;
    let mut guaranteed = true;
    for container in containers {
        let resources = container.resources.clone().unwrap_or_default();
        let requests = resources.requests.unwrap_or_default();
        let limits = resources.limits.unwrap_or_default();
        let nonzero = |m: &BTreeMap<String, WireQuantity>, k: &str| {
            m.get(k).and_then(|q| parse_quantity(&q.0).ok()).is_some_and(|q| q.millis() != 0)
        };
        for name in ["cpu", "memory"] {
            if nonzero(&requests, name) || nonzero(&limits, name) {
                any = true;
            }
            let request = requests.get(name).and_then(|q| parse_quantity(&q.0).ok());
            let limit = limits.get(name).and_then(|q| parse_quantity(&q.0).ok());
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Defaults a namespace: the `kubernetes` finalizer, phase Active, and the immutable
/// `kubernetes.io/metadata.name` label.
pub fn default_namespace(namespace: &mut Namespace) {
    let spec = namespace.spec.get_or_insert_with(NamespaceSpec::default);
    set(&mut spec.finalizers, vec!["kubernetes".into()]);
    let status = namespace.status.get_or_insert_with(NamespaceStatus::default);
    set(&mut status.phase, "Active".into());
    if let Some(name) = namespace.metadata.name.clone() {
        namespace.metadata.labels.get_or_insert_with(BTreeMap::new).insert("kubernetes.io/metadata.name".into(), name);
    }
}

/// Defaults a service: type ClusterIP, session affinity None, TCP ports whose target
/// port is the port, cluster traffic policy.
pub fn default_service(service: &mut Service) {
    let spec = service.spec.get_or_insert_with(ServiceSpec::default);
    set(&mut spec.type_, "ClusterIP".into());
    set(&mut spec.session_affinity, "None".into());
    if spec.type_.as_deref() != Some("ExternalName") {
        set(&mut spec.internal_traffic_policy, "Cluster".into());
    }
    for port in spec.ports.iter_mut().flatten() {
        set(&mut port.protocol, "TCP".into());
        set(&mut port.target_port, IntOrString::Int(port.port));
    }
    set(&mut service.status, Default::default());
}

/// Defaults a secret's type to Opaque.
pub fn default_secret(secret: &mut Secret) {
    set(&mut secret.type_, "Opaque".into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    #[test]
    fn pods_look_like_a_real_clusters() {
        let mut p = pod(json!({"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]}));
        default_pod(&mut p, true);
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
        assert_eq!(spec.termination_grace_period_seconds, Some(30));
        assert_eq!(spec.service_account_name.as_deref(), Some("default"));
        assert_eq!(spec.tolerations.as_ref().unwrap().len(), 2);
        let c = &spec.containers[0];
        assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
        assert_eq!(c.ports.as_ref().unwrap()[0].protocol.as_deref(), Some("TCP"));
        let status = p.status.as_ref().unwrap();
        assert_eq!(status.phase.as_deref(), Some("Pending"));
        assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
        // Defaulting twice changes nothing.
        let once = serde_json::to_value(&p).unwrap();
        default_pod(&mut p, false);
        assert_eq!(serde_json::to_value(&p).unwrap(), once);
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        for (image, policy) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.27", "IfNotPresent"),
            ("registry:5000/nginx", "Always"),
            ("registry:5000/nginx:1", "IfNotPresent"),
            ("nginx@sha256:abc", "IfNotPresent"),
        ] {
            let mut p = pod(json!({"containers": [{"name": "c", "image": image}]}));
            default_pod(&mut p, true);
            assert_eq!(p.spec.unwrap().containers[0].image_pull_policy.as_deref(), Some(policy), "{image}");
        }
    }

    #[test]
    fn qos_classes() {
        let guaranteed = pod(
            json!({"containers": [{"name": "c", "image": "x", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}),
        );
        let mut g = guaranteed.clone();
        default_pod(&mut g, true);
        assert_eq!(g.status.unwrap().qos_class.as_deref(), Some("Guaranteed"), "requests default to limits");
        let burstable =
            pod(json!({"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "100m"}}}]}));
        assert_eq!(qos_class(burstable.spec.as_ref().unwrap()), "Burstable");
    }

    #[test]
    fn services_and_namespaces() {
        let mut svc: Service =
            serde_json::from_value(json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})).unwrap();
        default_service(&mut svc);
        let spec = svc.spec.unwrap();
        assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
        assert_eq!(spec.ports.unwrap()[0].target_port, Some(IntOrString::Int(80)));
        let mut ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "team"}})).unwrap();
        default_namespace(&mut ns);
        assert_eq!(ns.metadata.labels.unwrap()["kubernetes.io/metadata.name"], "team");
        assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Active"));
    }
}
