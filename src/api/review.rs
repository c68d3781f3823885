//! Reviews about the caller, which are answered, never stored: `SelfSubjectAccessReview`
//! (`kubectl auth can-i`), which runs the same `logic::authorize` decision as the gate,
//! and `SelfSubjectReview` (`kubectl auth whoami`), which echoes the authenticated
//! identity. They are create-only resources outside the registry; discovery lists them
//! from [`REVIEW_RESOURCES`].

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use k8s_pb as pb;
use prost::Message as _;
use serde_json::{Value, json};

use crate::api::ApiState;
use crate::api::registry;
use crate::api::request::{content_type, decode_object, read_body};
use crate::api::status::ApiError;
use crate::logic::authorize::{
    Condition, Decision, RequestAttributes, ResourceAttributes, UserInfo, authorize, condition_holds,
};

/// A create-only resource served here.
#[derive(Debug)]
pub struct ReviewResource {
    /// API group.
    pub group: &'static str,
    /// API versions served.
    pub versions: &'static [&'static str],
    /// Plural name.
    pub plural: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
}

/// The review resources, for discovery.
pub static REVIEW_RESOURCES: &[ReviewResource] = &[
    ReviewResource {
        group: "authorization.k8s.io",
        versions: &["v1"],
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        kind: "SelfSubjectAccessReview",
    },
    ReviewResource {
        group: "authentication.k8s.io",
        versions: &["v1", "v1beta1"],
        plural: "selfsubjectreviews",
        singular: "selfsubjectreview",
        kind: "SelfSubjectReview",
    },
];

/// The verbs of every review resource.
pub const REVIEW_VERBS: &[&str] = &["create"];

/// Registers the review routes (before the resource fallback).
pub fn routes(config: &mut web::ServiceConfig) {
    for review in REVIEW_RESOURCES {
        for version in review.versions {
            let path = format!("/apis/{}/{}/{}", review.group, version, review.plural);
            let resource = web::resource(path).default_service(web::to(method_not_allowed));
            let resource = match review.kind {
                "SelfSubjectAccessReview" => resource.route(web::post().to(self_subject_access_review)),
                _ => resource.route(web::post().to(self_subject_review)),
            };
            config.service(resource);
        }
    }
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::method_not_allowed(req.method().as_str(), req.path()))
}

fn caller(req: &HttpRequest) -> Result<UserInfo, ApiError> {
    req.extensions().get::<UserInfo>().cloned().ok_or_else(ApiError::unauthorized)
}

fn created(body: Value) -> HttpResponse {
    HttpResponse::Created().content_type("application/json").body(body.to_string())
}

/// `POST /apis/authentication.k8s.io/{v1,v1beta1}/selfsubjectreviews`: who am I.
async fn self_subject_review(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let user = caller(&req)?;
    let version = if req.path().contains("/v1beta1/") { "v1beta1" } else { "v1" };
    Ok(created(json!({
        "kind": "SelfSubjectReview",
        "apiVersion": format!("authentication.k8s.io/{version}"),
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": user.name, "groups": user.groups}},
    })))
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: may I.
async fn self_subject_access_review(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = caller(&req)?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let media_type = content_type(&req);
    let review = if media_type == crate::api::protobuf::CONTENT_TYPE {
        decode_protobuf_review(&body)?
    } else {
        decode_object(&media_type, &body, "SelfSubjectAccessReview")?
    };
    let spec = review.get("spec").cloned().unwrap_or_else(|| json!({}));
    let request = requested(&spec)?;
    // A plain refusal has no reason, as with upstream's RBAC (kubectl prints "no"); a
    // failed node condition says why, as upstream's Node authorizer does.
    let status = match authorize(&user, &request) {
        Decision::Allow => json!({"allowed": true}),
        Decision::Deny => json!({"allowed": false}),
        Decision::AllowIf(condition) if conditional(&state, &request, &condition) => json!({"allowed": true}),
        Decision::AllowIf(_) => json!({
            "allowed": false,
            "reason": format!("no relationship found between node '{}' and this object", user.node_name().unwrap_or("")),
        }),
    };
    Ok(created(json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    })))
}

/// The request a review's `spec` asks about.
fn requested(spec: &Value) -> Result<RequestAttributes, ApiError> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    if let Some(r) = spec.get("resourceAttributes").filter(|r| r.is_object()) {
        let field_selector = r.pointer("/fieldSelector/rawSelector").and_then(Value::as_str).unwrap_or("");
        let attributes = ResourceAttributes {
            group: text(r, "group"),
            version: text(r, "version"),
            resource: text(r, "resource"),
            subresource: text(r, "subresource"),
            namespace: text(r, "namespace"),
            name: text(r, "name"),
            field_selector: field_selector.to_string(),
        };
        return Ok(RequestAttributes::resource(&text(r, "verb"), attributes));
    }
    if let Some(n) = spec.get("nonResourceAttributes").filter(|n| n.is_object()) {
        return Ok(RequestAttributes::non_resource(&text(n, "verb"), &text(n, "path")));
    }
    Err(ApiError::invalid(
        crate::api::status::Subject {
            resource: "selfsubjectaccessreviews",
            group: "authorization.k8s.io",
            kind: "SelfSubjectAccessReview",
            name: "",
        },
        vec![crate::model::validation::FieldError {
            reason: "FieldValueRequired",
            message: "exactly one of nonResourceAttributes or resourceAttributes must be specified".into(),
            field: "spec.resourceAttributes".into(),
        }],
    ))
}

/// Evaluates a condition for a review: the pod is looked up; a name in the review stands
/// for the name in a create's body.
fn conditional(state: &ApiState, request: &RequestAttributes, condition: &Condition) -> bool {
    let Some(r) = &request.resource else { return false };
    if r.name.is_empty() {
        return false;
    }
    match condition {
        Condition::PodBoundTo(_) => {
            let key = registry::core("pods").key(Some(&r.namespace), &r.name);
            let pod = state.store.get(&key).map(|o| o.json());
            let node = pod.as_ref().and_then(|p| p.pointer("/spec/nodeName")).and_then(Value::as_str);
            condition_holds(condition, node, None)
        }
        Condition::BodyNamed(_) => condition_holds(condition, None, Some(&r.name)),
        Condition::UsedByPodOn(node) => {
            crate::api::auth::used_by_pod_on(&state.store, node, &r.namespace, &r.resource, &r.name)
        }
    }
}

/// Decodes a protobuf `SelfSubjectAccessReview` (kubectl 1.32+ may send one) into the JSON
/// fields the review reads.
fn decode_protobuf_review(body: &[u8]) -> Result<Value, ApiError> {
    let bad = |why: String| {
        ApiError::bad_request(format!("the SelfSubjectAccessReview in the request body is malformed: {why}"))
    };
    let envelope = body
        .strip_prefix(&crate::api::protobuf::MAGIC[..])
        .ok_or_else(|| bad("it does not start with the Kubernetes magic number".into()))?;
    let unknown = pb::apimachinery::pkg::runtime::Unknown::decode(envelope).map_err(|e| bad(e.to_string()))?;
    let raw = unknown.raw.unwrap_or_default();
    let review =
        pb::api::authorization::v1::SelfSubjectAccessReview::decode(raw.as_slice()).map_err(|e| bad(e.to_string()))?;
    let spec = review.spec.unwrap_or_default();
    let mut out = json!({});
    if let Some(r) = spec.resource_attributes {
        out["resourceAttributes"] = json!({
            "namespace": r.namespace.unwrap_or_default(),
            "verb": r.verb.unwrap_or_default(),
            "group": r.group.unwrap_or_default(),
            "version": r.version.unwrap_or_default(),
            "resource": r.resource.unwrap_or_default(),
            "subresource": r.subresource.unwrap_or_default(),
            "name": r.name.unwrap_or_default(),
        });
        if let Some(raw) = r.field_selector.and_then(|f| f.raw_selector) {
            out["resourceAttributes"]["fieldSelector"] = json!({"rawSelector": raw});
        }
    }
    if let Some(n) = spec.non_resource_attributes {
        out["nonResourceAttributes"] = json!({"path": n.path.unwrap_or_default(), "verb": n.verb.unwrap_or_default()});
    }
    Ok(json!({"spec": out}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_become_requests() {
        let spec = json!({"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}});
        let request = requested(&spec).unwrap();
        assert_eq!(request.verb, "create");
        assert_eq!(request.resource.unwrap().namespace, "default");
        let spec = json!({"nonResourceAttributes": {"path": "/metrics", "verb": "get"}});
        let request = requested(&spec).unwrap();
        assert_eq!((request.path.as_str(), request.resource.is_none()), ("/metrics", true));
        assert_eq!(requested(&json!({})).unwrap_err().code, 422);
    }

    #[test]
    fn protobuf_reviews_decode() {
        let review = pb::api::authorization::v1::SelfSubjectAccessReview {
            spec: Some(pb::api::authorization::v1::SelfSubjectAccessReviewSpec {
                resource_attributes: Some(pb::api::authorization::v1::ResourceAttributes {
                    namespace: Some("default".into()),
                    verb: Some("create".into()),
                    resource: Some("pods".into()),
                    ..Default::default()
                }),
                non_resource_attributes: None,
            }),
            ..Default::default()
        };
        let unknown = pb::apimachinery::pkg::runtime::Unknown {
            type_meta: Some(pb::apimachinery::pkg::runtime::TypeMeta {
                api_version: Some("authorization.k8s.io/v1".into()),
                kind: Some("SelfSubjectAccessReview".into()),
            }),
            raw: Some(review.encode_to_vec()),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        let mut body = crate::api::protobuf::MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        let decoded = decode_protobuf_review(&body).unwrap();
        assert_eq!(decoded["spec"]["resourceAttributes"]["verb"], "create");
        assert_eq!(decoded["spec"]["resourceAttributes"]["resource"], "pods");
        assert!(decode_protobuf_review(b"k8s\0\xff\xff").is_err());
        assert!(decode_protobuf_review(b"nope").is_err());
    }
}
