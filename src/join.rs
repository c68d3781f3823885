//! The joining side of node bootstrap, for `reddwarf agent --token`: fetch the server's CA
//! without trusting it, check it against the hash pinned in the join token, make a key and
//! a certificate signing request, trade it (with the token's credential) for a node client
//! certificate at `POST /bootstrap/v1/node-credentials`, and keep the result under the
//! agent's data directory (every file mode 0600). It owns nothing on the server; the
//! server side is `api::join`, the token grammar `logic::join_token`.
//!
//! The server pins a node name to the key it first joined with, so a later join (a renewal,
//! or a re-join after a server-side reset) reuses `node.key` when it is there.
//!
//! Files written under `data_dir`: `ca.crt`, `node.crt`, `node.key`, `server` (the URL) and
//! `node.kubeconfig` (all of the above, for a kube-rs or kubectl client). [`load`] reads
//! them back, so a restarted agent needs no token.

use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use serde_json::Value;

use crate::api::join::{CACERTS_PATH, NODE_CREDENTIALS_PATH, NodeCredentialsRequest, NodeCredentialsResponse};
use crate::logic::authorize::NODES_GROUP;
use crate::logic::join_token::{JoinToken, TokenFormatError, node_common_name, sha256_hex};

/// What a joined node authenticates with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCredentials {
    /// The API server URL.
    pub server: String,
    /// The CA to trust for the server (PEM).
    pub ca_pem: String,
    /// The node's client certificate (PEM), CN `system:node:<name>`, O `system:nodes`.
    pub cert_pem: String,
    /// The node's private key (PEM, PKCS#8).
    pub key_pem: String,
}

/// Why joining failed. Each message is meant for the person running the agent.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The token's text is malformed.
    #[error("the join token is malformed: {0}")]
    Token(#[from] TokenFormatError),
    /// The node name is not a valid Node name.
    #[error("{0}")]
    NodeName(String),
    /// The server could not be reached or answered nonsense.
    #[error("{url}: {source}")]
    Http {
        /// What was asked.
        url: String,
        /// The failure.
        #[source]
        source: reqwest::Error,
    },
    /// The CA the server sent is not the one the token pins: a wrong server, or someone
    /// in between.
    #[error(
        "the server's CA (sha256 {got}) is not the one the join token pins (sha256 {expected}); refusing to trust it"
    )]
    CaMismatch {
        /// The hash in the token.
        expected: String,
        /// The hash of what the server sent.
        got: String,
    },
    /// The server refused (an unknown, revoked or expired token, or a bad request).
    #[error("the server refused to join this node ({code}): {message}")]
    Refused {
        /// The HTTP status.
        code: u16,
        /// The server's message.
        message: String,
    },
    /// A key or request could not be generated, or the answer held no usable certificate.
    #[error("node credentials: {0}")]
    Credentials(String),
    /// Reading or writing the data directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

const CA_FILE: &str = "ca.crt";
const CERT_FILE: &str = "node.crt";
const KEY_FILE: &str = "node.key";
const SERVER_FILE: &str = "server";
/// The kubeconfig written beside the PEM files.
pub const KUBECONFIG_FILE: &str = "node.kubeconfig";

fn http(url: &str) -> impl FnOnce(reqwest::Error) -> JoinError + '_ {
    move |source| JoinError::Http { url: url.to_string(), source }
}

fn install_crypto() {
    // The binary installs ring at start-up; a library caller (a test) may not have.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Joins the cluster at `server` (an `https://host:port` URL) as `node_name`, with the
/// join token `token`, and keeps the credentials under `data_dir`.
pub async fn join(server: &str, token: &str, node_name: &str, data_dir: &Path) -> Result<NodeCredentials, JoinError> {
    install_crypto();
    let token = JoinToken::parse(token)?;
    let common_name = node_common_name(node_name).map_err(JoinError::NodeName)?;
    let server = server.trim_end_matches('/').to_string();

    // 1. The CA, fetched without verifying the server: the hash in the token is the trust.
    let url = format!("{server}{CACERTS_PATH}");
    let unverified = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(http(&url))?;
    let response = unverified.get(&url).send().await.map_err(http(&url))?;
    let code = response.status();
    let ca_pem = response.text().await.map_err(http(&url))?;
    if !code.is_success() {
        return Err(JoinError::Refused { code: code.as_u16(), message: ca_pem });
    }
    let got = sha256_hex(ca_pem.as_bytes());
    if got != token.ca_hash {
        return Err(JoinError::CaMismatch { expected: token.ca_hash, got });
    }

    // 2. From here on the server must prove it holds a certificate from that CA.
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).map_err(http(&url))?;
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(http(&server))?;
    // The key of an earlier join is kept: the server pinned it to this node name.
    let key = match std::fs::read_to_string(data_dir.join(KEY_FILE)) {
        Ok(pem) => KeyPair::from_pem(&pem),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => KeyPair::generate(),
        Err(source) => return Err(JoinError::Io { path: data_dir.join(KEY_FILE), source }),
    }
    .map_err(|e| JoinError::Credentials(e.to_string()))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::OrganizationName, NODES_GROUP);
    params.distinguished_name.push(DnType::CommonName, common_name);
    let csr =
        params.serialize_request(&key).and_then(|csr| csr.pem()).map_err(|e| JoinError::Credentials(e.to_string()))?;
    let url = format!("{server}{NODE_CREDENTIALS_PATH}");
    let body = NodeCredentialsRequest { node_name: node_name.to_string(), certificate_signing_request: csr };
    let response = client.post(&url).bearer_auth(token.credential()).json(&body).send().await.map_err(http(&url))?;
    let code = response.status();
    let bytes = response.bytes().await.map_err(http(&url))?;
    if !code.is_success() {
        let message = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|status| status["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        return Err(JoinError::Refused { code: code.as_u16(), message });
    }
    let answer: NodeCredentialsResponse = serde_json::from_slice(&bytes)
        .map_err(|e| JoinError::Credentials(format!("the server's answer is not NodeCredentials: {e}")))?;
    if answer.certificate_authority != ca_pem {
        return Err(JoinError::Credentials("the server answered with a different CA than /cacerts".into()));
    }
    let credentials = NodeCredentials { server, ca_pem, cert_pem: answer.certificate, key_pem: key.serialize_pem() };
    save(&credentials, node_name, data_dir)?;
    Ok(credentials)
}

fn write_private(dir: &Path, file: &str, contents: &str) -> Result<(), JoinError> {
    let path = dir.join(file);
    crate::api::tls::write_private(&path, contents.as_bytes()).map_err(|source| JoinError::Io { path, source })
}

fn save(credentials: &NodeCredentials, node_name: &str, data_dir: &Path) -> Result<(), JoinError> {
    std::fs::create_dir_all(data_dir).map_err(|source| JoinError::Io { path: data_dir.to_path_buf(), source })?;
    write_private(data_dir, KEY_FILE, &credentials.key_pem)?;
    write_private(data_dir, CERT_FILE, &credentials.cert_pem)?;
    write_private(data_dir, CA_FILE, &credentials.ca_pem)?;
    write_private(data_dir, SERVER_FILE, &credentials.server)?;
    write_private(data_dir, KUBECONFIG_FILE, &credentials.kubeconfig(node_name))
}

/// The credentials an earlier [`join`] kept under `data_dir`, if all its files are there.
pub fn load(data_dir: &Path) -> Result<Option<NodeCredentials>, JoinError> {
    let read = |file: &str| {
        let path = data_dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(JoinError::Io { path, source }),
        }
    };
    let (Some(server), Some(ca_pem), Some(cert_pem), Some(key_pem)) =
        (read(SERVER_FILE)?, read(CA_FILE)?, read(CERT_FILE)?, read(KEY_FILE)?)
    else {
        return Ok(None);
    };
    Ok(Some(NodeCredentials { server: server.trim().to_string(), ca_pem, cert_pem, key_pem }))
}

impl NodeCredentials {
    /// A kubeconfig for this node (kube-rs's `Kubeconfig::read_from` or kubectl).
    pub fn kubeconfig(&self, node_name: &str) -> String {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let user = format!("system:node:{node_name}");
        let config = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "reddwarf", "cluster": {"server": self.server, "certificate-authority-data": b64(&self.ca_pem)}}],
            "users": [{"name": user, "user": {"client-certificate-data": b64(&self.cert_pem), "client-key-data": b64(&self.key_pem)}}],
            "contexts": [{"name": "reddwarf", "context": {"cluster": "reddwarf", "user": user}}],
            "current-context": "reddwarf",
        });
        serde_yaml::to_string(&config).unwrap_or_default()
    }

    /// An HTTPS client that trusts the CA and presents the node certificate.
    pub fn client(&self) -> Result<reqwest::Client, JoinError> {
        install_crypto();
        let url = &self.server;
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).map_err(http(url))?;
        let identity =
            reqwest::Identity::from_pem(format!("{}{}", self.cert_pem, self.key_pem).as_bytes()).map_err(http(url))?;
        reqwest::Client::builder().tls_certs_only([ca]).identity(identity).build().map_err(http(url))
    }
}
