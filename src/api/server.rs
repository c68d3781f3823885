//! The HTTPS server: actix-web over rustls 0.23, with metrics and the gate (authentication,
//! in-flight limits, authorization) wrapped around every route, and each connection's
//! client certificate judged once when it opens. SIGINT and SIGTERM stop it gracefully: it
//! stops accepting, ends open watches, lets in-flight requests finish, and returns so the
//! caller can close the store.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

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
