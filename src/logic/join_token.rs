//! Join tokens: their text form, and whether a presented one may bootstrap a node. It owns
//! the token grammar and the accept/refuse decision; storing tokens (as hashed Secrets),
//! the HTTP endpoint and the clock belong to `api::join`, and the joining side to `join`.
//!
//! A token reads `K10<sha256 of the CA PEM, 64 hex>::<id>.<secret>`, as k3s's secure
//! tokens do: the hash lets a joining node check the CA it fetched without trusting it,
//! and `<id>.<secret>` (kubeadm's bootstrap-token shape, `[a-z0-9]{6}.[a-z0-9]{16}`) is
//! the credential. The server keeps only the SHA-256 of the secret, under the id.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// The prefix of a join token (k3s's marker for the secure format).
pub const TOKEN_PREFIX: &str = "K10";
/// The length of a token id.
pub const ID_LEN: usize = 6;
/// The length of a token secret.
pub const SECRET_LEN: usize = 16;
/// The user name prefix of a bootstrap identity (`system:bootstrap:<id>`).
pub const BOOTSTRAP_USER_PREFIX: &str = "system:bootstrap:";
/// The group of bootstrap identities.
pub const BOOTSTRAPPERS_GROUP: &str = "system:bootstrappers";

/// A parsed join token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinToken {
    /// The SHA-256 of the CA certificate PEM, lowercase hex.
    pub ca_hash: String,
    /// The token id (public: it names the stored token).
    pub id: String,
    /// The token secret.
    pub secret: String,
}

/// Why a token's text is not a join token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    /// No `K10` prefix or no `::` separator.
    #[error("a join token reads K10<ca-sha256>::<id>.<secret>")]
    Shape,
    /// The CA hash is not 64 lowercase hex digits.
    #[error("the CA hash in a join token is 64 hex digits")]
    CaHash,
    /// The credential is not `<id>.<secret>` of the right lengths and alphabet.
    #[error("the credential in a join token reads <6 of a-z0-9>.<16 of a-z0-9>")]
    Credential,
}

fn token_chars(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Parses `<id>.<secret>`, the part of a token sent as a bearer credential.
pub fn parse_credential(credential: &str) -> Result<(&str, &str), TokenFormatError> {
    let (id, secret) = credential.split_once('.').ok_or(TokenFormatError::Credential)?;
    if token_chars(id, ID_LEN) && token_chars(secret, SECRET_LEN) {
        Ok((id, secret))
    } else {
        Err(TokenFormatError::Credential)
    }
}

impl JoinToken {
    /// Parses a full join token.
    pub fn parse(text: &str) -> Result<Self, TokenFormatError> {
        let rest = text.trim().strip_prefix(TOKEN_PREFIX).ok_or(TokenFormatError::Shape)?;
        let (hash, credential) = rest.split_once("::").ok_or(TokenFormatError::Shape)?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TokenFormatError::CaHash);
        }
        let (id, secret) = parse_credential(credential)?;
        Ok(Self { ca_hash: hash.to_ascii_lowercase(), id: id.to_string(), secret: secret.to_string() })
    }

    /// The bearer credential, `<id>.<secret>`.
    pub fn credential(&self) -> String {
        format!("{}.{}", self.id, self.secret)
    }
}

impl std::fmt::Display for JoinToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{TOKEN_PREFIX}{}::{}.{}", self.ca_hash, self.id, self.secret)
    }
}

/// The SHA-256 of some bytes, lowercase hex (the CA hash, and the stored secret hash).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Maps random bytes onto the token alphabet (`a-z0-9`). The caller supplies randomness.
pub fn token_text(random: &[u8]) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    // 252 is the largest multiple of 36 below 256: dropping bytes above it keeps the
    // distribution uniform.
    random.iter().filter(|b| **b < 252).map(|b| ALPHABET[usize::from(*b) % 36] as char).collect()
}

/// A stored token, as the server keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// SHA-256 of the secret, lowercase hex.
    pub secret_sha256: String,
    /// When it stops working; None never.
    pub expires: Option<Timestamp>,
}

/// Why a bootstrap credential was refused. The texts are what the joining node prints.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// No token with this id (never created, or revoked).
    #[error("join token {0} is unknown or was revoked")]
    Unknown(String),
    /// The id exists but the secret does not match.
    #[error("join token {0} does not match")]
    Mismatch(String),
    /// Past its expiry.
    #[error("join token {id} expired at {at}")]
    Expired {
        /// The token id.
        id: String,
        /// When it expired.
        at: Timestamp,
    },
}

fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decides whether the credential `<id>.<secret>` may bootstrap a node at `now`, given the
/// token stored under `id` (None when there is none).
pub fn check_token(id: &str, secret: &str, stored: Option<&StoredToken>, now: Timestamp) -> Result<(), TokenRefusal> {
    let stored = stored.ok_or_else(|| TokenRefusal::Unknown(id.to_string()))?;
    if !equal_in_constant_time(sha256_hex(secret.as_bytes()).as_bytes(), stored.secret_sha256.as_bytes()) {
        return Err(TokenRefusal::Mismatch(id.to_string()));
    }
    match stored.expires {
        Some(at) if now >= at => Err(TokenRefusal::Expired { id: id.to_string(), at }),
        _ => Ok(()),
    }
}

/// The subject a node's client certificate carries: CN `system:node:<name>`, O
/// `system:nodes`. Checks that the name a joining node asks for is a DNS subdomain (as a
/// Node's name must be) and returns the CN.
pub fn node_common_name(node_name: &str) -> Result<String, String> {
    let valid = !node_name.is_empty()
        && node_name.len() <= 253
        && node_name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if valid {
        Ok(format!("{}{node_name}", crate::logic::authorize::NODE_USER_PREFIX))
    } else {
        Err(format!("{node_name:?} is not a valid node name (a lowercase DNS subdomain)"))
    }
}

/// Whether a node may be issued a certificate for the key it presents (SHA-256 hex),
/// given the key pinned when that node name first joined (None: never). Like k3s's node
/// passwords: a join token lets a new node in, but not take over an existing node's name
/// with another key. An operator who rebuilds a node deletes the pin to let it re-join.
pub fn check_node_key(node_name: &str, pinned: Option<&str>, presented: &str) -> Result<(), String> {
    match pinned {
        Some(pinned) if !equal_in_constant_time(pinned.as_bytes(), presented.as_bytes()) => Err(format!(
            "node {node_name:?} already joined with another key; to re-join it with a new one, delete secret {}/{}",
            "kube-system",
            node_key_secret_name(node_name)
        )),
        _ => Ok(()),
    }
}

/// The Secret (in kube-system) pinning a node's key.
pub fn node_key_secret_name(node_name: &str) -> String {
    format!("node-key-{node_name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_and_prints() {
        let text = format!("K10{HASH}::abc123.0123456789abcdef");
        let token = JoinToken::parse(&text).unwrap();
        assert_eq!(token.id, "abc123");
        assert_eq!(token.credential(), "abc123.0123456789abcdef");
        assert_eq!(token.to_string(), text);
        assert_eq!(JoinToken::parse(&format!(" {text}\n")).unwrap(), token);
    }

    #[test]
    fn refuses_malformed_tokens() {
        for (text, error) in [
            ("", TokenFormatError::Shape),
            ("abc123.0123456789abcdef", TokenFormatError::Shape),
            (&format!("K10{HASH}abc123.0123456789abcdef"), TokenFormatError::Shape),
            (&format!("K10{}::abc123.0123456789abcdef", &HASH[1..]), TokenFormatError::CaHash),
            (&format!("K10{}g::abc123.0123456789abcdef", &HASH[1..]), TokenFormatError::CaHash),
            (&format!("K10{HASH}::abc123"), TokenFormatError::Credential),
            (&format!("K10{HASH}::ABC123.0123456789abcdef"), TokenFormatError::Credential),
            (&format!("K10{HASH}::abc12.0123456789abcdef"), TokenFormatError::Credential),
            (&format!("K10{HASH}::abc123.0123456789abcde"), TokenFormatError::Credential),
            (&format!("K10{HASH}::abc123.0123456789abcdef.x"), TokenFormatError::Credential),
            ("K10é::x", TokenFormatError::CaHash),
        ] {
            assert_eq!(JoinToken::parse(text), Err(error), "{text:?}");
        }
    }

    #[test]
    fn token_text_is_uniform_over_the_alphabet() {
        assert_eq!(token_text(&[0, 25, 26, 35, 36, 251, 252, 255]), "az09a9");
    }

    #[test]
    fn checks_tokens() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let stored = StoredToken {
            secret_sha256: sha256_hex(b"0123456789abcdef"),
            expires: Some("2026-01-01T01:00:00Z".parse().unwrap()),
        };
        assert_eq!(check_token("abc123", "0123456789abcdef", Some(&stored), now), Ok(()));
        assert_eq!(
            check_token("abc123", "0123456789abcdee", Some(&stored), now),
            Err(TokenRefusal::Mismatch("abc123".into()))
        );
        assert_eq!(check_token("abc123", "0123456789abcdef", None, now), Err(TokenRefusal::Unknown("abc123".into())));
        let later: Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        let expired = check_token("abc123", "0123456789abcdef", Some(&stored), later).unwrap_err();
        assert_eq!(expired.to_string(), "join token abc123 expired at 2026-01-01T01:00:00Z");
        let forever = StoredToken { expires: None, ..stored };
        assert_eq!(check_token("abc123", "0123456789abcdef", Some(&forever), later), Ok(()));
    }

    #[test]
    fn node_keys_are_pinned_at_first_join() {
        assert_eq!(check_node_key("n1", None, "aa"), Ok(()));
        assert_eq!(check_node_key("n1", Some("aa"), "aa"), Ok(()));
        let refused = check_node_key("n1", Some("aa"), "bb").unwrap_err();
        assert!(refused.contains("delete secret kube-system/node-key-n1"), "{refused}");
    }

    #[test]
    fn node_names() {
        assert_eq!(node_common_name("n1").unwrap(), "system:node:n1");
        assert_eq!(node_common_name("host-1.example.com").unwrap(), "system:node:host-1.example.com");
        for bad in ["", "N1", "-a", "a-", "a..b", "a;b", "a b", &"a".repeat(64)] {
            assert!(node_common_name(bad).is_err(), "{bad:?}");
        }
    }
}
