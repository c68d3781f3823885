//! Strategic merge patch: JSON merge patch, plus per-field list strategies from [`schema`]
//! (merge lists of objects by key, unite lists of scalars, replace the rest) and the
//! directives clients send: `$patch: replace | delete | merge`, `$retainKeys`,
//! `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`. This module owns the
//! semantics of applying such a patch on the server, following upstream's
//! `k8s.io/apimachinery/pkg/util/strategicpatch` in behaviour and error wording; it does not
//! compute patches (kubectl does) and does not decode bodies (see the parent module).
//!
//! Where upstream's behaviour is accidental, this module picks the sane reading and says so:
//! directives inside values that are new to the object are applied rather than stored,
//! `$patch: merge` on a map is accepted as the default it names, an unknown `$` key is an
//! error rather than a field, and `$setElementOrder` on a list of objects without a merge key
//! leaves the list as merged (upstream fails on it).
//!
//! [`schema`]: super::schema

use serde_json::{Map, Value};

use super::PatchError;
use super::schema::{FieldSchema, ListSchema, PatchStrategy, TypeSchema};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Applies a strategic merge `patch` to `original`, an object of the type `schema` describes,
/// and returns the result. `original` is not changed. A `null` patch changes nothing (Go
/// decodes it into an empty map); any other patch that is not an object is an error.
pub fn strategic_merge(original: &Value, patch: &Value, schema: &TypeSchema) -> Result<Value, PatchError> {
    let patch = match patch {
        Value::Object(patch) => patch,
        Value::Null => return Ok(original.clone()),
        other => {
            return Err(PatchError::InvalidJson(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )));
        }
    };
    let original = original.as_object().cloned().unwrap_or_default();
    merge_map(original, patch, Some(schema)).map(Value::Object)
}

/// What the patch asks of one key of a map, once its directives are sorted out.
enum Key<'a> {
    /// A field, merged by its strategy.
    Field(&'a str),
    /// `$setElementOrder/<field>`.
    Order(&'a str),
    /// `$deleteFromPrimitiveList/<field>`.
    Delete(&'a str),
    /// `$patch` and `$retainKeys`, handled before the fields.
    Handled,
}

fn classify(key: &str) -> Result<Key<'_>, PatchError> {
    if !key.starts_with('$') {
        return Ok(Key::Field(key));
    }
    if key == DIRECTIVE || key == RETAIN_KEYS {
        return Ok(Key::Handled);
    }
    if let Some(rest) = key.strip_prefix(SET_ELEMENT_ORDER) {
        return rest.strip_prefix('/').map(Key::Order).ok_or(PatchError::BadSetElementOrderFormat);
    }
    if let Some(rest) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
        return rest.strip_prefix('/').map(Key::Delete).ok_or(PatchError::BadPrimitiveListFormat);
    }
    Err(PatchError::UnknownDirective(key.to_string()))
}

/// Merges `patch` into the map `original`, whose type is `schema` when known.
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    schema: Option<&TypeSchema>,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        match directive.as_str() {
            // The patch, without the marker, is the whole new map.
            Some("replace") => {
                let mut rest = patch.clone();
                rest.remove(DIRECTIVE);
                return merge_map(Map::new(), &rest, schema);
            }
            Some("delete") => return Ok(Map::new()),
            Some("merge") => {}
            _ => {
                return Err(PatchError::UnknownPatchType {
                    directive: go_format(directive),
                    map: go_format_map(patch),
                });
            }
        }
    }
    apply_retain_keys(&mut original, patch)?;

    let mut keys = Vec::with_capacity(patch.len());
    for (key, value) in patch {
        keys.push((classify(key)?, value));
    }
    // Ordered lists first: each takes its field's patch list with it.
    let mut ordered = Vec::new();
    for (key, order) in &keys {
        if let Key::Order(field) = key {
            let merged = merge_ordered_list(&original, patch, field, order, schema)?;
            if let Some(merged) = merged {
                original.insert(field.to_string(), Value::Array(merged));
            }
            ordered.push(*field);
        }
    }
    for (key, value) in &keys {
        let Key::Field(field) = key else { continue };
        if ordered.contains(field) {
            continue;
        }
        if value.is_null() {
            original.remove(*field);
            continue;
        }
        let field_schema = schema.and_then(|s| s.field(field));
        match (original.get_mut(*field), value) {
            (Some(Value::Object(current)), Value::Object(patch)) => {
                *current = merge_map(std::mem::take(current), patch, object_schema(field_schema))?;
            }
            (Some(Value::Array(current)), Value::Array(patch)) => {
                *current = merge_list(std::mem::take(current), patch, &list_schema(field_schema))?;
            }
            _ => {
                let fresh = fresh_value(value, field_schema)?;
                original.insert(field.to_string(), fresh);
            }
        }
    }
    // Deletions last, so they also apply to what the patch merged in.
    for (key, value) in &keys {
        let Key::Delete(field) = key else { continue };
        let Value::Array(doomed) = value else { return Err(PatchError::BadPrimitiveListFormat) };
        if let Some(Value::Array(current)) = original.get_mut(*field) {
            current.retain(|item| !doomed.contains(item));
        }
    }
    Ok(original)
}

fn object_schema(field: Option<FieldSchema>) -> Option<&'static TypeSchema> {
    match field {
        Some(FieldSchema::Object(ty)) => Some(ty),
        _ => None,
    }
}

fn list_schema(field: Option<FieldSchema>) -> ListSchema {
    match field {
        Some(FieldSchema::List(list)) => list,
        _ => ListSchema::REPLACE,
    }
}

/// A patch value for a key the original lacks (or holds with another JSON type): the patch
/// applied to nothing, so its directives take effect and its nulls vanish.
fn fresh_value(value: &Value, field: Option<FieldSchema>) -> Result<Value, PatchError> {
    Ok(match value {
        Value::Object(patch) => Value::Object(merge_map(Map::new(), patch, object_schema(field))?),
        Value::Array(patch) => Value::Array(merge_list(Vec::new(), patch, &list_schema(field))?),
        scalar => scalar.clone(),
    })
}

/// `$retainKeys`: drops every key of `original` not listed, after checking that the patch
/// sets no key outside the list.
fn apply_retain_keys(original: &mut Map<String, Value>, patch: &Map<String, Value>) -> Result<(), PatchError> {
    let Some(retained) = patch.get(RETAIN_KEYS) else { return Ok(()) };
    let Value::Array(retained) = retained else { return Err(PatchError::BadRetainKeysFormat) };
    let is_retained = |key: &str| retained.iter().any(|k| k.as_str() == Some(key));
    for (key, value) in patch {
        let directive = key == RETAIN_KEYS
            || key == DIRECTIVE
            || key.starts_with(SET_ELEMENT_ORDER)
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST);
        if !directive && !value.is_null() && !is_retained(key) {
            return Err(PatchError::BadRetainKeysFormat);
        }
    }
    original.retain(|key, _| is_retained(key));
    Ok(())
}

/// The JSON type of a list's elements, as far as merging cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Elements {
    /// No elements on either side.
    None,
    /// Objects.
    Maps,
    /// Scalars of one JSON type (the discriminant tells which).
    Scalars(u8),
}

fn element_kind(original: &[Value], patch: &[Value]) -> Result<Elements, PatchError> {
    let mut kind = Elements::None;
    for item in original.iter().chain(patch) {
        let this = match item {
            Value::Array(_) => return Err(PatchError::ListOfLists),
            Value::Object(_) => Elements::Maps,
            Value::Null => Elements::Scalars(0),
            Value::Bool(_) => Elements::Scalars(1),
            Value::Number(_) => Elements::Scalars(2),
            Value::String(_) => Elements::Scalars(3),
        };
        if kind != Elements::None && kind != this {
            let both = Value::Array(vec![Value::Array(original.to_vec()), Value::Array(patch.to_vec())]);
            return Err(PatchError::MixedElementTypes(go_format(&both)));
        }
        kind = this;
    }
    Ok(kind)
}

/// Merges the list `patch` into `original` by the list's strategy.
fn merge_list(original: Vec<Value>, patch: &[Value], schema: &ListSchema) -> Result<Vec<Value>, PatchError> {
    if schema.strategy == PatchStrategy::Replace {
        return replace_list(patch, schema);
    }
    match element_kind(&original, patch)? {
        Elements::None => Ok(original),
        Elements::Scalars(_) => Ok(unite_scalars(original, patch)),
        Elements::Maps => match schema.merge_key() {
            Some(key) => merge_by_key(original, patch, key, schema),
            None => Err(PatchError::NoMergeKey(schema.items.map_or("list", |t| t.name).to_string())),
        },
    }
}

/// A list without a merge strategy: the patch's list, with its directives applied to nothing
/// (`$patch` elements are dropped; there is nothing to delete from or to merge with).
fn replace_list(patch: &[Value], schema: &ListSchema) -> Result<Vec<Value>, PatchError> {
    let mut out = Vec::with_capacity(patch.len());
    for item in patch {
        match item {
            Value::Object(map) => {
                if let Some(directive) = map.get(DIRECTIVE) {
                    match directive.as_str() {
                        Some("replace" | "delete" | "merge") => continue,
                        _ => {
                            return Err(PatchError::UnknownPatchType {
                                directive: go_format(directive),
                                map: go_format_map(map),
                            });
                        }
                    }
                }
                out.push(Value::Object(merge_map(Map::new(), map, schema.items)?));
            }
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

/// A `merge` list of scalars: the union, without duplicates. The patch's values take the
/// patch's order and the others keep theirs, interleaved as [`interleave`] does.
fn unite_scalars(original: Vec<Value>, patch: &[Value]) -> Vec<Value> {
    let mut from_patch: Vec<Value> = Vec::new();
    for item in patch {
        if !from_patch.contains(item) {
            from_patch.push(item.clone());
        }
    }
    let mut server_only: Vec<Value> = Vec::new();
    for item in &original {
        if !from_patch.contains(item) && !server_only.contains(item) {
            server_only.push(item.clone());
        }
    }
    interleave(server_only, from_patch, |item| original.iter().position(|o| o == item))
}

/// A list of objects merged by `key`: `$patch: delete` elements remove every element with
/// their key, a `$patch: replace` element makes the patch's elements the whole list, and
/// every other element is merged into the element with its key, or added.
fn merge_by_key(
    mut original: Vec<Value>,
    patch: &[Value],
    key: &str,
    schema: &ListSchema,
) -> Result<Vec<Value>, PatchError> {
    let mut replace = false;
    let mut elements = Vec::with_capacity(patch.len());
    for item in patch {
        let Value::Object(map) = item else { continue };
        let Some(directive) = map.get(DIRECTIVE) else {
            elements.push(map);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let doomed = merge_key_of(map, key)?;
                original.retain(|o| o.get(key) != Some(doomed));
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(PatchError::MergeDirectiveInList),
            _ => {
                return Err(PatchError::UnknownPatchType { directive: go_format(directive), map: go_format_map(map) });
            }
        }
    }
    if replace {
        let mut out = Vec::with_capacity(elements.len());
        for map in elements {
            merge_key_of(map, key)?;
            out.push(Value::Object(merge_map(Map::new(), map, schema.items)?));
        }
        return Ok(out);
    }

    let server_order: Vec<Value> = original.iter().filter_map(|o| o.get(key).cloned()).collect();
    for map in &elements {
        let wanted = merge_key_of(map, key)?;
        match original.iter().position(|o| o.get(key) == Some(wanted)) {
            Some(at) => {
                let current = match std::mem::take(&mut original[at]) {
                    Value::Object(current) => current,
                    _ => Map::new(),
                };
                original[at] = Value::Object(merge_map(current, map, schema.items)?);
            }
            None => original.push(Value::Object(merge_map(Map::new(), map, schema.items)?)),
        }
    }

    let patch_order: Vec<&Value> = elements.iter().filter_map(|m| m.get(key)).collect();
    let (mut from_patch, server_only) = partition_by_key(original, key, |k| patch_order.contains(&k))?;
    from_patch.sort_by_key(|item| item.get(key).and_then(|k| patch_order.iter().position(|p| *p == k)));
    Ok(interleave(server_only, from_patch, |item| {
        let wanted = item.get(key)?;
        server_order.iter().position(|k| k == wanted)
    }))
}

/// The value of `key` in `map`, which must have it.
fn merge_key_of<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a Value, PatchError> {
    map.get(key).ok_or_else(|| PatchError::MissingMergeKey { map: go_format_map(map), key: key.to_string() })
}

/// Splits merged elements into those whose key `in_patch` accepts and the rest; every
/// element must have the key.
fn partition_by_key(
    merged: Vec<Value>,
    key: &str,
    in_patch: impl Fn(&Value) -> bool,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut from_patch = Vec::new();
    let mut server_only = Vec::new();
    for item in merged {
        let found = match &item {
            Value::Object(map) => in_patch(merge_key_of(map, key)?),
            other => return Err(bad_arg("map[string]interface {}", other)),
        };
        if found { from_patch.push(item) } else { server_only.push(item) }
    }
    Ok((from_patch, server_only))
}

/// Merges the server-only elements (`left`, in their original order) into the patch's
/// elements (`right`, in the patch's order), keeping both orders. A server-only element goes
/// first only when both it and the next patch element were in the original list and it came
/// first there; so elements new to the list come before the server-only ones that follow.
/// This is upstream's `mergeSortedSlice`.
fn interleave(left: Vec<Value>, right: Vec<Value>, server_position: impl Fn(&Value) -> Option<usize>) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let left_first = matches!((server_position(l), server_position(r)), (Some(a), Some(b)) if a < b);
        let next = if left_first { left.next() } else { right.next() };
        out.extend(next);
    }
    out.extend(left);
    out.extend(right);
    out
}

/// `$setElementOrder/<field>`: merges the field's patch list (if any) into the original list
/// (if any), then orders the result: the listed elements in the listed order, interleaved
/// with the unlisted ones as [`interleave`] does. Returns `None` when neither side has the
/// list.
fn merge_ordered_list(
    original: &Map<String, Value>,
    patch: &Map<String, Value>,
    field: &str,
    order: &Value,
    schema: Option<&TypeSchema>,
) -> Result<Option<Vec<Value>>, PatchError> {
    let Value::Array(order) = order else { return Err(bad_arg("[]interface {}", order)) };
    let list = match schema.map(|s| (s, s.field(field))) {
        None => ListSchema::REPLACE,
        Some((_, Some(FieldSchema::List(list)))) => list,
        Some((ty, _)) => return Err(PatchError::FieldNotFound { type_name: ty.name, field: field.to_string() }),
    };
    let current = match original.get(field) {
        None => None,
        Some(Value::Array(current)) => Some(current),
        Some(other) => return Err(bad_arg("[]interface {}", other)),
    };
    let patch_list = match patch.get(field) {
        None => None,
        Some(Value::Array(patch_list)) => Some(patch_list),
        Some(other) => return Err(bad_arg("[]interface {}", other)),
    };
    let key = list.merge_key();
    check_order(patch_list.map_or(&[], Vec::as_slice), order, key)?;
    let merged = match (current, patch_list) {
        (None, None) => return Ok(None),
        (Some(current), None) => current.clone(),
        (None, Some(patch_list)) => merge_list(Vec::new(), patch_list, &list)?,
        (Some(current), Some(patch_list)) => merge_list(current.clone(), patch_list, &list)?,
    };
    let server_order = current.map_or(&[][..], Vec::as_slice);
    let ordered = match (key, element_kind(&merged, &[])?) {
        (Some(key), Elements::Maps) => {
            for item in order {
                match item {
                    Value::Object(map) => {
                        merge_key_of(map, key)?;
                    }
                    other => return Err(bad_arg("map[string]interface {}", other)),
                }
            }
            let listed: Vec<&Value> = order.iter().filter_map(|o| o.get(key)).collect();
            let (mut from_patch, mut server_only) = partition_by_key(merged, key, |k| listed.contains(&k))?;
            from_patch.sort_by_key(|item| item.get(key).and_then(|k| listed.iter().position(|l| *l == k)));
            let position = |item: &Value| {
                let wanted = item.get(key)?;
                server_order.iter().position(|s| s.get(key) == Some(wanted))
            };
            server_only.sort_by_key(|item| position(item).unwrap_or(usize::MAX));
            interleave(server_only, from_patch, position)
        }
        (_, Elements::Scalars(_)) => {
            let (mut from_patch, mut server_only): (Vec<Value>, Vec<Value>) =
                merged.into_iter().partition(|item| order.contains(item));
            from_patch.sort_by_key(|item| order.iter().position(|o| o == item));
            let position = |item: &Value| server_order.iter().position(|s| s == item);
            server_only.sort_by_key(|item| position(item).unwrap_or(usize::MAX));
            interleave(server_only, from_patch, position)
        }
        // Objects without a merge key cannot be matched to the order list: keep them as merged.
        (None, Elements::Maps) | (_, Elements::None) => merged,
    };
    Ok(Some(ordered))
}

/// Checks that the patch's list is in the relative order of the `$setElementOrder` list
/// (elements carrying `$patch` are exempt, and deletions are ignored).
fn check_order(patch_list: &[Value], order: &[Value], key: Option<&str>) -> Result<(), PatchError> {
    if patch_list.is_empty() || order.is_empty() {
        return Ok(());
    }
    let same = |item: &Value, listed: &Value| -> Result<bool, PatchError> {
        let Some(key) = key else { return Ok(item == listed) };
        let (Value::Object(item), Value::Object(listed)) = (item, listed) else {
            let wrong = if item.is_object() { listed } else { item };
            return Err(bad_arg("map[string]interface {}", wrong));
        };
        Ok(merge_key_of(item, key)? == merge_key_of(listed, key)?)
    };
    let mut pending = patch_list.iter().filter(|item| item.get(DIRECTIVE).is_none()).peekable();
    let mut listed = order.iter();
    while let Some(item) = pending.peek() {
        let Some(next) = listed.next() else {
            return Err(PatchError::SetElementOrderMismatch {
                patch: go_format(&Value::Array(patch_list.to_vec())),
                order: go_format(&Value::Array(order.to_vec())),
            });
        };
        if same(item, next)? {
            pending.next();
        }
    }
    Ok(())
}

fn bad_arg(expected: &'static str, actual: &Value) -> PatchError {
    PatchError::BadArgType { expected, actual: go_type(actual) }
}

/// The Go type `encoding/json` decodes a value into, as `mergepatch` error messages name it.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value as Go's `fmt` prints it with `%v`: `map[k:v]` with sorted keys, `[a b]`, `<nil>`.
fn go_format(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(go_format).collect::<Vec<_>>().join(" ")),
        Value::Object(map) => go_format_map(map),
    }
}

fn go_format_map(map: &Map<String, Value>) -> String {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let entries: Vec<String> = entries.into_iter().map(|(k, v)| format!("{k}:{}", go_format(v))).collect();
    format!("map[{}]", entries.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::patch::schema::{NAMESPACE, NODE, POD, POD_TEMPLATE, SERVICE, schema_for};
    use serde_json::json;

    const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

    /// A pod as the store holds it after `kubectl apply` and scheduling: defaults filled in.
    fn nginx_pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "nginx",
                "namespace": "default",
                "uid": "0b5e7c4e-8f1a-4f5e-9d1e-3c2b1a0f9e8d",
                "resourceVersion": "12",
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "labels": {"app": "web"},
                "annotations": {
                    LAST_APPLIED: "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"web\"},\"name\":\"nginx\",\"namespace\":\"default\"},\"spec\":{\"containers\":[{\"image\":\"nginx:1.27\",\"name\":\"nginx\",\"ports\":[{\"containerPort\":80}]}]}}\n"
                }
            },
            "spec": {
                "containers": [{
                    "name": "nginx",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent"
                }],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "nodeName": "node1",
                "schedulerName": "default-scheduler",
                "enableServiceLinks": true,
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                ]
            },
            "status": {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"},
                    {"type": "Initialized", "status": "True", "lastTransitionTime": "2025-01-01T00:00:01Z"},
                    {"type": "ContainersReady", "status": "False", "lastTransitionTime": "2025-01-01T00:00:01Z"},
                    {"type": "Ready", "status": "False", "lastTransitionTime": "2025-01-01T00:00:01Z"}
                ]
            }
        })
    }

    fn node() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1"}},
            "spec": {"podCIDRs": ["10.0.1.0/24"], "taints": [{"key": "a", "effect": "NoExecute"}]},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "node1"}],
                "conditions": [
                    {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": "2025-01-01T00:00:00Z"},
                    {"type": "Ready", "status": "True", "lastHeartbeatTime": "2025-01-01T00:00:00Z"}
                ]
            }
        })
    }

    /// `base` with the values at the given JSON pointers set (`Some`) or removed (`None`).
    fn edited(mut base: Value, edits: &[(&str, Option<Value>)]) -> Value {
        for (pointer, value) in edits {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let parent = base.pointer_mut(parent).unwrap_or_else(|| panic!("no parent for {pointer}"));
            match (parent, value) {
                (Value::Object(map), Some(value)) => drop(map.insert(key.replace("~1", "/"), value.clone())),
                (Value::Object(map), None) => drop(map.remove(&key.replace("~1", "/"))),
                (Value::Array(items), Some(value)) => items[key.parse::<usize>().unwrap()] = value.clone(),
                (Value::Array(items), None) => drop(items.remove(key.parse::<usize>().unwrap())),
                (other, _) => panic!("{pointer}: parent is {other}"),
            }
        }
        base
    }

    fn containers(names: &[&str]) -> Value {
        Value::Array(names.iter().map(|n| json!({"name": n, "image": format!("{n}:1")})).collect())
    }

    fn pod_with(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    struct Case {
        name: &'static str,
        schema: &'static TypeSchema,
        original: Value,
        patch: Value,
        expected: Value,
    }

    fn run(cases: Vec<Case>) {
        for case in cases {
            let result = strategic_merge(&case.original, &case.patch, case.schema)
                .unwrap_or_else(|e| panic!("{}: unexpected error: {e}", case.name));
            assert_eq!(result, case.expected, "{}", case.name);
        }
    }

    /// The patches kubectl 1.27–1.33 sends (reference §5.3, §5.12, §5.14), on realistic objects.
    #[test]
    fn applies_the_patches_kubectl_sends() {
        let applied = "{\"new\":\"manifest\"}\n";
        let after_first = edited(
            nginx_pod(),
            &[
                ("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration", Some(json!(applied))),
                ("/metadata/labels/tier", Some(json!("fe"))),
                ("/spec/containers/0/image", Some(json!("nginx:1.28"))),
            ],
        );
        let mut with_sidecar = edited(
            nginx_pod(),
            &[("/spec/containers/0/env", Some(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])))],
        );
        with_sidecar["spec"]["containers"].as_array_mut().unwrap().push(json!({"name": "sidecar", "image": "busybox"}));
        let restarted_template = json!({
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": "web"},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]}
            }
        });
        run(vec![
            Case {
                name: "apply: a changed image and an added label",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({
                    "metadata": {"annotations": {LAST_APPLIED: applied}, "labels": {"tier": "fe"}},
                    "spec": {"$setElementOrder/containers": [{"name": "nginx"}], "containers": [{"image": "nginx:1.28", "name": "nginx"}]}
                }),
                expected: after_first.clone(),
            },
            Case {
                name: "apply: a removed label, removed ports and added env",
                schema: &POD,
                original: after_first.clone(),
                patch: json!({
                    "metadata": {"annotations": {LAST_APPLIED: "{}\n"}, "labels": {"tier": null}},
                    "spec": {
                        "$setElementOrder/containers": [{"name": "nginx"}],
                        "containers": [{"env": [{"name": "A", "value": "1"}], "name": "nginx", "ports": null}]
                    }
                }),
                expected: edited(
                    after_first,
                    &[
                        (
                            "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
                            Some(json!("{}\n")),
                        ),
                        ("/metadata/labels/tier", None),
                        ("/spec/containers/0/ports", None),
                        ("/spec/containers/0/env", Some(json!([{"name": "A", "value": "1"}]))),
                    ],
                ),
            },
            Case {
                name: "set image on a pod",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"spec": {"$setElementOrder/containers": [{"name": "nginx"}], "containers": [{"image": "nginx:1.28", "name": "nginx"}]}}),
                expected: edited(nginx_pod(), &[("/spec/containers/0/image", Some(json!("nginx:1.28")))]),
            },
            Case {
                name: "set image in a pod template",
                schema: &POD_TEMPLATE,
                original: restarted_template.clone(),
                patch: json!({"template": {"spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "log"}],
                    "containers": [{"image": "nginx:1.28", "name": "nginx"}]
                }}}),
                expected: edited(
                    restarted_template.clone(),
                    &[("/template/spec/containers/0/image", Some(json!("nginx:1.28")))],
                ),
            },
            Case {
                name: "rollout restart annotates the template",
                schema: &POD_TEMPLATE,
                original: restarted_template.clone(),
                patch: json!({"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}}}),
                expected: edited(
                    restarted_template,
                    &[(
                        "/template/metadata/annotations",
                        Some(json!({"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"})),
                    )],
                ),
            },
            Case {
                name: "cordon",
                schema: &NODE,
                original: node(),
                patch: json!({"spec": {"unschedulable": true}}),
                expected: edited(node(), &[("/spec/unschedulable", Some(json!(true)))]),
            },
            Case {
                name: "uncordon",
                schema: &NODE,
                original: edited(node(), &[("/spec/unschedulable", Some(json!(true)))]),
                patch: json!({"spec": {"unschedulable": null}}),
                expected: node(),
            },
            Case {
                name: "uncordon of a node that is not cordoned",
                schema: &NODE,
                original: node(),
                patch: json!({"spec": {"unschedulable": null}}),
                expected: node(),
            },
            Case {
                name: "taint replaces the atomic taint list",
                schema: &NODE,
                original: node(),
                patch: json!({"spec": {"taints": [{"effect": "NoSchedule", "key": "k", "value": "v"}]}}),
                expected: edited(
                    node(),
                    &[("/spec/taints", Some(json!([{"effect": "NoSchedule", "key": "k", "value": "v"}])))],
                ),
            },
            Case {
                name: "tolerations are replaced whole",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"spec": {"tolerations": [{"key": "k", "operator": "Exists"}]}}),
                expected: edited(
                    nginx_pod(),
                    &[("/spec/tolerations", Some(json!([{"key": "k", "operator": "Exists"}])))],
                ),
            },
            Case {
                name: "the label kubectl label sends",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"metadata": {"labels": {"l": "m"}}}),
                expected: edited(nginx_pod(), &[("/metadata/labels/l", Some(json!("m")))]),
            },
            Case {
                name: "the label removal kubectl label l- sends",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"metadata": {"labels": {"app": null}}}),
                expected: edited(nginx_pod(), &[("/metadata/labels", Some(json!({})))]),
            },
            Case {
                name: "apply: a container and an env var removed from the manifest",
                schema: &POD,
                original: with_sidecar.clone(),
                patch: json!({"spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}],
                    "containers": [
                        {"$setElementOrder/env": [{"name": "B"}], "env": [{"$patch": "delete", "name": "A"}], "name": "nginx"},
                        {"$patch": "delete", "name": "sidecar"}
                    ]
                }}),
                expected: edited(
                    with_sidecar,
                    &[
                        ("/spec/containers/1", None),
                        ("/spec/containers/0/env", Some(json!([{"name": "B", "value": "2"}]))),
                    ],
                ),
            },
        ]);
    }

    #[test]
    fn honours_the_directives() {
        run(vec![
            Case {
                name: "$patch: delete removes a container by name",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["nginx", "sidecar", "log"])})),
                patch: json!({"spec": {"containers": [{"$patch": "delete", "name": "sidecar"}]}}),
                expected: pod_with(json!({"containers": containers(&["nginx", "log"])})),
            },
            Case {
                name: "$patch: delete removes every element with the key",
                schema: &POD,
                original: pod_with(json!({"containers": [{"name": "a"}, {"name": "a", "image": "x"}, {"name": "b"}]})),
                patch: json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}, {"name": "c", "$patch": "delete"}]}}),
                expected: pod_with(json!({"containers": [{"name": "b"}]})),
            },
            Case {
                name: "$patch: replace in a list keeps only the patch's elements",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["nginx", "sidecar"])})),
                patch: json!({"spec": {"containers": [{"name": "x", "image": "x:2"}, {"$patch": "replace"}]}}),
                expected: pod_with(json!({"containers": [{"name": "x", "image": "x:2"}]})),
            },
            Case {
                name: "$patch: replace alone empties a list",
                schema: &POD,
                original: pod_with(
                    json!({"containers": containers(&["nginx"]), "volumes": [{"name": "v", "emptyDir": {}}]}),
                ),
                patch: json!({"spec": {"volumes": [{"$patch": "replace"}]}}),
                expected: pod_with(json!({"containers": containers(&["nginx"]), "volumes": []})),
            },
            Case {
                name: "$patch: replace on a map",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}}),
                expected: edited(nginx_pod(), &[("/metadata/labels", Some(json!({"only": "this"})))]),
            },
            Case {
                name: "$patch: delete on a map leaves it empty",
                schema: &POD,
                original: pod_with(
                    json!({"securityContext": {"runAsUser": 1000, "sysctls": [{"name": "a", "value": "1"}]}}),
                ),
                patch: json!({"spec": {"securityContext": {"$patch": "delete"}}}),
                expected: pod_with(json!({"securityContext": {}})),
            },
            Case {
                name: "$patch: merge on a map is the default merge",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"metadata": {"labels": {"$patch": "merge", "tier": "fe"}}}),
                expected: edited(nginx_pod(), &[("/metadata/labels/tier", Some(json!("fe")))]),
            },
            Case {
                name: "$retainKeys switches a volume from emptyDir to hostPath",
                schema: &POD,
                original: pod_with(json!({
                    "containers": containers(&["nginx"]),
                    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cache", "emptyDir": {"medium": "Memory"}}]
                })),
                patch: json!({"spec": {
                    "$setElementOrder/volumes": [{"name": "data"}, {"name": "cache"}],
                    "volumes": [{"$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/data", "type": ""}, "name": "data"}]
                }}),
                expected: pod_with(json!({
                    "containers": containers(&["nginx"]),
                    "volumes": [{"name": "data", "hostPath": {"path": "/data", "type": ""}}, {"name": "cache", "emptyDir": {"medium": "Memory"}}]
                })),
            },
            Case {
                name: "$retainKeys ignores nulls and directives when checking the patch",
                schema: &POD,
                original: pod_with(
                    json!({"volumes": [{"name": "data", "emptyDir": {}, "secret": {"secretName": "s"}}]}),
                ),
                patch: json!({"spec": {"volumes": [{"$retainKeys": ["name", "secret"], "emptyDir": null, "name": "data"}]}}),
                expected: pod_with(json!({"volumes": [{"name": "data", "secret": {"secretName": "s"}}]})),
            },
            Case {
                name: "$deleteFromPrimitiveList/finalizers",
                schema: &POD,
                original: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a", "b", "c", "b"])))]),
                patch: json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zzz"]}}),
                expected: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a", "c"])))]),
            },
            Case {
                name: "$deleteFromPrimitiveList with $setElementOrder, as kubectl apply sends it",
                schema: &POD,
                original: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a", "b", "c", "d"])))]),
                patch: json!({"metadata": {"$setElementOrder/finalizers": ["a", "b"], "$deleteFromPrimitiveList/finalizers": ["c"]}}),
                expected: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a", "b", "d"])))]),
            },
            Case {
                name: "$deleteFromPrimitiveList does not create the list",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
                expected: nginx_pod(),
            },
            Case {
                name: "$deleteFromPrimitiveList also works on a list without the merge strategy",
                schema: &NAMESPACE,
                original: json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes", "x"]}}),
                patch: json!({"spec": {"$deleteFromPrimitiveList/finalizers": ["x"]}}),
                expected: json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes"]}}),
            },
            Case {
                name: "directives in a value new to the object are applied, not stored",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["nginx"])})),
                patch: json!({"spec": {
                    "volumes": [{"name": "v", "emptyDir": {}}, {"name": "gone", "$patch": "delete"}],
                    "securityContext": {"sysctls": [{"name": "a", "value": "1"}], "runAsUser": null}
                }}),
                expected: pod_with(json!({
                    "containers": containers(&["nginx"]),
                    "volumes": [{"name": "v", "emptyDir": {}}],
                    "securityContext": {"sysctls": [{"name": "a", "value": "1"}]}
                })),
            },
            Case {
                name: "a null patch changes nothing",
                schema: &POD,
                original: nginx_pod(),
                patch: Value::Null,
                expected: nginx_pod(),
            },
        ]);
    }

    #[test]
    fn merges_lists_by_their_strategy() {
        run(vec![
            Case {
                name: "a container port is added by containerPort, in $setElementOrder's order",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}],
                    "containers": [{
                        "$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 443}],
                        "name": "nginx",
                        "ports": [{"containerPort": 443, "name": "https"}]
                    }]
                }}),
                expected: edited(
                    nginx_pod(),
                    &[(
                        "/spec/containers/0/ports",
                        Some(
                            json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "name": "https"}]),
                        ),
                    )],
                ),
            },
            Case {
                name: "env is merged by name",
                schema: &POD,
                original: pod_with(
                    json!({"containers": [{"name": "c", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}),
                ),
                patch: json!({"spec": {"containers": [{"name": "c", "env": [{"name": "B", "value": "3"}]}]}}),
                expected: pod_with(
                    json!({"containers": [{"name": "c", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]}]}),
                ),
            },
            Case {
                name: "volumeMounts are merged by mountPath",
                schema: &POD,
                original: pod_with(
                    json!({"containers": [{"name": "c", "volumeMounts": [{"name": "v", "mountPath": "/a"}]}]}),
                ),
                patch: json!({"spec": {"containers": [{"name": "c", "volumeMounts": [{"mountPath": "/a", "readOnly": true}]}]}}),
                expected: pod_with(
                    json!({"containers": [{"name": "c", "volumeMounts": [{"name": "v", "mountPath": "/a", "readOnly": true}]}]}),
                ),
            },
            Case {
                name: "args are replaced whole",
                schema: &POD,
                original: pod_with(json!({"containers": [{"name": "c", "args": ["a", "b"], "command": ["sh"]}]})),
                patch: json!({"spec": {"containers": [{"name": "c", "args": ["b"]}]}}),
                expected: pod_with(json!({"containers": [{"name": "c", "args": ["b"], "command": ["sh"]}]})),
            },
            Case {
                name: "a new container comes before the server's when no order is given",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["nginx"])})),
                patch: json!({"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}),
                expected: pod_with(
                    json!({"containers": [{"name": "sidecar", "image": "busybox"}, {"name": "nginx", "image": "nginx:1"}]}),
                ),
            },
            Case {
                name: "a new container goes where $setElementOrder puts it",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["nginx"])})),
                patch: json!({"spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "containers": [{"name": "sidecar", "image": "busybox"}]
                }}),
                expected: pod_with(
                    json!({"containers": [{"name": "nginx", "image": "nginx:1"}, {"name": "sidecar", "image": "busybox"}]}),
                ),
            },
            Case {
                name: "the patch's order wins over the server's (upstream: merging list 2)",
                schema: &POD,
                original: pod_with(json!({"containers": [{"name": "1"}, {"name": "2", "image": "b"}, {"name": "3"}]})),
                patch: json!({"spec": {"containers": [{"name": "3", "image": "c"}, {"name": "1", "image": "a"}]}}),
                expected: pod_with(
                    json!({"containers": [{"name": "2", "image": "b"}, {"name": "3", "image": "c"}, {"name": "1", "image": "a"}]}),
                ),
            },
            Case {
                name: "pod status conditions are merged by type in the kubelet's order",
                schema: &POD,
                original: nginx_pod(),
                patch: json!({"status": {
                    "$setElementOrder/conditions": [
                        {"type": "PodReadyToStartContainers"}, {"type": "Initialized"}, {"type": "Ready"},
                        {"type": "ContainersReady"}, {"type": "PodScheduled"}
                    ],
                    "conditions": [
                        {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": "2025-01-01T00:00:05Z"},
                        {"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:06Z"},
                        {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2025-01-01T00:00:06Z"}
                    ],
                    "phase": "Running",
                    "podIP": "10.0.1.5",
                    "podIPs": [{"ip": "10.0.1.5"}]
                }}),
                expected: edited(
                    nginx_pod(),
                    &[(
                        "/status",
                        Some(json!({
                            "phase": "Running",
                            "podIP": "10.0.1.5",
                            "podIPs": [{"ip": "10.0.1.5"}],
                            "conditions": [
                                {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": "2025-01-01T00:00:05Z"},
                                {"type": "Initialized", "status": "True", "lastTransitionTime": "2025-01-01T00:00:01Z"},
                                {"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:06Z"},
                                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2025-01-01T00:00:06Z"},
                                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}
                            ]
                        })),
                    )],
                ),
            },
            Case {
                name: "a node heartbeat updates one condition in place",
                schema: &NODE,
                original: node(),
                patch: json!({"status": {"conditions": [{"type": "Ready", "lastHeartbeatTime": "2025-01-01T00:00:40Z"}]}}),
                expected: edited(
                    node(),
                    &[("/status/conditions/1/lastHeartbeatTime", Some(json!("2025-01-01T00:00:40Z")))],
                ),
            },
            Case {
                name: "node addresses are merged by type",
                schema: &NODE,
                original: node(),
                patch: json!({"status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.11"}]}}),
                expected: edited(node(), &[("/status/addresses/0/address", Some(json!("192.168.1.11")))]),
            },
            Case {
                name: "podCIDRs are united",
                schema: &NODE,
                original: node(),
                patch: json!({"spec": {"podCIDRs": ["10.0.1.0/24", "fd00:1::/64"]}}),
                expected: edited(node(), &[("/spec/podCIDRs", Some(json!(["10.0.1.0/24", "fd00:1::/64"])))]),
            },
            Case {
                name: "finalizers are united",
                schema: &POD,
                original: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a", "b"])))]),
                patch: json!({"metadata": {"finalizers": ["b", "x"]}}),
                expected: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a", "b", "x"])))]),
            },
            Case {
                name: "a finalizer the server lacks goes first",
                schema: &POD,
                original: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a", "b"])))]),
                patch: json!({"metadata": {"finalizers": ["x"]}}),
                expected: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["x", "a", "b"])))]),
            },
            Case {
                name: "the patch orders the finalizers it names (upstream: merging int list)",
                schema: &POD,
                original: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["1", "2", "3"])))]),
                patch: json!({"metadata": {"finalizers": ["3", "1"]}}),
                expected: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["2", "3", "1"])))]),
            },
            Case {
                name: "namespace spec.finalizers are atomic",
                schema: &NAMESPACE,
                original: json!({"metadata": {"name": "ns", "finalizers": ["a"]}, "spec": {"finalizers": ["kubernetes"]}}),
                patch: json!({"metadata": {"finalizers": ["b"]}, "spec": {"finalizers": ["x"]}}),
                expected: json!({"metadata": {"name": "ns", "finalizers": ["b", "a"]}, "spec": {"finalizers": ["x"]}}),
            },
            Case {
                name: "service ports are merged by port",
                schema: &SERVICE,
                original: json!({"spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}], "clusterIPs": ["10.96.0.10"]}}),
                patch: json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
                expected: json!({"spec": {"ports": [{"port": 80, "targetPort": 9090, "protocol": "TCP"}], "clusterIPs": ["10.96.0.10"]}}),
            },
            Case {
                name: "owner references are merged by uid",
                schema: schema_for("v1", "ConfigMap").unwrap(),
                original: json!({"metadata": {"ownerReferences": [{"uid": "u1", "kind": "Pod", "name": "a"}]}, "data": {"k": "v"}}),
                patch: json!({"metadata": {"ownerReferences": [{"uid": "u1", "controller": true}]}, "data": {"k2": "v2"}}),
                expected: json!({
                    "metadata": {"ownerReferences": [{"uid": "u1", "kind": "Pod", "name": "a", "controller": true}]},
                    "data": {"k": "v", "k2": "v2"}
                }),
            },
            Case {
                name: "fields the table does not list merge as maps or are replaced",
                schema: &POD,
                original: pod_with(
                    json!({"os": {"name": "linux"}, "nodeSelector": {"a": "1"}, "readinessGates": [{"conditionType": "x"}]}),
                ),
                patch: json!({"spec": {"os": {"extra": 1}, "nodeSelector": {"b": "2"}, "readinessGates": [{"conditionType": "y"}], "dnsPolicy": "None"}}),
                expected: pod_with(json!({
                    "os": {"name": "linux", "extra": 1},
                    "nodeSelector": {"a": "1", "b": "2"},
                    "readinessGates": [{"conditionType": "y"}],
                    "dnsPolicy": "None"
                })),
            },
            Case {
                name: "a value of another JSON type replaces the original",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["a"]), "hostname": {"odd": true}})),
                patch: json!({"spec": {"containers": "none", "hostname": "h"}}),
                expected: pod_with(json!({"containers": "none", "hostname": "h"})),
            },
        ]);
    }

    #[test]
    fn orders_lists_by_set_element_order() {
        run(vec![
            Case {
                name: "reorders without changing contents",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["a", "b", "c"])})),
                patch: json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}}),
                expected: pod_with(json!({"containers": containers(&["c", "a", "b"])})),
            },
            Case {
                name: "an unlisted element keeps its place among the listed ones",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["a", "b", "c"])})),
                patch: json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]}}),
                expected: pod_with(json!({"containers": containers(&["b", "c", "a"])})),
            },
            Case {
                name: "new elements, listed around existing ones (upstream: merge lists of maps)",
                schema: &POD,
                original: pod_with(json!({"containers": [{"name": "1", "image": "a"}, {"name": "2", "image": "b"}]})),
                patch: json!({"spec": {
                    "$setElementOrder/containers": [{"name": "4"}, {"name": "1"}, {"name": "2"}, {"name": "3"}],
                    "containers": [{"name": "4", "image": "4"}, {"name": "3", "image": "3"}]
                }}),
                expected: pod_with(json!({"containers": [
                    {"name": "4", "image": "4"}, {"name": "1", "image": "a"}, {"name": "2", "image": "b"}, {"name": "3", "image": "3"}
                ]})),
            },
            Case {
                name: "listed elements missing from both sides are ignored",
                schema: &POD,
                original: pod_with(json!({"containers": containers(&["1", "3"])})),
                patch: json!({"spec": {"$setElementOrder/containers": [{"name": "3"}, {"name": "2"}, {"name": "1"}]}}),
                expected: pod_with(json!({"containers": containers(&["3", "1"])})),
            },
            Case {
                name: "a scalar list is ordered by value",
                schema: &POD,
                original: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a", "b", "c"])))]),
                patch: json!({"metadata": {"$setElementOrder/finalizers": ["b", "c", "a"]}}),
                expected: edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["b", "c", "a"])))]),
            },
            Case {
                name: "a list the original lacks is created in order",
                schema: &POD,
                original: pod_with(json!({})),
                patch: json!({"spec": {
                    "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                    "containers": [{"name": "b", "image": "b:1"}, {"name": "a", "image": "a:1"}]
                }}),
                expected: pod_with(json!({"containers": containers(&["b", "a"])})),
            },
            Case {
                name: "deletions and order together (upstream: nested patch merge with empty list)",
                schema: &POD,
                original: pod_with(json!({"containers": [{"name": "hello2"}]})),
                patch: json!({"spec": {
                    "$setElementOrder/containers": [{"name": "hello"}, {"name": "doesntexist"}],
                    "containers": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}]
                }}),
                expected: pod_with(json!({"containers": [{"name": "hello"}, {"name": "hello2"}]})),
            },
            Case {
                name: "an unknown subtree's list is ordered by value",
                schema: &POD,
                original: pod_with(json!({"os": {"names": ["x", "y"]}})),
                patch: json!({"spec": {"os": {"$setElementOrder/names": ["y", "x"]}}}),
                expected: pod_with(json!({"os": {"names": ["y", "x"]}})),
            },
        ]);
    }

    #[test]
    fn rejects_malformed_patches_with_upstream_wording() {
        let two = pod_with(json!({"containers": containers(&["a", "b", "c"])}));
        let cases: Vec<(&str, Value, Value, &str)> = vec![
            (
                "a patch that is not an object",
                nginx_pod(),
                json!([]),
                "json: cannot unmarshal array into Go value of type map[string]interface {}",
            ),
            (
                "an element without its merge key",
                nginx_pod(),
                json!({"spec": {"containers": [{"image": "x"}]}}),
                "map: map[image:x] does not contain declared merge key: name",
            ),
            (
                "$patch: delete without the merge key",
                nginx_pod(),
                json!({"spec": {"containers": [{"$patch": "delete"}]}}),
                "map: map[$patch:delete] does not contain declared merge key: name",
            ),
            (
                "an unknown $patch value",
                nginx_pod(),
                json!({"metadata": {"labels": {"$patch": "bogus", "a": 1}}}),
                "unknown patch type: bogus in map: map[$patch:bogus a:1]",
            ),
            (
                "an unknown $patch value in a list",
                nginx_pod(),
                json!({"spec": {"containers": [{"$patch": "nope", "name": "nginx"}]}}),
                "unknown patch type: nope in map: map[$patch:nope name:nginx]",
            ),
            (
                "$patch: merge in a list",
                nginx_pod(),
                json!({"spec": {"containers": [{"$patch": "merge"}]}}),
                "merging lists cannot yet be specified in the patch",
            ),
            (
                "an unknown directive",
                nginx_pod(),
                json!({"spec": {"$replaceAll": true}}),
                "unknown strategic merge patch directive \"$replaceAll\"",
            ),
            (
                "$setElementOrder without a field",
                nginx_pod(),
                json!({"spec": {"$setElementOrder": []}}),
                "invalid patch type of setElementOrder list",
            ),
            (
                "$setElementOrder that is not a list",
                nginx_pod(),
                json!({"spec": {"$setElementOrder/containers": "nginx"}}),
                "expected a []interface {}, but received a string",
            ),
            (
                "$setElementOrder of a field the type lacks",
                nginx_pod(),
                json!({"spec": {"$setElementOrder/containerz": [{"name": "nginx"}]}}),
                "unable to find api field in struct PodSpec for the json field \"containerz\"",
            ),
            (
                "$setElementOrder that contradicts the patch list",
                two.clone(),
                json!({"spec": {
                    "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
                    "containers": [{"name": "c", "image": "c:2"}, {"name": "a", "image": "a:2"}]
                }}),
                "The order in patch list:\n[map[image:c:2 name:c] map[image:a:2 name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:b] map[name:c]]\n",
            ),
            (
                "$setElementOrder elements without the merge key",
                two,
                json!({"spec": {"$setElementOrder/containers": [{"image": "a"}]}}),
                "map: map[image:a] does not contain declared merge key: name",
            ),
            (
                "$deleteFromPrimitiveList with a bad prefix",
                nginx_pod(),
                json!({"metadata": {"$deleteFromPrimitiveListX/finalizers": ["a"]}}),
                "invalid patch format of primitive list",
            ),
            (
                "$deleteFromPrimitiveList that is not a list",
                nginx_pod(),
                json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}),
                "invalid patch format of primitive list",
            ),
            (
                "$retainKeys that is not a list",
                nginx_pod(),
                json!({"spec": {"$retainKeys": "containers"}}),
                "invalid patch format of retainKeys",
            ),
            (
                "a patched key missing from $retainKeys",
                pod_with(json!({"volumes": [{"name": "data", "emptyDir": {}}]})),
                json!({"spec": {"volumes": [{"$retainKeys": ["name"], "hostPath": {"path": "/x"}, "name": "data"}]}}),
                "invalid patch format of retainKeys",
            ),
            (
                "a list of lists",
                nginx_pod(),
                json!({"metadata": {"finalizers": [["a"]]}}),
                "lists of lists are not supported",
            ),
            (
                "elements of different types",
                edited(nginx_pod(), &[("/metadata/finalizers", Some(json!(["a"])))]),
                json!({"metadata": {"finalizers": [1]}}),
                "list element types are not identical: [[a] [1]]",
            ),
        ];
        for (name, original, patch, message) in cases {
            let err = strategic_merge(&original, &patch, &POD).expect_err(name);
            assert_eq!(err.to_string(), message, "{name}");
        }
    }

    #[test]
    fn leaves_the_original_untouched() {
        let original = nginx_pod();
        let patch = json!({"metadata": {"labels": {"app": null}}, "spec": {"containers": [{"name": "nginx", "$patch": "delete"}]}});
        let patched = strategic_merge(&original, &patch, &POD).unwrap();
        assert_eq!(original, nginx_pod());
        assert_eq!(patched["spec"]["containers"], json!([]));
        assert_eq!(patched["metadata"]["labels"], json!({}));
    }

    #[test]
    fn prints_values_as_go_does() {
        let cases = [
            (json!(null), "<nil>"),
            (json!({"b": [1, 2.5, true], "a": {"c": null}}), "map[a:map[c:<nil>] b:[1 2.5 true]]"),
            (json!("s"), "s"),
        ];
        for (value, printed) in cases {
            assert_eq!(go_format(&value), printed);
        }
        assert_eq!(go_type(&json!(1)), "int64");
        assert_eq!(go_type(&json!(1.5)), "float64");
    }
}
