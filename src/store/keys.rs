//! The key layout, as the apiserver lays out etcd: `/registry/<resource>/<namespace>/<name>`
//! for namespaced objects and `/registry/<resource>/<name>` for cluster-scoped ones. The
//! resource part is the plural name for the core group and `<group>/<plural>` otherwise.
//! Names never contain `/` (they are validated first), so prefixes cannot overlap.

/// The storage path segment for a resource.
pub fn resource_path(group: &str, plural: &str) -> String {
    if group.is_empty() { plural.to_string() } else { format!("{group}/{plural}") }
}

/// The key of one object.
pub fn object_key(resource: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("/registry/{resource}/{ns}/{name}"),
        None => format!("/registry/{resource}/{name}"),
    }
}

/// The prefix of every object of a resource, or of those in one namespace.
pub fn collection_prefix(resource: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("/registry/{resource}/{ns}/"),
        None => format!("/registry/{resource}/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(object_key("pods", Some("default"), "web"), "/registry/pods/default/web");
        assert_eq!(object_key("nodes", None, "n1"), "/registry/nodes/n1");
        assert_eq!(resource_path("coordination.k8s.io", "leases"), "coordination.k8s.io/leases");
        let prefix = collection_prefix("pods", Some("default"));
        assert!(object_key("pods", Some("default"), "a").starts_with(&prefix));
        assert!(!object_key("pods", Some("default-2"), "a").starts_with(&prefix));
    }
}
