//! The pod table, with kubectl's STATUS logic: the phase, overridden by the most telling
//! container state (`ContainerCreating`, `CrashLoopBackOff`, `Init:1/2`, `Completed`...),
//! and `Terminating` once deletion has begun.

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, TableDef, age_cell, age_since, text};

/// The pod table.
pub static PODS: TableDef = TableDef {
    columns: &[
        NAME,
        Column {
            name: "Ready",
            kind: "string",
            format: "",
            description: "The aggregate readiness state of this pod for accepting traffic.",
            priority: 0,
        },
        Column {
            name: "Status",
            kind: "string",
            format: "",
            description: "The aggregate status of the containers in this pod.",
            priority: 0,
        },
        Column {
            name: "Restarts",
            kind: "string",
            format: "",
            description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            priority: 0,
        },
        AGE,
        Column {
            name: "IP",
            kind: "string",
            format: "",
            description: "IP address allocated to the pod. Routable at least within the cluster.",
            priority: 1,
        },
        Column {
            name: "Node",
            kind: "string",
            format: "",
            description: "NodeName is a request to schedule this pod onto a specific node.",
            priority: 1,
        },
        Column {
            name: "Nominated Node",
            kind: "string",
            format: "",
            description: "nominatedNodeName is set only when this pod preempts other pods on the node.",
            priority: 1,
        },
        Column {
            name: "Readiness Gates",
            kind: "string",
            format: "",
            description: "If specified, all readiness gates will be evaluated for pod readiness.",
            priority: 1,
        },
    ],
    row: pod_row,
};

fn array<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object.pointer(pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn condition_true(pod: &Value, kind: &str) -> bool {
    array(pod, "/status/conditions").iter().any(|c| {
        c.get("type").and_then(Value::as_str) == Some(kind) && c.get("status").and_then(Value::as_str) == Some("True")
    })
}

/// "Signal:9" / "ExitCode:1" for a terminated state without a reason.
fn exit_summary(terminated: &Value, prefix: &str) -> String {
    let signal = int(terminated, "/signal");
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int(terminated, "/exitCode"))
    }
}

fn pod_row<'a>(pod: &'a Value, now: Timestamp) -> Vec<Value> {
    let total = array(pod, "/spec/containers").len();
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<&str> = None;
    let mut note_restart = |status: &'a Value| {
        restarts += int(status, "/restartCount");
        if let Some(finished) = status.pointer("/lastState/terminated/finishedAt").and_then(Value::as_str) {
            last_restart.get_or_insert(finished);
        }
    };

    let mut reason = text(pod, "/status/reason", text(pod, "/status/phase", "")).to_string();
    let init_total = array(pod, "/spec/initContainers").len();
    let mut initializing = false;
    for (i, status) in array(pod, "/status/initContainerStatuses").iter().enumerate() {
        note_restart(status);
        let terminated = status.pointer("/state/terminated");
        if terminated.is_some_and(|t| int(t, "/exitCode") == 0) {
            continue;
        }
        if status.get("started").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let waiting_reason = text(status, "/state/waiting/reason", "");
        reason = match terminated {
            Some(t) if !text(t, "/reason", "").is_empty() => format!("Init:{}", text(t, "/reason", "")),
            Some(t) => exit_summary(t, "Init:"),
            None if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" => {
                format!("Init:{waiting_reason}")
            }
            None => format!("Init:{i}/{init_total}"),
        };
        initializing = true;
        break;
    }
    if !initializing || condition_true(pod, "Initialized") {
        let mut has_running = false;
        for status in array(pod, "/status/containerStatuses").iter().rev() {
            note_restart(status);
            let waiting_reason = text(status, "/state/waiting/reason", "");
            let terminated = status.pointer("/state/terminated");
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                let why = text(t, "/reason", "");
                reason = if why.is_empty() { exit_summary(t, "") } else { why.to_string() };
            } else if status.get("ready").and_then(Value::as_bool) == Some(true)
                && status.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(pod, "Ready") { "Running".into() } else { "NotReady".into() };
        }
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if text(pod, "/status/reason", "") == "NodeLost" { "Unknown".into() } else { "Terminating".into() };
    }

    let restarts_cell = match last_restart {
        Some(when) => format!("{restarts} ({} ago)", age_since(Some(when), now)),
        None => restarts.to_string(),
    };
    let gates = array(pod, "/spec/readinessGates");
    let gates_cell = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let met = gates
            .iter()
            .filter(|g| condition_true(pod, g.get("conditionType").and_then(Value::as_str).unwrap_or("")))
            .count();
        format!("{met}/{}", gates.len())
    };
    vec![
        Value::from(text(pod, "/metadata/name", "")),
        Value::from(format!("{ready}/{total}")),
        Value::from(reason),
        Value::from(restarts_cell),
        age_cell(pod, now),
        Value::from(text(pod, "/status/podIP", "<none>")),
        Value::from(text(pod, "/spec/nodeName", "<none>")),
        Value::from(text(pod, "/status/nominatedNodeName", "<none>")),
        Value::from(gates_cell),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cells(pod: Value) -> Vec<String> {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        pod_row(&pod, now)
            .into_iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .collect()
    }

    #[test]
    fn statuses() {
        let base = json!({"metadata": {"name": "web", "creationTimestamp": "2026-11-27T09:59:00Z"},
            "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Pending"}});
        assert_eq!(
            cells(base.clone()),
            vec!["web", "0/1", "Pending", "0", "60s", "<none>", "<none>", "<none>", "<none>"]
        );

        let mut running = base.clone();
        running["status"] = json!({"phase": "Running", "podIP": "10.88.0.5",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "c", "ready": true, "restartCount": 2, "state": {"running": {}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-27T09:55:00Z"}}}]});
        running["spec"]["nodeName"] = json!("node1");
        let row = cells(running.clone());
        assert_eq!(&row[1..4], ["1/1", "Running", "2 (5m ago)"]);
        assert_eq!(&row[5..7], ["10.88.0.5", "node1"]);

        let mut crash = base.clone();
        crash["status"]["containerStatuses"] = json!([{"name": "c", "ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]);
        assert_eq!(cells(crash)[2], "CrashLoopBackOff");

        let mut done = base.clone();
        done["status"] = json!({"phase": "Succeeded", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]});
        assert_eq!(cells(done)[2], "Completed");

        let mut init = base.clone();
        init["spec"]["initContainers"] = json!([{"name": "i1"}, {"name": "i2"}]);
        init["status"]["initContainerStatuses"] =
            json!([{"name": "i1", "state": {"terminated": {"exitCode": 0}}}, {"name": "i2", "state": {"running": {}}}]);
        assert_eq!(cells(init)[2], "Init:1/2");

        let mut deleting = running;
        deleting["metadata"]["deletionTimestamp"] = json!("2026-11-27T10:00:30Z");
        assert_eq!(cells(deleting)[2], "Terminating");
    }
}
