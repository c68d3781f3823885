//! The resource registry: one entry per served resource, and everything else is derived
//! from it — routing, discovery, OpenAPI, Table columns, validation, selectable fields and
//! the storage layout. Adding a resource means adding one entry here (plus its rules in
//! `model::rules` and its table in `api::table`).

use std::sync::Arc;

use serde_json::Value;

use crate::api::objects::{Codec, EventsV1, Typed};
use crate::api::table::{self, TableDef};
use crate::model::k8s::coordination::v1::Lease;
use crate::model::k8s::core::v1::{
    ConfigMap, Endpoints, Event, LimitRange, Namespace, Node, Pod, ResourceQuota, Secret, Service, ServiceAccount,
};
use crate::store::{AttrExtractor, Attrs, keys, labels_of};

/// A subresource such as `pods/status`.
#[derive(Debug)]
pub struct Subresource {
    /// The subresource name (`status`, `binding`).
    pub name: &'static str,
    /// The kind it accepts and returns.
    pub kind: &'static str,
    /// The group of that kind (empty for core).
    pub group: &'static str,
    /// The version of that kind.
    pub version: &'static str,
    /// The verbs it supports.
    pub verbs: &'static [&'static str],
}

/// What DELETE does to an object of this resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletePolicy {
    /// Remove it (after its finalizers, if it has any).
    Immediate,
    /// Pods: set `deletionTimestamp` and let the node agent finish.
    GracefulPod,
    /// Namespaces: mark Terminating; the namespace controller empties and removes it.
    Namespace,
}

/// One served resource.
pub struct ResourceDef {
    /// API group (empty for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural resource name, as in URLs.
    pub plural: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// `kubectl get po`.
    pub short_names: &'static [&'static str],
    /// `kubectl get all`.
    pub categories: &'static [&'static str],
    /// Subresources served.
    pub subresources: &'static [Subresource],
    /// Field selectors beyond `metadata.name` and `metadata.namespace`: (field, JSON
    /// pointer into the stored object).
    pub fields: &'static [(&'static str, &'static str)],
    /// Whether the resource has a status subresource (main writes keep the old status).
    pub has_status: bool,
    /// Whether PUT without a resourceVersion is allowed.
    pub unconditional_update: bool,
    /// Whether PUT may create a missing object.
    pub create_on_update: bool,
    /// What DELETE does.
    pub delete: DeletePolicy,
    /// Whether DELETE answers with the object (pods, service accounts) or a `Status`.
    pub delete_returns_object: bool,
    /// Where the objects are stored, when another resource's storage is shared
    /// (`group`, `plural`); None: this resource's own.
    pub stored_as: Option<(&'static str, &'static str)>,
    /// Decoding, defaulting and validation.
    pub codec: &'static dyn Codec,
    /// `kubectl get` columns.
    pub table: &'static TableDef,
}

impl std::fmt::Debug for ResourceDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResourceDef({}/{} {})", self.group, self.version, self.plural)
    }
}

impl ResourceDef {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The storage path segment of this resource's keys.
    pub fn storage(&self) -> String {
        let (group, plural) = self.stored_as.unwrap_or((self.group, self.plural));
        keys::resource_path(group, plural)
    }

    /// The key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        keys::object_key(&self.storage(), if self.namespaced { namespace } else { None }, name)
    }

    /// The key prefix of a collection (all namespaces when `namespace` is None).
    pub fn prefix(&self, namespace: Option<&str>) -> String {
        keys::collection_prefix(&self.storage(), if self.namespaced { namespace } else { None })
    }

    /// The subresource called `name`.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether `field` may be used in a field selector.
    pub fn selectable(&self, field: &str) -> bool {
        field == "metadata.name"
            || (self.namespaced && field == "metadata.namespace")
            || self.fields.iter().any(|(f, _)| *f == field)
    }

    /// The verbs of the main resource.
    pub fn verbs(&self) -> &'static [&'static str] {
        &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    }

    /// The attributes the store indexes for an object of this resource.
    pub fn attrs(&self, object: &Value) -> Attrs {
        let mut fields = Vec::with_capacity(self.fields.len() + 2);
        let meta =
            |name: &str| object.pointer(&format!("/metadata/{name}")).and_then(Value::as_str).unwrap_or("").to_string();
        fields.push(("metadata.name", meta("name")));
        if self.namespaced {
            fields.push(("metadata.namespace", meta("namespace")));
        }
        for (field, pointer) in self.fields {
            let value = match object.pointer(pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ if *field == "spec.unschedulable" => "false".to_string(),
                _ => String::new(),
            };
            fields.push((*field, value));
        }
        Attrs { labels: labels_of(object), fields }
    }
}

const STATUS: &[&str] = &["get", "patch", "update"];

macro_rules! codec {
    ($ty:ty) => {
        &Typed::<$ty>(std::marker::PhantomData)
    };
}

/// Every served resource.
pub static RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
        subresources: &[
            Subresource { name: "status", kind: "Namespace", group: "", version: "v1", verbs: STATUS },
            Subresource { name: "finalize", kind: "Namespace", group: "", version: "v1", verbs: &["update"] },
        ],
        fields: &[("status.phase", "/status/phase")],
        has_status: true,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::Namespace,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(Namespace),
        table: &table::NAMESPACES,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short_names: &["po"],
        categories: &["all"],
        subresources: &[
            Subresource { name: "status", kind: "Pod", group: "", version: "v1", verbs: STATUS },
            Subresource { name: "binding", kind: "Binding", group: "", version: "v1", verbs: &["create"] },
            Subresource { name: "eviction", kind: "Eviction", group: "policy", version: "v1", verbs: &["create"] },
        ],
        fields: &[
            ("spec.nodeName", "/spec/nodeName"),
            ("spec.restartPolicy", "/spec/restartPolicy"),
            ("spec.schedulerName", "/spec/schedulerName"),
            ("spec.serviceAccountName", "/spec/serviceAccountName"),
            ("spec.hostNetwork", "/spec/hostNetwork"),
            ("status.phase", "/status/phase"),
            ("status.podIP", "/status/podIP"),
            ("status.nominatedNodeName", "/status/nominatedNodeName"),
        ],
        has_status: true,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::GracefulPod,
        delete_returns_object: true,
        stored_as: None,
        codec: codec!(Pod),
        table: &table::PODS,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "nodes",
        singular: "node",
        kind: "Node",
        namespaced: false,
        short_names: &["no"],
        categories: &[],
        subresources: &[Subresource { name: "status", kind: "Node", group: "", version: "v1", verbs: STATUS }],
        fields: &[("spec.unschedulable", "/spec/unschedulable")],
        has_status: true,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(Node),
        table: &table::NODES,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        short_names: &["svc"],
        categories: &["all"],
        subresources: &[Subresource { name: "status", kind: "Service", group: "", version: "v1", verbs: STATUS }],
        fields: &[("spec.clusterIP", "/spec/clusterIP"), ("spec.type", "/spec/type")],
        has_status: true,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(Service),
        table: &table::SERVICES,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "endpoints",
        singular: "endpoints",
        kind: "Endpoints",
        namespaced: true,
        short_names: &["ep"],
        categories: &[],
        subresources: &[],
        fields: &[],
        has_status: false,
        unconditional_update: true,
        create_on_update: true,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(Endpoints),
        table: &table::ENDPOINTS,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        subresources: &[],
        fields: &[
            ("involvedObject.kind", "/involvedObject/kind"),
            ("involvedObject.namespace", "/involvedObject/namespace"),
            ("involvedObject.name", "/involvedObject/name"),
            ("involvedObject.uid", "/involvedObject/uid"),
            ("involvedObject.apiVersion", "/involvedObject/apiVersion"),
            ("involvedObject.resourceVersion", "/involvedObject/resourceVersion"),
            ("involvedObject.fieldPath", "/involvedObject/fieldPath"),
            ("reason", "/reason"),
            ("reportingComponent", "/reportingComponent"),
            ("source", "/source/component"),
            ("type", "/type"),
        ],
        has_status: false,
        unconditional_update: true,
        create_on_update: true,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(Event),
        table: &table::EVENTS,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short_names: &["cm"],
        categories: &[],
        subresources: &[],
        fields: &[],
        has_status: false,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(ConfigMap),
        table: &table::CONFIGMAPS,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        fields: &[("type", "/type")],
        has_status: false,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(Secret),
        table: &table::SECRETS,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        short_names: &["sa"],
        categories: &[],
        subresources: &[],
        fields: &[],
        has_status: false,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::Immediate,
        delete_returns_object: true,
        stored_as: None,
        codec: codec!(ServiceAccount),
        table: &table::SERVICE_ACCOUNTS,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "resourcequotas",
        singular: "resourcequota",
        kind: "ResourceQuota",
        namespaced: true,
        short_names: &["quota"],
        categories: &[],
        subresources: &[Subresource { name: "status", kind: "ResourceQuota", group: "", version: "v1", verbs: STATUS }],
        fields: &[],
        has_status: true,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(ResourceQuota),
        table: &table::RESOURCE_QUOTAS,
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "limitranges",
        singular: "limitrange",
        kind: "LimitRange",
        namespaced: true,
        short_names: &["limits"],
        categories: &[],
        subresources: &[],
        fields: &[],
        has_status: false,
        unconditional_update: true,
        create_on_update: false,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(LimitRange),
        table: &table::LIMIT_RANGES,
    },
    ResourceDef {
        group: "coordination.k8s.io",
        version: "v1",
        plural: "leases",
        singular: "lease",
        kind: "Lease",
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        fields: &[],
        has_status: false,
        unconditional_update: false,
        create_on_update: false,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: None,
        codec: codec!(Lease),
        table: &table::LEASES,
    },
    ResourceDef {
        group: "events.k8s.io",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        subresources: &[],
        // Names only: the store indexes events by their core fields (see `stored_as`).
        fields: &[
            ("regarding.kind", ""),
            ("regarding.namespace", ""),
            ("regarding.name", ""),
            ("regarding.uid", ""),
            ("regarding.apiVersion", ""),
            ("regarding.resourceVersion", ""),
            ("regarding.fieldPath", ""),
            ("reason", ""),
            ("reportingController", ""),
            ("type", ""),
        ],
        has_status: false,
        unconditional_update: true,
        create_on_update: true,
        delete: DeletePolicy::Immediate,
        delete_returns_object: false,
        stored_as: Some(("", "events")),
        codec: &EventsV1,
        table: &table::EVENTS,
    },
];

/// Finds a resource by group, version and plural name.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES.iter().find(|d| d.group == group && d.version == version && d.plural == plural)
}

/// Finds a core resource by plural name.
pub fn core(plural: &str) -> &'static ResourceDef {
    find("", "v1", plural).unwrap_or_else(|| panic!("core resource {plural} is registered"))
}

/// The storage of every namespaced resource once (versions sharing storage count once),
/// with whether it holds pods: what the namespace controller empties.
pub fn namespaced_storage() -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for def in RESOURCES.iter().filter(|d| d.namespaced) {
        let storage = def.storage();
        if !out.iter().any(|(s, _)| *s == storage) {
            out.push((storage, def.delete == DeletePolicy::GracefulPod));
        }
    }
    out
}

/// The API groups served, in discovery order, with their versions.
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut groups: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for def in RESOURCES {
        match groups.iter_mut().find(|(g, _)| *g == def.group) {
            Some((_, versions)) => {
                if !versions.contains(&def.version) {
                    versions.push(def.version);
                }
            }
            None => groups.push((def.group, vec![def.version])),
        }
    }
    groups
}

/// The store's attribute extractor: finds the resource a key belongs to and indexes its
/// labels and selectable fields.
pub struct RegistryAttrs;

impl RegistryAttrs {
    /// A shareable extractor.
    pub fn shared() -> Arc<dyn AttrExtractor> {
        Arc::new(RegistryAttrs)
    }
}

impl AttrExtractor for RegistryAttrs {
    fn attrs(&self, key: &str, object: &Value) -> Attrs {
        let owner = RESOURCES.iter().find(|d| {
            key.strip_prefix("/registry/")
                .and_then(|rest| rest.strip_prefix(d.storage().as_str()))
                .is_some_and(|r| r.starts_with('/'))
        });
        match owner {
            Some(def) => def.attrs(object),
            None => Attrs { labels: labels_of(object), fields: Vec::new() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_and_attrs() {
        let pods = core("pods");
        assert_eq!(pods.key(Some("default"), "web"), "/registry/pods/default/web");
        let attrs = RegistryAttrs.attrs(
            "/registry/pods/default/web",
            &json!({"metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}),
        );
        assert_eq!(attrs.field("spec.nodeName"), Some("n1"));
        assert_eq!(attrs.field("status.phase"), Some("Running"));
        assert_eq!(attrs.field("status.podIP"), Some(""));
        assert_eq!(attrs.labels["app"], "web");
        let node = RegistryAttrs.attrs("/registry/nodes/n1", &json!({"metadata": {"name": "n1"}, "spec": {}}));
        assert_eq!(node.field("spec.unschedulable"), Some("false"));
        let lease = RegistryAttrs
            .attrs("/registry/coordination.k8s.io/leases/kube-node-lease/n1", &json!({"metadata": {"name": "n1"}}));
        assert_eq!(lease.field("metadata.namespace"), Some(""));
        assert!(pods.selectable("spec.nodeName") && !pods.selectable("spec.bogus"));
        assert_eq!(groups()[0], ("", vec!["v1"]));
    }
}
