//! The node agent end to end, with `--runtime sim` (IllumosRuntime over the FakeHost, so
//! every host command is built and parsed for real): `reddwarf serve` with its in-process
//! agent, driven by kubectl and watched with kube-rs; faults injected with `--sim-fault`;
//! a separate `reddwarf agent` killed with SIGKILL and restarted. Waiting is done by
//! watching the API, never by sleeping. The FakeHost's commands are read from the JSON
//! lines `--sim-event-log` writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};

use crate::support::{Server, kubectl};

/// How long anything in these tests may take.
const PATIENCE: Duration = Duration::from_secs(60);

/// Waits (through a watch) until the named pod satisfies `done`.
pub async fn wait_for_pod(client: &kube::Client, name: &str, done: impl Fn(&Pod) -> bool) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut stream = watcher(pods, config).applied_objects().boxed();
    let wait = async {
        while let Some(pod) = stream.try_next().await.unwrap() {
            if done(&pod) {
                return pod;
            }
        }
        panic!("the watch of {name} ended");
    };
    tokio::time::timeout(PATIENCE, wait).await.unwrap_or_else(|_| panic!("pod {name} did not get there in time"))
}

/// Waits (through a watch) until the named pod is deleted.
pub async fn wait_until_gone(client: &kube::Client, name: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut stream = watcher(pods, config).boxed();
    let wait = async {
        while let Some(event) = stream.try_next().await.unwrap() {
            match event {
                watcher::Event::Delete(_) => return,
                watcher::Event::InitDone => {
                    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
                    if pods.get_opt(name).await.unwrap().is_none() {
                        return;
                    }
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.unwrap_or_else(|_| panic!("pod {name} was not deleted in time"));
}

/// Waits (through a watch) until the default namespace's events satisfy `done`.
pub async fn wait_for_events(client: &kube::Client, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let mut stream = watcher(events, watcher::Config::default()).applied_objects().boxed();
    let mut seen: BTreeMap<String, Event> = BTreeMap::new();
    let wait = async {
        loop {
            let listed: Vec<Event> = seen.values().cloned().collect();
            if done(&listed) {
                return listed;
            }
            let event = stream.try_next().await.unwrap().expect("the event watch ended");
            seen.insert(event.metadata.name.clone().unwrap_or_default(), event);
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.unwrap_or_else(|_| panic!("the events did not arrive in time"))
}

/// Running with every container ready.
pub fn is_running(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    status.and_then(|s| s.phase.as_deref()) == Some("Running")
        && status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// A pod bound to `node`.
pub fn pod_on(name: &str, node: &str, extra_spec: Value) -> Pod {
    let mut spec = json!({"nodeName": node, "containers": [{"name": "app", "image": "app:1"}]});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        spec.extend(extra.clone());
    }
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}))
        .unwrap()
}

/// The FakeHost's commands, in order, from its event log.
pub fn sim_events(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().filter(|l| !l.is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A command as one line without `/usr/sbin/`.
pub fn line(event: &Value) -> String {
    let argv: Vec<&str> = event["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    argv.join(" ").replace("/usr/sbin/", "")
}

/// The commands that change the host (not observation).
pub fn changes(events: &[Value]) -> Vec<String> {
    let observe = [" list", " export", " show-", "zfs list", "zfs get"];
    events.iter().map(line).filter(|l| !observe.iter().any(|o| l.contains(o))).collect()
}

/// Asserts that `expected` appear in `lines` in this order (others may come between).
#[track_caller]
pub fn assert_in_order(lines: &[String], expected: &[String]) {
    let mut at = 0;
    for want in expected {
        match lines[at..].iter().position(|l| l == want) {
            Some(found) => at += found + 1,
            None => panic!("expected {want:?} after position {at} in:\n{}", lines.join("\n")),
        }
    }
}

const MANIFEST: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {index.html: hello from a configmap}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: n1
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: nginx:1.27
    resources:
      limits: {cpu: 500m, memory: 256Mi}
    volumeMounts:
    - {name: cache, mountPath: /var/cache/web}
    - {name: config, mountPath: /etc/web}
  volumes:
  - name: cache
    emptyDir: {sizeLimit: 1Gi}
  - name: config
    configMap: {name: web-config}
";

#[tokio::test]
async fn serve_runs_a_pod_in_a_sim_zone_and_delete_removes_everything() {
    let Some(k) = kubectl("1.33") else { return };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sim-events.jsonl");
    let log_arg = log.to_string_lossy().into_owned();
    let server = Server::start_with_agent(&["--node-name", "n1", "--runtime", "sim", "--sim-event-log", &log_arg]);
    let client = server.kube_client().await;
    let manifest = server.data_dir().join("web.yaml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let applied = server.kubectl(&k, &["apply", "-f", &manifest.to_string_lossy()]).ok();
    assert!(applied.contains("pod/web created"), "{applied}");

    let pod = wait_for_pod(&client, "web", is_running).await;
    let status = pod.status.clone().unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    let node = nodes.get("n1").await.unwrap();
    let cidr: ipnet::IpNet = node.spec.as_ref().unwrap().pod_cidr.as_deref().unwrap().parse().unwrap();
    assert_eq!(cidr.to_string(), "127.77.0.0/24", "sim nodes get loopback pod CIDRs");
    let ip: std::net::IpAddr = status.pod_ip.as_deref().unwrap().parse().unwrap();
    assert!(cidr.contains(&ip) && ip.to_string() != "127.77.0.1", "{ip} in {cidr}, not the gateway");
    assert_eq!(status.host_ip.as_deref(), Some("127.0.0.1"));
    let container = &status.container_statuses.as_ref().unwrap()[0];
    assert!(container.ready && container.started == Some(true) && container.restart_count == 0, "{container:?}");
    assert!(container.state.as_ref().unwrap().running.is_some());
    let conditions: BTreeMap<String, String> =
        status.conditions.unwrap().into_iter().map(|c| (c.type_, c.status)).collect();
    for condition in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
        assert_eq!(conditions.get(condition).map(String::as_str), Some("True"), "{condition}: {conditions:?}");
    }

    // The node: labels, capacity minus reservations, conditions, kubelet endpoint, lease.
    let labels = node.metadata.labels.clone().unwrap();
    assert_eq!(labels["kubernetes.io/hostname"], "n1");
    assert_eq!(labels["kubernetes.io/os"], "illumos");
    assert_eq!(labels["reddwarf.io/zone-brands"], "lipkg.sparse.lx");
    let node_status = node.status.unwrap();
    assert_eq!(node_status.capacity.as_ref().unwrap()["cpu"].0, "8");
    assert_eq!(node_status.allocatable.as_ref().unwrap()["cpu"].0, "7900m");
    assert_eq!(node_status.allocatable.as_ref().unwrap()["memory"].0, "32512Mi");
    assert_eq!(node_status.allocatable.as_ref().unwrap()["pods"].0, "110");
    let ready = node_status.conditions.unwrap().into_iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.status, "True");
    assert!(node_status.daemon_endpoints.unwrap().kubelet_endpoint.unwrap().port > 0);
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let lease = leases.get("n1").await.unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity.as_deref(), Some("n1"));

    // The host saw the pod's commands in order, with the limits and volumes in the zone.
    let events = sim_events(&log);
    let zone = "default_web";
    let vnic = events
        .iter()
        .map(line)
        .find_map(|l| l.strip_prefix("dladm create-vnic -t -l reddwarf0 rdweb").map(|rest| format!("rdweb{rest}")))
        .expect("a VNIC for the pod");
    assert_in_order(
        &changes(&events),
        &[
            "zfs create -p -o mountpoint=/zones rpool/reddwarf/zones".to_string(),
            "dladm create-etherstub -t reddwarf0".into(),
            "dladm create-vnic -t -l reddwarf0 reddwarf_gw0".into(),
            "ipadm create-addr -t -T static -a 127.77.0.1/24 reddwarf_gw0/v4".into(),
            format!("dladm create-vnic -t -l reddwarf0 {vnic}"),
            "zfs create -p -o quota=1073741824 -o mountpoint=legacy rpool/reddwarf/volumes/default_web/cache".into(),
            format!("zonecfg -z {zone} -f -"),
            format!("zoneadm -z {zone} install"),
            format!("zoneadm -z {zone} boot"),
        ],
    );
    let script = events.iter().find(|e| line(e) == format!("zonecfg -z {zone} -f -")).unwrap()["stdin"].clone();
    let script = script.as_str().unwrap();
    for expected in [
        "set autoboot=\"false\"",
        "set ip-type=\"exclusive\"",
        &format!("set allowed-address=\"{ip}/24\""),
        "set defrouter=\"127.77.0.1\"",
        "set ncpus=\"0.5\"",
        "set physical=\"256M\"",
        "set type=\"zfs\"",
        "set type=\"lofs\"",
    ] {
        assert!(script.contains(expected), "{expected} in:\n{script}");
    }
    let projected = server.data_dir().join("data/agent/volumes/default_web/config/index.html");
    assert_eq!(std::fs::read_to_string(&projected).unwrap(), "hello from a configmap");

    // Logs: the zone's console, through the API server's proxy.
    let logs = server.kubectl(&k, &["logs", "web"]).ok();
    assert!(logs.contains("Hostname: default_web"), "{logs}");
    let tail = server.kubectl(&k, &["logs", "web", "--tail", "1"]).ok();
    assert_eq!(tail.trim(), "default_web console login:");
    let stamped = server.kubectl(&k, &["logs", "web", "--tail", "1", "--timestamps"]).ok();
    assert!(stamped.starts_with("20") && stamped.trim_end().ends_with("Z default_web console login:"), "{stamped}");
    let mut follow = server.kubectl_command(&k, &["logs", "-f", "web"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut reader = std::io::BufReader::new(follow.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut reader, &mut first).unwrap();
    assert!(first.contains("Zone booting up"), "{first}");
    assert!(follow.try_wait().unwrap().is_none(), "kubectl logs -f keeps following");
    let _ = follow.kill();
    let _ = follow.wait();

    // Delete: the zone, VNIC, datasets, files and address all go, then the pod object.
    let before = sim_events(&log).len();
    let deleted = server.kubectl(&k, &["delete", "pod", "web", "--timeout=60s"]).ok();
    assert!(deleted.contains("pod \"web\" deleted"), "{deleted}");
    wait_until_gone(&client, "web").await;
    let teardown = changes(&sim_events(&log)[before..]);
    assert_in_order(
        &teardown,
        &[
            format!("zoneadm -z {zone} shutdown"),
            format!("zoneadm -z {zone} uninstall -F"),
            format!("zonecfg -z {zone} delete -F"),
            format!("dladm delete-vnic {vnic}"),
            "zfs destroy -r rpool/reddwarf/volumes/default_web".into(),
        ],
    );
    // The sim host as its journal would rebuild it after a restart.
    let rebuilt = reddwarf::illumos::fake::FakeHost::new();
    rebuilt.persist_to(&server.data_dir().join("data/agent/sim-host.journal")).unwrap();
    assert_eq!(rebuilt.zone_state(zone), None);
    assert!(rebuilt.link_names().contains(&"reddwarf0".to_string()), "{:?}", rebuilt.link_names());
    assert!(!rebuilt.link_names().contains(&vnic), "{:?}", rebuilt.link_names());
    assert!(!rebuilt.dataset_names().iter().any(|d| d.contains("default_web")), "{:?}", rebuilt.dataset_names());
    let pool: Value =
        serde_json::from_str(&std::fs::read_to_string(server.data_dir().join("data/agent/ipam.json")).unwrap())
            .unwrap();
    assert_eq!(pool["allocations"], json!({}), "the address is released");
    assert!(!projected.exists());
}

#[tokio::test]
async fn a_failed_install_is_retried_and_an_event_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sim-events.jsonl");
    let log_arg = log.to_string_lossy().into_owned();
    let server = Server::start_with_agent(&[
        "--node-name",
        "n1",
        "--runtime",
        "sim",
        "--sim-event-log",
        &log_arg,
        "--sim-fault",
        "zoneadm install=fail:1:1:zoneadm: zone 'default_flaky': install failed (injected)",
    ]);
    let client = server.kube_client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &pod_on("flaky", "n1", json!({}))).await.unwrap();
    wait_for_pod(&client, "flaky", is_running).await;
    let installs: Vec<Value> =
        sim_events(&log).into_iter().filter(|e| line(e) == "zoneadm -z default_flaky install").collect();
    assert_eq!(installs.len(), 2, "{installs:?}");
    assert_eq!((installs[0]["injected"].as_bool(), installs[1]["injected"].as_bool()), (Some(true), Some(false)));
    // Events are recorded in batches: wait until both are written.
    let listed = wait_for_events(&client, |events| {
        ["Failed", "Started"].iter().all(|r| events.iter().any(|e| e.reason.as_deref() == Some(*r)))
    })
    .await;
    let failed = listed
        .iter()
        .find(|e| e.reason.as_deref() == Some("Failed") && e.type_.as_deref() == Some("Warning"))
        .unwrap_or_else(|| panic!("no Failed event in {listed:?}"));
    let message = failed.message.clone().unwrap_or_default();
    assert!(message.starts_with("install failed:") && message.contains("install failed (injected)"), "{message}");
    assert_eq!(failed.involved_object.name.as_deref(), Some("flaky"));
    assert!(listed.iter().any(|e| e.reason.as_deref() == Some("Started")));
}

#[tokio::test]
async fn a_hung_shutdown_is_halted_at_the_grace_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sim-events.jsonl");
    let log_arg = log.to_string_lossy().into_owned();
    let server = Server::start_with_agent(&[
        "--node-name",
        "n1",
        "--runtime",
        "sim",
        "--sim-event-log",
        &log_arg,
        "--sim-fault",
        "zoneadm shutdown=hang:1",
    ]);
    let client = server.kube_client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &pod_on("stuck", "n1", json!({"terminationGracePeriodSeconds": 2})))
        .await
        .unwrap();
    wait_for_pod(&client, "stuck", is_running).await;
    let started = Instant::now();
    pods.delete("stuck", &DeleteParams::default()).await.unwrap();
    wait_until_gone(&client, "stuck").await;
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "halted before the grace period ended: {took:?}");
    assert!(took < Duration::from_secs(30), "the halt waited for the shutdown's own timeout: {took:?}");
    let lines = changes(&sim_events(&log));
    assert_in_order(
        &lines,
        &[
            "zoneadm -z default_stuck shutdown".to_string(),
            "zoneadm -z default_stuck halt".into(),
            "zoneadm -z default_stuck uninstall -F".into(),
            "zonecfg -z default_stuck delete -F".into(),
        ],
    );
}

/// A separate `reddwarf agent --runtime sim` process.
struct AgentProcess {
    child: Option<Child>,
    args: Vec<String>,
    log: PathBuf,
}

impl AgentProcess {
    fn start(server: &Server, dir: &Path, node: &str, events: &Path) -> Self {
        let args = vec![
            "agent".to_string(),
            "--kubeconfig".into(),
            server.kubeconfig.to_string_lossy().into_owned(),
            "--node-name".into(),
            node.into(),
            "--runtime".into(),
            "sim".into(),
            "--data-dir".into(),
            dir.join("agent-data").to_string_lossy().into_owned(),
            "--kubelet-listen".into(),
            "127.0.0.1:0".into(),
            "--sim-event-log".into(),
            events.to_string_lossy().into_owned(),
        ];
        let mut agent = Self { child: None, args, log: dir.join("agent.log") };
        agent.launch();
        agent
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_reddwarf"))
            .args(&self.args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting reddwarf agent");
        self.child = Some(child);
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

#[tokio::test]
async fn an_agent_killed_with_twenty_running_pods_comes_back_to_the_same_zones_and_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("sim-events.jsonl");
    let server = Server::start();
    let mut agent = AgentProcess::start(&server, dir.path(), "n1", &events);
    let client = server.kube_client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let names: Vec<String> = (0..20).map(|i| format!("p{i:02}")).collect();
    for name in &names {
        pods.create(&PostParams::default(), &pod_on(name, "n1", json!({}))).await.unwrap();
    }
    let mut before = BTreeMap::new();
    for name in &names {
        let pod = wait_for_pod(&client, name, is_running).await;
        before.insert(name.clone(), pod.status.unwrap().pod_ip.unwrap());
    }
    let distinct: std::collections::BTreeSet<&String> = before.values().collect();
    assert_eq!(distinct.len(), 20, "every pod has its own address: {before:?}");

    agent.kill9();
    let offset = sim_events(&events).len();
    agent.launch();
    // A new pod reaching Running proves the new agent is at work.
    pods.create(&PostParams::default(), &pod_on("after", "n1", json!({}))).await.unwrap();
    let after = wait_for_pod(&client, "after", is_running).await;
    assert!(!before.values().any(|ip| Some(ip) == after.status.as_ref().unwrap().pod_ip.as_ref()));

    // Each old pod's zone is observed again by the new agent, and nothing else is done to it.
    let zones: Vec<String> = names.iter().map(|n| format!("default_{n}")).collect();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = sim_events(&events)[offset..]
            .iter()
            .filter_map(|e| e["zone"].as_str().map(str::to_string))
            .collect::<Vec<_>>();
        if zones.iter().all(|z| seen.contains(z)) {
            break;
        }
        assert!(Instant::now() < deadline, "the restarted agent did not observe every zone");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let restarted = &sim_events(&events)[offset..];
    let touched: Vec<String> = changes(restarted)
        .into_iter()
        .filter(|l| {
            zones.iter().any(|z| l.contains(z.as_str())) || names.iter().any(|n| l.contains(&format!("rd{n}_")))
        })
        .collect();
    assert!(touched.is_empty(), "the restarted agent changed existing pods' zones: {touched:?}");
    assert!(!changes(restarted).iter().any(|l| l.contains("create-etherstub") && !l.contains("reddwarf0")));
    for name in &names {
        let pod = pods.get(name).await.unwrap();
        assert!(is_running(&pod), "{name} is no longer running");
        let status = pod.status.unwrap();
        assert_eq!(status.pod_ip.as_ref(), before.get(name), "{name} changed address");
        assert_eq!(status.container_statuses.unwrap()[0].restart_count, 0, "{name} was restarted");
    }
    let journal = std::fs::read_to_string(dir.path().join("agent-data/sim-host.journal")).unwrap();
    let installs = journal.lines().filter(|l| l.contains("\"install\"")).count();
    assert_eq!(installs, 21, "one zone per pod, no duplicates");
}

#[tokio::test]
async fn hostile_annotations_and_env_values_never_reach_a_shell_or_zonecfg_as_commands() {
    let Some(k) = kubectl("1.33") else { return };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sim-events.jsonl");
    let log_arg = log.to_string_lossy().into_owned();
    let server = Server::start_with_agent(&["--node-name", "n1", "--runtime", "sim", "--sim-event-log", &log_arg]);
    let client = server.kube_client().await;

    // A value that would end zonecfg's quoted string, or its command, is refused with 422.
    for (index, value) in ["x\"; delete -F; \"", "line\nadd attr", "back\\slash"].iter().enumerate() {
        let manifest = server.data_dir().join(format!("bad{index}.json"));
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("bad{index}"), "annotations": {"zone-attr.reddwarf.io/note": value}},
            "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "app:1"}]}});
        std::fs::write(&manifest, pod.to_string()).unwrap();
        let run = server.kubectl(&k, &["create", "-f", &manifest.to_string_lossy()]);
        assert!(!run.status.success(), "{value:?} was accepted");
        assert!(run.stderr.contains("is invalid") && run.stderr.contains("zone attribute value"), "{}", run.stderr);
    }
    let bad_name = pod_on("badname", "n1", json!({}));
    let mut bad_name = serde_json::to_value(bad_name).unwrap();
    bad_name["metadata"]["annotations"] = json!({"zone-attr.reddwarf.io/zonename": "other"});
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let refused = pods.create(&PostParams::default(), &serde_json::from_value(bad_name).unwrap()).await.unwrap_err();
    assert!(matches!(&refused, kube::Error::Api(e) if e.code == 422 && e.reason == "Invalid"), "{refused:?}");

    // Semicolons inside a value are harmless once quoted: the value arrives whole, and no
    // command runs. Env values never reach the host at all.
    let mut pod = serde_json::to_value(pod_on(
        "semi",
        "n1",
        json!({"containers": [{"name": "app", "image": "app:1",
            "env": [{"name": "X", "value": "a; zoneadm -z other halt\n'\"`$(rm -rf /)`"}]}]}),
    ))
    .unwrap();
    pod["metadata"]["annotations"] = json!({"zone-attr.reddwarf.io/note": "a; delete -F; commit; exit"});
    pods.create(&PostParams::default(), &serde_json::from_value(pod).unwrap()).await.unwrap();
    wait_for_pod(&client, "semi", is_running).await;
    let events = sim_events(&log);
    let script = events.iter().find(|e| line(e) == "zonecfg -z default_semi -f -").unwrap()["stdin"].clone();
    assert!(
        script.as_str().unwrap().contains("set value=\"a; delete -F; commit; exit\""),
        "{}",
        script.as_str().unwrap()
    );
    for event in &events {
        let text = event.to_string();
        assert!(!text.contains("rm -rf") && !text.contains("-z other"), "an env value reached the host: {text}");
    }
    let programs: std::collections::BTreeSet<String> =
        events.iter().map(|e| e["argv"][0].as_str().unwrap().to_string()).collect();
    assert!(programs.iter().all(|p| p.starts_with("/usr/sbin/")), "{programs:?}");
}

#[tokio::test]
async fn serve_with_sim_nodes_runs_several_simulated_nodes_in_one_process() {
    let server = Server::start_with_agent(&["--node-name", "sim", "--runtime", "sim", "--sim-nodes", "3"]);
    let client = server.kube_client().await;
    let nodes: Api<Node> = Api::all(client.clone());
    let names = ["sim-0", "sim-1", "sim-2"];
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    // One pod bound to each node, and three for the scheduler to place.
    for (i, node) in names.iter().enumerate() {
        pods.create(&PostParams::default(), &pod_on(&format!("bound{i}"), node, json!({}))).await.unwrap();
    }
    for i in 0..3 {
        let pod: Pod = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("free{i}")}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}}))
        .unwrap();
        pods.create(&PostParams::default(), &pod).await.unwrap();
    }
    let mut placed = Vec::new();
    for pod in ["bound0", "bound1", "bound2", "free0", "free1", "free2"] {
        placed.push(wait_for_pod(&client, pod, is_running).await);
    }
    let mut cidrs = BTreeMap::new();
    for name in names {
        let node = nodes.get(name).await.unwrap();
        let ready = node.status.unwrap().conditions.unwrap().into_iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "True", "{name}");
        let cidr: ipnet::IpNet = node.spec.unwrap().pod_cidr.unwrap().parse().unwrap();
        cidrs.insert(name.to_string(), cidr);
    }
    let distinct: std::collections::BTreeSet<_> = cidrs.values().collect();
    assert_eq!(distinct.len(), 3, "{cidrs:?}");
    for pod in placed {
        let node = pod.spec.unwrap().node_name.unwrap();
        let ip: std::net::IpAddr = pod.status.unwrap().pod_ip.unwrap().parse().unwrap();
        assert!(cidrs[&node].contains(&ip), "{ip} not in {node}'s {}", cidrs[&node]);
    }
    for name in names {
        let leases: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(client.clone(), "kube-node-lease");
        assert_eq!(leases.get(name).await.unwrap().spec.unwrap().holder_identity.as_deref(), Some(name));
    }
}
