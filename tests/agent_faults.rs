//! Faults that need an agent in this process: a `PodActor` that panics. The agent runs on
//! this test's actix system over a `FakeHost` the test holds, against a real
//! `reddwarf serve --no-agent`, with `AgentSettings::test_faults` set (code only, no flag
//! sets it), so the pod annotation `reddwarf.io/test-panic-incarnation: N` makes the
//! pod's actor of incarnation N panic when it reads the pod.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use reddwarf::actors::agent::logs::{ApiAccess, FakeConsoles};
use reddwarf::actors::agent::pod::TEST_PANIC_ANNOTATION;
use reddwarf::actors::agent::{self, AgentSettings};
use reddwarf::actors::directory::ActorDirectory;
use reddwarf::clock::Clock;
use reddwarf::illumos::fake::FakeHost;
use reddwarf::illumos::profile::PlatformProfile;
use reddwarf::illumos::runtime::IllumosRuntime;
use serde_json::json;

use crate::agent::{is_running, pod_on, wait_for_pod};
use crate::support::Server;

fn settings(dir: &std::path::Path) -> AgentSettings {
    AgentSettings {
        brands: vec!["lipkg".into(), "sparse".into(), "lx".into()],
        relist_interval: Duration::from_millis(200),
        test_faults: true,
        ..AgentSettings::simulated("n1", dir.to_path_buf())
    }
}

/// The live PodActors' incarnations, by pod.
fn incarnations(directory: &ActorDirectory) -> Vec<(String, u64)> {
    directory.snapshot(Some("PodActor")).into_iter().map(|a| (a.id, a.incarnation)).collect()
}

#[actix_web::test]
async fn a_panicking_pod_actor_is_respawned_and_leaves_its_zone_and_the_other_pods_alone() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let host = FakeHost::with_profile(PlatformProfile::omnios());
    let runtime = IllumosRuntime::new(Arc::new(host.clone()), PlatformProfile::omnios());
    let client = server.kube_client().await;
    let clock = Clock::system();
    let directory = ActorDirectory::new(clock.clone());
    let access = ApiAccess { server: server.url.clone(), ca_pem: server.ca_pem.clone() };
    let _agent = agent::start(
        settings(dir.path()),
        runtime,
        client.clone(),
        Arc::new(FakeConsoles(host.clone())),
        access,
        clock,
        directory.clone(),
    )
    .unwrap();

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for name in ["calm", "boom"] {
        pods.create(&PostParams::default(), &pod_on(name, "n1", json!({}))).await.unwrap();
    }
    let calm = wait_for_pod(&client, "calm", is_running).await;
    let boom = wait_for_pod(&client, "boom", is_running).await;
    assert_eq!(incarnations(&directory), vec![("default/boom".to_string(), 1), ("default/calm".to_string(), 1)]);
    let before = host.events().len();

    // The running pod's actor panics on reading this change.
    let patch = json!({"metadata": {"annotations": {TEST_PANIC_ANNOTATION: "1"}}});
    pods.patch("boom", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();

    // The router respawns it (after its back-off); the new incarnation adopts the zone.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !incarnations(&directory).contains(&("default/boom".to_string(), 2)) {
        assert!(std::time::Instant::now() < deadline, "not respawned: {:?}", incarnations(&directory));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give the new incarnation time to observe and (wrongly) act, by waiting for its
    // observation of the zone in the host's log.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !host.events()[before..].iter().any(|e| e.argv.join(" ").contains("-z default_boom list")) {
        assert!(std::time::Instant::now() < deadline, "the new incarnation did not look at its zone");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after: Vec<String> = host.events()[before..].iter().map(|e| e.argv.join(" ")).collect();
    let changed: Vec<&String> = after
        .iter()
        .filter(|l| !(l.contains(" list") || l.contains(" export") || l.contains(" show-") || l.contains("zfs get")))
        .collect();
    assert!(changed.is_empty(), "the respawn changed the host: {changed:?}");
    assert_eq!(host.zone_state("default_boom"), Some(reddwarf::illumos::zoneadm::ZoneState::Running));

    // boom is still Running on the same address without a restart; calm was not touched.
    let boom_now = pods.get("boom").await.unwrap();
    assert!(is_running(&boom_now));
    let (was, now) = (boom.status.unwrap(), boom_now.status.unwrap());
    assert_eq!(now.pod_ip, was.pod_ip);
    assert_eq!(now.container_statuses.unwrap()[0].restart_count, 0);
    let calm_now = pods.get("calm").await.unwrap();
    assert_eq!(calm_now.metadata.resource_version, calm.metadata.resource_version, "calm's pod was rewritten");
    assert!(incarnations(&directory).contains(&("default/calm".to_string(), 1)));
    let restarts = directory.snapshot(Some("PodActor")).into_iter().find(|a| a.id == "default/boom").unwrap().restarts;
    assert_eq!(restarts, 1);
}
