//! The per-kind rules of the API: how each kind names its objects, defaults them, and
//! validates them on create and on update. Everything works on the typed `k8s-openapi`
//! structs, so a body that does not decode never reaches these rules.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::model::brands::{BRAND_ANNOTATION, KNOWN_BRANDS, is_known_brand};
use crate::model::defaults;
use crate::model::k8s::coordination::v1::Lease;
use crate::model::k8s::core::v1::{
    ConfigMap, Container, Endpoints, Event, LimitRange, Namespace, Node, Pod, PodSpec, ResourceQuota, Secret, Service,
    ServiceAccount,
};
use crate::model::meta::ObjectMeta;
use crate::model::names::{self, NameRule};
use crate::model::quantity::parse_quantity;
use crate::model::validation::{FieldError, config_key, unique_names, validate_labels, validate_meta};
use crate::model::zone_annotations::{ATTR_ANNOTATION_PREFIX, attr_name_problem, quotable_problem};

/// The rules of one kind.
pub trait ObjectRules:
    k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The rule object names follow.
    const NAME_RULE: NameRule = NameRule::Dns1123Subdomain;
    /// Whether `metadata.generation` counts spec changes.
    const TRACKS_GENERATION: bool = false;

    /// Applies defaults. `fresh` is true on create (status starts over).
    fn apply_defaults(&mut self, _fresh: bool) {}

    /// Kind-specific validation (metadata is validated separately).
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }

    /// Rules about what may change from `old`.
    fn validate_update(&self, _old: &Self) -> Vec<FieldError> {
        Vec::new()
    }

    /// Every validation error of a new or changed object.
    fn all_errors(&self, old: Option<&Self>) -> Vec<FieldError> {
        let mut errors = validate_meta(self.metadata(), Self::NAME_RULE);
        errors.extend(self.validate());
        if let Some(old) = old {
            errors.extend(self.validate_update(old));
        }
        errors
    }
}

fn path(prefix: &str, i: usize, field: &str) -> String {
    format!("{prefix}[{i}].{field}")
}

impl ObjectRules for Pod {
    const TRACKS_GENERATION: bool = true;

    fn apply_defaults(&mut self, fresh: bool) {
        defaults::default_pod(self, fresh);
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errors = match &self.spec {
            Some(spec) => validate_pod_spec(spec, "spec"),
            None => vec![FieldError::required("spec", "")],
        };
        if let Some(brand) = self.metadata.annotations.as_ref().and_then(|a| a.get(BRAND_ANNOTATION))
            && !is_known_brand(brand)
        {
            errors.push(FieldError::unsupported(
                format!("metadata.annotations[{BRAND_ANNOTATION}]"),
                &json!(brand),
                KNOWN_BRANDS,
            ));
        }
        for (key, value) in self.metadata.annotations.iter().flatten() {
            let Some(attr) = key.strip_prefix(ATTR_ANNOTATION_PREFIX) else { continue };
            let field = format!("metadata.annotations[{key}]");
            if let Some(problem) = attr_name_problem(attr) {
                errors.push(FieldError::invalid(field.clone(), &json!(key), format!("zone attribute name {problem}")));
            }
            if let Some(problem) = quotable_problem(value) {
                errors.push(FieldError::invalid(field, &json!(value), format!("zone attribute value {problem}")));
            }
        }
        errors
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        let (Some(new_spec), Some(old_spec)) = (&self.spec, &old.spec) else { return Vec::new() };
        // Upstream lets a pod change only images, activeDeadlineSeconds and tolerations
        // (additions). Reddwarf also lets container ports change: they are informational
        // (a zone exposes whatever its processes listen on), and `kubectl apply` of a
        // manifest that drops a port should work. Everything else is fixed once the pod exists.
        let mut comparable = serde_json::to_value(old_spec).unwrap_or_default();
        let new_value = serde_json::to_value(new_spec).unwrap_or_default();
        for list in ["containers", "initContainers"] {
            if let (Some(old_list), Some(new_list)) =
                (comparable.get_mut(list).and_then(Value::as_array_mut), new_value.get(list).and_then(Value::as_array))
            {
                for (old_c, new_c) in old_list.iter_mut().zip(new_list) {
                    for field in ["image", "ports"] {
                        match new_c.get(field) {
                            Some(v) => old_c[field] = v.clone(),
                            None => {
                                if let Some(c) = old_c.as_object_mut() {
                                    c.remove(field);
                                }
                            }
                        }
                    }
                }
            }
        }
        for field in ["activeDeadlineSeconds", "tolerations"] {
            match new_value.get(field) {
                Some(v) => comparable[field] = v.clone(),
                None => {
                    if let Some(obj) = comparable.as_object_mut() {
                        obj.remove(field);
                    }
                }
            }
        }
        let mut errors = Vec::new();
        if comparable != new_value {
            errors.push(FieldError::forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.containers[*].ports`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
            ));
        }
        let old_tolerations = old_spec.tolerations.clone().unwrap_or_default();
        let new_tolerations = new_spec.tolerations.clone().unwrap_or_default();
        if !old_tolerations.iter().all(|t| new_tolerations.contains(t)) {
            errors.push(FieldError::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
        }
        errors
    }
}

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];

/// Validates a pod spec found at `at` (`spec`, or `spec.template.spec` for templates).
pub fn validate_pod_spec(spec: &PodSpec, at: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let containers_path = format!("{at}.containers");
    if spec.containers.is_empty() {
        errors.push(FieldError::required(&containers_path, ""));
    }
    let volume_names: Vec<&str> = spec.volumes.iter().flatten().map(|v| v.name.as_str()).collect();
    for (i, c) in spec.containers.iter().enumerate() {
        errors.extend(validate_container(c, &containers_path, i, &volume_names));
        errors.extend(crate::model::probes::validate_probes(c, &format!("{containers_path}[{i}]")));
    }
    let init_path = format!("{at}.initContainers");
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        errors.extend(validate_container(c, &init_path, i, &volume_names));
    }
    let all_names = spec.containers.iter().chain(spec.init_containers.iter().flatten()).map(|c| c.name.as_str());
    errors.extend(unique_names(all_names.enumerate(), &containers_path, "name"));
    for (i, volume) in spec.volumes.iter().flatten().enumerate() {
        let field = path(&format!("{at}.volumes"), i, "name");
        for problem in names::dns1123_label(&volume.name) {
            errors.push(FieldError::invalid(&field, &Value::from(volume.name.as_str()), problem));
        }
    }
    errors.extend(unique_names(volume_names.iter().copied().enumerate(), &format!("{at}.volumes"), "name"));
    if let Some(policy) = &spec.restart_policy
        && !RESTART_POLICIES.contains(&policy.as_str())
    {
        errors.push(FieldError::unsupported(format!("{at}.restartPolicy"), &json!(policy), RESTART_POLICIES));
    }
    if let Some(policy) = &spec.dns_policy
        && !DNS_POLICIES.contains(&policy.as_str())
    {
        errors.push(FieldError::unsupported(format!("{at}.dnsPolicy"), &json!(policy), DNS_POLICIES));
    }
    errors.extend(validate_labels(spec.node_selector.as_ref(), &format!("{at}.nodeSelector")));
    for (i, toleration) in spec.tolerations.iter().flatten().enumerate() {
        let base = format!("{at}.tolerations[{i}]");
        match toleration.operator.as_deref() {
            None | Some("Equal") => {
                if toleration.key.as_deref().unwrap_or("").is_empty() {
                    errors.push(FieldError::invalid(
                        format!("{base}.operator"),
                        &json!(toleration.operator),
                        "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                    ));
                }
            }
            Some("Exists") => {
                if !toleration.value.as_deref().unwrap_or("").is_empty() {
                    errors.push(FieldError::invalid(
                        format!("{base}.operator"),
                        &json!(toleration.value),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            Some(other) => {
                errors.push(FieldError::unsupported(format!("{base}.operator"), &json!(other), &["Equal", "Exists"]))
            }
        }
        if let Some(effect) = toleration.effect.as_deref()
            && !effect.is_empty()
            && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect)
        {
            errors.push(FieldError::unsupported(
                format!("{base}.effect"),
                &json!(effect),
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
    if let Some(grace) = spec.active_deadline_seconds
        && grace <= 0
    {
        errors.push(FieldError::invalid(
            format!("{at}.activeDeadlineSeconds"),
            &json!(grace),
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    errors
}

fn validate_container(c: &Container, list: &str, i: usize, volumes: &[&str]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if c.name.is_empty() {
        errors.push(FieldError::required(path(list, i, "name"), ""));
    } else {
        for problem in names::dns1123_label(&c.name) {
            errors.push(FieldError::invalid(path(list, i, "name"), &json!(c.name), problem));
        }
    }
    if c.image.as_deref().unwrap_or("").trim().is_empty() {
        errors.push(FieldError::required(path(list, i, "image"), ""));
    }
    for (p, port) in c.ports.iter().flatten().enumerate() {
        let base = format!("{list}[{i}].ports[{p}]");
        if !(1..=65535).contains(&port.container_port) {
            errors.push(FieldError::invalid(
                format!("{base}.containerPort"),
                &json!(port.container_port),
                "must be between 1 and 65535, inclusive",
            ));
        }
        if let Some(host) = port.host_port
            && !(0..=65535).contains(&host)
        {
            errors.push(FieldError::invalid(
                format!("{base}.hostPort"),
                &json!(host),
                "must be between 1 and 65535, inclusive",
            ));
        }
        if let Some(protocol) = &port.protocol
            && !PROTOCOLS.contains(&protocol.as_str())
        {
            errors.push(FieldError::unsupported(format!("{base}.protocol"), &json!(protocol), PROTOCOLS));
        }
        if let Some(name) = &port.name
            && (name.is_empty()
                || name.len() > 15
                || !names::dns1123_label(name).is_empty()
                || !name.bytes().any(|b| b.is_ascii_lowercase()))
        {
            errors.push(FieldError::invalid(format!("{base}.name"), &json!(name), "must be no more than 15 characters, contain only lowercase letters, digits and '-', and contain at least one letter"));
        }
    }
    for (e, env) in c.env.iter().flatten().enumerate() {
        let valid = !env.name.is_empty()
            && !env.name.as_bytes()[0].is_ascii_digit()
            && env.name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid {
            errors.push(FieldError::invalid(
                format!("{list}[{i}].env[{e}].name"),
                &json!(env.name),
                "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
            ));
        }
    }
    for (m, mount) in c.volume_mounts.iter().flatten().enumerate() {
        if !volumes.contains(&mount.name.as_str()) {
            errors.push(FieldError {
                reason: "FieldValueNotFound",
                message: format!("Not found: {:?}", mount.name),
                field: format!("{list}[{i}].volumeMounts[{m}].name"),
            });
        }
        if mount.mount_path.is_empty() {
            errors.push(FieldError::required(format!("{list}[{i}].volumeMounts[{m}].mountPath"), ""));
        }
    }
    if let Some(resources) = &c.resources {
        errors.extend(validate_resources(
            resources.requests.as_ref(),
            resources.limits.as_ref(),
            &format!("{list}[{i}].resources"),
        ));
    }
    errors
}

fn validate_resources(
    requests: Option<&BTreeMap<String, WireQuantity>>,
    limits: Option<&BTreeMap<String, WireQuantity>>,
    base: &str,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (kind, map) in [("requests", requests), ("limits", limits)] {
        for (name, quantity) in map.into_iter().flatten() {
            let field = format!("{base}.{kind}[{name}]");
            match parse_quantity(&quantity.0) {
                Err(e) => errors.push(FieldError::invalid(field, &json!(quantity.0), e.to_string())),
                Ok(q) if q.is_negative() => {
                    errors.push(FieldError::invalid(field, &json!(quantity.0), "must be greater than or equal to 0"))
                }
                Ok(_) => {}
            }
        }
    }
    for (name, request) in requests.into_iter().flatten() {
        let limit = limits.and_then(|l| l.get(name));
        if let (Ok(r), Some(Ok(l))) = (parse_quantity(&request.0), limit.map(|l| parse_quantity(&l.0)))
            && r > l
        {
            errors.push(FieldError::invalid(
                format!("{base}.requests"),
                &json!(request.0),
                format!("must be less than or equal to {name} limit of {}", limit.map(|l| l.0.as_str()).unwrap_or("")),
            ));
        }
    }
    errors
}

impl ObjectRules for Namespace {
    const NAME_RULE: NameRule = NameRule::Dns1123Label;

    fn apply_defaults(&mut self, _fresh: bool) {
        defaults::default_namespace(self);
    }
}

impl ObjectRules for Node {}

const SERVICE_TYPES: &[&str] = &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];

impl ObjectRules for Service {
    const NAME_RULE: NameRule = NameRule::Dns1035Label;

    fn apply_defaults(&mut self, _fresh: bool) {
        defaults::default_service(self);
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let Some(spec) = &self.spec else { return vec![FieldError::required("spec", "")] };
        let service_type = spec.type_.as_deref().unwrap_or("ClusterIP");
        if !SERVICE_TYPES.contains(&service_type) {
            errors.push(FieldError::unsupported("spec.type", &json!(service_type), SERVICE_TYPES));
        }
        let ports = spec.ports.as_deref().unwrap_or(&[]);
        let headless = spec.cluster_ip.as_deref() == Some("None");
        if ports.is_empty() && service_type != "ExternalName" && !headless {
            errors.push(FieldError::required("spec.ports", ""));
        }
        for (i, port) in ports.iter().enumerate() {
            if !(1..=65535).contains(&port.port) {
                errors.push(FieldError::invalid(
                    format!("spec.ports[{i}].port"),
                    &json!(port.port),
                    "must be between 1 and 65535, inclusive",
                ));
            }
            if ports.len() > 1 && port.name.as_deref().unwrap_or("").is_empty() {
                errors.push(FieldError::required(format!("spec.ports[{i}].name"), ""));
            }
            if let Some(protocol) = &port.protocol
                && !PROTOCOLS.contains(&protocol.as_str())
            {
                errors.push(FieldError::unsupported(format!("spec.ports[{i}].protocol"), &json!(protocol), PROTOCOLS));
            }
        }
        errors.extend(unique_names(
            ports.iter().enumerate().filter_map(|(i, p)| Some((i, p.name.as_deref()?))),
            "spec.ports",
            "name",
        ));
        errors.extend(validate_labels(spec.selector.as_ref(), "spec.selector"));
        errors
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        let old_ip = old.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).unwrap_or("");
        let new_ip = self.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).unwrap_or("");
        if !old_ip.is_empty() && old_ip != new_ip {
            return vec![FieldError::invalid("spec.clusterIPs[0]", &json!(new_ip), "may not change once set")];
        }
        Vec::new()
    }
}

impl ObjectRules for Endpoints {}
impl ObjectRules for ResourceQuota {}
impl ObjectRules for LimitRange {}
impl ObjectRules for ServiceAccount {}
impl ObjectRules for Lease {}

impl ObjectRules for Event {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let involved_ns = self.involved_object.namespace.as_deref().unwrap_or("");
        let ns = self.metadata.namespace.as_deref().unwrap_or("");
        if !involved_ns.is_empty() && involved_ns != ns {
            errors.push(FieldError::invalid(
                "involvedObject.namespace",
                &json!(involved_ns),
                "does not match event.namespace",
            ));
        }
        errors
    }
}

/// The most bytes the data of one ConfigMap or Secret may take.
pub const CONFIG_DATA_MAX_BYTES: usize = 1024 * 1024;

fn validate_config_data<'a>(keys: impl Iterator<Item = (&'a str, usize)>, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut total = 0;
    for (key, len) in keys {
        errors.extend(config_key(key, &format!("{path}[{key}]")));
        total += len;
    }
    if total > CONFIG_DATA_MAX_BYTES {
        errors.push(FieldError::too_long(path, CONFIG_DATA_MAX_BYTES));
    }
    errors
}

fn immutable_data_errors(was_immutable: Option<bool>, changed: bool, now_immutable: Option<bool>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if was_immutable == Some(true) {
        if changed {
            errors.push(FieldError::forbidden("data", "field is immutable when `immutable` is set"));
        }
        if now_immutable != Some(true) {
            errors.push(FieldError::forbidden("immutable", "field is immutable when `immutable` is set"));
        }
    }
    errors
}

impl ObjectRules for ConfigMap {
    fn validate(&self) -> Vec<FieldError> {
        let data = self.data.iter().flatten().map(|(k, v)| (k.as_str(), v.len()));
        let binary = self.binary_data.iter().flatten().map(|(k, v)| (k.as_str(), v.0.len()));
        let mut errors = validate_config_data(data.chain(binary), "data");
        for key in self.data.iter().flatten().map(|(k, _)| k) {
            if self.binary_data.as_ref().is_some_and(|b| b.contains_key(key)) {
                errors.push(FieldError::invalid("data", &json!(key), "duplicate of key present in binaryData"));
            }
        }
        errors
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        let changed = self.data != old.data || self.binary_data != old.binary_data;
        immutable_data_errors(old.immutable, changed, self.immutable)
    }
}

impl ObjectRules for Secret {
    fn apply_defaults(&mut self, _fresh: bool) {
        defaults::default_secret(self);
    }

    fn validate(&self) -> Vec<FieldError> {
        let data = self.data.iter().flatten().map(|(k, v)| (k.as_str(), v.0.len()));
        let strings = self.string_data.iter().flatten().map(|(k, v)| (k.as_str(), v.len()));
        validate_config_data(data.chain(strings), "data")
    }

    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.type_ != old.type_ {
            errors.push(FieldError::invalid("type", &json!(self.type_), "field is immutable"));
        }
        errors.extend(immutable_data_errors(old.immutable, self.data != old.data, self.immutable));
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(spec: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    fn summaries(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(FieldError::summary).collect()
    }

    #[test]
    fn pod_specs() {
        let good = pod(
            json!({"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}],
            "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}}}]}),
        );
        assert!(good.all_errors(None).is_empty(), "{:?}", good.all_errors(None));

        assert_eq!(summaries(pod(json!({"containers": []})).validate()), vec!["spec.containers: Required value"]);
        let errors = summaries(pod(json!({"containers": [{"name": "c"}, {"name": "c", "image": "x"}]})).validate());
        assert!(errors.contains(&"spec.containers[0].image: Required value".to_string()), "{errors:?}");
        assert!(errors.contains(&"spec.containers[1].name: Duplicate value: \"c\"".to_string()), "{errors:?}");

        let errors = summaries(
            pod(json!({"containers": [{"name": "c", "image": "x",
            "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1", "memory": "lots"}}}]}))
            .validate(),
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("must be less than or equal to cpu limit of 1")));

        let errors = summaries(pod(json!({"restartPolicy": "Sometimes", "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 0}],
            "volumeMounts": [{"name": "nope", "mountPath": "/data"}]}]})).validate());
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn pod_updates_may_change_only_images_ports_and_tolerations() {
        let old = pod(json!({"containers": [{"name": "c", "image": "nginx:1"}]}));
        let image = pod(json!({"containers": [{"name": "c", "image": "nginx:2"}]}));
        assert!(image.validate_update(&old).is_empty());
        let ports = pod(json!({"containers": [{"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80}]}]}));
        assert!(ports.validate_update(&old).is_empty(), "ports may change");
        let env = pod(json!({"containers": [{"name": "c", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]}]}));
        assert_eq!(env.validate_update(&old)[0].reason, "FieldValueForbidden");
        let node = pod(json!({"nodeName": "n1", "containers": [{"name": "c", "image": "nginx:1"}]}));
        assert_eq!(node.validate_update(&old).len(), 1);
    }

    #[test]
    fn zone_brands_must_exist() {
        let with_brand = |brand: &str| {
            serde_json::from_value::<Pod>(
                json!({"metadata": {"name": "p", "annotations": {"reddwarf.io/zone-brand": brand}},
                "spec": {"containers": [{"name": "c", "image": "x"}]}}),
            )
            .unwrap()
        };
        assert!(with_brand("lx").validate().is_empty());
        let errors = summaries(with_brand("solaris10").validate());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("metadata.annotations[reddwarf.io/zone-brand]: Unsupported value: \"solaris10\""),
            "{errors:?}"
        );
    }

    #[test]
    fn services_config_and_secrets() {
        let svc: Service = serde_json::from_value(
            json!({"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}, {"port": 81}]}}),
        )
        .unwrap();
        let errors = summaries(svc.all_errors(None));
        assert!(
            errors.iter().any(|e| e.starts_with("metadata.name: Invalid value: \"1svc\": a DNS-1035 label")),
            "{errors:?}"
        );
        assert!(errors.contains(&"spec.ports[0].name: Required value".to_string()));

        let old: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"a": "1"}, "immutable": true})).unwrap();
        let new: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"a": "2"}, "immutable": true})).unwrap();
        assert_eq!(new.validate_update(&old).len(), 1);
        let bad_key: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"a/b": "1"}})).unwrap();
        assert_eq!(bad_key.validate().len(), 1);
    }
}
