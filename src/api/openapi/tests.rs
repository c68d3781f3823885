//! Tests of the generated documents: what kubectl looks for (reference §6), that every
//! served resource is described, and that every document is self-contained.

use actix_web::{App, test as web_test, web};
use serde_json::{Value, json};

use super::*;

fn doc(group: &str, version: &str) -> Value {
    document(group, version).unwrap_or_else(|| panic!("a document for {group}/{version}"))
}

fn all_documents() -> Vec<(String, Value)> {
    group_versions().into_iter().map(|(g, v)| (document_path(g, v), doc(g, v))).collect()
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    document.pointer(&format!("/components/schemas/{name}")).unwrap_or_else(|| panic!("schema {name}"))
}

fn prefix(def: &ResourceDef) -> String {
    if def.group.is_empty() { "/api/v1".into() } else { format!("/apis/{}/{}", def.group, def.version) }
}

/// Every PATCH operation of `document` about the kind (group, version, kind).
fn patches<'a>(document: &'a Value, group: &str, version: &str, kind: &str) -> Vec<&'a Value> {
    let gvk = json!({"group": group, "version": version, "kind": kind});
    document["paths"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|item| item.get("patch"))
        .filter(|op| op["x-kubernetes-group-version-kind"] == gvk)
        .collect()
}

fn has_query_parameter(operation: &Value, name: &str) -> bool {
    operation["parameters"].as_array().into_iter().flatten().any(|p| p["name"] == name && p["in"] == "query")
}

#[test]
fn the_index_lists_every_group_version() {
    let index: Value = serde_json::from_slice(&documents().index.body).unwrap();
    let paths = index["paths"].as_object().unwrap();
    let expected: Vec<String> = group_versions().into_iter().map(|(g, v)| document_path(g, v)).collect();
    assert_eq!(paths.keys().cloned().collect::<std::collections::BTreeSet<_>>(), expected.iter().cloned().collect());
    assert!(expected.contains(&"api/v1".to_string()));
    assert!(expected.contains(&"apis/coordination.k8s.io/v1".to_string()));
    for served in &documents().groups {
        assert_eq!(
            paths[&served.path]["serverRelativeURL"],
            format!("/openapi/v3/{}?hash={}", served.path, served.hash),
            "{}",
            served.path
        );
        assert_eq!(served.hash.len(), 128);
    }
}

/// kubectl's `queryParamVerifierV3`: the first PATCH operation it finds for the kind must
/// list `fieldValidation` as a query parameter, so all of them must; it also checks the
/// `v1 Namespace` PATCH for kinds without a document.
#[test]
fn every_resource_patch_lists_field_validation() {
    for def in RESOURCES {
        let document = doc(def.group, def.version);
        let found = patches(&document, def.group, def.version, def.kind);
        assert!(!found.is_empty(), "no PATCH for {}", def.plural);
        for op in found {
            for name in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                assert!(has_query_parameter(op, name), "{}: {} lacks {name}", def.plural, op["operationId"]);
            }
            let content = op["requestBody"]["content"].as_object().unwrap();
            for media in paths::PATCH_TYPES {
                assert!(content.contains_key(*media), "{}: {media}", def.plural);
            }
        }
    }
    assert!(!patches(&doc("", "v1"), "", "v1", "Namespace").is_empty());
}

#[test]
fn every_resource_has_its_paths_and_operations() {
    for def in RESOURCES {
        let document = doc(def.group, def.version);
        let paths = document["paths"].as_object().unwrap();
        let collection = if def.namespaced {
            format!("{}/namespaces/{{namespace}}/{}", prefix(def), def.plural)
        } else {
            format!("{}/{}", prefix(def), def.plural)
        };
        let item = format!("{collection}/{{name}}");
        let ops = |path: &str| -> Vec<String> {
            let item = paths.get(path).unwrap_or_else(|| panic!("path {path}"));
            ["get", "put", "post", "patch", "delete"]
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_string())
                .collect()
        };
        assert_eq!(ops(&collection), ["get", "post", "delete"], "{collection}");
        assert_eq!(ops(&item), ["get", "put", "patch", "delete"], "{item}");
        let list = &paths[&collection]["get"];
        assert_eq!(list["x-kubernetes-action"], "list");
        for name in [
            "labelSelector",
            "fieldSelector",
            "limit",
            "continue",
            "resourceVersion",
            "resourceVersionMatch",
            "timeoutSeconds",
            "watch",
            "allowWatchBookmarks",
            "sendInitialEvents",
        ] {
            assert!(has_query_parameter(list, name), "{collection}: {name}");
        }
        for method in ["post", "put"] {
            let path = if method == "post" { &collection } else { &item };
            for name in ["dryRun", "fieldManager", "fieldValidation"] {
                assert!(has_query_parameter(&paths[path][method], name), "{path} {method}: {name}");
            }
        }
        if def.namespaced {
            let all = format!("{}/{}", prefix(def), def.plural);
            assert_eq!(ops(&all), ["get"], "{all}");
            assert_eq!(paths[&all]["get"]["operationId"], format!("list{}ForAllNamespaces", words(def, false)));
        }
        for sub in def.subresources {
            let path = format!("{item}/{}", sub.name);
            let expected: Vec<&str> = ["get", "put", "post", "patch"]
                .into_iter()
                .filter(|m| {
                    sub.verbs.contains(&match *m {
                        "put" => "update",
                        "post" => "create",
                        other => other,
                    })
                })
                .collect();
            assert_eq!(ops(&path), expected, "{path}");
            for method in expected {
                let op = &paths[&path][method];
                assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], sub.kind, "{path} {method}");
            }
        }
        let patch = &paths[&item]["patch"];
        assert_eq!(patch["operationId"], format!("patch{}", words(def, def.namespaced)));
        assert_eq!(patch["x-kubernetes-action"], "patch");
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": def.group, "version": def.version, "kind": def.kind})
        );
    }
    let core = doc("", "v1");
    let pods = &core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"];
    assert_eq!(pods["get"]["operationId"], "readCoreV1NamespacedPod");
    assert_eq!(
        pods["delete"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Pod"
    );
    assert_eq!(
        core["paths"]["/api/v1/namespaces/{namespace}/pods"]["delete"]["operationId"],
        "deleteCoreV1CollectionNamespacedPod"
    );
    assert_eq!(
        core["paths"]["/api/v1/namespaces/{name}/finalize"]["put"]["operationId"],
        "replaceCoreV1NamespaceFinalize"
    );
    assert_eq!(
        core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"]["operationId"],
        "createCoreV1NamespacedPodBinding"
    );
    let leases = doc("coordination.k8s.io", "v1");
    assert!(
        leases["paths"]["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"]["patch"]["operationId"]
            == "patchCoordinationV1NamespacedLease"
    );
}

/// `CoreV1NamespacedPod`, `CoreV1Namespace`, `CoreV1Pod`.
fn words(def: &ResourceDef, namespaced: bool) -> String {
    let group = match def.group {
        "" => "Core",
        "coordination.k8s.io" => "Coordination",
        "events.k8s.io" => "Events",
        other => panic!("add {other} to the test"),
    };
    format!("{group}V1{}{}", if namespaced { "Namespaced" } else { "" }, def.kind)
}

#[test]
fn kinds_carry_their_group_version_kind_and_descriptions() {
    let core = doc("", "v1");
    let pod = schema(&core, "io.k8s.api.core.v1.Pod");
    assert_eq!(pod["x-kubernetes-group-version-kind"], json!([{"group": "", "kind": "Pod", "version": "v1"}]));
    assert!(pod["description"].as_str().unwrap().starts_with("Pod is a collection of containers"), "{pod}");
    assert!(pod.get("required").is_none(), "upstream does not require metadata: {pod}");
    assert_eq!(
        pod["properties"]["spec"],
        json!({
            "allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}],
            "default": {},
            "description": pod["properties"]["spec"]["description"],
        })
    );
    assert!(pod["properties"]["spec"]["description"].as_str().unwrap().starts_with("Specification of the desired"));
    let list = schema(&core, "io.k8s.api.core.v1.PodList");
    assert_eq!(list["x-kubernetes-group-version-kind"], json!([{"group": "", "kind": "PodList", "version": "v1"}]));
    assert_eq!(list["properties"]["items"]["items"]["allOf"][0]["$ref"], "#/components/schemas/io.k8s.api.core.v1.Pod");
    assert_eq!(schema(&core, "io.k8s.api.core.v1.Binding")["x-kubernetes-group-version-kind"][0]["kind"], "Binding");
    for def in RESOURCES {
        let document = doc(def.group, def.version);
        let gvk = json!([{"group": def.group, "kind": def.kind, "version": def.version}]);
        let kinds: Vec<&Value> = document["components"]["schemas"]
            .as_object()
            .unwrap()
            .values()
            .filter(|s| s["x-kubernetes-group-version-kind"] == gvk)
            .collect();
        assert_eq!(kinds.len(), 1, "{} {}", def.api_version(), def.kind);
        assert!(kinds[0]["description"].as_str().is_some_and(|d| !d.is_empty()), "{}", def.kind);
    }
    let events = doc("events.k8s.io", "v1");
    assert!(events["components"]["schemas"]["io.k8s.api.events.v1.Event"]["properties"]["regarding"].is_object());
    let delete_options = schema(&core, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
    assert_eq!(delete_options["x-kubernetes-group-version-kind"].as_array().unwrap().len(), group_versions().len());
}

#[test]
fn list_fields_carry_their_patch_metadata() {
    let core = doc("", "v1");
    let spec = schema(&core, "io.k8s.api.core.v1.PodSpec");
    let containers = &spec["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
    assert_eq!(
        containers["items"],
        json!({"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}], "default": {}})
    );
    assert!(containers["description"].as_str().unwrap().starts_with("List of containers belonging to the pod."));
    assert_eq!(spec["properties"]["volumes"]["x-kubernetes-patch-strategy"], "merge,retainKeys");
    assert_eq!(spec["properties"]["tolerations"]["x-kubernetes-list-type"], "atomic");
    assert!(spec["properties"]["tolerations"].get("x-kubernetes-patch-strategy").is_none());
    let ports = &schema(&core, "io.k8s.api.core.v1.Container")["properties"]["ports"];
    assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");
    assert_eq!(ports["x-kubernetes-list-map-keys"], json!(["containerPort", "protocol"]));
    let finalizers = &schema(&core, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")["properties"]["finalizers"];
    assert_eq!(
        (&finalizers["x-kubernetes-list-type"], &finalizers["x-kubernetes-patch-strategy"]),
        (&json!("set"), &json!("merge"))
    );
    let service_ports = &schema(&core, "io.k8s.api.core.v1.ServiceSpec")["properties"]["ports"];
    assert_eq!(service_ports["x-kubernetes-list-map-keys"], json!(["port", "protocol"]));
    // Every field the patch table names is found in the generated schemas.
    assert_eq!(schemas::annotate_misses(&RESOURCES.iter().collect::<Vec<_>>()), Vec::<String>::new());
}

/// Collects every `$ref` string anywhere in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(r)) = object.get("$ref") {
                out.push(r);
            }
            object.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_ref_resolves_inside_its_document() {
    for (path, document) in all_documents() {
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(found.len() > 20, "{path}: only {} refs", found.len());
        for r in found {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{path}: external ref {r}"));
            assert!(pointer.starts_with("/components/schemas/"), "{path}: {r}");
            assert!(document.pointer(pointer).is_some(), "{path}: {r} does not resolve");
        }
        // OpenAPI 3.0 ignores a $ref's siblings: they must be wrapped in allOf.
        fn no_siblings(value: &Value, path: &str) {
            match value {
                Value::Object(object) => {
                    if object.get("$ref").is_some_and(Value::is_string) {
                        assert_eq!(object.len(), 1, "{path}: $ref with siblings: {value}");
                    }
                    object.values().for_each(|v| no_siblings(v, path));
                }
                Value::Array(items) => items.iter().for_each(|v| no_siblings(v, path)),
                _ => {}
            }
        }
        no_siblings(&document, &path);
        assert_eq!(document["openapi"], "3.0.0");
    }
}

#[test]
fn documents_are_deterministic() {
    let first = serde_json::to_vec(&doc("", "v1")).unwrap();
    let second = serde_json::to_vec(&doc("", "v1")).unwrap();
    assert_eq!(first, second);
    assert!(document("apps", "v1").is_none());
}

#[actix_web::test]
async fn serves_documents_with_etags() {
    let app = web_test::init_service(
        App::new()
            .route("/openapi/v3", web::get().to(index))
            .route("/openapi/v3/{path:.*}", web::get().to(group_version)),
    )
    .await;
    let response =
        web_test::call_service(&app, web_test::TestRequest::get().uri("/openapi/v3?timeout=32s").to_request()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("content-type").unwrap(), "application/json");
    let index: Value = web_test::read_body_json(response).await;
    let url = index["paths"]["api/v1"]["serverRelativeURL"].as_str().unwrap().to_string();
    let response =
        web_test::call_service(&app, web_test::TestRequest::get().uri(&format!("{url}&timeout=32s")).to_request())
            .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("cache-control").unwrap(), "public, immutable");
    let etag = response.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let document: Value = web_test::read_body_json(response).await;
    assert!(document["components"]["schemas"]["io.k8s.api.core.v1.Pod"].is_object());
    let again =
        web_test::TestRequest::get().uri("/openapi/v3/api/v1").insert_header(("If-None-Match", etag)).to_request();
    let response = web_test::call_service(&app, again).await;
    assert_eq!(response.status(), 304);
    let response = web_test::call_service(
        &app,
        web_test::TestRequest::get().uri("/openapi/v3/apis/coordination.k8s.io/v1").to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-cache, private");
    let response =
        web_test::call_service(&app, web_test::TestRequest::get().uri("/openapi/v3/apis/apps/v1").to_request()).await;
    assert_eq!(response.status(), 404);
    let status: Value = web_test::read_body_json(response).await;
    assert_eq!((status["kind"].as_str(), status["reason"].as_str()), (Some("Status"), Some("NotFound")));
}
