//! `reddwarf token create|list|revoke`: join tokens managed through the API with the
//! admin kubeconfig, so they work while the server runs (the store is the server's
//! alone). A token is a Secret `kube-system/bootstrap-token-<id>` of type
//! `bootstrap.kubernetes.io/token` that holds the SHA-256 of the secret, never the secret;
//! the full token (`K10<ca-sha256>::<id>.<secret>`) is printed once, at creation. It owns
//! the admin-side client; the server side is `api::join`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::api::join::{CACERTS_PATH, TOKEN_NAMESPACE, TOKEN_SECRET_TYPE, token_secret_name};
use crate::logic::join_token::{ID_LEN, JoinToken, SECRET_LEN, sha256_hex, token_text};

/// Why a token command failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The kubeconfig could not be read or lacks what is needed.
    #[error("{path}: {what}")]
    Kubeconfig {
        /// The kubeconfig.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// The server could not be reached.
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    /// The server refused.
    #[error("the server answered {code}: {message}")]
    Refused {
        /// The HTTP status.
        code: u16,
        /// Its message.
        message: String,
    },
}

/// A stored token, as `token list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// The id.
    pub id: String,
    /// When it expires (RFC 3339), if ever.
    pub expires: Option<String>,
    /// What it is for.
    pub description: String,
}

/// An admin client built from a kubeconfig's current context.
pub struct AdminClient {
    server: String,
    client: reqwest::Client,
}

fn field<'a>(config: &'a Value, list: &str, name: &str) -> Option<&'a Value> {
    config[list].as_array()?.iter().find(|entry| entry["name"] == name)
}

fn decoded(value: &Value) -> Option<Vec<u8>> {
    STANDARD.decode(value.as_str()?).ok()
}

impl AdminClient {
    /// Reads the current context of the kubeconfig at `path` (inline `*-data` fields, as
    /// `reddwarf serve` writes them).
    pub fn from_kubeconfig(path: &Path) -> Result<Self, TokenError> {
        let bad = |what: &str| TokenError::Kubeconfig { path: path.to_path_buf(), what: what.to_string() };
        let text = std::fs::read_to_string(path).map_err(|e| bad(&e.to_string()))?;
        let config: Value = serde_yaml::from_str(&text).map_err(|e| bad(&e.to_string()))?;
        let current = config["current-context"].as_str().ok_or_else(|| bad("no current-context"))?;
        let context =
            &field(&config, "contexts", current).ok_or_else(|| bad("the current context is missing"))?["context"];
        let cluster = &field(&config, "clusters", context["cluster"].as_str().unwrap_or(""))
            .ok_or_else(|| bad("the context's cluster is missing"))?["cluster"];
        let user = &field(&config, "users", context["user"].as_str().unwrap_or(""))
            .ok_or_else(|| bad("the context's user is missing"))?["user"];
        let server = cluster["server"].as_str().ok_or_else(|| bad("the cluster has no server"))?.to_string();
        let ca = decoded(&cluster["certificate-authority-data"]).ok_or_else(|| bad("no certificate-authority-data"))?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
            .timeout(Duration::from_secs(30));
        match (decoded(&user["client-certificate-data"]), decoded(&user["client-key-data"]), user["token"].as_str()) {
            (Some(cert), Some(key), _) => {
                builder = builder.identity(reqwest::Identity::from_pem(&[cert, key].concat())?);
            }
            (_, _, Some(token)) => {
                let mut headers = reqwest::header::HeaderMap::new();
                let value = format!("Bearer {token}").parse().map_err(|_| bad("an unusable token"))?;
                headers.insert(reqwest::header::AUTHORIZATION, value);
                builder = builder.default_headers(headers);
            }
            _ => return Err(bad("the user has neither a client certificate nor a token")),
        }
        Ok(Self { server: server.trim_end_matches('/').to_string(), client: builder.build()? })
    }

    async fn check(response: reqwest::Response) -> Result<Value, TokenError> {
        let code = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if code.is_success() {
            Ok(body)
        } else {
            let message = body["message"].as_str().unwrap_or("no message").to_string();
            Err(TokenError::Refused { code: code.as_u16(), message })
        }
    }

    fn secrets_url(&self) -> String {
        format!("{}/api/v1/namespaces/{TOKEN_NAMESPACE}/secrets", self.server)
    }

    /// Creates a token that expires `ttl` after `now` (never with a zero `ttl`, as
    /// kubeadm), from `random` bytes (at least 64). Returns the full token text.
    pub async fn create(
        &self,
        ttl: Duration,
        description: &str,
        now: jiff::Timestamp,
        random: &[u8],
    ) -> Result<JoinToken, TokenError> {
        // The CA as /cacerts serves it, through this verified client: the joining node
        // hashes exactly these bytes.
        let ca = self.client.get(format!("{}{CACERTS_PATH}", self.server)).send().await?.error_for_status()?;
        let ca_hash = sha256_hex(&ca.bytes().await?);
        let text = token_text(random);
        if text.len() < ID_LEN + SECRET_LEN {
            return Err(TokenError::Refused { code: 0, message: "not enough randomness for a token".into() });
        }
        let token = JoinToken {
            ca_hash,
            id: text[..ID_LEN].to_string(),
            secret: text[ID_LEN..ID_LEN + SECRET_LEN].to_string(),
        };
        let b64 = |s: &str| STANDARD.encode(s);
        let mut data = json!({
            "token-id": b64(&token.id),
            "token-secret-sha256": b64(&sha256_hex(token.secret.as_bytes())),
            "usage-bootstrap-authentication": b64("true"),
            "description": b64(description),
        });
        if !ttl.is_zero() {
            let expires = now + jiff::SignedDuration::try_from(ttl).unwrap_or(jiff::SignedDuration::MAX);
            data["expiration"] = json!(b64(&expires.to_string()));
        }
        let secret = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": token_secret_name(&token.id), "namespace": TOKEN_NAMESPACE},
            "type": TOKEN_SECRET_TYPE,
            "data": data,
        });
        Self::check(self.client.post(self.secrets_url()).json(&secret).send().await?).await?;
        Ok(token)
    }

    /// The stored tokens.
    pub async fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let list = Self::check(self.client.get(self.secrets_url()).send().await?).await?;
        let text =
            |secret: &Value, key: &str| decoded(&secret["data"][key]).and_then(|bytes| String::from_utf8(bytes).ok());
        Ok(list["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|secret| secret["type"] == TOKEN_SECRET_TYPE)
            .filter_map(|secret| {
                Some(TokenInfo {
                    id: text(secret, "token-id")?,
                    expires: text(secret, "expiration"),
                    description: text(secret, "description").unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Deletes token `id` (by id, or by a whole token whose id is taken).
    pub async fn revoke(&self, id: &str) -> Result<(), TokenError> {
        let id = JoinToken::parse(id).map(|t| t.id).unwrap_or_else(|_| id.split('.').next().unwrap_or(id).to_string());
        let url = format!("{}/{}", self.secrets_url(), token_secret_name(&id));
        Self::check(self.client.delete(url).send().await?).await.map(|_| ())
    }
}
