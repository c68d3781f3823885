//! Resource URLs: `/api/v1/...` and `/apis/<group>/<version>/...`, resolved through the
//! registry into a [`Route`]: the resource, the namespace, the object name and the
//! subresource. A path the registry does not know is a 404, as upstream.

use crate::api::registry::{self, ResourceDef, Subresource};
use crate::api::status::ApiError;

/// A resolved resource URL.
#[derive(Debug, Clone)]
pub struct Route {
    /// The resource.
    pub def: &'static ResourceDef,
    /// The namespace in the URL, for namespaced resources.
    pub namespace: Option<String>,
    /// The object name, when the URL names one.
    pub name: Option<String>,
    /// The subresource, when the URL names one.
    pub subresource: Option<&'static Subresource>,
}

/// Resolves a request path; `None` when it is not a resource URL at all.
pub fn parse(path: &str) -> Result<Route, ApiError> {
    let (group, version, rest) = if let Some(rest) = path.strip_prefix("/api/v1/") {
        ("", "v1", rest)
    } else if let Some(rest) = path.strip_prefix("/apis/") {
        let mut parts = rest.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(g), Some(v), Some(rest)) => (g, v, rest),
            _ => return Err(ApiError::no_such_resource()),
        }
    } else {
        return Err(ApiError::no_such_resource());
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(ApiError::no_such_resource());
    }
    let namespace_subresource =
        |s: &str| registry::find(group, version, "namespaces").and_then(|d| d.subresource(s)).is_some();
    let (namespace, plural, name, sub) = match segments.as_slice() {
        ["namespaces", ns, plural, tail @ ..] if !(tail.is_empty() && namespace_subresource(plural)) => {
            if tail.len() > 2 {
                return Err(ApiError::no_such_resource());
            }
            (Some(*ns), *plural, tail.first().copied(), tail.get(1).copied())
        }
        [plural, tail @ ..] => {
            if tail.len() > 2 {
                return Err(ApiError::no_such_resource());
            }
            (None, *plural, tail.first().copied(), tail.get(1).copied())
        }
        [] => return Err(ApiError::no_such_resource()),
    };
    let def = registry::find(group, version, plural).ok_or_else(ApiError::no_such_resource)?;
    if namespace.is_some() && !def.namespaced {
        return Err(ApiError::no_such_resource());
    }
    if def.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::no_such_resource());
    }
    let subresource = match sub {
        Some(s) => Some(def.subresource(s).ok_or_else(ApiError::no_such_resource)?),
        None => None,
    };
    for segment in namespace.iter().chain(name.iter()) {
        check_path_segment(segment)?;
    }
    Ok(Route { def, namespace: namespace.map(str::to_string), name: name.map(str::to_string), subresource })
}

/// Names in URLs may not be `.` or `..` or contain `/` or `%` (upstream's
/// `IsValidPathSegmentName`).
fn check_path_segment(segment: &str) -> Result<(), ApiError> {
    let problem = match segment {
        "." => Some("may not be '.'"),
        ".." => Some("may not be '..'"),
        s if s.contains('%') => Some("may not contain '%'"),
        _ => None,
    };
    match problem {
        Some(p) => Err(ApiError::bad_request(format!("invalid resource name {segment:?}: [{p}]"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> (String, Option<String>, Option<String>, Option<String>) {
        let r = parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        (r.def.plural.to_string(), r.namespace, r.name, r.subresource.map(|s| s.name.to_string()))
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn resolves() {
        assert_eq!(route("/api/v1/pods"), ("pods".into(), None, None, None));
        assert_eq!(route("/api/v1/namespaces/default/pods"), ("pods".into(), s("default"), None, None));
        assert_eq!(route("/api/v1/namespaces/default/pods/web"), ("pods".into(), s("default"), s("web"), None));
        assert_eq!(
            route("/api/v1/namespaces/default/pods/web/status"),
            ("pods".into(), s("default"), s("web"), s("status"))
        );
        assert_eq!(route("/api/v1/namespaces"), ("namespaces".into(), None, None, None));
        assert_eq!(route("/api/v1/namespaces/team"), ("namespaces".into(), None, s("team"), None));
        assert_eq!(route("/api/v1/namespaces/team/status"), ("namespaces".into(), None, s("team"), s("status")));
        assert_eq!(route("/api/v1/namespaces/team/finalize"), ("namespaces".into(), None, s("team"), s("finalize")));
        assert_eq!(route("/api/v1/nodes/n1/status"), ("nodes".into(), None, s("n1"), s("status")));
        assert_eq!(
            route("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"),
            ("leases".into(), s("kube-node-lease"), s("n1"), None)
        );
    }

    #[test]
    fn rejects() {
        for path in [
            "/api/v1/bogus",
            "/api/v1/namespaces/default/nodes/n1",
            "/api/v1/pods/web",
            "/api/v1/namespaces/default/pods/web/nope",
            "/api/v1/namespaces/default/pods/web/status/extra",
            "/apis/apps/v1/deployments",
            "/api/v2/pods",
            "/api/v1//pods",
        ] {
            assert_eq!(parse(path).unwrap_err().code, 404, "{path}");
        }
        assert_eq!(parse("/api/v1/namespaces/default/pods/..").unwrap_err().code, 400);
    }
}
