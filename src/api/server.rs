//! The HTTPS server: actix-web over rustls 0.23, with metrics and the gate (authentication,
//! in-flight limits, authorization) wrapped around every route, and each connection's
//! client certificate judged once when it opens. SIGINT and SIGTERM stop it gracefully: it
//! stops accepting, ends open watches, lets in-flight requests finish, and returns so the
//! caller can close the store.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tokio::sync::watch;

use rustls::server::danger::ClientCertVerifier;

use crate::api::auth::{Authenticator, gate, on_connect};
use crate::api::inflight::Inflight;
use crate::api::instrument::instrument;
use crate::api::{ApiState, routes};

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE_SECONDS: u64 = 10;
/// How long a client has to send a request's head (upstream's `ReadHeaderTimeout`). Under
/// a flood the workers are slow to read; actix's 5 s default then answers 408 to requests
/// that the in-flight limits would have served or refused with 429.
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(32);
/// How long a TLS handshake may take (actix's default is 3 s, too short under a flood).
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle keep-alive connection stays open (upstream's `IdleTimeout` of 90 s).
/// actix's 5 s default is measured from when a worker last polled the connection, so a
/// worker busy with a burst of handshakes closed a node's heartbeat connection between two
/// renewals, and the next renewal had to queue behind the burst for a new handshake.
const KEEP_ALIVE: Duration = Duration::from_secs(90);

/// A bound, not yet running server.
pub struct BoundServer {
    listener: TcpListener,
    /// The address actually bound (a port of 0 becomes a real port).
    pub local_addr: SocketAddr,
}

/// Binds the listening socket, so the real address is known before serving.
pub fn bind(listen: SocketAddr) -> std::io::Result<BoundServer> {
    let listener = TcpListener::bind(listen)?;
    let local_addr = listener.local_addr()?;
    Ok(BoundServer { listener, local_addr })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// How the server authenticates its clients.
pub struct Credentials {
    /// Bearer tokens.
    pub authenticator: Authenticator,
    /// Judges client certificate chains against the client CA.
    pub client_verifier: Arc<dyn ClientCertVerifier>,
}

/// Serves until SIGINT or SIGTERM. `stopping` is flipped to true first, which ends open
/// watches (they would otherwise hold the graceful stop for its whole grace period).
pub async fn run(
    bound: BoundServer,
    state: ApiState,
    credentials: Credentials,
    tls: Arc<rustls::ServerConfig>,
    stopping: watch::Sender<bool>,
) -> std::io::Result<()> {
    let inflight = web::Data::new(Inflight::new(state.settings.inflight, &state.metrics));
    let connect = on_connect(credentials.client_verifier, state.clock.clone());
    let state = web::Data::new(state);
    let authenticator = web::Data::new(credentials.authenticator);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(authenticator.clone())
            .app_data(inflight.clone())
            .wrap(from_fn(gate))
            .wrap(from_fn(instrument))
            .configure(routes)
    })
    .on_connect(connect)
    .client_request_timeout(REQUEST_HEAD_TIMEOUT)
    .tls_handshake_timeout(TLS_HANDSHAKE_TIMEOUT)
    .keep_alive(KEEP_ALIVE)
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_GRACE_SECONDS)
    .listen_rustls_0_23(bound.listener, (*tls).clone())?
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections; finishing in-flight requests");
        let _ = stopping.send(true);
        handle.stop(true).await;
    });
    server.await
}
