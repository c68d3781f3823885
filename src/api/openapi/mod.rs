//! OpenAPI v3: `GET /openapi/v3` (the index) and `GET /openapi/v3/<api/v1 | apis/<g>/<v>>`
//! (one document per group-version), generated from the registry ([`paths`]) and the
//! `k8s-openapi` types ([`schemas`]). kubectl 1.29+ reads them for `explain`, for the
//! strategic-merge metadata of `apply`, and to decide that the server validates fields (so
//! `apply`, `create -f` and `edit` work without `--validate=false`; reference §6).
//!
//! Every document is built once, on first use, and kept as serialized bytes with the
//! SHA-512 of those bytes; the index points at each document with `?hash=<that hash>`, the
//! hash is the `ETag`, and `If-None-Match` is answered with 304.

mod paths;
mod schemas;

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use crate::api::registry::{self, RESOURCES, ResourceDef};
use crate::api::request::Params;
use crate::api::status::ApiError;
use crate::api::system::KUBERNETES_VERSION;

/// One serialized document.
struct Served {
    /// `api/v1` or `apis/<group>/<version>`, as in the index and the URL.
    path: String,
    /// The JSON.
    body: Bytes,
    /// Upper-case hex SHA-512 of `body`.
    hash: String,
}

impl Served {
    fn new(path: String, document: &Value) -> Self {
        let body = Bytes::from(serde_json::to_vec(document).expect("a JSON value serializes"));
        let hash = hex::encode_upper(Sha512::digest(&body));
        Served { path, body, hash }
    }
}

struct Documents {
    index: Served,
    groups: Vec<Served>,
}

/// `api/v1` or `apis/<group>/<version>`.
fn document_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

/// Every group-version the registry serves, in registry order.
fn group_versions() -> Vec<(&'static str, &'static str)> {
    registry::groups().into_iter().flat_map(|(group, versions)| versions.into_iter().map(move |v| (group, v))).collect()
}

/// The OpenAPI document of one group-version, or None when the registry serves nothing
/// there.
pub fn document(group: &str, version: &str) -> Option<Value> {
    let resources: Vec<&'static ResourceDef> =
        RESOURCES.iter().filter(|d| d.group == group && d.version == version).collect();
    if resources.is_empty() {
        return None;
    }
    let schemas = schemas::build(&resources, &group_versions());
    let paths = paths::build(&resources, &schemas);
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": paths,
        "components": {
            "schemas": schemas.schemas,
            "securitySchemes": {
                "BearerToken": {"type": "apiKey", "description": "Bearer Token authentication", "name": "authorization", "in": "header"},
            },
        },
        "security": [{"BearerToken": []}],
    }))
}

static DOCUMENTS: OnceLock<Documents> = OnceLock::new();

fn documents() -> &'static Documents {
    DOCUMENTS.get_or_init(|| {
        let groups: Vec<Served> = group_versions()
            .into_iter()
            .filter_map(|(group, version)| Some(Served::new(document_path(group, version), &document(group, version)?)))
            .collect();
        let entries: Map<String, Value> = groups
            .iter()
            .map(|d| (d.path.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{}?hash={}", d.path, d.hash)})))
            .collect();
        let index = Served::new(String::new(), &json!({ "paths": entries }));
        Documents { index, groups }
    })
}

/// The documents; the first caller builds them on the blocking pool rather than on an
/// event loop (it takes a moment: every schema of every group-version).
async fn loaded() -> &'static Documents {
    match DOCUMENTS.get() {
        Some(documents) => documents,
        None => web::block(documents).await.unwrap_or_else(|_| documents()),
    }
}

/// Whether the request's `If-None-Match` names `hash`.
fn not_modified(req: &HttpRequest, hash: &str) -> bool {
    let Some(value) = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else { return false };
    value
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|tag| tag == hash || tag == "*")
}

fn respond(req: &HttpRequest, served: &Served) -> HttpResponse {
    let etag = format!("\"{}\"", served.hash);
    // A URL that names the current hash is immutable; any other answer may change.
    let current = Params::parse(req.query_string()).get("hash") == Some(served.hash.as_str());
    let cache = if current { "public, immutable" } else { "no-cache, private" };
    if not_modified(req, &served.hash) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(served.body.clone())
}

/// `GET /openapi/v3`.
pub async fn index(req: HttpRequest) -> HttpResponse {
    respond(&req, &loaded().await.index)
}

/// `GET /openapi/v3/{path}`: a group-version's document; the index for an empty path.
pub async fn group_version(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let path = path.trim_end_matches('/');
    let documents = loaded().await;
    if path.is_empty() {
        return Ok(respond(&req, &documents.index));
    }
    let served = documents.groups.iter().find(|d| d.path == path).ok_or_else(ApiError::no_such_resource)?;
    Ok(respond(&req, served))
}

#[cfg(test)]
mod tests;
