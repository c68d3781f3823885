//! Server-side printing (`Accept: ...;as=Table`): the column sets and cell values kubectl
//! shows for each resource, modelled on kube-apiserver's printers. kubectl prints the cells
//! as given and hides `priority > 0` columns unless `-o wide`.

mod age;
mod core;
mod pods;

use jiff::Timestamp;
use serde_json::{Value, json};

pub use age::{age_since, human_duration};
pub use core::{
    CONFIGMAPS, ENDPOINTS, EVENTS, LEASES, LIMIT_RANGES, NAMESPACES, NODES, RESOURCE_QUOTAS, SECRETS, SERVICE_ACCOUNTS,
    SERVICES,
};
pub use pods::PODS;

/// One column of a table.
#[derive(Debug)]
pub struct Column {
    /// The header (kubectl upper-cases it).
    pub name: &'static str,
    /// `string`, `integer` or `date`.
    pub kind: &'static str,
    /// `name` for the name column, else empty.
    pub format: &'static str,
    /// What the column shows.
    pub description: &'static str,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: u8,
}

/// How one resource prints.
pub struct TableDef {
    /// The columns, in order.
    pub columns: &'static [Column],
    /// The cells of one object, one per column.
    pub row: fn(&Value, Timestamp) -> Vec<Value>,
}

/// What each row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the query parameter; unknown values are the default.
    pub fn parse(text: Option<&str>) -> Self {
        match text {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// The name column every table starts with.
pub const NAME: Column = Column {
    name: "Name",
    kind: "string",
    format: "name",
    description: "Name must be unique within a namespace. Cannot be updated.",
    priority: 0,
};
/// The age column.
pub const AGE: Column = Column {
    name: "Age",
    kind: "string",
    format: "",
    description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
    priority: 0,
};

/// The column definitions as JSON.
pub fn column_definitions(def: &TableDef) -> Vec<Value> {
    def.columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.kind, "format": c.format, "description": c.description, "priority": c.priority}))
        .collect()
}

/// One row: the cells plus the requested object.
pub fn row(def: &TableDef, object: &Value, include: IncludeObject, now: Timestamp) -> Value {
    let mut row = json!({"cells": (def.row)(object, now)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
            });
        }
        IncludeObject::Object => row["object"] = object.clone(),
    }
    row
}

/// A whole table. `metadata` is the list metadata (resourceVersion, continue).
pub fn table(def: &TableDef, rows: Vec<Value>, metadata: Value, with_columns: bool) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": if with_columns { column_definitions(def) } else { Vec::new() },
        "rows": rows,
    })
}

/// A string field, or `default` when absent or empty.
pub(crate) fn text<'a>(object: &'a Value, pointer: &str, default: &'a str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(default)
}

/// The age column's cell.
pub(crate) fn age_cell(object: &Value, now: Timestamp) -> Value {
    Value::from(age_since(object.pointer("/metadata/creationTimestamp").and_then(Value::as_str), now))
}

/// The fallback table: name and age.
pub static DEFAULT: TableDef = TableDef {
    columns: &[NAME, AGE],
    row: |o, now| vec![Value::from(text(o, "/metadata/name", "")), age_cell(o, now)],
};
