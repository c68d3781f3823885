//! The kubectl scenario suite: every everyday workflow of `reference/kubectl-surface.md` §5,
//! run against a real `reddwarf serve` with kubectl 1.33, 1.32, 1.30 and 1.27, asserting
//! what kubectl printed. kubectl ≤1.28 validates manifests with `/openapi/v2`, which
//! Reddwarf does not serve, so those steps run with `--validate=false` there.

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

struct Scenario<'a> {
    server: Server,
    k: &'a Kubectl,
    /// Extra flags for commands that validate against OpenAPI.
    validate: Vec<&'static str>,
}

impl Scenario<'_> {
    fn new(k: &Kubectl) -> Scenario<'_> {
        let old = matches!(k.version.as_str(), "1.27" | "1.28");
        Scenario { server: Server::start(), k, validate: if old { vec!["--validate=false"] } else { vec![] } }
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.server.data_dir().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let run = self.server.kubectl(self.k, args);
        assert!(run.status.success(), "kubectl {} {args:?} failed:\n{}\n{}", self.k.version, run.stdout, run.stderr);
        run.stdout
    }

    #[track_caller]
    fn validated(&self, args: &[&str]) -> String {
        let mut all = args.to_vec();
        all.extend(self.validate.iter());
        self.ok(&all)
    }

    #[track_caller]
    fn fails(&self, args: &[&str]) -> String {
        let run = self.server.kubectl(self.k, args);
        assert!(!run.status.success(), "kubectl {} {args:?} should have failed:\n{}", self.k.version, run.stdout);
        run.stderr
    }

    fn jsonpath(&self, what: &str, path: &str) -> String {
        self.ok(&["get", what, "-o", &format!("jsonpath={path}")])
    }
}

fn run_scenarios(k: &Kubectl) {
    let s = Scenario::new(k);
    let v = &k.version;

    // apply: create, modify, unchanged, then drop a port.
    let manifest = s.file("pod.yaml", POD);
    assert_eq!(s.validated(&["apply", "-f", &manifest]).trim(), "pod/web created", "{v}");
    let changed =
        s.file("pod2.yaml", &POD.replace("nginx:1.27", "nginx:1.28").replace("{app: web}", "{app: web, tier: fe}"));
    assert_eq!(s.validated(&["apply", "-f", &changed]).trim(), "pod/web configured", "{v}");
    assert_eq!(s.validated(&["apply", "-f", &changed]).trim(), "pod/web unchanged", "{v}");
    assert_eq!(s.jsonpath("pod/web", "{.spec.containers[0].image} {.metadata.labels.tier}"), "nginx:1.28 fe");
    let portless =
        s.file("pod3.yaml", &POD.replace("nginx:1.27", "nginx:1.28").replace("    ports: [{containerPort: 80}]\n", ""));
    assert_eq!(s.validated(&["apply", "-f", &portless]).trim(), "pod/web configured", "{v}");
    assert_eq!(
        s.jsonpath("pod/web", "{.spec.containers[0].ports}{.metadata.labels.tier}"),
        "",
        "{v}: port and label gone"
    );

    // label, annotate, and their removal.
    assert_eq!(s.ok(&["label", "pod", "web", "stage=test"]).trim(), "pod/web labeled");
    // kubectl 1.27 prints "annotate", later versions "annotated".
    assert!(s.ok(&["annotate", "pod", "web", "note=hello"]).trim().starts_with("pod/web annotate"));
    assert_eq!(s.ok(&["label", "pod", "web", "stage-"]).trim(), "pod/web unlabeled");
    assert_eq!(s.jsonpath("pod/web", "{.metadata.annotations.note}"), "hello");

    // patch, with each type.
    assert_eq!(s.ok(&["patch", "pod", "web", "-p", r#"{"metadata":{"labels":{"p1":"a"}}}"#]).trim(), "pod/web patched");
    assert_eq!(
        s.ok(&["patch", "pod", "web", "--type=merge", "-p", r#"{"metadata":{"labels":{"p2":"b"}}}"#]).trim(),
        "pod/web patched"
    );
    let json_patch = r#"[{"op":"add","path":"/metadata/labels/p3","value":"c"}]"#;
    assert_eq!(s.ok(&["patch", "pod", "web", "--type=json", "-p", json_patch]).trim(), "pod/web patched");
    let labels = s.ok(&["get", "pod", "web", "--show-labels", "--no-headers"]);
    assert!(labels.contains("app=web,p1=a,p2=b,p3=c"), "{v}: {labels}");
    let bad = s.fails(&["patch", "pod", "web", "--type=json", "-p", r#"[{"op":"remove","path":"/nope"}]"#]);
    assert!(bad.contains("The request is invalid"), "{v}: {bad}");

    // edit, with an editor that changes the image.
    let editor = s.file("editor.sh", "#!/bin/sh\nsed -i 's/nginx:1.28/nginx:1.29/' \"$1\"\n");
    std::process::Command::new("chmod").args(["+x", &editor]).status().unwrap();
    let mut edit = s.server.kubectl_command(k, &["edit", "pod", "web"]);
    edit.env("EDITOR", &editor).env("KUBE_EDITOR", &editor);
    if !s.validate.is_empty() {
        edit.arg("--validate=false");
    }
    let output = edit.output().unwrap();
    assert!(output.status.success(), "{v}: edit: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "pod/web edited");
    assert_eq!(s.jsonpath("pod/web", "{.spec.containers[0].image}"), "nginx:1.29");

    // apply --server-side, a conflict with another manager, and --force-conflicts.
    let ssa = s.file("ssa.yaml", &POD.replace("name: web", "name: ssa"));
    assert_eq!(s.validated(&["apply", "--server-side", "-f", &ssa]).trim(), "pod/ssa serverside-applied");
    s.ok(&["set", "image", "pod/ssa", "nginx=nginx:1.30"]);
    let mut conflicting = vec!["apply", "--server-side", "-f", &ssa];
    conflicting.extend(s.validate.iter());
    let conflict = s.fails(&conflicting);
    assert!(
        conflict.contains(r#"Apply failed with 1 conflict: conflict with "kubectl-set" using v1: .spec.containers[name="nginx"].image"#),
        "{v}: {conflict}"
    );
    assert!(conflict.contains("--force-conflicts"), "{v}: kubectl's guidance follows");
    assert_eq!(
        s.validated(&["apply", "--server-side", "--force-conflicts", "-f", &ssa]).trim(),
        "pod/ssa serverside-applied"
    );
    assert_eq!(s.jsonpath("pod/ssa", "{.spec.containers[0].image}"), "nginx:1.27");

    // create <subcommand>: protobuf bodies on 1.32+, JSON before.
    assert_eq!(s.ok(&["create", "namespace", "team"]).trim(), "namespace/team created");
    assert_eq!(
        s.ok(&["create", "configmap", "settings", "--from-literal=mode=fast"]).trim(),
        "configmap/settings created"
    );
    assert_eq!(
        s.ok(&["create", "secret", "generic", "creds", "--from-literal=password=hunter2"]).trim(),
        "secret/creds created"
    );
    assert_eq!(s.ok(&["create", "serviceaccount", "robot"]).trim(), "serviceaccount/robot created");
    assert_eq!(s.jsonpath("configmap/settings", "{.data.mode}"), "fast");
    assert_eq!(s.jsonpath("secret/creds", "{.data.password}"), "aHVudGVyMg==");
    let secrets = s.ok(&["get", "secrets"]);
    assert!(
        secrets.lines().any(|l| l.starts_with("creds") && l.contains("Opaque") && l.contains(" 1 ")),
        "{v}: {secrets}"
    );

    // explain (OpenAPI v3 from 1.29; v2, which is not served, before).
    if s.validate.is_empty() {
        let explain = s.ok(&["explain", "pod.spec"]);
        assert!(explain.contains("FIELDS:") && explain.contains("containers"), "{v}: {explain}");
        assert!(explain.contains("Specification of the desired behavior of the pod"), "{v}: {explain}");
    }

    // Events: get events, kubectl events, and describe showing them.
    let uid = s.jsonpath("pod/web", "{.metadata.uid}");
    let event = format!(
        "apiVersion: v1\nkind: Event\nmetadata: {{name: web.1}}\ninvolvedObject: {{kind: Pod, name: web, namespace: default, uid: {uid}, apiVersion: v1}}\nreason: Pulled\nmessage: Successfully pulled image nginx:1.29\ntype: Normal\nsource: {{component: reddwarf-agent}}\ncount: 1\nfirstTimestamp: \"2026-11-27T00:00:00Z\"\nlastTimestamp: \"2026-11-27T00:00:00Z\"\n"
    );
    let event_file = s.file("event.yaml", &event);
    s.validated(&["create", "-f", &event_file]);
    let events = s.ok(&["get", "events"]);
    assert!(events.starts_with("LAST SEEN"), "{v}: {events}");
    assert!(events.contains("Normal") && events.contains("Pulled") && events.contains("pod/web"), "{v}: {events}");
    let kubectl_events = s.ok(&["events"]);
    assert!(kubectl_events.contains("Pulled") && kubectl_events.contains("Pod/web"), "{v}: {kubectl_events}");
    let describe = s.ok(&["describe", "pod", "web"]);
    let field = |key: &str| {
        describe
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
            .map(str::trim)
            .map(str::to_string)
    };
    assert_eq!(field("Name").as_deref(), Some("web"), "{v}:\n{describe}");
    assert_eq!(field("Namespace").as_deref(), Some("default"));
    assert_eq!(field("Status").as_deref(), Some("Pending"));
    assert_eq!(field("QoS Class").as_deref(), Some("BestEffort"));
    for section in ["Containers:", "  nginx:", "    Image:", "Tolerations:", "Events:"] {
        assert!(describe.contains(section), "{v}: {section:?} missing from:\n{describe}");
    }
    assert!(
        describe.contains("Successfully pulled image nginx:1.29"),
        "{v}: describe shows the pod's events:\n{describe}"
    );

    // wait: a condition, a jsonpath, and deletion.
    let ready = r#"{"status":{"conditions":[{"type":"Ready","status":"True"}],"phase":"Running"}}"#;
    s.ok(&["patch", "pod", "web", "--subresource=status", "--type=merge", "-p", ready]);
    assert_eq!(s.ok(&["wait", "--for=condition=Ready", "pod/web", "--timeout=20s"]).trim(), "pod/web condition met");
    assert_eq!(
        s.ok(&["wait", "--for=jsonpath={.status.phase}=Running", "pod/web", "--timeout=20s"]).trim(),
        "pod/web condition met"
    );
    let timed_out = s.fails(&["wait", "--for=condition=Initialized", "pod/web", "--timeout=1s"]);
    assert!(timed_out.contains("timed out waiting for the condition"), "{v}: {timed_out}");
    // A finalizer holds the pod while `wait --for=delete` lists it and starts watching;
    // removing the finalizer completes the deletion, which the waiter sees as DELETED.
    s.ok(&["patch", "pod", "ssa", "--type=merge", "-p", r#"{"metadata":{"finalizers":["reddwarf.io/test-hold"]}}"#]);
    assert_eq!(s.ok(&["delete", "pod", "ssa", "--wait=false"]).trim(), "pod \"ssa\" deleted");
    assert!(!s.jsonpath("pod/ssa", "{.metadata.deletionTimestamp}").is_empty(), "{v}: held by its finalizer");
    let mut waiter = s
        .server
        .kubectl_command(k, &["wait", "--for=delete", "pod/ssa", "--timeout=30s", "-v=6"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // kubectl -v=6 logs each request once answered: its watch is open when one says so.
    let (watching, watch_opened) = std::sync::mpsc::channel();
    let log = waiter.stderr.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            if line.contains("watch=true") && line.contains("200 OK") {
                let _ = watching.send(());
            }
        }
    });
    watch_opened.recv_timeout(std::time::Duration::from_secs(30)).expect("kubectl wait opens a watch");
    s.ok(&["patch", "pod", "ssa", "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]);
    let waited = waiter.wait_with_output().unwrap();
    assert!(waited.status.success(), "{v}: wait --for=delete failed");
    assert_eq!(String::from_utf8_lossy(&waited.stdout).trim(), "pod/ssa condition met", "{v}");
    assert!(s.fails(&["get", "pod", "ssa"]).contains("NotFound"), "{v}");
    s.validated(&["apply", "-f", &ssa]);
    assert_eq!(s.ok(&["delete", "pod", "ssa", "--wait"]).trim(), "pod \"ssa\" deleted");

    // Discovery.
    let resources = s.ok(&["api-resources"]);
    assert!(
        resources.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["pods", "po", "v1", "true", "Pod"]),
        "{v}: {resources}"
    );
    assert!(resources.lines().any(|l| l.starts_with("leases") && l.contains("coordination.k8s.io/v1")), "{v}");
    let versions = s.ok(&["api-versions"]);
    for gv in ["v1", "coordination.k8s.io/v1", "events.k8s.io/v1"] {
        assert!(versions.lines().any(|l| l == gv), "{v}: {gv} in {versions}");
    }

    // Selectors.
    let by_label = s.ok(&["get", "pods", "--show-labels", "-l", "p1=a"]);
    assert!(by_label.lines().nth(1).is_some_and(|l| l.starts_with("web")), "{v}: {by_label}");
    let by_field = s.ok(&["get", "pods", "--field-selector", "status.phase=Running", "-o", "name"]);
    assert_eq!(by_field.trim(), "pod/web");

    // describe namespace and node: every section a user expects.
    let namespace = s.ok(&["describe", "namespace", "default"]);
    for line in ["Name:         default", "Status:       Active", "No resource quota.", "No LimitRange resource."] {
        assert!(namespace.contains(line), "{v}: {line:?} missing from:\n{namespace}");
    }
    let node = s.file("node.yaml", NODE);
    assert_eq!(s.validated(&["create", "-f", &node]).trim(), "node/n1 created");
    let described = s.ok(&["describe", "node", "n1"]);
    for section in [
        "Name:               n1",
        "reddwarf.io/zone-brands=lipkg",
        "Conditions:",
        "KubeletReady",
        "Capacity:",
        "Allocatable:",
        "System Info:",
        "Operating System:           illumos",
        "Non-terminated Pods:",
        "Allocated resources:",
        "Events:",
    ] {
        assert!(described.contains(section), "{v}: {section:?} missing from:\n{described}");
    }
}

const NODE: &str = r#"apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {kubernetes.io/hostname: n1, reddwarf.io/zone-brands: lipkg}
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions:
  - {type: Ready, status: "True", reason: KubeletReady, message: ok, lastHeartbeatTime: "2026-11-27T00:00:00Z", lastTransitionTime: "2026-11-27T00:00:00Z"}
  nodeInfo: {architecture: amd64, operatingSystem: illumos, kernelVersion: "5.11", osImage: OmniOS, kubeletVersion: v1.33.0, containerRuntimeVersion: "zones://1", bootID: "", machineID: "", systemUUID: "", kubeProxyVersion: ""}
"#;

#[test]
fn kubectl_1_33_scenarios() {
    if let Some(k) = kubectl("1.33") {
        run_scenarios(&k);
    }
}

#[test]
fn kubectl_1_32_scenarios() {
    if let Some(k) = kubectl("1.32") {
        run_scenarios(&k);
    }
}

#[test]
fn kubectl_1_30_scenarios() {
    if let Some(k) = kubectl("1.30") {
        run_scenarios(&k);
    }
}

#[test]
fn kubectl_1_27_scenarios() {
    if let Some(k) = kubectl("1.27") {
        run_scenarios(&k);
    }
}
