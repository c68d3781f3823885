//! Kubernetes Events as a recorder writes them: what an event says (`EventSpec`), the key
//! under which repeats are aggregated (so a repeat bumps `count` and `lastTimestamp`
//! instead of creating an object), and the core/v1 Event object itself. Time and the new
//! object's uid are arguments.

use jiff::Timestamp;
use serde_json::{Value, json};

/// The object an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InvolvedObject {
    /// Kind, such as `Pod`.
    pub kind: String,
    /// API version, such as `v1`.
    pub api_version: String,
    /// Namespace (empty for cluster-scoped objects; their events go to `default`).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Field path within the object, such as `spec.containers{nginx}`.
    pub field_path: String,
}

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventSpec {
    /// What it is about.
    pub involved: InvolvedObject,
    /// `Normal` or `Warning`.
    pub warning: bool,
    /// A CamelCase reason, such as `Scheduled`.
    pub reason: String,
    /// The human message.
    pub message: String,
    /// The reporting component, such as `default-scheduler`.
    pub component: String,
    /// The host it happened on, if any.
    pub host: String,
}

impl EventSpec {
    /// `Normal` or `Warning`.
    pub fn type_name(&self) -> &'static str {
        if self.warning { "Warning" } else { "Normal" }
    }

    /// The namespace the event object lives in.
    pub fn namespace(&self) -> &str {
        if self.involved.namespace.is_empty() { "default" } else { &self.involved.namespace }
    }
}

/// The name of a new event: upstream's `<object name>.<timestamp in hex nanoseconds>`.
pub fn event_name(spec: &EventSpec, now: Timestamp) -> String {
    format!("{}.{:x}", spec.involved.name, now.as_nanosecond().max(0))
}

fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A new core/v1 Event recording `spec` for the first time.
pub fn new_event(spec: &EventSpec, name: &str, uid: &str, now: Timestamp) -> Value {
    let i = &spec.involved;
    let mut involved = json!({"kind": i.kind, "apiVersion": i.api_version, "name": i.name, "uid": i.uid});
    if !i.namespace.is_empty() {
        involved["namespace"] = json!(i.namespace);
    }
    if !i.field_path.is_empty() {
        involved["fieldPath"] = json!(i.field_path);
    }
    let mut source = json!({"component": spec.component});
    if !spec.host.is_empty() {
        source["host"] = json!(spec.host);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": spec.namespace(), "uid": uid, "creationTimestamp": time(now)},
        "involvedObject": involved,
        "reason": spec.reason,
        "message": spec.message,
        "type": spec.type_name(),
        "source": source,
        "reportingComponent": spec.component,
        "reportingInstance": spec.host,
        "firstTimestamp": time(now),
        "lastTimestamp": time(now),
        "count": 1,
    })
}

/// The stored event `existing` seen once more: count and lastTimestamp move on.
pub fn repeat_event(existing: &Value, now: Timestamp) -> Value {
    let mut event = existing.clone();
    let count = event.get("count").and_then(Value::as_i64).unwrap_or(1);
    event["count"] = json!(count + 1);
    event["lastTimestamp"] = json!(time(now));
    if let Some(meta) = event.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> EventSpec {
        EventSpec {
            involved: InvolvedObject {
                kind: "Pod".into(),
                api_version: "v1".into(),
                namespace: "default".into(),
                name: "web".into(),
                uid: "u1".into(),
                field_path: String::new(),
            },
            warning: false,
            reason: "Scheduled".into(),
            message: "Successfully assigned default/web to n1".into(),
            component: "default-scheduler".into(),
            host: String::new(),
        }
    }

    #[test]
    fn events_and_repeats() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let name = event_name(&spec(), now);
        assert!(name.starts_with("web."));
        let event = new_event(&spec(), &name, "e1", now);
        assert_eq!(event["involvedObject"]["namespace"], "default");
        assert_eq!(event["source"], json!({"component": "default-scheduler"}));
        assert_eq!(event["count"], 1);
        assert_eq!(event["type"], "Normal");
        let later: Timestamp = "2026-11-27T10:05:00Z".parse().unwrap();
        let mut stored = event.clone();
        stored["metadata"]["resourceVersion"] = json!("7");
        let again = repeat_event(&stored, later);
        assert_eq!(again["count"], 2);
        assert_eq!(again["firstTimestamp"], "2026-11-27T10:00:00Z");
        assert_eq!(again["lastTimestamp"], "2026-11-27T10:05:00Z");
        assert!(again["metadata"].get("resourceVersion").is_none());
        let node = EventSpec { involved: InvolvedObject { namespace: String::new(), ..spec().involved }, ..spec() };
        assert_eq!(node.namespace(), "default", "cluster-scoped objects' events live in default");
    }
}
