//! The API over HTTPS through the real router, with a plain HTTP client: CRUD, conflicts,
//! pagination, watch semantics, the status subresource, graceful deletion, namespaces, and
//! every kind of bad input (each answered with a `Status`, and nothing stored changes).

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Server, assert_status, parked_pod_json, pod_json, send};

const PODS: &str = "/api/v1/namespaces/default/pods";

/// The current store revision, as a list reports it.
async fn revision(server: &Server, client: &reqwest::Client) -> u64 {
    let (_, list) = send(client.get(server.at("/api/v1/pods"))).await;
    list["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn anonymous_requests_reach_only_health_and_version() {
    let server = Server::start();
    let anonymous = server.client_with_token(None);
    for path in ["/healthz", "/livez", "/readyz", "/version", "/version/"] {
        let response = anonymous.get(server.at(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let (status, version) = send(anonymous.get(server.at("/version"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(version["gitVersion"].as_str().unwrap().starts_with("v1.33."));
    for path in ["/api", "/api/v1/pods", "/apis", "/api/v1/namespaces/default/pods/x"] {
        assert_status(&send(anonymous.get(server.at(path))).await, 401, "Unauthorized");
    }
    let forged = server.client_with_token(Some("forged"));
    assert_status(&send(forged.get(server.at("/api/v1/pods"))).await, 401, "Unauthorized");
}

#[tokio::test]
async fn crud_sets_server_metadata_and_defaults() {
    let server = Server::start();
    let client = server.client();
    let (status, created) = send(client.post(server.at(PODS)).json(&parked_pod_json("web"))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let meta = &created["metadata"];
    assert_eq!(meta["namespace"], "default");
    assert!(meta["uid"].as_str().unwrap().len() == 36);
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(meta["generation"], 1);
    let rv: u64 = meta["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert_eq!(created["status"]["phase"], "Pending");
    assert_eq!(created["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
    assert_eq!(created["spec"]["restartPolicy"], "Always");

    let (status, got) = send(client.get(server.at(&format!("{PODS}/web")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, created);

    // PUT with the current resourceVersion bumps it; a stale one conflicts.
    let mut changed = got.clone();
    changed["metadata"]["labels"]["tier"] = json!("fe");
    let (status, updated) = send(client.put(server.at(&format!("{PODS}/web"))).json(&changed)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let new_rv: u64 = updated["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert!(new_rv > rv);
    assert_eq!(updated["metadata"]["generation"], 1, "labels are not spec");
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    let stale = send(client.put(server.at(&format!("{PODS}/web"))).json(&changed)).await;
    assert_status(&stale, 409, "Conflict");
    assert!(stale.1["message"].as_str().unwrap().contains("the object has been modified"));

    let (status, list) = send(client.get(server.at(PODS))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["kind"], "PodList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // The pod is bound, so only a zero grace period removes it at once.
    let (status, deleted) = send(client.delete(server.at(&format!("{PODS}/web?gracePeriodSeconds=0")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["kind"], "Pod", "pod DELETE returns the pod");
    assert_status(&send(client.get(server.at(&format!("{PODS}/web")))).await, 404, "NotFound");
    let (_, empty) = send(client.get(server.at(PODS))).await;
    assert_eq!(empty["items"], json!([]), "an empty list has items: []");

    let (status, deleted) = send(client.delete(server.at("/api/v1/namespaces/default/configmaps/nope"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(deleted["message"], "configmaps \"nope\" not found");
}

#[tokio::test]
async fn sixteen_concurrent_creates_admit_one() {
    let server = Server::start();
    let client = server.client();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let request = client.post(server.at(PODS)).json(&pod_json("race"));
        tasks.push(tokio::spawn(async move { send(request).await }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == StatusCode::CONFLICT {
            assert_eq!(body["reason"], "AlreadyExists");
        }
        codes.push(status.as_u16());
    }
    codes.sort();
    assert_eq!(codes, [vec![201], vec![409; 15]].concat());
}

#[tokio::test]
async fn lists_page_with_limit_and_continue_and_select() {
    let server = Server::start();
    let client = server.client();
    for i in 0..7 {
        let mut pod = pod_json(&format!("p{i}"));
        pod["metadata"]["labels"]["n"] = json!(if i % 2 == 0 { "even" } else { "odd" });
        assert_eq!(send(client.post(server.at(PODS)).json(&pod)).await.0, StatusCode::CREATED);
    }
    let mut names = Vec::new();
    let mut url = server.at(&format!("{PODS}?limit=3"));
    let mut pages = 0;
    let mut list_rv = None;
    loop {
        let (status, page) = send(client.get(&url)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let rv = page["metadata"]["resourceVersion"].clone();
        assert_eq!(*list_rv.get_or_insert(rv.clone()), rv, "every page reports the first page's revision");
        names.extend(
            page["items"].as_array().unwrap().iter().map(|p| p["metadata"]["name"].as_str().unwrap().to_string()),
        );
        match page["metadata"]["continue"].as_str() {
            Some(token) => {
                url = server.at(&format!("{PODS}?limit=3&continue={token}"));
                // A write between pages does not show up in the pinned listing.
                send(client.post(server.at(PODS)).json(&pod_json(&format!("late{pages}")))).await;
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);

    let (_, odd) = send(client.get(server.at(&format!("{PODS}?labelSelector=n%3Dodd")))).await;
    assert_eq!(odd["items"].as_array().unwrap().len(), 3);
    let (_, named) = send(client.get(server.at(&format!("{PODS}?fieldSelector=metadata.name%3Dp4")))).await;
    assert_eq!(named["items"][0]["metadata"]["name"], "p4");
    let (_, pending) =
        send(client.get(server.at("/api/v1/pods?fieldSelector=status.phase%3DPending,spec.nodeName%3D"))).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 9, "7 pods plus one created after each of 2 pages");
    assert_status(
        &send(client.get(server.at(&format!("{PODS}?fieldSelector=spec.bogus%3Dx")))).await,
        400,
        "BadRequest",
    );
    assert_status(&send(client.get(server.at(&format!("{PODS}?labelSelector=a%20in%20(")))).await, 400, "BadRequest");
    assert_status(&send(client.get(server.at(&format!("{PODS}?limit=2&continue=garbage")))).await, 400, "BadRequest");
}

#[tokio::test]
async fn tables_carry_kubectl_columns_and_row_objects() {
    let server = Server::start();
    let client = server.client();
    send(client.post(server.at(PODS)).json(&pod_json("web"))).await;
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    let (status, table) = send(client.get(server.at(PODS)).header("accept", accept)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(table["kind"], "Table");
    let columns: Vec<_> =
        table["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        columns,
        ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
    );
    assert_eq!(table["rows"][0]["cells"][0], "web");
    assert_eq!(table["rows"][0]["cells"][2], "Pending");
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(table["rows"][0]["object"]["metadata"]["labels"]["app"], "web");
    let (_, full) = send(client.get(server.at(&format!("{PODS}?includeObject=Object"))).header("accept", accept)).await;
    assert_eq!(full["rows"][0]["object"]["kind"], "Pod");
    let (_, nodes) = send(client.get(server.at("/api/v1/nodes")).header("accept", accept)).await;
    assert_eq!(nodes["rows"], json!([]));
    assert_eq!(nodes["columnDefinitions"][1]["name"], "Status");
}

/// Reads watch events until `count` have arrived.
async fn watch_events(response: reqwest::Response, count: usize) -> Vec<Value> {
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a watch event in time")
            .expect("the stream stays open")
            .unwrap();
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            events.push(serde_json::from_slice(&line).unwrap());
        }
    }
    events
}

#[tokio::test]
async fn watches_start_replay_and_expire() {
    let server = Server::start_with(&["--history-max-events", "5"]);
    let client = server.client();
    send(client.post(server.at(PODS)).json(&parked_pod_json("a"))).await;
    let start = revision(&server, &client).await;

    // resourceVersion=0: synthetic ADDED for the current state, then live changes.
    let live = client.get(server.at(&format!("{PODS}?watch=true&resourceVersion=0"))).send().await.unwrap();
    assert_eq!(live.headers()["content-type"], "application/json");
    send(client.post(server.at(PODS)).json(&parked_pod_json("b"))).await;
    let events = watch_events(live, 2).await;
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["metadata"]["name"], "a");
    assert_eq!(events[1]["object"]["metadata"]["name"], "b");

    // From a revision: exactly the later changes, in order.
    send(client.delete(server.at(&format!("{PODS}/a?gracePeriodSeconds=0")))).await;
    let replay = client.get(server.at(&format!("{PODS}?watch=true&resourceVersion={start}"))).send().await.unwrap();
    let events = watch_events(replay, 2).await;
    assert_eq!(
        (events[0]["type"].as_str(), events[0]["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("b"))
    );
    assert_eq!(
        (events[1]["type"].as_str(), events[1]["object"]["metadata"]["name"].as_str()),
        (Some("DELETED"), Some("a"))
    );

    // History keeps 5 events: an older revision is a 410 ERROR event.
    for i in 0..10 {
        send(client.post(server.at(PODS)).json(&parked_pod_json(&format!("x{i}")))).await;
    }
    let expired = client.get(server.at(&format!("{PODS}?watch=true&resourceVersion={start}"))).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::OK);
    let events = watch_events(expired, 1).await;
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(events[0]["object"]["code"], 410);
    assert_eq!(events[0]["object"]["reason"], "Expired");

    // Selectors apply to watches, and timeoutSeconds ends the stream.
    let selected = client
        .get(server.at(&format!("{PODS}?watch=true&labelSelector=pick%3Dme&timeoutSeconds=2")))
        .send()
        .await
        .unwrap();
    let mut picked = parked_pod_json("picked");
    picked["metadata"]["labels"]["pick"] = json!("me");
    send(client.post(server.at(PODS)).json(&parked_pod_json("ignored"))).await;
    send(client.post(server.at(PODS)).json(&picked)).await;
    let body = tokio::time::timeout(Duration::from_secs(10), selected.bytes()).await.expect("the watch ends").unwrap();
    let lines: Vec<Value> =
        body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "picked");
}

#[tokio::test]
async fn status_and_spec_are_written_apart() {
    let server = Server::start();
    let client = server.client();
    let (_, created) = send(client.post(server.at(PODS)).json(&parked_pod_json("web"))).await;
    let mut main = created.clone();
    main["status"]["phase"] = json!("Running");
    main["metadata"]["labels"]["via"] = json!("main");
    let (status, after_main) = send(client.put(server.at(&format!("{PODS}/web"))).json(&main)).await;
    assert_eq!(status, StatusCode::OK, "{after_main}");
    assert_eq!(after_main["status"]["phase"], "Pending", "the main resource ignores .status");
    assert_eq!(after_main["metadata"]["labels"]["via"], "main");

    let mut status_write = after_main.clone();
    status_write["status"]["phase"] = json!("Running");
    status_write["spec"]["activeDeadlineSeconds"] = json!(5);
    let (status, after_status) = send(client.put(server.at(&format!("{PODS}/web/status"))).json(&status_write)).await;
    assert_eq!(status, StatusCode::OK, "{after_status}");
    assert_eq!(after_status["status"]["phase"], "Running");
    assert!(after_status["spec"].get("activeDeadlineSeconds").is_none(), "/status ignores spec");
    let (_, read) = send(client.get(server.at(&format!("{PODS}/web/status")))).await;
    assert_eq!(read["status"]["phase"], "Running");

    // Field ownership of status writes: only status fields, under the status subresource,
    // and a later manager that sets a field takes it over.
    let status_patch = |manager: &str, body: Value| {
        client
            .patch(server.at(&format!("{PODS}/web/status?fieldManager={manager}")))
            .header("content-type", "application/merge-patch+json")
            .json(&body)
    };
    let entry = |object: &Value, manager: &str| -> Value {
        let entries = object["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
        entries.into_iter().find(|e| e["manager"] == manager).unwrap_or(Value::Null)
    };
    let (status, patched) =
        send(status_patch("agent", json!({"status": {"phase": "Succeeded", "podIP": "10.88.0.9"}}))).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let agent = entry(&patched, "agent");
    assert_eq!(agent["subresource"], "status", "{agent}");
    assert_eq!(agent["operation"], "Update");
    assert!(agent["fieldsV1"]["f:status"]["f:phase"].is_object(), "{agent}");
    assert!(agent["fieldsV1"]["f:status"]["f:podIP"].is_object(), "{agent}");
    assert!(agent["fieldsV1"].get("f:spec").is_none() && agent["fieldsV1"].get("f:metadata").is_none(), "{agent}");
    let (_, patched) = send(status_patch("other", json!({"status": {"phase": "Failed"}}))).await;
    assert!(entry(&patched, "other")["fieldsV1"]["f:status"]["f:phase"].is_object(), "{patched}");
    let agent = entry(&patched, "agent");
    assert!(agent["fieldsV1"]["f:status"].get("f:phase").is_none(), "the phase moved to 'other': {agent}");
    assert!(agent["fieldsV1"]["f:status"]["f:podIP"].is_object(), "{agent}");
}

#[tokio::test]
async fn pods_delete_gracefully_once_bound() {
    let server = Server::start();
    let client = server.client();
    for name in ["bound", "unbound"] {
        send(client.post(server.at(PODS)).json(&pod_json(name))).await;
    }
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bound"}, "target": {"kind": "Node", "name": "node1"}});
    let (status, result) = send(client.post(server.at(&format!("{PODS}/bound/binding"))).json(&binding)).await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    let (_, bound) = send(client.get(server.at(&format!("{PODS}/bound")))).await;
    assert_eq!(bound["spec"]["nodeName"], "node1");
    assert_eq!(bound["status"]["conditions"][0]["type"], "PodScheduled");
    assert_status(
        &send(client.post(server.at(&format!("{PODS}/bound/binding"))).json(&binding)).await,
        409,
        "Conflict",
    );

    // An unscheduled pod goes at once.
    let (status, gone) = send(client.delete(server.at(&format!("{PODS}/unbound")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gone["metadata"]["name"], "unbound");
    assert_status(&send(client.get(server.at(&format!("{PODS}/unbound")))).await, 404, "NotFound");

    // A bound pod is marked, with the grace period from DeleteOptions.
    let options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 7});
    let (status, marked) = send(client.delete(server.at(&format!("{PODS}/bound"))).json(&options)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(marked["kind"], "Pod");
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], 7);
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    let (_, still) = send(client.get(server.at(&format!("{PODS}/bound")))).await;
    assert_eq!(still["metadata"]["deletionGracePeriodSeconds"], 7);
    // A later delete may shorten it; grace 0 removes the pod.
    let (_, forced) = send(client.delete(server.at(&format!("{PODS}/bound?gracePeriodSeconds=0")))).await;
    assert_eq!(forced["kind"], "Pod");
    assert_status(&send(client.get(server.at(&format!("{PODS}/bound")))).await, 404, "NotFound");
}

#[tokio::test]
async fn namespaces_gate_creation() {
    let server = Server::start();
    let client = server.client();
    let (_, namespaces) = send(client.get(server.at("/api/v1/namespaces"))).await;
    let names: Vec<_> =
        namespaces["items"].as_array().unwrap().iter().map(|n| n["metadata"]["name"].as_str().unwrap()).collect();
    for system in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        assert!(names.contains(&system), "{system} in {names:?}");
    }
    let missing = send(client.post(server.at("/api/v1/namespaces/nowhere/pods")).json(&pod_json("p"))).await;
    assert_status(&missing, 404, "NotFound");
    assert_eq!(missing.1["message"], "namespaces \"nowhere\" not found");

    // A finalizer keeps it Terminating: the namespace controller would otherwise finish
    // removing the empty namespace before the create below.
    let team = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team", "finalizers": ["example.com/hold"]}});
    assert_eq!(send(client.post(server.at("/api/v1/namespaces")).json(&team)).await.0, StatusCode::CREATED);
    // A pod on a node no agent runs keeps the namespace Terminating (an empty one could be
    // removed by the namespace controller before the next request).
    let holder = send(client.post(server.at("/api/v1/namespaces/team/pods")).json(&parked_pod_json("holder"))).await;
    assert_eq!(holder.0, StatusCode::CREATED);
    let (status, terminating) = send(client.delete(server.at("/api/v1/namespaces/team"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(terminating["status"]["phase"], "Terminating");
    let refused =
        send(client.post(server.at("/api/v1/namespaces/team/configmaps")).json(&json!({"metadata": {"name": "c"}})))
            .await;
    assert_status(&refused, 403, "Forbidden");
    assert!(refused.1["message"].as_str().unwrap().contains("because it is being terminated"));
}

#[tokio::test]
async fn bad_input_gets_a_status_and_changes_nothing() {
    let server = Server::start();
    let client = server.client();
    let (_, original) = send(client.post(server.at(PODS)).json(&parked_pod_json("keep"))).await;
    let before = revision(&server, &client).await;
    let keep = server.at(&format!("{PODS}/keep"));

    let raw = |body: &'static str| client.post(server.at(PODS)).header("content-type", "application/json").body(body);
    let malformed = send(raw("{\"metadata\": {\"name\": ")).await;
    assert_status(&malformed, 400, "BadRequest");
    assert!(malformed.1["message"].as_str().unwrap().contains("json parse error"));
    assert_status(&send(raw("[1, 2]")).await, 400, "BadRequest");
    let yaml = client.post(server.at(PODS)).header("content-type", "application/yaml").body("metadata: [unclosed");
    assert_status(&send(yaml).await, 400, "BadRequest");
    assert_status(
        &send(client.post(server.at(PODS)).header("content-type", "text/plain").body("hi")).await,
        415,
        "UnsupportedMediaType",
    );

    let huge = vec![b' '; 3 * 1024 * 1024 + 1];
    let too_big = send(client.post(server.at(PODS)).header("content-type", "application/json").body(huge)).await;
    assert_status(&too_big, 413, "RequestEntityTooLarge");

    for hostile in ["Bad_Name", "../../etc", "a;rm -rf /", "$(reboot)", "x\ny", &"n".repeat(300)] {
        let mut pod = parked_pod_json("x");
        pod["metadata"]["name"] = json!(hostile);
        let response = send(client.post(server.at(PODS)).json(&pod)).await;
        assert_status(&response, 422, "Invalid");
        assert_eq!(response.1["details"]["causes"][0]["field"], "metadata.name", "{hostile:?}");
    }
    let mut no_image = parked_pod_json("noimage");
    no_image["spec"]["containers"][0].as_object_mut().unwrap().remove("image");
    let invalid = send(client.post(server.at(PODS)).json(&no_image)).await;
    assert_status(&invalid, 422, "Invalid");
    assert_eq!(invalid.1["message"], "Pod \"noimage\" is invalid: spec.containers[0].image: Required value");

    let service =
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
    assert_status(&send(client.post(server.at(PODS)).json(&service)).await, 400, "BadRequest");
    let mut wrong_type = parked_pod_json("t");
    wrong_type["spec"]["containers"] = json!("not a list");
    assert_status(&send(client.post(server.at(PODS)).json(&wrong_type)).await, 400, "BadRequest");
    let mut other_ns = parked_pod_json("n");
    other_ns["metadata"]["namespace"] = json!("kube-system");
    assert_status(&send(client.post(server.at(PODS)).json(&other_ns)).await, 400, "BadRequest");

    let mut renamed = original.clone();
    renamed["metadata"]["name"] = json!("other");
    let mismatch = send(client.put(&keep).json(&renamed)).await;
    assert_status(&mismatch, 400, "BadRequest");
    assert_eq!(mismatch.1["message"], "the name of the object (other) does not match the name on the URL (keep)");

    assert_status(&send(client.get(server.at("/api/v1/namespaces/default/widgets"))).await, 404, "NotFound");
    assert_status(&send(client.get(server.at("/apis/apps/v1/namespaces/default/deployments"))).await, 404, "NotFound");
    assert_status(&send(client.get(server.at(&format!("{PODS}/a%2Fb")))).await, 400, "BadRequest");

    // Leases need a resourceVersion on update.
    let lease_url = server.at("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1");
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "n1"}, "spec": {"holderIdentity": "n1"}});
    let (status, _) =
        send(client.post(server.at("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")).json(&lease))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let lease_rv = revision(&server, &client).await;
    let unversioned = send(client.put(&lease_url).json(&lease)).await;
    assert_status(&unversioned, 422, "Invalid");
    assert!(unversioned.1["message"].as_str().unwrap().contains("must be specified for an update"));

    // Nothing but the lease changed.
    assert_eq!(revision(&server, &client).await, lease_rv);
    assert_eq!(lease_rv, before + 1);
    let (_, kept) = send(client.get(&keep)).await;
    assert_eq!(kept, original);
}

#[tokio::test]
async fn discovery_negotiates_aggregated_versions() {
    let server = Server::start();
    let client = server.client();
    let v2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    let response = client.get(server.at("/api")).header("accept", v2).send().await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["apiVersion"], "apidiscovery.k8s.io/v2");
    let v2beta1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    let response = client.get(server.at("/apis")).header("accept", v2beta1).send().await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    );
    let body: Value = response.json().await.unwrap();
    let groups: Vec<_> =
        body["items"].as_array().unwrap().iter().map(|g| g["metadata"]["name"].as_str().unwrap()).collect();
    assert!(groups.contains(&"coordination.k8s.io"));
    let (_, legacy) = send(client.get(server.at("/api"))).await;
    assert_eq!(legacy["kind"], "APIVersions");
    let (_, core) = send(client.get(server.at("/api/v1"))).await;
    assert!(core["resources"].as_array().unwrap().iter().any(|r| r["name"] == "pods/status"));
    let (_, group) = send(client.get(server.at("/apis/coordination.k8s.io/v1"))).await;
    assert_eq!(group["resources"][0]["name"], "leases");
}

#[tokio::test]
async fn sigterm_stops_cleanly_and_keeps_every_write() {
    let mut server = Server::start();
    let client = server.client();
    for i in 0..20 {
        assert_eq!(send(client.post(server.at(PODS)).json(&pod_json(&format!("p{i}")))).await.0, StatusCode::CREATED);
    }
    // An open watch must not hold up the shutdown.
    let _watch = client.get(server.at(&format!("{PODS}?watch=true"))).send().await.unwrap();
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}; log:\n{}", server.log());
    server.restart();
    let client = server.client();
    let (_, list) = send(client.get(server.at(PODS))).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn events_are_one_store_in_two_versions() {
    let server = Server::start();
    let client = server.client();
    let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web.1", "namespace": "default"},
        "eventTime": "2026-11-27T10:00:00.000000Z", "reportingController": "reddwarf.io/agent", "reportingInstance": "node1",
        "action": "Pulling", "reason": "Pulling", "type": "Normal", "note": "pulling image nginx:1.27",
        "regarding": {"kind": "Pod", "namespace": "default", "name": "web", "apiVersion": "v1"}});
    let (status, created) =
        send(client.post(server.at("/apis/events.k8s.io/v1/namespaces/default/events")).json(&v1)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["apiVersion"], "events.k8s.io/v1");
    assert_eq!(created["note"], "pulling image nginx:1.27");

    let (_, core) = send(client.get(server.at("/api/v1/namespaces/default/events/web.1"))).await;
    assert_eq!(core["apiVersion"], "v1");
    assert_eq!(core["message"], "pulling image nginx:1.27");
    assert_eq!(core["involvedObject"]["name"], "web");
    assert_eq!(core["reportingComponent"], "reddwarf.io/agent");

    let by_core =
        "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb,involvedObject.namespace%3Ddefault";
    assert_eq!(send(client.get(server.at(by_core))).await.1["items"].as_array().unwrap().len(), 1);
    let by_v1 = "/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=regarding.name%3Dweb";
    let (_, listed) = send(client.get(server.at(by_v1))).await;
    assert_eq!(listed["kind"], "EventList");
    assert_eq!(listed["items"][0]["regarding"]["name"], "web");
    let none = "/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=regarding.name%3Ddb";
    assert_eq!(send(client.get(server.at(none))).await.1["items"], json!([]));

    let mut missing = v1.clone();
    missing.as_object_mut().unwrap().remove("eventTime");
    missing["metadata"]["name"] = json!("web.2");
    let invalid = send(client.post(server.at("/apis/events.k8s.io/v1/namespaces/default/events")).json(&missing)).await;
    assert_status(&invalid, 422, "Invalid");
    assert_eq!(invalid.1["message"], "Event \"web.2\" is invalid: eventTime: Required value");
}

#[tokio::test]
async fn unknown_fields_follow_field_validation() {
    let server = Server::start();
    let client = server.client();
    let mut pod = pod_json("strict");
    pod["spec"]["bogus"] = json!(1);
    pod["spec"]["containers"][0]["imagePolicy"] = json!("x");
    let strict = send(client.post(server.at(&format!("{PODS}?fieldValidation=Strict"))).json(&pod)).await;
    assert_status(&strict, 400, "BadRequest");
    assert_eq!(
        strict.1["message"],
        "strict decoding error: unknown field \"spec.bogus\", unknown field \"spec.containers[0].imagePolicy\""
    );
    assert_status(&send(client.get(server.at(&format!("{PODS}/strict")))).await, 404, "NotFound");

    let warned = client.post(server.at(PODS)).json(&pod).send().await.unwrap();
    assert_eq!(warned.status(), StatusCode::CREATED);
    let warnings: Vec<_> =
        warned.headers().get_all("warning").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert_eq!(
        warnings,
        [
            "299 - \"unknown field \\\"spec.bogus\\\"\"",
            "299 - \"unknown field \\\"spec.containers[0].imagePolicy\\\"\""
        ]
    );
    let stored: Value = warned.json().await.unwrap();
    assert!(stored["spec"].get("bogus").is_none(), "unknown fields are dropped");

    pod["metadata"]["name"] = json!("ignored");
    let ignored = client.post(server.at(&format!("{PODS}?fieldValidation=Ignore"))).json(&pod).send().await.unwrap();
    assert_eq!(ignored.status(), StatusCode::CREATED);
    assert!(ignored.headers().get("warning").is_none());
    assert_status(
        &send(client.post(server.at(&format!("{PODS}?fieldValidation=Loose"))).json(&pod)).await,
        400,
        "BadRequest",
    );

    let patch = client
        .patch(server.at(&format!("{PODS}/ignored?fieldValidation=Strict")))
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"spec":{"nonsense":true}}"#);
    assert_status(&send(patch).await, 400, "BadRequest");
}

#[tokio::test]
async fn dry_run_validates_and_answers_but_stores_nothing() {
    let server = Server::start();
    let client = server.client();
    let before = revision(&server, &client).await;
    let (status, dry) = send(client.post(server.at(&format!("{PODS}?dryRun=All"))).json(&parked_pod_json("dry"))).await;
    assert_eq!(status, StatusCode::CREATED, "{dry}");
    assert_eq!(dry["metadata"]["name"], "dry");
    assert_eq!(dry["status"]["phase"], "Pending");
    assert_status(&send(client.get(server.at(&format!("{PODS}/dry")))).await, 404, "NotFound");
    let mut invalid = parked_pod_json("dry");
    invalid["spec"]["containers"] = json!([]);
    assert_status(&send(client.post(server.at(&format!("{PODS}?dryRun=All"))).json(&invalid)).await, 422, "Invalid");
    assert_eq!(revision(&server, &client).await, before);

    send(client.post(server.at(PODS)).json(&parked_pod_json("real"))).await;
    let after_create = revision(&server, &client).await;
    let patch = client
        .patch(server.at(&format!("{PODS}/real?dryRun=All")))
        .header("content-type", "application/strategic-merge-patch+json")
        .body(r#"{"metadata":{"labels":{"dry":"yes"}}}"#);
    let (status, patched) = send(patch).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["metadata"]["labels"]["dry"], "yes");
    let (status, _) = send(client.delete(server.at(&format!("{PODS}/real?dryRun=All")))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, real) = send(client.get(server.at(&format!("{PODS}/real")))).await;
    assert!(real["metadata"]["labels"].get("dry").is_none());
    assert_eq!(revision(&server, &client).await, after_create);
}

#[tokio::test]
async fn patches_of_every_type_and_their_errors() {
    let server = Server::start();
    let client = server.client();
    // Parked on a node no agent runs: the scheduler would otherwise write the pod's
    // PodScheduled condition while the test compares it before and after.
    let (_, created) = send(client.post(server.at(PODS)).json(&parked_pod_json("p"))).await;
    let url = server.at(&format!("{PODS}/p"));
    let patch = |content_type: &str, body: &str| {
        client.patch(&url).header("content-type", content_type.to_string()).body(body.to_string())
    };
    let (status, strategic) = send(patch(
        "application/strategic-merge-patch+json",
        r#"{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"name":"nginx","image":"nginx:1.28","ports":null}]}}"#,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{strategic}");
    assert_eq!(strategic["spec"]["containers"][0]["image"], "nginx:1.28");
    assert!(strategic["spec"]["containers"][0].get("ports").is_none(), "the port was removed");
    assert_eq!(strategic["metadata"]["generation"], 2, "a spec change bumps the generation");
    let (_, merged) =
        send(patch("application/merge-patch+json", r#"{"metadata":{"labels":{"app":null,"m":"1"}}}"#)).await;
    assert_eq!(merged["metadata"]["labels"], json!({"m": "1"}));
    let (_, json_patched) = send(patch(
        "application/json-patch+json",
        r#"[{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]"#,
    ))
    .await;
    assert_eq!(json_patched["metadata"]["annotations"]["a"], "b");
    let (status, status_patched) = send(
        client
            .patch(format!("{url}/status"))
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"status":{"phase":"Running"},"spec":{"activeDeadlineSeconds":5}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_patched["status"]["phase"], "Running");
    assert!(status_patched["spec"].get("activeDeadlineSeconds").is_none());

    let (_, before) = send(client.get(&url)).await;
    assert_status(&send(patch("application/json-patch+json", "not json")).await, 400, "BadRequest");
    assert_status(&send(patch("application/merge-patch+json", "[1]")).await, 400, "BadRequest");
    assert_status(
        &send(patch("application/json-patch+json", r#"[{"op":"remove","path":"/nope"}]"#)).await,
        422,
        "Invalid",
    );
    assert_status(&send(patch("application/json", "{}")).await, 415, "UnsupportedMediaType");
    let apply_without_manager = send(patch("application/apply-patch+yaml", "metadata:\n  labels:\n    x: y\n")).await;
    assert_status(&apply_without_manager, 422, "Invalid");
    assert!(
        apply_without_manager.1["message"].as_str().unwrap().contains("fieldManager"),
        "{}",
        apply_without_manager.1
    );
    assert_status(
        &send(patch("application/merge-patch+json", r#"{"metadata":{"name":"renamed"}}"#)).await,
        400,
        "BadRequest",
    );
    assert_status(
        &send(patch("application/merge-patch+json", r#"{"metadata":{"resourceVersion":"1"}}"#)).await,
        409,
        "Conflict",
    );
    assert_status(&send(patch("application/merge-patch+json", r#"{"spec":{"nodeName":"n1"}}"#)).await, 422, "Invalid");
    let missing = client
        .patch(server.at(&format!("{PODS}/nope")))
        .header("content-type", "application/merge-patch+json")
        .body("{}");
    assert_status(&send(missing).await, 404, "NotFound");
    let (_, after) = send(client.get(&url)).await;
    assert_eq!(before, after, "failed patches change nothing");
    assert_ne!(created["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"]);
}

#[tokio::test]
async fn debug_actors_lists_live_actors() {
    let server = Server::start();
    let client = server.client();
    let (status, body) = send(client.get(server.at("/debug/actors"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let recorder =
        body["actors"].as_array().unwrap().iter().find(|a| a["kind"] == "EventRecorder").expect("the event recorder");
    assert_eq!(recorder["incarnation"], 1);
    assert_eq!(recorder["state"], "recording");
    let (_, probed) = send(client.get(server.at("/debug/actors?probe=1&kind=EventRecorder"))).await;
    assert_eq!(probed["count"], 1);
    assert_eq!(probed["unresponsive"], 0);
    assert_eq!(probed["actors"][0]["responsive"], true);
    let (_, none) = send(client.get(server.at("/debug/actors?kind=Nothing"))).await;
    assert_eq!(none["actors"], json!([]));
    assert_status(&send(server.client_with_token(None).get(server.at("/debug/actors"))).await, 401, "Unauthorized");
}
