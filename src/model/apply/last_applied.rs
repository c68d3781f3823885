//! The bridge upstream keeps between client-side apply's
//! `kubectl.kubernetes.io/last-applied-configuration` annotation and server-side apply, for
//! the manager `kubectl` only (another `--field-manager` opts out):
//!
//! - switching an object from `kubectl apply` to `kubectl apply --server-side` does not
//!   conflict over fields the annotation lists and the live object still holds as listed
//!   (`lastAppliedManager`): the apply is retried with force when those are all the
//!   conflicts, and otherwise fails with the others only;
//! - after a server-side apply, an annotation already on the object is rewritten to the
//!   applied configuration, so a later client-side apply diffs against it
//!   (`lastAppliedUpdater`).

use serde_json::Value;

use super::fields::{compare, fields_of};
use super::fieldset::FieldSet;
use super::shape::check_lists;
use crate::model::patch::TypeSchema;

/// The annotation client-side apply keeps its last configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The only manager the bridge works for.
pub(crate) const KUBECTL: &str = "kubectl";

/// The most a set of annotations may hold (keys and values), as upstream validates.
const ANNOTATIONS_SIZE_LIMIT: usize = 256 * 1024;

/// The fields `live`'s last-applied annotation lists and `live` still holds with the same
/// value: conflicts over them are forgiven. `None` when there is no usable annotation.
pub(crate) fn fields_still_as_last_applied(live: &Value, api_version: &str, schema: &TypeSchema) -> Option<FieldSet> {
    let text = live.pointer("/metadata/annotations")?.get(LAST_APPLIED_ANNOTATION)?.as_str()?;
    let last_applied: Value = serde_json::from_str(text).ok()?;
    if !last_applied.is_object() || last_applied.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    check_lists(&last_applied, schema).ok()?;
    let differences = compare(Some(&last_applied), Some(live), schema);
    Some(
        fields_of(&last_applied, schema)
            .difference(&differences.modified)
            .difference(&differences.added)
            .difference(&differences.removed),
    )
}

/// Rewrites the last-applied annotation of `object`, if it has one, to `config` (without
/// that annotation), compact JSON with sorted keys. Upstream drops the annotation instead
/// when it would make the annotations too large.
pub(crate) fn sync_last_applied(object: &mut Value, config: &Value) {
    let Some(annotations) = object.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) else {
        return;
    };
    if annotations.get(LAST_APPLIED_ANNOTATION).and_then(Value::as_str).is_none_or(str::is_empty) {
        return;
    }
    let mut applied = config.clone();
    if let Some(applied_annotations) = applied.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
        applied_annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    annotations.insert(LAST_APPLIED_ANNOTATION.to_string(), Value::String(applied.to_string()));
    let size: usize = annotations.iter().map(|(k, v)| k.len() + v.as_str().map_or(0, str::len)).sum();
    if size > ANNOTATIONS_SIZE_LIMIT {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::patch::schema::POD;
    use serde_json::json;

    #[test]
    fn forgives_only_fields_still_as_last_applied() {
        let last =
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}});
        let live = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"a": "1", "b": "changed"},
                         "annotations": {LAST_APPLIED_ANNOTATION: last.to_string()}}
        });
        let allowed = fields_still_as_last_applied(&live, "v1", &POD).unwrap();
        assert_eq!(allowed.to_fields_v1_string(), r#"{"f:metadata":{"f:labels":{"f:a":{}}}}"#);
        assert_eq!(fields_still_as_last_applied(&live, "v2", &POD), None);
        assert_eq!(fields_still_as_last_applied(&json!({"metadata": {}}), "v1", &POD), None);
    }

    #[test]
    fn rewrites_an_existing_annotation_only() {
        let config = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {LAST_APPLIED_ANNOTATION: "x"}}});
        let mut with = json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: "{}", "other": "o"}}});
        sync_last_applied(&mut with, &config);
        assert_eq!(
            with["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"p"}}"#
        );
        let mut without = json!({"metadata": {"annotations": {"other": "o"}}});
        sync_last_applied(&mut without, &config);
        assert_eq!(without, json!({"metadata": {"annotations": {"other": "o"}}}));
    }
}
