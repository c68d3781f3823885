//! How server-side apply sees a value: a leaf (scalars and atomic lists), a map whose
//! fields are tracked one by one, or a list whose items are identified by key or by value.
//! This module owns reading that from the patch metadata of [`schema`] the way
//! structured-merge-diff reads it from OpenAPI: `x-kubernetes-list-type` first; without it,
//! a list with a patch merge key is a map keyed by it, a merge list of scalars is a set, and
//! anything else is atomic. It also owns naming a list item (`k:{...}` or `v:...`),
//! including the key defaults upstream's schema declares.
//!
//! [`schema`]: crate::model::patch::schema

use serde_json::Value;

use super::element::PathElement;
use crate::model::patch::{FieldSchema, ListSchema, ListType, PatchStrategy, TypeSchema};

/// The schema of objects the table does not describe: every field is a plain value or map,
/// and every list inside is atomic.
pub(crate) static UNTYPED: TypeSchema = TypeSchema { name: "", fields: &[] };

/// Default values of list-map key fields, by element type and field: upstream's OpenAPI
/// declares `default: TCP` for these, so `k:{"containerPort":80,"protocol":"TCP"}` names a
/// port given without a protocol.
const KEY_DEFAULTS: &[(&str, &str, &str)] = &[("ContainerPort", "protocol", "TCP"), ("ServicePort", "protocol", "TCP")];

/// What the schema says about a field, before its value is known.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape<'s> {
    /// An object of a described type.
    Object(&'s TypeSchema),
    /// A list.
    List(ListSchema),
    /// Not in the table: a scalar, a free-form map, or an object with no list below it.
    Untyped,
}

impl<'s> Shape<'s> {
    /// The shape of the field `name` of an object of type `ty`.
    pub(crate) fn of_field(ty: &'s TypeSchema, name: &str) -> Shape<'s> {
        match ty.field(name) {
            Some(FieldSchema::Object(inner)) => Shape::Object(inner),
            Some(FieldSchema::List(list)) => Shape::List(list),
            None => Shape::Untyped,
        }
    }
}

/// How a list's items are identified.
#[derive(Clone, Debug)]
pub(crate) enum ListKind {
    /// Not at all: the list is one value.
    Atomic,
    /// By value.
    Set,
    /// By the values of these fields; items are objects of type `items`.
    Map { keys: Vec<&'static str>, items: &'static TypeSchema },
}

impl ListKind {
    pub(crate) fn of(list: &ListSchema) -> ListKind {
        let items = list.items.unwrap_or(&UNTYPED);
        match (list.list_type, list.strategy) {
            (Some(ListType::Atomic), _) => ListKind::Atomic,
            (Some(ListType::Set), _) => ListKind::Set,
            (Some(ListType::Map), _) => ListKind::Map { keys: list.list_map_keys.to_vec(), items },
            (None, PatchStrategy::MergeByKey(key)) => ListKind::Map { keys: vec![key], items },
            (None, PatchStrategy::Merge) => ListKind::Set,
            (None, PatchStrategy::Replace) => ListKind::Atomic,
        }
    }

    /// The shape of one item.
    pub(crate) fn item_shape(&self) -> Shape<'static> {
        match self {
            ListKind::Map { items, .. } => Shape::Object(items),
            ListKind::Atomic | ListKind::Set => Shape::Untyped,
        }
    }

    /// The path element naming `item`, or upstream's reason it has none.
    pub(crate) fn item_element(&self, item: &Value) -> Result<PathElement, String> {
        match self {
            ListKind::Atomic => Err("invalid indexing of non-associative list".to_string()),
            ListKind::Set => match item {
                Value::Object(_) => Err("associative list without keys has an element that's a map type".to_string()),
                Value::Array(_) => Err("not supported: associative list with lists as elements".to_string()),
                scalar => Ok(PathElement::Value(scalar.clone())),
            },
            ListKind::Map { keys, items } => {
                let object = match item {
                    Value::Object(object) => object,
                    Value::Null => return Err("associative list with keys may not have a null element".to_string()),
                    _ => return Err("associative list with keys may not have non-map elements".to_string()),
                };
                let mut fields = Vec::with_capacity(keys.len());
                for &key in keys {
                    let value = match object.get(key) {
                        Some(value) => value.clone(),
                        None => Value::String(key_default(items, key).ok_or_else(|| {
                            format!(
                                "associative list with keys has an element that omits key field {key:?} \
                                 (and doesn't have default value)"
                            )
                        })?),
                    };
                    fields.push((key.to_string(), value));
                }
                Ok(PathElement::key(fields))
            }
        }
    }

    /// Each item with its path element, first occurrence of a duplicate only; `None` when
    /// some item cannot be named, in which case the list can only be handled as a leaf.
    pub(crate) fn index<'v>(&self, items: &'v [Value]) -> Option<Vec<(PathElement, &'v Value)>> {
        let mut indexed: Vec<(PathElement, &Value)> = Vec::with_capacity(items.len());
        for item in items {
            let element = self.item_element(item).ok()?;
            if !indexed.iter().any(|(seen, _)| *seen == element) {
                indexed.push((element, item));
            }
        }
        Some(indexed)
    }
}

/// The item named `element` among indexed items.
pub(crate) fn find_item<'v>(items: &[(PathElement, &'v Value)], element: &PathElement) -> Option<&'v Value> {
    items.iter().find(|(e, _)| e == element).map(|(_, v)| *v)
}

fn key_default(items: &TypeSchema, key: &str) -> Option<String> {
    KEY_DEFAULTS.iter().find(|(ty, field, _)| *ty == items.name && *field == key).map(|(_, _, value)| value.to_string())
}

/// A value seen through its shape.
#[derive(Clone, Debug)]
pub(crate) enum Node<'s> {
    /// Compared and owned as one value.
    Leaf,
    /// An object (or `null` where the schema expects one) whose fields are tracked.
    Map(&'s TypeSchema),
    /// A set or list-map (or `null` where the schema expects one).
    List(ListKind),
}

impl<'s> Node<'s> {
    /// How `value` is handled where the schema says `shape`. A list with an item that
    /// cannot be named is a leaf here; [`check_lists`] reports it for applied configurations.
    pub(crate) fn of(shape: Shape<'s>, value: &Value) -> Node<'s> {
        match (shape, value) {
            (Shape::Object(ty), Value::Object(_) | Value::Null) => Node::Map(ty),
            (Shape::Untyped, Value::Object(_)) => Node::Map(&UNTYPED),
            (Shape::List(list), Value::Array(items)) => match ListKind::of(&list) {
                ListKind::Atomic => Node::Leaf,
                kind => match kind.index(items) {
                    Some(_) => Node::List(kind),
                    None => Node::Leaf,
                },
            },
            (Shape::List(list), Value::Null) => match ListKind::of(&list) {
                ListKind::Atomic => Node::Leaf,
                kind => Node::List(kind),
            },
            _ => Node::Leaf,
        }
    }

    /// True when `a` and `b` are handled alike (and so compared or merged child by child).
    pub(crate) fn same_kind(a: &Node<'_>, b: &Node<'_>) -> bool {
        matches!((a, b), (Node::Leaf, Node::Leaf) | (Node::Map(_), Node::Map(_)) | (Node::List(_), Node::List(_)))
    }
}

/// Checks that every set and list-map in `object` (an applied configuration) names each of
/// its items exactly once, with upstream's message for the first failure:
/// `.spec.containers: element 0: associative list with keys has an element that omits key
/// field "name" (and doesn't have default value)`.
pub(crate) fn check_lists(object: &Value, schema: &TypeSchema) -> Result<(), String> {
    check_node(object, Shape::Object(schema), &mut Vec::new())
}

fn check_node(value: &Value, shape: Shape<'_>, path: &mut Vec<PathElement>) -> Result<(), String> {
    match (shape, value) {
        (Shape::Object(_) | Shape::Untyped, Value::Object(object)) => {
            let ty = match shape {
                Shape::Object(ty) => ty,
                _ => &UNTYPED,
            };
            for (name, child) in object {
                path.push(PathElement::field(name.as_str()));
                check_node(child, Shape::of_field(ty, name), path)?;
                path.pop();
            }
            Ok(())
        }
        (Shape::List(list), Value::Array(items)) => {
            let kind = ListKind::of(&list);
            if matches!(kind, ListKind::Atomic) {
                return Ok(());
            }
            let here = super::fieldset::FieldPath(path.clone()).to_string();
            let mut seen: Vec<PathElement> = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let element = kind.item_element(item).map_err(|reason| format!("{here}: element {index}: {reason}"))?;
                if seen.contains(&element) {
                    return Err(format!("{here}: duplicate entries for key {element}"));
                }
                path.push(element.clone());
                check_node(item, kind.item_shape(), path)?;
                path.pop();
                seen.push(element);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::patch::schema::POD;
    use serde_json::json;

    fn list(path: &str) -> ListKind {
        match POD.field_path(path) {
            Some(FieldSchema::List(list)) => ListKind::of(&list),
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn reads_list_semantics_from_the_schema() {
        let cases = [
            ("spec.containers", "map [\"name\"]"),
            ("spec.containers.ports", "map [\"containerPort\", \"protocol\"]"),
            ("metadata.finalizers", "set"),
            ("spec.tolerations", "atomic"),
            ("status.hostIPs", "atomic"),
        ];
        for (path, expected) in cases {
            let found = match list(path) {
                ListKind::Atomic => "atomic".to_string(),
                ListKind::Set => "set".to_string(),
                ListKind::Map { keys, .. } => format!("map {keys:?}"),
            };
            assert_eq!(found, expected, "{path}");
        }
        // Without a list type: a merge key makes a map, a bare merge a set, nothing atomic.
        let bare = |strategy| ListSchema { strategy, list_type: None, ..ListSchema::REPLACE };
        assert!(
            matches!(ListKind::of(&bare(PatchStrategy::MergeByKey("ip"))), ListKind::Map { keys, .. } if keys == ["ip"])
        );
        assert!(matches!(ListKind::of(&bare(PatchStrategy::Merge)), ListKind::Set));
        assert!(matches!(ListKind::of(&bare(PatchStrategy::Replace)), ListKind::Atomic));
    }

    #[test]
    fn names_items_with_key_defaults() {
        let ports = list("spec.containers.ports");
        assert_eq!(
            ports.item_element(&json!({"containerPort": 80})).unwrap().to_fields_v1_key(),
            r#"k:{"containerPort":80,"protocol":"TCP"}"#
        );
        assert_eq!(
            list("spec.containers").item_element(&json!({"image": "x"})).unwrap_err(),
            "associative list with keys has an element that omits key field \"name\" (and doesn't have default value)"
        );
        assert_eq!(list("metadata.finalizers").item_element(&json!("a")).unwrap().to_fields_v1_key(), r#"v:"a""#);
    }

    #[test]
    fn checks_applied_lists_with_upstream_messages() {
        let cases = [
            (json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "ports": [{"containerPort": 80}]}]}}), Ok(())),
            (
                json!({"spec": {"containers": [{"image": "x"}]}}),
                Err(".spec.containers: element 0: associative list with keys has an element that omits key field \
                     \"name\" (and doesn't have default value)"),
            ),
            (
                json!({"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}),
                Err(".spec.containers: duplicate entries for key [name=\"a\"]"),
            ),
            (
                json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 1}, {"containerPort": 1}]}]}}),
                Err(".spec.containers[name=\"a\"].ports: duplicate entries for key [containerPort=1,protocol=\"TCP\"]"),
            ),
            (
                json!({"metadata": {"finalizers": [{"a": 1}]}}),
                Err(".metadata.finalizers: element 0: associative list without keys has an element that's a map type"),
            ),
            (json!({"spec": {"tolerations": [{}, {}]}}), Ok(())),
        ];
        for (object, expected) in cases {
            assert_eq!(check_lists(&object, &POD), expected.map_err(str::to_string), "{object}");
        }
    }
}
