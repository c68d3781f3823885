//! The agent's own HTTPS endpoint (the kubelet port): `GET
//! /containerLogs/{namespace}/{pod}/{container}` serves the pod zone's console log, with
//! `follow`, `tailLines`, `limitBytes` and `timestamps`, as the API server's
//! `pods/{name}/log` proxy asks for it. A pod is one zone, so every container of a pod
//! shows the same console.
//!
//! - **TLS:** a self-signed certificate made at start-up for the node's name and address
//!   (the API server, like upstream's default, does not verify kubelet certificates).
//! - **Authorization** is delegated to the API server: a caller's bearer token must be able
//!   to read the pod through the API (one `GET` per pod and token, cached for 30 s).
//! - **Timestamps:** a console has none, so `timestamps=true` stamps each line with the
//!   time the agent read it (exact while following, the request time for older lines).
//!
//! This module does not import `crate::api`: it is the agent's server, not the cluster's.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::illumos::fake::FakeHost;
use crate::logic::naming;

/// How often a followed console is read again.
const FOLLOW_POLL: Duration = Duration::from_millis(250);
/// How long a successful authorization is remembered.
const AUTH_CACHE: Duration = Duration::from_secs(30);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// The certificate could not be made.
    #[error("kubelet certificate: {0}")]
    Certificate(String),
    /// The address could not be bound.
    #[error("binding the kubelet port {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The failure.
        source: std::io::Error,
    },
}

/// Where a zone's console output is read from.
pub trait ConsoleSource: Send + Sync + 'static {
    /// The console so far, or `None` when the zone does not exist.
    fn read(&self, zone: &str) -> BoxFuture<'static, Option<String>>;
}

/// The FakeHost's console buffers (`--runtime sim`).
pub struct FakeConsoles(pub FakeHost);

impl ConsoleSource for FakeConsoles {
    fn read(&self, zone: &str) -> BoxFuture<'static, Option<String>> {
        let text = self.0.console(zone);
        Box::pin(async move { text })
    }
}

/// Console log files on an illumos host: `DIR/ZONE.console`. `[verify]` the location
/// zoneadmd writes on the target release (`/var/log/zones` on current OmniOS).
pub struct ConsoleFiles {
    /// The directory of the console logs.
    pub dir: std::path::PathBuf,
}

impl ConsoleSource for ConsoleFiles {
    fn read(&self, zone: &str) -> BoxFuture<'static, Option<String>> {
        let path = self.dir.join(format!("{zone}.console"));
        Box::pin(async move { tokio::fs::read(path).await.ok().map(|b| String::from_utf8_lossy(&b).into_owned()) })
    }
}

/// How the server checks callers against the API.
#[derive(Clone)]
pub struct ApiAccess {
    /// The API server's URL.
    pub server: String,
    /// Its CA (PEM).
    pub ca_pem: String,
}

/// A caller's token digest, and the pod namespace and name it asked about.
type AccessKey = ([u8; 32], String, String);

struct LogsState {
    console: Arc<dyn ConsoleSource>,
    api: reqwest::Client,
    server: String,
    clock: Clock,
    /// Recent access checks: when each was made, and the pod's containers.
    allowed: Mutex<HashMap<AccessKey, (tokio::time::Instant, Vec<String>)>>,
}

/// Starts the server on `listen`; returns the bound address.
pub fn start(
    listen: SocketAddr,
    node_name: &str,
    node_ip: IpAddr,
    console: Arc<dyn ConsoleSource>,
    access: ApiAccess,
    clock: Clock,
) -> Result<SocketAddr, LogsError> {
    let certified = rcgen::generate_simple_self_signed(vec![node_name.to_string(), node_ip.to_string()])
        .map_err(|e| LogsError::Certificate(e.to_string()))?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .map_err(|e| LogsError::Certificate(e.to_string()))?;
    let ca =
        reqwest::Certificate::from_pem(access.ca_pem.as_bytes()).map_err(|e| LogsError::Certificate(e.to_string()))?;
    let api = reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| LogsError::Certificate(e.to_string()))?;
    let state = web::Data::new(LogsState {
        console,
        api,
        server: access.server.trim_end_matches('/').to_string(),
        clock,
        allowed: Mutex::new(HashMap::new()),
    });
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(state.clone())
            .route("/healthz", web::get().to(|| async { HttpResponse::Ok().body("ok") }))
            .route("/containerLogs/{namespace}/{pod}/{container}", web::get().to(container_logs))
    })
    .workers(1)
    .disable_signals()
    .bind_rustls_0_23(listen, tls)
    .map_err(|source| LogsError::Bind { address: listen, source })?;
    let bound = server.addrs().first().copied().unwrap_or(listen);
    actix_web::rt::spawn(server.run());
    Ok(bound)
}

fn text(status: actix_web::http::StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(message.into())
}

/// Whether `token` may read pod `namespace/pod`; returns its container names.
async fn authorize(state: &LogsState, token: &str, namespace: &str, pod: &str) -> Result<Vec<String>, HttpResponse> {
    let key = (Sha256::digest(token.as_bytes()).into(), namespace.to_string(), pod.to_string());
    if let Some((at, containers)) = state.allowed.lock().get(&key)
        && at.elapsed() < AUTH_CACHE
    {
        return Ok(containers.clone());
    }
    let url = format!("{}/api/v1/namespaces/{namespace}/pods/{pod}", state.server);
    let response = state
        .api
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| text(actix_web::http::StatusCode::BAD_GATEWAY, format!("cannot reach the API server: {e}")))?;
    match response.status().as_u16() {
        200 => {}
        401 => return Err(text(actix_web::http::StatusCode::UNAUTHORIZED, "Unauthorized")),
        403 => return Err(text(actix_web::http::StatusCode::FORBIDDEN, "Forbidden")),
        404 => return Err(text(actix_web::http::StatusCode::NOT_FOUND, format!("pod {namespace}/{pod} not found"))),
        code => return Err(text(actix_web::http::StatusCode::BAD_GATEWAY, format!("the API server answered {code}"))),
    }
    let pod_json: serde_json::Value = response
        .json()
        .await
        .map_err(|e| text(actix_web::http::StatusCode::BAD_GATEWAY, format!("unreadable pod: {e}")))?;
    let containers: Vec<String> = pod_json
        .pointer("/spec/containers")
        .and_then(|c| c.as_array())
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let mut allowed = state.allowed.lock();
    if allowed.len() > 10_000 {
        allowed.clear();
    }
    allowed.insert(key, (tokio::time::Instant::now(), containers.clone()));
    Ok(containers)
}

/// The query options of a log request.
#[derive(Clone, Debug, Default)]
struct LogOptions {
    follow: bool,
    tail_lines: Option<usize>,
    limit_bytes: Option<usize>,
    timestamps: bool,
}

impl LogOptions {
    fn parse(query: &str) -> Self {
        let mut options = Self::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let yes = value == "true" || value == "1";
            match key.as_ref() {
                "follow" => options.follow = yes,
                "timestamps" => options.timestamps = yes,
                "tailLines" => options.tail_lines = value.parse().ok(),
                "limitBytes" => options.limit_bytes = value.parse().ok(),
                _ => {}
            }
        }
        options
    }
}

/// The last `tail` lines of `text` (all when `None`).
fn tail(text: &str, lines: Option<usize>) -> &str {
    let Some(lines) = lines else { return text };
    if lines == 0 {
        return "";
    }
    let trimmed = text.strip_suffix('\n').unwrap_or(text);
    match trimmed.char_indices().rev().filter(|(_, c)| *c == '\n').nth(lines - 1) {
        Some((index, _)) => &text[index + 1..],
        None => text,
    }
}

fn stamp(text: &str, at: &str) -> String {
    text.split_inclusive('\n').map(|line| format!("{at} {line}")).collect()
}

async fn container_logs(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    state: web::Data<LogsState>,
) -> HttpResponse {
    let (namespace, pod, container) = path.into_inner();
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let Some(token) = token else { return text(actix_web::http::StatusCode::UNAUTHORIZED, "Unauthorized") };
    let containers = match authorize(&state, &token, &namespace, &pod).await {
        Ok(containers) => containers,
        Err(response) => return response,
    };
    if !containers.contains(&container) {
        return text(
            actix_web::http::StatusCode::BAD_REQUEST,
            format!("container {container} is not valid for pod {pod}"),
        );
    }
    let options = LogOptions::parse(req.query_string());
    let zone = naming::zone_name(&namespace, &pod);
    let Some(console) = state.console.read(&zone).await else {
        return text(
            actix_web::http::StatusCode::BAD_REQUEST,
            format!("container {container} in pod {pod} has no zone yet"),
        );
    };
    let now = state.clock.now().to_string();
    let mut first = tail(&console, options.tail_lines).to_string();
    if options.timestamps {
        first = stamp(&first, &now);
    }
    if let Some(limit) = options.limit_bytes {
        // The largest char boundary at or below the limit (floor_char_boundary is newer
        // than the MSRV).
        let mut end = limit.min(first.len());
        while !first.is_char_boundary(end) {
            end -= 1;
        }
        first.truncate(end);
    }
    if !options.follow {
        return HttpResponse::Ok().content_type("text/plain").body(first);
    }
    let start = console.len();
    let state = state.into_inner();
    let follow = futures_util::stream::unfold(
        (Some(first), start, state, zone, options),
        |(pending, offset, state, zone, options)| async move {
            if let Some(first) = pending {
                return Some((Ok::<_, actix_web::Error>(Bytes::from(first)), (None, offset, state, zone, options)));
            }
            loop {
                tokio::time::sleep(FOLLOW_POLL).await;
                let console = state.console.read(&zone).await?;
                // A buffer that shrank was trimmed at the front: carry on from its end.
                let offset = if console.len() < offset { console.len() } else { offset };
                if console.len() > offset {
                    let mut chunk = console[offset..].to_string();
                    if options.timestamps {
                        chunk = stamp(&chunk, &state.clock.now().to_string());
                    }
                    return Some((Ok(Bytes::from(chunk)), (None, console.len(), state, zone, options)));
                }
            }
        },
    );
    HttpResponse::Ok().content_type("text/plain").streaming(follow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_and_stamps() {
        let text = "a\nb\nc\n";
        assert_eq!(tail(text, Some(2)), "b\nc\n");
        assert_eq!(tail(text, Some(10)), text);
        assert_eq!(tail(text, Some(0)), "");
        assert_eq!(tail("a\nb", Some(1)), "b");
        assert_eq!(tail(text, None), text);
        assert_eq!(stamp("x\ny\n", "T"), "T x\nT y\n");
        let options = LogOptions::parse("follow=true&tailLines=5&timestamps=true&limitBytes=10");
        assert!(options.follow && options.timestamps);
        assert_eq!((options.tail_lines, options.limit_bytes), (Some(5), Some(10)));
    }
}
