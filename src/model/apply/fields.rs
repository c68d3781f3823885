//! The fields of an object, and the fields that differ between two versions of it, as
//! structured-merge-diff computes them (`ToFieldSet` and `Compare`):
//!
//! - maps are walked field by field; a field whose value is `null` or `{}` is a leaf;
//! - list-map items are members (`k:{...}`, written with a `.` marker when their fields are
//!   listed too) and their fields are walked; set items are members by value; an empty set
//!   or list-map contributes nothing;
//! - scalars and atomic lists are leaves.
//!
//! A comparison also counts a map or list item that appears or disappears as a whole, so an
//! update that adds `metadata.labels` owns `f:labels` with its `.` marker while an apply of
//! the same labels owns only the label keys — the difference visible in real clusters
//! between `Update` and `Apply` entries.
//!
//! Field sets handed out here exclude what the server owns: `apiVersion`, `kind`,
//! `metadata` itself and `metadata.{name, namespace, uid, resourceVersion, generation,
//! creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, selfLink,
//! managedFields}`. Upstream strips the same (its `stripMetaManager`) — `name` and
//! `namespace` included, which is why an `Apply` entry for a pod lists `f:metadata` only
//! when labels or annotations were applied. `deletionTimestamp` and
//! `deletionGracePeriodSeconds` are never owned upstream either, because only the server
//! writes them.

use serde_json::{Map, Value};

use super::element::{PathElement, values_equal};
use super::fieldset::FieldSet;
use super::shape::{Node, Shape, find_item};
use crate::model::patch::{FieldSchema, TypeSchema};

/// The fields of `object`, an object of the type `schema` describes, without those the
/// server owns.
pub fn fields_of(object: &Value, schema: &TypeSchema) -> FieldSet {
    without_server_owned(&all_fields_of(object, schema))
}

/// The fields of `object`, server-owned ones included.
pub(crate) fn all_fields_of(object: &Value, schema: &TypeSchema) -> FieldSet {
    let mut set = FieldSet::new();
    collect(object, Node::of(Shape::Object(schema), object), &mut Vec::new(), &mut set);
    set
}

fn collect(value: &Value, node: Node<'_>, path: &mut Vec<PathElement>, set: &mut FieldSet) {
    match (node, value) {
        (Node::Map(ty), Value::Object(object)) => {
            for (name, child) in object {
                path.push(PathElement::field(name.as_str()));
                let child_node = Node::of(Shape::of_field(ty, name), child);
                let is_leaf =
                    matches!(child_node, Node::Leaf) || child.is_null() || child.as_object().is_some_and(Map::is_empty);
                if is_leaf {
                    set.insert(path);
                } else {
                    collect(child, child_node, path, set);
                }
                path.pop();
            }
        }
        (Node::List(kind), Value::Array(items)) => {
            for (element, item) in kind.index(items).unwrap_or_default() {
                path.push(element);
                set.insert(path);
                collect(item, Node::of(kind.item_shape(), item), path, set);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
}

/// What changed from one version of an object to the next.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Fields, items and whole maps present only in the new version.
    pub added: FieldSet,
    /// Leaves present in both whose values differ.
    pub modified: FieldSet,
    /// Fields, items and whole maps present only in the old version.
    pub removed: FieldSet,
}

/// Compares two versions of an object (`None` for one that does not exist), without the
/// fields the server owns.
pub fn compare(old: Option<&Value>, new: Option<&Value>, schema: &TypeSchema) -> Comparison {
    let mut out = Comparison::default();
    compare_node(old, new, Shape::Object(schema), &mut Vec::new(), &mut out);
    Comparison {
        added: without_server_owned(&out.added),
        modified: without_server_owned(&out.modified),
        removed: without_server_owned(&out.removed),
    }
}

/// The fields `new` adds to `old` or gives a different value: what an update takes
/// ownership of.
pub fn changed_fields(old: &Value, new: &Value, schema: &TypeSchema) -> FieldSet {
    let comparison = compare(Some(old), Some(new), schema);
    comparison.added.union(&comparison.modified)
}

fn compare_node(
    old: Option<&Value>,
    new: Option<&Value>,
    shape: Shape<'_>,
    path: &mut Vec<PathElement>,
    out: &mut Comparison,
) {
    let old_node = old.map(|v| Node::of(shape, v));
    let new_node = new.map(|v| Node::of(shape, v));
    let leaf = match (old_node, new_node) {
        (Some(node), None) | (None, Some(node)) => walk(node, old, new, path, out),
        (Some(a), Some(b)) if Node::same_kind(&a, &b) => walk(b, old, new, path, out),
        (Some(a), Some(b)) => {
            // Upstream walks a value that changed kind once as each kind.
            walk(a, old, new, path, out);
            walk(b, old, new, path, out)
        }
        (None, None) => true,
    };
    if !leaf && !path.is_empty() {
        if old.is_none() {
            out.added.insert(path);
        } else if new.is_none() {
            out.removed.insert(path);
        }
    }
}

/// Compares one node as `node` says; true when it was compared as a leaf.
fn walk(
    node: Node<'_>,
    old: Option<&Value>,
    new: Option<&Value>,
    path: &mut Vec<PathElement>,
    out: &mut Comparison,
) -> bool {
    match node {
        Node::Leaf => {
            compare_leaf(old, new, path, out);
            true
        }
        Node::Map(ty) => {
            let empty = Map::new();
            let old_map = old.and_then(Value::as_object).unwrap_or(&empty);
            let new_map = new.and_then(Value::as_object).unwrap_or(&empty);
            if old_map.is_empty() && new_map.is_empty() {
                compare_leaf(old, new, path, out);
                return true;
            }
            let names = old_map.keys().chain(new_map.keys().filter(|k| !old_map.contains_key(*k)));
            for name in names {
                path.push(PathElement::field(name.as_str()));
                compare_node(old_map.get(name), new_map.get(name), Shape::of_field(ty, name), path, out);
                path.pop();
            }
            false
        }
        Node::List(kind) => {
            let old_items = old.and_then(|v| kind.index(v.as_array()?.as_slice())).unwrap_or_default();
            let new_items = new.and_then(|v| kind.index(v.as_array()?.as_slice())).unwrap_or_default();
            if old_items.is_empty() && new_items.is_empty() {
                compare_leaf(old, new, path, out);
                return true;
            }
            let elements = old_items.iter().chain(new_items.iter().filter(|(e, _)| find_item(&old_items, e).is_none()));
            for (element, _) in elements {
                path.push(element.clone());
                compare_node(
                    find_item(&old_items, element),
                    find_item(&new_items, element),
                    kind.item_shape(),
                    path,
                    out,
                );
                path.pop();
            }
            false
        }
    }
}

fn compare_leaf(old: Option<&Value>, new: Option<&Value>, path: &[PathElement], out: &mut Comparison) {
    match (old, new) {
        (None, Some(_)) => out.added.insert(path),
        (Some(_), None) => out.removed.insert(path),
        (Some(a), Some(b)) if !values_equal(a, b) => out.modified.insert(path),
        _ => {}
    }
}

/// The fields of `metadata` only the server writes.
const SERVER_OWNED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
];

/// `set` without the paths the server owns (member-wise, as upstream strips them).
pub(crate) fn without_server_owned(set: &FieldSet) -> FieldSet {
    set.difference(&server_owned())
}

fn server_owned() -> FieldSet {
    let mut set = FieldSet::new();
    for top in ["apiVersion", "kind", "metadata"] {
        set.insert(&[PathElement::field(top)]);
    }
    for name in SERVER_OWNED_METADATA {
        set.insert(&[PathElement::field("metadata"), PathElement::field(*name)]);
    }
    set
}

/// The object an update creating an object of this kind is compared with: upstream
/// compares with the Go zero value, in which the kind's structs (`metadata`, `spec`,
/// `status`, a template's `metadata` and `spec`) are present and empty and
/// `PodSpec.containers` is `null`. That decides the `.` markers a creator's entry gets:
/// `f:labels` has one, `f:spec` and `f:containers` do not.
pub(crate) fn zero_object(schema: &TypeSchema) -> Value {
    fn zero(ty: &TypeSchema, expand: bool) -> Value {
        let mut object = Map::new();
        if ty.name == "PodSpec" {
            object.insert("containers".to_string(), Value::Null);
        }
        if expand {
            for (name, field) in ty.fields {
                if let FieldSchema::Object(inner) = field {
                    object.insert(name.to_string(), zero(inner, inner.name == "PodTemplateSpec"));
                }
            }
        }
        Value::Object(object)
    }
    zero(schema, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::patch::schema::{NAMESPACE, POD, POD_TEMPLATE};
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7",
                "creationTimestamp": "2024-01-01T00:00:00Z",
                "labels": {"app": "web"},
                "annotations": {"a": "b"},
                "finalizers": ["example.com/hold"],
                "managedFields": [{"manager": "x"}]
            },
            "spec": {
                "containers": [{
                    "name": "nginx",
                    "image": "nginx:1.27",
                    "args": ["-g", "daemon off;"],
                    "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
                    "env": [{"name": "A", "value": "1"}],
                    "resources": {}
                }],
                "securityContext": {},
                "tolerations": [{"key": "k", "operator": "Exists"}],
                "volumes": [],
                "nodeName": null
            },
            "status": {"phase": "Pending"}
        })
    }

    #[test]
    fn fields_of_a_realistic_pod() {
        let expected = concat!(
            r#"{"f:metadata":{"f:annotations":{"f:a":{}},"f:finalizers":{"v:\"example.com/hold\"":{}},"#,
            r#""f:labels":{"f:app":{}}},"#,
            r#""f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:args":{},"#,
            r#""f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:name":{},"#,
            r#""f:ports":{"k:{\"containerPort\":53,\"protocol\":\"UDP\"}":{".":{},"f:containerPort":{},"f:protocol":{}},"#,
            r#""k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}},"#,
            r#""f:resources":{}}},"f:nodeName":{},"f:securityContext":{},"f:tolerations":{}},"#,
            r#""f:status":{"f:phase":{}}}"#,
        );
        assert_eq!(fields_of(&pod(), &POD).to_fields_v1_string(), expected);
    }

    #[test]
    fn all_fields_keep_what_the_server_owns() {
        let set = all_fields_of(&json!({"apiVersion": "v1", "metadata": {"name": "x"}}), &POD);
        assert_eq!(set.to_fields_v1_string(), r#"{"f:apiVersion":{},"f:metadata":{"f:name":{}}}"#);
    }

    #[test]
    fn comparisons_mark_whole_maps_and_items() {
        type Case = (&'static str, Value, Value, [&'static str; 3]);
        let cases: [Case; 6] = [
            (
                "a label map appears",
                json!({"metadata": {"name": "x"}}),
                json!({"metadata": {"name": "x", "labels": {"app": "web"}}}),
                [r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}"#, "{}", "{}"],
            ),
            (
                "a label changes, one goes, one comes",
                json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
                json!({"metadata": {"labels": {"a": "9", "c": "3"}}}),
                [
                    r#"{"f:metadata":{"f:labels":{"f:c":{}}}}"#,
                    r#"{"f:metadata":{"f:labels":{"f:a":{}}}}"#,
                    r#"{"f:metadata":{"f:labels":{"f:b":{}}}}"#,
                ],
            ),
            (
                "a container and its ports appear",
                json!({"spec": {"containers": [{"name": "a"}]}}),
                json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "ports": [{"containerPort": 80}]}]}}),
                [
                    concat!(
                        r#"{"f:spec":{"f:containers":{"k:{\"name\":\"b\"}":{".":{},"f:name":{},"#,
                        r#""f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}"#
                    ),
                    "{}",
                    "{}",
                ],
            ),
            (
                "list order and server-owned fields do not count",
                json!({"metadata": {"resourceVersion": "1", "finalizers": ["a", "b"]}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
                json!({"metadata": {"resourceVersion": "2", "finalizers": ["b", "a"]}, "spec": {"containers": [{"name": "b"}, {"name": "a"}]}}),
                ["{}", "{}", "{}"],
            ),
            (
                "an atomic list is one leaf; an empty map became null",
                json!({"spec": {"tolerations": [{"key": "a"}], "securityContext": {}}}),
                json!({"spec": {"tolerations": [{"key": "b"}], "securityContext": null}}),
                ["{}", r#"{"f:spec":{"f:securityContext":{},"f:tolerations":{}}}"#, "{}"],
            ),
            (
                "a set item goes",
                json!({"metadata": {"finalizers": ["a", "b"]}}),
                json!({"metadata": {"finalizers": ["a"]}}),
                ["{}", "{}", r#"{"f:metadata":{"f:finalizers":{"v:\"b\"":{}}}}"#],
            ),
        ];
        for (name, old, new, [added, modified, removed]) in cases {
            let c = compare(Some(&old), Some(&new), &POD);
            assert_eq!(
                [c.added.to_fields_v1_string(), c.modified.to_fields_v1_string(), c.removed.to_fields_v1_string()],
                [added, modified, removed],
                "{name}"
            );
        }
        let label_change = changed_fields(
            &json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            &json!({"metadata": {"labels": {"a": "9", "c": "3"}}}),
            &POD,
        );
        assert_eq!(label_change.to_fields_v1_string(), r#"{"f:metadata":{"f:labels":{"f:a":{},"f:c":{}}}}"#);
    }

    #[test]
    fn zero_objects_follow_go_zero_values() {
        assert_eq!(zero_object(&POD), json!({"metadata": {}, "spec": {"containers": null}, "status": {}}));
        assert_eq!(
            zero_object(&POD_TEMPLATE),
            json!({"metadata": {}, "template": {"metadata": {}, "spec": {"containers": null}}})
        );
        assert_eq!(zero_object(&NAMESPACE), json!({"metadata": {}, "spec": {}, "status": {}}));
    }
}
