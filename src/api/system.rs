//! The unauthenticated endpoints: `/version` (which picks the kubectl the gcloud dispatcher
//! runs, so it reports a version we test: v1.33) and the health checks.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::api::ApiState;

/// The Kubernetes version Reddwarf implements.
pub const KUBERNETES_VERSION: &str = "v1.33.0";

/// `GET /version` (and `/version/`, which the Python client uses).
pub async fn version() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(
        json!({
            "major": "1",
            "minor": "33",
            "gitVersion": KUBERNETES_VERSION,
            "gitCommit": format!("reddwarf-{}", env!("CARGO_PKG_VERSION")),
            "gitTreeState": "clean",
            "buildDate": "2026-11-27T00:00:00Z",
            "goVersion": "n/a (rust)",
            "compiler": "rustc",
            "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        })
        .to_string(),
    )
}

/// `GET /healthz` and `/livez`: the process serves.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// `GET /readyz`: the store takes writes.
pub async fn ready(state: web::Data<ApiState>) -> HttpResponse {
    match state.store.health() {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("[-]store failed: {reason}\nreadyz check failed")),
    }
}
