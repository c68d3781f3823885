//! JSON patch (RFC 6902) and JSON merge patch (RFC 7386). The `json-patch` crate does the
//! work; this module owns the apiserver's framing around it: the operation limit, the error
//! wording of `evanphx/json-patch` v4 (which the apiserver uses), and the two places where v4
//! is laxer than the RFC and clients rely on it: `replace` of a missing object member adds it,
//! and `test` of a missing member against `null` passes.

use serde_json::{Map, Value, json};

use super::PatchError;

/// The most operations the apiserver accepts in one JSON patch.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// Applies an `application/json-patch+json` body. The operations apply in order to a copy;
/// the first one that fails fails the whole patch.
pub fn apply_json_patch(original: &Value, body: &[u8]) -> Result<Value, PatchError> {
    let operations: Value = serde_json::from_slice(body).map_err(|e| PatchError::InvalidJson(e.to_string()))?;
    let operations = match operations {
        Value::Array(operations) => operations,
        // Go decodes `null` into an empty patch.
        Value::Null => Vec::new(),
        other => return Err(cannot_unmarshal(&other, "jsonpatch.Patch")),
    };
    if operations.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations { max: MAX_JSON_PATCH_OPERATIONS, count: operations.len() });
    }
    // The whole body decodes before anything applies, so a malformed element is a 400 even
    // after a failing operation.
    if let Some(bad) = operations.iter().find(|op| !op.is_object() && !op.is_null()) {
        return Err(cannot_unmarshal(bad, "jsonpatch.Operation"));
    }
    let empty = Map::new();
    let mut doc = original.clone();
    for operation in &operations {
        apply_operation(&mut doc, operation.as_object().unwrap_or(&empty))?;
    }
    Ok(doc)
}

/// Applies an `application/merge-patch+json` body.
pub fn apply_merge_patch(original: &Value, body: &[u8]) -> Result<Value, PatchError> {
    let patch: Value = serde_json::from_slice(body).map_err(|_| PatchError::InvalidMergePatch)?;
    if !patch.is_object() {
        return Err(PatchError::InvalidMergePatch);
    }
    let mut doc = original.clone();
    json_patch::merge(&mut doc, &patch);
    Ok(doc)
}

fn cannot_unmarshal(value: &Value, go_type: &str) -> PatchError {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    PatchError::InvalidJson(format!("json: cannot unmarshal {kind} into Go value of type {go_type}"))
}

/// Where a JSON pointer lands in a document.
enum Target {
    /// The empty pointer: the whole document.
    Root,
    /// The parent does not exist, or is a scalar.
    NoParent,
    /// A member of an object.
    Member { key: String, present: bool },
    /// An element of an array: `exists` when the token is the index of an element,
    /// `insertable` when an `add` may put an element there (an index up to the length, or `-`).
    Element { token: String, exists: bool, insertable: bool },
}

fn locate(doc: &Value, path: &str) -> Target {
    let Some(slash) = path.rfind('/') else {
        return if path.is_empty() { Target::Root } else { Target::NoParent };
    };
    if !path.starts_with('/') {
        return Target::NoParent;
    }
    let token = path[slash + 1..].replace("~1", "/").replace("~0", "~");
    match doc.pointer(&path[..slash]) {
        Some(Value::Object(map)) => Target::Member { present: map.contains_key(&token), key: token },
        Some(Value::Array(items)) => {
            let canonical = token == "0" || !token.starts_with('0');
            let index = token.parse::<usize>().ok().filter(|_| canonical);
            let exists = index.is_some_and(|i| i < items.len());
            let insertable = token == "-" || index.is_some_and(|i| i <= items.len());
            Target::Element { token, exists, insertable }
        }
        _ => Target::NoParent,
    }
}

fn failed(message: String) -> PatchError {
    PatchError::JsonPatch(message)
}

fn apply_operation(doc: &mut Value, operation: &Map<String, Value>) -> Result<(), PatchError> {
    let kind = operation.get("op").and_then(Value::as_str).unwrap_or("unknown");
    if !matches!(kind, "add" | "remove" | "replace" | "move" | "copy" | "test") {
        return Err(failed(format!("Unexpected kind: {kind}")));
    }
    let path = operation
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| failed(format!("{kind} operation failed to decode path: missing value")))?;
    let value = operation.get("value").cloned().unwrap_or(Value::Null);
    let mut kind = kind;
    match (kind, locate(doc, path)) {
        ("add", Target::NoParent) => {
            return Err(failed(format!(
                "add operation does not apply: doc is missing path: \"{path}\": missing value"
            )));
        }
        ("add", Target::Element { token, insertable: false, .. }) => {
            return Err(failed(format!(
                "error in add for path: '{path}': Unable to access invalid index: {token}: invalid index referenced"
            )));
        }
        ("remove", Target::NoParent | Target::Root) => {
            return Err(failed(format!(
                "remove operation does not apply: doc is missing path: \"{path}\": missing value"
            )));
        }
        ("remove", Target::Member { key, present: false }) => {
            return Err(failed(format!(
                "error in remove for path: '{path}': Unable to remove nonexistent key: {key}: missing value"
            )));
        }
        ("remove", Target::Element { token, exists: false, .. }) => {
            return Err(failed(format!(
                "error in remove for path: '{path}': Unable to remove invalid index: {token}: invalid index referenced"
            )));
        }
        ("replace", Target::NoParent) => {
            return Err(failed(format!(
                "replace operation does not apply: doc is missing path: {path}: missing value"
            )));
        }
        // evanphx/json-patch v4 sets a missing member instead of failing.
        ("replace", Target::Member { present: false, .. }) => kind = "add",
        ("replace", Target::Element { exists: false, .. }) => {
            return Err(failed(format!("replace operation does not apply: doc is missing key: {path}: missing value")));
        }
        ("test", Target::NoParent) => {
            return Err(failed(format!("test operation does not apply: is missing path: {path}: missing value")));
        }
        ("test", Target::Member { present: false, .. }) if value.is_null() => return Ok(()),
        ("test", Target::Member { present: false, .. }) => {
            return Err(failed(format!("testing value {path} failed: test failed")));
        }
        ("test", Target::Element { exists: false, .. }) => {
            return Err(failed(format!("testing value {path} failed: test failed")));
        }
        ("move" | "copy", Target::NoParent) => {
            return Err(failed(format!(
                "{kind} operation does not apply: doc is missing destination path: {path}: missing value"
            )));
        }
        _ => {}
    }
    let mut spec = json!({"op": kind, "path": path, "value": value});
    if matches!(kind, "move" | "copy") {
        let from = operation
            .get("from")
            .and_then(Value::as_str)
            .ok_or_else(|| failed(format!("{kind} operation failed to decode from: missing value")))?;
        match locate(doc, from) {
            Target::NoParent | Target::Member { present: false, .. } => {
                return Err(failed(format!(
                    "{kind} operation does not apply: doc is missing from path: {from}: missing value"
                )));
            }
            Target::Element { exists: false, .. } => {
                return Err(failed(format!(
                    "{kind} operation does not apply: doc is missing from path: {from}: missing value"
                )));
            }
            _ => {}
        }
        spec["from"] = Value::String(from.to_string());
    }
    let op: json_patch::PatchOperation = serde_json::from_value(spec).map_err(|e| failed(e.to_string()))?;
    json_patch::patch(doc, &[op]).map_err(|e| match e.kind {
        json_patch::PatchErrorKind::TestFailed => failed(format!("testing value {path} failed: test failed")),
        json_patch::PatchErrorKind::InvalidPointer => {
            failed(format!("{kind} operation does not apply: doc is missing destination path: {path}: missing value"))
        }
        _ => failed(format!("{kind} operation does not apply: {}", e.kind)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "metadata": {"name": "nginx", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}], "nodeName": ""}
        })
    }

    #[test]
    fn json_patch_applies_operations_in_order() {
        let cases: &[(&str, &str, Value)] = &[
            (
                "kubectl patch --type=json add",
                r#"[{"op":"add","path":"/metadata/labels/p3","value":"q"}]"#,
                json!({"app": "web", "p3": "q"}),
            ),
            ("remove", r#"[{"op":"remove","path":"/metadata/labels/app"}]"#, json!({})),
            (
                "replace an existing member",
                r#"[{"op":"replace","path":"/metadata/labels/app","value":"api"}]"#,
                json!({"app": "api"}),
            ),
            (
                "replace a missing member adds it, as evanphx/json-patch v4 does",
                r#"[{"op":"replace","path":"/metadata/labels/tier","value":"fe"}]"#,
                json!({"app": "web", "tier": "fe"}),
            ),
            (
                "test then add",
                r#"[{"op":"test","path":"/metadata/name","value":"nginx"},{"op":"add","path":"/metadata/labels/x","value":"1"}]"#,
                json!({"app": "web", "x": "1"}),
            ),
            (
                "test of a missing member against null passes",
                r#"[{"op":"test","path":"/metadata/labels/x","value":null},{"op":"add","path":"/metadata/labels/x","value":"1"}]"#,
                json!({"app": "web", "x": "1"}),
            ),
            (
                "copy and move",
                r#"[{"op":"copy","from":"/metadata/labels/app","path":"/metadata/labels/c"},
                    {"op":"move","from":"/metadata/labels/app","path":"/metadata/labels/m"}]"#,
                json!({"c": "web", "m": "web"}),
            ),
            (
                "escaped pointer tokens",
                r#"[{"op":"add","path":"/metadata/labels/example.com~1role","value":"x"}]"#,
                json!({"app": "web", "example.com/role": "x"}),
            ),
            ("an empty patch", "[]", json!({"app": "web"})),
            ("a null patch", "null", json!({"app": "web"})),
        ];
        for (name, body, labels) in cases {
            let patched = apply_json_patch(&doc(), body.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(patched["metadata"]["labels"], *labels, "{name}");
        }
    }

    #[test]
    fn json_patch_edits_lists_by_index() {
        let body = r#"[{"op":"replace","path":"/spec/containers/0/image","value":"a:2"},
                       {"op":"add","path":"/spec/containers/-","value":{"name":"c"}},
                       {"op":"remove","path":"/spec/containers/1"}]"#;
        let patched = apply_json_patch(&doc(), body.as_bytes()).unwrap();
        assert_eq!(patched["spec"]["containers"], json!([{"name": "a", "image": "a:2"}, {"name": "c"}]));
    }

    #[test]
    fn json_patch_errors_use_upstream_wording() {
        let cases: &[(&str, &str, &str)] = &[
            ("unknown op", r#"[{"op":"bad","path":"/a"}]"#, "Unexpected kind: bad"),
            ("no op", r#"[{"path":"/a"}]"#, "Unexpected kind: unknown"),
            ("null operation", "[null]", "Unexpected kind: unknown"),
            ("no path", r#"[{"op":"add","value":1}]"#, "add operation failed to decode path: missing value"),
            (
                "add under a missing parent",
                r#"[{"op":"add","path":"/spec/foo/bar","value":1}]"#,
                "add operation does not apply: doc is missing path: \"/spec/foo/bar\": missing value",
            ),
            (
                "add past the end of a list",
                r#"[{"op":"add","path":"/spec/containers/5","value":{}}]"#,
                "error in add for path: '/spec/containers/5': Unable to access invalid index: 5: invalid index referenced",
            ),
            (
                "a path that is not a JSON pointer",
                r#"[{"op":"add","path":"metadata/labels/x","value":"1"}]"#,
                "add operation does not apply: doc is missing path: \"metadata/labels/x\": missing value",
            ),
            (
                "move to a path that is not a JSON pointer",
                r#"[{"op":"move","from":"/metadata/name","path":"x"}]"#,
                "move operation does not apply: doc is missing destination path: x: missing value",
            ),
            (
                "remove a missing member",
                r#"[{"op":"remove","path":"/metadata/labels/nope"}]"#,
                "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value",
            ),
            (
                "remove under a missing parent",
                r#"[{"op":"remove","path":"/metadata/annotations/a"}]"#,
                "remove operation does not apply: doc is missing path: \"/metadata/annotations/a\": missing value",
            ),
            (
                "replace past the end of a list",
                r#"[{"op":"replace","path":"/spec/containers/7","value":{}}]"#,
                "replace operation does not apply: doc is missing key: /spec/containers/7: missing value",
            ),
            (
                "replace under a missing parent",
                r#"[{"op":"replace","path":"/status/phase","value":"Running"}]"#,
                "replace operation does not apply: doc is missing path: /status/phase: missing value",
            ),
            (
                "test fails",
                r#"[{"op":"test","path":"/metadata/name","value":"other"}]"#,
                "testing value /metadata/name failed: test failed",
            ),
            (
                "test of a missing member",
                r#"[{"op":"test","path":"/metadata/labels/x","value":"1"}]"#,
                "testing value /metadata/labels/x failed: test failed",
            ),
            (
                "move from a missing member",
                r#"[{"op":"move","from":"/metadata/labels/x","path":"/metadata/labels/y"}]"#,
                "move operation does not apply: doc is missing from path: /metadata/labels/x: missing value",
            ),
            (
                "copy to a missing parent",
                r#"[{"op":"copy","from":"/metadata/name","path":"/status/x"}]"#,
                "copy operation does not apply: doc is missing destination path: /status/x: missing value",
            ),
            (
                "a later failure undoes the earlier operations",
                r#"[{"op":"add","path":"/metadata/labels/x","value":"1"},{"op":"test","path":"/metadata/name","value":"y"}]"#,
                "testing value /metadata/name failed: test failed",
            ),
        ];
        for (name, body, message) in cases {
            let err = apply_json_patch(&doc(), body.as_bytes()).unwrap_err();
            assert_eq!(err, PatchError::JsonPatch(message.to_string()), "{name}");
            assert_eq!(err.http_status(), 422, "{name}");
        }
    }

    #[test]
    fn json_patch_rejects_bodies_that_are_not_operation_lists() {
        let cases: &[(&str, &str)] = &[
            ("bogus", "expected value at line 1 column 1"),
            (r#"{"op":"add"}"#, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
            (r#"["add"]"#, "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
            (
                r#"[{"op":"bad","path":"/a"}, 3]"#,
                "json: cannot unmarshal number into Go value of type jsonpatch.Operation",
            ),
        ];
        for (body, message) in cases {
            let err = apply_json_patch(&doc(), body.as_bytes()).unwrap_err();
            assert_eq!(err, PatchError::InvalidJson(message.to_string()), "{body}");
            assert_eq!(err.http_status(), 400, "{body}");
        }
    }

    #[test]
    fn json_patch_limits_the_operation_count() {
        let op = json!({"op": "test", "path": "/metadata/name", "value": "nginx"});
        let at_limit = Value::Array(vec![op.clone(); MAX_JSON_PATCH_OPERATIONS]).to_string();
        assert_eq!(apply_json_patch(&doc(), at_limit.as_bytes()).unwrap(), doc());
        let over = Value::Array(vec![op; MAX_JSON_PATCH_OPERATIONS + 1]).to_string();
        let err = apply_json_patch(&doc(), over.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "The allowed maximum operations in a JSON patch is 10000, got 10001");
        assert_eq!(err.http_status(), 413);
    }

    #[test]
    fn merge_patch_merges_maps_and_replaces_lists() {
        let cases: &[(&str, &str, Value)] = &[
            (
                "kubectl label",
                r#"{"metadata":{"labels":{"l":"m"}}}"#,
                json!({"metadata": {"name": "nginx", "labels": {"app": "web", "l": "m"}}}),
            ),
            (
                "kubectl annotate",
                r#"{"metadata":{"annotations":{"a":"b"}}}"#,
                json!({"metadata": {"name": "nginx", "labels": {"app": "web"}, "annotations": {"a": "b"}}}),
            ),
            (
                "kubectl label l-",
                r#"{"metadata":{"labels":{"app":null}}}"#,
                json!({"metadata": {"name": "nginx", "labels": {}}}),
            ),
            (
                "lists are replaced whole",
                r#"{"spec":{"containers":[{"name":"a","image":"a:2"}]}}"#,
                json!({"spec": {"containers": [{"name": "a", "image": "a:2"}], "nodeName": ""}}),
            ),
            (
                "nulls inside a new object are dropped",
                r#"{"status":{"phase":"Running","reason":null}}"#,
                json!({"status": {"phase": "Running"}}),
            ),
        ];
        for (name, body, expected) in cases {
            let patched = apply_merge_patch(&doc(), body.as_bytes()).unwrap();
            for (key, value) in expected.as_object().unwrap() {
                assert_eq!(patched[key], *value, "{name}: {key}");
            }
        }
    }

    #[test]
    fn merge_patch_rejects_bodies_that_are_not_objects() {
        for body in ["not json", "[]", "\"x\"", "null", "3", ""] {
            let err = apply_merge_patch(&doc(), body.as_bytes()).unwrap_err();
            assert_eq!(err, PatchError::InvalidMergePatch, "{body:?}");
            assert_eq!(err.to_string(), "Invalid JSON Patch");
            assert_eq!(err.http_status(), 400);
        }
    }
}
