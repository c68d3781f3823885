//! PATCH: JSON patch, JSON merge patch and strategic merge patch (with the patch
//! strategies of the built-in types from `model::patch`), on objects and on `/status`.
//! The patch is applied to the object as the client sees it; the result then takes the
//! same path as a PUT (`write::update_object`): kept parts, codec, precondition, retries.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::api::ApiState;
use crate::api::managed::{FieldManager, schema_of};
use crate::api::path::Route;
use crate::api::request::{Params, read_body};
use crate::api::status::ApiError;
use crate::api::write::{
    Part, WriteOptions, check_name, check_namespace, check_type_meta, create_object, update_object,
};
use crate::model::patch::{PatchKind, apply_patch};
use crate::model::validation::FieldError;

/// The media type of server-side apply.
const APPLY: &str = "application/apply-patch+yaml";

fn media_type(req: &HttpRequest) -> String {
    let header = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    header.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn resource_version(value: &Value) -> Option<&str> {
    value.pointer("/metadata/resourceVersion").and_then(Value::as_str)
}

/// `PATCH` of an object or its status.
pub async fn patch(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    route: &Route,
    params: &Params,
    part: Part,
) -> Result<HttpResponse, ApiError> {
    let media = media_type(req);
    if media == APPLY {
        return server_side_apply(req, payload, state, route, params, part).await;
    }
    let kind = PatchKind::from_content_type(&media).ok_or_else(|| ApiError::unsupported_patch_type(&media))?;
    let options = WriteOptions::from_request(req, params, route, part, state)?;
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let schema = schema_of(route);
    let name = route.name.clone().unwrap_or_default();
    let desired = |current: &Value| {
        let mut patched = apply_patch(kind, current, &body, schema).map_err(ApiError::from_patch)?;
        // A resourceVersion in the patch is a precondition, as upstream.
        if resource_version(&patched) != resource_version(current) {
            return Err(ApiError::conflict(route.subject(&name)));
        }
        check_type_meta(route, &mut patched, route.def.kind)?;
        check_name(route, &patched)?;
        check_namespace(route, &patched)?;
        Ok(patched)
    };
    update_object(state, route, part, None, &options, desired).await
}

/// Server-side apply (`application/apply-patch+yaml`): merges the applied configuration
/// with the field ownership of every manager; creates the object when it is missing.
async fn server_side_apply(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    route: &Route,
    params: &Params,
    part: Part,
) -> Result<HttpResponse, ApiError> {
    if params.non_empty("fieldManager").is_none() {
        return Err(ApiError::invalid(
            crate::api::status::Subject {
                resource: "patchoptions",
                group: "meta.k8s.io",
                kind: "PatchOptions.meta.k8s.io",
                name: "",
            },
            vec![FieldError::required("fieldManager", "is required for apply patch")],
        ));
    }
    let force = params.flag("force");
    let options = WriteOptions::from_request(req, params, route, part, state)?;
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let config: Value =
        serde_yaml::from_slice(&body).map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(ApiError::bad_request("error decoding YAML: the applied configuration is not an object"));
    }
    check_name(route, &config)?;
    check_namespace(route, &config)?;
    if state.store.get(&route.key()).is_none() {
        if part != Part::Main {
            return Err(ApiError::not_found(route.subject(route.name.as_deref().unwrap_or(""))));
        }
        let object = options.fields.apply(route, None, config, force)?;
        return create_object(state, route, object, &options.without_field_tracking()).await;
    }
    let fields = options.fields;
    let options = WriteOptions { fields: FieldManager::passthrough(), ..options };
    let desired = |current: &Value| {
        let mut applied = fields.apply(route, Some(current), config.clone(), force)?;
        check_type_meta(route, &mut applied, route.def.kind)?;
        Ok(applied)
    };
    update_object(state, route, part, None, &options, desired).await
}
