//! Where the agent's API credentials come from: the one place that knows. The credential
//! is either a node client certificate (`system:node:<name>`, obtained by joining with a
//! token, see `crate::join`) or a bearer token (the admin token works, for the in-process
//! agent and for tests), with the server's CA. It builds the `kube::Client` every other
//! part of the agent uses.

use std::path::Path;

use base64::Engine;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tower::limit::ConcurrencyLimitLayer;

/// The most requests the agent keeps in flight to its server. HTTP/1.1 needs a connection
/// per request in flight, and the client's pool keeps every connection it opened (with its
/// TLS state and read buffers): uncapped, a burst of 1,000 pods opened 51, about 3 MB that
/// stayed after the burst. The kubelet caps its API traffic too (QPS 50, burst 100); a
/// cap on concurrency queues requests instead of refusing them, and watches hold a slot
/// only until their response head arrives.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 16;

/// The layer that holds a client shared by `agents` node agents (simulated nodes share
/// one) to [`MAX_REQUESTS_IN_FLIGHT`] each.
fn request_cap(agents: usize) -> ConcurrencyLimitLayer {
    ConcurrencyLimitLayer::new(MAX_REQUESTS_IN_FLIGHT * agents.max(1))
}

/// Why the credentials could not be loaded or turned into a client.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// Something required is missing.
    #[error("{0}")]
    Missing(String),
    /// The kubeconfig (given or built) is not usable.
    #[error("client configuration: {0}")]
    Config(String),
}

/// The server to talk to and how to prove who we are.
#[derive(Clone)]
pub struct Credentials {
    /// `https://HOST:PORT`.
    pub server: String,
    /// The PEM CA that signed the server's certificate.
    pub ca_pem: String,
    /// Who the agent is to the server.
    pub identity: Identity,
}

/// How the agent proves who it is.
#[derive(Clone)]
pub enum Identity {
    /// A bearer token.
    Token(String),
    /// A client certificate and its private key (PEM).
    Certificate {
        /// The certificate.
        cert_pem: String,
        /// Its private key.
        key_pem: String,
    },
}

impl From<crate::join::NodeCredentials> for Credentials {
    fn from(joined: crate::join::NodeCredentials) -> Self {
        Self {
            server: joined.server,
            ca_pem: joined.ca_pem,
            identity: Identity::Certificate { cert_pem: joined.cert_pem, key_pem: joined.key_pem },
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let identity = match self.identity {
            Identity::Token(_) => "token <redacted>",
            Identity::Certificate { .. } => "client certificate",
        };
        f.debug_struct("Credentials").field("server", &self.server).field("identity", &identity).finish()
    }
}

fn read(path: &Path) -> Result<String, CredentialsError> {
    std::fs::read_to_string(path).map_err(|source| CredentialsError::Read { path: path.display().to_string(), source })
}

impl Credentials {
    /// From flags: `server` and `token` win; the CA comes from `ca_file`, else from
    /// `kubeconfig` (which also supplies the server and token when they are not given).
    pub fn load(
        server: Option<&str>,
        token: Option<&str>,
        ca_file: Option<&Path>,
        kubeconfig: Option<&Path>,
    ) -> Result<Self, CredentialsError> {
        let config: Option<serde_json::Value> = match kubeconfig {
            Some(path) => Some(
                serde_yaml::from_str(&read(path)?)
                    .map_err(|e| CredentialsError::Config(format!("{}: {e}", path.display())))?,
            ),
            None => None,
        };
        let from_config = |pointer: &str| {
            config.as_ref().and_then(|c| c.pointer(pointer)).and_then(|v| v.as_str()).map(str::to_string)
        };
        let server = server
            .map(str::to_string)
            .or_else(|| from_config("/clusters/0/cluster/server"))
            .ok_or_else(|| CredentialsError::Missing("no server: give --server or --kubeconfig".into()))?;
        let token = match token {
            Some(token) => token.to_string(),
            // The admin kubeconfig's current context uses a client certificate; its token
            // user is another entry, so take the first user that has a token.
            None => config
                .as_ref()
                .and_then(|c| c.get("users")?.as_array()?.iter().find_map(|u| u.pointer("/user/token")?.as_str()))
                .map(str::to_string)
                .ok_or_else(|| CredentialsError::Missing("no token: give --token-file or --kubeconfig".into()))?,
        };
        let ca_pem = match (ca_file, from_config("/clusters/0/cluster/certificate-authority-data")) {
            (Some(path), _) => read(path)?,
            (None, Some(data)) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data.trim())
                    .map_err(|e| CredentialsError::Config(format!("certificate-authority-data: {e}")))?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            (None, None) => {
                return Err(CredentialsError::Missing("no CA: give --ca-file or --kubeconfig".into()));
            }
        };
        Ok(Self { server, ca_pem, identity: Identity::Token(token) })
    }

    /// A kube client for these credentials, shared by `agents` node agents (one, or the
    /// simulated nodes of `--sim-nodes`).
    pub async fn client(&self, agents: usize) -> Result<kube::Client, CredentialsError> {
        let base64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        let ca = base64(&self.ca_pem);
        let user = match &self.identity {
            Identity::Token(token) => serde_json::json!({"token": token}),
            Identity::Certificate { cert_pem, key_pem } => {
                serde_json::json!({"client-certificate-data": base64(cert_pem), "client-key-data": base64(key_pem)})
            }
        };
        let document = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "reddwarf", "cluster": {"server": self.server, "certificate-authority-data": ca}}],
            "users": [{"name": "agent", "user": user}],
            "contexts": [{"name": "agent", "context": {"cluster": "reddwarf", "user": "agent"}}],
            "current-context": "agent",
        });
        let kubeconfig =
            Kubeconfig::from_yaml(&document.to_string()).map_err(|e| CredentialsError::Config(e.to_string()))?;
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| CredentialsError::Config(e.to_string()))?;
        let builder =
            kube::client::ClientBuilder::try_from(config).map_err(|e| CredentialsError::Config(e.to_string()))?;
        Ok(builder.with_layer(&request_cap(agents)).build())
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Semaphore;
    use tower::Layer;

    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn the_client_keeps_at_most_the_cap_of_requests_in_flight() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let answers = Arc::new(Semaphore::new(0));
        let service = {
            let (in_flight, peak, answers) = (in_flight.clone(), peak.clone(), answers.clone());
            tower::service_fn(move |_: http::Request<kube::client::Body>| {
                let (in_flight, peak, answers) = (in_flight.clone(), peak.clone(), answers.clone());
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    answers.acquire().await.expect("open").forget();
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let body = kube::client::Body::from(br#"{"major":"1","minor":"33"}"#.to_vec());
                    Ok::<_, Infallible>(http::Response::builder().status(200).body(body).expect("a response"))
                }
            })
        };
        let client = kube::Client::new(request_cap(1).layer(service), "default");
        let requests = 3 * MAX_REQUESTS_IN_FLIGHT;
        let calls: Vec<_> = (0..requests)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.apiserver_version().await })
            })
            .collect();
        // Every task runs until it waits: for an answer, or for a slot.
        for _ in 0..1_000 {
            tokio::task::yield_now().await;
        }
        assert_eq!(in_flight.load(Ordering::SeqCst), MAX_REQUESTS_IN_FLIGHT);

        answers.add_permits(requests);
        for call in calls {
            call.await.expect("the task").expect("an answer");
        }
        assert_eq!(peak.load(Ordering::SeqCst), MAX_REQUESTS_IN_FLIGHT);
    }
}
