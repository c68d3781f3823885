//! A set of field paths, stored as structured-merge-diff stores it: a trie whose nodes hold
//! `members` (paths that end here) and `children` (paths that continue). A path can be both:
//! a list item owned as a whole *and* through its fields, which `FieldsV1` writes as the
//! `.` marker (`"k:{\"name\":\"nginx\"}":{".":{},"f:image":{}}`). This module owns that
//! representation: parsing and writing `FieldsV1` exactly as Kubernetes does, the set
//! algebra upstream uses (union, member-wise difference, intersection), iteration over the
//! paths, and their human rendering (`.spec.containers[name="nginx"].image`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::element::{PathElement, PathElementError};

/// A path from the object's root, e.g. `.metadata.labels.app`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<PathElement>);

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|element| write!(f, "{element}"))
    }
}

/// A set of field paths. Invariant: no child set is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

/// Why a `FieldsV1` value could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldsV1Error {
    /// A node that is not a JSON object.
    #[error("FieldsV1 nodes must be JSON objects, found {0}")]
    NotAnObject(String),
    /// A key that is not a path element.
    #[error(transparent)]
    Element(#[from] PathElementError),
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set of the given paths.
    pub fn from_paths<'a>(paths: impl IntoIterator<Item = &'a [PathElement]>) -> Self {
        let mut set = Self::new();
        for path in paths {
            set.insert(path);
        }
        set
    }

    /// True when no path is in the set.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds a path. The empty path (the object itself) is never a member.
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// True when `path` is a member (not merely a prefix of one).
    pub fn contains(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|child| child.contains(rest)),
        }
    }

    /// True when `element` ends a path at this node.
    pub fn has_member(&self, element: &PathElement) -> bool {
        self.members.contains(element)
    }

    /// The paths that continue through `element`, relative to it.
    pub fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children.get(element)
    }

    /// The elements that end a path at this node, in order.
    pub fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// The elements paths continue through, with what follows them, in order.
    pub fn children(&self) -> impl Iterator<Item = (&PathElement, &FieldSet)> {
        self.children.iter()
    }

    /// Every path in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (element, child) in &other.children {
            let merged = match out.children.get(element) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(element.clone(), merged);
        }
        out
    }

    /// The paths of `self` that are not in `other`. Like upstream's `Difference`, this is
    /// member-wise: removing a path does not remove the paths below it.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(element, child)| {
                let rest = match other.children.get(element) {
                    Some(theirs) => child.difference(theirs),
                    None => child.clone(),
                };
                (!rest.is_empty()).then(|| (element.clone(), rest))
            })
            .collect();
        FieldSet { members, children }
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(element, child)| {
                let both = child.intersection(other.children.get(element)?);
                (!both.is_empty()).then(|| (element.clone(), both))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Every path, in upstream's iteration order: at each node the members first, then
    /// the paths through each child.
    pub fn paths(&self) -> Vec<FieldPath> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<FieldPath>) {
        for member in &self.members {
            let mut path = prefix.clone();
            path.push(member.clone());
            out.push(FieldPath(path));
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Reads the `FieldsV1` format (`metadata.managedFields[].fieldsV1`).
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, FieldsV1Error> {
        Ok(Self::parse_node(value)?.1)
    }

    /// Reads one node: whether it carries the `.` marker, and the set below it.
    fn parse_node(value: &Value) -> Result<(bool, FieldSet), FieldsV1Error> {
        let Value::Object(object) = value else {
            return Err(FieldsV1Error::NotAnObject(value.to_string()));
        };
        let mut set = FieldSet::new();
        let mut marked = false;
        for (key, node) in object {
            if key == "." {
                marked = true;
                continue;
            }
            let element = PathElement::from_fields_v1_key(key)?;
            let (self_marker, child) = Self::parse_node(node)?;
            if child.is_empty() || self_marker {
                set.members.insert(element.clone());
            }
            if !child.is_empty() {
                set.children.insert(element, child);
            }
        }
        Ok((marked, set))
    }

    /// The `FieldsV1` value. Its keys are the same as upstream writes; their order is
    /// whatever `serde_json::Map` keeps (see [`FieldSet::to_fields_v1_string`]).
    pub fn to_fields_v1(&self) -> Value {
        self.emit_value(false)
    }

    fn emit_value(&self, include_self: bool) -> Value {
        let mut object = Map::new();
        if include_self && !self.is_empty() {
            object.insert(".".to_string(), Value::Object(Map::new()));
        }
        for member in &self.members {
            if !self.children.contains_key(member) {
                object.insert(member.to_fields_v1_key(), Value::Object(Map::new()));
            }
        }
        for (element, child) in &self.children {
            object.insert(element.to_fields_v1_key(), child.emit_value(self.members.contains(element)));
        }
        Value::Object(object)
    }

    /// The compact `FieldsV1` text byte for byte as upstream writes it: `.` first, then
    /// the elements in path-element order.
    pub fn to_fields_v1_string(&self) -> String {
        let mut out = String::new();
        self.emit_string(false, &mut out);
        out
    }

    fn emit_string(&self, include_self: bool, out: &mut String) {
        let mut entries: Vec<(&PathElement, Option<&FieldSet>)> =
            self.members.iter().filter(|m| !self.children.contains_key(*m)).map(|m| (m, None)).collect();
        entries.extend(self.children.iter().map(|(element, child)| (element, Some(child))));
        entries.sort_by(|a, b| a.0.cmp(b.0));

        out.push('{');
        let mut first = true;
        if include_self && !self.is_empty() {
            out.push_str("\".\":{}");
            first = false;
        }
        for (element, child) in entries {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&Value::String(element.to_fields_v1_key()).to_string());
            out.push(':');
            match child {
                Some(child) => child.emit_string(self.members.contains(element), out),
                None => out.push_str("{}"),
            }
        }
        out.push('}');
    }

    /// Adds, as members, the children that are object fields: upstream's
    /// `EnsureNamedFieldsAreMembers`, which lets pruning remove a field whose contents
    /// nobody owns any more. Every `f:` step counts; in the kinds served, the only maps
    /// whose keys are not struct fields hold scalars, so they never have children.
    pub fn with_fields_as_members(&self) -> FieldSet {
        let mut out = FieldSet { members: self.members.clone(), children: BTreeMap::new() };
        for (element, child) in &self.children {
            if matches!(element, PathElement::Field(_)) {
                out.members.insert(element.clone());
            }
            out.children.insert(element.clone(), child.with_fields_as_members());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> FieldSet {
        FieldSet::from_fields_v1(&serde_json::from_str(text).unwrap()).unwrap()
    }

    fn rendered(set: &FieldSet) -> Vec<String> {
        set.paths().iter().map(FieldPath::to_string).collect()
    }

    /// Texts as the apiserver writes them round-trip byte for byte.
    #[test]
    fn fields_v1_round_trips() {
        let cases = [
            "{}",
            r#"{"f:metadata":{"f:labels":{"f:app":{}}}}"#,
            r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{}}}}}"#,
            r#"{"f:metadata":{"f:annotations":{".":{},"f:a":{}},"f:finalizers":{".":{},"v:\"example.com/a\"":{},"v:\"example.com/b\"":{}}}}"#,
            r#"{"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}},"k:{\"containerPort\":443,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}"#,
            r#"{"f:status":{"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{}}},"f:phase":{}}}"#,
            r#"{"f:list":{"i:0":{}}}"#,
        ];
        for text in cases {
            let set = parse(text);
            assert_eq!(set.to_fields_v1_string(), text);
            assert_eq!(set.to_fields_v1(), serde_json::from_str::<Value>(text).unwrap(), "{text}");
            assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()).unwrap(), set, "{text}");
        }
    }

    #[test]
    fn lists_and_renders_paths_in_upstream_order() {
        let set = parse(
            r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{}}}},"f:x":{}}"#,
        );
        assert_eq!(
            rendered(&set),
            [
                ".x",
                ".metadata.labels.app",
                r#".spec.containers[name="nginx"]"#,
                r#".spec.containers[name="nginx"].image"#
            ]
        );
        let finalizers = parse(r#"{"f:metadata":{"f:finalizers":{"v:\"a\"":{}}}}"#);
        assert_eq!(rendered(&finalizers), [r#".metadata.finalizers[="a"]"#]);
    }

    #[test]
    fn rejects_malformed_fields_v1() {
        assert_eq!(FieldSet::from_fields_v1(&json!({"f:a": 1})), Err(FieldsV1Error::NotAnObject("1".to_string())));
        assert_eq!(FieldSet::from_fields_v1(&json!([])), Err(FieldsV1Error::NotAnObject("[]".to_string())));
        assert!(matches!(FieldSet::from_fields_v1(&json!({"x:a": {}})), Err(FieldsV1Error::Element(_))));
    }

    #[test]
    fn set_algebra_follows_upstream() {
        let a = parse(r#"{"f:a":{},"f:b":{"f:c":{},"f:d":{}},"f:e":{".":{},"f:f":{}}}"#);
        let b = parse(r#"{"f:b":{"f:c":{}},"f:e":{},"f:g":{}}"#);
        type Case = (&'static str, FieldSet, &'static str);
        let cases: [Case; 4] = [
            ("union", a.union(&b), r#"{"f:a":{},"f:b":{"f:c":{},"f:d":{}},"f:e":{".":{},"f:f":{}},"f:g":{}}"#),
            // Member-wise: removing `e` leaves `e.f`.
            ("difference", a.difference(&b), r#"{"f:a":{},"f:b":{"f:d":{}},"f:e":{"f:f":{}}}"#),
            ("intersection", a.intersection(&b), r#"{"f:b":{"f:c":{}},"f:e":{}}"#),
            ("named fields", b.with_fields_as_members(), r#"{"f:b":{".":{},"f:c":{}},"f:e":{},"f:g":{}}"#),
        ];
        for (name, set, expected) in cases {
            assert_eq!(set.to_fields_v1_string(), expected, "{name}");
        }
        assert!(a.difference(&a).is_empty());
        assert!(FieldSet::new().is_empty());
        let path = [PathElement::field("b"), PathElement::field("d")];
        assert!(a.contains(&path) && !a.contains(&path[..1]) && !a.contains(&[]));
        assert_eq!(FieldSet::from_paths([&path[..]]).to_fields_v1_string(), r#"{"f:b":{"f:d":{}}}"#);
    }
}
