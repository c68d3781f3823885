//! Field-level validation errors and the checks every object shares (`metadata`). The
//! per-kind rules are in [`crate::model::rules`]. Messages follow upstream's
//! `field.ErrorList` wording: `metadata.name: Invalid value: "X": ...`.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::model::meta::ObjectMeta;
use crate::model::names::{self, NameRule};

/// One validation failure, about one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Upstream cause reason: `FieldValueInvalid`, `FieldValueRequired`, ...
    pub reason: &'static str,
    /// The message, without the field path.
    pub message: String,
    /// The field path, such as `spec.containers[0].image`.
    pub field: String,
}

impl FieldError {
    /// `Invalid value: <value>: <detail>`.
    pub fn invalid(field: impl Into<String>, value: &Value, detail: impl AsRef<str>) -> Self {
        let shown = match value {
            Value::String(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        Self {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {shown}: {}", detail.as_ref()),
            field: field.into(),
        }
    }

    /// `Required value[: detail]`.
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        let message =
            if detail.is_empty() { "Required value".to_string() } else { format!("Required value: {detail}") };
        Self { reason: "FieldValueRequired", message, field: field.into() }
    }

    /// `Forbidden: <detail>`.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        Self { reason: "FieldValueForbidden", message: format!("Forbidden: {detail}"), field: field.into() }
    }

    /// `Duplicate value: <value>`.
    pub fn duplicate(field: impl Into<String>, value: &Value) -> Self {
        Self { reason: "FieldValueDuplicate", message: format!("Duplicate value: {value}"), field: field.into() }
    }

    /// `Unsupported value: <value>: supported values: "a", "b"`.
    pub fn unsupported(field: impl Into<String>, value: &Value, supported: &[&str]) -> Self {
        let list = supported.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
        Self {
            reason: "FieldValueNotSupported",
            message: format!("Unsupported value: {value}: supported values: {list}"),
            field: field.into(),
        }
    }

    /// `Too long: may not be more than <max> bytes`.
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self {
            reason: "FieldValueTooLong",
            message: format!("Too long: may not be more than {max} bytes"),
            field: field.into(),
        }
    }

    /// The error as upstream prints it: `field: message`.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// The most bytes all annotations of one object may take, as upstream.
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// Validates `metadata`: the name (by `rule`), labels and annotations.
pub fn validate_meta(meta: &ObjectMeta, rule: NameRule) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match meta.name.as_deref() {
        None | Some("") => {
            if meta.generate_name.as_deref().unwrap_or("").is_empty() {
                errors.push(FieldError::required("metadata.name", "name or generateName is required"));
            }
        }
        Some(name) => {
            if let Err(problems) = rule.check(name) {
                errors
                    .extend(problems.into_iter().map(|p| FieldError::invalid("metadata.name", &Value::from(name), p)));
            }
        }
    }
    errors.extend(validate_labels(meta.labels.as_ref(), "metadata.labels"));
    if let Some(annotations) = &meta.annotations {
        let mut total = 0;
        for (key, value) in annotations {
            total += key.len() + value.len();
            for problem in names::qualified_name(key) {
                errors.push(FieldError::invalid("metadata.annotations", &Value::from(key.as_str()), problem));
            }
        }
        if total > ANNOTATIONS_MAX_BYTES {
            errors.push(FieldError::too_long("metadata.annotations", ANNOTATIONS_MAX_BYTES));
        }
    }
    errors
}

/// Validates a label map found at `path`.
pub fn validate_labels(labels: Option<&BTreeMap<String, String>>, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in labels.into_iter().flatten() {
        for problem in names::qualified_name(key) {
            errors.push(FieldError::invalid(path, &Value::from(key.as_str()), problem));
        }
        for problem in names::label_value(value) {
            errors.push(FieldError::invalid(path, &Value::from(value.as_str()), problem));
        }
    }
    errors
}

/// Errors for names that must be unique within a list (container names, volume names...).
pub fn unique_names<'a>(names: impl IntoIterator<Item = (usize, &'a str)>, path: &str, field: &str) -> Vec<FieldError> {
    let mut seen = HashSet::new();
    names
        .into_iter()
        .filter(|(_, name)| !seen.insert(*name))
        .map(|(i, name)| FieldError::duplicate(format!("{path}[{i}].{field}"), &Value::from(name)))
        .collect()
}

/// Errors for a key of a ConfigMap or Secret (`[-._a-zA-Z0-9]+`, at most 253 characters).
pub fn config_key(key: &str, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        errors.push(FieldError::invalid(
            path,
            &Value::from(key),
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ));
    }
    if key == "." || key == ".." {
        errors.push(FieldError::invalid(path, &Value::from(key), "must not be '.' or '..'"));
    }
    if key.len() > names::DNS1123_SUBDOMAIN_MAX {
        errors.push(FieldError::too_long(path, names::DNS1123_SUBDOMAIN_MAX));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(json: Value) -> ObjectMeta {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn names_labels_and_annotations() {
        assert!(validate_meta(&meta(serde_json::json!({"name": "web"})), NameRule::Dns1123Subdomain).is_empty());
        assert!(
            validate_meta(&meta(serde_json::json!({"generateName": "web-"})), NameRule::Dns1123Subdomain).is_empty()
        );
        let missing = validate_meta(&meta(serde_json::json!({})), NameRule::Dns1123Subdomain);
        assert_eq!(missing[0].summary(), "metadata.name: Required value: name or generateName is required");
        let bad = validate_meta(&meta(serde_json::json!({"name": "Bad;Name"})), NameRule::Dns1123Subdomain);
        assert!(
            bad[0].summary().starts_with("metadata.name: Invalid value: \"Bad;Name\": a lowercase RFC 1123 subdomain")
        );
        let labels = validate_meta(
            &meta(serde_json::json!({"name": "a", "labels": {"ok": "bad value"}})),
            NameRule::Dns1123Label,
        );
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].field, "metadata.labels");
        let big = "x".repeat(ANNOTATIONS_MAX_BYTES);
        let annotations =
            validate_meta(&meta(serde_json::json!({"name": "a", "annotations": {"a": big}})), NameRule::Dns1123Label);
        assert_eq!(annotations[0].reason, "FieldValueTooLong");
    }

    #[test]
    fn config_keys() {
        assert!(config_key("app.properties", "data").is_empty());
        assert!(!config_key("a/b", "data").is_empty());
        assert!(!config_key("..", "data").is_empty());
    }
}
