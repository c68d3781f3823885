//! Authentication, in one middleware that runs before every handler. Requests carry the
//! admin bearer token (written into `admin.kubeconfig`); only `/healthz`, `/livez`,
//! `/readyz` and `/version` are open to anonymous callers. The server keeps only the
//! token's SHA-256, never the token itself.

use std::path::{Path, PathBuf};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::api::status::ApiError;

/// The paths anonymous callers may reach.
pub const ANONYMOUS_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/version/"];

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

fn bearer(req: &ServiceRequest) -> Option<&str> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// The authentication middleware (`actix_web::middleware::from_fn`).
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let open = ANONYMOUS_PATHS.contains(&req.path());
    let authenticated = match (req.app_data::<web::Data<Authenticator>>(), bearer(&req)) {
        (Some(auth), Some(token)) => auth.is_admin(token),
        _ => false,
    };
    if open || authenticated {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let response = ApiError::unauthorized().error_response();
    Ok(req.into_response(response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let token = new_token();
        let auth = Authenticator::with_admin_token(&token);
        assert!(auth.is_admin(&token));
        assert!(!auth.is_admin("nope"));
        assert!(!auth.is_admin(""));
        assert_ne!(new_token(), token);
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
}
