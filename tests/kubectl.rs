//! The real kubectl (1.33, 1.32 and 1.28) against `reddwarf serve`: the everyday read and
//! delete workflows, asserting what kubectl prints, not only its exit code.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{Kubectl, Server, kubectl};

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80}]
";

fn write_manifest(server: &Server, name: &str, text: &str) -> String {
    let path = server.data_dir().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Lines of a kubectl table, split on runs of spaces.
fn rows(output: &str) -> Vec<Vec<String>> {
    output
        .lines()
        .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect())
        .collect()
}

fn everyday_workflow(k: &Kubectl) {
    let server = Server::start();
    let version = server.kubectl(k, &["version"]).ok();
    assert!(version.contains("Server Version: v1.33.0"), "{version}");

    let namespaces = rows(&server.kubectl(k, &["get", "namespaces"]).ok());
    assert_eq!(namespaces[0], ["NAME", "STATUS", "AGE"]);
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        assert!(namespaces.iter().any(|r| r[0] == ns && r[1] == "Active"), "{ns}: {namespaces:?}");
    }

    let manifest = write_manifest(&server, "pod.yaml", POD);
    let created = server.kubectl(k, &["create", "-f", &manifest, "--validate=false"]).ok();
    assert_eq!(created.trim(), "pod/web created");

    let pods = rows(&server.kubectl(k, &["get", "pods"]).ok());
    assert_eq!(pods[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(pods[1][..4], ["web", "0/1", "Pending", "0"]);

    let wide = rows(&server.kubectl(k, &["get", "pods", "-o", "wide"]).ok());
    assert_eq!(
        wide[0],
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    );
    assert_eq!(wide[1][5..], ["<none>", "<none>", "<none>", "<none>"]);

    let yaml = server.kubectl(k, &["get", "pod", "web", "-o", "yaml"]).ok();
    for expected in [
        "uid: ",
        "resourceVersion: ",
        "creationTimestamp: \"",
        "restartPolicy: Always",
        "protocol: TCP",
        "qosClass: BestEffort",
        "phase: Pending",
    ] {
        assert!(yaml.contains(expected), "{expected:?} in:\n{yaml}");
    }

    let all = rows(&server.kubectl(k, &["get", "pods", "-A", "--show-labels"]).ok());
    assert_eq!(all[0][0], "NAMESPACE");
    assert_eq!(all[0].last().unwrap(), "LABELS");
    assert_eq!(
        (all[1][0].as_str(), all[1][1].as_str(), all[1].last().unwrap().as_str()),
        ("default", "web", "app=web")
    );
    let selected = server
        .kubectl(k, &["get", "pods", "-l", "app=web", "--field-selector", "status.phase=Pending", "-o", "name"])
        .ok();
    assert_eq!(selected.trim(), "pod/web");
    let none = server.kubectl(k, &["get", "pods", "-l", "app=db"]);
    assert!(none.stderr.contains("No resources found in default namespace."), "{none:?}");

    let missing = server.kubectl(k, &["get", "pod", "nope"]).failed();
    assert!(missing.contains("Error from server (NotFound): pods \"nope\" not found"), "{missing}");

    // get -w prints the current row, then a row for each change, until the server ends it.
    let mut watch =
        server.kubectl_command(k, &["get", "pods", "-w"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let header = rx.recv_timeout(Duration::from_secs(20)).expect("the watch header");
    assert!(header.starts_with("NAME"), "{header}");
    let first = rx.recv_timeout(Duration::from_secs(20)).expect("the current row");
    assert!(first.starts_with("web"), "{first}");
    let changed = write_manifest(&server, "pod2.yaml", &POD.replace("nginx:1.27", "nginx:1.28"));
    let replaced = server.kubectl(k, &["replace", "-f", &changed, "--validate=false"]).ok();
    assert_eq!(replaced.trim(), "pod/web replaced");
    let update = rx.recv_timeout(Duration::from_secs(20)).expect("a row for the change");
    assert!(update.starts_with("web"), "{update}");
    let _ = watch.kill();
    let _ = watch.wait();
    let image = server.kubectl(k, &["get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image}"]).ok();
    assert_eq!(image, "nginx:1.28");

    let deleted = server.kubectl(k, &["delete", "pod", "web"]).ok();
    assert_eq!(deleted.trim(), "pod \"web\" deleted");
    let gone = server.kubectl(k, &["get", "pod", "web"]).failed();
    assert!(gone.contains("NotFound"), "{gone}");
}

#[test]
fn kubectl_1_33_everyday_workflow() {
    if let Some(k) = kubectl("1.33") {
        everyday_workflow(&k);
    }
}

#[test]
fn kubectl_1_32_everyday_workflow() {
    if let Some(k) = kubectl("1.32") {
        everyday_workflow(&k);
    }
}

#[test]
fn kubectl_1_28_everyday_workflow() {
    if let Some(k) = kubectl("1.28") {
        everyday_workflow(&k);
    }
}

/// `kubectl create namespace` with the clients that send JSON bodies (≤1.31).
#[test]
fn kubectl_creates_namespaces_with_json_bodies() {
    for version in ["1.31", "1.28"] {
        let Some(k) = kubectl(version) else { continue };
        let server = Server::start();
        let created = server.kubectl(&k, &["create", "namespace", "team"]).ok();
        assert_eq!(created.trim(), "namespace/team created", "kubectl {version}");
        let listed = rows(&server.kubectl(&k, &["get", "ns", "team"]).ok());
        assert_eq!(listed[1][..2], ["team", "Active"]);
        let again = server.kubectl(&k, &["create", "namespace", "team"]).failed();
        assert!(again.contains("Error from server (AlreadyExists): namespaces \"team\" already exists"), "{again}");
    }
}

/// Deleting a namespace empties it and removes it; `kubectl delete` waits for that.
#[test]
fn kubectl_deletes_a_namespace_with_its_contents() {
    let Some(k) = kubectl("1.33") else { return };
    let server = Server::start();
    server.kubectl(&k, &["create", "namespace", "team"]).ok();
    server.kubectl(&k, &["create", "configmap", "settings", "-n", "team", "--from-literal=a=b"]).ok();
    server.kubectl(&k, &["run", "job", "-n", "team", "--image=busybox"]).ok();
    let deleted = server.kubectl(&k, &["delete", "namespace", "team", "--timeout=60s"]).ok();
    assert_eq!(deleted.trim(), "namespace \"team\" deleted");
    let gone = server.kubectl(&k, &["get", "namespace", "team"]).failed();
    assert!(gone.contains("NotFound"), "{gone}");
    let contents = server.kubectl(&k, &["get", "configmaps,pods", "-n", "team", "-o", "name"]);
    assert!(contents.stdout.trim().is_empty(), "{contents:?}");
}

/// `kubectl cordon`, `taint` and `drain` (which evicts through `pods/eviction`).
#[test]
fn kubectl_cordons_taints_and_drains_a_node() {
    let Some(k) = kubectl("1.33") else { return };
    let server = Server::start();
    let node = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n  allocatable: {cpu: '4', memory: 8Gi, pods: '110'}\n  conditions: [{type: Ready, status: 'True'}]\n";
    let path = server.data_dir().join("node.yaml");
    std::fs::write(&path, node).unwrap();
    server.kubectl(&k, &["create", "-f", path.to_str().unwrap()]).ok();
    server.kubectl(&k, &["run", "web", "--image=nginx", "--overrides", r#"{"spec":{"nodeName":"n1"}}"#]).ok();
    assert_eq!(server.kubectl(&k, &["cordon", "n1"]).ok().trim(), "node/n1 cordoned");
    let nodes = server.kubectl(&k, &["get", "nodes"]).ok();
    assert!(nodes.contains("Ready,SchedulingDisabled"), "{nodes}");
    assert_eq!(server.kubectl(&k, &["taint", "nodes", "n1", "dedicated=db:NoSchedule"]).ok().trim(), "node/n1 tainted");
    // No agent runs in this test to finish a graceful deletion, so drain with grace 0.
    let drained = server.kubectl(&k, &["drain", "n1", "--force", "--grace-period=0", "--timeout=60s"]);
    assert!(drained.status.success(), "{drained:?}");
    assert!(drained.stdout.contains("pod/web evicted") && drained.stdout.contains("node/n1 drained"), "{drained:?}");
    assert!(server.kubectl(&k, &["get", "pod", "web"]).failed().contains("NotFound"));
    assert_eq!(server.kubectl(&k, &["uncordon", "n1"]).ok().trim(), "node/n1 uncordoned");
}
