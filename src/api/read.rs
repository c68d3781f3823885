//! GET of one object and of collections (LIST), with label and field selectors,
//! `limit`/`continue` pagination pinned to the first page's revision, the
//! `resourceVersion` semantics of the apiserver, and Table output for kubectl.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::api::ApiState;
use crate::api::path::Route;
use crate::api::request::{Params, accept, wants_table};
use crate::api::status::ApiError;
use crate::api::table::{self, IncludeObject};
use crate::model::fields::FieldSelector;
use crate::model::labels::LabelSelector;
use crate::store::{Object, ReadAt, Revision, Selection};

/// `GET` of one object (also `/status`, which returns the whole object).
pub fn get(req: &HttpRequest, state: &ApiState, route: &Route) -> Result<HttpResponse, ApiError> {
    let name = route.name.as_deref().unwrap_or("");
    let object = state.store.get(&route.key()).ok_or_else(|| ApiError::not_found(route.subject(name)))?;
    if wants_table(&accept(req)) {
        let include = IncludeObject::parse(Params::parse(req.query_string()).get("includeObject"));
        let row = table::row(route.def.table, &route.def.codec.present(object.json()), include, state.clock.now());
        let body =
            table::table(route.def.table, vec![row], json!({"resourceVersion": object.revision.to_string()}), true);
        return Ok(json_body(body.to_string().into_bytes()));
    }
    Ok(json_body(route.def.codec.present_bytes(&object.value)))
}

/// An `application/json` 200 response.
pub(crate) fn json_body(body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(body)
}

/// The selection a list or watch asks for: namespace, label and field selectors.
pub(crate) fn selection(route: &Route, params: &Params) -> Result<Selection, ApiError> {
    let labels = LabelSelector::parse(params.get("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let fields = FieldSelector::parse(params.get("fieldSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    for term in fields.terms() {
        if !route.def.selectable(&term.field) {
            return Err(ApiError::bad_request(format!("field label not supported: {}", term.field)));
        }
    }
    let fields = fields.map_fields(|f| route.def.codec.stored_field(f));
    let mut prefix = route.def.prefix(route.namespace.as_deref());
    // `metadata.name=x` (kubectl get pod x -w) narrows the scan to one key.
    if let Some(name) = fields.required_value("metadata.name") {
        let ns = route.namespace.as_deref().or_else(|| fields.required_value("metadata.namespace"));
        if !route.def.namespaced || ns.is_some() {
            prefix = route.def.key(ns, name);
        }
    }
    Ok(Selection { prefix, labels, fields })
}

/// The opaque continue token: the revision the listing is pinned to and the last key sent.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: Revision,
    start: String,
}

fn encode_continue(revision: Revision, after: &str) -> String {
    let token = ContinueToken { v: "meta.k8s.io/v1".into(), rv: revision, start: after.to_string() };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("token serializes"))
}

fn decode_continue(token: &str, selection: &Selection) -> Result<ContinueToken, ApiError> {
    let invalid = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).map_err(|_| invalid("not base64"))?;
    let token: ContinueToken = serde_json::from_slice(&bytes).map_err(|_| invalid("not a continue token"))?;
    if token.v != "meta.k8s.io/v1" || !token.start.starts_with(&selection.prefix) {
        return Err(invalid("it does not belong to this list"));
    }
    Ok(token)
}

/// Where a list reads, from `resourceVersion` and `resourceVersionMatch`.
fn read_at(state: &ApiState, params: &Params) -> Result<ReadAt, ApiError> {
    let version = params.non_empty("resourceVersion");
    let exact = match params.non_empty("resourceVersionMatch") {
        None | Some("NotOlderThan") => false,
        Some("Exact") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "resourceVersionMatch: Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
            )));
        }
    };
    let Some(version) = version else {
        if exact {
            return Err(ApiError::bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided"));
        }
        return Ok(ReadAt::Latest);
    };
    let revision: Revision = version
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {version:?}: must be an integer")))?;
    if exact {
        return Ok(ReadAt::Exact(revision));
    }
    let current = state.store.revision();
    if revision > current {
        return Err(ApiError::too_large_resource_version(revision, current));
    }
    Ok(ReadAt::Latest)
}

/// `GET` of a collection.
pub fn list(req: &HttpRequest, state: &ApiState, route: &Route, params: &Params) -> Result<HttpResponse, ApiError> {
    let selection = selection(route, params)?;
    let limit = params.int("limit")?.filter(|l| *l > 0).map(|l| l as usize);
    let (at, start_after) = match params.non_empty("continue") {
        Some(token) => {
            let token = decode_continue(token, &selection)?;
            (ReadAt::Exact(token.rv), Some(token.start))
        }
        None => (read_at(state, params)?, None),
    };
    let page = state.store.list(&selection, at, limit, start_after.as_deref()).map_err(|e| match e {
        crate::store::StoreError::Compacted { .. } if start_after.is_some() => ApiError::expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        ),
        other => ApiError::from_store(other, route.subject("")),
    })?;
    let mut metadata = json!({"resourceVersion": page.revision.to_string()});
    if let Some(after) = &page.continue_after {
        metadata["continue"] = json!(encode_continue(page.revision, after));
    }
    if wants_table(&accept(req)) {
        let include = IncludeObject::parse(params.get("includeObject"));
        let now = state.clock.now();
        let rows = page
            .items
            .iter()
            .map(|o| table::row(route.def.table, &route.def.codec.present(o.json()), include, now))
            .collect();
        return Ok(json_body(table::table(route.def.table, rows, metadata, true).to_string().into_bytes()));
    }
    Ok(json_body(list_body(route, &metadata, &page.items)))
}

/// A `<Kind>List` assembled from the stored bytes, without re-encoding the items.
fn list_body(route: &Route, metadata: &Value, items: &[Arc<Object>]) -> Vec<u8> {
    let size: usize = items.iter().map(|o| o.value.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 128);
    let head =
        json!({"kind": format!("{}List", route.def.kind), "apiVersion": route.def.api_version(), "metadata": metadata})
            .to_string();
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&route.def.codec.present_bytes(&item.value));
    }
    out.extend_from_slice(b"]}");
    out
}
