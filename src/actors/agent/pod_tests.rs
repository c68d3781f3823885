//! PodActor timing under `tokio::time::pause()`: the actor over a FakeHost whose
//! operations take virtual time, with an API client that reaches no server (status
//! patches and events fail and are retried; the host is what is checked).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::*;
use crate::actors::agent::{AgentSettings, KubeEvents, STATUS_WRITES_IN_FLIGHT};
use crate::actors::directory::ActorDirectory;
use crate::actors::events::Recorder;
use crate::clock::Clock;
use crate::illumos::fake::{FakeHost, Operation};
use crate::illumos::profile::PlatformProfile;
use crate::illumos::runtime::NodeNetwork;

/// Collects what a pod actor tells its parent.
#[derive(Default, Clone)]
struct Told(Arc<Mutex<Vec<String>>>);

struct Parent(Told);

impl Actor for Parent {
    type Context = Context<Self>;
}

impl Handler<ChildExited<String>> for Parent {
    type Result = ();
    fn handle(&mut self, exit: ChildExited<String>, _: &mut Context<Self>) {
        self.0.0.lock().push(format!("exited {}", exit.incarnation));
    }
}

impl Handler<PodFinished> for Parent {
    type Result = ();
    fn handle(&mut self, finished: PodFinished, _: &mut Context<Self>) {
        self.0.0.lock().push(format!("finished {}", finished.incarnation));
    }
}

fn settings(dir: &Path) -> AgentSettings {
    AgentSettings::simulated("n1", dir.to_path_buf())
}

fn pod(deleting: Option<(Timestamp, i64)>) -> Arc<Pod> {
    let mut value = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-web"},
        "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "app:1"}]},
    });
    if let Some((at, grace)) = deleting {
        value["metadata"]["deletionTimestamp"] = serde_json::json!(at.to_string());
        value["metadata"]["deletionGracePeriodSeconds"] = serde_json::json!(grace);
    }
    Arc::new(serde_json::from_value(value).unwrap())
}

/// Waits (in virtual time) until `done`, for at most `limit`.
async fn until(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ran(host: &FakeHost, line: &str) -> bool {
    host.command_lines().iter().any(|l| l == line)
}

#[actix::test]
async fn operations_take_their_virtual_time_and_a_hung_shutdown_is_halted_when_the_grace_period_ends() {
    tokio::time::pause();
    let clock = Clock::tokio_anchored();
    let dir = tempfile::tempdir().unwrap();
    let profile = PlatformProfile::omnios();
    let host = FakeHost::with_profile(profile.clone());
    host.set_duration(Operation::zoneadm("install"), Duration::from_secs(40));
    host.set_duration(Operation::zoneadm("boot"), Duration::from_secs(5));
    let runtime = IllumosRuntime::new(Arc::new(host.clone()), profile);
    let settings = settings(dir.path());
    let network = NodeNetwork {
        etherstub: settings.etherstub.clone(),
        gateway_vnic: settings.gateway_vnic(),
        gateway_addrobj: format!("{}/v4", settings.gateway_vnic()),
        gateway_address: "127.77.0.1/24".into(),
        zonepath_dataset: "rpool/reddwarf/zones".into(),
        zonepath_root: "/zones".into(),
    };
    runtime.prepare_node(&network).await.unwrap();
    // Nothing listens on port 9: status patches and events fail and are retried.
    let client = kube::Client::try_from(kube::Config::new("http://127.0.0.1:9".parse().unwrap())).unwrap();
    let directory = ActorDirectory::new(clock.clone());
    let recorder = Recorder::start(Arc::new(KubeEvents::new(client.clone())), clock.clone(), directory.clone());
    let shared = Arc::new(AgentContext {
        settings,
        runtime,
        client,
        recorder,
        directory: directory.clone(),
        clock: clock.clone(),
        kubelet_port: 0,
        zone_summary: Mutex::default(),
        probes: Arc::new(crate::actors::agent::probes::NodeProbes::new(10)),
        status_writes: Arc::new(tokio::sync::Semaphore::new(STATUS_WRITES_IN_FLIGHT)),
    });
    let cidr = "127.77.0.0/24".parse().unwrap();
    let ipam = IpamPool::load(cidr, &dir.path().join("ipam.json"), "n1", directory).unwrap().start();
    let net = PodNet { ipam, prefix_len: 24, gateway: "127.77.0.1".parse().unwrap() };
    let told = Told::default();
    let parent = Parent(told.clone()).start();
    let inbox = PodInbox::default();
    let created = tokio::time::Instant::now();
    let actor = PodActor::new(
        pod(None),
        inbox.clone(),
        shared,
        net,
        PodParent { exited: parent.clone().recipient(), finished: parent.recipient() },
        1,
        0,
    )
    .start();

    // Install (40 s) and boot (5 s) run without blocking the actor; Running after 45 s.
    until(Duration::from_secs(120), "boot", || host.zone_state("default_web") == Some(ZoneState::Running)).await;
    let took = created.elapsed();
    assert!(took >= Duration::from_secs(45) && took < Duration::from_secs(47), "{took:?}");
    let describe = actor.send(Describe).await.unwrap();
    assert!(describe.contains("0 operations"), "{describe}");

    // Delete with a 30 s grace period; the shutdown hangs, so the halt comes at 30 s.
    host.hang_next(Operation::zoneadm("shutdown"), 1);
    let deleted = tokio::time::Instant::now();
    inbox.pod.put(pod(Some((clock.now() + jiff::SignedDuration::from_secs(30), 30))));
    actor.try_send(Kick).unwrap();
    until(Duration::from_secs(5), "shutdown", || ran(&host, "/usr/sbin/zoneadm -z default_web shutdown")).await;
    assert!(!ran(&host, "/usr/sbin/zoneadm -z default_web halt"));
    until(Duration::from_secs(60), "halt", || ran(&host, "/usr/sbin/zoneadm -z default_web halt")).await;
    let waited = deleted.elapsed();
    assert!(waited >= Duration::from_secs(30) && waited < Duration::from_secs(31), "halted after {waited:?}");

    // Teardown follows; the final delete cannot reach the API, so it is retried until the
    // watch says the pod is gone, and then the actor finishes.
    until(Duration::from_secs(60), "teardown", || host.zone_state("default_web").is_none()).await;
    assert!(!host.link_names().iter().any(|l| l.starts_with("rdweb")), "{:?}", host.link_names());
    assert!(told.0.lock().is_empty());
    inbox.gone.put(());
    actor.try_send(Kick).unwrap();
    until(Duration::from_secs(60), "finish", || told.0.lock().contains(&"finished 1".to_string())).await;
    until(Duration::from_secs(5), "stop", || told.0.lock().contains(&"exited 1".to_string())).await;
}
