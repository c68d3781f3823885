//! One step of a field path, as structured-merge-diff names it: a field of an object
//! (`f:name`), an item of a list-map by its key fields (`k:{"name":"nginx"}`), an item of a
//! set by its value (`v:"x"`), or an item by position (`i:0`, which Kubernetes only writes
//! for lists it cannot identify otherwise). This module owns the total order upstream sorts
//! path elements in, their spelling in `FieldsV1` keys, and their human rendering in
//! conflict messages (`.image`, `[name="nginx"]`, `[="x"]`, `[0]`).

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};

/// One step of a field path.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A field of an object, by JSON name.
    Field(String),
    /// An item of a list-map, by its key fields sorted by name.
    Key(Vec<(String, Value)>),
    /// An item of a set, by its value.
    Value(Value),
    /// An item of a list, by position.
    Index(usize),
}

/// Why a `FieldsV1` key could not be read as a path element.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathElementError {
    /// The prefix is not `f:`, `k:`, `v:` or `i:`.
    #[error("unknown path element prefix in {0:?}")]
    UnknownPrefix(String),
    /// The JSON after `k:` or `v:`, or the number after `i:`, does not parse.
    #[error("invalid path element {key:?}: {reason}")]
    Invalid {
        /// The whole key.
        key: String,
        /// What was wrong.
        reason: String,
    },
}

impl PathElement {
    /// A field element.
    pub fn field(name: impl Into<String>) -> Self {
        PathElement::Field(name.into())
    }

    /// A list-map element from its key fields, in any order.
    pub fn key(fields: impl IntoIterator<Item = (String, Value)>) -> Self {
        let mut fields: Vec<(String, Value)> = fields.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        PathElement::Key(fields)
    }

    /// The element's spelling as a key of a `FieldsV1` object.
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let object: Map<String, Value> = fields.iter().cloned().collect();
                format!("k:{}", Value::Object(object))
            }
            PathElement::Value(value) => format!("v:{value}"),
            PathElement::Index(index) => format!("i:{index}"),
        }
    }

    /// Reads a `FieldsV1` key (other than the `.` marker).
    pub fn from_fields_v1_key(key: &str) -> Result<Self, PathElementError> {
        let invalid = |reason: String| PathElementError::Invalid { key: key.to_string(), reason };
        let Some((prefix, rest)) = key.split_once(':') else {
            return Err(PathElementError::UnknownPrefix(key.to_string()));
        };
        match prefix {
            "f" => Ok(PathElement::Field(rest.to_string())),
            "k" => match serde_json::from_str::<Value>(rest).map_err(|e| invalid(e.to_string()))? {
                Value::Object(object) => Ok(PathElement::key(object)),
                _ => Err(invalid("the key is not a JSON object".to_string())),
            },
            "v" => serde_json::from_str(rest).map(PathElement::Value).map_err(|e| invalid(e.to_string())),
            "i" => rest.parse().map(PathElement::Index).map_err(|e: std::num::ParseIntError| invalid(e.to_string())),
            _ => Err(PathElementError::UnknownPrefix(key.to_string())),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
}

/// The human rendering upstream prints in conflicts: `.name`, `[k=v,k2=v2]`, `[=v]`, `[i]`.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> =
                    fields.iter().map(|(name, value)| format!("{name}={}", go_value_string(value))).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(value) => write!(f, "[={}]", go_value_string(value)),
            PathElement::Index(index) => write!(f, "[{index}]"),
        }
    }
}

impl Ord for PathElement {
    /// Fields before keys before values before indices; within a kind, by name, by key
    /// fields (name, then value, lexically), by value, by position.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_key_fields(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

fn compare_key_fields(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((a_name, a_value), (b_name, b_value)) in a.iter().zip(b) {
        let order = a_name.cmp(b_name).then_with(|| compare_values(a_value, b_value));
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// Upstream's total order on JSON values: numbers (ints and floats compared numerically),
/// then strings, booleans, lists, maps and null.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(value: &Value) -> u8 {
        match value {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => a.as_f64().unwrap_or(f64::NAN).total_cmp(&b.as_f64().unwrap_or(f64::NAN)),
        },
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Array(a), Value::Array(b)) => {
            a.iter().zip(b).map(|(a, b)| compare_values(a, b)).find(|o| o.is_ne()).unwrap_or(a.len().cmp(&b.len()))
        }
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .zip(b)
            .map(|((ak, av), (bk, bv))| ak.cmp(bk).then_with(|| compare_values(av, bv)))
            .find(|o| o.is_ne())
            .unwrap_or(a.len().cmp(&b.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Equality under [`compare_values`]: `1` equals `1.0`, as upstream's comparison has it.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    compare_values(a, b) == Ordering::Equal
}

/// A value as Go's `value.ToString` prints it: strings quoted like `%q`, the rest plain.
fn go_value_string(value: &Value) -> String {
    match value {
        Value::String(s) => go_quote(s),
        Value::Array(items) => format!("[{}]", items.iter().map(go_value_string).collect::<Vec<_>>().join(",")),
        Value::Object(map) => map.iter().map(|(k, v)| format!("{k}={}", go_value_string(v))).collect::<String>(),
        other => other.to_string(),
    }
}

/// A string quoted the way Go's `%q` (`strconv.Quote`) quotes it.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spells_fields_v1_keys_and_reads_them_back() {
        let cases = [
            (PathElement::field("image"), r#"f:image"#),
            (PathElement::key([("name".to_string(), json!("nginx"))]), r#"k:{"name":"nginx"}"#),
            (
                PathElement::key([("protocol".to_string(), json!("TCP")), ("containerPort".to_string(), json!(80))]),
                r#"k:{"containerPort":80,"protocol":"TCP"}"#,
            ),
            (PathElement::Value(json!("kubernetes.io/pv-protection")), r#"v:"kubernetes.io/pv-protection""#),
            (PathElement::Value(json!(3)), "v:3"),
            (PathElement::Index(2), "i:2"),
        ];
        for (element, key) in cases {
            assert_eq!(element.to_fields_v1_key(), key);
            assert_eq!(PathElement::from_fields_v1_key(key).unwrap(), element, "{key}");
        }
    }

    #[test]
    fn rejects_malformed_keys() {
        let cases = [
            ("x:y", PathElementError::UnknownPrefix("x:y".to_string())),
            ("image", PathElementError::UnknownPrefix("image".to_string())),
            (
                "k:[1]",
                PathElementError::Invalid {
                    key: "k:[1]".to_string(),
                    reason: "the key is not a JSON object".to_string(),
                },
            ),
        ];
        for (key, expected) in cases {
            assert_eq!(PathElement::from_fields_v1_key(key).unwrap_err(), expected, "{key}");
        }
        assert!(matches!(PathElement::from_fields_v1_key("v:{"), Err(PathElementError::Invalid { .. })));
        assert!(matches!(PathElement::from_fields_v1_key("i:-1"), Err(PathElementError::Invalid { .. })));
    }

    #[test]
    fn renders_like_upstream_conflict_paths() {
        let cases = [
            (PathElement::field("image"), ".image"),
            (PathElement::key([("name".to_string(), json!("nginx"))]), r#"[name="nginx"]"#),
            (
                PathElement::key([("protocol".to_string(), json!("TCP")), ("containerPort".to_string(), json!(80))]),
                r#"[containerPort=80,protocol="TCP"]"#,
            ),
            (PathElement::Value(json!("a\"b")), r#"[="a\"b"]"#),
            (PathElement::Index(0), "[0]"),
        ];
        for (element, text) in cases {
            assert_eq!(element.to_string(), text);
        }
    }

    #[test]
    fn orders_like_upstream() {
        let mut elements = [
            PathElement::Index(0),
            PathElement::Value(json!("b")),
            PathElement::Value(json!(10)),
            PathElement::key([("containerPort".to_string(), json!(443))]),
            PathElement::key([("containerPort".to_string(), json!(80))]),
            PathElement::field("b"),
            PathElement::field("a"),
        ];
        elements.sort();
        let keys: Vec<String> = elements.iter().map(PathElement::to_fields_v1_key).collect();
        assert_eq!(
            keys,
            [r#"f:a"#, "f:b", r#"k:{"containerPort":80}"#, r#"k:{"containerPort":443}"#, "v:10", r#"v:"b""#, "i:0"]
        );
        assert!(values_equal(&json!(1), &json!(1.0)));
        assert_eq!(go_quote("tab\there\u{1}"), r#""tab\there\x01""#);
    }
}
