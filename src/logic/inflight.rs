//! Which in-flight pool a request draws from, decided from what it asks and who asks. Reads
//! and mutations have separate limits (upstream's `--max-requests-inflight` and
//! `--max-mutating-requests-inflight`); watches are long-running and counted apart; a
//! node's heartbeat (its Lease in `kube-node-lease`, its Node's status) gets a small
//! reserved pool of its own, so a flood of other requests cannot make nodes look dead. This
//! module only classifies: the API layer owns the counters.

use crate::logic::authorize::{NODE_LEASE_NAMESPACE, RequestAttributes, UserInfo};

/// The pool a request is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Reads: get, list, and non-resource GETs.
    ReadOnly,
    /// Writes.
    Mutating,
    /// Watches: they last minutes, so they do not hold a read slot.
    LongRunning,
    /// A node renewing its Lease or writing its Node's status.
    Heartbeat,
}

impl RequestKind {
    /// The `request_kind` label of `apiserver_current_inflight_requests` (upstream's
    /// `readOnly` and `mutating`, plus ours).
    pub fn label(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::Mutating => "mutating",
            Self::LongRunning => "longRunning",
            Self::Heartbeat => "heartbeat",
        }
    }
}

/// Classifies a request made by `user` (None: anonymous).
pub fn classify(request: &RequestAttributes, user: Option<&UserInfo>) -> RequestKind {
    if request.verb == "watch" {
        return RequestKind::LongRunning;
    }
    if let (Some(node), Some(r)) = (user.and_then(UserInfo::node_name), &request.resource) {
        let own_lease = r.group == "coordination.k8s.io"
            && r.resource == "leases"
            && r.namespace == NODE_LEASE_NAMESPACE
            && r.subresource.is_empty()
            && (r.name == node || (request.verb == "create" && r.name.is_empty()))
            && matches!(request.verb.as_str(), "get" | "create" | "update" | "patch");
        let own_node_status = r.group.is_empty()
            && r.resource == "nodes"
            && r.subresource == "status"
            && r.name == node
            && matches!(request.verb.as_str(), "get" | "update" | "patch");
        if own_lease || own_node_status {
            return RequestKind::Heartbeat;
        }
    }
    match request.verb.as_str() {
        "get" | "list" | "head" | "options" => RequestKind::ReadOnly,
        _ => RequestKind::Mutating,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::authorize::{MASTERS_GROUP, NODES_GROUP};

    #[test]
    fn pools() {
        let node = UserInfo::authenticated("system:node:n1", [NODES_GROUP.to_string()]);
        let admin = UserInfo::authenticated("reddwarf-admin", [MASTERS_GROUP.to_string()]);
        let lease = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
        let cases: &[(&str, &str, &str, Option<&UserInfo>, RequestKind)] = &[
            ("GET", "/api/v1/pods", "", Some(&admin), RequestKind::ReadOnly),
            ("GET", "/api/v1/pods", "watch=true", Some(&admin), RequestKind::LongRunning),
            ("GET", "/api/v1/pods", "watch=1&fieldSelector=spec.nodeName%3Dn1", Some(&node), RequestKind::LongRunning),
            ("GET", "/version", "", None, RequestKind::ReadOnly),
            ("POST", "/api/v1/namespaces/default/pods", "", Some(&admin), RequestKind::Mutating),
            ("PUT", &format!("{lease}/n1"), "", Some(&node), RequestKind::Heartbeat),
            ("GET", &format!("{lease}/n1"), "", Some(&node), RequestKind::Heartbeat),
            ("POST", lease, "", Some(&node), RequestKind::Heartbeat),
            ("PUT", &format!("{lease}/n2"), "", Some(&node), RequestKind::Mutating),
            ("PUT", &format!("{lease}/n1"), "", Some(&admin), RequestKind::Mutating),
            ("PATCH", "/api/v1/nodes/n1/status", "", Some(&node), RequestKind::Heartbeat),
            ("PATCH", "/api/v1/nodes/n1", "", Some(&node), RequestKind::Mutating),
            ("PATCH", "/api/v1/nodes/n2/status", "", Some(&node), RequestKind::Mutating),
        ];
        for (method, path, query, user, want) in cases {
            let request = RequestAttributes::from_http(method, path, query);
            assert_eq!(classify(&request, *user), *want, "{method} {path}?{query}");
        }
    }
}
