//! Conversions between API versions that share one stored form. `events.k8s.io/v1`
//! Events are core `v1` Events under other field names; the store keeps the core form, and
//! the events.k8s.io API converts on the way in and out, as the apiserver does.

use serde_json::{Map, Value};

/// (events.k8s.io/v1 field, core/v1 field).
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn rename(object: &Value, pairs: impl Iterator<Item = (&'static str, &'static str)>, api_version: &str) -> Value {
    let Some(map) = object.as_object() else { return object.clone() };
    let pairs: Vec<_> = pairs.collect();
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let key = pairs.iter().find(|(from, _)| from == key).map_or(key.as_str(), |(_, to)| to);
        out.insert(key.to_string(), value.clone());
    }
    out.insert("apiVersion".into(), Value::from(api_version));
    out.insert("kind".into(), Value::from("Event"));
    Value::Object(out)
}

/// An events.k8s.io/v1 Event in its core/v1 form.
pub fn event_v1_to_core(event: &Value) -> Value {
    rename(event, EVENT_FIELDS.iter().copied(), "v1")
}

/// A core/v1 Event in its events.k8s.io/v1 form.
pub fn event_core_to_v1(event: &Value) -> Value {
    rename(event, EVENT_FIELDS.iter().map(|&(v1, core)| (core, v1)), "events.k8s.io/v1")
}

/// The core field an events.k8s.io/v1 field selector names (`regarding.name` →
/// `involvedObject.name`).
pub fn event_v1_field_to_core(field: &str) -> String {
    for (v1, core) in EVENT_FIELDS {
        if field == *v1 {
            return core.to_string();
        }
        if let Some(rest) = field.strip_prefix(v1).and_then(|r| r.strip_prefix('.')) {
            return format!("{core}.{rest}");
        }
    }
    field.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_round_trip() {
        let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "regarding": {"kind": "Pod", "name": "web"}, "note": "pulled", "reason": "Pulled", "type": "Normal",
            "reportingController": "reddwarf", "reportingInstance": "n1", "eventTime": "2026-11-27T10:00:00.000000Z",
            "deprecatedCount": 2});
        let core = event_v1_to_core(&v1);
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "web");
        assert_eq!(core["message"], "pulled");
        assert_eq!(core["reportingComponent"], "reddwarf");
        assert_eq!(core["count"], 2);
        assert_eq!(event_core_to_v1(&core), v1);
        assert_eq!(event_v1_field_to_core("regarding.name"), "involvedObject.name");
        assert_eq!(event_v1_field_to_core("reportingController"), "reportingComponent");
        assert_eq!(event_v1_field_to_core("reason"), "reason");
    }
}
