//! Entry points for fuzzing the parsers that take untrusted input: one function per
//! target, taking raw bytes, shared by the cargo-fuzz targets under `fuzz/` (nightly) and
//! the seeded stable-toolchain run in `tests/fuzz.rs` (CI). Each must return, never panic,
//! whatever the bytes; where cheap it also checks a property of what was accepted (a
//! quantity prints back to itself, a quoted zonecfg value cannot end its quotes early).
//! It owns no parsing of its own.

use serde_json::{Value, json};

use crate::model::fields::FieldSelector;
use crate::model::labels::LabelSelector;
use crate::model::patch::schema::POD;
use crate::model::patch::strategic::strategic_merge;
use crate::model::quantity::parse_quantity;

/// `resources.requests` and friends: `parse_quantity`. An accepted quantity's canonical
/// text parses back to the same quantity.
pub fn quantity(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(quantity) = parse_quantity(text) {
        let printed = quantity.to_string();
        assert_eq!(parse_quantity(&printed), Ok(quantity), "{text:?} printed as {printed:?}");
    }
}

/// `?labelSelector=` and `?fieldSelector=`.
pub fn selectors(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(selector) = LabelSelector::parse(text) {
        let _ = selector.matches(&Default::default());
    }
    if let Ok(selector) = FieldSelector::parse(text) {
        let _ = selector.matches(|_| Some(text));
    }
}

/// A strategic merge patch against a Pod. The bytes are a JSON patch applied to a fixed
/// pod, or `[original, patch]`.
pub fn strategic_merge_patch(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    let (original, patch) = match value {
        Value::Array(pair) if pair.len() == 2 => (pair[0].clone(), pair[1].clone()),
        patch => (sample_pod(), patch),
    };
    if let Ok(merged) = strategic_merge(&original, &patch, &POD) {
        // Applying to the result again must not fail because of what the first pass made.
        let _ = strategic_merge(&merged, &patch, &POD);
    }
}

/// The pod [`strategic_merge_patch`] patches by default.
pub fn sample_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x", "y"]},
        "spec": {
            "containers": [
                {"name": "c", "image": "i", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                 "env": [{"name": "A", "value": "1"}], "volumeMounts": [{"name": "v", "mountPath": "/v"}]},
                {"name": "d", "image": "j"},
            ],
            "volumes": [{"name": "v", "emptyDir": {}}],
            "tolerations": [{"key": "k", "operator": "Exists"}],
        },
    })
}

/// A user string reaching zonecfg (an annotation, an image name): `zonecfg::quote`. An
/// accepted value is the input in double quotes, and the input holds nothing that could
/// end the quotes or start a new command.
pub fn zonecfg_quote(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(quoted) = crate::illumos::zonecfg::quote("z", "attr", &text) {
        let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')).expect("quoted");
        assert_eq!(inner, text);
        assert!(!inner.contains(['"', '\\', '\n', '\r', '\0']), "{inner:?}");
    }
}

/// A `application/vnd.kubernetes.protobuf` request body: `api::protobuf::decode_body`.
pub fn protobuf_body(data: &[u8]) {
    let _ = crate::api::protobuf::decode_body(data);
}

/// A fuzz target: takes any bytes, must not panic.
pub type Target = fn(&[u8]);

/// Every target by name, for runners.
pub const TARGETS: &[(&str, Target)] = &[
    ("quantity", quantity),
    ("selectors", selectors),
    ("strategic_merge_patch", strategic_merge_patch),
    ("zonecfg_quote", zonecfg_quote),
    ("protobuf_body", protobuf_body),
];
