//! `metadata.managedFields`: who owns which fields. This module owns the entry type and its
//! JSON shape, reading entries the way the apiserver does (with its error wording), the
//! order it writes them in, which entries a write starts from, and the `Update` operation:
//! every create, update and non-apply patch records what its manager changed.
//!
//! Upstream's rules, reproduced here:
//! - an entry is identified by manager, operation, subresource and, for `Update` only, API
//!   version;
//! - an update takes every field it adds or changes, from whoever owned it; fields that
//!   disappear leave every entry; empty entries are dropped;
//! - an entry's `time` moves only when its manager took fields;
//! - at most ten `Update` entries are kept: the oldest are merged into `ancient-changes`;
//! - entries are sorted `Apply` first, then by time, manager, API version, subresource.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::fields::{compare, zero_object};
use super::fieldset::{FieldSet, FieldsV1Error};
use crate::model::patch::TypeSchema;

/// The operation an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update, or a patch that is not an apply.
    Update,
}

impl Operation {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One entry of `metadata.managedFields`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedFieldsEntry {
    /// The field manager (`kubectl`, `kubectl-client-side-apply`, ...).
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The API version the fields are named in.
    pub api_version: String,
    /// When the manager last took fields, RFC 3339 in UTC (`2024-05-01T10:00:00Z`); absent
    /// only in entries clients wrote.
    pub time: Option<String>,
    /// The fields owned.
    pub fields: FieldSet,
    /// The subresource written through (`status`), if any.
    pub subresource: Option<String>,
}

/// The manager of a write, and when it happens.
#[derive(Clone, Copy, Debug)]
pub struct Writer<'a> {
    /// The field manager (`fieldManager`, or the user agent's prefix upstream defaults to).
    pub manager: &'a str,
    /// The API version of the request.
    pub api_version: &'a str,
    /// The subresource written through, if any.
    pub subresource: Option<&'a str>,
    /// The time to record.
    pub now: Timestamp,
}

impl Writer<'_> {
    /// The `time` of the entries this write touches: RFC 3339, whole seconds, UTC, as
    /// `metav1.Time` marshals.
    pub fn time(&self) -> String {
        self.now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// True when `entry` is this writer's entry for `operation`.
    pub(crate) fn owns(&self, entry: &ManagedFieldsEntry, operation: Operation) -> bool {
        entry.manager == self.manager
            && entry.operation == operation
            && entry.subresource.as_deref() == self.subresource
            && (operation == Operation::Apply || entry.api_version == self.api_version)
    }

    pub(crate) fn new_entry(&self, operation: Operation, fields: FieldSet) -> ManagedFieldsEntry {
        ManagedFieldsEntry {
            manager: self.manager.to_string(),
            operation,
            api_version: self.api_version.to_string(),
            time: Some(self.time()),
            fields,
            subresource: self.subresource.map(str::to_string),
        }
    }
}

/// Why `metadata.managedFields` could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManagedFieldsError {
    /// Not a list of objects, or a field of the wrong JSON type.
    #[error("invalid managedFields: {0}")]
    Malformed(String),
    /// An operation other than `Apply` or `Update`.
    #[error("operation must be `Apply` or `Update`")]
    BadOperation,
    /// No `apiVersion`.
    #[error("apiVersion must not be empty")]
    NoApiVersion,
    /// No `fieldsType`.
    #[error("missing fieldsType in managed fields entry {0}")]
    NoFieldsType(usize),
    /// A `fieldsType` other than `FieldsV1`.
    #[error("invalid fieldsType {0:?} in managed fields entry {1}")]
    BadFieldsType(String, usize),
    /// `fieldsV1` that does not parse.
    #[error("error decoding versioned set from managed fields entry {0}: {1}")]
    BadFields(usize, FieldsV1Error),
}

impl ManagedFieldsEntry {
    /// The entry in the shape of `metadata.managedFields[]`.
    pub fn to_json(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("manager".to_string(), Value::String(self.manager.clone()));
        entry.insert("operation".to_string(), Value::String(self.operation.as_str().to_string()));
        entry.insert("apiVersion".to_string(), Value::String(self.api_version.clone()));
        if let Some(time) = &self.time {
            entry.insert("time".to_string(), Value::String(time.clone()));
        }
        entry.insert("fieldsType".to_string(), Value::String("FieldsV1".to_string()));
        entry.insert("fieldsV1".to_string(), self.fields.to_fields_v1());
        if let Some(subresource) = &self.subresource {
            entry.insert("subresource".to_string(), Value::String(subresource.clone()));
        }
        Value::Object(entry)
    }

    /// Reads entry number `index` of `metadata.managedFields`.
    pub fn from_json(value: &Value, index: usize) -> Result<Self, ManagedFieldsError> {
        let object = value.as_object().ok_or_else(|| ManagedFieldsError::Malformed(value.to_string()))?;
        let text = |name: &str| match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ManagedFieldsError::Malformed(format!("{name}: {other}"))),
        };
        let operation = match text("operation")?.as_deref() {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            _ => return Err(ManagedFieldsError::BadOperation),
        };
        let api_version = text("apiVersion")?.filter(|v| !v.is_empty()).ok_or(ManagedFieldsError::NoApiVersion)?;
        match text("fieldsType")?.as_deref() {
            Some("FieldsV1") => {}
            None | Some("") => return Err(ManagedFieldsError::NoFieldsType(index)),
            Some(other) => return Err(ManagedFieldsError::BadFieldsType(other.to_string(), index)),
        }
        let fields = match object.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(fields) => FieldSet::from_fields_v1(fields).map_err(|e| ManagedFieldsError::BadFields(index, e))?,
        };
        Ok(ManagedFieldsEntry {
            manager: text("manager")?.unwrap_or_default(),
            operation,
            api_version,
            time: text("time")?,
            fields,
            subresource: text("subresource")?.filter(|s| !s.is_empty()),
        })
    }

    /// Upstream's manager identifier: the entry's identity as JSON, with the API version
    /// only for `Update`. Conflict messages sort managers by it.
    pub fn identifier(&self) -> String {
        let mut out =
            format!(r#"{{"manager":{},"operation":"{}""#, Value::from(self.manager.as_str()), self.operation.as_str());
        if self.operation == Operation::Update && !self.api_version.is_empty() {
            out.push_str(&format!(r#","apiVersion":{}"#, Value::from(self.api_version.as_str())));
        }
        if let Some(subresource) = &self.subresource {
            out.push_str(&format!(r#","subresource":{}"#, Value::from(subresource.as_str())));
        }
        out.push('}');
        out
    }

    fn same_identity(&self, other: &ManagedFieldsEntry) -> bool {
        self.identifier() == other.identifier()
    }

    fn seconds(&self) -> i64 {
        self.time.as_deref().and_then(|t| t.parse::<Timestamp>().ok()).map_or(0, |t| t.as_second())
    }
}

/// Reads `metadata.managedFields` (absent or `null`: no entries). Entries with the same
/// identity collapse to the last, as upstream decodes them into a map.
pub fn decode_managed_fields(value: Option<&Value>) -> Result<Vec<ManagedFieldsEntry>, ManagedFieldsError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(ManagedFieldsError::Malformed(other.to_string())),
    };
    let mut entries: Vec<ManagedFieldsEntry> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let entry = ManagedFieldsEntry::from_json(item, index)?;
        entries.retain(|e| !e.same_identity(&entry));
        entries.push(entry);
    }
    Ok(entries)
}

/// The entries of `object`'s `metadata.managedFields`.
pub fn managed_fields_of(object: &Value) -> Result<Vec<ManagedFieldsEntry>, ManagedFieldsError> {
    decode_managed_fields(object.pointer("/metadata/managedFields"))
}

/// Writes `entries` into `object`'s `metadata.managedFields`, removing the field when there
/// are none (upstream stores `nil`).
pub fn set_managed_fields(object: &mut Value, entries: &[ManagedFieldsEntry]) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    if entries.is_empty() {
        metadata.remove("managedFields");
    } else {
        metadata.insert(
            "managedFields".to_string(),
            Value::Array(entries.iter().map(ManagedFieldsEntry::to_json).collect()),
        );
    }
}

/// The entries a create, update or patch starts from, as upstream chooses them: those the
/// request's object carries, so clients can rewrite ownership (`[]` or `[{}]` clears it);
/// the live object's when the request carries none or unreadable ones; always the live
/// object's through a subresource.
pub fn managed_fields_for_write(
    live: Option<&Value>,
    new: &Value,
    through_subresource: bool,
) -> Vec<ManagedFieldsEntry> {
    let from_live = || live.and_then(|live| managed_fields_of(live).ok()).unwrap_or_default();
    if through_subresource {
        return from_live();
    }
    match new.pointer("/metadata/managedFields") {
        Some(Value::Array(items)) if items.is_empty() => Vec::new(),
        Some(Value::Array(items)) if items.len() == 1 && items[0].as_object().is_some_and(Map::is_empty) => Vec::new(),
        requested => match decode_managed_fields(requested) {
            Ok(entries) if !entries.is_empty() => entries,
            _ => from_live(),
        },
    }
}

/// The `Update` operation: the entries after `writer` turned `live` (`None` on create) into
/// `new`, both objects of the type `schema` describes. `managed` is where the write starts
/// from ([`managed_fields_for_write`]); the result is sorted and capped as upstream stores it.
pub fn record_update(
    live: Option<&Value>,
    new: &Value,
    managed: Vec<ManagedFieldsEntry>,
    writer: &Writer<'_>,
    schema: &TypeSchema,
) -> Vec<ManagedFieldsEntry> {
    let zero = zero_object(schema);
    let live = live.filter(|live| !live.is_null()).unwrap_or(&zero);
    let comparison = compare(Some(live), Some(new), schema);
    let taken = comparison.added.union(&comparison.modified);

    let mut entries: Vec<ManagedFieldsEntry> = Vec::with_capacity(managed.len() + 1);
    let mut mine: Option<ManagedFieldsEntry> = None;
    for mut entry in managed {
        entry.fields = entry.fields.difference(&comparison.removed);
        if writer.owns(&entry, Operation::Update) {
            mine = Some(entry);
        } else {
            entry.fields = entry.fields.difference(&taken);
            entries.push(entry);
        }
    }
    match (mine, taken.is_empty()) {
        (Some(mut entry), false) => {
            entry.fields = entry.fields.union(&taken);
            entry.time = Some(writer.time());
            entries.push(entry);
        }
        (Some(entry), true) => entries.push(entry),
        (None, false) => entries.push(writer.new_entry(Operation::Update, taken)),
        (None, true) => {}
    }
    finish(cap_update_entries(entries, MAX_UPDATE_ENTRIES))
}

/// How many `Update` entries upstream keeps before merging the oldest.
pub const MAX_UPDATE_ENTRIES: usize = 10;

/// The manager the oldest `Update` entries are merged into.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

/// Upstream's cap: walking `Update` entries oldest first, the second and later entries of
/// an API version are merged into that version's `ancient-changes` entry (which the first
/// one becomes if there is none) until at most `max` remain.
fn cap_update_entries(entries: Vec<ManagedFieldsEntry>, max: usize) -> Vec<ManagedFieldsEntry> {
    let (mut updaters, mut kept): (Vec<_>, Vec<_>) =
        entries.into_iter().partition(|e| e.operation == Operation::Update);
    updaters.sort_by_cached_key(|entry| (entry.seconds(), entry.identifier()));
    let is_bucket = |entry: &ManagedFieldsEntry, version: &str| {
        entry.manager == ANCIENT_CHANGES && entry.api_version == version && entry.subresource.is_none()
    };
    let mut merged_away = vec![false; updaters.len()];
    let mut first_of_version: Vec<(String, usize)> = Vec::new();
    let mut remaining = updaters.len();
    for index in 0..updaters.len() {
        if remaining <= max {
            break;
        }
        let version = updaters[index].api_version.clone();
        let Some(first) = first_of_version.iter().find(|(v, _)| *v == version).map(|(_, first)| *first) else {
            first_of_version.push((version, index));
            continue;
        };
        let existing = (0..updaters.len()).find(|&j| !merged_away[j] && is_bucket(&updaters[j], &version));
        let bucket = existing.unwrap_or_else(|| {
            let entry = &mut updaters[first];
            entry.manager = ANCIENT_CHANGES.to_string();
            entry.subresource = None;
            first
        });
        if bucket == index {
            continue;
        }
        let merged = updaters[index].clone();
        updaters[bucket].fields = merged.fields.union(&updaters[bucket].fields);
        updaters[bucket].time = merged.time;
        merged_away[index] = true;
        remaining -= 1;
    }
    kept.extend(updaters.into_iter().zip(merged_away).filter(|(_, gone)| !gone).map(|(entry, _)| entry));
    kept
}

/// Drops empty entries and sorts the rest as upstream stores them.
pub(crate) fn finish(mut entries: Vec<ManagedFieldsEntry>) -> Vec<ManagedFieldsEntry> {
    entries.retain(|entry| !entry.fields.is_empty());
    entries.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| p.seconds().cmp(&q.seconds()))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::patch::schema::POD;
    use serde_json::json;

    fn writer(manager: &str, seconds: i64) -> Writer<'_> {
        Writer {
            manager,
            api_version: "v1",
            subresource: None,
            now: Timestamp::from_second(1_700_000_000 + seconds).unwrap(),
        }
    }

    fn as_json(entries: &[ManagedFieldsEntry]) -> Value {
        Value::Array(entries.iter().map(ManagedFieldsEntry::to_json).collect())
    }

    fn pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "web"}, "creationTimestamp": null},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}
        })
    }

    #[test]
    fn entries_round_trip_through_json() {
        let text = json!([
            {"manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": "2024-05-01T10:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}}},
            {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2024-05-01T10:00:05Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:phase": {}}}, "subresource": "status"}
        ]);
        let entries = decode_managed_fields(Some(&text)).unwrap();
        assert_eq!(entries[1].subresource.as_deref(), Some("status"));
        assert_eq!(as_json(&entries), text);
        assert_eq!(entries[0].identifier(), r#"{"manager":"kubectl","operation":"Apply"}"#);
        assert_eq!(
            entries[1].identifier(),
            r#"{"manager":"kubelet","operation":"Update","apiVersion":"v1","subresource":"status"}"#
        );
    }

    #[test]
    fn rejects_entries_upstream_rejects() {
        let entry = |patch: Value| {
            let mut base = json!({"manager": "m", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1"});
            for (k, v) in patch.as_object().unwrap() {
                base[k] = v.clone();
            }
            decode_managed_fields(Some(&json!([base]))).unwrap_err().to_string()
        };
        assert_eq!(entry(json!({"operation": "Patch"})), "operation must be `Apply` or `Update`");
        assert_eq!(entry(json!({"apiVersion": ""})), "apiVersion must not be empty");
        assert_eq!(entry(json!({"fieldsType": null})), "missing fieldsType in managed fields entry 0");
        assert_eq!(
            entry(json!({"fieldsType": "FieldsV2"})),
            "invalid fieldsType \"FieldsV2\" in managed fields entry 0"
        );
        assert!(entry(json!({"fieldsV1": {"f:a": 1}})).starts_with("error decoding versioned set"));
    }

    /// A create owns every field of the new object, with upstream's `.` markers: the
    /// label map is new, `spec` and `containers` existed (empty) in the zero object.
    #[test]
    fn update_on_create_owns_everything() {
        let entries = record_update(None, &pod(), Vec::new(), &writer("kubectl-client-side-apply", 0), &POD);
        assert_eq!(
            as_json(&entries),
            json!([{
                "manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
                "time": "2023-11-14T22:13:20Z", "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                            ".": {}, "f:containerPort": {}, "f:protocol": {}}}}}}
                }
            }])
        );
    }

    /// A second manager changing a label takes it; one removing a label takes it from all.
    #[test]
    fn update_moves_changed_fields_and_drops_removed_ones() {
        let creator = writer("kubectl-create", 0);
        let live = pod();
        let created = record_update(None, &live, Vec::new(), &creator, &POD);

        let mut relabelled = live.clone();
        relabelled["metadata"]["labels"] = json!({"app": "api", "tier": "fe"});
        let labeller = writer("kubectl-label", 60);
        let entries = record_update(Some(&live), &relabelled, created.clone(), &labeller, &POD);
        let labels_of = |entries: &[ManagedFieldsEntry], manager: &str| {
            let entry = entries.iter().find(|e| e.manager == manager).unwrap();
            (entry.fields.to_fields_v1()["f:metadata"].clone(), entry.time.clone().unwrap())
        };
        assert_eq!(
            labels_of(&entries, "kubectl-create"),
            (json!({"f:labels": {}}), "2023-11-14T22:13:20Z".to_string())
        );
        assert_eq!(
            labels_of(&entries, "kubectl-label"),
            (json!({"f:labels": {"f:app": {}, "f:tier": {}}}), "2023-11-14T22:14:20Z".to_string())
        );
        assert_eq!(entries.iter().map(|e| e.manager.as_str()).collect::<Vec<_>>(), ["kubectl-create", "kubectl-label"]);

        // Removing every label: the fields leave both entries, and the labeller, left with
        // nothing, is dropped.
        let mut unlabelled = relabelled.clone();
        unlabelled["metadata"].as_object_mut().unwrap().remove("labels");
        let entries = record_update(Some(&relabelled), &unlabelled, entries, &writer("kubectl-edit", 120), &POD);
        assert_eq!(entries.iter().map(|e| e.manager.as_str()).collect::<Vec<_>>(), ["kubectl-create"]);
        assert_eq!(entries[0].fields.to_fields_v1().get("f:metadata"), None);

        // An update that changes nothing records nothing and moves no time.
        assert_eq!(record_update(Some(&unlabelled), &unlabelled, entries.clone(), &writer("x", 999), &POD), entries);
    }

    #[test]
    fn chooses_the_entries_a_write_starts_from() {
        let entry = json!({"manager": "a", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}});
        let live = json!({"metadata": {"managedFields": [entry]}});
        let supplied = json!({"manager": "b", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:x": {}}});
        let managers = |new: Value, subresource: bool| {
            managed_fields_for_write(Some(&live), &new, subresource)
                .iter()
                .map(|e| e.manager.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(managers(json!({"metadata": {}}), false), ["a"]);
        assert_eq!(managers(json!({"metadata": {"managedFields": [supplied.clone()]}}), false), ["b"]);
        assert_eq!(managers(json!({"metadata": {"managedFields": [supplied]}}), true), ["a"]);
        assert_eq!(managers(json!({"metadata": {"managedFields": []}}), false), Vec::<String>::new());
        assert_eq!(managers(json!({"metadata": {"managedFields": [{}]}}), false), Vec::<String>::new());
        assert_eq!(managers(json!({"metadata": {"managedFields": [{"operation": "Nope"}]}}), false), ["a"]);
    }

    #[test]
    fn caps_update_entries_into_ancient_changes() {
        let entries: Vec<ManagedFieldsEntry> = (0..12)
            .map(|i| {
                let fields = FieldSet::from_fields_v1(&json!({format!("f:f{i:02}"): {}})).unwrap();
                writer(&format!("m{i:02}"), i).new_entry(Operation::Update, fields)
            })
            .collect();
        let capped = finish(cap_update_entries(entries, MAX_UPDATE_ENTRIES));
        let summary: Vec<(String, String)> =
            capped.iter().map(|e| (e.manager.clone(), e.fields.to_fields_v1_string())).collect();
        assert_eq!(capped.len(), 10);
        assert_eq!(summary[0], ("ancient-changes".to_string(), r#"{"f:f00":{},"f:f01":{},"f:f02":{}}"#.to_string()));
        assert_eq!(capped[0].time.as_deref(), Some("2023-11-14T22:13:22Z"));
        assert_eq!(summary[1].0, "m03");
    }

    #[test]
    fn sets_and_clears_the_metadata_field() {
        let mut object = json!({"metadata": {"name": "x"}});
        let entry = writer("m", 0).new_entry(Operation::Apply, FieldSet::from_fields_v1(&json!({"f:a": {}})).unwrap());
        set_managed_fields(&mut object, std::slice::from_ref(&entry));
        assert_eq!(managed_fields_of(&object).unwrap(), vec![entry]);
        set_managed_fields(&mut object, &[]);
        assert_eq!(object, json!({"metadata": {"name": "x"}}));
    }
}
