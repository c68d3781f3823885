//! Writes: POST (create), PUT of the object, of `/status` and of `/finalize`, and pod
//! binding. Each decodes the body, checks it against the URL, runs the kind's codec, and
//! commits with a revision precondition; a server-side read-modify-write retries when it
//! loses a race, a client-supplied resourceVersion never does. `dryRun=All` runs everything
//! but the commit.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::api::ApiState;
use crate::api::managed::FieldManager;
use crate::api::objects::ServerMeta;
use crate::api::path::Route;
use crate::api::read::json_body;
use crate::api::registry::{self, DeletePolicy};
use crate::api::request::{Params, content_type, decode_object, read_body};
use crate::api::status::ApiError;
use crate::logic::binding::bind_pod;
use crate::logic::deletion::delete_during_update;
use crate::model::names::generate_name;
use crate::model::validation::FieldError;
use crate::store::{Object, Revision, StoreError};

/// What `fieldValidation` asks of fields the type does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them, and say so in `Warning` headers (the default since Kubernetes 1.23).
    Warn,
    /// Refuse the request with 400.
    Strict,
}

impl FieldValidation {
    /// The directive a request carries.
    pub fn from_params(params: &Params) -> Result<Self, ApiError> {
        match params.non_empty("fieldValidation") {
            None | Some("Warn") => Ok(Self::Warn),
            Some("Strict") => Ok(Self::Strict),
            Some("Ignore") => Ok(Self::Ignore),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }

    /// The warnings to send for `unknown` fields, or the error that refuses them.
    pub fn judge(self, unknown: &[String]) -> Result<Vec<String>, ApiError> {
        if unknown.is_empty() || self == Self::Ignore {
            return Ok(Vec::new());
        }
        let listed: Vec<String> = unknown.iter().map(|f| format!("unknown field {f:?}")).collect();
        match self {
            Self::Strict => Err(ApiError::bad_request(format!("strict decoding error: {}", listed.join(", ")))),
            _ => Ok(listed),
        }
    }
}

/// What every write request carries besides its body: dry run, field validation, and who
/// is writing.
pub(crate) struct WriteOptions {
    /// `dryRun=All`: everything but the commit.
    pub dry_run: bool,
    /// What to do about unknown fields.
    pub validation: FieldValidation,
    /// Records the write in managedFields.
    pub fields: FieldManager,
}

impl WriteOptions {
    /// The options of a request writing `part` of `route`.
    pub(crate) fn from_request(
        req: &HttpRequest,
        params: &Params,
        route: &Route,
        part: Part,
        state: &ApiState,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            dry_run: params.dry_run()?,
            validation: FieldValidation::from_params(params)?,
            fields: FieldManager::new(req, params, route, part, state.clock.now())?,
        })
    }

    /// The same, recording nothing in managedFields (the caller has settled them).
    pub(crate) fn without_field_tracking(self) -> Self {
        Self { fields: FieldManager::passthrough(), ..self }
    }
}

/// Adds one `Warning` header per message (RFC 7234 code 299, as upstream).
pub(crate) fn with_warnings(mut response: HttpResponse, warnings: &[String]) -> HttpResponse {
    for warning in warnings {
        let value = format!("299 - {}", Value::from(warning.as_str()));
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&value) {
            response.headers_mut().append(actix_web::http::header::WARNING, value);
        }
    }
    response
}

/// Which part of an object a PUT replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The object, except its status (and, for namespaces, its finalizers).
    Main,
    /// Only `.status`.
    Status,
    /// Only a namespace's `spec.finalizers`.
    Finalize,
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Checks (and fills in) `apiVersion` and `kind` against the URL.
pub(crate) fn check_type_meta(route: &Route, value: &mut Value, expected_kind: &str) -> Result<(), ApiError> {
    let want_version = route.def.api_version();
    let got_version = str_at(value, "/apiVersion").map(str::to_string);
    let got_kind = str_at(value, "/kind").map(str::to_string);
    if let Some(got) = &got_version
        && *got != want_version
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({got}) does not match the expected API version ({want_version})"
        )));
    }
    if let Some(got) = &got_kind
        && got != expected_kind
    {
        return Err(ApiError::bad_request(format!(
            "{got} in version \"{}\" cannot be handled as a {expected_kind}: the kind in the body does not match the URL",
            got_version.as_deref().unwrap_or(&want_version)
        )));
    }
    value["apiVersion"] = json!(want_version);
    value["kind"] = json!(expected_kind);
    Ok(())
}

/// Checks `metadata.name` in the body against the URL.
pub(crate) fn check_name(route: &Route, value: &Value) -> Result<(), ApiError> {
    let name = route.name.as_deref().unwrap_or("");
    let body_name = str_at(value, "/metadata/name").unwrap_or("");
    if body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    Ok(())
}

/// Checks `metadata.namespace` in the body against the URL.
pub(crate) fn check_namespace(route: &Route, value: &Value) -> Result<(), ApiError> {
    if let (Some(url), Some(body)) = (route.namespace.as_deref(), str_at(value, "/metadata/namespace"))
        && url != body
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

pub(crate) async fn body_object(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    kind: &str,
) -> Result<Value, ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    decode_object(&content_type(req), &body, kind)
}

/// Refuses new objects in a namespace that is missing or terminating.
fn check_namespace_open(state: &ApiState, route: &Route, name: &str) -> Result<(), ApiError> {
    let Some(ns) = route.namespace.as_deref().filter(|_| route.def.namespaced) else { return Ok(()) };
    let namespaces = registry::core("namespaces");
    let namespace = state.store.get(&namespaces.key(None, ns)).ok_or_else(|| {
        ApiError::not_found(crate::api::status::Subject {
            resource: "namespaces",
            group: "",
            kind: "Namespace",
            name: ns,
        })
    })?;
    let terminating = namespace.json().pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
    if terminating {
        let mut err = ApiError::forbidden(
            route.subject(name),
            &format!("unable to create new content in namespace {ns} because it is being terminated"),
        );
        err.details.causes.push(FieldError {
            reason: "NamespaceTerminating",
            message: format!("namespace {ns} is being terminated"),
            field: "metadata.namespace".into(),
        });
        return Err(err);
    }
    Ok(())
}

fn created(route: &Route, object: &Object) -> HttpResponse {
    HttpResponse::Created().content_type("application/json").body(route.def.codec.present_bytes(&object.value))
}

fn dry_run_response(route: &Route, value: Value, created: bool) -> HttpResponse {
    let mut builder = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    builder.content_type("application/json").body(route.def.codec.present(value).to_string())
}

/// `POST` to a collection.
pub async fn create(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    route: &Route,
    params: &Params,
) -> Result<HttpResponse, ApiError> {
    if route.def.namespaced && route.namespace.is_none() {
        return Err(ApiError::method_not_allowed("POST", req.path()));
    }
    let options = WriteOptions::from_request(req, params, route, Part::Main, state)?;
    let value = body_object(req, payload, state, route.def.kind).await?;
    create_object(state, route, value, &options).await
}

/// Creates `value` in `route`'s collection (also PUT on a missing object where allowed).
pub(crate) async fn create_object(
    state: &ApiState,
    route: &Route,
    mut value: Value,
    options: &WriteOptions,
) -> Result<HttpResponse, ApiError> {
    check_type_meta(route, &mut value, route.def.kind)?;
    check_namespace(route, &value)?;
    if !value.get("metadata").is_some_and(Value::is_object) {
        value["metadata"] = json!({});
    }
    if str_at(&value, "/metadata/name").is_none()
        && let Some(prefix) = str_at(&value, "/metadata/generateName").map(str::to_string)
    {
        let mut rng = rand::rng();
        let name = generate_name(&prefix, |n| rand::RngExt::random_range(&mut rng, 0..n));
        value["metadata"]["name"] = json!(name);
    }
    let name = str_at(&value, "/metadata/name").unwrap_or("").to_string();
    check_namespace_open(state, route, &name)?;
    let server = ServerMeta {
        uid: uuid::Uuid::new_v4().to_string(),
        created: state.clock.now(),
        namespace: route.namespace.clone().filter(|_| route.def.namespaced),
    };
    let mut prepared = route.def.codec.create(route.def, value, &server)?;
    let warnings = options.validation.judge(&prepared.unknown_fields)?;
    options.fields.record(route, None, &mut prepared.object);
    if options.dry_run {
        return Ok(with_warnings(dry_run_response(route, prepared.object, true), &warnings));
    }
    let key = route.def.key(route.namespace.as_deref(), &name);
    let object =
        state.store.create(key, prepared.object).await.map_err(|e| ApiError::from_store(e, route.subject(&name)))?;
    Ok(with_warnings(created(route, &object), &warnings))
}

/// The revision a write must find, from the body's `metadata.resourceVersion`.
fn body_revision(value: &Value) -> Result<Option<Revision>, ApiError> {
    match str_at(value, "/metadata/resourceVersion") {
        None => Ok(None),
        Some(rv) => rv.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "metadata.resourceVersion: Invalid value: {rv:?}: must be a non-negative integer"
            ))
        }),
    }
}

/// Builds the object a PUT of `part` asks for, from the body and the stored object.
fn merge_part(route: &Route, part: Part, body: Value, current: &Value) -> Value {
    match part {
        Part::Main => {
            let mut merged = body;
            if route.def.has_status {
                match current.get("status") {
                    Some(status) => merged["status"] = status.clone(),
                    None => {
                        if let Some(o) = merged.as_object_mut() {
                            o.remove("status");
                        }
                    }
                }
            }
            if route.def.delete == DeletePolicy::Namespace {
                // Namespace finalizers change only through `/finalize`.
                merged["spec"]["finalizers"] = current.pointer("/spec/finalizers").cloned().unwrap_or(json!([]));
            }
            merged
        }
        Part::Status => {
            let mut merged = current.clone();
            merged["status"] = body.get("status").cloned().unwrap_or(json!({}));
            merged
        }
        Part::Finalize => {
            let mut merged = current.clone();
            merged["spec"]["finalizers"] = body.pointer("/spec/finalizers").cloned().unwrap_or(json!([]));
            merged
        }
    }
}

/// True when `prepared` would store exactly what is stored.
pub(crate) fn unchanged(prepared: &Value, current: &Value) -> bool {
    let mut current = current.clone();
    if let Some(meta) = current.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    *prepared == current
}

/// Whether an updated object has finished deleting (see `logic::deletion`).
pub(crate) fn finished_deleting(route: &Route, object: &Value) -> bool {
    let finalizers = object.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
    let namespace_finalizers = route.def.delete == DeletePolicy::Namespace
        && object.pointer("/spec/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
    delete_during_update(
        object.pointer("/metadata/deletionTimestamp").is_some(),
        object.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64),
        finalizers || namespace_finalizers,
    )
}

/// `PUT` of an object, its status, or a namespace's finalizers.
pub async fn replace(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    route: &Route,
    params: &Params,
    part: Part,
) -> Result<HttpResponse, ApiError> {
    let options = WriteOptions::from_request(req, params, route, part, state)?;
    let mut body = body_object(req, payload, state, route.def.kind).await?;
    check_type_meta(route, &mut body, route.def.kind)?;
    check_namespace(route, &body)?;
    check_name(route, &body)?;
    let name = route.name.clone().unwrap_or_default();
    let expected = body_revision(&body)?;
    if expected.is_none() && part == Part::Main && !route.def.unconditional_update {
        return Err(ApiError::invalid(
            route.subject(&name),
            vec![FieldError::invalid("metadata.resourceVersion", &json!("0x0"), "must be specified for an update")],
        ));
    }
    if route.def.create_on_update && part == Part::Main && state.store.get(&route.key()).is_none() {
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        return create_object(state, route, body, &options).await;
    }
    update_object(state, route, part, expected, &options, |_| Ok(body.clone())).await
}

/// The read-modify-write every update shares (PUT and PATCH): read the stored object, ask
/// `desired` for the new state (given the current one as clients see it), keep the parts
/// this write may not touch, run the kind's codec, and commit with a revision
/// precondition. A lost race is retried from the fresh object unless the client named the
/// revision it expected (`expected`), which then stands as a 409.
pub(crate) async fn update_object(
    state: &ApiState,
    route: &Route,
    part: Part,
    expected: Option<Revision>,
    options: &WriteOptions,
    desired: impl Fn(&Value) -> Result<Value, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let name = route.name.clone().unwrap_or_default();
    let key = route.key();
    loop {
        let current = state.store.get(&key).ok_or_else(|| ApiError::not_found(route.subject(&name)))?;
        if expected.is_some_and(|rv| rv != current.revision) {
            return Err(ApiError::conflict(route.subject(&name)));
        }
        let stored = current.json();
        let presented = route.def.codec.present(stored.clone());
        let merged = merge_part(route, part, desired(&presented)?, &presented);
        let prepared = route.def.codec.update(route.def, merged, &stored)?;
        let warnings = options.validation.judge(&prepared.unknown_fields)?;
        let mut prepared = prepared.object;
        options.fields.record(route, Some(&stored), &mut prepared);
        if unchanged(&prepared, &stored) {
            return Ok(with_warnings(json_body(route.def.codec.present_bytes(&current.value)), &warnings));
        }
        if options.dry_run {
            return Ok(with_warnings(dry_run_response(route, prepared, false), &warnings));
        }
        let outcome = if finished_deleting(route, &prepared) {
            state.store.delete(key.clone(), Some(current.revision)).await
        } else {
            state.store.update(key.clone(), prepared, Some(current.revision)).await
        };
        match outcome {
            Ok(object) => return Ok(with_warnings(json_body(route.def.codec.present_bytes(&object.value)), &warnings)),
            Err(StoreError::Conflict { .. }) if expected.is_none() => continue,
            Err(err) => return Err(ApiError::from_store(err, route.subject(&name))),
        }
    }
}

/// `POST pods/<name>/binding`: assigns a pod to a node, once.
pub async fn bind(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    route: &Route,
    params: &Params,
) -> Result<HttpResponse, ApiError> {
    let dry_run = params.dry_run()?;
    let name = route.name.clone().unwrap_or_default();
    let body = body_object(req, payload, state, "Binding").await?;
    let binding: k8s_openapi::api::core::v1::Binding = serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("Binding in version \"v1\" cannot be handled as a Binding: {e}")))?;
    let node = binding.target.name.clone().unwrap_or_default();
    let binding_subject =
        crate::api::status::Subject { resource: "pods/binding", group: "", kind: "Binding", name: &name };
    if node.is_empty() {
        return Err(ApiError::invalid(binding_subject, vec![FieldError::required("target.name", "")]));
    }
    if !matches!(binding.target.kind.as_deref(), None | Some("") | Some("Node")) {
        return Err(ApiError::invalid(
            binding_subject,
            vec![FieldError::unsupported("target.kind", &json!(binding.target.kind), &["Node"])],
        ));
    }
    let expected_uid = binding.metadata.uid.clone().filter(|u| !u.is_empty());
    let expected_rv = binding
        .metadata
        .resource_version
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(str::parse::<Revision>)
        .transpose()
        .map_err(|_| ApiError::bad_request("invalid resourceVersion in the binding"))?;
    let key = route.key();
    loop {
        let current = state.store.get(&key).ok_or_else(|| ApiError::not_found(route.subject(&name)))?;
        let mut pod = current.json();
        if expected_uid.as_deref().is_some_and(|uid| Some(uid) != str_at(&pod, "/metadata/uid")) {
            return Err(ApiError::conflict_because(
                binding_subject,
                "Precondition failed: UID in precondition does not match the pod",
            ));
        }
        if expected_rv.is_some_and(|rv| rv != current.revision) {
            return Err(ApiError::conflict(binding_subject));
        }
        let now = crate::api::objects::format_time(state.clock.now());
        bind_pod(&mut pod, &node, &now)
            .map_err(|refusal| ApiError::conflict_because(binding_subject, &refusal.to_string()))?;
        if dry_run {
            break;
        }
        match state.store.update(key.clone(), pod, Some(current.revision)).await {
            Ok(_) => break,
            Err(StoreError::Conflict { .. }) if expected_rv.is_none() => continue,
            Err(err) => return Err(ApiError::from_store(err, route.subject(&name))),
        }
    }
    Ok(HttpResponse::Created().content_type("application/json").body(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}).to_string(),
    ))
}
