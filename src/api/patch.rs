//! PATCH: JSON patch, JSON merge patch and strategic merge patch (with the patch
//! strategies of the built-in types from `model::patch`), on objects and on `/status`.
//! The patch is applied to the object as the client sees it; the result then takes the
//! same path as a PUT (`write::update_object`): kept parts, codec, precondition, retries.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::api::ApiState;
use crate::api::path::Route;
use crate::api::request::{Params, read_body};
use crate::api::status::ApiError;
use crate::api::write::{FieldValidation, Part, check_name, check_namespace, check_type_meta, update_object};
use crate::model::patch::{PatchKind, apply_patch, schema_for};

/// The longest field manager name upstream accepts.
const MAX_FIELD_MANAGER: usize = 128;

fn patch_kind(req: &HttpRequest) -> Result<PatchKind, ApiError> {
    let header = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    PatchKind::from_content_type(header).ok_or_else(|| ApiError::unsupported_patch_type(header))
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
    let kind = patch_kind(req)?;
    let dry_run = params.dry_run()?;
    let validation = FieldValidation::from_params(params)?;
    if params.get("fieldManager").is_some_and(|m| m.len() > MAX_FIELD_MANAGER) {
        return Err(ApiError::bad_request(format!(
            "fieldManager: Too long: must have at most {MAX_FIELD_MANAGER} bytes"
        )));
    }
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let api_version = route.def.api_version();
    let schema = schema_for(&api_version, route.def.kind).or_else(|| schema_for("v1", route.def.kind));
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
    update_object(state, route, part, None, dry_run, validation, desired).await
}
