//! The server under test, as a kubeconfig describes it: its URL, the CA that verifies it,
//! and the credentials of the current context (a bearer token or a client certificate).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// An HTTPS client bound to one API server.
pub struct Target {
    pub server: String,
    pub client: reqwest::Client,
}

impl Target {
    /// Reads `kubeconfig` and builds a client that keeps up to `connections` idle
    /// connections, so that concurrent workers do not reconnect.
    pub fn from_kubeconfig(kubeconfig: &Path, connections: usize) -> anyhow::Result<Target> {
        let text = std::fs::read_to_string(kubeconfig).with_context(|| format!("reading {}", kubeconfig.display()))?;
        let config: Value = serde_yaml::from_str(&text)?;
        let context_name = config.get("current-context").and_then(Value::as_str).unwrap_or_default();
        let context = named(&config, "contexts", context_name).and_then(|c| c.get("context")).cloned();
        let cluster_name = context.as_ref().and_then(|c| c.get("cluster")).and_then(Value::as_str).unwrap_or_default();
        let user_name = context.as_ref().and_then(|c| c.get("user")).and_then(Value::as_str).unwrap_or_default();
        let cluster = named(&config, "clusters", cluster_name)
            .or_else(|| config.pointer("/clusters/0"))
            .and_then(|c| c.get("cluster"))
            .context("the kubeconfig has no cluster")?;
        let user = named(&config, "users", user_name)
            .or_else(|| config.pointer("/users/0"))
            .and_then(|u| u.get("user"))
            .context("the kubeconfig has no user")?;
        let server = cluster.get("server").and_then(Value::as_str).context("the cluster has no server")?.to_string();
        let ca = STANDARD.decode(
            cluster.get("certificate-authority-data").and_then(Value::as_str).context("the cluster has no CA")?,
        )?;
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
            .pool_max_idle_per_host(connections)
            .http1_only()
            .timeout(Duration::from_secs(120));
        if let Some(token) = user.get("token").and_then(Value::as_str) {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("authorization", format!("Bearer {token}").parse()?);
            builder = builder.default_headers(headers);
        } else if let (Some(cert), Some(key)) = (
            user.get("client-certificate-data").and_then(Value::as_str),
            user.get("client-key-data").and_then(Value::as_str),
        ) {
            let mut pem = STANDARD.decode(cert)?;
            pem.extend(STANDARD.decode(key)?);
            builder = builder.identity(reqwest::Identity::from_pem(&pem)?);
        } else {
            bail!("the kubeconfig's user has neither a token nor a client certificate");
        }
        Ok(Target { server, client: builder.build()? })
    }

    /// `path` on the server.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    /// Creates a namespace, accepting one that exists.
    pub async fn ensure_namespace(&self, name: &str) -> anyhow::Result<()> {
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let response = self.client.post(self.at("/api/v1/namespaces")).json(&namespace).send().await?;
        if !(response.status().is_success() || response.status() == reqwest::StatusCode::CONFLICT) {
            bail!("creating namespace {name}: {}", response.text().await?);
        }
        Ok(())
    }

    /// The names of every object a list URL returns, following `continue` tokens.
    pub async fn list_names(&self, path: &str) -> anyhow::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut token = String::new();
        loop {
            let url = format!("{}?limit=5000&continue={token}", self.at(path));
            let page: Value = self.client.get(url).send().await?.error_for_status()?.json().await?;
            let items = page.get("items").and_then(Value::as_array).context("a list without items")?;
            names.extend(items.iter().filter_map(|i| i.pointer("/metadata/name")?.as_str().map(str::to_string)));
            match page.pointer("/metadata/continue").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => token = next.to_string(),
                _ => return Ok(names),
            }
        }
    }
}

fn named<'a>(config: &'a Value, section: &str, name: &str) -> Option<&'a Value> {
    config.get(section)?.as_array()?.iter().find(|entry| entry.get("name").and_then(Value::as_str) == Some(name))
}
