//! The CI variant of the benchmarks: each `reddwarf-bench` workload runs at a small size
//! against a real server and must produce numbers. Thresholds are BENCHMARKS.md's business,
//! not these tests': they check that the tools run and count correctly.

use std::process::Command;

use serde_json::Value;

use crate::support::Server;

fn bench(args: &[&str], kubeconfig: Option<&std::path::Path>) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reddwarf-bench"));
    command.args(args).env_remove("KUBECONFIG");
    if let Some(kubeconfig) = kubeconfig {
        command.arg("--kubeconfig").arg(kubeconfig);
    }
    let output = command.output().expect("reddwarf-bench runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON report: {e}"))
}

fn number(report: &Value, pointer: &str) -> f64 {
    report.pointer(pointer).and_then(Value::as_f64).unwrap_or_else(|| panic!("{pointer} missing from {report}"))
}

#[test]
fn api_workloads_run_at_a_small_size_and_report_numbers() {
    let server = Server::start();
    let kubeconfig = Some(server.kubeconfig.as_path());
    let pid = server.pid().to_string();

    let created = bench(&["create", "--clients", "4", "--count", "60"], kubeconfig);
    assert_eq!(created["created"], 60, "{created}");
    assert_eq!(created["errors"], serde_json::json!({}));
    assert!(number(&created, "/latency_ms/p99") > 0.0);

    let fanout =
        bench(&["fanout", "--watchers", "3", "--rate", "20", "--seconds", "1", "--server-pid", &pid], kubeconfig);
    assert_eq!(fanout["watchers_opened"], 3, "{fanout}");
    assert_eq!(fanout["events_received"], fanout["events_expected"], "every watcher saw every create");
    assert!(number(&fanout, "/events_expected") >= 3.0 * 15.0, "{fanout}");
    assert!(number(&fanout, "/delivery_latency_ms/p99") > 0.0);
    assert!(number(&fanout, "/server_rss_kib/with_watchers") > 0.0);

    let beats = bench(
        &["heartbeat", "--nodes", "5", "--duration", "1500ms", "--interval", "500ms", "--server-pid", &pid],
        kubeconfig,
    );
    assert!(number(&beats, "/lease_puts") >= 10.0, "{beats}");
    assert_eq!(beats["lease_put_errors"], serde_json::json!({}), "{beats}");
    assert!(number(&beats, "/server_cpu_percent") > 0.0, "{beats}");

    let memory =
        bench(&["memory", "--nodes", "3", "--pods", "20,40", "--settle", "100ms", "--server-pid", &pid], kubeconfig);
    let levels = memory["levels"].as_array().expect("levels");
    assert_eq!(levels.iter().map(|l| l["pods"].as_u64().unwrap()).collect::<Vec<_>>(), [0, 20, 40], "{memory}");
    assert!(levels.iter().all(|l| l["rss_kib"].as_u64().unwrap() > 0));
}

#[test]
fn the_startup_workload_times_pods_to_running_on_a_sim_node() {
    let server = Server::start_with_agent(&["--runtime", "sim"]);
    let startup = bench(&["startup", "--pods", "6", "--rate", "0", "--timeout", "60s"], Some(&server.kubeconfig));
    assert_eq!(startup["running"], 6, "{startup}");
    assert!(startup["nodes"].as_u64() >= Some(1), "it waited for a Ready node: {startup}");
    assert_eq!(startup["not_running_by_timeout"], 0, "{startup}");
    assert!(number(&startup, "/startup_ms/p99") > 0.0, "{startup}");
}

#[test]
fn recovery_and_store_workloads_run_at_a_small_size_and_report_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let store = bench(
        &["store-put", "--data-dir", dir.path().join("store").to_str().unwrap(), "--clients", "4", "--count", "40"],
        None,
    );
    assert_eq!(store["count"], 40, "{store}");
    assert!(number(&store, "/ops_per_second") > 0.0);

    let recovery = bench(
        &[
            "recovery",
            "--server-bin",
            env!("CARGO_BIN_EXE_reddwarf"),
            "--data-dir",
            dir.path().join("server").to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--preload",
            "30",
            "--clients",
            "4",
            "--kill-after",
            "300ms",
        ],
        None,
    );
    assert_eq!(recovery["acknowledged_lost"], 0, "{recovery}");
    assert!(number(&recovery, "/acknowledged_total") >= 30.0, "{recovery}");
    assert!(number(&recovery, "/pods_listed_after_restart") >= number(&recovery, "/acknowledged_total"));
    assert!(number(&recovery, "/restart_to_readyz_seconds") > 0.0);
}
