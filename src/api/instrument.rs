//! Request metrics and `/metrics`. The outermost middleware ([`instrument`]) parses each
//! request's attributes once (for the gate behind it), then records
//! `apiserver_request_total` and `apiserver_request_duration_seconds` for every answer,
//! refusals (401, 403, 429) included, and keeps `apiserver_longrunning_requests` for open
//! watches until their stream ends. Label values come only from the registry and a fixed
//! verb list, never verbatim from the URL, so junk requests cannot grow the series without
//! bound. `GET /metrics` serves [`crate::metrics::Metrics`] in the Prometheus text format,
//! or OpenMetrics when asked for it.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, web};
use prometheus_client::metrics::gauge::Gauge;

use crate::api::ApiState;
use crate::api::request::Params;
use crate::logic::authorize::RequestAttributes;
use crate::metrics::{OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, RequestLabels};

/// Resources served outside the registry, which may still appear as label values.
const REVIEW_RESOURCES: &[(&str, &str)] =
    &[("authorization.k8s.io", "selfsubjectaccessreviews"), ("authentication.k8s.io", "selfsubjectreviews")];

/// The labels of a request, as upstream's request metrics carry them.
pub fn request_labels(attributes: &RequestAttributes, req_content_type: &str, dry_run: bool) -> RequestLabels {
    let mut labels = RequestLabels {
        dry_run: if dry_run { "All".into() } else { String::new() },
        component: "apiserver".into(),
        ..Default::default()
    };
    let Some(r) = &attributes.resource else {
        labels.verb = match attributes.verb.as_str() {
            v @ ("get" | "head" | "post" | "put" | "patch" | "delete" | "options") => v.to_ascii_uppercase(),
            _ => "other".into(),
        };
        return labels;
    };
    labels.verb = match attributes.verb.as_str() {
        "get" => "GET",
        "list" => "LIST",
        "watch" => "WATCH",
        "create" => "POST",
        "update" => "PUT",
        "patch" if req_content_type.starts_with("application/apply-patch") => "APPLY",
        "patch" => "PATCH",
        "delete" | "deletecollection" => "DELETE",
        _ => "other",
    }
    .into();
    let known_subresource =
        |def: &crate::api::registry::ResourceDef| r.subresource.is_empty() || def.subresource(&r.subresource).is_some();
    let served = crate::api::registry::find(&r.group, &r.version, &r.resource).is_some_and(known_subresource)
        || REVIEW_RESOURCES.contains(&(r.group.as_str(), r.resource.as_str()));
    if served {
        labels.group = r.group.clone();
        labels.version = r.version.clone();
        labels.resource = r.resource.clone();
        labels.subresource = r.subresource.clone();
        labels.scope = if !r.name.is_empty() || attributes.verb == "create" {
            "resource"
        } else if !r.namespace.is_empty() {
            "namespace"
        } else {
            "cluster"
        }
        .into();
    }
    labels
}

/// Decrements a gauge when dropped.
struct GaugeGuard(Gauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A response body that holds a guard until the body is finished or dropped.
struct GuardedBody {
    body: BoxBody,
    _guard: GaugeGuard,
}

impl MessageBody for GuardedBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// The metrics middleware (`actix_web::middleware::from_fn`); the outermost one.
pub async fn instrument(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let attributes = RequestAttributes::from_http(req.method().as_str(), req.path(), req.query_string());
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let dry_run = Params::parse(req.query_string()).get("dryRun") == Some("All");
    let labels = request_labels(&attributes, &content_type, dry_run);
    req.extensions_mut().insert(attributes);
    let Some(metrics) = req.app_data::<web::Data<ApiState>>().map(|s| s.metrics.clone()) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let started = tokio::time::Instant::now();
    let longrunning = (labels.verb == "WATCH").then(|| {
        let gauge = metrics.longrunning(&labels);
        gauge.inc();
        GaugeGuard(gauge)
    });
    let result = next.call(req).await;
    let code = match &result {
        Ok(response) => response.status().as_u16(),
        Err(err) => err.as_response_error().status_code().as_u16(),
    };
    metrics.observe_request(&labels, code, started.elapsed());
    let response = result?.map_into_boxed_body();
    Ok(match longrunning {
        Some(guard) => response.map_body(|_, body| BoxBody::new(GuardedBody { body, _guard: guard })),
        None => response,
    })
}

/// `GET /metrics` (admins only; the gate enforces it).
pub async fn metrics(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let accept = req.headers().get("accept").and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("application/openmetrics-text") {
        HttpResponse::Ok().content_type(OPENMETRICS_CONTENT_TYPE).body(state.metrics.encode_openmetrics())
    } else {
        HttpResponse::Ok().content_type(PROMETHEUS_CONTENT_TYPE).body(state.metrics.encode_prometheus())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(method: &str, path: &str, query: &str, content_type: &str) -> RequestLabels {
        request_labels(&RequestAttributes::from_http(method, path, query), content_type, false)
    }

    #[test]
    fn labels_follow_upstream_and_stay_bounded() {
        let l = labels("GET", "/api/v1/namespaces/default/pods", "", "");
        assert_eq!((l.verb.as_str(), l.resource.as_str(), l.scope.as_str()), ("LIST", "pods", "namespace"));
        let l = labels("GET", "/api/v1/pods", "watch=true", "");
        assert_eq!((l.verb.as_str(), l.scope.as_str()), ("WATCH", "cluster"));
        let l = labels("PATCH", "/api/v1/nodes/n1/status", "", "application/apply-patch+yaml");
        assert_eq!((l.verb.as_str(), l.subresource.as_str(), l.scope.as_str()), ("APPLY", "status", "resource"));
        let l = labels("POST", "/api/v1/namespaces/default/pods", "", "application/json");
        assert_eq!((l.verb.as_str(), l.scope.as_str()), ("POST", "resource"));
        let l = labels("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "", "");
        assert_eq!(l.resource, "selfsubjectaccessreviews");
        // Junk stays out of the label values.
        let l = labels("GET", "/api/v1/namespaces/default/junk-12345", "", "");
        assert_eq!((l.resource.as_str(), l.group.as_str(), l.version.as_str()), ("", "", ""));
        let l = labels("GET", "/api/v1/namespaces/default/pods/x/junk", "", "");
        assert_eq!(l.resource, "");
        let l = labels("GET", "/random/path", "", "");
        assert_eq!((l.verb.as_str(), l.resource.as_str()), ("GET", ""));
        let l = labels("BREW", "/random/path", "", "");
        assert_eq!(l.verb, "other");
    }
}
