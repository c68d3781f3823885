use std::time::Duration;

use serde_json::json;

use super::*;

fn pod(containers: serde_json::Value) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": containers}})).unwrap()
}

fn spec(kind: ProbeKind, container: &str, success: u32, failure: u32) -> ProbeSpec {
    ProbeSpec {
        container: container.into(),
        kind,
        action: ProbeAction::Tcp { host: None, port: 80 },
        initial_delay: Duration::ZERO,
        period: Duration::from_secs(10),
        timeout: Duration::from_secs(1),
        success_threshold: success,
        failure_threshold: failure,
        termination_grace: None,
    }
}

fn fail() -> ProbeOutcome {
    ProbeOutcome::Failure("boom".into())
}

#[test]
fn specs_take_the_api_defaults_and_resolve_named_ports() {
    let pod = pod(json!([{
        "name": "web", "image": "x", "ports": [{"name": "http", "containerPort": 8080}],
        "livenessProbe": {"httpGet": {"port": "http", "path": "/healthz",
            "httpHeaders": [{"name": "X-Probe", "value": "1"}]}},
        "readinessProbe": {"tcpSocket": {"port": 5432}, "periodSeconds": 2, "successThreshold": 2,
            "failureThreshold": 5, "timeoutSeconds": 4, "initialDelaySeconds": 7},
        "startupProbe": {"exec": {"command": ["cat", "/tmp/up"]}, "terminationGracePeriodSeconds": 3,
            "successThreshold": 1}
    }]));
    let specs = probe_specs(&pod).unwrap();
    assert_eq!(
        specs.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [ProbeKind::Startup, ProbeKind::Liveness, ProbeKind::Readiness]
    );
    let liveness = &specs[1];
    assert_eq!(
        (
            liveness.period,
            liveness.timeout,
            liveness.success_threshold,
            liveness.failure_threshold,
            liveness.initial_delay
        ),
        (Duration::from_secs(10), Duration::from_secs(1), 1, 3, Duration::ZERO)
    );
    let ProbeAction::Http(http) = &liveness.action else { panic!("{liveness:?}") };
    assert_eq!(http.url("127.77.0.5"), "http://127.77.0.5:8080/healthz");
    assert_eq!(http.headers, [("X-Probe".to_string(), "1".to_string())]);
    let readiness = &specs[2];
    assert_eq!(
        (readiness.period, readiness.timeout, readiness.success_threshold, readiness.failure_threshold),
        (Duration::from_secs(2), Duration::from_secs(4), 2, 5)
    );
    assert_eq!(readiness.initial_delay, Duration::from_secs(7));
    assert_eq!(readiness.action, ProbeAction::Tcp { host: None, port: 5432 });
    assert_eq!(specs[0].termination_grace, Some(Duration::from_secs(3)));
    assert_eq!(specs[0].action, ProbeAction::Exec { command: vec!["cat".into(), "/tmp/up".into()] });
}

#[test]
fn specs_refuse_grpc_unknown_ports_and_missing_handlers() {
    let table = [
        (json!({"grpc": {"port": 9000}}), "gRPC probes are not supported"),
        (json!({"httpGet": {"port": "nope"}}), "port nope is not a port"),
        (json!({"tcpSocket": {"port": 70000}}), "port 70000 is not a port"),
        (json!({"periodSeconds": 3}), "exactly one of exec, httpGet or tcpSocket"),
    ];
    for (probe, expected) in table {
        let pod = pod(json!([{"name": "c", "image": "x", "livenessProbe": probe}]));
        let error = probe_specs(&pod).unwrap_err().to_string();
        assert!(error.contains(expected), "{error}");
    }
}

#[test]
fn https_urls_and_explicit_hosts() {
    let check =
        HttpCheck { scheme: Scheme::Https, host: Some("::1".into()), port: 443, path: "ready".into(), headers: vec![] };
    assert_eq!(check.url("10.0.0.1"), "https://[::1]:443/ready");
}

#[test]
fn thresholds_change_the_verdict_only_after_consecutive_runs() {
    // (kind, success threshold, failure threshold, results, verdict changes after each)
    type Row = (ProbeKind, u32, u32, &'static [bool], &'static [Option<Verdict>]);
    let table: &[Row] = &[
        (
            ProbeKind::Liveness,
            1,
            3,
            &[true, false, false, false, false],
            &[None, None, None, Some(Verdict::Failure), None],
        ),
        (
            ProbeKind::Liveness,
            1,
            3,
            &[false, false, true, false, false, false],
            &[None, None, None, None, None, Some(Verdict::Failure)],
        ),
        (
            ProbeKind::Readiness,
            2,
            1,
            &[true, true, false, true, true],
            &[None, Some(Verdict::Success), Some(Verdict::Failure), None, Some(Verdict::Success)],
        ),
        (
            ProbeKind::Readiness,
            1,
            2,
            &[true, false, true, false, false],
            &[Some(Verdict::Success), None, None, None, Some(Verdict::Failure)],
        ),
        (ProbeKind::Startup, 1, 2, &[false, true], &[None, Some(Verdict::Success)]),
    ];
    for (kind, success, failure, results, expected) in table {
        let mut tracker = ProbeTracker::new(&spec(*kind, "c", *success, *failure));
        let got: Vec<Option<Verdict>> = results.iter().map(|r| tracker.record(*r)).collect();
        assert_eq!(got, *expected, "{kind:?} {success}/{failure} {results:?}");
    }
    assert_eq!(ProbeTracker::new(&spec(ProbeKind::Readiness, "c", 1, 3)).verdict(), Verdict::Failure);
    assert_eq!(ProbeTracker::new(&spec(ProbeKind::Startup, "c", 1, 3)).verdict(), Verdict::Unknown);
}

#[test]
fn liveness_failure_at_threshold_restarts_with_events() {
    let mut liveness = spec(ProbeKind::Liveness, "app", 1, 2);
    liveness.termination_grace = Some(Duration::from_secs(4));
    let mut probes = PodProbes::new(vec![liveness], vec!["app".into()], &[]);
    assert!(probes.ready(), "a pod without readiness probes is ready once started");
    let first = probes.record(0, &fail());
    assert_eq!(
        first,
        [ProbeDecision::Event {
            warning: true,
            reason: "Unhealthy",
            message: "Liveness probe failed: boom".into(),
            container: "app".into()
        }]
    );
    let second = probes.record(0, &fail());
    assert_eq!(second.len(), 4, "{second:?}");
    assert_eq!(
        second[1],
        ProbeDecision::Event {
            warning: false,
            reason: "Killing",
            message: "Container app failed liveness probe, will be restarted".into(),
            container: "app".into()
        }
    );
    assert_eq!(
        second[2],
        ProbeDecision::Restart {
            container: "app".into(),
            kind: ProbeKind::Liveness,
            grace: Some(Duration::from_secs(4))
        }
    );
    assert_eq!(second[3], ProbeDecision::Ready(false));
    assert!(probes.on_hold());
    assert!(!probes.should_run(0));
    assert!(probes.record(0, &fail()).is_empty(), "nothing counts once a restart is decided");
}

#[test]
fn the_startup_probe_gates_liveness_and_readiness() {
    let specs = vec![
        spec(ProbeKind::Startup, "app", 1, 3),
        spec(ProbeKind::Liveness, "app", 1, 3),
        spec(ProbeKind::Readiness, "app", 1, 3),
        spec(ProbeKind::Readiness, "side", 1, 3),
    ];
    let mut probes = PodProbes::new(specs, vec!["app".into(), "side".into()], &[]);
    assert!(!probes.ready());
    // (chain → should run) before startup succeeds
    assert_eq!((0..4).map(|c| probes.should_run(c)).collect::<Vec<_>>(), [true, false, false, true]);
    assert!(probes.record(1, &fail()).is_empty(), "a gated liveness result is ignored");
    assert_eq!(probes.record(3, &ProbeOutcome::Success), [], "one container ready is not the pod");
    assert_eq!(probes.record(0, &ProbeOutcome::Success), []);
    assert!(probes.started("app"));
    assert_eq!((0..4).map(|c| probes.should_run(c)).collect::<Vec<_>>(), [false, true, true, true]);
    assert_eq!(probes.record(2, &ProbeOutcome::Success), [ProbeDecision::Ready(true)]);
    for _ in 0..2 {
        let decisions = probes.record(3, &fail());
        assert!(!decisions.contains(&ProbeDecision::Ready(false)), "failureThreshold 3 is not reached yet");
    }
    assert_eq!(probes.record(3, &fail()).last(), Some(&ProbeDecision::Ready(false)));
}

#[test]
fn startup_failure_at_threshold_restarts_and_an_adopted_started_container_skips_it() {
    let mut probes = PodProbes::new(vec![spec(ProbeKind::Startup, "app", 1, 1)], vec!["app".into()], &[]);
    let decisions = probes.record(0, &fail());
    assert!(decisions.iter().any(|d| matches!(d, ProbeDecision::Restart { kind: ProbeKind::Startup, .. })));
    let message = decisions.iter().find_map(|d| match d {
        ProbeDecision::Event { reason: "Killing", message, .. } => Some(message.clone()),
        _ => None,
    });
    assert_eq!(message.as_deref(), Some("Container app failed startup probe, will be restarted"));
    let adopted = PodProbes::new(vec![spec(ProbeKind::Startup, "app", 1, 1)], vec!["app".into()], &["app".into()]);
    assert!(adopted.started("app") && adopted.ready() && !adopted.should_run(0));
}

#[test]
fn first_run_and_next_run_delays() {
    let mut s = spec(ProbeKind::Liveness, "c", 1, 3);
    s.initial_delay = Duration::from_secs(15);
    s.period = Duration::from_secs(4);
    // (running for, adopted, jitter) → delay
    let table = [
        (0, false, 0.7, Duration::from_secs(15)),
        (10, false, 0.7, Duration::from_secs(5)),
        (60, false, 0.7, Duration::ZERO),
        (60, true, 0.5, Duration::from_secs(2)),
        (5, true, 0.25, Duration::from_secs(11)),
        (60, true, 1.0, Duration::from_secs(4) - Duration::from_micros(4)),
    ];
    for (running_for, adopted, jitter, expected) in table {
        let got = first_delay(&s, Duration::from_secs(running_for), adopted, jitter);
        assert!(got.abs_diff(expected) < Duration::from_micros(5), "{running_for} {adopted} {jitter}: {got:?}");
    }
    // (period, since the run started) → delay until the next run starts
    let table = [(3, 0, 3000), (3, 1, 2000), (3, 3, 0), (7, 30, 0)];
    for (period, since, expected_ms) in table {
        assert_eq!(
            next_delay(Duration::from_secs(period), Duration::from_secs(since)),
            Duration::from_millis(expected_ms)
        );
    }
}
