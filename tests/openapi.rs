//! OpenAPI v3 through the real server: `kubectl explain` prints upstream's descriptions,
//! and `kubectl create -f` / `apply -f` validate by default (no `--validate=false`)
//! because the documents advertise `fieldValidation` on every PATCH operation.

use serde_json::Value;

use crate::support::{Kubectl, Server, kubectl};

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: NAME
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80}]
";

fn manifest(server: &Server, name: &str) -> String {
    let path = server.data_dir().join(format!("{name}.yaml"));
    std::fs::write(&path, POD.replace("NAME", name)).unwrap();
    path.to_string_lossy().into_owned()
}

/// The text with every run of whitespace made one space: kubectl wraps descriptions.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn documents_require_authentication_and_are_json() {
    let server = Server::start();
    let anonymous = server.client_with_token(None).get(server.at("/openapi/v3")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let client = server.client();
    let index = client.get(server.at("/openapi/v3")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "application/json");
    let index: Value = index.json().await.unwrap();
    for path in ["api/v1", "apis/coordination.k8s.io/v1", "apis/events.k8s.io/v1"] {
        let url = index["paths"][path]["serverRelativeURL"].as_str().unwrap_or_else(|| panic!("{path} in {index}"));
        let response = client.get(server.at(url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let etag = response.headers()["etag"].clone();
        let document: Value = response.json().await.unwrap();
        assert_eq!(document["openapi"], "3.0.0");
        let again = client.get(server.at(url)).header("If-None-Match", etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{url}");
    }
    let missing = client.get(server.at("/openapi/v3/apis/apps/v1")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let status: Value = missing.json().await.unwrap();
    assert_eq!(status["reason"], "NotFound");
}

#[test]
fn kubectl_1_33_explain_prints_upstream_descriptions() {
    let Some(k) = kubectl("1.33") else { return };
    let server = Server::start();
    let run = server.kubectl(&k, &["explain", "pod.spec.containers"]);
    let stdout = run.ok();
    let text = flat(&stdout);
    assert!(text.contains("KIND: Pod VERSION: v1"), "{stdout}");
    assert!(text.contains("FIELD: containers <[]Container>"), "{stdout}");
    assert!(
        text.contains("List of containers belonging to the pod. Containers cannot currently be added or removed."),
        "{stdout}"
    );
    assert!(text.contains("A single application container that you want to run within a pod."), "{stdout}");
    let fields = stdout.split_once("FIELDS:").map(|(_, f)| f).unwrap_or_else(|| panic!("no FIELDS: in {stdout}"));
    let field = |name: &str| fields.lines().find(|l| l.split_whitespace().next() == Some(name)).map(flat);
    assert_eq!(field("image").as_deref(), Some("image <string>"), "{stdout}");
    assert_eq!(field("name").as_deref(), Some("name <string> -required-"), "{stdout}");
    assert_eq!(field("ports").as_deref(), Some("ports <[]ContainerPort>"), "{stdout}");
    assert!(flat(fields).contains("Container image name."), "{stdout}");

    let pod = flat(&server.kubectl(&k, &["explain", "pods"]).ok());
    assert!(pod.contains("Pod is a collection of containers that can run on a host."), "{pod}");
    assert!(pod.contains("spec <PodSpec>"), "{pod}");

    // A group other than core comes from its own document.
    let lease = flat(&server.kubectl(&k, &["explain", "lease.spec.holderIdentity"]).ok());
    assert!(lease.contains("GROUP: coordination.k8s.io"), "{lease}");
    assert!(lease.contains("holderIdentity contains the identity of the holder of a current lease."), "{lease}");
}

fn create_validates_by_default(k: &Kubectl) {
    let server = Server::start();
    let created = server.kubectl(k, &["create", "-f", &manifest(&server, "created")]);
    assert!(!created.stderr.contains("validat"), "kubectl {}: {created:?}", k.version);
    assert_eq!(created.ok().trim(), "pod/created created", "kubectl {}", k.version);
    let again = server.kubectl(k, &["create", "-f", &manifest(&server, "created")]).failed();
    assert!(again.contains("AlreadyExists"), "kubectl {}: {again}", k.version);
}

#[test]
fn kubectl_1_33_create_and_apply_validate_by_default() {
    let Some(k) = kubectl("1.33") else { return };
    create_validates_by_default(&k);
    let server = Server::start();
    let applied = server.kubectl(&k, &["apply", "-f", &manifest(&server, "applied")]);
    assert!(!applied.stderr.contains("validat"), "{applied:?}");
    assert_eq!(applied.ok().trim(), "pod/applied created");
    let annotations = server.kubectl(&k, &["get", "pod", "applied", "-o", "jsonpath={.metadata.annotations}"]).ok();
    assert!(annotations.contains("kubectl.kubernetes.io/last-applied-configuration"), "{annotations}");
}

#[test]
fn kubectl_1_32_create_validates_by_default() {
    if let Some(k) = kubectl("1.32") {
        create_validates_by_default(&k);
    }
}

#[test]
fn kubectl_1_30_create_validates_by_default() {
    if let Some(k) = kubectl("1.30") {
        create_validates_by_default(&k);
    }
}
