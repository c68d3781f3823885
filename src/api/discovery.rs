//! API discovery, from the registry: the legacy documents (`/api`, `/apis`, `/api/v1`,
//! `/apis/<g>/<v>`, `/apis/<g>`) and the aggregated `APIGroupDiscoveryList` in v2 and
//! v2beta1, chosen by the Accept header with the exact Content-Type kubectl checks.
//! kubectl ≤1.29 understands only v2beta1 and later ones prefer v2 (reference §2). The
//! create-only review resources of [`crate::api::review`] are listed beside the registry's.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::api::registry::{self, RESOURCES, ResourceDef};
use crate::api::request::{MediaRange, accept};
use crate::api::review::{REVIEW_RESOURCES, REVIEW_VERBS, ReviewResource};
use crate::api::status::ApiError;

/// The aggregated discovery version a client asked for, if any.
fn aggregated_version(ranges: &[MediaRange]) -> Option<&'static str> {
    for range in ranges {
        if range.media_type == "application/json"
            && range.param("as") == Some("APIGroupDiscoveryList")
            && range.param("g") == Some("apidiscovery.k8s.io")
        {
            match range.param("v") {
                Some("v2") => return Some("v2"),
                Some("v2beta1") => return Some("v2beta1"),
                _ => {}
            }
        }
    }
    None
}

fn aggregated_response(version: &str, items: Vec<Value>) -> HttpResponse {
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    });
    HttpResponse::Ok()
        .content_type(format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"))
        .insert_header(("Vary", "Accept"))
        .body(body.to_string())
}

fn json_response(body: Value) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").insert_header(("Vary", "Accept")).body(body.to_string())
}

fn resources_of(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceDef> {
    RESOURCES.iter().filter(move |d| d.group == group && d.version == version)
}

fn reviews_of(group: &str, version: &str) -> impl Iterator<Item = &'static ReviewResource> {
    REVIEW_RESOURCES.iter().filter(move |r| r.group == group && r.versions.contains(&version))
}

/// Every served group with its versions: the registry's, then the review resources'.
fn served_groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut groups = registry::groups();
    for review in REVIEW_RESOURCES {
        match groups.iter_mut().find(|(g, _)| *g == review.group) {
            Some((_, versions)) => {
                for version in review.versions {
                    if !versions.contains(version) {
                        versions.push(version);
                    }
                }
            }
            None => groups.push((review.group, review.versions.to_vec())),
        }
    }
    groups
}

fn aggregated_review(review: &ReviewResource, version: &str) -> Value {
    json!({
        "resource": review.plural,
        "responseKind": {"group": review.group, "version": version, "kind": review.kind},
        "scope": "Cluster",
        "singularResource": review.singular,
        "verbs": REVIEW_VERBS,
    })
}

fn aggregated_resource(def: &ResourceDef) -> Value {
    let mut entry = json!({
        "resource": def.plural,
        "responseKind": {"group": def.group, "version": def.version, "kind": def.kind},
        "scope": if def.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": def.singular,
        "verbs": def.verbs(),
    });
    if !def.short_names.is_empty() {
        entry["shortNames"] = json!(def.short_names);
    }
    if !def.categories.is_empty() {
        entry["categories"] = json!(def.categories);
    }
    if !def.subresources.is_empty() {
        entry["subresources"] = def
            .subresources
            .iter()
            .map(|s| json!({"subresource": s.name, "responseKind": {"group": s.group, "version": s.version, "kind": s.kind}, "verbs": s.verbs}))
            .collect();
    }
    entry
}

fn aggregated_group(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> = resources_of(group, v)
                .map(aggregated_resource)
                .chain(reviews_of(group, v).map(|r| aggregated_review(r, v)))
                .collect();
            json!({"version": v, "freshness": "Current", "resources": resources})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

fn group_document(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
}

/// `GET /api`.
pub async fn core_versions(req: HttpRequest) -> HttpResponse {
    if let Some(version) = aggregated_version(&accept(&req)) {
        return aggregated_response(version, vec![aggregated_group("", &["v1"])]);
    }
    let address = req.connection_info().host().to_string();
    json_response(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }))
}

/// `GET /apis`.
pub async fn groups(req: HttpRequest) -> HttpResponse {
    let groups: Vec<_> = served_groups().into_iter().filter(|(g, _)| !g.is_empty()).collect();
    if let Some(version) = aggregated_version(&accept(&req)) {
        return aggregated_response(version, groups.iter().map(|(g, v)| aggregated_group(g, v)).collect());
    }
    json_response(json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": groups.iter().map(|(g, v)| group_document(g, v)).collect::<Vec<_>>(),
    }))
}

/// `GET /apis/{group}`.
pub async fn group(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let (group, versions) = served_groups()
        .into_iter()
        .find(|(g, _)| !g.is_empty() && *g == name)
        .ok_or_else(ApiError::no_such_resource)?;
    let mut document = group_document(group, &versions);
    document["kind"] = json!("APIGroup");
    document["apiVersion"] = json!("v1");
    Ok(json_response(document))
}

fn resource_list(group: &str, version: &str) -> Result<HttpResponse, ApiError> {
    let defs: Vec<_> = resources_of(group, version).collect();
    let reviews: Vec<_> = reviews_of(group, version).collect();
    if defs.is_empty() && reviews.is_empty() {
        return Err(ApiError::no_such_resource());
    }
    let mut resources = Vec::new();
    for review in reviews {
        resources.push(json!({
            "name": review.plural,
            "singularName": review.singular,
            "namespaced": false,
            "kind": review.kind,
            "verbs": REVIEW_VERBS,
        }));
    }
    for def in defs {
        let mut entry = json!({
            "name": def.plural,
            "singularName": def.singular,
            "namespaced": def.namespaced,
            "kind": def.kind,
            "verbs": def.verbs(),
        });
        if !def.short_names.is_empty() {
            entry["shortNames"] = json!(def.short_names);
        }
        if !def.categories.is_empty() {
            entry["categories"] = json!(def.categories);
        }
        resources.push(entry);
        for sub in def.subresources {
            let mut entry = json!({
                "name": format!("{}/{}", def.plural, sub.name),
                "singularName": "",
                "namespaced": def.namespaced,
                "kind": sub.kind,
                "verbs": sub.verbs,
            });
            if sub.group != def.group || sub.version != def.version {
                entry["group"] = json!(sub.group);
                entry["version"] = json!(sub.version);
            }
            resources.push(entry);
        }
    }
    let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Ok(json_response(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })))
}

/// `GET /api/v1`.
pub async fn core_resources() -> Result<HttpResponse, ApiError> {
    resource_list("", "v1")
}

/// `GET /apis/{group}/{version}`.
pub async fn group_resources(path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (group, version) = path.into_inner();
    resource_list(&group, &version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::request::parse_accept;

    #[test]
    fn negotiation_follows_kubectl() {
        let new = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        let old = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(&parse_accept(new)), Some("v2"));
        assert_eq!(aggregated_version(&parse_accept(old)), Some("v2beta1"));
        assert_eq!(aggregated_version(&parse_accept("application/json, */*")), None);
    }

    #[test]
    fn aggregated_core_has_what_kubectl_needs() {
        let core = aggregated_group("", &["v1"]);
        assert!(core["metadata"].get("name").is_none());
        let pods =
            core["versions"][0]["resources"].as_array().unwrap().iter().find(|r| r["resource"] == "pods").unwrap();
        assert_eq!(pods["responseKind"]["kind"], "Pod");
        assert_eq!(pods["scope"], "Namespaced");
        assert_eq!(pods["shortNames"][0], "po");
        assert!(pods["subresources"].as_array().unwrap().iter().any(|s| s["subresource"] == "status"));
    }

    #[test]
    fn reviews_are_discoverable() {
        let groups = served_groups();
        assert!(groups.contains(&("authorization.k8s.io", vec!["v1"])));
        assert!(groups.contains(&("authentication.k8s.io", vec!["v1", "v1beta1"])));
        let group = aggregated_group("authorization.k8s.io", &["v1"]);
        let review = &group["versions"][0]["resources"][0];
        assert_eq!(review["resource"], "selfsubjectaccessreviews");
        assert_eq!(review["verbs"], json!(["create"]));
        assert_eq!(review["scope"], "Cluster");
    }
}
