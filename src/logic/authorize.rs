//! Authorization as one pure decision: who ([`UserInfo`]) may do what
//! ([`RequestAttributes`]). It owns the request attributes parsed from the HTTP method, path
//! and query (as upstream's `RequestInfoFactory` does, without knowing which resources
//! exist), the fixed policy (`system:masters` may do everything; a node may do what its
//! kubelet needs, as upstream's Node authorizer and NodeRestriction allow), and the wording
//! of a refusal. It must not touch storage or HTTP: when the answer depends on a stored
//! object (is this pod bound to this node?) or on the request body (is the new Node named
//! after this node?), it answers [`Decision::AllowIf`] and the caller checks the
//! [`Condition`]. A later RBAC authorizer can replace [`authorize`] with the same signature.

use crate::logic::join_token::BOOTSTRAPPERS_GROUP;
use crate::model::fields::FieldSelector;

/// The group whose members may do everything.
pub const MASTERS_GROUP: &str = "system:masters";
/// The group every node identity belongs to.
pub const NODES_GROUP: &str = "system:nodes";
/// The group every authenticated identity belongs to.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// Node user names are this prefix and the node name.
pub const NODE_USER_PREFIX: &str = "system:node:";
/// The namespace holding node heartbeat Leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";
/// Where a bootstrap identity (a join token) trades a CSR for a node certificate.
pub const NODE_CREDENTIALS_PATH: &str = "/bootstrap/v1/node-credentials";

/// An authenticated identity: a user name and its groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// The user name, such as `reddwarf-admin` or `system:node:n1`.
    pub name: String,
    /// The groups, such as `system:masters` and `system:authenticated`.
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user with these groups, plus `system:authenticated` (every authenticated identity
    /// has it, as upstream).
    pub fn authenticated(name: impl Into<String>, groups: impl IntoIterator<Item = String>) -> Self {
        let mut groups: Vec<String> = groups.into_iter().collect();
        if !groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
            groups.push(AUTHENTICATED_GROUP.to_string());
        }
        Self { name: name.into(), groups }
    }

    /// True when the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// The node this identity speaks for: a `system:node:<name>` user in `system:nodes`.
    pub fn node_name(&self) -> Option<&str> {
        let name = self.name.strip_prefix(NODE_USER_PREFIX)?;
        (!name.is_empty() && self.in_group(NODES_GROUP)).then_some(name)
    }
}

/// The resource part of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceAttributes {
    /// The API group (empty for core).
    pub group: String,
    /// The API version.
    pub version: String,
    /// The plural resource, such as `pods`.
    pub resource: String,
    /// The subresource, such as `status` (empty for none).
    pub subresource: String,
    /// The namespace (empty for cluster scope or all namespaces).
    pub namespace: String,
    /// The object name (empty for collections; for a list or watch, the name a
    /// `metadata.name=` field selector requires, as upstream).
    pub name: String,
    /// The raw `fieldSelector` of a list or watch.
    pub field_selector: String,
}

/// What a request asks to do, as authorization sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestAttributes {
    /// The Kubernetes verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`; for non-resource requests the lower-case HTTP method (`get`,
    /// `post`, ...).
    pub verb: String,
    /// The request path.
    pub path: String,
    /// The resource addressed; None for a non-resource request (`/version`, `/metrics`,
    /// discovery documents).
    pub resource: Option<ResourceAttributes>,
}

/// Subresources of a namespace, which keep `/namespaces/<name>/<sub>` from being read as a
/// namespaced resource (upstream's list).
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

fn is_true(value: &str) -> bool {
    matches!(value, "true" | "1" | "True")
}

impl RequestAttributes {
    /// The attributes of an HTTP request, from its method, path and query string.
    pub fn from_http(method: &str, path: &str, query: &str) -> Self {
        let non_resource = || Self { verb: method.to_ascii_lowercase(), path: path.to_string(), resource: None };
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (group, version, rest) = match parts.as_slice() {
            ["api", version, rest @ ..] if !rest.is_empty() => ("", *version, rest),
            ["apis", group, version, rest @ ..] if !rest.is_empty() => (*group, *version, rest),
            _ => return non_resource(),
        };
        let mut rest = rest;
        let mut namespace = "";
        if rest[0] == "namespaces" && rest.len() > 1 {
            namespace = rest[1];
            if rest.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&rest[2]) {
                rest = &rest[2..];
            }
        }
        let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let param = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let mut name = rest.get(1).copied().unwrap_or("").to_string();
        let subresource = rest.get(2..).map(|s| s.join("/")).unwrap_or_default();
        let verb = match method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" if name.is_empty() && param("watch").is_some_and(is_true) => "watch",
            "GET" | "HEAD" if name.is_empty() => "list",
            "GET" | "HEAD" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" if name.is_empty() => "deletecollection",
            "DELETE" => "delete",
            other => return Self { verb: other.to_ascii_lowercase(), ..non_resource() },
        };
        let field_selector = param("fieldSelector").unwrap_or("").to_string();
        if matches!(verb, "list" | "watch")
            && let Ok(selector) = FieldSelector::parse(&field_selector)
            && let Some(required) = selector.required_value("metadata.name")
        {
            name = required.to_string();
        }
        Self {
            verb: verb.to_string(),
            path: path.to_string(),
            resource: Some(ResourceAttributes {
                group: group.to_string(),
                version: version.to_string(),
                resource: rest[0].to_string(),
                subresource,
                namespace: namespace.to_string(),
                name,
                field_selector,
            }),
        }
    }

    /// A resource request, for tests and for access reviews.
    pub fn resource(verb: &str, attributes: ResourceAttributes) -> Self {
        Self { verb: verb.to_string(), path: String::new(), resource: Some(attributes) }
    }

    /// A non-resource request, for tests and for access reviews.
    pub fn non_resource(verb: &str, path: &str) -> Self {
        Self { verb: verb.to_string(), path: path.to_string(), resource: None }
    }
}

/// What the caller must still check before an [`Decision::AllowIf`] request may go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The named pod, as stored, has `spec.nodeName` equal to this node.
    PodBoundTo(String),
    /// The object in the request body is named this.
    BodyNamed(String),
    /// The named configmap or secret (the request's resource) is used by a pod in the
    /// request's namespace that is bound to this node (upstream's Node authorizer graph).
    UsedByPodOn(String),
}

/// The answer of [`authorize`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Go ahead if the condition holds; refuse (as [`Decision::Deny`]) if it does not.
    AllowIf(Condition),
    /// Refuse with 403.
    Deny,
}

/// Non-resource paths every authenticated identity may read: discovery, OpenAPI, version
/// and health (upstream's `system:discovery` and `system:public-info-viewer`).
fn is_public_info(path: &str) -> bool {
    const EXACT: &[&str] = &["/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi/v2", "/cacerts"];
    const PREFIXES: &[&str] = &["/api/", "/apis/", "/version/", "/healthz/", "/livez/", "/readyz/", "/openapi/v3"];
    EXACT.contains(&path) || PREFIXES.iter().any(|p| path.starts_with(p))
}

/// Reviews about oneself, which every authenticated identity may create.
fn is_self_review(resource: &ResourceAttributes) -> bool {
    matches!(
        (resource.group.as_str(), resource.resource.as_str()),
        ("authorization.k8s.io", "selfsubjectaccessreviews" | "selfsubjectrulesreviews")
            | ("authentication.k8s.io", "selfsubjectreviews")
    ) && resource.subresource.is_empty()
}

/// Decides whether `user` may make `request`.
pub fn authorize(user: &UserInfo, request: &RequestAttributes) -> Decision {
    if user.in_group(MASTERS_GROUP) {
        return Decision::Allow;
    }
    if user.in_group(BOOTSTRAPPERS_GROUP) {
        // A join token may do one thing: trade a CSR for a node certificate.
        let allowed = request.resource.is_none() && request.verb == "post" && request.path == NODE_CREDENTIALS_PATH;
        return allow_when(allowed);
    }
    let Some(resource) = &request.resource else {
        let read = matches!(request.verb.as_str(), "get" | "head");
        return if read && is_public_info(&request.path) { Decision::Allow } else { Decision::Deny };
    };
    if request.verb == "create" && is_self_review(resource) {
        return Decision::Allow;
    }
    match user.node_name() {
        Some(node) => authorize_node(node, &request.verb, resource),
        None => Decision::Deny,
    }
}

fn allow_when(allowed: bool) -> Decision {
    if allowed { Decision::Allow } else { Decision::Deny }
}

/// True when the request's field selector pins `field` to `value`.
fn selector_pins(resource: &ResourceAttributes, field: &str, value: &str) -> bool {
    FieldSelector::parse(&resource.field_selector).is_ok_and(|s| s.required_value(field) == Some(value))
}

/// What a node identity may do: what its kubelet needs, and only for itself.
fn authorize_node(node: &str, verb: &str, r: &ResourceAttributes) -> Decision {
    let reading = matches!(verb, "get" | "list" | "watch");
    let own_name = r.name == node;
    let sub = r.subresource.as_str();
    match (r.group.as_str(), r.resource.as_str()) {
        ("", "pods") => match (verb, sub) {
            ("get", "" | "status") | ("update" | "patch", "status") | ("delete", "") if !r.name.is_empty() => {
                Decision::AllowIf(Condition::PodBoundTo(node.to_string()))
            }
            ("list" | "watch", "") => allow_when(selector_pins(r, "spec.nodeName", node)),
            _ => Decision::Deny,
        },
        ("", "services" | "endpoints") => allow_when(reading && sub.is_empty()),
        // Only by name (get, or a list/watch pinned to one name, as the kubelet's
        // single-object watches are), and only what a pod on this node uses.
        ("", "configmaps" | "secrets")
            if reading && sub.is_empty() && !r.namespace.is_empty() && !r.name.is_empty() =>
        {
            Decision::AllowIf(Condition::UsedByPodOn(node.to_string()))
        }
        ("", "nodes") => match (verb, sub) {
            ("create", "") => Decision::AllowIf(Condition::BodyNamed(node.to_string())),
            ("get" | "update" | "patch", "" | "status") => allow_when(own_name),
            ("list" | "watch", "") => allow_when(selector_pins(r, "metadata.name", node)),
            _ => Decision::Deny,
        },
        ("coordination.k8s.io", "leases") if r.namespace == NODE_LEASE_NAMESPACE && sub.is_empty() => match verb {
            "create" => Decision::AllowIf(Condition::BodyNamed(node.to_string())),
            "get" | "update" | "patch" => allow_when(own_name),
            "list" | "watch" => allow_when(selector_pins(r, "metadata.name", node)),
            _ => Decision::Deny,
        },
        ("" | "events.k8s.io", "events") => {
            allow_when(matches!(verb, "create" | "update" | "patch") && sub.is_empty() && !r.namespace.is_empty())
        }
        _ => Decision::Deny,
    }
}

/// The `User "..." cannot ...` sentence of a refusal, in upstream's wording:
/// `User "system:node:n1" cannot get resource "pods" in API group "" in the namespace
/// "default"`, or `... at the cluster scope`, or `cannot get path "/metrics"`.
pub fn denial_reason(user: &UserInfo, request: &RequestAttributes) -> String {
    match &request.resource {
        None => format!("User {:?} cannot {} path {:?}", user.name, request.verb, request.path),
        Some(r) => {
            let resource =
                if r.subresource.is_empty() { r.resource.clone() } else { format!("{}/{}", r.resource, r.subresource) };
            let scope = if r.namespace.is_empty() {
                "at the cluster scope".to_string()
            } else {
                format!("in the namespace {:?}", r.namespace)
            };
            format!(
                "User {:?} cannot {} resource {resource:?} in API group {:?} {scope}",
                user.name, request.verb, r.group
            )
        }
    }
}

/// Whether a [`Condition`] holds, given what the caller found: the stored pod's
/// `spec.nodeName` (None when there is no such pod or it is unbound) and the name of the
/// object in the request body.
pub fn condition_holds(condition: &Condition, stored_pod_node: Option<&str>, body_name: Option<&str>) -> bool {
    match condition {
        Condition::PodBoundTo(node) => stored_pod_node == Some(node.as_str()),
        Condition::BodyNamed(name) => body_name == Some(name.as_str()),
        // Needs the pods; see `pod_uses`.
        Condition::UsedByPodOn(_) => false,
    }
}

/// True when `pod` (JSON) refers to the `resource` (`secrets` or `configmaps`) named
/// `name`: through a volume (plain or projected), an env var, envFrom, or (secrets) an
/// image pull secret, in any container, init container or ephemeral container.
pub fn pod_uses(pod: &serde_json::Value, resource: &str, name: &str) -> bool {
    use serde_json::Value;
    let spec = &pod["spec"];
    let named = |v: &Value, pointer: &str| v.pointer(pointer).and_then(Value::as_str) == Some(name);
    let items = |v: &Value| v.as_array().map(Vec::as_slice).unwrap_or_default().to_vec();
    let (volume, projected, key_ref, from_ref) = match resource {
        "secrets" => ("/secret/secretName", "/secret/name", "/valueFrom/secretKeyRef/name", "/secretRef/name"),
        "configmaps" => ("/configMap/name", "/configMap/name", "/valueFrom/configMapKeyRef/name", "/configMapRef/name"),
        _ => return false,
    };
    let in_volumes = items(&spec["volumes"])
        .iter()
        .any(|v| named(v, volume) || items(&v["projected"]["sources"]).iter().any(|source| named(source, projected)));
    let in_containers = ["containers", "initContainers", "ephemeralContainers"].iter().any(|list| {
        items(&spec[*list]).iter().any(|c| {
            items(&c["env"]).iter().any(|e| named(e, key_ref))
                || items(&c["envFrom"]).iter().any(|e| named(e, from_ref))
        })
    });
    let pull_secret = resource == "secrets" && items(&spec["imagePullSecrets"]).iter().any(|s| named(s, "/name"));
    in_volumes || in_containers || pull_secret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> UserInfo {
        UserInfo::authenticated("reddwarf-admin", [MASTERS_GROUP.to_string()])
    }

    fn node(name: &str) -> UserInfo {
        UserInfo::authenticated(format!("{NODE_USER_PREFIX}{name}"), [NODES_GROUP.to_string()])
    }

    fn http(method: &str, path: &str, query: &str) -> RequestAttributes {
        RequestAttributes::from_http(method, path, query)
    }

    #[test]
    fn parses_requests_like_upstream() {
        let r = http("GET", "/api/v1/namespaces/default/pods/web/status", "");
        assert_eq!(r.verb, "get");
        let res = r.resource.unwrap();
        assert_eq!(
            (res.group.as_str(), res.resource.as_str(), res.namespace.as_str(), res.name.as_str()),
            ("", "pods", "default", "web")
        );
        assert_eq!(res.subresource, "status");

        let r = http("GET", "/api/v1/pods", "watch=true&fieldSelector=spec.nodeName%3Dn1");
        assert_eq!(r.verb, "watch");
        assert_eq!(r.resource.unwrap().field_selector, "spec.nodeName=n1");

        let r = http("GET", "/api/v1/nodes", "fieldSelector=metadata.name%3Dn1");
        assert_eq!((r.verb.as_str(), r.resource.unwrap().name.as_str()), ("list", "n1"));

        let r = http("PUT", "/api/v1/namespaces/team/finalize", "");
        let res = r.resource.unwrap();
        assert_eq!((r.verb.as_str(), res.resource.as_str(), res.name.as_str()), ("update", "namespaces", "team"));
        assert_eq!(res.subresource, "finalize");

        let r = http("DELETE", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", "");
        assert_eq!(r.verb, "deletecollection");
        assert_eq!(r.resource.unwrap().group, "coordination.k8s.io");

        for path in ["/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/metrics", "/version", "/"] {
            let r = http("GET", path, "");
            assert!(r.resource.is_none(), "{path}");
            assert_eq!(r.verb, "get");
        }
    }

    #[test]
    fn masters_may_do_everything() {
        for (method, path) in [("DELETE", "/api/v1/nodes/n1"), ("GET", "/metrics"), ("POST", "/debug/anything")] {
            assert_eq!(authorize(&admin(), &http(method, path, "")), Decision::Allow, "{method} {path}");
        }
    }

    #[test]
    fn others_get_discovery_and_self_reviews_only() {
        let nobody = UserInfo::authenticated("alice", []);
        assert_eq!(authorize(&nobody, &http("GET", "/apis", "")), Decision::Allow);
        assert_eq!(authorize(&nobody, &http("GET", "/openapi/v3/api/v1", "")), Decision::Allow);
        assert_eq!(authorize(&nobody, &http("GET", "/metrics", "")), Decision::Deny);
        assert_eq!(authorize(&nobody, &http("GET", "/debug/actors", "")), Decision::Deny);
        assert_eq!(authorize(&nobody, &http("GET", "/api/v1/pods", "")), Decision::Deny);
        let review = http("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "");
        assert_eq!(authorize(&nobody, &review), Decision::Allow);
        let whoami = http("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "");
        assert_eq!(authorize(&nobody, &whoami), Decision::Allow);
        // A user merely named like a node, without the group, is not a node.
        let impostor = UserInfo::authenticated("system:node:n1", []);
        assert_eq!(authorize(&impostor, &http("GET", "/api/v1/services", "")), Decision::Deny);
    }

    #[test]
    fn a_node_may_do_what_its_kubelet_needs() {
        let n1 = node("n1");
        let bound = Decision::AllowIf(Condition::PodBoundTo("n1".into()));
        let named = Decision::AllowIf(Condition::BodyNamed("n1".into()));
        let used = Decision::AllowIf(Condition::UsedByPodOn("n1".into()));
        let cases: &[(&str, &str, &str, Decision)] = &[
            // Pods: only those bound to it, and lists only of its own.
            ("GET", "/api/v1/namespaces/default/pods/x", "", bound.clone()),
            ("GET", "/api/v1/namespaces/default/pods/x/status", "", bound.clone()),
            ("PATCH", "/api/v1/namespaces/default/pods/x/status", "", bound.clone()),
            ("PUT", "/api/v1/namespaces/default/pods/x/status", "", bound.clone()),
            ("DELETE", "/api/v1/namespaces/default/pods/x", "", bound.clone()),
            ("GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn1", Decision::Allow),
            ("GET", "/api/v1/pods", "watch=1&fieldSelector=spec.nodeName%3Dn1", Decision::Allow),
            ("GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn2", Decision::Deny),
            ("GET", "/api/v1/pods", "fieldSelector=spec.nodeName!%3Dn1", Decision::Deny),
            ("GET", "/api/v1/pods", "", Decision::Deny),
            ("POST", "/api/v1/namespaces/default/pods", "", Decision::Deny),
            ("PUT", "/api/v1/namespaces/default/pods/x", "", Decision::Deny),
            ("PATCH", "/api/v1/namespaces/default/pods/x", "", Decision::Deny),
            ("POST", "/api/v1/namespaces/default/pods/x/binding", "", Decision::Deny),
            ("DELETE", "/api/v1/namespaces/default/pods", "", Decision::Deny),
            // What pods reference.
            ("GET", "/api/v1/services", "", Decision::Allow),
            ("GET", "/api/v1/namespaces/default/endpoints/web", "", Decision::Allow),
            ("GET", "/api/v1/namespaces/default/secrets/s", "", used.clone()),
            (
                "GET",
                "/api/v1/namespaces/default/configmaps",
                "watch=true&fieldSelector=metadata.name%3Dc",
                used.clone(),
            ),
            ("GET", "/api/v1/namespaces/default/configmaps", "watch=true", Decision::Deny),
            ("GET", "/api/v1/namespaces/default/secrets", "", Decision::Deny),
            ("GET", "/api/v1/secrets", "", Decision::Deny),
            ("POST", "/api/v1/namespaces/default/services", "", Decision::Deny),
            ("DELETE", "/api/v1/namespaces/default/configmaps/c", "", Decision::Deny),
            // Its own Node.
            ("POST", "/api/v1/nodes", "", named.clone()),
            ("GET", "/api/v1/nodes/n1", "", Decision::Allow),
            ("PATCH", "/api/v1/nodes/n1/status", "", Decision::Allow),
            ("PUT", "/api/v1/nodes/n1", "", Decision::Allow),
            ("GET", "/api/v1/nodes", "fieldSelector=metadata.name%3Dn1", Decision::Allow),
            ("PATCH", "/api/v1/nodes/n2/status", "", Decision::Deny),
            ("GET", "/api/v1/nodes/n2", "", Decision::Deny),
            ("DELETE", "/api/v1/nodes/n1", "", Decision::Deny),
            ("GET", "/api/v1/nodes", "", Decision::Deny),
            // Its own Lease.
            ("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", "", named.clone()),
            ("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "", Decision::Allow),
            ("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "", Decision::Allow),
            ("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2", "", Decision::Deny),
            ("PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/n1", "", Decision::Deny),
            ("DELETE", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "", Decision::Deny),
            // Events.
            ("POST", "/api/v1/namespaces/default/events", "", Decision::Allow),
            ("PATCH", "/apis/events.k8s.io/v1/namespaces/default/events/e", "", Decision::Allow),
            ("GET", "/api/v1/namespaces/default/events", "", Decision::Deny),
            ("DELETE", "/api/v1/namespaces/default/events/e", "", Decision::Deny),
            // Everything else.
            ("GET", "/api/v1/namespaces", "", Decision::Deny),
            ("GET", "/metrics", "", Decision::Deny),
            ("GET", "/debug/actors", "", Decision::Deny),
            ("GET", "/api/v1", "", Decision::Allow),
        ];
        for (method, path, query, want) in cases {
            assert_eq!(&authorize(&n1, &http(method, path, query)), want, "{method} {path}?{query}");
        }
    }

    #[test]
    fn conditions() {
        let bound = Condition::PodBoundTo("n1".into());
        assert!(condition_holds(&bound, Some("n1"), None));
        assert!(!condition_holds(&bound, Some("n2"), None));
        assert!(!condition_holds(&bound, None, None));
        let named = Condition::BodyNamed("n1".into());
        assert!(condition_holds(&named, None, Some("n1")));
        assert!(!condition_holds(&named, None, Some("n2")));
        assert!(!condition_holds(&named, None, None));
    }

    #[test]
    fn bootstrappers_may_only_ask_for_node_credentials() {
        let bootstrap = UserInfo::authenticated("system:bootstrap:abc123", [BOOTSTRAPPERS_GROUP.to_string()]);
        assert_eq!(authorize(&bootstrap, &http("POST", NODE_CREDENTIALS_PATH, "")), Decision::Allow);
        for (method, path) in [
            ("GET", NODE_CREDENTIALS_PATH),
            ("GET", "/api/v1/pods"),
            ("POST", "/api/v1/nodes"),
            ("GET", "/api"),
            ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
        ] {
            assert_eq!(authorize(&bootstrap, &http(method, path, "")), Decision::Deny, "{method} {path}");
        }
        assert_eq!(authorize(&node("n1"), &http("POST", NODE_CREDENTIALS_PATH, "")), Decision::Deny);
    }

    #[test]
    fn what_a_pod_uses() {
        let pod = serde_json::json!({"spec": {
            "volumes": [
                {"name": "a", "secret": {"secretName": "vol-secret"}},
                {"name": "b", "configMap": {"name": "vol-config"}},
                {"name": "c", "projected": {"sources": [{"secret": {"name": "proj-secret"}}, {"configMap": {"name": "proj-config"}}]}},
            ],
            "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "from-secret"}}, {"configMapRef": {"name": "from-config"}}]}],
            "containers": [{"name": "c", "env": [
                {"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}},
                {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "env-config", "key": "k"}}},
            ]}],
            "imagePullSecrets": [{"name": "pull"}],
        }});
        for name in ["vol-secret", "proj-secret", "from-secret", "env-secret", "pull"] {
            assert!(pod_uses(&pod, "secrets", name), "{name}");
            assert!(!pod_uses(&pod, "configmaps", name), "{name}");
        }
        for name in ["vol-config", "proj-config", "from-config", "env-config"] {
            assert!(pod_uses(&pod, "configmaps", name), "{name}");
            assert!(!pod_uses(&pod, "secrets", name), "{name}");
        }
        assert!(!pod_uses(&pod, "secrets", "other"));
        assert!(!pod_uses(&pod, "services", "vol-secret"));
        assert!(!pod_uses(&serde_json::json!({}), "secrets", "x"));
    }

    #[test]
    fn refusals_use_upstream_wording() {
        let n1 = node("n1");
        assert_eq!(
            denial_reason(&n1, &http("GET", "/api/v1/namespaces/default/pods/x", "")),
            r#"User "system:node:n1" cannot get resource "pods" in API group "" in the namespace "default""#
        );
        assert_eq!(
            denial_reason(&n1, &http("PATCH", "/api/v1/nodes/n2/status", "")),
            r#"User "system:node:n1" cannot patch resource "nodes/status" in API group "" at the cluster scope"#
        );
        assert_eq!(
            denial_reason(&n1, &http("GET", "/metrics", "")),
            r#"User "system:node:n1" cannot get path "/metrics""#
        );
    }

    #[test]
    fn node_names() {
        assert_eq!(node("n1").node_name(), Some("n1"));
        assert_eq!(UserInfo::authenticated("system:node:", [NODES_GROUP.to_string()]).node_name(), None);
        assert_eq!(admin().node_name(), None);
        assert_eq!(admin().groups, vec![MASTERS_GROUP.to_string(), AUTHENTICATED_GROUP.to_string()]);
    }
}
