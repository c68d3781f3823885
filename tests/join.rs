//! Joining a node with a token, through the real server and the real `reddwarf token`
//! command: the node fetches and checks the CA, gets a certificate, registers its Node
//! with it, and is then only a node. Refused tokens (expired, revoked, wrong secret, wrong
//! CA hash) fail with a message that says why, and leave nothing behind. A node name stays
//! with the key that first joined under it.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use reddwarf::join::{JoinError, join, load};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Server, kubectl};

/// Runs `reddwarf token ARGS` against the server's admin kubeconfig.
fn token_command(server: &Server, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_reddwarf"))
        .arg("token")
        .args(args)
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
        .output()
        .expect("running reddwarf token");
    assert!(output.status.success(), "reddwarf token {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn create_token(server: &Server) -> String {
    let token = token_command(server, &["create", "--ttl", "1h", "--description", "test node"]);
    token.trim().to_string()
}

fn token_secret_url(server: &Server, token: &str) -> String {
    let id = &token.rsplit_once("::").unwrap().1[..6];
    server.at(&format!("/api/v1/namespaces/kube-system/secrets/bootstrap-token-{id}"))
}

/// Moves a token's expiry into the past, as if its TTL had run out (the comparison with
/// the clock is table-tested in `logic::join_token`).
async fn expire(server: &Server, token: &str) {
    let past = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "2020-01-01T00:00:00Z");
    let response = server
        .client()
        .patch(token_secret_url(server, token))
        .header("content-type", "application/merge-patch+json")
        .body(json!({"data": {"expiration": past}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_node_joins_with_a_token_and_registers() {
    let server = Server::start();
    let token = create_token(&server);
    assert!(token.starts_with("K10") && token.contains("::"), "{token}");
    let listed = token_command(&server, &["list"]);
    let id = &token.rsplit_once("::").unwrap().1[..6];
    assert!(listed.lines().any(|l| l.starts_with(id) && l.contains("test node")), "{listed}");

    // Only the secret's hash is stored.
    let secret: Value =
        server.client().get(token_secret_url(&server, &token)).send().await.unwrap().json().await.unwrap();
    let secret_part = token.rsplit_once('.').unwrap().1;
    let stored = secret.to_string();
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    assert!(!stored.contains(secret_part) && !stored.contains(&b64(secret_part)), "{stored}");

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("agent");
    let credentials = join(&server.url, &token, "n1", &data_dir).await.expect("the node joins");
    assert_eq!(credentials.ca_pem, server.ca_pem);
    for file in ["ca.crt", "node.crt", "node.key", "server", "node.kubeconfig"] {
        assert_eq!(mode(&data_dir.join(file)), 0o600, "{file}");
    }
    assert_eq!(load(&data_dir).unwrap(), Some(credentials.clone()), "a restarted agent reloads them");

    // It registers its Node with the certificate, and is a node, nothing more.
    let node = credentials.client().unwrap();
    let register = |name: &str| {
        node.post(server.at("/api/v1/nodes"))
            .json(&json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}))
    };
    let response = register("n1").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    assert_eq!(register("n2").send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(
        node.get(server.at("/api/v1/namespaces/kube-system/secrets")).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let whoami: Value = node
        .post(server.at("/apis/authentication.k8s.io/v1/selfsubjectreviews"))
        .json(&json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(whoami["status"]["userInfo"]["username"], "system:node:n1");
    assert_eq!(whoami["status"]["userInfo"]["groups"], json!(["system:nodes", "system:authenticated"]));

    // The written kubeconfig works for kube-rs, the agent's client.
    let kubeconfig = kube::config::Kubeconfig::read_from(data_dir.join("node.kubeconfig")).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.unwrap();
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(kube::Client::try_from(config).unwrap());
    assert_eq!(nodes.get("n1").await.unwrap().metadata.name.as_deref(), Some("n1"));
    assert!(nodes.get("n2").await.is_err(), "another node's object is not readable");

    // And for kubectl.
    if let Some(k) = kubectl("1.33") {
        let path = data_dir.join("node.kubeconfig");
        let run = server.kubectl(&k, &["--kubeconfig", path.to_str().unwrap(), "get", "node", "n1", "-o", "name"]);
        assert_eq!(run.ok().trim(), "node/n1");
    }

    // The token itself opens nothing but the join endpoint.
    let credential = token.rsplit_once("::").unwrap().1;
    let pods = server.client_with_token(Some(credential)).get(server.at("/api/v1/pods")).send().await.unwrap();
    assert_eq!(pods.status(), StatusCode::FORBIDDEN);

    // The name is pinned to the node's key: the same node may join again (it reuses its
    // key), another key may not take the name over.
    let again = join(&server.url, &token, "n1", &data_dir).await.expect("the same node re-joins");
    assert_eq!(again.key_pem, credentials.key_pem);
    let impostor = tempfile::tempdir().unwrap();
    match join(&server.url, &token, "n1", impostor.path()).await {
        Err(JoinError::Refused { code: 409, message }) => {
            assert!(message.contains("already joined with another key"), "{message}")
        }
        other => panic!("another key took over node n1: {other:?}"),
    }

    // Once expired, the same token no longer joins anything.
    expire(&server, &token).await;
    let again = tempfile::tempdir().unwrap();
    match join(&server.url, &token, "n3", again.path()).await {
        Err(JoinError::Refused { code: 401, message }) => {
            assert!(message.starts_with(&format!("join token {id} expired at 2020-01-01T00:00:00Z")), "{message}")
        }
        other => panic!("an expired token joined: {other:?}"),
    }
    assert_eq!(load(again.path()).unwrap(), None);
}

#[tokio::test]
async fn refused_tokens_say_why_and_leave_nothing_behind() {
    let server = Server::start();
    let token = create_token(&server);
    let dir = tempfile::tempdir().unwrap();

    // A token pinning another CA: the server is not trusted, nothing is sent to it.
    let (prefix, rest) = token.split_once("::").unwrap();
    let last = prefix.chars().last().unwrap();
    let flipped = format!("{}{}::{rest}", &prefix[..prefix.len() - 1], if last == '0' { '1' } else { '0' });
    let err = join(&server.url, &flipped, "n1", dir.path()).await.unwrap_err();
    assert!(matches!(err, JoinError::CaMismatch { .. }), "{err}");
    assert!(err.to_string().contains("is not the one the join token pins"), "{err}");

    // The right CA, a wrong secret.
    let (head, secret) = token.rsplit_once('.').unwrap();
    let wrong_secret = format!("{head}.{}", "0".repeat(secret.len()));
    let err = join(&server.url, &wrong_secret, "n1", dir.path()).await.unwrap_err();
    assert!(err.to_string().ends_with("does not match"), "{err}");

    // Malformed, and a bad node name.
    assert!(matches!(join(&server.url, "nonsense", "n1", dir.path()).await, Err(JoinError::Token(_))));
    assert!(matches!(join(&server.url, &token, "Bad_Name", dir.path()).await, Err(JoinError::NodeName(_))));

    // Revoked.
    let id = &rest[..6];
    assert_eq!(token_command(&server, &["revoke", id]).trim(), "revoked");
    let err = join(&server.url, &token, "n1", dir.path()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("the server refused to join this node (401): join token {id} is unknown or was revoked")
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was written");

    // Without any token the endpoint is closed; /cacerts is open.
    let anonymous = server.client_with_token(None);
    let response = anonymous.post(server.at("/bootstrap/v1/node-credentials")).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let ca = anonymous.get(server.at("/cacerts")).send().await.unwrap().text().await.unwrap();
    assert_eq!(ca, server.ca_pem);

    // A valid token with a forged CSR (signed by a key other than the one it names).
    let fresh = create_token(&server);
    let credential = fresh.rsplit_once("::").unwrap().1.to_string();
    let mut csr_pem = {
        let key = rcgen::KeyPair::generate().unwrap();
        rcgen::CertificateParams::default().serialize_request(&key).unwrap().pem().unwrap()
    };
    let tamper_at = csr_pem.len() - 40;
    csr_pem.replace_range(tamper_at..tamper_at + 1, if &csr_pem[tamper_at..=tamper_at] == "A" { "B" } else { "A" });
    let response = server
        .client_with_token(Some(&credential))
        .post(server.at("/bootstrap/v1/node-credentials"))
        .json(&json!({"nodeName": "n1", "certificateSigningRequest": csr_pem}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// A `reddwarf agent` process, killed when dropped.
struct Agent(std::process::Child);

impl Agent {
    fn start(args: &[&str], log: &std::path::Path) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_reddwarf"))
            .arg("agent")
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting reddwarf agent");
        Self(child)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn an_agent_joins_with_a_token_runs_pods_as_its_node_and_rejoins_without_it() {
    use kube::api::{Api, PostParams};

    let server = Server::start();
    let token = create_token(&server);
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("agent");
    let log = dir.path().join("agent.log");
    let common = [
        "--server",
        &server.url,
        "--node-name",
        "j1",
        "--runtime",
        "sim",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--kubelet-listen",
        "127.0.0.1:0",
    ];
    let mut first = common.to_vec();
    first.extend(["--token", token.as_str()]);
    let agent = Agent::start(&first, &log);

    let client = server.kube_client().await;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &crate::agent::pod_on("joined", "j1", json!({}))).await.unwrap();
    crate::agent::wait_for_pod(&client, "joined", crate::agent::is_running).await;
    for file in ["node.crt", "node.key", "node.kubeconfig"] {
        assert_eq!(mode(&data_dir.join(file)), 0o600, "{file}");
    }
    let agent_log = std::fs::read_to_string(&log).unwrap();
    assert!(agent_log.contains("joined: node certificate stored"), "{agent_log}");

    // The agent holds no other credential than the certificate, so Running pods show that
    // the node authorizer lets a node do everything the agent needs.
    assert!(!agent_log.contains(&server.token), "the admin token never reaches the agent");

    // Restarted without a token, it uses the certificate it kept.
    drop(agent);
    let _agent = Agent::start(&common, &log);
    pods.create(&PostParams::default(), &crate::agent::pod_on("rejoined", "j1", json!({}))).await.unwrap();
    crate::agent::wait_for_pod(&client, "rejoined", crate::agent::is_running).await;
    let agent_log = std::fs::read_to_string(&log).unwrap();
    assert!(agent_log.contains("using the node certificate from an earlier join"), "{agent_log}");
}
