//! Authentication and authorization, in one middleware ([`gate`]) that runs before every
//! handler. It owns turning credentials into a [`UserInfo`] and enforcing what
//! `logic::authorize` decides; the policy itself is not here.
//!
//! - **Credentials:** an X.509 client certificate signed by the cluster CA (CN is the user,
//!   each O a group), judged once per connection ([`on_connect`]); or the admin bearer
//!   token, of which the server keeps only the SHA-256. A certificate that is expired or
//!   not from the CA, or a wrong token, is 401 `Unauthorized`. Anonymous callers reach only
//!   [`ANONYMOUS_PATHS`].
//! - **Overload:** the request then takes a slot in its in-flight pool (`api::inflight`),
//!   or is refused with 429.
//! - **Authorization:** `logic::authorize::authorize`; a refusal is 403 `Forbidden` in
//!   upstream's wording. When the decision hangs on a stored pod's node or on the name in
//!   the request body, the gate looks that up here, before the handler runs.
//!
//! The authenticated identity goes into the request extensions as a [`UserInfo`].

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use sha2::{Digest, Sha256};

use crate::api::ApiState;
use crate::api::inflight::Inflight;
use crate::api::registry;
use crate::api::request::{content_type, decode_object, read_body};
use crate::api::status::{ApiError, Subject};
use crate::api::tls::{ADMIN_GROUP, ADMIN_USER};
use crate::clock::Clock;
use crate::logic::authorize::{
    Condition, Decision, RequestAttributes, authorize, condition_holds, denial_reason, pod_uses,
};
use crate::logic::inflight::classify;
use crate::model::fields::FieldSelector;
use crate::store::{ReadAt, Selection};

pub use crate::logic::authorize::UserInfo;

/// The paths anonymous callers may reach.
/// `/cacerts` is how a joining node fetches the CA it then checks against its token.
pub const ANONYMOUS_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/version/", "/cacerts"];

/// Verifies bearer tokens against stored hashes.
#[derive(Clone, Debug)]
pub struct Authenticator {
    admin_token_sha256: [u8; 32],
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Why the credentials could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Reading or writing a credentials file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// The admin identity (the token's, and the admin certificate's).
pub fn admin_user() -> UserInfo {
    UserInfo::authenticated(ADMIN_USER, [ADMIN_GROUP.to_string()])
}

impl Authenticator {
    /// An authenticator that accepts `token` as the admin's.
    pub fn with_admin_token(token: &str) -> Self {
        Self { admin_token_sha256: digest(token) }
    }

    /// True when `token` is the admin token. Compares digests, in constant time.
    pub fn is_admin(&self, token: &str) -> bool {
        let candidate = digest(token);
        candidate.iter().zip(self.admin_token_sha256.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The identity a bearer token stands for, if any.
    pub fn token_user(&self, token: &str) -> Option<UserInfo> {
        self.is_admin(token).then(admin_user)
    }
}

/// A fresh random token (256 bits).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The admin token: kept if `existing` (from an earlier kubeconfig) still matches the
/// stored hash, otherwise a new one whose hash replaces the stored one.
pub fn admin_token(data_dir: &Path, existing: Option<String>) -> Result<(String, Authenticator), AuthError> {
    let hash_path = data_dir.join("admin-token.sha256");
    let stored = std::fs::read_to_string(&hash_path).ok().and_then(|h| hex::decode(h.trim()).ok());
    if let (Some(token), Some(stored)) = (existing, stored)
        && stored == digest(&token)
    {
        let auth = Authenticator::with_admin_token(&token);
        return Ok((token, auth));
    }
    let token = new_token();
    crate::api::tls::write_private(&hash_path, hex::encode(digest(&token)).as_bytes())
        .map_err(|source| AuthError::Io { path: hash_path.clone(), source })?;
    let auth = Authenticator::with_admin_token(&token);
    Ok((token, auth))
}

/// What a connection's client certificate proved, judged once when the connection opened
/// and kept in the connection's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerIdentity {
    /// A valid certificate from the CA: its identity, good until `not_after` (Unix
    /// seconds), after which a long-lived connection stops authenticating.
    Verified {
        /// The identity.
        user: UserInfo,
        /// The certificate's `notAfter`.
        not_after: i64,
    },
    /// A certificate was presented but refused: why (for the log).
    Refused(String),
}

/// Judges a presented chain (leaf first) against the client CA at `now`.
pub fn judge_peer(
    chain: &[CertificateDer<'_>],
    verifier: &dyn ClientCertVerifier,
    now: jiff::Timestamp,
) -> PeerIdentity {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return PeerIdentity::Refused("no certificate".into());
    };
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.as_second().max(0) as u64));
    if let Err(err) = verifier.verify_client_cert(leaf, intermediates, at) {
        return PeerIdentity::Refused(err.to_string());
    }
    match certificate_identity(leaf) {
        Ok((user, not_after)) => PeerIdentity::Verified { user, not_after },
        Err(why) => PeerIdentity::Refused(why),
    }
}

/// The user (CN), groups (O) and `notAfter` of a certificate.
fn certificate_identity(der: &CertificateDer<'_>) -> Result<(UserInfo, i64), String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| format!("unparsable certificate: {e}"))?;
    let subject = cert.subject();
    let name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .filter(|cn| !cn.is_empty())
        .ok_or("the certificate has no common name")?
        .to_string();
    let groups = subject.iter_organization().filter_map(|o| o.as_str().ok()).map(str::to_string);
    Ok((UserInfo::authenticated(name, groups), cert.validity().not_after.timestamp()))
}

/// The `HttpServer::on_connect` callback: judges the client certificate of each new TLS
/// connection (if it presented one) and stores the [`PeerIdentity`] with the connection.
pub fn on_connect(
    verifier: Arc<dyn ClientCertVerifier>,
    clock: Clock,
) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + 'static {
    move |connection, data| {
        use actix_tls::accept::rustls_0_23::TlsStream;
        let Some(stream) = connection.downcast_ref::<TlsStream<actix_web::rt::net::TcpStream>>() else { return };
        let (_, session) = stream.get_ref();
        if let Some(chain) = session.peer_certificates().filter(|c| !c.is_empty()) {
            let identity = judge_peer(chain, verifier.as_ref(), clock.now());
            if let PeerIdentity::Refused(why) = &identity {
                tracing::info!(%why, "client certificate refused");
            }
            data.insert(identity);
        }
    }
}

fn bearer(req: &ServiceRequest) -> Option<&str> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// Who sent the request: Ok(None) for anonymous, Err for credentials that do not hold.
/// A valid certificate wins over a token, as upstream's authenticator chain does. A bearer
/// token is the admin's, or a join token's credential (`<id>.<secret>`, looked up in the
/// store by `api::join`), whose refusal says why.
fn identify(req: &ServiceRequest, state: &ApiState) -> Result<Option<UserInfo>, ApiError> {
    let now = state.clock.now();
    let peer = req.conn_data::<PeerIdentity>().cloned();
    if let Some(PeerIdentity::Verified { user, not_after }) = &peer
        && now.as_second() <= *not_after
    {
        return Ok(Some(user.clone()));
    }
    if let Some(token) = bearer(req) {
        let auth = req.app_data::<web::Data<Authenticator>>().ok_or_else(ApiError::unauthorized)?;
        if let Some(user) = auth.token_user(token) {
            return Ok(Some(user));
        }
        return crate::api::join::bootstrap_user(state, token)?.map(Some).ok_or_else(ApiError::unauthorized);
    }
    match peer {
        Some(_) => Err(ApiError::unauthorized()),
        None => Ok(None),
    }
}

fn refuse(req: ServiceRequest, err: ApiError) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = err.error_response();
    Ok(req.into_response(response))
}

fn forbidden(user: &UserInfo, request: &RequestAttributes) -> ApiError {
    let reason = denial_reason(user, request);
    match &request.resource {
        Some(r) => {
            ApiError::forbidden(Subject { resource: &r.resource, group: &r.group, kind: "", name: &r.name }, &reason)
        }
        None => ApiError::forbidden_path(&reason),
    }
}

/// The authentication, overload and authorization middleware
/// (`actix_web::middleware::from_fn`).
pub async fn gate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let attributes = req
        .extensions()
        .get::<RequestAttributes>()
        .cloned()
        .unwrap_or_else(|| RequestAttributes::from_http(req.method().as_str(), req.path(), req.query_string()));
    let Some(state) = req.app_data::<web::Data<ApiState>>().cloned() else {
        return refuse(req, ApiError::internal("the API state is not configured"));
    };
    let user = match identify(&req, &state) {
        Ok(user) => user,
        Err(err) => return refuse(req, err),
    };
    if user.is_none() && !ANONYMOUS_PATHS.contains(&req.path()) {
        return refuse(req, ApiError::unauthorized());
    }
    let slot = match req.app_data::<web::Data<Inflight>>() {
        Some(inflight) => match inflight.admit(classify(&attributes, user.as_ref())) {
            Some(slot) => Some(slot),
            None => return refuse(req, ApiError::too_many_requests(1)),
        },
        None => None,
    };
    if let Some(user) = &user {
        let allowed = match authorize(user, &attributes) {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::AllowIf(condition) => match check_condition(&mut req, &state, &condition).await {
                Ok(holds) => holds,
                Err(err) => return refuse(req, err),
            },
        };
        if !allowed {
            return refuse(req, forbidden(user, &attributes));
        }
        req.extensions_mut().insert(user.clone());
    }
    let response = next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    drop(slot);
    response
}

/// True when a pod in `namespace` bound to `node` uses the `resource` (configmaps or
/// secrets) named `name`. Scans the node's pods in that namespace, from the watch cache.
pub fn used_by_pod_on(store: &crate::store::Store, node: &str, namespace: &str, resource: &str, name: &str) -> bool {
    let Ok(fields) = FieldSelector::parse(&format!("spec.nodeName={node}")) else { return false };
    let selection =
        Selection { prefix: registry::core("pods").prefix(Some(namespace)), fields, ..Selection::default() };
    store
        .list(&selection, ReadAt::Latest, None, None)
        .is_ok_and(|page| page.items.iter().any(|pod| pod_uses(&pod.json(), resource, name)))
}

/// Checks a condition of an `AllowIf` decision: looks up the stored pod, or reads (and
/// puts back) the request body to see the object's name. A pod that does not exist
/// passes, so the handler answers 404 as usual.
async fn check_condition(req: &mut ServiceRequest, state: &ApiState, condition: &Condition) -> Result<bool, ApiError> {
    let route = match crate::api::path::parse(req.path()) {
        Ok(route) => route,
        // Not a served resource: the handler answers 404 and touches nothing.
        Err(_) => return Ok(true),
    };
    match condition {
        Condition::PodBoundTo(_) => {
            let Some(pod) = state.store.get(&route.key()) else { return Ok(true) };
            let pod = pod.json();
            let node = pod.pointer("/spec/nodeName").and_then(serde_json::Value::as_str);
            Ok(condition_holds(condition, node, None))
        }
        Condition::UsedByPodOn(node) => {
            let attributes = RequestAttributes::from_http(req.method().as_str(), req.path(), req.query_string());
            let Some(r) = attributes.resource else { return Ok(false) };
            Ok(used_by_pod_on(&state.store, node, &r.namespace, &r.resource, &r.name))
        }
        Condition::BodyNamed(_) => {
            let payload = req.take_payload();
            let body = read_body(req.request(), payload, state.settings.max_body_bytes).await?;
            let object = decode_object(&content_type(req.request()), &body, route.def.kind)?;
            req.set_payload(actix_web::dev::Payload::from(body));
            let name = object.pointer("/metadata/name").and_then(serde_json::Value::as_str);
            Ok(condition_holds(condition, None, name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::authorize::{MASTERS_GROUP, NODES_GROUP};

    #[test]
    fn tokens() {
        let token = new_token();
        let auth = Authenticator::with_admin_token(&token);
        assert!(auth.is_admin(&token));
        assert!(!auth.is_admin("nope"));
        assert!(!auth.is_admin(""));
        assert_ne!(new_token(), token);
        let user = auth.token_user(&token).unwrap();
        assert_eq!(user.name, "reddwarf-admin");
        assert!(user.in_group(MASTERS_GROUP));
        assert_eq!(auth.token_user("nope"), None);
    }

    #[test]
    fn admin_token_is_kept_across_restarts() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (first, _) = admin_token(dir, None).unwrap();
        let (again, auth) = admin_token(dir, Some(first.clone())).unwrap();
        assert_eq!(first, again);
        assert!(auth.is_admin(&first));
        let (replaced, auth) = admin_token(dir, Some("forged".into())).unwrap();
        assert_ne!(replaced, "forged");
        assert!(!auth.is_admin(&first));
        let stored = std::fs::read_to_string(dir.join("admin-token.sha256")).unwrap();
        assert!(!stored.contains(&replaced), "only the hash is stored");
    }

    fn chain(pem: &str) -> Vec<CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn certificates_are_judged_against_the_ca_and_the_clock() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let now: jiff::Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let material = crate::api::tls::prepare(
            crate::api::tls::TlsSource::Generated { data_dir: dir.path(), extra_names: &[] },
            now,
        )
        .unwrap();
        let verifier = material.client_verifier.clone();
        let ca_key = std::fs::read_to_string(dir.path().join("tls/ca.key")).unwrap();
        let hour = jiff::SignedDuration::from_hours(1);

        // The admin certificate the server issued.
        match judge_peer(&chain(&material.admin.cert_pem), verifier.as_ref(), now) {
            PeerIdentity::Verified { user, .. } => assert_eq!(user, admin_user()),
            other => panic!("{other:?}"),
        }
        // A node certificate.
        let node = crate::api::tls::issue_client_certificate(
            &material.ca_pem,
            &ca_key,
            "system:node:n1",
            &[NODES_GROUP],
            now - hour,
            now + hour,
        )
        .unwrap();
        match judge_peer(&chain(&node.cert_pem), verifier.as_ref(), now) {
            PeerIdentity::Verified { user, not_after } => {
                assert_eq!(user.node_name(), Some("n1"));
                assert_eq!(not_after, (now + hour).as_second());
            }
            other => panic!("{other:?}"),
        }
        // Expired, not yet valid, or from another CA: refused.
        let expired = crate::api::tls::issue_client_certificate(
            &material.ca_pem,
            &ca_key,
            "reddwarf-admin",
            &[MASTERS_GROUP],
            now - hour * 48,
            now - hour * 24,
        )
        .unwrap();
        assert!(matches!(judge_peer(&chain(&expired.cert_pem), verifier.as_ref(), now), PeerIdentity::Refused(_)));
        let other_dir = tempfile::tempdir().unwrap();
        let other = crate::api::tls::prepare(
            crate::api::tls::TlsSource::Generated { data_dir: other_dir.path(), extra_names: &[] },
            now,
        )
        .unwrap();
        assert!(matches!(judge_peer(&chain(&other.admin.cert_pem), verifier.as_ref(), now), PeerIdentity::Refused(_)));
        assert!(matches!(judge_peer(&[], verifier.as_ref(), now), PeerIdentity::Refused(_)));
    }
}
