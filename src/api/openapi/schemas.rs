//! The `components.schemas` of one group-version's document, generated from the
//! `k8s-openapi` types: their `schemars` impls carry upstream's descriptions, types and
//! required fields. The raw definitions are then finished the way upstream's documents
//! are: each kind (and its `<Kind>List`, which `k8s-openapi` has no schema for) carries
//! `x-kubernetes-group-version-kind`; list fields carry the patch strategy, merge key and
//! list type from [`crate::model::patch::schema`]; value structs get `"default": {}`; and
//! a `$ref` with sibling keywords is wrapped as `{"allOf": [{"$ref": ...}], ...}`, which is
//! how `kubectl explain` expects nested types.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, ListMeta, Patch, Status, WatchEvent};
use k8s_openapi::schemars::generate::SchemaSettings;
use k8s_openapi::schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::api::registry::ResourceDef;
use crate::model::k8s::core::v1::Binding;
use crate::model::k8s::policy::v1::Eviction;
use crate::model::patch::schema::{self as patch, FieldSchema, TypeSchema};

/// Where the schemas live; every `$ref` starts with this.
pub const PREFIX: &str = "#/components/schemas/";
/// `metav1.Status`, the answer to deletes of most kinds and to every error.
pub const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
/// `metav1.DeleteOptions`, the body of a DELETE.
pub const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
/// `metav1.WatchEvent`, one event of a watch stream.
pub const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
/// `metav1.Patch`, the (free-form) body of a PATCH.
pub const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// A kind: group, version and kind name.
pub type Gvk = (&'static str, &'static str, &'static str);

/// The schemas of one document, and which schema is which kind.
pub struct Schemas {
    /// `components.schemas`.
    pub schemas: Map<String, Value>,
    /// The schema name of each kind in the document (served kinds and subresource kinds).
    kinds: Vec<(Gvk, String)>,
}

impl Schemas {
    /// The schema name of a kind, when the document has it.
    pub fn kind(&self, gvk: Gvk) -> Option<&str> {
        self.kinds.iter().find(|(k, _)| *k == gvk).map(|(_, name)| name.as_str())
    }

    /// The schema name of a served kind's list (`io.k8s.api.core.v1.PodList`).
    pub fn list(&self, gvk: Gvk) -> Option<String> {
        self.kind(gvk).map(|name| format!("{name}List"))
    }
}

/// A `$ref` to a schema.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("{PREFIX}{name}") })
}

/// The schema name a `$ref` points to.
fn target(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(PREFIX)
}

/// The schema of a kind that a subresource takes and returns, when it is not the parent
/// resource's own kind (whose schema comes from the registry's codec).
fn subresource_kind(generator: &mut SchemaGenerator, gvk: Gvk) -> Option<Schema> {
    match gvk {
        ("", "v1", "Binding") => Some(generator.subschema_for::<Binding>()),
        ("policy", "v1", "Eviction") => Some(generator.subschema_for::<Eviction>()),
        _ => None,
    }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

/// Notes that the schema behind `schema` (a `$ref`) is the kind `gvk`.
fn record(kinds: &mut Vec<(Gvk, String)>, gvk: Gvk, schema: &Schema) {
    if let Some(name) = target(schema.as_value())
        && !kinds.iter().any(|(k, _)| *k == gvk)
    {
        kinds.push((gvk, name.to_string()));
    }
}

/// Builds the schemas of a document serving `resources` (one group-version). `served` is
/// every group-version of the server: the shared meta types list them all, as upstream.
pub fn build(resources: &[&'static ResourceDef], served: &[(&'static str, &'static str)]) -> Schemas {
    let settings = SchemaSettings::openapi3().with(|s| {
        s.meta_schema = None;
        s.transforms.clear();
    });
    let mut generator = settings.into_generator();
    let mut kinds: Vec<(Gvk, String)> = Vec::new();
    for def in resources {
        let gvk = (def.group, def.version, def.kind);
        record(&mut kinds, gvk, &def.codec.schema(&mut generator));
        for sub in def.subresources {
            let sub_gvk = (sub.group, sub.version, sub.kind);
            if sub_gvk != gvk
                && let Some(schema) = subresource_kind(&mut generator, sub_gvk)
            {
                record(&mut kinds, sub_gvk, &schema);
            }
        }
    }
    generator.subschema_for::<Status>();
    generator.subschema_for::<DeleteOptions>();
    generator.subschema_for::<WatchEvent<()>>();
    generator.subschema_for::<Patch>();
    generator.subschema_for::<ListMeta>();
    let mut schemas = generator.take_definitions(false);

    let mut extensions: Vec<(String, Vec<Value>)> = Vec::new();
    for (gvk_of, name) in &kinds {
        let (group, version, kind) = *gvk_of;
        extensions.push((name.clone(), vec![gvk(group, version, kind)]));
        // `k8s-openapi` makes `metadata` required (it is not an `Option` in Rust);
        // upstream does not require it.
        if let Some(Value::Object(schema)) = schemas.get_mut(name)
            && let Some(Value::Array(required)) = schema.get_mut("required")
        {
            required.retain(|r| r != "metadata");
            if required.is_empty() {
                schema.remove("required");
            }
        }
    }
    for def in resources {
        let Some(name) = kinds.iter().find(|(k, _)| *k == (def.group, def.version, def.kind)).map(|(_, n)| n) else {
            continue;
        };
        let list = format!("{name}List");
        schemas.insert(list.clone(), list_schema(&schemas, name, def.kind));
        extensions.push((list, vec![gvk(def.group, def.version, &format!("{}List", def.kind))]));
    }
    for (name, kind) in [(DELETE_OPTIONS, "DeleteOptions"), (WATCH_EVENT, "WatchEvent")] {
        extensions.push((name.to_string(), served.iter().map(|(g, v)| gvk(g, v, kind)).collect()));
    }
    extensions.push((STATUS.to_string(), vec![gvk("", "v1", "Status")]));
    for (name, gvks) in extensions {
        if let Some(Value::Object(schema)) = schemas.get_mut(&name) {
            schema.insert("x-kubernetes-group-version-kind".into(), Value::Array(gvks));
        }
    }

    for def in resources {
        let Some(patch_schema) = patch::schema_for(&def.api_version(), def.kind) else { continue };
        if let Some(name) = kinds.iter().find(|(k, _)| *k == (def.group, def.version, def.kind)).map(|(_, n)| n) {
            annotate(&mut schemas, name, patch_schema, &mut BTreeSet::new(), &mut Vec::new());
        }
    }
    let kind_names: BTreeSet<String> = kinds.iter().map(|(_, n)| n.clone()).collect();
    add_defaults(&mut schemas, &kind_names);
    for schema in schemas.values_mut() {
        wrap_refs(schema);
    }
    Schemas { schemas, kinds }
}

/// The `<Kind>List` schema, shaped like upstream's.
fn list_schema(schemas: &Map<String, Value>, kind_schema: &str, kind: &str) -> Value {
    let property =
        |name: &str| schemas.get(kind_schema).and_then(|s| s.pointer(&format!("/properties/{name}"))).cloned();
    let mut items = reference(kind_schema);
    items["default"] = json!({});
    let mut metadata = reference(LIST_META);
    metadata["default"] = json!({});
    metadata["description"] = json!(
        "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
    );
    let mut properties = Map::new();
    if let Some(api_version) = property("apiVersion") {
        properties.insert("apiVersion".into(), api_version);
    }
    properties.insert(
        "items".into(),
        json!({"description": format!("List of {kind} objects."), "type": "array", "items": items}),
    );
    if let Some(kind_property) = property("kind") {
        properties.insert("kind".into(), kind_property);
    }
    properties.insert("metadata".into(), metadata);
    json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "type": "object",
        "required": ["items"],
        "properties": properties,
    })
}

/// Puts the patch metadata of `ty` on the schema `name` and, through the table's nested
/// types, on the schemas it references. Fields the table names but the schema lacks are
/// reported in `misses` (the unit tests keep it empty).
fn annotate(
    schemas: &mut Map<String, Value>,
    name: &str,
    ty: &'static TypeSchema,
    seen: &mut BTreeSet<String>,
    misses: &mut Vec<String>,
) {
    if !seen.insert(name.to_string()) {
        return;
    }
    if !name.ends_with(&format!(".{}", ty.name)) {
        misses.push(format!("{name} is not {}", ty.name));
    }
    for (field, field_schema) in ty.fields {
        let Some(property) = schemas.get_mut(name).and_then(|s| s.pointer_mut(&format!("/properties/{field}"))) else {
            misses.push(format!("{name}.{field}"));
            continue;
        };
        let (next, inner) = match field_schema {
            FieldSchema::Object(inner) => (target(property).map(str::to_string), Some(*inner)),
            FieldSchema::List(list) => {
                if let Some(strategy) = list.patch_strategy_extension() {
                    property["x-kubernetes-patch-strategy"] = json!(strategy);
                }
                if let Some(key) = list.merge_key() {
                    property["x-kubernetes-patch-merge-key"] = json!(key);
                }
                if let Some(list_type) = list.list_type {
                    property["x-kubernetes-list-type"] = json!(list_type.as_str());
                }
                if !list.list_map_keys.is_empty() {
                    property["x-kubernetes-list-map-keys"] = json!(list.list_map_keys);
                }
                (property.get("items").and_then(target).map(str::to_string), list.items)
            }
        };
        match (next, inner) {
            (Some(next), Some(inner)) => annotate(schemas, &next, inner, seen, misses),
            (None, Some(_)) => misses.push(format!("{name}.{field}: no $ref to step into")),
            _ => {}
        }
    }
}

/// Whether the schema `name` is a struct (an object with properties), whose Go zero value
/// upstream writes as `"default": {}`.
fn is_struct(schemas: &Map<String, Value>, name: &str) -> bool {
    schemas.get(name).is_some_and(|s| s.get("properties").is_some())
}

/// `"default": {}` where upstream has it: on required struct fields and on the `metadata`,
/// `spec` and `status` of kinds (Go value fields), and on the items of struct lists.
fn add_defaults(schemas: &mut Map<String, Value>, kinds: &BTreeSet<String>) {
    let mut changes: Vec<(String, String)> = Vec::new();
    for (name, schema) in schemas.iter() {
        let required: Vec<&str> =
            schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let Some(Value::Object(properties)) = schema.get("properties") else { continue };
        for (field, property) in properties {
            let value_field = required.contains(&field.as_str())
                || (kinds.contains(name) && matches!(field.as_str(), "metadata" | "spec" | "status"));
            if value_field && target(property).is_some_and(|t| is_struct(schemas, t)) {
                changes.push((name.clone(), format!("/properties/{field}")));
            }
            if property.get("items").and_then(target).is_some_and(|t| is_struct(schemas, t)) {
                changes.push((name.clone(), format!("/properties/{field}/items")));
            }
        }
    }
    for (name, pointer) in changes {
        if let Some(Value::Object(schema)) = schemas.get_mut(&name).and_then(|s| s.pointer_mut(&pointer)) {
            schema.entry("default").or_insert_with(|| json!({}));
        }
    }
}

/// Rewrites `{"$ref": X, <siblings>}` as `{"allOf": [{"$ref": X}], <siblings>}` in a schema
/// and its subschemas (OpenAPI 3.0 ignores a `$ref`'s siblings; upstream wraps them).
fn wrap_refs(schema: &mut Value) {
    let Value::Object(object) = schema else { return };
    for key in ["items", "additionalProperties", "not"] {
        if let Some(sub) = object.get_mut(key) {
            wrap_refs(sub);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(subs)) = object.get_mut(key) {
            subs.iter_mut().for_each(wrap_refs);
        }
    }
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        properties.values_mut().for_each(wrap_refs);
    }
    if object.len() > 1
        && let Some(reference) = object.remove("$ref")
    {
        let all_of = object.entry("allOf").or_insert_with(|| json!([]));
        if let Value::Array(all_of) = all_of {
            all_of.insert(0, json!({ "$ref": reference }));
        }
    }
}

#[cfg(test)]
pub(super) fn annotate_misses(resources: &[&'static ResourceDef]) -> Vec<String> {
    let settings = SchemaSettings::openapi3().with(|s| s.transforms.clear());
    let mut generator = settings.into_generator();
    let names: Vec<(String, &'static TypeSchema)> = resources
        .iter()
        .filter_map(|def| {
            let ty = patch::schema_for(&def.api_version(), def.kind)?;
            Some((target(def.codec.schema(&mut generator).as_value())?.to_string(), ty))
        })
        .collect();
    let mut schemas = generator.take_definitions(false);
    let mut misses = Vec::new();
    for (name, ty) in names {
        annotate(&mut schemas, &name, ty, &mut BTreeSet::new(), &mut misses);
    }
    misses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_refs_with_siblings_only() {
        let mut schema = json!({
            "properties": {
                "a": {"$ref": "#/components/schemas/A", "description": "a"},
                "b": {"type": "array", "items": {"$ref": "#/components/schemas/B"}},
                "c": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/C", "default": {}}},
            }
        });
        wrap_refs(&mut schema);
        assert_eq!(
            schema["properties"]["a"],
            json!({"allOf": [{"$ref": "#/components/schemas/A"}], "description": "a"})
        );
        assert_eq!(schema["properties"]["b"]["items"], json!({"$ref": "#/components/schemas/B"}));
        assert_eq!(
            schema["properties"]["c"]["additionalProperties"],
            json!({"allOf": [{"$ref": "#/components/schemas/C"}], "default": {}})
        );
    }

    #[test]
    fn every_subresource_kind_has_a_schema() {
        let mut generator = SchemaSettings::openapi3().into_generator();
        for def in crate::api::registry::RESOURCES {
            for sub in def.subresources {
                let gvk = (sub.group, sub.version, sub.kind);
                assert!(
                    gvk == (def.group, def.version, def.kind) || subresource_kind(&mut generator, gvk).is_some(),
                    "{}/{}: no schema for {gvk:?}",
                    def.plural,
                    sub.name
                );
            }
        }
    }
}
