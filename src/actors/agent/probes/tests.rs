//! Probe tests on a real `PodActor` under paused tokio time: the pod runs in a FakeHost
//! zone (every zlogin a probe runs is built and re-parsed for real), and the actor's API
//! client is a kube `Client` over an in-process service that keeps pods in an in-memory
//! `Store`, so status changes are observed through a store watch. Events go to the same
//! store through the ordinary recorder. HTTP and TCP probes reach listeners the tests
//! open on the pod's loopback address.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use actix::prelude::*;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::actors::agent::ipam::IpamPool;
use crate::actors::agent::pod::{PodActor, PodFinished, PodInbox, PodNet, PodParent};
use crate::actors::agent::{AgentContext, AgentSettings};
use crate::actors::directory::ActorDirectory;
use crate::actors::events::{Recorder, StoreEvents};
use crate::actors::supervision::ChildExited;
use crate::clock::Clock;
use crate::illumos::fake::{EventOutcome, FakeHost, Operation, ZloginReply};
use crate::illumos::profile::PlatformProfile;
use crate::illumos::runtime::IllumosRuntime;
use crate::logic::naming;
use crate::model::k8s::core::v1::Pod;
use crate::store::{EventKind, ReadAt, Selection, Store, WatchFrom, WatchItem};

const NODE: &str = "n1";

fn pod_key(name: &str) -> String {
    format!("/registry/pods/default/{name}")
}

/// A kube `Client` whose API is this store: it serves `PATCH …/pods/NAME/status` (merge
/// patch), the only call a running pod actor makes.
fn client_over(store: Store) -> kube::Client {
    let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let store = store.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let segments: Vec<&str> = parts.uri.path().trim_start_matches('/').split('/').collect();
            let reply = match (parts.method.as_str(), segments.as_slice()) {
                ("PATCH", ["api", "v1", "namespaces", namespace, "pods", name, "status"]) => {
                    let patch: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                    let key = format!("/registry/pods/{namespace}/{name}");
                    let result = store
                        .update_with::<crate::store::StoreError>(&key, |current| {
                            let mut value = current.json();
                            json_patch::merge(&mut value, &patch);
                            Ok(Some(value))
                        })
                        .await;
                    match result {
                        Ok(object) => (200, object.json()),
                        Err(_) => (
                            404,
                            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                            "reason": "NotFound", "code": 404, "message": "not found"}),
                        ),
                    }
                }
                _ => (
                    404,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                    "code": 404, "message": format!("{} {} is not served here", parts.method, parts.uri)}),
                ),
            };
            let response = http::Response::builder()
                .status(reply.0)
                .header("content-type", "application/json")
                .body(kube::client::Body::from(serde_json::to_vec(&reply.1).unwrap_or_default()))
                .expect("a valid response");
            Ok::<_, Infallible>(response)
        }
    });
    kube::Client::new(service, "default")
}

/// Receives what a pod actor tells its router, and ignores it.
struct Parent;

impl Actor for Parent {
    type Context = Context<Self>;
}

impl Handler<ChildExited<String>> for Parent {
    type Result = ();
    fn handle(&mut self, _: ChildExited<String>, _: &mut Context<Self>) {}
}

impl Handler<PodFinished> for Parent {
    type Result = ();
    fn handle(&mut self, _: PodFinished, _: &mut Context<Self>) {}
}

/// Pauses a pod actor (its mailbox, timers and spawned work) for a while, as a blocking
/// call or a long `ctx.wait` would.
#[derive(Message)]
#[rtype(result = "()")]
struct Stall(Duration);

impl Handler<Stall> for PodActor {
    type Result = ();
    fn handle(&mut self, stall: Stall, ctx: &mut Context<Self>) {
        ctx.wait(actix::fut::wrap_future(tokio::time::sleep(stall.0)));
    }
}

/// One pod actor on a FakeHost, with its API in a store.
struct Harness {
    store: Store,
    host: FakeHost,
    zone: String,
    name: String,
    actor: Addr<PodActor>,
    inbox: PodInbox,
    clock: Clock,
    /// The node's status-write slots.
    status_writes: Arc<tokio::sync::Semaphore>,
    /// When the zone was first seen running.
    t0: Instant,
    _dir: tempfile::TempDir,
}

fn settings(data_dir: std::path::PathBuf) -> AgentSettings {
    AgentSettings { reserved_cpu_millis: 0, reserved_memory_bytes: 0, ..AgentSettings::simulated(NODE, data_dir) }
}

impl Harness {
    /// Starts a pod whose single container `app` has these probes, on a pod network
    /// `127.77.SUBNET.0/24` (so its address is `127.77.SUBNET.2`), and waits until its
    /// zone runs.
    /// `scripts` are the zone's zlogin answers from the start (the first probes run as
    /// soon as the zone does).
    async fn start(subnet: u8, container: Value, scripts: &[(&[&str], ZloginReply)]) -> Self {
        Self::start_on(FakeHost::new(), 10, crate::actors::agent::STATUS_WRITES_IN_FLIGHT, subnet, container, scripts)
            .await
    }

    /// [`Harness::start`] on `host`, with at most `exec_limit` exec probes at once and
    /// `status_slots` free status-write slots.
    async fn start_on(
        host: FakeHost,
        exec_limit: usize,
        status_slots: usize,
        subnet: u8,
        container: Value,
        scripts: &[(&[&str], ZloginReply)],
    ) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_memory();
        let runtime = IllumosRuntime::new(Arc::new(host.clone()), PlatformProfile::omnios());
        // The node agent makes the pods' etherstub before any pod runs.
        runtime.ensure_etherstub("reddwarf0").await.unwrap();
        let clock = Clock::tokio_anchored();
        let directory = ActorDirectory::new(clock.clone());
        let recorder = Recorder::start(Arc::new(StoreEvents::new(store.clone())), clock.clone(), directory.clone());
        let name = "web".to_string();
        let mut container_value = json!({"name": "app", "image": "app:1"});
        container_value.as_object_mut().unwrap().extend(container.as_object().unwrap().clone());
        let spec_value = json!({"nodeName": NODE, "containers": [container_value]});
        let pod_value = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "uid": "uid-web"},
            "spec": spec_value, "status": {"phase": "Pending"}});
        store.create(pod_key(&name), pod_value.clone()).await.unwrap();
        let pod: Pod = serde_json::from_value(pod_value).unwrap();
        let status_writes = Arc::new(tokio::sync::Semaphore::new(status_slots));
        let shared = Arc::new(AgentContext {
            settings: settings(dir.path().to_path_buf()),
            runtime,
            client: client_over(store.clone()),
            recorder,
            directory: directory.clone(),
            clock: clock.clone(),
            kubelet_port: 0,
            zone_summary: Default::default(),
            probes: Arc::new(super::NodeProbes::new(exec_limit)),
            status_writes: status_writes.clone(),
        });
        let cidr: ipnet::IpNet = format!("127.77.{subnet}.0/24").parse().unwrap();
        let pool = IpamPool::load(cidr, &dir.path().join("ipam.json"), NODE, directory).unwrap();
        let gateway = pool.gateway();
        let net = PodNet { ipam: pool.start(), prefix_len: 24, gateway };
        let parent = Parent.start();
        let parent = PodParent { exited: parent.clone().recipient(), finished: parent.recipient() };
        let inbox = PodInbox::default();
        let actor = PodActor::new(Arc::new(pod), inbox.clone(), shared, net, parent, 1, 0).start();
        let zone = naming::zone_name("default", &name);
        for (argv, reply) in scripts {
            host.set_zlogin_reply(&zone, argv, reply.clone());
        }
        let mut harness =
            Self { store, host, zone, name, actor, inbox, clock, status_writes, t0: Instant::now(), _dir: dir };
        let started = Instant::now();
        while harness.host.zone_state(&harness.zone) != Some(crate::illumos::zoneadm::ZoneState::Running) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the zone did not start: {:#?}\n{:#?}",
                harness.host.command_lines(),
                harness.events()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        harness.t0 = Instant::now();
        harness
    }

    /// Sleeps (virtually) until `t0 + seconds`.
    async fn at(&self, seconds: f64) {
        tokio::time::sleep_until(self.t0 + Duration::from_secs_f64(seconds)).await;
    }

    /// How many times the zone ran the in-zone command `argv` (each probe run is one).
    fn runs_of(&self, argv: &[&str]) -> usize {
        self.host
            .events()
            .iter()
            .filter(|e| e.zone.as_deref() == Some(self.zone.as_str()))
            .filter(|e| e.in_zone.iter().any(|c| c.iter().map(String::as_str).eq(argv.iter().copied())))
            .count()
    }

    fn script(&self, argv: &[&str], reply: ZloginReply) {
        self.host.set_zlogin_reply(&self.zone, argv, reply);
    }

    fn pod(&self) -> Value {
        self.store.get(&pod_key(&self.name)).map(|o| o.json()).unwrap_or_default()
    }

    fn events(&self) -> Vec<Value> {
        let listing = self.store.list(&Selection::prefix("/registry/events/default/"), ReadAt::Latest, None, None);
        listing.unwrap().items.iter().map(|o| o.json()).collect()
    }

    /// Waits (through a watch on the pod) until `done` holds; returns the pod.
    async fn until_pod(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut watch = self.store.watch(Selection::prefix(pod_key(&self.name)), WatchFrom::Now).unwrap();
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let pod = self.pod();
            if done(&pod) {
                return pod;
            }
            match tokio::time::timeout_at(deadline, watch.next()).await {
                Ok(WatchItem::Event { .. }) => {}
                Ok(other) => panic!("the watch ended: {other:?}"),
                Err(_) => panic!("{what}: not reached; the pod is {pod:#}"),
            }
        }
    }

    /// Waits until an event with this reason and message exists; returns it.
    async fn until_event(&self, reason: &str, message: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            if let Some(event) = self.events().into_iter().find(|e| e["reason"] == reason && e["message"] == message) {
                return event;
            }
            assert!(Instant::now() < deadline, "no {reason} event {message:?} in {:#?}", self.events());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn restart_count(pod: &Value) -> i64 {
    pod["status"]["containerStatuses"][0]["restartCount"].as_i64().unwrap_or(0)
}

fn condition(pod: &Value, kind: &str) -> Option<String> {
    let conditions = pod["status"]["conditions"].as_array()?;
    conditions.iter().find(|c| c["type"] == kind).and_then(|c| c["status"].as_str()).map(str::to_string)
}

#[actix::test]
async fn a_failing_liveness_probe_runs_on_its_period_and_restarts_the_zone() {
    tokio::time::pause();
    let probe = ["check-live"];
    let liveness = json!({"livenessProbe": {"exec": {"command": probe}, "periodSeconds": 3}});
    let h = Harness::start(1, liveness, &[(&probe, ZloginReply::ok(""))]).await;
    // Runs at 0, 3, 6, 9 pass; from second 10 the check fails, so 12, 15 and 18 fail and
    // the third failure (failureThreshold 3) kills the zone.
    for half_second in 0..39 {
        let t = f64::from(half_second) * 0.5 + 0.25;
        h.at(t).await;
        if half_second == 20 {
            h.script(&probe, ZloginReply::fail(1, "not alive"));
        }
        assert_eq!(h.runs_of(&probe), (t as usize) / 3 + 1, "runs by t0+{t}s");
    }
    let shutdowns = |h: &Harness| h.host.command_lines().iter().filter(|l| l.ends_with("shutdown")).count();
    assert_eq!(shutdowns(&h), 1, "the third failure at 18 s stops the zone");
    let pod = h.until_pod("restartCount 1", |p| restart_count(p) == 1).await;
    assert_eq!(pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"], 137);
    let unhealthy = h.until_event("Unhealthy", "Liveness probe failed: not alive").await;
    assert_eq!(unhealthy["type"], "Warning");
    assert_eq!(unhealthy["involvedObject"]["fieldPath"], "spec.containers{app}");
    let killing = h.until_event("Killing", "Container app failed liveness probe, will be restarted").await;
    assert_eq!(killing["type"], "Normal");
    // The restarted zone is probed afresh, still fails, and is restarted again.
    h.until_pod("restartCount 2", |p| restart_count(p) == 2).await;
    assert!(shutdowns(&h) >= 2);
    let unhealthy = h.until_event("Unhealthy", "Liveness probe failed: not alive").await;
    assert!(unhealthy["count"].as_i64().unwrap() >= 6, "failures are aggregated: {unhealthy:#}");
}

#[actix::test]
async fn readiness_flips_ready_false_and_true_as_seen_through_a_watch() {
    tokio::time::pause();
    let probe = ["check-ready"];
    let h = Harness::start(
        2,
        json!({"readinessProbe": {"exec": {"command": probe}, "periodSeconds": 1, "failureThreshold": 2,
            "successThreshold": 2}}),
        &[(&probe, ZloginReply::ok(""))],
    )
    .await;
    let mut watch = h.store.watch(Selection::prefix(pod_key(&h.name)), WatchFrom::After(0)).unwrap();
    // Passing, then failing from 5 s, passing again from 12 s.
    h.at(5.5).await;
    h.script(&probe, ZloginReply::fail(1, "not yet"));
    h.at(12.5).await;
    h.script(&probe, ZloginReply::ok(""));
    h.at(20.0).await;
    // Every Ready transition the watch delivered, in order.
    let mut seen: Vec<String> = Vec::new();
    while let Ok(item) = tokio::time::timeout(Duration::from_millis(1), watch.next()).await {
        let WatchItem::Event { object, .. } = item else { break };
        let ready = condition(&object.json(), "Ready");
        if let Some(ready) = ready
            && seen.last() != Some(&ready)
        {
            seen.push(ready);
        }
        if object.json()["status"]["phase"] == "Running" {
            assert_eq!(condition(&object.json(), "ContainersReady"), condition(&object.json(), "Ready"));
        }
    }
    assert_eq!(seen, ["False", "True", "False", "True"], "Ready is False until two successes, etc.");
    let pod = h.pod();
    assert_eq!(pod["status"]["containerStatuses"][0]["ready"], true);
    assert_eq!(restart_count(&pod), 0, "readiness never restarts");
    h.until_event("Unhealthy", "Readiness probe failed: not yet").await;
}

#[actix::test]
async fn a_startup_probe_holds_liveness_until_it_succeeds() {
    tokio::time::pause();
    let (startup, liveness) = (["check-started"], ["check-live"]);
    let h = Harness::start(
        3,
        json!({
            "startupProbe": {"exec": {"command": startup}, "periodSeconds": 1, "failureThreshold": 30},
            "livenessProbe": {"exec": {"command": liveness}, "periodSeconds": 2, "failureThreshold": 1},
        }),
        &[(&startup, ZloginReply::fail(1, "starting")), (&liveness, ZloginReply::fail(1, "would kill"))],
    )
    .await;
    h.at(9.5).await;
    assert_eq!(h.runs_of(&startup), 10, "startup runs every second");
    assert_eq!(h.runs_of(&liveness), 0, "liveness is held while startup has not succeeded");
    assert_eq!(condition(&h.pod(), "Ready").as_deref(), Some("False"));
    h.script(&startup, ZloginReply::ok(""));
    h.script(&liveness, ZloginReply::ok(""));
    h.at(20.5).await;
    assert_eq!(h.runs_of(&startup), 11, "a succeeded startup probe stops");
    let live_runs = h.runs_of(&liveness);
    assert!((5..=6).contains(&live_runs), "liveness runs every 2 s once started: {live_runs}");
    let pod = h.until_pod("Ready", |p| condition(p, "Ready").as_deref() == Some("True")).await;
    assert_eq!(restart_count(&pod), 0);
}

#[actix::test]
async fn a_hung_exec_probe_times_out_as_a_failure_and_is_killed() {
    tokio::time::pause();
    let probe = ["sleep-forever"];
    let h = Harness::start(
        4,
        json!({"livenessProbe": {"exec": {"command": probe}, "periodSeconds": 5, "timeoutSeconds": 2,
            "failureThreshold": 1, "terminationGracePeriodSeconds": 1}}),
        &[(&probe, ZloginReply::hang())],
    )
    .await;
    h.until_event("Unhealthy", "Liveness probe failed: command \"sleep-forever\" timed out").await;
    let probe_events: Vec<_> =
        h.host.events().into_iter().filter(|e| e.in_zone.iter().any(|c| c == &["sleep-forever"])).collect();
    assert_eq!(probe_events[0].outcome, EventOutcome::TimedOut, "the executor killed the hung command");
    h.until_event("Killing", "Container app failed liveness probe, will be restarted").await;
    h.until_pod("restarted", |p| restart_count(p) >= 1).await;
}

#[actix::test]
async fn two_probes_keep_their_own_cadence_for_ten_minutes() {
    tokio::time::pause();
    let (fast, slow) = (["every-2s"], ["every-7s"]);
    let h = Harness::start(
        5,
        json!({
            "livenessProbe": {"exec": {"command": fast}, "periodSeconds": 2},
            "readinessProbe": {"exec": {"command": slow}, "periodSeconds": 7},
        }),
        &[(&fast, ZloginReply::ok("")), (&slow, ZloginReply::ok(""))],
    )
    .await;
    // Each check takes 300 ms: the next run still starts a period after the last *start*.
    h.host.set_duration(Operation::zlogin(), Duration::from_millis(300));
    h.at(599.9).await;
    assert_eq!(h.runs_of(&fast), 300, "0, 2, …, 598 s");
    assert_eq!(h.runs_of(&slow), 86, "0, 7, …, 595 s");
}

#[actix::test]
async fn a_stalled_actor_does_not_burst_missed_runs() {
    tokio::time::pause();
    let probe = ["every-2s"];
    let liveness = json!({"livenessProbe": {"exec": {"command": probe}, "periodSeconds": 2}});
    let h = Harness::start(6, liveness, &[(&probe, ZloginReply::ok(""))]).await;
    h.at(10.5).await;
    assert_eq!(h.runs_of(&probe), 6, "0, 2, …, 10 s");
    h.actor.send(Stall(Duration::from_secs(30))).await.unwrap();
    h.at(40.4).await;
    assert_eq!(h.runs_of(&probe), 6, "nothing runs while the actor is stalled");
    h.at(40.6).await;
    assert_eq!(h.runs_of(&probe), 7, "the overdue run happens once, right after the stall");
    h.at(50.6).await;
    // 40.5, then every 2 s after it: 42.5, 44.5, 46.5, 48.5, 50.5.
    assert_eq!(h.runs_of(&probe), 12, "then the ordinary cadence, without catching up");
}

/// An HTTP server on `address` answering every request with `status` (read each time).
async fn serve_http(address: std::net::SocketAddr, status: Arc<AtomicU16>) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let status = status.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request).to_lowercase();
                let status = if text.contains("user-agent: kube-probe/") && text.contains("x-probe: yes") {
                    status
                } else {
                    400
                };
                let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    })
}

#[actix::test]
async fn http_and_tcp_probes_reach_real_listeners_on_the_pod_address() {
    tokio::time::pause();
    let pod_ip: IpAddr = "127.77.7.2".parse().unwrap();
    // Free ports on the pod's address, found before the pod names them.
    let free = |ip: IpAddr| std::net::TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap();
    let (http_address, tcp_address) = (free(pod_ip), free(pod_ip));
    let status = Arc::new(AtomicU16::new(200));
    let server = serve_http(http_address, status.clone()).await;
    let tcp = tokio::net::TcpListener::bind(tcp_address).await.unwrap();
    let h = Harness::start(
        7,
        json!({
            "ports": [{"name": "web", "containerPort": http_address.port()}],
            "readinessProbe": {"httpGet": {"port": "web", "path": "/ready",
                "httpHeaders": [{"name": "X-Probe", "value": "yes"}]}, "periodSeconds": 1, "failureThreshold": 1},
            "livenessProbe": {"tcpSocket": {"port": tcp_address.port()}, "periodSeconds": 1, "failureThreshold": 2},
        }),
        &[],
    )
    .await;
    let pod = h.until_pod("Ready", |p| condition(p, "Ready").as_deref() == Some("True")).await;
    assert_eq!(pod["status"]["podIP"], "127.77.7.2");
    status.store(503, Ordering::SeqCst);
    h.until_pod("unready on 503", |p| condition(p, "Ready").as_deref() == Some("False")).await;
    h.until_event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503").await;
    status.store(302, Ordering::SeqCst);
    h.until_pod("ready on a redirect status", |p| condition(p, "Ready").as_deref() == Some("True")).await;
    server.abort();
    let _ = server.await;
    h.until_pod("unready once the listener closed", |p| condition(p, "Ready").as_deref() == Some("False")).await;
    let url = format!("http://{http_address}/ready");
    let refused = h.events().into_iter().any(|e| {
        let message = e["message"].as_str().unwrap_or_default();
        message.starts_with(&format!("Readiness probe failed: Get {url:?}: ")) && message.contains("refused")
    });
    assert!(refused, "a refused connection is a failure: {:#?}", h.events());
    assert_eq!(restart_count(&h.pod()), 0, "the TCP listener is still open: liveness passes");
    drop(tcp);
    h.until_event("Unhealthy", &format!("Liveness probe failed: dial tcp {tcp_address}: connect: connection refused"))
        .await;
    h.until_pod("restarted by the TCP liveness probe", |p| restart_count(p) >= 1).await;
}

#[actix::test]
async fn probes_stop_when_the_pod_terminates() {
    tokio::time::pause();
    let probe = ["every-1s"];
    let liveness = json!({"livenessProbe": {"exec": {"command": probe}, "periodSeconds": 1}});
    let h = Harness::start(8, liveness, &[(&probe, ZloginReply::ok(""))]).await;
    h.at(5.5).await;
    assert_eq!(h.runs_of(&probe), 6);
    // The API deletes the pod gracefully: the watch brings it with a deletionTimestamp.
    let mut deleting = h.pod();
    let deadline = h.clock.now().saturating_add(jiff::SignedDuration::from_secs(30)).unwrap();
    deleting["metadata"]["deletionTimestamp"] = json!(deadline.to_string());
    deleting["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    let pod: Pod = serde_json::from_value(deleting).unwrap();
    crate::actors::coalesce::deliver(&h.inbox.pod, Arc::new(pod), &h.actor.clone().recipient());
    h.at(60.0).await;
    assert_eq!(h.runs_of(&probe), 6, "no probe runs once the pod terminates");
    assert_eq!(h.host.zone_state(&h.zone), None, "the zone is gone");
}

#[actix::test]
async fn exec_probes_queue_for_the_node_limit_and_time_out_only_once_running() {
    tokio::time::pause();
    let (live, ready) = (["probe-live"], ["probe-ready"]);
    let host = FakeHost::new();
    // Each check takes 800 ms of a 1 s timeout: two at once would fit, one after the
    // other only if the timeout starts when the permit is held.
    host.set_duration(Operation::zlogin(), Duration::from_millis(800));
    let probes = json!({
        "livenessProbe": {"exec": {"command": live}, "periodSeconds": 10},
        "readinessProbe": {"exec": {"command": ready}, "periodSeconds": 10},
    });
    let scripts: &[(&[&str], ZloginReply)] = &[(&live, ZloginReply::ok("")), (&ready, ZloginReply::ok(""))];
    let h = Harness::start_on(host, 1, crate::actors::agent::STATUS_WRITES_IN_FLIGHT, 9, probes, scripts).await;
    let started = |h: &Harness| h.runs_of(&live) + h.runs_of(&ready);
    h.at(0.4).await;
    assert_eq!(started(&h), 1, "the limit of 1 holds the second exec probe back");
    h.at(1.2).await;
    assert_eq!(started(&h), 2, "the second starts when the first ends");
    let pod = h.until_pod("Ready", |p| condition(p, "Ready").as_deref() == Some("True")).await;
    assert_eq!(restart_count(&pod), 0);
    assert!(h.events().iter().all(|e| e["reason"] != "Unhealthy"), "no probe timed out: {:#?}", h.events());
}

#[actix::test]
async fn a_pod_that_moves_on_while_waiting_for_a_status_slot_writes_only_where_it_is() {
    tokio::time::pause();
    // No status-write slot is free while the pod's zone is set up and booted.
    let h = Harness::start_on(FakeHost::new(), 10, 0, 12, json!({}), &[]).await;
    h.at(5.0).await;
    assert_eq!(h.pod()["status"], json!({"phase": "Pending"}), "nothing is written without a slot");

    let mut watch = h.store.watch(Selection::prefix(pod_key(&h.name)), WatchFrom::Now).unwrap();
    h.status_writes.add_permits(1);
    let pod = h.until_pod("Running", |p| p["status"]["phase"] == "Running").await;
    assert_eq!(pod["status"]["containerStatuses"][0]["ready"], true);
    h.at(30.0).await;
    // The watch starts with the pod as it is (ADDED); each write is a MODIFIED.
    let mut writes = 0;
    while let Ok(item) = tokio::time::timeout(Duration::from_millis(1), watch.next()).await {
        match item {
            WatchItem::Event { kind: EventKind::Modified, .. } => writes += 1,
            WatchItem::Event { .. } => {}
            other => panic!("the watch ended: {other:?}"),
        }
    }
    assert_eq!(writes, 1, "one write, of the status the pod had when its turn came");
}
