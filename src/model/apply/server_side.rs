//! Server-side apply (`PATCH` with `application/apply-patch+yaml`), as structured-merge-diff
//! and the apiserver's field manager do it:
//!
//! 1. the configuration is merged into the live object (an empty one on create);
//! 2. fields the applier applied last time and no longer applies are removed, unless some
//!    manager (the configuration included) still owns them — a field whose contents nobody
//!    owns any more goes as a whole;
//! 3. every field whose value the result changes and that another manager owns is a
//!    conflict; with `force` it changes owner instead;
//! 4. fields the result lost leave every entry, and the applier's `Apply` entry becomes
//!    exactly the configuration's fields.
//!
//! Around that core, as upstream wraps it: an object without any entries first gets a
//! `before-first-apply` entry owning what it has; the manager `kubectl` crosses over from
//! client-side apply without conflicts ([`last_applied`]); and a write that changes nothing
//! keeps every entry's time.
//!
//! [`last_applied`]: super::last_applied

use serde_json::{Map, Value};

use super::conflict::{Conflict, ConflictingManager, Conflicts};
use super::fields::{all_fields_of, compare, without_server_owned};
use super::last_applied::{KUBECTL, fields_still_as_last_applied, sync_last_applied};
use super::managed::{ManagedFieldsEntry, Operation, Writer, finish, record_update, set_managed_fields};
use super::merge::{merge_config, remove_fields};
use super::shape::check_lists;
use crate::model::patch::TypeSchema;

/// The manager upstream gives the fields of an object that had no entries when it was
/// first applied to.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// Why an apply failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Other managers own fields the configuration changes (409).
    #[error(transparent)]
    Conflicts(#[from] Conflicts),
    /// The request is wrong in a way upstream answers 400 for.
    #[error("{0}")]
    BadRequest(String),
    /// The configuration does not fit the kind's schema (a list item without its key, a
    /// duplicate key). Upstream answers 500 with this message.
    #[error("{0}")]
    InvalidConfiguration(String),
}

impl ApplyError {
    /// The HTTP status upstream answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            ApplyError::Conflicts(_) => 409,
            ApplyError::BadRequest(_) => 400,
            ApplyError::InvalidConfiguration(_) => 500,
        }
    }
}

/// Applies `config` for `writer` to `live` (`None` when the object does not exist yet),
/// starting from the entries `managed` (the live object's). Returns the new object, with
/// `metadata.managedFields` set to the returned entries, or why it cannot be applied.
/// Defaulting and validation of the result are the caller's, as is everything `dryRun`
/// changes: this function stores nothing.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    managed: Vec<ManagedFieldsEntry>,
    writer: &Writer<'_>,
    force: bool,
    schema: &TypeSchema,
) -> Result<(Value, Vec<ManagedFieldsEntry>), ApplyError> {
    check_configuration(config, writer.api_version, schema)?;
    let live = live.filter(|live| !live.is_null());
    let starting = match live {
        Some(live) if managed.is_empty() => {
            let before = Writer { manager: BEFORE_FIRST_APPLY, subresource: None, ..*writer };
            record_update(None, live, Vec::new(), &before, schema)
        }
        _ => managed.clone(),
    };
    let outcome = match apply_once(live, config, starting.clone(), writer, force, schema) {
        Err(ApplyError::Conflicts(conflicts)) if writer.manager == KUBECTL => {
            match live.and_then(|live| fields_still_as_last_applied(live, writer.api_version, schema)) {
                Some(allowed) => {
                    let remaining: Vec<Conflict> =
                        conflicts.conflicts().iter().filter(|c| !allowed.contains(&c.path.0)).cloned().collect();
                    if remaining.is_empty() {
                        apply_once(live, config, starting, writer, true, schema)
                    } else {
                        Err(ApplyError::Conflicts(Conflicts::new(remaining)))
                    }
                }
                None => Err(ApplyError::Conflicts(conflicts)),
            }
        }
        other => other,
    };
    let (mut object, mut entries) = outcome?;
    if writer.manager == KUBECTL {
        sync_last_applied(&mut object, config);
    }
    if let Some(live) = live {
        keep_times_of_a_no_op(live, &object, &managed, &mut entries);
    }
    set_managed_fields(&mut object, &entries);
    Ok((object, entries))
}

/// Upstream's checks of an applied configuration, with its messages.
fn check_configuration(config: &Value, api_version: &str, schema: &TypeSchema) -> Result<(), ApplyError> {
    let Value::Object(object) = config else {
        return Err(ApplyError::BadRequest(format!(
            "error decoding YAML: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            go_kind(config)
        )));
    };
    if config.pointer("/metadata/managedFields").is_some_and(|v| !v.is_null()) {
        return Err(ApplyError::BadRequest("metadata.managedFields must be nil".to_string()));
    }
    let text = |name: &str| object.get(name).and_then(Value::as_str).unwrap_or_default();
    let config_version = text("apiVersion");
    if config_version != api_version {
        return Err(ApplyError::BadRequest(format!(
            "Incorrect version specified in apply patch. Specified patch version: {config_version}, expected: {api_version}"
        )));
    }
    check_lists(config, schema).map_err(|reason| {
        let meta = |name: &str| config.pointer(&format!("/metadata/{name}")).and_then(Value::as_str).unwrap_or_default();
        let group_version = if config_version.contains('/') { config_version.to_string() } else { format!("/{config_version}") };
        ApplyError::InvalidConfiguration(format!(
            "failed to create typed patch object ({}/{}; {group_version}, Kind={}): {reason}",
            meta("namespace"),
            meta("name"),
            text("kind"),
        ))
    })
}

fn go_kind(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null | Value::Object(_) => "object",
    }
}

/// The structured-merge-diff core: merge, prune, find conflicts, move ownership.
fn apply_once(
    live: Option<&Value>,
    config: &Value,
    managed: Vec<ManagedFieldsEntry>,
    writer: &Writer<'_>,
    force: bool,
    schema: &TypeSchema,
) -> Result<(Value, Vec<ManagedFieldsEntry>), ApplyError> {
    let empty = Value::Object(Map::new());
    let live = live.unwrap_or(&empty);
    let applied = all_fields_of(config, schema);
    let (previous, others): (Vec<_>, Vec<_>) = managed.into_iter().partition(|e| writer.owns(e, Operation::Apply));
    let previously_applied = previous.into_iter().next().map(|e| e.fields).unwrap_or_default();

    let mut object = merge_config(live, config, schema);
    let still_owned = others.iter().fold(applied.clone(), |owned, entry| owned.union(&entry.fields));
    let given_up = previously_applied.with_fields_as_members().difference(&still_owned.with_fields_as_members());
    remove_fields(&mut object, &given_up, schema);

    let comparison = compare(Some(live), Some(&object), schema);
    let changed = comparison.added.union(&comparison.modified);
    let mut conflicts = Vec::new();
    let mut entries = Vec::with_capacity(others.len() + 1);
    for mut entry in others {
        let contested = entry.fields.intersection(&changed);
        if !force {
            let manager = ConflictingManager::of(&entry);
            conflicts.extend(contested.paths().into_iter().map(|path| Conflict { manager: manager.clone(), path }));
        }
        entry.fields = entry.fields.difference(&contested).difference(&comparison.removed);
        entries.push(entry);
    }
    if !conflicts.is_empty() {
        return Err(ApplyError::Conflicts(Conflicts::new(conflicts)));
    }
    entries.push(writer.new_entry(Operation::Apply, without_server_owned(&applied)));
    Ok((object, finish(entries)))
}

/// A write that changes neither the object nor any entry's fields keeps every entry's
/// time (upstream's `IgnoreManagedFieldsTimestampsTransformer`), so it stores nothing new.
fn keep_times_of_a_no_op(live: &Value, object: &Value, before: &[ManagedFieldsEntry], after: &mut Vec<ManagedFieldsEntry>) {
    let without_times = |entries: &[ManagedFieldsEntry]| {
        let mut entries: Vec<_> = entries.iter().map(|e| ManagedFieldsEntry { time: None, ..e.clone() }).collect();
        entries.sort_by_cached_key(ManagedFieldsEntry::identifier);
        entries
    };
    if live == object && without_times(before) == without_times(after) {
        *after = finish(before.to_vec());
    }
}
