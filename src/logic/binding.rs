//! Binding a pod to a node, and setting conditions: the same rules for the `pods/binding`
//! API and the scheduler. A pod is bound once; a pod being deleted is not bound at all.

use serde_json::{Value, json};

/// Why a pod cannot be bound.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindRefusal {
    /// It already runs somewhere.
    #[error("pod {pod} is already assigned to node {node:?}")]
    AlreadyBound {
        /// The pod's name.
        pod: String,
        /// Its node.
        node: String,
    },
    /// Its deletion has begun.
    #[error("pod {pod} is being deleted, cannot be assigned to a host")]
    Deleting {
        /// The pod's name.
        pod: String,
    },
}

/// Sets `spec.nodeName` and the `PodScheduled=True` condition on `pod` (JSON), at `now`
/// (an RFC 3339 timestamp).
pub fn bind_pod(pod: &mut Value, node: &str, now: &str) -> Result<(), BindRefusal> {
    let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    if let Some(bound) = pod.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        return Err(BindRefusal::AlreadyBound { pod: name, node: bound.to_string() });
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return Err(BindRefusal::Deleting { pod: name });
    }
    pod["spec"]["nodeName"] = json!(node);
    set_condition(pod, "PodScheduled", "True", None, None, now);
    Ok(())
}

/// Sets the condition `kind` in `status.conditions`. `lastTransitionTime` moves only
/// when the status changes, as upstream. Returns true when anything changed.
pub fn set_condition(
    object: &mut Value,
    kind: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
    now: &str,
) -> bool {
    if !object.get("status").is_some_and(Value::is_object) {
        object["status"] = json!({});
    }
    if !object["status"]["conditions"].is_array() {
        object["status"]["conditions"] = json!([]);
    }
    let conditions = object["status"]["conditions"].as_array_mut().expect("made an array above");
    let Some(existing) = conditions.iter_mut().find(|c| c["type"] == kind) else {
        let mut condition = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
        if let Some(reason) = reason {
            condition["reason"] = json!(reason);
        }
        if let Some(message) = message {
            condition["message"] = json!(message);
        }
        conditions.push(condition);
        return true;
    };
    let same = existing["status"] == status
        && existing.get("reason").and_then(Value::as_str) == reason
        && existing.get("message").and_then(Value::as_str) == message;
    if same {
        return false;
    }
    // Update in place: fields this call does not set (such as a node's lastHeartbeatTime)
    // stay as they were.
    if existing["status"] != status {
        existing["lastTransitionTime"] = json!(now);
    }
    existing["status"] = json!(status);
    let fields = existing.as_object_mut().expect("a condition is an object");
    for (field, value) in [("reason", reason), ("message", message)] {
        match value {
            Some(v) => {
                fields.insert(field.into(), json!(v));
            }
            None => {
                fields.remove(field);
            }
        }
    }
    true
}

/// The status of condition `kind`, if the object has it.
pub fn condition_status<'a>(object: &'a Value, kind: &str) -> Option<&'a str> {
    object.pointer("/status/conditions")?.as_array()?.iter().find(|c| c["type"] == kind)?.get("status")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_once() {
        let mut pod = json!({"metadata": {"name": "web"}, "spec": {}});
        bind_pod(&mut pod, "n1", "2026-11-27T10:00:00Z").unwrap();
        assert_eq!(pod["spec"]["nodeName"], "n1");
        assert_eq!(condition_status(&pod, "PodScheduled"), Some("True"));
        assert_eq!(
            bind_pod(&mut pod, "n2", "2026-11-27T10:00:01Z"),
            Err(BindRefusal::AlreadyBound { pod: "web".into(), node: "n1".into() })
        );
        let mut deleting =
            json!({"metadata": {"name": "old", "deletionTimestamp": "2026-11-27T10:00:00Z"}, "spec": {}});
        assert_eq!(
            bind_pod(&mut deleting, "n1", "t").unwrap_err().to_string(),
            "pod old is being deleted, cannot be assigned to a host"
        );
    }

    #[test]
    fn transition_time_moves_only_with_the_status() {
        let mut pod = json!({"metadata": {"name": "p"}});
        assert!(set_condition(&mut pod, "PodScheduled", "False", Some("Unschedulable"), Some("a"), "t1"));
        assert!(!set_condition(&mut pod, "PodScheduled", "False", Some("Unschedulable"), Some("a"), "t2"), "no change");
        assert!(set_condition(&mut pod, "PodScheduled", "False", Some("Unschedulable"), Some("b"), "t3"));
        assert_eq!(pod["status"]["conditions"][0]["lastTransitionTime"], "t1");
        assert!(set_condition(&mut pod, "PodScheduled", "True", None, None, "t4"));
        assert_eq!(pod["status"]["conditions"][0]["lastTransitionTime"], "t4");
        assert_eq!(pod["status"]["conditions"].as_array().unwrap().len(), 1);
        let mut node =
            json!({"status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "hb"}]}});
        set_condition(&mut node, "Ready", "Unknown", Some("NodeStatusUnknown"), None, "t5");
        assert_eq!(node["status"]["conditions"][0]["lastHeartbeatTime"], "hb", "untouched fields stay");
        assert_eq!(node["status"]["conditions"][0]["lastTransitionTime"], "t5");
    }
}
