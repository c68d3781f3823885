//! The three Kubernetes PATCH formats as pure functions: JSON patch (RFC 6902), JSON merge
//! patch (RFC 7386) and strategic merge patch, plus the patch metadata of the built-in types
//! ([`schema`]). This module owns choosing the format from the `Content-Type` and the error
//! type; [`json`] owns the two RFC formats and [`strategic`] the strategic one. Server-side
//! apply (`application/apply-patch+yaml`) is not here. Nothing here does IO or reads a clock,
//! and nothing here validates the result: the caller still checks that the patched object
//! keeps its kind, name and namespace, and validates it like an update.

pub mod json;
pub mod schema;
pub mod strategic;

use serde_json::Value;

pub use schema::{FieldSchema, ListSchema, ListType, PatchStrategy, TypeSchema, schema_for};
pub use strategic::strategic_merge;

/// A PATCH body format, chosen by the request's `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PatchKind {
    /// `application/json-patch+json`: RFC 6902 operations.
    Json,
    /// `application/merge-patch+json`: RFC 7386 merge patch.
    Merge,
    /// `application/strategic-merge-patch+json`: Kubernetes strategic merge patch.
    Strategic,
}

impl PatchKind {
    /// The three formats, in the order upstream lists them.
    pub const ALL: [PatchKind; 3] = [PatchKind::Json, PatchKind::Merge, PatchKind::Strategic];

    /// The format named by a `Content-Type` header value. Parameters (`; charset=utf-8`)
    /// and case are ignored. `None` for anything else, including server-side apply's
    /// `application/apply-patch+yaml`, which the caller handles separately.
    pub fn from_content_type(content_type: &str) -> Option<PatchKind> {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        PatchKind::ALL.into_iter().find(|kind| kind.content_type().eq_ignore_ascii_case(media_type))
    }

    /// The media type of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchKind::Json => "application/json-patch+json",
            PatchKind::Merge => "application/merge-patch+json",
            PatchKind::Strategic => "application/strategic-merge-patch+json",
        }
    }
}

/// Applies a PATCH body of the given format to `original` and returns the patched object.
/// `schema` is the patch metadata of the object's kind ([`schema_for`]); a strategic merge
/// patch without one fails with [`PatchError::StrategicUnsupported`], as upstream answers
/// for custom resources.
pub fn apply_patch(
    kind: PatchKind,
    original: &Value,
    patch_body: &[u8],
    schema: Option<&TypeSchema>,
) -> Result<Value, PatchError> {
    match kind {
        PatchKind::Json => json::apply_json_patch(original, patch_body),
        PatchKind::Merge => json::apply_merge_patch(original, patch_body),
        PatchKind::Strategic => {
            let schema = schema.ok_or(PatchError::StrategicUnsupported)?;
            let patch: Value =
                serde_json::from_slice(patch_body).map_err(|e| PatchError::InvalidJson(e.to_string()))?;
            strategic_merge(original, &patch, schema)
        }
    }
}

/// Why a patch could not be applied. Messages follow upstream's wording (the apiserver, the
/// `strategicpatch` and `mergepatch` packages, and `evanphx/json-patch`) where it is known,
/// because they reach users as the `message` of a `Status`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The body is not JSON, or not JSON of the shape the format needs.
    #[error("{0}")]
    InvalidJson(String),
    /// A merge-patch body that is not a JSON object.
    #[error("Invalid JSON Patch")]
    InvalidMergePatch,
    /// A JSON patch with more operations than the apiserver accepts (413; upstream's `Status`
    /// message prefixes this text with `Request entity too large: `).
    #[error("The allowed maximum operations in a JSON patch is {max}, got {count}")]
    TooManyOperations {
        /// The limit (10000).
        max: usize,
        /// The operations in the body.
        count: usize,
    },
    /// A JSON patch operation that is unknown, malformed, or does not apply to the object.
    #[error("{0}")]
    JsonPatch(String),
    /// A strategic merge patch for a kind without patch metadata.
    #[error(
        "the body of the request was in an unknown format - accepted media types include: \
         application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )]
    StrategicUnsupported,
    /// `$deleteFromPrimitiveList` is malformed.
    #[error("invalid patch format of primitive list")]
    BadPrimitiveListFormat,
    /// `$retainKeys` is not a list, or the patch sets a key that is not in it.
    #[error("invalid patch format of retainKeys")]
    BadRetainKeysFormat,
    /// A `$setElementOrder` key is malformed.
    #[error("invalid patch type of setElementOrder list")]
    BadSetElementOrderFormat,
    /// A list whose elements are lists.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// `$patch` with a value other than `replace`, `delete` or `merge`.
    #[error("unknown patch type: {directive} in map: {map}")]
    UnknownPatchType {
        /// The directive's value.
        directive: String,
        /// The map that carried it, printed as Go prints it.
        map: String,
    },
    /// `$patch: merge` as an element of a list.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// An element of a list merged by key lacks the key.
    #[error("map: {map} does not contain declared merge key: {key}")]
    MissingMergeKey {
        /// The element, printed as Go prints it.
        map: String,
        /// The merge key.
        key: String,
    },
    /// The patch's list is not in the relative order of its `$setElementOrder` list.
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n")]
    SetElementOrderMismatch {
        /// The patch's list, printed as Go prints it.
        patch: String,
        /// The `$setElementOrder` list, printed as Go prints it.
        order: String,
    },
    /// A value of the wrong JSON type where the format needs a list or a map.
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        /// The Go type wanted.
        expected: &'static str,
        /// The Go type found.
        actual: &'static str,
    },
    /// A list whose elements are of different JSON types.
    #[error("list element types are not identical: {0}")]
    MixedElementTypes(String),
    /// A merged list of objects without a merge key in the schema.
    #[error("cannot merge lists without merge key for {0}")]
    NoMergeKey(String),
    /// `$setElementOrder/<field>` names a field that is not a list of the type.
    #[error("unable to find api field in struct {type_name} for the json field {field:?}")]
    FieldNotFound {
        /// The Go type name.
        type_name: &'static str,
        /// The JSON field name.
        field: String,
    },
    /// A `$`-prefixed key that is not a strategic-merge-patch directive.
    #[error("unknown strategic merge patch directive {0:?}")]
    UnknownDirective(String),
}

impl PatchError {
    /// The HTTP status upstream answers with. Where upstream does not classify the error and
    /// so answers 500, this says 400: the fault is the request's.
    pub fn http_status(&self) -> u16 {
        match self {
            PatchError::TooManyOperations { .. } => 413,
            PatchError::StrategicUnsupported => 415,
            PatchError::JsonPatch(_) | PatchError::ListOfLists => 422,
            PatchError::InvalidJson(_)
            | PatchError::InvalidMergePatch
            | PatchError::BadPrimitiveListFormat
            | PatchError::BadRetainKeysFormat
            | PatchError::BadSetElementOrderFormat
            | PatchError::UnknownPatchType { .. }
            | PatchError::MergeDirectiveInList
            | PatchError::MissingMergeKey { .. }
            | PatchError::SetElementOrderMismatch { .. }
            | PatchError::BadArgType { .. }
            | PatchError::MixedElementTypes(_)
            | PatchError::NoMergeKey(_)
            | PatchError::FieldNotFound { .. }
            | PatchError::UnknownDirective(_) => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_types_choose_the_format() {
        let cases = [
            ("application/json-patch+json", Some(PatchKind::Json)),
            ("application/merge-patch+json", Some(PatchKind::Merge)),
            ("application/strategic-merge-patch+json", Some(PatchKind::Strategic)),
            ("application/merge-patch+json; charset=utf-8", Some(PatchKind::Merge)),
            ("Application/Strategic-Merge-Patch+JSON", Some(PatchKind::Strategic)),
            (" application/json-patch+json ", Some(PatchKind::Json)),
            ("application/apply-patch+yaml", None),
            ("application/json", None),
            ("", None),
        ];
        for (content_type, expected) in cases {
            assert_eq!(PatchKind::from_content_type(content_type), expected, "{content_type:?}");
        }
        for kind in PatchKind::ALL {
            assert_eq!(PatchKind::from_content_type(kind.content_type()), Some(kind));
        }
    }

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}, {"name": "sidecar", "image": "busybox"}]}
        })
    }

    /// The same intent in the three formats, through the one entry point.
    #[test]
    fn applies_each_format() {
        let pod_schema = schema_for("v1", "Pod");
        let cases: [(PatchKind, &str, Value); 3] = [
            (
                PatchKind::Json,
                r#"[{"op":"add","path":"/metadata/labels/p3","value":"q"}]"#,
                json!({"app": "web", "p3": "q"}),
            ),
            (PatchKind::Merge, r#"{"metadata":{"labels":{"app":null,"l":"m"}}}"#, json!({"l": "m"})),
            (PatchKind::Strategic, r#"{"metadata":{"labels":{"tier":"fe"}}}"#, json!({"app": "web", "tier": "fe"})),
        ];
        for (kind, body, labels) in cases {
            let patched = apply_patch(kind, &pod(), body.as_bytes(), pod_schema).unwrap();
            assert_eq!(patched["metadata"]["labels"], labels, "{kind:?}");
            assert_eq!(patched["spec"], pod()["spec"], "{kind:?}");
        }
    }

    /// A merge patch replaces lists; a strategic one merges containers by name.
    #[test]
    fn strategic_and_merge_differ_on_lists() {
        let body = br#"{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}"#;
        let merged = apply_patch(PatchKind::Merge, &pod(), body, None).unwrap();
        assert_eq!(merged["spec"]["containers"], json!([{"name": "nginx", "image": "nginx:1.28"}]));
        let strategic = apply_patch(PatchKind::Strategic, &pod(), body, schema_for("v1", "Pod")).unwrap();
        assert_eq!(
            strategic["spec"]["containers"],
            json!([{"name": "nginx", "image": "nginx:1.28"}, {"name": "sidecar", "image": "busybox"}])
        );
    }

    #[test]
    fn errors_carry_upstream_status_codes() {
        let pod_schema = schema_for("v1", "Pod");
        type Case<'a> = (PatchKind, &'a [u8], Option<&'a TypeSchema>, u16, &'a str);
        let cases: [Case; 6] = [
            (
                PatchKind::Strategic,
                br#"{"metadata":{}}"#,
                None,
                415,
                "the body of the request was in an unknown format - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            ),
            (PatchKind::Strategic, b"{not json", pod_schema, 400, "key must be a string at line 1 column 2"),
            (
                PatchKind::Strategic,
                b"[]",
                pod_schema,
                400,
                "json: cannot unmarshal array into Go value of type map[string]interface {}",
            ),
            (PatchKind::Merge, b"nope", None, 400, "Invalid JSON Patch"),
            (PatchKind::Json, br#"[{"op":"bad","path":"/a"}]"#, None, 422, "Unexpected kind: bad"),
            (
                PatchKind::Strategic,
                br#"{"spec":{"containers":[{"image":"x"}]}}"#,
                pod_schema,
                400,
                "map: map[image:x] does not contain declared merge key: name",
            ),
        ];
        for (kind, body, schema, status, message) in cases {
            let err = apply_patch(kind, &pod(), body, schema).unwrap_err();
            assert_eq!((err.http_status(), err.to_string().as_str()), (status, message), "{kind:?}");
        }
    }
}
