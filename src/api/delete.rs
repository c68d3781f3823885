//! DELETE of one object and of collections. The decision (remove now, start a graceful
//! deletion, wait for finalizers) is `logic::deletion`'s; this module gathers its inputs
//! from the stored object and the DeleteOptions, and carries it out with a revision
//! precondition, retrying when it loses a race.

use actix_web::{HttpRequest, HttpResponse, web};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::api::ApiState;
use crate::api::objects::format_time;
use crate::api::path::Route;
use crate::api::read::{json_body, selection};
use crate::api::registry::DeletePolicy;
use crate::api::request::{Params, content_type, read_body};
use crate::api::status::{ApiError, delete_success};
use crate::logic::deletion::{Deletion, DeletionInput, plain_deletion, pod_deletion};
use crate::store::{Object, ReadAt, StoreError};

/// What the client asked of a deletion.
#[derive(Debug, Default, Clone)]
struct DeleteOptions {
    grace: Option<i64>,
    uid: Option<String>,
    resource_version: Option<String>,
    dry_run: bool,
}

async fn delete_options(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    params: &Params,
) -> Result<DeleteOptions, ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let mut options =
        DeleteOptions { grace: params.int("gracePeriodSeconds")?, dry_run: params.dry_run()?, ..Default::default() };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(options);
    }
    let media = content_type(req);
    let value = crate::api::request::decode_object(&media, &body, "DeleteOptions")?;
    merge_delete_options(&mut options, value)?;
    Ok(options)
}

/// Folds a DeleteOptions body into `options`.
fn merge_delete_options(options: &mut DeleteOptions, value: Value) -> Result<(), ApiError> {
    let parsed: k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions =
        serde_json::from_value(value).map_err(|e| {
            ApiError::bad_request(format!("DeleteOptions in version \"v1\" cannot be handled as a DeleteOptions: {e}"))
        })?;
    if parsed.grace_period_seconds.is_some() {
        options.grace = parsed.grace_period_seconds;
    }
    if let Some(pre) = parsed.preconditions {
        options.uid = pre.uid.filter(|u| !u.is_empty());
        options.resource_version = pre.resource_version.filter(|r| !r.is_empty());
    }
    for value in parsed.dry_run.iter().flatten() {
        match value.as_str() {
            "All" => options.dry_run = true,
            other => {
                return Err(ApiError::bad_request(format!(
                    "Invalid dryRun value: {other:?}: supported values: \"All\""
                )));
            }
        }
    }
    Ok(())
}

fn timestamp(value: &Value, pointer: &str) -> Option<Timestamp> {
    value.pointer(pointer).and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// The outcome of one object's deletion, for the response.
enum Deleted {
    /// The object is gone; here is its last state.
    Gone(std::sync::Arc<Object>),
    /// The object remains, deleting; here is its state.
    Pending(Value),
}

/// Deletes one object (the shared path of DELETE and DELETE of a collection).
async fn delete_one(
    state: &ApiState,
    route: &Route,
    key: &str,
    name: &str,
    options: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    loop {
        let current = state.store.get(key).ok_or_else(|| ApiError::not_found(route.subject(name)))?;
        let mut value = current.json();
        let uid = value.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("").to_string();
        if let Some(expected) = &options.uid
            && *expected != uid
        {
            return Err(ApiError::conflict_because(
                route.subject(name),
                &format!("Precondition failed: UID in precondition: {expected}, UID in object meta: {uid}"),
            ));
        }
        if let Some(expected) = &options.resource_version
            && *expected != current.revision.to_string()
        {
            return Err(ApiError::conflict_because(
                route.subject(name),
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {expected}, ResourceVersion in object meta: {}",
                    current.revision
                ),
            ));
        }
        let input = DeletionInput {
            has_finalizers: value
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty()),
            deletion_timestamp: timestamp(&value, "/metadata/deletionTimestamp"),
            deletion_grace: value.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64),
            node_name: value.pointer("/spec/nodeName").and_then(Value::as_str),
            phase: value.pointer("/status/phase").and_then(Value::as_str),
            spec_grace: value.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64),
            requested_grace: options.grace,
        };
        let now = state.clock.now();
        let decision = match route.def.delete {
            DeletePolicy::GracefulPod => pod_deletion(&input, now),
            // A namespace always waits for its controller to empty it.
            DeletePolicy::Namespace if input.deletion_timestamp.is_some() => Deletion::AlreadyDeleting,
            DeletePolicy::Namespace => Deletion::Mark { at: now, grace_seconds: 0 },
            DeletePolicy::Immediate => plain_deletion(&input, now),
        };
        let outcome = match decision {
            Deletion::AlreadyDeleting => return Ok(Deleted::Pending(value)),
            Deletion::Remove if options.dry_run => return Ok(Deleted::Gone(current)),
            Deletion::Remove => state.store.delete(key.to_string(), Some(current.revision)).await.map(Deleted::Gone),
            Deletion::Mark { at, grace_seconds } => {
                value["metadata"]["deletionTimestamp"] = json!(format_time(at));
                value["metadata"]["deletionGracePeriodSeconds"] = json!(grace_seconds);
                if route.def.delete == DeletePolicy::Namespace {
                    value["status"]["phase"] = json!("Terminating");
                }
                if options.dry_run {
                    return Ok(Deleted::Pending(value));
                }
                if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("resourceVersion");
                }
                state
                    .store
                    .update(key.to_string(), value, Some(current.revision))
                    .await
                    .map(|o| Deleted::Pending(o.json()))
            }
        };
        match outcome {
            Ok(done) => return Ok(done),
            Err(StoreError::Conflict { .. }) if options.resource_version.is_none() => continue,
            Err(err) => return Err(ApiError::from_store(err, route.subject(name))),
        }
    }
}

/// `DELETE` of one object. Pods (and service accounts) answer with the object, the rest
/// with a `Status` once gone; an object still deleting is returned as it stands.
pub async fn delete(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    route: &Route,
    params: &Params,
) -> Result<HttpResponse, ApiError> {
    let options = delete_options(req, payload, state, params).await?;
    let name = route.name.clone().unwrap_or_default();
    match delete_one(state, route, &route.key(), &name, &options).await? {
        Deleted::Pending(value) => Ok(json_body(route.def.codec.present(value).to_string())),
        Deleted::Gone(object) if route.def.delete_returns_object => {
            Ok(json_body(route.def.codec.present_bytes(&object.value)))
        }
        Deleted::Gone(object) => {
            let uid = object.json().pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("").to_string();
            Ok(json_body(delete_success(route.subject(&name), &uid).to_string()))
        }
    }
}

/// `POST pods/<name>/eviction` (policy/v1 Eviction, as `kubectl drain` sends): deletes the
/// pod with the eviction's DeleteOptions. There are no PodDisruptionBudgets yet, so an
/// eviction is never refused for one.
pub async fn evict(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    route: &Route,
    params: &Params,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let eviction = crate::api::request::decode_object(&content_type(req), &body, "Eviction")?;
    let kind = eviction.get("kind").and_then(Value::as_str).unwrap_or("Eviction");
    if kind != "Eviction" {
        return Err(ApiError::bad_request(format!("{kind} cannot be handled as an Eviction")));
    }
    let name = route.name.clone().unwrap_or_default();
    if let Some(named) = eviction.pointer("/metadata/name").and_then(Value::as_str)
        && named != name
    {
        return Err(ApiError::bad_request(format!(
            "name in URL does not match name in Eviction object: {name}, {named}"
        )));
    }
    let mut options = DeleteOptions { dry_run: params.dry_run()?, ..Default::default() };
    if let Some(delete_options) = eviction.get("deleteOptions").filter(|v| v.is_object()) {
        merge_delete_options(&mut options, delete_options.clone())?;
    }
    delete_one(state, route, &route.key(), &name, &options).await?;
    Ok(HttpResponse::Created().content_type("application/json").body(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}).to_string(),
    ))
}

/// `DELETE` of a collection: every selected object, answered with the list of them.
pub async fn delete_collection(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    route: &Route,
    params: &Params,
) -> Result<HttpResponse, ApiError> {
    let options = delete_options(req, payload, state, params).await?;
    let selection = selection(route, params)?;
    let page = state
        .store
        .list(&selection, ReadAt::Latest, None, None)
        .map_err(|e| ApiError::from_store(e, route.subject("")))?;
    let mut items = Vec::new();
    for object in page.items {
        let name = object.json().pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        match delete_one(state, route, &object.key, &name, &options).await {
            Ok(Deleted::Gone(o)) => items.push(route.def.codec.present(o.json())),
            Ok(Deleted::Pending(v)) => items.push(route.def.codec.present(v)),
            Err(err) if err.code == 404 => {}
            Err(err) => return Err(err),
        }
    }
    let body = json!({
        "kind": format!("{}List", route.def.kind),
        "apiVersion": route.def.api_version(),
        "metadata": {"resourceVersion": state.store.revision().to_string()},
        "items": items,
    });
    Ok(json_body(body.to_string()))
}
