//! The two edits server-side apply makes to an object, as structured-merge-diff makes them:
//! merging an applied configuration into the live object (`Merge`), and removing the fields
//! an applier gave up (`RemoveItems`).
//!
//! Merging keeps the configuration's value for every leaf it sets, walks maps field by
//! field, and merges sets and list-maps item by item: live items the configuration does not
//! mention stay, at their place relative to the configuration's items, which come in the
//! configuration's order. A `null` where a map or list is expected merges as an empty one
//! (the live contents stay); a `null` leaf removes the field, as decoding into the typed
//! object does for optional fields.

use std::collections::VecDeque;

use serde_json::{Map, Value};

use super::element::PathElement;
use super::fieldset::FieldSet;
use super::shape::{ListKind, Node, Shape, find_item};
use crate::model::patch::TypeSchema;

/// `config` merged into `live`, both objects of the type `schema` describes.
pub(crate) fn merge_config(live: &Value, config: &Value, schema: &TypeSchema) -> Value {
    merge_node(Some(live), Some(config), Shape::Object(schema)).unwrap_or(Value::Null)
}

fn merge_node(live: Option<&Value>, config: Option<&Value>, shape: Shape<'_>) -> Option<Value> {
    let (live, config) = match (live, config) {
        (live, None) => return live.cloned(),
        (None, Some(config)) => return Some(without_nulls(config)),
        (Some(live), Some(config)) => (live, config),
    };
    let live_node = Node::of(shape, live);
    let config_node = Node::of(shape, config);
    if !Node::same_kind(&live_node, &config_node) {
        return Some(without_nulls(config));
    }
    match config_node {
        Node::Leaf => Some(config.clone()),
        Node::Map(ty) => merge_maps(live, config, ty),
        Node::List(kind) => merge_lists(live, config, &kind),
    }
}

fn merge_maps(live: &Value, config: &Value, ty: &TypeSchema) -> Option<Value> {
    let empty = Map::new();
    let live_map = live.as_object().unwrap_or(&empty);
    let config_map = config.as_object().unwrap_or(&empty);
    if live_map.is_empty() && config_map.is_empty() {
        return Some(config.clone());
    }
    let mut out = live_map.clone();
    for (name, value) in config_map {
        match merge_node(live_map.get(name), Some(value), Shape::of_field(ty, name)) {
            Some(Value::Null) | None => out.remove(name),
            Some(merged) => out.insert(name.clone(), merged),
        };
    }
    Some(Value::Object(out))
}

/// Upstream's ordering: walk both lists together; a live item the configuration does not
/// mention is emitted when the walk meets it, shared and new items come in the
/// configuration's order.
fn merge_lists(live: &Value, config: &Value, kind: &ListKind) -> Option<Value> {
    let live_items = live.as_array().and_then(|items| kind.index(items)).unwrap_or_default();
    let config_items = config.as_array().and_then(|items| kind.index(items)).unwrap_or_default();
    if live_items.is_empty() && config_items.is_empty() {
        return Some(config.clone());
    }
    let merge_item = |element: &PathElement| {
        merge_node(find_item(&live_items, element), find_item(&config_items, element), kind.item_shape())
    };
    let mut shared: VecDeque<&PathElement> =
        config_items.iter().map(|(e, _)| e).filter(|e| find_item(&live_items, e).is_some()).collect();
    let mut next_shared = shared.pop_front();
    let mut merged_config: Vec<&PathElement> = Vec::new();
    let mut out = Vec::with_capacity(live_items.len().max(config_items.len()));
    let (mut l, mut c) = (0, 0);
    while l < live_items.len() || c < config_items.len() {
        if l < live_items.len() && c < config_items.len() {
            let element = &live_items[l].0;
            if *element == config_items[c].0 {
                merged_config.push(element);
                out.extend(merge_item(element));
                l += 1;
                c += 1;
                next_shared = shared.pop_front();
                continue;
            }
            let in_config = find_item(&config_items, element).is_some();
            if in_config && next_shared.is_some_and(|next| next != element) {
                // A shared item, but not the one due now: it comes with the configuration.
                l += 1;
                continue;
            }
        }
        if l < live_items.len() {
            let element = &live_items[l].0;
            if find_item(&config_items, element).is_none() {
                out.push(live_items[l].1.clone());
                l += 1;
                continue;
            }
            if merged_config.contains(&element) {
                l += 1;
                continue;
            }
        }
        if c < config_items.len() {
            let element = &config_items[c].0;
            merged_config.push(element);
            out.extend(merge_item(element));
            c += 1;
            if next_shared == Some(element) {
                next_shared = shared.pop_front();
            }
        }
    }
    Some(Value::Array(out))
}

/// `value` with `null` object fields dropped, at every depth.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Removes from `object` every path that is a member of `set`, with everything below it,
/// and descends through the set's children. A map or list emptied this way stays, empty.
pub(crate) fn remove_fields(object: &mut Value, set: &FieldSet, schema: &TypeSchema) {
    remove_node(object, set, Shape::Object(schema));
}

fn remove_node(value: &mut Value, set: &FieldSet, shape: Shape<'_>) {
    match Node::of(shape, value) {
        Node::Map(ty) => {
            let Some(object) = value.as_object_mut() else { return };
            object.retain(|name, _| !set.has_member(&PathElement::field(name.as_str())));
            for (name, child) in object.iter_mut() {
                if let Some(below) = set.child(&PathElement::field(name.as_str())) {
                    remove_node(child, below, Shape::of_field(ty, name));
                }
            }
        }
        Node::List(kind) => {
            let Some(items) = value.as_array_mut() else { return };
            items.retain(|item| kind.item_element(item).map_or(true, |element| !set.has_member(&element)));
            for item in items.iter_mut() {
                if let Some(below) = kind.item_element(item).ok().and_then(|element| set.child(&element)) {
                    remove_node(item, below, kind.item_shape());
                }
            }
        }
        Node::Leaf => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::patch::schema::POD;
    use serde_json::json;

    #[test]
    fn merges_maps_sets_list_maps_and_atomic_lists() {
        type Case = (&'static str, Value, Value, Value);
        let cases: [Case; 7] = [
            (
                "maps merge, leaves are replaced",
                json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"restartPolicy": "Always"}}),
                json!({"metadata": {"labels": {"b": "9", "c": "3"}}}),
                json!({"metadata": {"labels": {"a": "1", "b": "9", "c": "3"}}, "spec": {"restartPolicy": "Always"}}),
            ),
            (
                "list-map items merge by key; live-only items stay",
                json!({"spec": {"containers": [{"name": "a", "image": "a:1", "tty": true}, {"name": "side", "image": "s"}]}}),
                json!({"spec": {"containers": [{"name": "a", "image": "a:2"}]}}),
                json!({"spec": {"containers": [{"name": "a", "image": "a:2", "tty": true}, {"name": "side", "image": "s"}]}}),
            ),
            (
                "shared and new items follow the configuration's order; live-only items come as met",
                json!({"spec": {"containers": [{"name": "x"}, {"name": "a"}, {"name": "y"}, {"name": "b"}]}}),
                json!({"spec": {"containers": [{"name": "b"}, {"name": "n"}, {"name": "a"}]}}),
                json!({"spec": {"containers": [{"name": "x"}, {"name": "y"}, {"name": "b"}, {"name": "n"}, {"name": "a"}]}}),
            ),
            (
                "sets are united",
                json!({"metadata": {"finalizers": ["a", "b"]}}),
                json!({"metadata": {"finalizers": ["c", "a"]}}),
                json!({"metadata": {"finalizers": ["c", "a", "b"]}}),
            ),
            (
                "atomic lists are replaced whole",
                json!({"spec": {"tolerations": [{"key": "a"}, {"key": "b"}], "containers": [{"name": "a", "args": ["1", "2"]}]}}),
                json!({"spec": {"tolerations": [{"key": "c"}], "containers": [{"name": "a", "args": ["3"]}]}}),
                json!({"spec": {"tolerations": [{"key": "c"}], "containers": [{"name": "a", "args": ["3"]}]}}),
            ),
            (
                "a null leaf removes the field; a null map keeps the live contents",
                json!({"spec": {"nodeName": "n1", "securityContext": {"runAsUser": 1}}}),
                json!({"spec": {"nodeName": null, "securityContext": null}}),
                json!({"spec": {"securityContext": {"runAsUser": 1}}}),
            ),
            (
                "into nothing",
                json!({}),
                json!({"metadata": {"name": "x", "labels": {"a": null}}, "spec": {"containers": [{"name": "a"}]}}),
                json!({"metadata": {"name": "x", "labels": {}}, "spec": {"containers": [{"name": "a"}]}}),
            ),
        ];
        for (name, live, config, expected) in cases {
            assert_eq!(merge_config(&live, &config, &POD), expected, "{name}");
        }
    }

    #[test]
    fn removes_members_with_their_contents() {
        let mut object = json!({
            "metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x", "y"]},
            "spec": {"containers": [
                {"name": "a", "image": "a", "ports": [{"containerPort": 80}, {"containerPort": 81}]},
                {"name": "b", "image": "b"}
            ]}
        });
        let set = FieldSet::from_fields_v1(&json!({
            "f:metadata": {"f:labels": {"f:a": {}, "f:b": {}}, "f:finalizers": {"v:\"y\"": {}}},
            "f:spec": {"f:containers": {
                "k:{\"name\":\"a\"}": {"f:ports": {"k:{\"containerPort\":81,\"protocol\":\"TCP\"}": {}}},
                "k:{\"name\":\"b\"}": {}
            }}
        }))
        .unwrap();
        remove_fields(&mut object, &set, &POD);
        assert_eq!(
            object,
            json!({
                "metadata": {"labels": {}, "finalizers": ["x"]},
                "spec": {"containers": [{"name": "a", "image": "a", "ports": [{"containerPort": 80}]}]}
            })
        );
    }
}
