//! The admin kubeconfig the server writes for its user (`DATA/admin.kubeconfig`, mode
//! 0600): the server URL, the CA to verify it with, and the admin credentials. The current
//! context authenticates with the admin's client certificate; a second context,
//! `reddwarf-token`, carries the admin bearer token for tools that only speak tokens.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::api::tls::ClientCredentials;

/// The URL clients should use for a server listening on `listen`: a wildcard address
/// becomes the loopback address of its family.
pub fn server_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    match ip {
        IpAddr::V4(v4) => format!("https://{v4}:{}", listen.port()),
        IpAddr::V6(v6) => format!("https://[{v6}]:{}", listen.port()),
    }
}

/// The user entry holding the admin's client certificate (the current context's).
pub const CERTIFICATE_USER: &str = "reddwarf-admin";
/// The user entry holding the admin bearer token.
pub const TOKEN_USER: &str = "reddwarf-admin-token";

/// The kubeconfig document.
pub fn render(server: &str, ca_pem: &str, admin: &ClientCredentials, token: &str) -> String {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "reddwarf", "cluster": {"server": server, "certificate-authority-data": STANDARD.encode(ca_pem)}}],
        "users": [
            {"name": CERTIFICATE_USER, "user": {
                "client-certificate-data": STANDARD.encode(&admin.cert_pem),
                "client-key-data": STANDARD.encode(&admin.key_pem),
            }},
            {"name": TOKEN_USER, "user": {"token": token}},
        ],
        "contexts": [
            {"name": "reddwarf", "context": {"cluster": "reddwarf", "user": CERTIFICATE_USER, "namespace": "default"}},
            {"name": "reddwarf-token", "context": {"cluster": "reddwarf", "user": TOKEN_USER, "namespace": "default"}},
        ],
        "current-context": "reddwarf",
        "preferences": {},
    });
    serde_yaml::to_string(&config).expect("a kubeconfig always serializes")
}

/// The admin token in an existing kubeconfig, if there is one (also from the earlier
/// layout, where the only user carried it).
pub fn existing_token(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let config: serde_json::Value = serde_yaml::from_str(&text).ok()?;
    let users = config.get("users")?.as_array()?;
    users.iter().find_map(|u| u.pointer("/user/token")?.as_str().map(str::to_string))
}

/// Writes the kubeconfig with mode 0600.
pub fn write(path: &Path, server: &str, ca_pem: &str, admin: &ClientCredentials, token: &str) -> std::io::Result<()> {
    crate::api::tls::write_private(path, render(server, ca_pem, admin, token).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(server_url("0.0.0.0:6443".parse().unwrap()), "https://127.0.0.1:6443");
        assert_eq!(server_url("[::]:6443".parse().unwrap()), "https://[::1]:6443");
        assert_eq!(server_url("192.168.1.5:7443".parse().unwrap()), "https://192.168.1.5:7443");
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.kubeconfig");
        let admin = ClientCredentials { cert_pem: "CERT".into(), key_pem: "KEY".into() };
        write(&path, "https://127.0.0.1:6443", "-----BEGIN CERTIFICATE-----\n", &admin, "secret").unwrap();
        assert_eq!(existing_token(&path).as_deref(), Some("secret"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("certificate-authority-data"));
        let config: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(config["current-context"], "reddwarf");
        assert_eq!(config["contexts"][0]["context"]["user"], CERTIFICATE_USER);
        assert_eq!(config["users"][0]["user"]["client-certificate-data"], STANDARD.encode("CERT"));
        assert_eq!(config["users"][0]["user"]["client-key-data"], STANDARD.encode("KEY"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
