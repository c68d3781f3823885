//! The Kubernetes HTTP API, on actix-web over rustls. One resource registry
//! ([`registry`]) drives routing ([`path`]), discovery ([`discovery`]), printing
//! ([`table`]), validation ([`objects`]) and the OpenAPI documents ([`openapi`]);
//! handlers for each verb read and write the [`crate::store`]; every error is a `Status`
//! built in [`status`]. Every request passes [`instrument`] (metrics) and then [`auth`]
//! (authentication, the in-flight limits of [`inflight`], authorization) before any
//! handler. Lifecycle decisions are not made here: they live in `logic` and the actors.

pub mod auth;
pub mod bootstrap;
pub mod debug;
pub mod discovery;
pub mod inflight;
pub mod instrument;
pub mod join;
pub mod kubeconfig;
pub mod objects;
pub mod openapi;
pub mod path;
pub mod protobuf;
pub mod registry;
pub mod request;
pub mod review;
pub mod server;
pub mod status;
pub mod system;
pub mod table;
pub mod tls;

mod delete;
mod log;
mod managed;
mod patch;
mod read;
mod watch;
mod write;

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::watch as signal;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::Store;
use path::Route;
use request::Params;
use status::{ApiError, Subject};

/// Tunables of the API server.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// How often an idle watch that asked for bookmarks gets one.
    pub bookmark_interval: Duration,
    /// Watches without `timeoutSeconds` last between this and twice this.
    pub min_watch_timeout: Duration,
    /// The largest request body.
    pub max_body_bytes: usize,
    /// The token the API server presents to node agents (pod logs); `None` disables the
    /// proxy's authentication (an agent will then refuse).
    pub kubelet_client_token: Option<SecretToken>,
    /// How many requests may be in flight.
    pub inflight: inflight::InflightLimits,
}

/// A token that never shows in logs or `Debug` output.
#[derive(Clone)]
pub struct SecretToken(String);

impl SecretToken {
    /// Wraps `token`.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            bookmark_interval: Duration::from_secs(10),
            min_watch_timeout: Duration::from_secs(1800),
            max_body_bytes: request::MAX_BODY_BYTES,
            kubelet_client_token: None,
            inflight: inflight::InflightLimits::default(),
        }
    }
}

/// What every handler shares.
pub struct ApiState {
    /// The object store.
    pub store: Store,
    /// Wall-clock time for timestamps.
    pub clock: Clock,
    /// Tunables.
    pub settings: ApiSettings,
    /// Flips to true when the server is shutting down; open watches end.
    pub shutdown: signal::Receiver<bool>,
    /// Every live actor, for `/debug/actors`.
    pub directory: crate::actors::directory::ActorDirectory,
    /// The process's metrics, served at `/metrics`.
    pub metrics: Metrics,
    /// What signs node certificates at join (None: this server does not).
    pub join: Option<Arc<join::JoinAuthority>>,
}

impl Route {
    /// What errors about this route are about.
    pub fn subject<'a>(&'a self, name: &'a str) -> Subject<'a> {
        Subject { resource: self.def.plural, group: self.def.group, kind: self.def.kind, name }
    }

    /// The storage key of the named object.
    pub fn key(&self) -> String {
        self.def.key(self.namespace.as_deref(), self.name.as_deref().unwrap_or(""))
    }
}

/// Every resource URL (`/api/v1/...`, `/apis/<g>/<v>/...`) comes here and is dispatched
/// by method, name and subresource.
pub async fn resource(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let route = path::parse(req.path())?;
    let params = Params::parse(req.query_string());
    let method = req.method().as_str().to_string();
    let sub = route.subresource.map(|s| s.name);
    match (method.as_str(), route.name.is_some(), sub) {
        ("GET", false, None) if params.flag("watch") => watch::watch(&req, &state, &route, &params),
        ("GET", false, None) => read::list(&req, &state, &route, &params),
        ("GET", true, None | Some("status")) => read::get(&req, &state, &route),
        ("POST", false, None) => write::create(&req, payload, &state, &route, &params).await,
        ("PUT", true, None) => write::replace(&req, payload, &state, &route, &params, write::Part::Main).await,
        ("PUT", true, Some("status")) => {
            write::replace(&req, payload, &state, &route, &params, write::Part::Status).await
        }
        ("PUT", true, Some("finalize")) => {
            write::replace(&req, payload, &state, &route, &params, write::Part::Finalize).await
        }
        ("PATCH", true, None) => patch::patch(&req, payload, &state, &route, &params, write::Part::Main).await,
        ("PATCH", true, Some("status")) => {
            patch::patch(&req, payload, &state, &route, &params, write::Part::Status).await
        }
        ("POST", true, Some("binding")) => write::bind(&req, payload, &state, &route, &params).await,
        ("GET", true, Some("log")) => log::pod_log(&state, &route, &params).await,
        ("POST", true, Some("eviction")) => delete::evict(&req, payload, &state, &route, &params).await,
        ("DELETE", true, None) => delete::delete(&req, payload, &state, &route, &params).await,
        ("DELETE", false, None) => delete::delete_collection(&req, payload, &state, &route, &params).await,
        _ => Err(ApiError::method_not_allowed(&method, req.path())),
    }
}

/// Registers every route on an actix-web service config.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/version", web::get().to(system::version))
        .route("/version/", web::get().to(system::version))
        .route("/healthz", web::get().to(system::health))
        .route("/livez", web::get().to(system::health))
        .route("/readyz", web::get().to(system::health))
        .route("/healthz/{check}", web::get().to(system::health_check))
        .route("/livez/{check}", web::get().to(system::health_check))
        .route("/readyz/{check}", web::get().to(system::health_check))
        .route("/metrics", web::get().to(instrument::metrics))
        .route("/api", web::get().to(discovery::core_versions))
        .route("/api/", web::get().to(discovery::core_versions))
        .route("/api/v1", web::get().to(discovery::core_resources))
        .route("/api/v1/", web::get().to(discovery::core_resources))
        .route("/debug/actors", web::get().to(debug::actors))
        .route("/apis", web::get().to(discovery::groups))
        .route("/apis/", web::get().to(discovery::groups))
        .route("/apis/{group}", web::get().to(discovery::group))
        .route("/apis/{group}/{version}", web::get().to(discovery::group_resources))
        .route("/openapi/v3", web::get().to(openapi::index))
        .route("/openapi/v3/{path:.*}", web::get().to(openapi::group_version))
        .configure(review::routes)
        .configure(join::routes)
        .default_service(web::to(resource));
}
