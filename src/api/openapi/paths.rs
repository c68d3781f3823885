//! The `paths` of one group-version's document, from the registry: for every served
//! resource its collection, its objects, its all-namespaces list and its subresources, with
//! one operation per verb the registry serves there. Operations are named as upstream
//! names them (`patchCoreV1NamespacedPod`), carry `x-kubernetes-action` and
//! `x-kubernetes-group-version-kind`, and list their query parameters: kubectl decides
//! whether the server validates fields by looking for `fieldValidation` on the kind's
//! PATCH operation (reference §6.2).

use serde_json::{Map, Value, json};

use crate::api::openapi::schemas::{self, Gvk, Schemas, reference};
use crate::api::registry::ResourceDef;

/// The media types a PATCH accepts, one per patch format.
pub const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": kind, "uniqueItems": true}})
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn dry_run() -> Value {
    query(
        "dryRun",
        "string",
        "When present, indicates that modifications should not be persisted. The only valid value is All: process the request fully but do not store the result.",
    )
}

/// `dryRun`, `fieldManager`, `fieldValidation`: the parameters of every write.
fn write_parameters() -> Vec<Value> {
    vec![
        dry_run(),
        query(
            "fieldManager",
            "string",
            "The name of the actor or entity making these changes; at most 128 printable characters.",
        ),
        query(
            "fieldValidation",
            "string",
            "How the server treats unknown and duplicate fields in the request body: Ignore, Warn or Strict.",
        ),
    ]
}

fn patch_parameters() -> Vec<Value> {
    let mut parameters = write_parameters();
    parameters.push(query(
        "force",
        "boolean",
        "Force applies the request even when it conflicts with other managers' fields. Only for apply patches.",
    ));
    parameters
}

fn list_parameters(watch: bool) -> Vec<Value> {
    let mut parameters = vec![
        query(
            "allowWatchBookmarks",
            "boolean",
            "Asks a watch for BOOKMARK events, which carry only a resourceVersion. Ignored when not watching.",
        ),
        query("continue", "string", "The continue token of the previous page of a paginated list."),
        query("fieldSelector", "string", "Restricts the objects returned by their fields, such as metadata.name=web."),
        query("labelSelector", "string", "Restricts the objects returned by their labels, such as app=web,tier!=db."),
        query("limit", "integer", "The largest number of objects a list returns; the rest are reached with continue."),
        query(
            "resourceVersion",
            "string",
            "Which version of the collection a list or watch starts from; see resourceVersionMatch.",
        ),
        query("resourceVersionMatch", "string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
        query(
            "sendInitialEvents",
            "boolean",
            "Asks a watch to start with ADDED events for the current objects, ended by a bookmark.",
        ),
        query("timeoutSeconds", "integer", "How long a list or watch call may last, in seconds."),
    ];
    if watch {
        parameters.push(query(
            "watch",
            "boolean",
            "Watch for changes to the described resources and return them as a stream of add, update and remove notifications.",
        ));
    }
    parameters
}

fn delete_parameters() -> Vec<Value> {
    vec![
        dry_run(),
        query(
            "gracePeriodSeconds",
            "integer",
            "The seconds before the object is deleted; zero deletes immediately. The object's own default applies when absent.",
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how dependents are garbage collected: Orphan, Background or Foreground.",
        ),
    ]
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn responses(codes: &[&str], schema: &str) -> Value {
    let mut responses = Map::new();
    for code in codes {
        let description = match *code {
            "201" => "Created",
            "202" => "Accepted",
            _ => "OK",
        };
        responses
            .insert(code.to_string(), json!({"description": description, "content": json_content(reference(schema))}));
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(responses)
}

/// `coordination.k8s.io` → `Coordination`, `` → `Core`, `v1beta1` → `V1beta1`: upstream's
/// operation id words.
fn camel(word: &str) -> String {
    word.split(['.', '-'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn group_words(group: &str) -> String {
    if group.is_empty() { "Core".to_string() } else { camel(group.trim_end_matches(".k8s.io")) }
}

fn tag(group: &str, version: &str) -> String {
    let group = if group.is_empty() { "core".to_string() } else { group.trim_end_matches(".k8s.io").replace('.', "_") };
    format!("{group}_{version}")
}

/// What one operation is about, for its id and extensions.
struct Op<'a> {
    def: &'a ResourceDef,
    /// The verb word of the id: `list`, `create`, `read`, `replace`, `patch`, `delete`.
    verb: &'static str,
    /// `x-kubernetes-action`.
    action: &'static str,
    /// Between the version and the kind: `Namespaced`, `Collection`, ``.
    scope: &'static str,
    /// After the kind: `ForAllNamespaces`, `Status`, ``.
    suffix: String,
    /// The kind the operation is about.
    gvk: Gvk,
}

impl Op<'_> {
    fn id(&self) -> String {
        format!(
            "{}{}{}{}{}{}",
            self.verb,
            group_words(self.def.group),
            camel(self.def.version),
            self.scope,
            self.def.kind,
            self.suffix
        )
    }

    fn operation(&self, description: String, parameters: Vec<Value>) -> Map<String, Value> {
        let (group, version, kind) = self.gvk;
        let mut operation = Map::new();
        operation.insert("description".into(), json!(description));
        operation.insert("operationId".into(), json!(self.id()));
        operation.insert("tags".into(), json!([tag(self.def.group, self.def.version)]));
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        operation.insert("x-kubernetes-action".into(), json!(self.action));
        operation.insert(
            "x-kubernetes-group-version-kind".into(),
            json!({"group": group, "kind": kind, "version": version}),
        );
        operation
    }
}

/// A path item: its operations and its path parameters.
fn path_item(namespaced: bool, named: bool, operations: Map<String, Value>) -> Value {
    let mut parameters = Vec::new();
    if named {
        parameters.push(path_parameter("name", "The name of the object."));
    }
    if namespaced {
        parameters.push(path_parameter("namespace", "The object name and auth scope, such as for teams and projects."));
    }
    let mut item = operations;
    if !parameters.is_empty() {
        item.insert("parameters".into(), Value::Array(parameters));
    }
    Value::Object(item)
}

/// The paths of every resource in `resources` (all of one group-version).
pub fn build(resources: &[&'static ResourceDef], schemas: &Schemas) -> Map<String, Value> {
    let mut paths = Map::new();
    for def in resources {
        resource_paths(def, schemas, &mut paths);
    }
    paths
}

fn resource_paths(def: &'static ResourceDef, schemas: &Schemas, paths: &mut Map<String, Value>) {
    let gvk = (def.group, def.version, def.kind);
    let (Some(kind), Some(list)) = (schemas.kind(gvk), schemas.list(gvk)) else { return };
    let prefix =
        if def.group.is_empty() { "/api/v1".to_string() } else { format!("/apis/{}/{}", def.group, def.version) };
    let collection = if def.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", def.plural)
    } else {
        format!("{prefix}/{}", def.plural)
    };
    let item = format!("{collection}/{{name}}");
    let verbs = def.verbs();
    let serves = |verb: &str| verbs.contains(&verb);
    let scope = if def.namespaced { "Namespaced" } else { "" };
    let op = |verb, action, scope, suffix: &str| Op { def, verb, action, scope, suffix: suffix.to_string(), gvk };
    let plural = def.plural;
    let list_operation = |o: Op| {
        let watch = serves("watch");
        let mut operation = o.operation(format!("list or watch objects of kind {}", def.kind), list_parameters(watch));
        let mut content = json_content(reference(&list));
        if watch {
            content["application/json;stream=watch"] = json!({"schema": reference(schemas::WATCH_EVENT)});
        }
        operation.insert(
            "responses".into(),
            json!({"200": {"description": "OK", "content": content}, "401": {"description": "Unauthorized"}}),
        );
        Value::Object(operation)
    };

    let mut operations = Map::new();
    if serves("list") {
        operations.insert("get".into(), list_operation(op("list", "list", scope, "")));
    }
    if serves("create") {
        let mut operation =
            op("create", "post", scope, "").operation(format!("create a {}", def.kind), write_parameters());
        operation
            .insert("requestBody".into(), json!({"required": true, "content": {"*/*": {"schema": reference(kind)}}}));
        operation.insert("responses".into(), responses(&["200", "201", "202"], kind));
        operations.insert("post".into(), Value::Object(operation));
    }
    if serves("deletecollection") {
        let collection_scope = if def.namespaced { "CollectionNamespaced" } else { "Collection" };
        let mut parameters = delete_parameters();
        parameters.extend(list_parameters(false));
        let mut operation = op("delete", "deletecollection", collection_scope, "")
            .operation(format!("delete collection of {}", def.kind), parameters);
        operation
            .insert("requestBody".into(), json!({"content": {"*/*": {"schema": reference(schemas::DELETE_OPTIONS)}}}));
        operation.insert("responses".into(), responses(&["200"], schemas::STATUS));
        operations.insert("delete".into(), Value::Object(operation));
    }
    if !operations.is_empty() {
        paths.insert(collection.clone(), path_item(def.namespaced, false, operations));
    }

    let mut operations = Map::new();
    if serves("get") {
        let mut operation =
            op("read", "get", scope, "").operation(format!("read the specified {}", def.kind), Vec::new());
        operation.insert("responses".into(), responses(&["200"], kind));
        operations.insert("get".into(), Value::Object(operation));
    }
    if serves("update") {
        let mut operation = op("replace", "put", scope, "")
            .operation(format!("replace the specified {}", def.kind), write_parameters());
        operation
            .insert("requestBody".into(), json!({"required": true, "content": {"*/*": {"schema": reference(kind)}}}));
        operation.insert("responses".into(), responses(&["200", "201"], kind));
        operations.insert("put".into(), Value::Object(operation));
    }
    if serves("patch") {
        operations.insert("patch".into(), patch_operation(op("patch", "patch", scope, ""), kind));
    }
    if serves("delete") {
        let deleted = if def.delete_returns_object { kind } else { schemas::STATUS };
        let mut operation =
            op("delete", "delete", scope, "").operation(format!("delete a {}", def.kind), delete_parameters());
        operation
            .insert("requestBody".into(), json!({"content": {"*/*": {"schema": reference(schemas::DELETE_OPTIONS)}}}));
        operation.insert("responses".into(), responses(&["200", "202"], deleted));
        operations.insert("delete".into(), Value::Object(operation));
    }
    if !operations.is_empty() {
        paths.insert(item.clone(), path_item(def.namespaced, true, operations));
    }

    if def.namespaced && serves("list") {
        let mut operations = Map::new();
        operations.insert("get".into(), list_operation(op("list", "list", "", "ForAllNamespaces")));
        paths.insert(format!("{prefix}/{plural}"), path_item(false, false, operations));
    }

    for sub in def.subresources {
        let sub_gvk = (sub.group, sub.version, sub.kind);
        let Some(sub_kind) = schemas.kind(sub_gvk) else { continue };
        let suffix = camel(sub.name);
        let sub_op = |verb, action| Op { def, verb, action, scope, suffix: suffix.clone(), gvk: sub_gvk };
        let what = format!("{} of the specified {}", sub.name, def.kind);
        let mut operations = Map::new();
        for verb in sub.verbs {
            match *verb {
                "get" => {
                    let mut operation = sub_op("read", "get").operation(format!("read {what}"), Vec::new());
                    operation.insert("responses".into(), responses(&["200"], sub_kind));
                    operations.insert("get".into(), Value::Object(operation));
                }
                "update" => {
                    let mut operation =
                        sub_op("replace", "put").operation(format!("replace {what}"), write_parameters());
                    operation.insert(
                        "requestBody".into(),
                        json!({"required": true, "content": {"*/*": {"schema": reference(sub_kind)}}}),
                    );
                    operation.insert("responses".into(), responses(&["200", "201"], sub_kind));
                    operations.insert("put".into(), Value::Object(operation));
                }
                "patch" => {
                    operations.insert("patch".into(), patch_operation(sub_op("patch", "patch"), sub_kind));
                }
                "create" => {
                    let mut operation =
                        sub_op("create", "post").operation(format!("create {what}"), write_parameters());
                    operation.insert(
                        "requestBody".into(),
                        json!({"required": true, "content": {"*/*": {"schema": reference(sub_kind)}}}),
                    );
                    operation.insert("responses".into(), responses(&["200", "201", "202"], sub_kind));
                    operations.insert("post".into(), Value::Object(operation));
                }
                _ => {}
            }
        }
        if !operations.is_empty() {
            paths.insert(format!("{item}/{}", sub.name), path_item(def.namespaced, true, operations));
        }
    }
}

fn patch_operation(op: Op, kind: &str) -> Value {
    let mut operation = op.operation(format!("partially update the specified {}", op.def.kind), patch_parameters());
    let content: Map<String, Value> =
        PATCH_TYPES.iter().map(|t| (t.to_string(), json!({"schema": reference(schemas::PATCH)}))).collect();
    operation.insert("requestBody".into(), json!({"required": true, "content": content}));
    operation.insert("responses".into(), responses(&["200", "201"], kind));
    Value::Object(operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_operations_like_upstream() {
        assert_eq!(group_words(""), "Core");
        assert_eq!(group_words("coordination.k8s.io"), "Coordination");
        assert_eq!(group_words("rbac.authorization.k8s.io"), "RbacAuthorization");
        assert_eq!(camel("v1beta1"), "V1beta1");
        assert_eq!(camel("finalize"), "Finalize");
        assert_eq!(tag("", "v1"), "core_v1");
        assert_eq!(tag("events.k8s.io", "v1"), "events_v1");
    }
}
