//! Health probes through the whole system: `reddwarf serve` (API, scheduler and its
//! in-process sim agent) refuses gRPC probes with 422, and runs an HTTP readiness probe
//! against a listener this test opens and closes, with Ready followed through an API
//! watch.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Server, pod_json};

const PODS: &str = "/api/v1/namespaces/default/pods";

/// How long the pod may take to get somewhere.
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn grpc_probes_are_refused_with_422() {
    let server = Server::start();
    let mut pod = pod_json("grpc");
    pod["spec"]["containers"][0]["livenessProbe"] = json!({"grpc": {"port": 9000}});
    let response = server.client().post(server.at(PODS)).json(&pod).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(
        status["message"],
        "Pod \"grpc\" is invalid: spec.containers[0].livenessProbe.grpc: Forbidden: gRPC probes are not supported \
         by Reddwarf; use exec, httpGet or tcpSocket"
    );
}

/// Follows a watch of the named pod until `done` holds.
async fn until_pod(server: &Server, name: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    until(server, &format!("{PODS}?watch=1&fieldSelector=metadata.name%3D{name}"), what, done).await
}

/// Follows the watch at `path` until an object satisfies `done`.
async fn until(server: &Server, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let url = server.at(path);
    let client = server.client_with_token(Some(&server.token));
    let follow = async {
        let response = client.get(url).timeout(PATIENCE).send().await.unwrap();
        let mut body = response.bytes_stream();
        let mut pending = Vec::new();
        while let Some(chunk) = body.next().await {
            pending.extend_from_slice(&chunk.unwrap());
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let event: Value = serde_json::from_slice(&line).unwrap();
                if done(&event["object"]) {
                    return event["object"].clone();
                }
            }
        }
        panic!("the watch ended before {what}");
    };
    tokio::time::timeout(PATIENCE, follow).await.unwrap_or_else(|_| panic!("{what}: not in time\n{}", server.log()))
}

fn ready(pod: &Value) -> Option<&str> {
    let conditions = pod["status"]["conditions"].as_array()?;
    conditions.iter().find(|c| c["type"] == "Ready")?["status"].as_str()
}

#[tokio::test]
async fn an_http_readiness_probe_follows_a_real_listener() {
    let server = Server::start_with_agent(&["--node-name", "n1", "--runtime", "sim"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let serving = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buffer = [0u8; 2048];
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
            });
        }
    });
    let mut pod = pod_json("probed");
    pod["spec"]["containers"][0]["readinessProbe"] = json!({"httpGet": {"host": "127.0.0.1", "port": port, "path": "/ready"}, "periodSeconds": 1, "failureThreshold": 1});
    let created = server.client().post(server.at(PODS)).json(&pod).send().await.unwrap();
    assert_eq!(created.status().as_u16(), 201, "{}", created.text().await.unwrap());
    until_pod(&server, "probed", "Ready", |p| ready(p) == Some("True")).await;
    serving.abort();
    let _ = serving.await;
    let pod = until_pod(&server, "probed", "not Ready", |p| ready(p) == Some("False")).await;
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(pod["status"]["containerStatuses"][0]["restartCount"], 0);
    let failed = format!("Readiness probe failed: Get \"http://127.0.0.1:{port}/ready\": ");
    let event = until(&server, "/api/v1/namespaces/default/events?watch=1", "an Unhealthy event", |e| {
        e["reason"] == "Unhealthy" && e["message"].as_str().unwrap_or_default().starts_with(&failed)
    })
    .await;
    assert_eq!(event["involvedObject"]["fieldPath"], "spec.containers{nginx}");
}
