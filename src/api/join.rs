//! The server side of joining a node: `GET /cacerts` (the CA, to anyone, for the joining
//! node to check against the hash in its token), the stored join tokens (Secrets
//! `kube-system/bootstrap-token-<id>` holding only the SHA-256 of the secret), turning a
//! bearer credential `<id>.<secret>` into the bootstrap identity `system:bootstrap:<id>`
//! (called by the gate), and `POST /bootstrap/v1/node-credentials`, where that identity
//! trades a certificate signing request for a node client certificate. The first join of a
//! node name pins its key (Secret `kube-system/node-key-<node>`), so a token lets new
//! nodes in but cannot take over an existing node's name with another key.
//!
//! The accept/refuse decisions are `logic::join_token`'s; the joining client is
//! `crate::join`; creating tokens is `reddwarf token create` (`crate::tokens`).
//!
//! Why an endpoint rather than `certificates.k8s.io` CertificateSigningRequests: upstream
//! needs an approver controller and a signer behind that resource, and a node polls until
//! both have run. Here the token is the approval, so the exchange is one synchronous
//! request. The wire shapes are in [`NodeCredentialsRequest`] and
//! [`NodeCredentialsResponse`].

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::ApiState;
use crate::api::objects::ServerMeta;
use crate::api::registry;
use crate::api::request::read_body;
use crate::api::status::ApiError;
use crate::api::status::Subject;
use crate::api::tls::{ClientCredentials, request_key_sha256, sign_client_request};
use crate::logic::authorize::{NODES_GROUP, UserInfo};
use crate::logic::join_token::{
    BOOTSTRAP_USER_PREFIX, BOOTSTRAPPERS_GROUP, StoredToken, check_node_key, check_token, node_common_name,
    node_key_secret_name, parse_credential,
};
use crate::store::StoreError;

/// Where the CA is served, without authentication.
pub const CACERTS_PATH: &str = "/cacerts";
/// Where a bootstrap identity trades a CSR for a node certificate.
pub const NODE_CREDENTIALS_PATH: &str = crate::logic::authorize::NODE_CREDENTIALS_PATH;
/// The namespace of stored join tokens.
pub const TOKEN_NAMESPACE: &str = "kube-system";
/// The Secret type of a stored join token (upstream's bootstrap-token type).
pub const TOKEN_SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
/// The Secret type pinning a node's key (`kube-system/node-key-<node>`).
pub const NODE_KEY_SECRET_TYPE: &str = "reddwarf.io/node-key";
/// How long a node certificate issued at join is valid.
pub const NODE_CERT_VALID_DAYS: i64 = 365;

/// The name of the Secret holding token `id`.
pub fn token_secret_name(id: &str) -> String {
    format!("bootstrap-token-{id}")
}

/// What the join endpoint needs from the TLS material.
#[derive(Clone, Debug)]
pub struct JoinAuthority {
    /// The CA clients should trust for the server (served at `/cacerts`).
    pub server_ca_pem: String,
    /// The client CA certificate and key, which sign node certificates.
    pub client_ca: ClientCredentials,
}

/// The body of `POST /bootstrap/v1/node-credentials`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeCredentialsRequest {
    /// The node's name; the certificate will say `system:node:<nodeName>`.
    pub node_name: String,
    /// A PEM PKCS#10 request signed with the node's key. Only its key is used.
    pub certificate_signing_request: String,
}

/// The answer: the node's certificate and the CA to trust.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeCredentialsResponse {
    /// `reddwarf.io/v1`.
    pub api_version: String,
    /// `NodeCredentials`.
    pub kind: String,
    /// The node's client certificate (PEM).
    pub certificate: String,
    /// The CA that signed the server's certificate (PEM).
    pub certificate_authority: String,
}

fn secret_field(secret: &Value, field: &str) -> Option<String> {
    let encoded = secret.pointer(&format!("/data/{field}"))?.as_str()?;
    String::from_utf8(STANDARD.decode(encoded).ok()?).ok()
}

/// The token stored under `id`, if any. A Secret that is not a usable bootstrap token
/// (wrong type, no hash, an unreadable expiry) counts as none.
pub fn stored_token(store: &crate::store::Store, id: &str) -> Option<StoredToken> {
    let key = registry::core("secrets").key(Some(TOKEN_NAMESPACE), &token_secret_name(id));
    let secret = store.get(&key)?.json();
    if secret["type"] != TOKEN_SECRET_TYPE
        || secret_field(&secret, "usage-bootstrap-authentication").as_deref() != Some("true")
    {
        return None;
    }
    let secret_sha256 = secret_field(&secret, "token-secret-sha256")?;
    let expires = match secret_field(&secret, "expiration") {
        Some(text) => Some(text.parse().ok()?),
        None => None,
    };
    Some(StoredToken { secret_sha256, expires })
}

/// The identity a bearer credential stands for when it has a join token's shape: Ok(None)
/// when it does not look like one (the caller tries other authenticators), Err with a
/// message saying why when it does but is refused.
pub fn bootstrap_user(state: &ApiState, bearer: &str) -> Result<Option<UserInfo>, ApiError> {
    let Ok((id, secret)) = parse_credential(bearer) else { return Ok(None) };
    let stored = stored_token(&state.store, id);
    match check_token(id, secret, stored.as_ref(), state.clock.now()) {
        Ok(()) => {
            Ok(Some(UserInfo::authenticated(format!("{BOOTSTRAP_USER_PREFIX}{id}"), [BOOTSTRAPPERS_GROUP.to_string()])))
        }
        Err(refusal) => {
            tracing::info!(%refusal, "join token refused");
            Err(ApiError::unauthorized_because(refusal.to_string()))
        }
    }
}

/// The key pinned for `node`, if it has joined before.
fn pinned_key(store: &crate::store::Store, node: &str) -> Option<String> {
    let key = registry::core("secrets").key(Some(TOKEN_NAMESPACE), &node_key_secret_name(node));
    secret_field(&store.get(&key)?.json(), "public-key-sha256")
}

/// Pins `key_sha256` as `node`'s key on its first join, or checks it against the pin.
async fn pin_node_key(state: &ApiState, node: &str, key_sha256: &str) -> Result<(), ApiError> {
    let conflict = |why: String| {
        ApiError::conflict_because(Subject { resource: "nodes", group: "", kind: "Node", name: node }, &why)
    };
    if let Some(pinned) = pinned_key(&state.store, node) {
        return check_node_key(node, Some(&pinned), key_sha256).map_err(conflict);
    }
    let def = registry::core("secrets");
    let name = node_key_secret_name(node);
    let meta = ServerMeta {
        uid: uuid::Uuid::new_v4().to_string(),
        created: state.clock.now(),
        namespace: Some(TOKEN_NAMESPACE.to_string()),
    };
    let body = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": TOKEN_NAMESPACE, "labels": {"reddwarf.io/node": node}},
        "type": NODE_KEY_SECRET_TYPE,
        "data": {"public-key-sha256": STANDARD.encode(key_sha256)},
    });
    let object = def.codec.create(def, body, &meta)?.object;
    match state.store.create(def.key(Some(TOKEN_NAMESPACE), &name), object).await {
        Ok(_) => Ok(()),
        // Another join for the same name won the race: judge against its pin.
        Err(StoreError::AlreadyExists { .. }) => {
            check_node_key(node, pinned_key(&state.store, node).as_deref(), key_sha256).map_err(conflict)
        }
        Err(err) => Err(ApiError::internal(err)),
    }
}

/// Registers `/cacerts` and the node credentials endpoint.
pub fn routes(config: &mut web::ServiceConfig) {
    config.route(CACERTS_PATH, web::get().to(cacerts)).route(NODE_CREDENTIALS_PATH, web::post().to(node_credentials));
}

fn authority(state: &ApiState) -> Result<&Arc<JoinAuthority>, ApiError> {
    state.join.as_ref().ok_or_else(ApiError::no_such_resource)
}

/// `GET /cacerts`: the CA PEM, byte for byte what a join token's hash was taken over.
async fn cacerts(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let authority = authority(&state)?;
    Ok(HttpResponse::Ok().content_type("application/x-pem-file").body(authority.server_ca_pem.clone()))
}

/// `POST /bootstrap/v1/node-credentials`.
async fn node_credentials(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let authority = authority(&state)?;
    let user = req.extensions().get::<UserInfo>().cloned().ok_or_else(ApiError::unauthorized)?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let request: NodeCredentialsRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("a NodeCredentialsRequest: {e}")))?;
    let common_name = node_common_name(&request.node_name).map_err(ApiError::bad_request)?;
    let key_sha256 = request_key_sha256(&request.certificate_signing_request)
        .map_err(|e| ApiError::bad_request(format!("the certificate signing request: {e}")))?;
    pin_node_key(&state, &request.node_name, &key_sha256).await?;
    let now = state.clock.now();
    let not_before = now - jiff::SignedDuration::from_hours(1);
    let not_after = now + jiff::SignedDuration::from_hours(24 * NODE_CERT_VALID_DAYS);
    let certificate = sign_client_request(
        &authority.client_ca,
        &request.certificate_signing_request,
        &common_name,
        &[NODES_GROUP],
        not_before,
        not_after,
    )
    .map_err(|e| ApiError::bad_request(format!("the certificate signing request: {e}")))?;
    tracing::info!(node = %request.node_name, by = %user.name, "issued a node client certificate");
    let response = NodeCredentialsResponse {
        api_version: "reddwarf.io/v1".into(),
        kind: "NodeCredentials".into(),
        certificate,
        certificate_authority: authority.server_ca_pem.clone(),
    };
    Ok(HttpResponse::Ok().json(response))
}
