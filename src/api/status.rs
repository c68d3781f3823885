//! Kubernetes `Status` errors, built in one place: every failure the API returns goes
//! through [`ApiError`], with the upstream `reason`, `code` and message wording, so kubectl
//! and the client libraries print what users expect (`Error from server (NotFound): pods
//! "x" not found`). The mapping from store errors lives here too.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::model::validation::FieldError;
use crate::store::StoreError;

/// An API failure, rendered as a `Status` object.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct ApiError {
    /// The HTTP status code.
    pub code: u16,
    /// The machine-readable reason, such as `NotFound`.
    pub reason: &'static str,
    /// The human message.
    pub message: String,
    /// `details`, boxed to keep `Result<_, ApiError>` small.
    pub details: Box<Details>,
}

/// The `details` of a `Status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    /// `details.name`.
    pub name: Option<String>,
    /// `details.group`.
    pub group: Option<String>,
    /// `details.kind`: the resource (plural) for most errors, the Kind for `Invalid`.
    pub kind: Option<String>,
    /// `details.causes`.
    pub causes: Vec<FieldError>,
    /// `details.retryAfterSeconds`, also sent as `Retry-After`.
    pub retry_after_seconds: Option<u32>,
}

/// What an error is about: the resource (plural, group) and object name.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The plural resource name, such as `pods`.
    pub resource: &'a str,
    /// The API group (empty for core).
    pub group: &'a str,
    /// The Kind, such as `Pod` (used by `Invalid`).
    pub kind: &'a str,
    /// The object name.
    pub name: &'a str,
}

impl Subject<'_> {
    /// `pods` or `leases.coordination.k8s.io`, as upstream names resources in messages.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() { self.resource.to_string() } else { format!("{}.{}", self.resource, self.group) }
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self { code, reason, message: message.into(), details: Box::default() }
    }

    fn about(mut self, subject: Subject<'_>) -> Self {
        self.details.name = Some(subject.name.to_string()).filter(|n| !n.is_empty());
        self.details.group = Some(subject.group.to_string()).filter(|g| !g.is_empty());
        self.details.kind = Some(subject.resource.to_string());
        self
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 401 Unauthorized with a message saying why (for a refused join token, which a
    /// person joining a node reads).
    pub fn unauthorized_because(message: impl Into<String>) -> Self {
        Self::new(401, "Unauthorized", message)
    }

    /// 403 Forbidden, about an object.
    pub fn forbidden(subject: Subject<'_>, why: &str) -> Self {
        let what = if subject.name.is_empty() {
            subject.qualified_resource()
        } else {
            format!("{} {:?}", subject.qualified_resource(), subject.name)
        };
        Self::new(403, "Forbidden", format!("{what} is forbidden: {why}")).about(subject)
    }

    /// 403 Forbidden for a non-resource path (`forbidden: User "x" cannot get path "/metrics"`).
    pub fn forbidden_path(why: &str) -> Self {
        Self::new(403, "Forbidden", format!("forbidden: {why}"))
    }

    /// 404 NotFound for an object.
    pub fn not_found(subject: Subject<'_>) -> Self {
        Self::new(404, "NotFound", format!("{} {:?} not found", subject.qualified_resource(), subject.name))
            .about(subject)
    }

    /// 404 NotFound for a path the server does not serve.
    pub fn no_such_resource() -> Self {
        Self::new(404, "NotFound", "the server could not find the requested resource")
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(verb: &str, what: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({verb} {what})"),
        )
    }

    /// 409 AlreadyExists.
    pub fn already_exists(subject: Subject<'_>) -> Self {
        Self::new(409, "AlreadyExists", format!("{} {:?} already exists", subject.qualified_resource(), subject.name))
            .about(subject)
    }

    /// 409 Conflict from a failed resourceVersion precondition.
    pub fn conflict(subject: Subject<'_>) -> Self {
        Self::conflict_because(
            subject,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 Conflict with a specific explanation.
    pub fn conflict_because(subject: Subject<'_>, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {} {:?}: {why}", subject.qualified_resource(), subject.name),
        )
        .about(subject)
    }

    /// 410 Expired (a compacted resourceVersion or continue token).
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 413 RequestEntityTooLarge.
    pub fn too_large(limit: usize) -> Self {
        Self::new(413, "RequestEntityTooLarge", format!("Request entity too large: limit is {limit}"))
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"
            ),
        )
    }

    /// 415 with a specific explanation.
    pub fn unsupported_media_type_because(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message)
    }

    /// 415 for a PATCH whose Content-Type is not a patch format.
    pub fn unsupported_patch_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type:?})"
            ),
        )
    }

    /// 422 Invalid, listing every cause.
    pub fn invalid(subject: Subject<'_>, causes: Vec<FieldError>) -> Self {
        let list = causes.iter().map(FieldError::summary).collect::<Vec<_>>();
        let joined = if list.len() == 1 { list[0].clone() } else { format!("[{}]", list.join(", ")) };
        let mut err = Self::new(422, "Invalid", format!("{} {:?} is invalid: {joined}", subject.kind, subject.name))
            .about(subject);
        err.details.kind = Some(subject.kind.to_string());
        err.details.causes = causes;
        err
    }

    /// 429 TooManyRequests.
    pub fn too_many_requests(retry_after_seconds: u32) -> Self {
        let mut err = Self::new(429, "TooManyRequests", "Too many requests, please try again later.");
        err.details.retry_after_seconds = Some(retry_after_seconds);
        err
    }

    /// 500 InternalError.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(500, "InternalError", format!("Internal error occurred: {message}"))
    }

    /// 503 ServiceUnavailable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// 504 Timeout for a resourceVersion newer than the store's.
    pub fn too_large_resource_version(requested: u64, current: u64) -> Self {
        let mut err =
            Self::new(504, "Timeout", format!("Timeout: Too large resource version: {requested}, current: {current}"));
        err.details.causes.push(FieldError {
            reason: "ResourceVersionTooLarge",
            message: "Too large resource version".into(),
            field: String::new(),
        });
        err.details.retry_after_seconds = Some(1);
        err
    }

    /// Maps a patch that could not be applied to its API error.
    pub fn from_patch(err: crate::model::patch::PatchError) -> Self {
        let message = err.to_string();
        match err.http_status() {
            413 => Self::new(413, "RequestEntityTooLarge", format!("Request entity too large: {message}")),
            415 => Self::new(415, "UnsupportedMediaType", message),
            422 => Self::new(422, "Invalid", message),
            _ => Self::bad_request(message),
        }
    }

    /// Maps a store error about `subject` to its API error.
    pub fn from_store(err: StoreError, subject: Subject<'_>) -> Self {
        match err {
            StoreError::AlreadyExists { .. } => Self::already_exists(subject),
            StoreError::NotFound { .. } => Self::not_found(subject),
            StoreError::Conflict { .. } => Self::conflict(subject),
            StoreError::Compacted { requested, oldest } => {
                Self::expired(format!("too old resource version: {requested} ({oldest})"))
            }
            StoreError::FutureRevision { requested, current } => Self::too_large_resource_version(requested, current),
            StoreError::Invalid(message) => Self::internal(message),
            StoreError::Unavailable(message) => Self::unavailable(message),
            StoreError::Backend(message) => Self::internal(message),
        }
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut details = serde_json::Map::new();
        let d = &self.details;
        if let Some(name) = &d.name {
            details.insert("name".into(), json!(name));
        }
        if let Some(group) = &d.group {
            details.insert("group".into(), json!(group));
        }
        if let Some(kind) = &d.kind {
            details.insert("kind".into(), json!(kind));
        }
        if !d.causes.is_empty() {
            let causes: Vec<Value> = d
                .causes
                .iter()
                .map(|c| {
                    let mut cause = json!({"reason": c.reason, "message": c.message});
                    if !c.field.is_empty() {
                        cause["field"] = json!(c.field);
                    }
                    cause
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(seconds) = d.retry_after_seconds {
            details.insert("retryAfterSeconds".into(), json!(seconds));
        }
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/json");
        if let Some(seconds) = self.details.retry_after_seconds {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.body(self.to_status().to_string())
    }
}

/// The `Status` a successful delete of a non-pod object returns.
pub fn delete_success(subject: Subject<'_>, uid: &str) -> Value {
    let mut details = json!({"name": subject.name, "kind": subject.resource, "uid": uid});
    if !subject.group.is_empty() {
        details["group"] = json!(subject.group);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: Subject<'static> = Subject { resource: "pods", group: "", kind: "Pod", name: "nope" };

    #[test]
    fn upstream_wording() {
        assert_eq!(ApiError::not_found(POD).message, r#"pods "nope" not found"#);
        let lease = Subject { resource: "leases", group: "coordination.k8s.io", kind: "Lease", name: "n1" };
        assert_eq!(ApiError::not_found(lease).message, r#"leases.coordination.k8s.io "n1" not found"#);
        assert_eq!(ApiError::not_found(lease).to_status()["details"]["group"], "coordination.k8s.io");
        let invalid = ApiError::invalid(POD, vec![FieldError::required("spec.containers", "")]);
        assert_eq!(invalid.message, r#"Pod "nope" is invalid: spec.containers: Required value"#);
        assert_eq!(invalid.to_status()["details"]["kind"], "Pod");
        assert_eq!(invalid.code, 422);
        let forbidden = ApiError::forbidden(
            Subject { name: "x", ..POD },
            r#"User "system:node:n1" cannot get resource "pods" in API group "" in the namespace "default""#,
        );
        assert_eq!(
            forbidden.message,
            r#"pods "x" is forbidden: User "system:node:n1" cannot get resource "pods" in API group "" in the namespace "default""#
        );
        assert_eq!((forbidden.code, forbidden.reason), (403, "Forbidden"));
        let status = ApiError::conflict(POD).to_status();
        assert_eq!(status["reason"], "Conflict");
        assert_eq!(status["code"], 409);
    }

    #[test]
    fn store_errors_map_to_codes() {
        let cases = [
            (StoreError::AlreadyExists { key: "k".into() }, 409, "AlreadyExists"),
            (StoreError::NotFound { key: "k".into() }, 404, "NotFound"),
            (StoreError::Conflict { key: "k".into(), expected: 1, current: 2 }, 409, "Conflict"),
            (StoreError::Compacted { requested: 1, oldest: 5 }, 410, "Expired"),
            (StoreError::FutureRevision { requested: 9, current: 5 }, 504, "Timeout"),
            (StoreError::Unavailable("x".into()), 503, "ServiceUnavailable"),
            (StoreError::Backend("x".into()), 500, "InternalError"),
        ];
        for (err, code, reason) in cases {
            let api = ApiError::from_store(err, POD);
            assert_eq!((api.code, api.reason), (code, reason));
        }
    }
}
