//! TLS material. On first start the server makes a CA and a serving certificate under
//! `DATA/tls/` with rcgen: the CA and the leaf have distinct subjects (clients reject a
//! chain where they do not), the leaf names localhost, 127.0.0.1, ::1, the host name and
//! any extra names asked for, and every key file is mode 0600. Later starts reuse them and
//! re-issue the leaf when it nears expiry or lacks a name. A user may bring their own PEM
//! serving certificate and key instead; the CA under `DATA/tls/` still signs client
//! certificates.
//!
//! Client certificates: the server asks for one (it does not require one) and names the
//! CA in the handshake. The handshake checks only that the client holds the certificate's
//! key ([`DeferredClientVerifier`]); whether the chain is valid (signed by the CA, in its
//! validity period) is judged per connection by the authenticator with
//! [`TlsMaterial::client_verifier`], so an expired or foreign certificate gets an HTTP 401
//! `Status` as upstream answers, rather than a bare TLS alert. The admin's certificate
//! (CN `reddwarf-admin`, O `system:masters`) is issued at start-up, kept under
//! `DATA/tls/admin.{crt,key}`, and re-issued when it nears expiry.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The CA's subject.
pub const CA_COMMON_NAME: &str = "reddwarf-ca";
/// The serving certificate's subject.
pub const SERVER_COMMON_NAME: &str = "reddwarf-apiserver";
/// The admin's user name (the CN of its client certificate).
pub const ADMIN_USER: &str = "reddwarf-admin";
/// The admin's group (the O of its client certificate).
pub const ADMIN_GROUP: &str = "system:masters";
const CA_VALID_DAYS: i64 = 3650;
const LEAF_VALID_DAYS: i64 = 365;
const RENEW_BEFORE_DAYS: i64 = 30;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A PEM file held nothing usable.
    #[error("{path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// Certificate generation failed.
    #[error("generating certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("configuring TLS: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client certificate verifier could not be built from the CA.
    #[error("configuring client certificates: {0}")]
    ClientVerifier(#[from] rustls::server::VerifierBuilderError),
}

/// A client certificate and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// The certificate.
    pub cert_pem: String,
    /// The private key (PKCS#8).
    pub key_pem: String,
}

/// What the server serves with, and what clients should trust.
pub struct TlsMaterial {
    /// The rustls configuration (ALPN http/1.1; client certificates requested).
    pub server_config: Arc<rustls::ServerConfig>,
    /// The CA certificate (PEM) clients should trust, for the kubeconfig.
    pub ca_pem: String,
    /// Judges a client's certificate chain against the client CA (`DATA/tls/ca.crt`).
    pub client_verifier: Arc<dyn ClientCertVerifier>,
    /// The admin's client certificate, for the kubeconfig.
    pub admin: ClientCredentials,
    /// The client CA's certificate and key (PEM), which sign node certificates at join.
    pub client_ca: ClientCredentials,
}

/// Where the certificates come from.
pub enum TlsSource<'a> {
    /// Generated and kept under `DATA/tls/`.
    Generated {
        /// The data directory.
        data_dir: &'a Path,
        /// Names beyond localhost, the loopback addresses and the host name.
        extra_names: &'a [String],
    },
    /// Supplied by the user.
    Supplied {
        /// The data directory (the client CA and admin certificate are kept there).
        data_dir: &'a Path,
        /// The certificate chain (PEM).
        cert: &'a Path,
        /// The private key (PEM).
        key: &'a Path,
        /// The CA to put in the kubeconfig; defaults to the chain's last certificate.
        ca: Option<&'a Path>,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io { path: path.to_path_buf(), source }
}

/// Writes a file readable only by its owner (mode 0600), atomically.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// The names every generated serving certificate covers.
pub fn default_names(extra: &[String]) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if let Ok(host) = hostname::get()
        && let Some(host) = host.to_str()
        && !host.is_empty()
    {
        names.push(host.to_string());
    }
    for name in extra {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn validity(params: &mut CertificateParams, now: time::OffsetDateTime, days: i64) {
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(days);
}

fn random_serial(params: &mut CertificateParams) {
    let mut serial: [u8; 16] = rand::random();
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
}

/// Prepares the TLS material from `source`.
pub fn prepare(source: TlsSource<'_>, now: jiff::Timestamp) -> Result<TlsMaterial, TlsError> {
    let now = to_offset(now);
    let data_dir = match &source {
        TlsSource::Generated { data_dir, .. } | TlsSource::Supplied { data_dir, .. } => *data_dir,
    };
    let dir = tls_dir(data_dir)?;
    let (client_ca_pem, client_ca_key) = ensure_ca(&dir, now)?;
    let (chain_pem, key_pem, ca_pem) = match source {
        TlsSource::Generated { extra_names, .. } => {
            let (chain, key) = serving_leaf(&dir, &client_ca_pem, &client_ca_key, &default_names(extra_names), now)?;
            (chain, key, client_ca_pem.clone())
        }
        TlsSource::Supplied { cert, key, ca, .. } => {
            let chain = std::fs::read_to_string(cert).map_err(io(cert))?;
            let key_pem = std::fs::read_to_string(key).map_err(io(key))?;
            let ca_pem = match ca {
                Some(ca) => std::fs::read_to_string(ca).map_err(io(ca))?,
                None => last_certificate(&chain)
                    .ok_or_else(|| TlsError::Pem { path: cert.into(), what: "no certificate found".into() })?,
            };
            (chain, key_pem, ca_pem)
        }
    };
    let admin = admin_credentials(&dir, &client_ca_pem, &client_ca_key, now)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem { path: "certificate".into(), what: e.to_string() })?;
    if chain.is_empty() {
        return Err(TlsError::Pem { path: "certificate".into(), what: "no certificate found".into() });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| TlsError::Pem { path: "key".into(), what: e.to_string() })?;
    let client_verifier = client_verifier(&client_ca_pem)?;
    let deferred = Arc::new(DeferredClientVerifier { inner: client_verifier.clone() });
    let mut config =
        rustls::ServerConfig::builder().with_client_cert_verifier(deferred).with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let client_ca = ClientCredentials { cert_pem: client_ca_pem, key_pem: client_ca_key.serialize_pem() };
    Ok(TlsMaterial { server_config: Arc::new(config), ca_pem, client_verifier, admin, client_ca })
}

fn to_offset(now: jiff::Timestamp) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(now.as_second()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A verifier that accepts a client chain only if the CA in `ca_pem` signed it and it is
/// within its validity period (and anonymous clients, who present none).
pub fn client_verifier(ca_pem: &str) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| TlsError::Pem { path: "ca.crt".into(), what: e.to_string() })?;
        roots.add(cert)?;
    }
    Ok(WebPkiClientVerifier::builder(Arc::new(roots)).allow_unauthenticated().build()?)
}

/// The handshake half of client authentication: it asks for a certificate from the CA
/// (naming it), checks that the client proves possession of the certificate's key, and
/// leaves the chain's validity to the authenticator, which answers an invalid one with
/// 401 as upstream does (see the module documentation).
#[derive(Debug)]
pub struct DeferredClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for DeferredClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn last_certificate(chain: &str) -> Option<String> {
    let marker = "-----BEGIN CERTIFICATE-----";
    let start = chain.rfind(marker)?;
    let end = chain[start..].find("-----END CERTIFICATE-----")? + start + "-----END CERTIFICATE-----".len();
    Some(format!("{}\n", &chain[start..end]))
}

/// `data_dir/tls`, created (mode 0700) if missing.
fn tls_dir(data_dir: &Path) -> Result<PathBuf, TlsError> {
    let dir = data_dir.join("tls");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    #[cfg(unix)]
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).map_err(io(&dir))?;
    Ok(dir)
}

/// Loads or creates the CA under `dir`: its certificate (PEM) and key.
fn ensure_ca(dir: &Path, now: time::OffsetDateTime) -> Result<(String, KeyPair), TlsError> {
    let (ca_cert_path, ca_key_path) = (dir.join("ca.crt"), dir.join("ca.key"));
    if ca_cert_path.exists() && ca_key_path.exists() {
        let pem = std::fs::read_to_string(&ca_cert_path).map_err(io(&ca_cert_path))?;
        let key = KeyPair::from_pem(&std::fs::read_to_string(&ca_key_path).map_err(io(&ca_key_path))?)?;
        return Ok((pem, key));
    }
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_COMMON_NAME);
    params.distinguished_name.push(DnType::OrganizationName, "Reddwarf");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    validity(&mut params, now, CA_VALID_DAYS);
    random_serial(&mut params);
    let cert = params.self_signed(&key)?;
    write_private(&ca_key_path, key.serialize_pem().as_bytes()).map_err(io(&ca_key_path))?;
    std::fs::write(&ca_cert_path, cert.pem()).map_err(io(&ca_cert_path))?;
    // A new CA invalidates every certificate signed by an old one.
    for stale in ["server.crt", "admin.crt"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    Ok((cert.pem(), key))
}

/// Loads or (re-)issues the serving certificate under `dir`; returns it and its key, PEM.
fn serving_leaf(
    dir: &Path,
    ca_pem: &str,
    ca_key: &KeyPair,
    names: &[String],
    now: time::OffsetDateTime,
) -> Result<(String, String), TlsError> {
    let (cert_path, key_path) = (dir.join("server.crt"), dir.join("server.key"));
    if cert_path.exists() && key_path.exists() {
        let pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
        if leaf_still_good(&pem, names, now) {
            let key = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
            return Ok((pem, key));
        }
    }
    let issuer = Issuer::from_ca_cert_pem(ca_pem, ca_key)?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.to_vec())?;
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, SERVER_COMMON_NAME);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, now, LEAF_VALID_DAYS);
    random_serial(&mut params);
    let cert = params.signed_by(&key, &issuer)?;
    write_private(&key_path, key.serialize_pem().as_bytes()).map_err(io(&key_path))?;
    std::fs::write(&cert_path, cert.pem()).map_err(io(&cert_path))?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Loads or (re-)issues the admin's client certificate under `dir`.
fn admin_credentials(
    dir: &Path,
    ca_pem: &str,
    ca_key: &KeyPair,
    now: time::OffsetDateTime,
) -> Result<ClientCredentials, TlsError> {
    let (cert_path, key_path) = (dir.join("admin.crt"), dir.join("admin.key"));
    if cert_path.exists() && key_path.exists() {
        let pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
        if not_close_to_expiry(&pem, now) {
            let key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
            return Ok(ClientCredentials { cert_pem: pem, key_pem });
        }
    }
    let issued = issue(
        ca_pem,
        ca_key,
        ADMIN_USER,
        &[ADMIN_GROUP],
        now - time::Duration::hours(1),
        now + time::Duration::days(LEAF_VALID_DAYS),
    )?;
    write_private(&key_path, issued.key_pem.as_bytes()).map_err(io(&key_path))?;
    std::fs::write(&cert_path, &issued.cert_pem).map_err(io(&cert_path))?;
    Ok(issued)
}

/// Issues a client certificate for `user` (its CN) in `groups` (its O values), signed by
/// the CA whose certificate and key are given (PEM), valid from `not_before` to
/// `not_after`. The server uses it for the admin; node bootstrap and tests use it for node
/// identities (`system:node:<name>` in `system:nodes`).
pub fn issue_client_certificate(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    user: &str,
    groups: &[&str],
    not_before: jiff::Timestamp,
    not_after: jiff::Timestamp,
) -> Result<ClientCredentials, TlsError> {
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    issue(ca_cert_pem, &ca_key, user, groups, to_offset(not_before), to_offset(not_after))
}

/// Signs a certificate signing request (PEM) with the CA in `ca`, for `user` in `groups`,
/// valid from `not_before` to `not_after`. Only the request's public key is used (its
/// signature must hold, proving the requester has the key); the subject, usages and
/// validity are the server's, whatever the request asked for.
pub fn sign_client_request(
    ca: &ClientCredentials,
    request_pem: &str,
    user: &str,
    groups: &[&str],
    not_before: jiff::Timestamp,
    not_after: jiff::Timestamp,
) -> Result<String, TlsError> {
    let request = rcgen::CertificateSigningRequestParams::from_pem(request_pem)?;
    let ca_key = KeyPair::from_pem(&ca.key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, &ca_key)?;
    let params = client_params(user, groups, to_offset(not_before), to_offset(not_after))?;
    Ok(params.signed_by(&request.public_key, &issuer)?.pem())
}

/// The SHA-256 (hex) of the public key a certificate signing request (PEM) carries, after
/// checking the request's signature.
pub fn request_key_sha256(request_pem: &str) -> Result<String, TlsError> {
    use rcgen::PublicKeyData;
    let request = rcgen::CertificateSigningRequestParams::from_pem(request_pem)?;
    Ok(crate::logic::join_token::sha256_hex(&request.public_key.subject_public_key_info()))
}

fn client_params(
    user: &str,
    groups: &[&str],
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = DistinguishedName::new();
    for group in groups {
        params.distinguished_name.push(DnType::OrganizationName, *group);
    }
    params.distinguished_name.push(DnType::CommonName, user);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = not_before;
    params.not_after = not_after;
    random_serial(&mut params);
    Ok(params)
}

fn issue(
    ca_pem: &str,
    ca_key: &KeyPair,
    user: &str,
    groups: &[&str],
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) -> Result<ClientCredentials, TlsError> {
    let issuer = Issuer::from_ca_cert_pem(ca_pem, ca_key)?;
    let key = KeyPair::generate()?;
    let params = client_params(user, groups, not_before, not_after)?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(ClientCredentials { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

/// True when a stored certificate parses and is not close to expiry.
fn not_close_to_expiry(pem: &str, now: time::OffsetDateTime) -> bool {
    let Ok(der) = CertificateDer::from_pem_slice(pem.as_bytes()) else { return false };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else { return false };
    cert.validity().not_after.timestamp() > (now + time::Duration::days(RENEW_BEFORE_DAYS)).unix_timestamp()
}

/// True when a stored leaf covers every name and is not close to expiry.
fn leaf_still_good(pem: &str, names: &[String], now: time::OffsetDateTime) -> bool {
    let Ok(der) = CertificateDer::from_pem_slice(pem.as_bytes()) else { return false };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else { return false };
    let sans = certificate_names(&cert);
    let covered = names.iter().all(|name| sans.contains(&normalize_name(name)));
    covered && not_close_to_expiry(pem, now)
}

/// A name as the SAN comparison sees it (IP addresses in canonical form).
fn normalize_name(name: &str) -> String {
    name.parse::<IpAddr>().map(|ip| ip.to_string()).unwrap_or_else(|_| name.to_string())
}

/// The DNS names and IP addresses a certificate's SAN extension lists.
pub fn certificate_names(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(san)) = cert.subject_alternative_name() else { return Vec::new() };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(dns.to_string()),
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => Some(IpAddr::from(<[u8; 4]>::try_from(*bytes).ok()?).to_string()),
                16 => Some(IpAddr::from(<[u8; 16]>::try_from(*bytes).ok()?).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> jiff::Timestamp {
        "2026-11-27T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn generated_material_is_private_distinct_and_reused() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let material =
            prepare(TlsSource::Generated { data_dir: dir.path(), extra_names: &["reddwarf.example".into()] }, now())
                .unwrap();
        #[cfg(unix)]
        for key in ["ca.key", "server.key"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("tls").join(key)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{key}");
        }
        let ca_der = CertificateDer::from_pem_slice(material.ca_pem.as_bytes()).unwrap();
        let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        let leaf_pem = std::fs::read_to_string(dir.path().join("tls/server.crt")).unwrap();
        let leaf_der = CertificateDer::from_pem_slice(leaf_pem.as_bytes()).unwrap();
        let (_, leaf) = x509_parser::parse_x509_certificate(&leaf_der).unwrap();
        assert_ne!(ca.subject().to_string(), leaf.subject().to_string());
        assert_eq!(leaf.issuer().to_string(), ca.subject().to_string());
        let names = certificate_names(&leaf);
        for name in ["localhost", "reddwarf.example", "127.0.0.1", "::1"] {
            assert!(names.contains(&name.to_string()), "{name} in {names:?}");
        }
        // A second start reuses the CA and the leaf.
        let again =
            prepare(TlsSource::Generated { data_dir: dir.path(), extra_names: &["reddwarf.example".into()] }, now())
                .unwrap();
        assert_eq!(again.ca_pem, material.ca_pem);
        assert_eq!(std::fs::read_to_string(dir.path().join("tls/server.crt")).unwrap(), leaf_pem);
        // A new name re-issues the leaf from the same CA.
        prepare(TlsSource::Generated { data_dir: dir.path(), extra_names: &["other.example".into()] }, now()).unwrap();
        assert_ne!(std::fs::read_to_string(dir.path().join("tls/server.crt")).unwrap(), leaf_pem);
        assert_eq!(std::fs::read_to_string(dir.path().join("tls/ca.crt")).unwrap(), material.ca_pem);
    }
}
