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
use super::element::PathElement;
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
        let meta =
            |name: &str| config.pointer(&format!("/metadata/{name}")).and_then(Value::as_str).unwrap_or_default();
        let group_version =
            if config_version.contains('/') { config_version.to_string() } else { format!("/{config_version}") };
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
    let mut still_owned = others.iter().fold(applied.clone(), |owned, entry| owned.union(&entry.fields));
    // `metadata` is never given up as a whole, even by a configuration without it.
    still_owned.insert(&[PathElement::field("metadata")]);
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
fn keep_times_of_a_no_op(
    live: &Value,
    object: &Value,
    before: &[ManagedFieldsEntry],
    after: &mut Vec<ManagedFieldsEntry>,
) {
    let without_times = |entries: &[ManagedFieldsEntry]| {
        let mut entries: Vec<_> = entries.iter().map(|e| ManagedFieldsEntry { time: None, ..e.clone() }).collect();
        entries.sort_by_cached_key(ManagedFieldsEntry::identifier);
        entries
    };
    if live == object && without_times(before) == without_times(after) {
        *after = finish(before.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::apply::last_applied::LAST_APPLIED_ANNOTATION;
    use crate::model::apply::managed::managed_fields_of;
    use crate::model::patch::schema::POD;
    use jiff::Timestamp;
    use serde_json::json;

    fn writer(manager: &str, seconds: i64) -> Writer<'_> {
        Writer {
            manager,
            api_version: "v1",
            subresource: None,
            now: Timestamp::from_second(1_700_000_000 + seconds).unwrap(),
        }
    }

    /// `kubectl apply --server-side` of an nginx pod, with `changes` merged over it.
    fn pod_config(changes: Value) -> Value {
        let mut config = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}
        });
        merge_json(&mut config, changes);
        config
    }

    fn merge_json(target: &mut Value, changes: Value) {
        match (target, changes) {
            (Value::Object(target), Value::Object(changes)) => {
                for (key, value) in changes {
                    match target.get_mut(&key) {
                        Some(existing) if value.is_object() => merge_json(existing, value),
                        _ => {
                            target.insert(key, value);
                        }
                    }
                }
            }
            (target, changes) => *target = changes,
        }
    }

    fn image(object: &Value) -> &Value {
        &object["spec"]["containers"][0]["image"]
    }

    /// The entries as `manager operation time fieldsV1`, one string each.
    fn summary(entries: &[ManagedFieldsEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                let time = e.time.as_deref().unwrap_or("-");
                format!("{} {} {} {}", e.manager, e.operation.as_str(), &time[11..19], e.fields.to_fields_v1_string())
            })
            .collect()
    }

    const NGINX_APPLIED: &str = concat!(
        r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"#,
        r#""f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}"#
    );

    /// Create, re-apply, a client-side apply taking the image, a conflicting apply, and
    /// the forced one.
    #[test]
    fn apply_lifecycle_with_a_conflict_and_force() {
        let kubectl = |seconds| writer("kubectl", seconds);

        // Created: the object is the configuration; kubectl owns exactly what it applied.
        let config = pod_config(json!({}));
        let (created, entries) = apply(None, &config, Vec::new(), &kubectl(0), false, &POD).unwrap();
        assert_eq!(summary(&entries), [format!("kubectl Apply 22:13:20 {NGINX_APPLIED}")]);
        let mut expected = config.clone();
        expected["metadata"]["managedFields"] = json!([{
            "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": "2023-11-14T22:13:20Z",
            "fieldsType": "FieldsV1", "fieldsV1": serde_json::from_str::<Value>(NGINX_APPLIED).unwrap()
        }]);
        assert_eq!(created, expected);
        assert_eq!(managed_fields_of(&created).unwrap(), entries);

        // Re-applied with a new image by the same manager: no conflict.
        let config = pod_config(
            json!({"spec": {"containers": [{"name": "nginx", "image": "nginx:1.28", "ports": [{"containerPort": 80}]}]}}),
        );
        let (updated, entries) = apply(Some(&created), &config, entries, &kubectl(10), false, &POD).unwrap();
        assert_eq!(image(&updated), "nginx:1.28");
        assert_eq!(summary(&entries), [format!("kubectl Apply 22:13:30 {NGINX_APPLIED}")]);

        // Client-side apply (an Update) sets another image and takes the field.
        let mut edited = updated.clone();
        edited["spec"]["containers"][0]["image"] = json!("nginx:1.29");
        let entries = record_update(Some(&updated), &edited, entries, &writer("kubectl-client-side-apply", 20), &POD);
        set_managed_fields(&mut edited, &entries);
        assert_eq!(
            summary(&entries),
            [
                concat!(
                    r#"kubectl Apply 22:13:30 {"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"#,
                    r#""f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}"#
                ),
                r#"kubectl-client-side-apply Update 22:13:40 {"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{"f:image":{}}}}}"#,
            ]
        );

        // Applying the old image again conflicts with the client-side apply.
        let error = apply(Some(&edited), &config, entries.clone(), &kubectl(30), false, &POD).unwrap_err();
        assert_eq!(error.http_status(), 409);
        let ApplyError::Conflicts(conflicts) = error else { panic!("{error:?}") };
        assert_eq!(
            conflicts.to_status(),
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"Conflict","code":409,
                   "message":"Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .spec.containers[name=\"nginx\"].image",
                   "details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-client-side-apply\" using v1","field":".spec.containers[name=\"nginx\"].image"}]}})
        );

        // Forced: the image is set and changes owner; the emptied entry goes.
        let (forced, entries) = apply(Some(&edited), &config, entries, &kubectl(40), true, &POD).unwrap();
        assert_eq!(image(&forced), "nginx:1.28");
        assert_eq!(summary(&entries), [format!("kubectl Apply 22:14:00 {NGINX_APPLIED}")]);
    }

    /// A second applier setting the same values shares them; setting others conflicts,
    /// and the message lists the fields by manager.
    #[test]
    fn appliers_share_equal_values_and_conflict_on_different_ones() {
        let (object, entries) =
            apply(None, &pod_config(json!({})), Vec::new(), &writer("alice", 0), false, &POD).unwrap();
        let same = pod_config(json!({}));
        let (shared, entries) = apply(Some(&object), &same, entries, &writer("bob", 10), false, &POD).unwrap();
        assert_eq!(
            summary(&entries),
            [format!("alice Apply 22:13:20 {NGINX_APPLIED}"), format!("bob Apply 22:13:30 {NGINX_APPLIED}")]
        );

        let different = pod_config(json!({
            "metadata": {"labels": {"app": "api"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.28", "ports": [{"containerPort": 80}]}]}
        }));
        let error = apply(Some(&shared), &different, entries, &writer("carol", 20), false, &POD).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Apply failed with 4 conflicts: conflicts with \"alice\":\n\
             - .metadata.labels.app\n\
             - .spec.containers[name=\"nginx\"].image\n\
             conflicts with \"bob\":\n\
             - .metadata.labels.app\n\
             - .spec.containers[name=\"nginx\"].image"
        );
    }

    #[test]
    fn removes_what_only_the_applier_owned_and_keeps_what_others_own() {
        let two_ports = json!({"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
            "ports": [{"containerPort": 80}, {"containerPort": 443}]}]}});
        let config = pod_config(json!({"metadata": {"labels": {"app": "web", "tier": "fe", "team": "a"}}}));
        let mut config_two_ports = config.clone();
        merge_json(&mut config_two_ports, two_ports);
        let (object, entries) = apply(None, &config_two_ports, Vec::new(), &writer("alice", 0), false, &POD).unwrap();
        // Bob applies `tier` with the same value; the labeller (an Update) sets `team` again.
        let bob = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "labels": {"tier": "fe"}}});
        let (object, entries) = apply(Some(&object), &bob, entries, &writer("bob", 10), false, &POD).unwrap();
        let mut relabelled = object.clone();
        relabelled["metadata"]["labels"]["team"] = json!("b");
        let entries = record_update(Some(&object), &relabelled, entries, &writer("kubectl-label", 20), &POD);

        // Alice drops port 443 and every label but `app`.
        let (object, entries) =
            apply(Some(&relabelled), &pod_config(json!({})), entries, &writer("alice", 30), false, &POD).unwrap();
        assert_eq!(object["metadata"]["labels"], json!({"app": "web", "tier": "fe", "team": "b"}));
        assert_eq!(object["spec"]["containers"][0]["ports"], json!([{"containerPort": 80}]));
        assert_eq!(
            summary(&entries),
            [
                r#"bob Apply 22:13:30 {"f:metadata":{"f:labels":{"f:tier":{}}}}"#.to_string(),
                format!("alice Apply 22:13:50 {NGINX_APPLIED}"),
                r#"kubectl-label Update 22:13:40 {"f:metadata":{"f:labels":{"f:team":{}}}}"#.to_string(),
            ]
        );

        // Without any port, the `ports` field, which nobody else owns, goes as a whole.
        let no_ports = pod_config(json!({"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}));
        let (object, _) = apply(Some(&object), &no_ports, entries, &writer("alice", 40), false, &POD).unwrap();
        assert_eq!(object["spec"]["containers"], json!([{"name": "nginx", "image": "nginx:1.27"}]));
    }

    #[test]
    fn sets_unite_and_atomic_lists_replace() {
        let with = |changes: Value| {
            let mut config = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx"}});
            merge_json(&mut config, changes);
            config
        };
        let a = with(
            json!({"metadata": {"finalizers": ["example.com/a"]}, "spec": {"tolerations": [{"key": "a", "operator": "Exists"}]}}),
        );
        let (object, entries) = apply(None, &a, Vec::new(), &writer("alice", 0), false, &POD).unwrap();
        let b = with(json!({"metadata": {"finalizers": ["example.com/b"]}}));
        let (object, entries) = apply(Some(&object), &b, entries, &writer("bob", 10), false, &POD).unwrap();
        assert_eq!(object["metadata"]["finalizers"], json!(["example.com/a", "example.com/b"]));
        assert_eq!(
            summary(&entries),
            [
                r#"alice Apply 22:13:20 {"f:metadata":{"f:finalizers":{"v:\"example.com/a\"":{}}},"f:spec":{"f:tolerations":{}}}"#,
                r#"bob Apply 22:13:30 {"f:metadata":{"f:finalizers":{"v:\"example.com/b\"":{}}}}"#,
            ]
        );

        // An atomic list is one field: Bob's different tolerations conflict, and forcing
        // replaces the list whole.
        let b = with(
            json!({"metadata": {"finalizers": ["example.com/b"]}, "spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}),
        );
        let error = apply(Some(&object), &b, entries.clone(), &writer("bob", 20), false, &POD).unwrap_err();
        assert_eq!(error.to_string(), "Apply failed with 1 conflict: conflict with \"alice\": .spec.tolerations");
        let (object, entries) = apply(Some(&object), &b, entries, &writer("bob", 20), true, &POD).unwrap();
        assert_eq!(object["spec"]["tolerations"], json!([{"key": "b", "operator": "Exists"}]));

        // Alice stops applying her finalizer: it goes, Bob's stays.
        let (object, entries) =
            apply(Some(&object), &with(json!({})), entries, &writer("alice", 30), false, &POD).unwrap();
        assert_eq!(object["metadata"]["finalizers"], json!(["example.com/b"]));
        assert_eq!(
            summary(&entries),
            [
                r#"bob Apply 22:13:40 {"f:metadata":{"f:finalizers":{"v:\"example.com/b\"":{}}},"f:spec":{"f:tolerations":{}}}"#
            ]
        );
    }

    #[test]
    fn an_unchanged_apply_keeps_every_time() {
        let config = pod_config(json!({}));
        let (object, entries) = apply(None, &config, Vec::new(), &writer("kubectl", 0), false, &POD).unwrap();
        let (again, same) =
            apply(Some(&object), &config, entries.clone(), &writer("kubectl", 99), false, &POD).unwrap();
        assert_eq!((again, same), (object, entries));
    }

    #[test]
    fn an_object_without_entries_is_owned_before_the_first_apply() {
        let mut legacy = pod_config(json!({}));
        legacy["metadata"]["uid"] = json!("u1");
        let config = pod_config(
            json!({"spec": {"containers": [{"name": "nginx", "image": "nginx:1.28", "ports": [{"containerPort": 80}]}]}}),
        );
        let error = apply(Some(&legacy), &config, Vec::new(), &writer("deployer", 0), false, &POD).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .spec.containers[name=\"nginx\"].image"
        );
        let (_, entries) = apply(Some(&legacy), &config, Vec::new(), &writer("deployer", 0), true, &POD).unwrap();
        assert_eq!(entries.iter().map(|e| e.manager.as_str()).collect::<Vec<_>>(), ["deployer", "before-first-apply"]);
    }

    /// `kubectl apply` then `kubectl apply --server-side` of an edited file: no conflict
    /// over fields the annotation still describes, and the annotation follows.
    #[test]
    fn kubectl_crosses_over_from_client_side_apply() {
        let old = pod_config(json!({}));
        let mut live = old.clone();
        live["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION: format!("{old}\n")});
        let entries = record_update(None, &live, Vec::new(), &writer("kubectl-client-side-apply", 0), &POD);
        set_managed_fields(&mut live, &entries);
        let new = pod_config(
            json!({"spec": {"containers": [{"name": "nginx", "image": "nginx:1.28", "ports": [{"containerPort": 80}]}]}}),
        );

        let error = apply(Some(&live), &new, entries.clone(), &writer("my-tool", 10), false, &POD).unwrap_err();
        assert_eq!(error.http_status(), 409);

        let (object, entries) = apply(Some(&live), &new, entries, &writer("kubectl", 10), false, &POD).unwrap();
        assert_eq!(image(&object), "nginx:1.28");
        assert_eq!(object["metadata"]["annotations"][LAST_APPLIED_ANNOTATION], new.to_string());
        assert_eq!(
            entries.iter().map(|e| e.manager.as_str()).collect::<Vec<_>>(),
            ["kubectl", "kubectl-client-side-apply"]
        );

        // A field the live object no longer holds as last applied still conflicts.
        let mut drifted = live.clone();
        drifted["metadata"]["labels"]["app"] = json!("drifted");
        let drifted_entries = managed_fields_of(&live).unwrap();
        let error = apply(Some(&drifted), &new, drifted_entries, &writer("kubectl", 10), false, &POD).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .metadata.labels.app"
        );
    }

    #[test]
    fn rejects_configurations_upstream_rejects() {
        let cases = [
            (json!({"metadata": {"managedFields": []}}), 400, "metadata.managedFields must be nil"),
            (
                json!({"apiVersion": "v2"}),
                400,
                "Incorrect version specified in apply patch. Specified patch version: v2, expected: v1",
            ),
            (
                json!({"spec": {"containers": [{"image": "x"}]}}),
                500,
                "failed to create typed patch object (default/nginx; /v1, Kind=Pod): .spec.containers: element 0: \
                 associative list with keys has an element that omits key field \"name\" (and doesn't have default value)",
            ),
        ];
        for (changes, status, message) in cases {
            let mut config = pod_config(json!({}));
            merge_json(&mut config, changes);
            let error = apply(None, &config, Vec::new(), &writer("kubectl", 0), false, &POD).unwrap_err();
            assert_eq!((error.http_status(), error.to_string().as_str()), (status, message));
        }
        let error = apply(None, &json!([]), Vec::new(), &writer("kubectl", 0), false, &POD).unwrap_err();
        assert_eq!(
            error.to_string(),
            "error decoding YAML: json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
    }
}
