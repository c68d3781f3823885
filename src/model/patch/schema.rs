//! The patch metadata of the built-in types Reddwarf serves: for each Go type, the fields
//! that change how a strategic merge patch is applied (nested objects that lead to lists,
//! and every list with its `patchStrategy`, `patchMergeKey`, `x-kubernetes-list-type` and
//! `x-kubernetes-list-map-keys`). Fields that are absent here (scalars, free-form maps such
//! as `labels`, and objects with no list anywhere below them) merge as plain JSON maps or are
//! replaced, which is what upstream does with them too.
//!
//! The table is static data transcribed from the Kubernetes v1.33 OpenAPI document (which is
//! generated from the Go struct tags of `k8s.io/api`), so OpenAPI generation can reuse it.
//! Every type that has a list field lists all of its list fields, atomic ones included; that
//! lets the patcher tell a misspelt `$setElementOrder/<field>` from a real one. This module
//! owns data only: no IO, no clock.

/// `x-kubernetes-list-type`: how the API server treats a list's elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value and is replaced whole.
    Atomic,
    /// Scalars with set semantics.
    Set,
    /// Objects identified by `x-kubernetes-list-map-keys`.
    Map,
}

impl ListType {
    /// The extension's value as it appears in OpenAPI.
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::Atomic => "atomic",
            ListType::Set => "set",
            ListType::Map => "map",
        }
    }
}

/// The `patchStrategy` of a list, with its `patchMergeKey`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchStrategy {
    /// No strategy: a patch's list replaces the original list.
    Replace,
    /// `patchStrategy:"merge"` on a list of scalars: the lists are united as sets.
    Merge,
    /// `patchStrategy:"merge"` with `patchMergeKey`: elements with equal keys are merged.
    MergeByKey(&'static str),
}

/// How one list field is patched, and what OpenAPI says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListSchema {
    /// The strategic-merge strategy.
    pub strategy: PatchStrategy,
    /// `retainKeys` is part of the strategy (`patchStrategy:"merge,retainKeys"`): clients
    /// send `$retainKeys` in the elements to clear the other members of a union.
    pub retain_keys: bool,
    /// `x-kubernetes-list-type`, where upstream declares one.
    pub list_type: Option<ListType>,
    /// `x-kubernetes-list-map-keys`; empty unless `list_type` is `Map`.
    pub list_map_keys: &'static [&'static str],
    /// The element type, when elements are objects this table describes. Always set for
    /// lists merged by key; `None` for scalars and for objects with nothing to merge inside.
    pub items: Option<&'static TypeSchema>,
}

impl ListSchema {
    /// A list nothing is known about: replaced whole.
    pub const REPLACE: ListSchema = ListSchema {
        strategy: PatchStrategy::Replace,
        retain_keys: false,
        list_type: None,
        list_map_keys: &[],
        items: None,
    };

    /// The `patchMergeKey`, if the list is merged by key.
    pub fn merge_key(&self) -> Option<&'static str> {
        match self.strategy {
            PatchStrategy::MergeByKey(key) => Some(key),
            PatchStrategy::Replace | PatchStrategy::Merge => None,
        }
    }

    /// `x-kubernetes-patch-strategy` as upstream spells it (`merge`, `merge,retainKeys`).
    pub fn patch_strategy_extension(&self) -> Option<&'static str> {
        match (self.strategy, self.retain_keys) {
            (PatchStrategy::Replace, false) => None,
            (PatchStrategy::Replace, true) => Some("retainKeys"),
            (PatchStrategy::Merge | PatchStrategy::MergeByKey(_), false) => Some("merge"),
            (PatchStrategy::Merge | PatchStrategy::MergeByKey(_), true) => Some("merge,retainKeys"),
        }
    }

    const fn retaining_keys(self) -> ListSchema {
        ListSchema { retain_keys: true, ..self }
    }
}

/// What the table knows about one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldSchema {
    /// A nested object of the given type.
    Object(&'static TypeSchema),
    /// A list.
    List(ListSchema),
}

impl FieldSchema {
    const fn retaining_keys(self) -> FieldSchema {
        match self {
            FieldSchema::List(list) => FieldSchema::List(list.retaining_keys()),
            FieldSchema::Object(_) => self,
        }
    }
}

/// The patch metadata of one Go type.
#[derive(Debug, PartialEq, Eq)]
pub struct TypeSchema {
    /// The Go type name (`PodSpec`), as upstream error messages name it.
    pub name: &'static str,
    /// The fields that matter for patching, by JSON name.
    pub fields: &'static [(&'static str, FieldSchema)],
}

impl TypeSchema {
    /// The field called `name` (its JSON name), if it matters for patching.
    pub fn field(&self, name: &str) -> Option<FieldSchema> {
        self.fields.iter().find(|(field, _)| *field == name).map(|(_, schema)| *schema)
    }

    /// Walks a dotted path of JSON names, stepping into objects and into list elements:
    /// `POD.field_path("spec.containers.ports")` is the schema of `Container.ports`.
    pub fn field_path(&self, path: &str) -> Option<FieldSchema> {
        let mut names = path.split('.');
        let mut field = self.field(names.next()?)?;
        for name in names {
            let ty = match field {
                FieldSchema::Object(ty) => ty,
                FieldSchema::List(list) => list.items?,
            };
            field = ty.field(name)?;
        }
        Some(field)
    }
}

/// The schema of a served kind, by `apiVersion` and `kind`; `None` for kinds this table does
/// not describe (the caller answers a strategic merge patch for them with 415).
pub fn schema_for(api_version: &str, kind: &str) -> Option<&'static TypeSchema> {
    KINDS.iter().find(|(v, k, _)| *v == api_version && *k == kind).map(|(_, _, schema)| *schema)
}

/// Every kind the table describes: `(apiVersion, kind, schema)`.
pub static KINDS: &[(&str, &str, &TypeSchema)] = &[
    ("v1", "Pod", &POD),
    ("v1", "PodTemplate", &POD_TEMPLATE),
    ("v1", "Node", &NODE),
    ("v1", "Namespace", &NAMESPACE),
    ("v1", "Service", &SERVICE),
    ("v1", "Endpoints", &ENDPOINTS),
    ("v1", "Event", &EVENT),
    ("v1", "ConfigMap", &CONFIG_MAP),
    ("v1", "Secret", &SECRET),
    ("v1", "ServiceAccount", &SERVICE_ACCOUNT),
    ("coordination.k8s.io/v1", "Lease", &LEASE),
];

const fn object(ty: &'static TypeSchema) -> FieldSchema {
    FieldSchema::Object(ty)
}

/// A list without a patch strategy, `x-kubernetes-list-type: atomic`.
const fn atomic(items: Option<&'static TypeSchema>) -> FieldSchema {
    FieldSchema::List(ListSchema {
        strategy: PatchStrategy::Replace,
        retain_keys: false,
        list_type: Some(ListType::Atomic),
        list_map_keys: &[],
        items,
    })
}

/// A list of scalars with `patchStrategy:"merge"`, `x-kubernetes-list-type: set`.
const fn merge_set() -> FieldSchema {
    FieldSchema::List(ListSchema {
        strategy: PatchStrategy::Merge,
        retain_keys: false,
        list_type: Some(ListType::Set),
        list_map_keys: &[],
        items: None,
    })
}

/// A list merged by `key`, `x-kubernetes-list-type: map` with `map_keys`.
const fn merge_map(key: &'static str, map_keys: &'static [&'static str], items: &'static TypeSchema) -> FieldSchema {
    FieldSchema::List(ListSchema {
        strategy: PatchStrategy::MergeByKey(key),
        retain_keys: false,
        list_type: Some(ListType::Map),
        list_map_keys: map_keys,
        items: Some(items),
    })
}

/// A list with `x-kubernetes-list-type: map` but no patch strategy: strategic merge
/// replaces it (server-side apply merges it by its map keys).
const fn keyed(map_keys: &'static [&'static str], items: Option<&'static TypeSchema>) -> FieldSchema {
    FieldSchema::List(ListSchema {
        strategy: PatchStrategy::Replace,
        retain_keys: false,
        list_type: Some(ListType::Map),
        list_map_keys: map_keys,
        items,
    })
}

// The kinds.

/// `Pod` (v1).
pub static POD: TypeSchema = TypeSchema {
    name: "Pod",
    fields: &[("metadata", object(&OBJECT_META)), ("spec", object(&POD_SPEC)), ("status", object(&POD_STATUS))],
};

/// `PodTemplateSpec`, for the templates of workload kinds.
pub static POD_TEMPLATE_SPEC: TypeSchema =
    TypeSchema { name: "PodTemplateSpec", fields: &[("metadata", object(&OBJECT_META)), ("spec", object(&POD_SPEC))] };

/// `PodTemplate` (v1).
pub static POD_TEMPLATE: TypeSchema = TypeSchema {
    name: "PodTemplate",
    fields: &[("metadata", object(&OBJECT_META)), ("template", object(&POD_TEMPLATE_SPEC))],
};

/// `Node` (v1).
pub static NODE: TypeSchema = TypeSchema {
    name: "Node",
    fields: &[("metadata", object(&OBJECT_META)), ("spec", object(&NODE_SPEC)), ("status", object(&NODE_STATUS))],
};

/// `Namespace` (v1).
pub static NAMESPACE: TypeSchema = TypeSchema {
    name: "Namespace",
    fields: &[
        ("metadata", object(&OBJECT_META)),
        ("spec", object(&NAMESPACE_SPEC)),
        ("status", object(&NAMESPACE_STATUS)),
    ],
};

/// `Service` (v1).
pub static SERVICE: TypeSchema = TypeSchema {
    name: "Service",
    fields: &[("metadata", object(&OBJECT_META)), ("spec", object(&SERVICE_SPEC)), ("status", object(&SERVICE_STATUS))],
};

/// `Endpoints` (v1).
pub static ENDPOINTS: TypeSchema = TypeSchema {
    name: "Endpoints",
    fields: &[("metadata", object(&OBJECT_META)), ("subsets", atomic(Some(&ENDPOINT_SUBSET)))],
};

/// `Event` (core v1; not `events.k8s.io`).
pub static EVENT: TypeSchema = TypeSchema { name: "Event", fields: &[("metadata", object(&OBJECT_META))] };

/// `ConfigMap` (v1).
pub static CONFIG_MAP: TypeSchema = TypeSchema { name: "ConfigMap", fields: &[("metadata", object(&OBJECT_META))] };

/// `Secret` (v1).
pub static SECRET: TypeSchema = TypeSchema { name: "Secret", fields: &[("metadata", object(&OBJECT_META))] };

/// `ServiceAccount` (v1).
pub static SERVICE_ACCOUNT: TypeSchema = TypeSchema {
    name: "ServiceAccount",
    fields: &[
        ("imagePullSecrets", atomic(Some(&LOCAL_OBJECT_REFERENCE))),
        ("metadata", object(&OBJECT_META)),
        ("secrets", merge_map("name", &["name"], &OBJECT_REFERENCE)),
    ],
};

/// `Lease` (`coordination.k8s.io/v1`).
pub static LEASE: TypeSchema = TypeSchema { name: "Lease", fields: &[("metadata", object(&OBJECT_META))] };

/// `ObjectMeta`, shared by every kind.
pub static OBJECT_META: TypeSchema = TypeSchema {
    name: "ObjectMeta",
    fields: &[
        ("finalizers", merge_set()),
        ("managedFields", atomic(None)),
        ("ownerReferences", merge_map("uid", &["uid"], &OWNER_REFERENCE)),
    ],
};

/// `PodSpec`.
pub static POD_SPEC: TypeSchema = TypeSchema {
    name: "PodSpec",
    fields: &[
        ("affinity", object(&AFFINITY)),
        ("containers", merge_map("name", &["name"], &CONTAINER)),
        ("dnsConfig", object(&POD_DNS_CONFIG)),
        ("ephemeralContainers", merge_map("name", &["name"], &EPHEMERAL_CONTAINER)),
        ("hostAliases", merge_map("ip", &["ip"], &HOST_ALIAS)),
        ("imagePullSecrets", merge_map("name", &["name"], &LOCAL_OBJECT_REFERENCE)),
        ("initContainers", merge_map("name", &["name"], &CONTAINER)),
        ("readinessGates", atomic(None)),
        ("resourceClaims", merge_map("name", &["name"], &POD_RESOURCE_CLAIM).retaining_keys()),
        ("resources", object(&RESOURCE_REQUIREMENTS)),
        ("schedulingGates", merge_map("name", &["name"], &POD_SCHEDULING_GATE)),
        ("securityContext", object(&POD_SECURITY_CONTEXT)),
        ("tolerations", atomic(None)),
        (
            "topologySpreadConstraints",
            merge_map("topologyKey", &["topologyKey", "whenUnsatisfiable"], &TOPOLOGY_SPREAD_CONSTRAINT),
        ),
        ("volumes", merge_map("name", &["name"], &VOLUME).retaining_keys()),
    ],
};

// The types below the kinds, in the order a walk from the kinds meets them.

static POD_STATUS: TypeSchema = TypeSchema {
    name: "PodStatus",
    fields: &[
        ("conditions", merge_map("type", &["type"], &POD_CONDITION)),
        ("containerStatuses", atomic(Some(&CONTAINER_STATUS))),
        ("ephemeralContainerStatuses", atomic(Some(&CONTAINER_STATUS))),
        // Upstream tags it `patchStrategy:"merge"` by `ip` yet `+listType=atomic`.
        (
            "hostIPs",
            FieldSchema::List(ListSchema {
                strategy: PatchStrategy::MergeByKey("ip"),
                retain_keys: false,
                list_type: Some(ListType::Atomic),
                list_map_keys: &[],
                items: Some(&HOST_IP),
            }),
        ),
        ("initContainerStatuses", atomic(Some(&CONTAINER_STATUS))),
        ("podIPs", merge_map("ip", &["ip"], &POD_IP)),
        ("resourceClaimStatuses", merge_map("name", &["name"], &POD_RESOURCE_CLAIM_STATUS).retaining_keys()),
    ],
};

static NODE_SPEC: TypeSchema =
    TypeSchema { name: "NodeSpec", fields: &[("podCIDRs", merge_set()), ("taints", atomic(None))] };

static NODE_STATUS: TypeSchema = TypeSchema {
    name: "NodeStatus",
    fields: &[
        ("addresses", merge_map("type", &["type"], &NODE_ADDRESS)),
        ("conditions", merge_map("type", &["type"], &NODE_CONDITION)),
        ("images", atomic(Some(&CONTAINER_IMAGE))),
        ("runtimeHandlers", atomic(None)),
        ("volumesAttached", atomic(None)),
        ("volumesInUse", atomic(None)),
    ],
};

static NAMESPACE_SPEC: TypeSchema = TypeSchema {
    name: "NamespaceSpec",
    fields: &[
        // Unlike `metadata.finalizers`, these are atomic.
        ("finalizers", atomic(None)),
    ],
};

static NAMESPACE_STATUS: TypeSchema = TypeSchema {
    name: "NamespaceStatus",
    fields: &[("conditions", merge_map("type", &["type"], &NAMESPACE_CONDITION))],
};

static SERVICE_SPEC: TypeSchema = TypeSchema {
    name: "ServiceSpec",
    fields: &[
        ("clusterIPs", atomic(None)),
        ("externalIPs", atomic(None)),
        ("ipFamilies", atomic(None)),
        ("loadBalancerSourceRanges", atomic(None)),
        ("ports", merge_map("port", &["port", "protocol"], &SERVICE_PORT)),
    ],
};

static SERVICE_STATUS: TypeSchema = TypeSchema {
    name: "ServiceStatus",
    fields: &[
        ("conditions", merge_map("type", &["type"], &CONDITION)),
        ("loadBalancer", object(&LOAD_BALANCER_STATUS)),
    ],
};

static ENDPOINT_SUBSET: TypeSchema = TypeSchema {
    name: "EndpointSubset",
    fields: &[("addresses", atomic(None)), ("notReadyAddresses", atomic(None)), ("ports", atomic(None))],
};

static AFFINITY: TypeSchema = TypeSchema {
    name: "Affinity",
    fields: &[
        ("nodeAffinity", object(&NODE_AFFINITY)),
        ("podAffinity", object(&POD_AFFINITY)),
        ("podAntiAffinity", object(&POD_ANTI_AFFINITY)),
    ],
};

static CONTAINER: TypeSchema = TypeSchema {
    name: "Container",
    fields: &[
        ("args", atomic(None)),
        ("command", atomic(None)),
        ("env", merge_map("name", &["name"], &ENV_VAR)),
        ("envFrom", atomic(None)),
        ("lifecycle", object(&LIFECYCLE)),
        ("livenessProbe", object(&PROBE)),
        // SMP merges by `containerPort` alone; the list-map keys add `protocol`.
        ("ports", merge_map("containerPort", &["containerPort", "protocol"], &CONTAINER_PORT)),
        ("readinessProbe", object(&PROBE)),
        ("resizePolicy", atomic(None)),
        ("resources", object(&RESOURCE_REQUIREMENTS)),
        ("securityContext", object(&SECURITY_CONTEXT)),
        ("startupProbe", object(&PROBE)),
        ("volumeDevices", merge_map("devicePath", &["devicePath"], &VOLUME_DEVICE)),
        ("volumeMounts", merge_map("mountPath", &["mountPath"], &VOLUME_MOUNT)),
    ],
};

static POD_DNS_CONFIG: TypeSchema = TypeSchema {
    name: "PodDNSConfig",
    fields: &[("nameservers", atomic(None)), ("options", atomic(None)), ("searches", atomic(None))],
};

static EPHEMERAL_CONTAINER: TypeSchema = TypeSchema {
    name: "EphemeralContainer",
    fields: &[
        ("args", atomic(None)),
        ("command", atomic(None)),
        ("env", merge_map("name", &["name"], &ENV_VAR)),
        ("envFrom", atomic(None)),
        ("lifecycle", object(&LIFECYCLE)),
        ("livenessProbe", object(&PROBE)),
        ("ports", merge_map("containerPort", &["containerPort", "protocol"], &CONTAINER_PORT)),
        ("readinessProbe", object(&PROBE)),
        ("resizePolicy", atomic(None)),
        ("resources", object(&RESOURCE_REQUIREMENTS)),
        ("securityContext", object(&SECURITY_CONTEXT)),
        ("startupProbe", object(&PROBE)),
        ("volumeDevices", merge_map("devicePath", &["devicePath"], &VOLUME_DEVICE)),
        ("volumeMounts", merge_map("mountPath", &["mountPath"], &VOLUME_MOUNT)),
    ],
};

static HOST_ALIAS: TypeSchema = TypeSchema { name: "HostAlias", fields: &[("hostnames", atomic(None))] };

static RESOURCE_REQUIREMENTS: TypeSchema =
    TypeSchema { name: "ResourceRequirements", fields: &[("claims", keyed(&["name"], Some(&RESOURCE_CLAIM)))] };

static POD_SECURITY_CONTEXT: TypeSchema = TypeSchema {
    name: "PodSecurityContext",
    fields: &[("supplementalGroups", atomic(None)), ("sysctls", atomic(None))],
};

static TOPOLOGY_SPREAD_CONSTRAINT: TypeSchema = TypeSchema {
    name: "TopologySpreadConstraint",
    fields: &[("labelSelector", object(&LABEL_SELECTOR)), ("matchLabelKeys", atomic(None))],
};

static VOLUME: TypeSchema = TypeSchema {
    name: "Volume",
    fields: &[
        ("cephfs", object(&CEPH_FS_VOLUME_SOURCE)),
        ("configMap", object(&CONFIG_MAP_VOLUME_SOURCE)),
        ("downwardAPI", object(&DOWNWARD_API_VOLUME_SOURCE)),
        ("ephemeral", object(&EPHEMERAL_VOLUME_SOURCE)),
        ("fc", object(&FC_VOLUME_SOURCE)),
        ("iscsi", object(&ISCSI_VOLUME_SOURCE)),
        ("projected", object(&PROJECTED_VOLUME_SOURCE)),
        ("rbd", object(&RBD_VOLUME_SOURCE)),
        ("secret", object(&SECRET_VOLUME_SOURCE)),
    ],
};

static CONTAINER_STATUS: TypeSchema = TypeSchema {
    name: "ContainerStatus",
    fields: &[
        ("allocatedResourcesStatus", merge_map("name", &["name"], &RESOURCE_STATUS)),
        ("resources", object(&RESOURCE_REQUIREMENTS)),
        ("user", object(&CONTAINER_USER)),
        ("volumeMounts", merge_map("mountPath", &["mountPath"], &VOLUME_MOUNT_STATUS)),
    ],
};

static CONTAINER_IMAGE: TypeSchema = TypeSchema { name: "ContainerImage", fields: &[("names", atomic(None))] };

static LOAD_BALANCER_STATUS: TypeSchema =
    TypeSchema { name: "LoadBalancerStatus", fields: &[("ingress", atomic(Some(&LOAD_BALANCER_INGRESS)))] };

static NODE_AFFINITY: TypeSchema = TypeSchema {
    name: "NodeAffinity",
    fields: &[
        ("preferredDuringSchedulingIgnoredDuringExecution", atomic(Some(&PREFERRED_SCHEDULING_TERM))),
        ("requiredDuringSchedulingIgnoredDuringExecution", object(&NODE_SELECTOR)),
    ],
};

static POD_AFFINITY: TypeSchema = TypeSchema {
    name: "PodAffinity",
    fields: &[
        ("preferredDuringSchedulingIgnoredDuringExecution", atomic(Some(&WEIGHTED_POD_AFFINITY_TERM))),
        ("requiredDuringSchedulingIgnoredDuringExecution", atomic(Some(&POD_AFFINITY_TERM))),
    ],
};

static POD_ANTI_AFFINITY: TypeSchema = TypeSchema {
    name: "PodAntiAffinity",
    fields: &[
        ("preferredDuringSchedulingIgnoredDuringExecution", atomic(Some(&WEIGHTED_POD_AFFINITY_TERM))),
        ("requiredDuringSchedulingIgnoredDuringExecution", atomic(Some(&POD_AFFINITY_TERM))),
    ],
};

static LIFECYCLE: TypeSchema = TypeSchema {
    name: "Lifecycle",
    fields: &[("postStart", object(&LIFECYCLE_HANDLER)), ("preStop", object(&LIFECYCLE_HANDLER))],
};

static PROBE: TypeSchema =
    TypeSchema { name: "Probe", fields: &[("exec", object(&EXEC_ACTION)), ("httpGet", object(&HTTP_GET_ACTION))] };

static SECURITY_CONTEXT: TypeSchema =
    TypeSchema { name: "SecurityContext", fields: &[("capabilities", object(&CAPABILITIES))] };

static LABEL_SELECTOR: TypeSchema =
    TypeSchema { name: "LabelSelector", fields: &[("matchExpressions", atomic(Some(&LABEL_SELECTOR_REQUIREMENT)))] };

static CEPH_FS_VOLUME_SOURCE: TypeSchema =
    TypeSchema { name: "CephFSVolumeSource", fields: &[("monitors", atomic(None))] };

static CONFIG_MAP_VOLUME_SOURCE: TypeSchema =
    TypeSchema { name: "ConfigMapVolumeSource", fields: &[("items", atomic(None))] };

static DOWNWARD_API_VOLUME_SOURCE: TypeSchema =
    TypeSchema { name: "DownwardAPIVolumeSource", fields: &[("items", atomic(None))] };

static EPHEMERAL_VOLUME_SOURCE: TypeSchema = TypeSchema {
    name: "EphemeralVolumeSource",
    fields: &[("volumeClaimTemplate", object(&PERSISTENT_VOLUME_CLAIM_TEMPLATE))],
};

static FC_VOLUME_SOURCE: TypeSchema =
    TypeSchema { name: "FCVolumeSource", fields: &[("targetWWNs", atomic(None)), ("wwids", atomic(None))] };

static ISCSI_VOLUME_SOURCE: TypeSchema = TypeSchema { name: "ISCSIVolumeSource", fields: &[("portals", atomic(None))] };

static PROJECTED_VOLUME_SOURCE: TypeSchema =
    TypeSchema { name: "ProjectedVolumeSource", fields: &[("sources", atomic(Some(&VOLUME_PROJECTION)))] };

static RBD_VOLUME_SOURCE: TypeSchema = TypeSchema { name: "RBDVolumeSource", fields: &[("monitors", atomic(None))] };

static SECRET_VOLUME_SOURCE: TypeSchema = TypeSchema { name: "SecretVolumeSource", fields: &[("items", atomic(None))] };

static RESOURCE_STATUS: TypeSchema =
    TypeSchema { name: "ResourceStatus", fields: &[("resources", keyed(&["resourceID"], Some(&RESOURCE_HEALTH)))] };

static CONTAINER_USER: TypeSchema =
    TypeSchema { name: "ContainerUser", fields: &[("linux", object(&LINUX_CONTAINER_USER))] };

static LOAD_BALANCER_INGRESS: TypeSchema =
    TypeSchema { name: "LoadBalancerIngress", fields: &[("ports", atomic(None))] };

static PREFERRED_SCHEDULING_TERM: TypeSchema =
    TypeSchema { name: "PreferredSchedulingTerm", fields: &[("preference", object(&NODE_SELECTOR_TERM))] };

static NODE_SELECTOR: TypeSchema =
    TypeSchema { name: "NodeSelector", fields: &[("nodeSelectorTerms", atomic(Some(&NODE_SELECTOR_TERM)))] };

static WEIGHTED_POD_AFFINITY_TERM: TypeSchema =
    TypeSchema { name: "WeightedPodAffinityTerm", fields: &[("podAffinityTerm", object(&POD_AFFINITY_TERM))] };

static POD_AFFINITY_TERM: TypeSchema = TypeSchema {
    name: "PodAffinityTerm",
    fields: &[
        ("labelSelector", object(&LABEL_SELECTOR)),
        ("matchLabelKeys", atomic(None)),
        ("mismatchLabelKeys", atomic(None)),
        ("namespaceSelector", object(&LABEL_SELECTOR)),
        ("namespaces", atomic(None)),
    ],
};

static LIFECYCLE_HANDLER: TypeSchema = TypeSchema {
    name: "LifecycleHandler",
    fields: &[("exec", object(&EXEC_ACTION)), ("httpGet", object(&HTTP_GET_ACTION))],
};

static EXEC_ACTION: TypeSchema = TypeSchema { name: "ExecAction", fields: &[("command", atomic(None))] };

static HTTP_GET_ACTION: TypeSchema = TypeSchema { name: "HTTPGetAction", fields: &[("httpHeaders", atomic(None))] };

static CAPABILITIES: TypeSchema =
    TypeSchema { name: "Capabilities", fields: &[("add", atomic(None)), ("drop", atomic(None))] };

static LABEL_SELECTOR_REQUIREMENT: TypeSchema =
    TypeSchema { name: "LabelSelectorRequirement", fields: &[("values", atomic(None))] };

static PERSISTENT_VOLUME_CLAIM_TEMPLATE: TypeSchema = TypeSchema {
    name: "PersistentVolumeClaimTemplate",
    fields: &[("metadata", object(&OBJECT_META)), ("spec", object(&PERSISTENT_VOLUME_CLAIM_SPEC))],
};

static VOLUME_PROJECTION: TypeSchema = TypeSchema {
    name: "VolumeProjection",
    fields: &[
        ("clusterTrustBundle", object(&CLUSTER_TRUST_BUNDLE_PROJECTION)),
        ("configMap", object(&CONFIG_MAP_PROJECTION)),
        ("downwardAPI", object(&DOWNWARD_API_PROJECTION)),
        ("secret", object(&SECRET_PROJECTION)),
    ],
};

static LINUX_CONTAINER_USER: TypeSchema =
    TypeSchema { name: "LinuxContainerUser", fields: &[("supplementalGroups", atomic(None))] };

static NODE_SELECTOR_TERM: TypeSchema = TypeSchema {
    name: "NodeSelectorTerm",
    fields: &[
        ("matchExpressions", atomic(Some(&NODE_SELECTOR_REQUIREMENT))),
        ("matchFields", atomic(Some(&NODE_SELECTOR_REQUIREMENT))),
    ],
};

static PERSISTENT_VOLUME_CLAIM_SPEC: TypeSchema = TypeSchema {
    name: "PersistentVolumeClaimSpec",
    fields: &[("accessModes", atomic(None)), ("selector", object(&LABEL_SELECTOR))],
};

static CLUSTER_TRUST_BUNDLE_PROJECTION: TypeSchema =
    TypeSchema { name: "ClusterTrustBundleProjection", fields: &[("labelSelector", object(&LABEL_SELECTOR))] };

static CONFIG_MAP_PROJECTION: TypeSchema =
    TypeSchema { name: "ConfigMapProjection", fields: &[("items", atomic(None))] };

static DOWNWARD_API_PROJECTION: TypeSchema =
    TypeSchema { name: "DownwardAPIProjection", fields: &[("items", atomic(None))] };

static SECRET_PROJECTION: TypeSchema = TypeSchema { name: "SecretProjection", fields: &[("items", atomic(None))] };

static NODE_SELECTOR_REQUIREMENT: TypeSchema =
    TypeSchema { name: "NodeSelectorRequirement", fields: &[("values", atomic(None))] };

// Element types of keyed lists that have nothing to merge inside; named for error messages.

static OBJECT_REFERENCE: TypeSchema = TypeSchema { name: "ObjectReference", fields: &[] };

static OWNER_REFERENCE: TypeSchema = TypeSchema { name: "OwnerReference", fields: &[] };

static LOCAL_OBJECT_REFERENCE: TypeSchema = TypeSchema { name: "LocalObjectReference", fields: &[] };

static POD_RESOURCE_CLAIM: TypeSchema = TypeSchema { name: "PodResourceClaim", fields: &[] };

static POD_SCHEDULING_GATE: TypeSchema = TypeSchema { name: "PodSchedulingGate", fields: &[] };

static POD_CONDITION: TypeSchema = TypeSchema { name: "PodCondition", fields: &[] };

static HOST_IP: TypeSchema = TypeSchema { name: "HostIP", fields: &[] };

static POD_IP: TypeSchema = TypeSchema { name: "PodIP", fields: &[] };

static POD_RESOURCE_CLAIM_STATUS: TypeSchema = TypeSchema { name: "PodResourceClaimStatus", fields: &[] };

static NODE_ADDRESS: TypeSchema = TypeSchema { name: "NodeAddress", fields: &[] };

static NODE_CONDITION: TypeSchema = TypeSchema { name: "NodeCondition", fields: &[] };

static NAMESPACE_CONDITION: TypeSchema = TypeSchema { name: "NamespaceCondition", fields: &[] };

static SERVICE_PORT: TypeSchema = TypeSchema { name: "ServicePort", fields: &[] };

static CONDITION: TypeSchema = TypeSchema { name: "Condition", fields: &[] };

static ENV_VAR: TypeSchema = TypeSchema { name: "EnvVar", fields: &[] };

static CONTAINER_PORT: TypeSchema = TypeSchema { name: "ContainerPort", fields: &[] };

static VOLUME_DEVICE: TypeSchema = TypeSchema { name: "VolumeDevice", fields: &[] };

static VOLUME_MOUNT: TypeSchema = TypeSchema { name: "VolumeMount", fields: &[] };

static RESOURCE_CLAIM: TypeSchema = TypeSchema { name: "ResourceClaim", fields: &[] };

static VOLUME_MOUNT_STATUS: TypeSchema = TypeSchema { name: "VolumeMountStatus", fields: &[] };

static RESOURCE_HEALTH: TypeSchema = TypeSchema { name: "ResourceHealth", fields: &[] };

#[cfg(test)]
mod tests {
    use super::*;

    fn list(kind: &TypeSchema, path: &str) -> ListSchema {
        match kind.field_path(path) {
            Some(FieldSchema::List(list)) => list,
            other => panic!("{path}: expected a list, found {other:?}"),
        }
    }

    #[test]
    fn list_strategies_follow_the_go_tags() {
        use PatchStrategy::*;
        type Case = (&'static TypeSchema, &'static str, PatchStrategy, bool, Option<ListType>, &'static [&'static str]);
        let cases: &[Case] = &[
            (&POD, "spec.containers", MergeByKey("name"), false, Some(ListType::Map), &["name"]),
            (&POD, "spec.initContainers", MergeByKey("name"), false, Some(ListType::Map), &["name"]),
            (&POD, "spec.ephemeralContainers", MergeByKey("name"), false, Some(ListType::Map), &["name"]),
            (&POD, "spec.imagePullSecrets", MergeByKey("name"), false, Some(ListType::Map), &["name"]),
            (&POD, "spec.volumes", MergeByKey("name"), true, Some(ListType::Map), &["name"]),
            (&POD, "spec.hostAliases", MergeByKey("ip"), false, Some(ListType::Map), &["ip"]),
            (
                &POD,
                "spec.topologySpreadConstraints",
                MergeByKey("topologyKey"),
                false,
                Some(ListType::Map),
                &["topologyKey", "whenUnsatisfiable"],
            ),
            (
                &POD,
                "spec.containers.ports",
                MergeByKey("containerPort"),
                false,
                Some(ListType::Map),
                &["containerPort", "protocol"],
            ),
            (&POD, "spec.containers.env", MergeByKey("name"), false, Some(ListType::Map), &["name"]),
            (&POD, "spec.containers.volumeMounts", MergeByKey("mountPath"), false, Some(ListType::Map), &["mountPath"]),
            (
                &POD,
                "spec.containers.volumeDevices",
                MergeByKey("devicePath"),
                false,
                Some(ListType::Map),
                &["devicePath"],
            ),
            (&POD, "spec.ephemeralContainers.env", MergeByKey("name"), false, Some(ListType::Map), &["name"]),
            (&POD, "spec.containers.args", Replace, false, Some(ListType::Atomic), &[]),
            (&POD, "spec.containers.command", Replace, false, Some(ListType::Atomic), &[]),
            (&POD, "spec.tolerations", Replace, false, Some(ListType::Atomic), &[]),
            (&POD, "spec.containers.resources.claims", Replace, false, Some(ListType::Map), &["name"]),
            (&POD, "status.conditions", MergeByKey("type"), false, Some(ListType::Map), &["type"]),
            (&POD, "status.podIPs", MergeByKey("ip"), false, Some(ListType::Map), &["ip"]),
            (&POD, "status.hostIPs", MergeByKey("ip"), false, Some(ListType::Atomic), &[]),
            (&POD, "status.containerStatuses", Replace, false, Some(ListType::Atomic), &[]),
            (&POD, "metadata.finalizers", Merge, false, Some(ListType::Set), &[]),
            (&POD, "metadata.ownerReferences", MergeByKey("uid"), false, Some(ListType::Map), &["uid"]),
            (&POD, "metadata.managedFields", Replace, false, Some(ListType::Atomic), &[]),
            (&NODE, "spec.podCIDRs", Merge, false, Some(ListType::Set), &[]),
            (&NODE, "spec.taints", Replace, false, Some(ListType::Atomic), &[]),
            (&NODE, "status.conditions", MergeByKey("type"), false, Some(ListType::Map), &["type"]),
            (&NODE, "status.addresses", MergeByKey("type"), false, Some(ListType::Map), &["type"]),
            (&NODE, "status.images", Replace, false, Some(ListType::Atomic), &[]),
            (&NAMESPACE, "spec.finalizers", Replace, false, Some(ListType::Atomic), &[]),
            (&NAMESPACE, "status.conditions", MergeByKey("type"), false, Some(ListType::Map), &["type"]),
            (&SERVICE, "spec.ports", MergeByKey("port"), false, Some(ListType::Map), &["port", "protocol"]),
            (&SERVICE, "spec.clusterIPs", Replace, false, Some(ListType::Atomic), &[]),
            (&SERVICE, "status.conditions", MergeByKey("type"), false, Some(ListType::Map), &["type"]),
            (&ENDPOINTS, "subsets", Replace, false, Some(ListType::Atomic), &[]),
            (&ENDPOINTS, "subsets.addresses", Replace, false, Some(ListType::Atomic), &[]),
            (&SERVICE_ACCOUNT, "secrets", MergeByKey("name"), false, Some(ListType::Map), &["name"]),
            (&SERVICE_ACCOUNT, "imagePullSecrets", Replace, false, Some(ListType::Atomic), &[]),
            (&POD_TEMPLATE, "template.spec.containers.env", MergeByKey("name"), false, Some(ListType::Map), &["name"]),
        ];
        for (kind, path, strategy, retain_keys, list_type, map_keys) in cases {
            let found = list(kind, path);
            assert_eq!(found.strategy, *strategy, "{}.{path}", kind.name);
            assert_eq!(found.retain_keys, *retain_keys, "{}.{path}", kind.name);
            assert_eq!(found.list_type, *list_type, "{}.{path}", kind.name);
            assert_eq!(found.list_map_keys, *map_keys, "{}.{path}", kind.name);
        }
    }

    #[test]
    fn walks_objects_and_list_elements() {
        assert_eq!(POD.field("spec"), Some(FieldSchema::Object(&POD_SPEC)));
        assert_eq!(POD_TEMPLATE.field_path("template.spec"), Some(FieldSchema::Object(&POD_SPEC)));
        assert_eq!(list(&POD, "spec.containers").items.map(|t| t.name), Some("Container"));
        assert_eq!(list(&POD, "spec.ephemeralContainers").items.map(|t| t.name), Some("EphemeralContainer"));
        assert_eq!(list(&POD, "status.conditions").items.map(|t| t.name), Some("PodCondition"));
        // Scalars, free-form maps and unknown names are not in the table.
        assert_eq!(POD.field_path("spec.containers.image"), None);
        assert_eq!(POD.field_path("metadata.labels"), None);
        assert_eq!(POD.field_path("spec.nope.containers"), None);
        assert_eq!(POD.field_path(""), None);
    }

    #[test]
    fn finds_the_served_kinds() {
        let cases = [
            ("v1", "Pod", Some("Pod")),
            ("v1", "PodTemplate", Some("PodTemplate")),
            ("v1", "Node", Some("Node")),
            ("v1", "Namespace", Some("Namespace")),
            ("v1", "Service", Some("Service")),
            ("v1", "Endpoints", Some("Endpoints")),
            ("v1", "Event", Some("Event")),
            ("v1", "ConfigMap", Some("ConfigMap")),
            ("v1", "Secret", Some("Secret")),
            ("v1", "ServiceAccount", Some("ServiceAccount")),
            ("coordination.k8s.io/v1", "Lease", Some("Lease")),
            ("v1", "Lease", None),
            ("apps/v1", "Deployment", None),
            ("events.k8s.io/v1", "Event", None),
        ];
        for (api_version, kind, expected) in cases {
            assert_eq!(schema_for(api_version, kind).map(|s| s.name), expected, "{api_version} {kind}");
        }
    }

    #[test]
    fn spells_the_openapi_extensions() {
        assert_eq!(list(&POD, "spec.volumes").patch_strategy_extension(), Some("merge,retainKeys"));
        assert_eq!(list(&POD, "spec.containers").patch_strategy_extension(), Some("merge"));
        assert_eq!(list(&POD, "metadata.finalizers").patch_strategy_extension(), Some("merge"));
        assert_eq!(list(&POD, "spec.tolerations").patch_strategy_extension(), None);
        assert_eq!(list(&POD, "spec.containers").merge_key(), Some("name"));
        assert_eq!(list(&POD, "metadata.finalizers").merge_key(), None);
        assert_eq!(ListType::Map.as_str(), "map");
    }

    /// Every list that is merged by key names its element type (error messages name the
    /// struct), and every list-map names its keys.
    #[test]
    fn every_keyed_list_names_its_element_type() {
        fn walk(ty: &'static TypeSchema, seen: &mut Vec<&'static str>) {
            if seen.contains(&ty.name) {
                return;
            }
            seen.push(ty.name);
            for (name, field) in ty.fields {
                match field {
                    FieldSchema::Object(inner) => walk(inner, seen),
                    FieldSchema::List(list) => {
                        if list.merge_key().is_some() {
                            assert!(list.items.is_some(), "{}.{name}", ty.name);
                        }
                        if list.list_type == Some(ListType::Map) {
                            assert!(!list.list_map_keys.is_empty(), "{}.{name}", ty.name);
                        }
                        if let Some(items) = list.items {
                            walk(items, seen);
                        }
                    }
                }
            }
        }
        let mut seen = Vec::new();
        for (_, _, kind) in KINDS {
            walk(kind, &mut seen);
        }
        assert!(seen.len() > 80, "walked only {} types", seen.len());
    }
}
