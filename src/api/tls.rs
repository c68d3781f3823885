//! TLS material. On first start the server makes a CA and a serving certificate under
//! `DATA/tls/` with rcgen: the CA and the leaf have distinct subjects (clients reject a
//! chain where they do not), the leaf names localhost, 127.0.0.1, ::1, the host name and
//! any extra names asked for, and every key file is mode 0600. Later starts reuse them and
//! re-issue the leaf when it nears expiry or lacks a name. A user may bring their own PEM
//! certificate and key instead.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The CA's subject.
pub const CA_COMMON_NAME: &str = "reddwarf-ca";
/// The serving certificate's subject.
pub const SERVER_COMMON_NAME: &str = "reddwarf-apiserver";
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
}

/// What the server serves with, and what clients should trust.
pub struct TlsMaterial {
    /// The rustls configuration (ALPN http/1.1).
    pub server_config: Arc<rustls::ServerConfig>,
    /// The CA certificate (PEM) clients should trust, for the kubeconfig.
    pub ca_pem: String,
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
    let now = time::OffsetDateTime::from_unix_timestamp(now.as_second()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (chain_pem, key_pem, ca_pem) = match source {
        TlsSource::Generated { data_dir, extra_names } => generated(data_dir, &default_names(extra_names), now)?,
        TlsSource::Supplied { cert, key, ca } => {
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
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem { path: "certificate".into(), what: e.to_string() })?;
    if chain.is_empty() {
        return Err(TlsError::Pem { path: "certificate".into(), what: "no certificate found".into() });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| TlsError::Pem { path: "key".into(), what: e.to_string() })?;
    let mut config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial { server_config: Arc::new(config), ca_pem })
}

fn last_certificate(chain: &str) -> Option<String> {
    let marker = "-----BEGIN CERTIFICATE-----";
    let start = chain.rfind(marker)?;
    let end = chain[start..].find("-----END CERTIFICATE-----")? + start + "-----END CERTIFICATE-----".len();
    Some(format!("{}\n", &chain[start..end]))
}

/// Loads or creates the CA and serving certificate under `data_dir/tls`; returns the
/// leaf chain, the leaf key and the CA certificate, all PEM.
fn generated(
    data_dir: &Path,
    names: &[String],
    now: time::OffsetDateTime,
) -> Result<(String, String, String), TlsError> {
    let dir = data_dir.join("tls");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    #[cfg(unix)]
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).map_err(io(&dir))?;
    let (ca_cert_path, ca_key_path) = (dir.join("ca.crt"), dir.join("ca.key"));
    let (cert_path, key_path) = (dir.join("server.crt"), dir.join("server.key"));

    let (ca_pem, ca_key) = if ca_cert_path.exists() && ca_key_path.exists() {
        let pem = std::fs::read_to_string(&ca_cert_path).map_err(io(&ca_cert_path))?;
        let key = KeyPair::from_pem(&std::fs::read_to_string(&ca_key_path).map_err(io(&ca_key_path))?)?;
        (pem, key)
    } else {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, CA_COMMON_NAME);
        params.distinguished_name.push(DnType::OrganizationName, "Reddwarf");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        validity(&mut params, now, CA_VALID_DAYS);
        random_serial(&mut params);
        let cert = params.self_signed(&key)?;
        write_private(&ca_key_path, key.serialize_pem().as_bytes()).map_err(io(&ca_key_path))?;
        std::fs::write(&ca_cert_path, cert.pem()).map_err(io(&ca_cert_path))?;
        // A new CA invalidates any serving certificate signed by an old one.
        let _ = std::fs::remove_file(&cert_path);
        (cert.pem(), key)
    };

    if cert_path.exists() && key_path.exists() {
        let pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
        if leaf_still_good(&pem, names, now) {
            let key = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
            return Ok((pem, key, ca_pem));
        }
    }
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key)?;
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
    Ok((cert.pem(), key.serialize_pem(), ca_pem))
}

/// True when a stored leaf covers every name and is not close to expiry.
fn leaf_still_good(pem: &str, names: &[String], now: time::OffsetDateTime) -> bool {
    let Ok(der) = CertificateDer::from_pem_slice(pem.as_bytes()) else { return false };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else { return false };
    let sans = certificate_names(&cert);
    let covered = names.iter().all(|name| sans.contains(&normalize_name(name)));
    covered && cert.validity().not_after.timestamp() > (now + time::Duration::days(RENEW_BEFORE_DAYS)).unix_timestamp()
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
