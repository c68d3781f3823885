//! kube-rs (the `kube` crate), a third real client nobody here wrote, against
//! `reddwarf serve`: typed CRUD, every patch type, a runtime watcher waiting for a
//! condition, and deletion.

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config};
use serde_json::json;

use crate::support::{Server, pod_json};

async fn client(server: &Server) -> Client {
    let kubeconfig = Kubeconfig::read_from(&server.kubeconfig).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.unwrap();
    Client::try_from(config).unwrap()
}

#[tokio::test]
async fn kube_rs_crud_patch_watch_delete() {
    let server = Server::start();
    let client = client(&server).await;
    let version = client.apiserver_version().await.unwrap();
    assert_eq!((version.major.as_str(), version.minor.as_str()), ("1", "33"));

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    assert!(pods.list(&ListParams::default()).await.unwrap().items.is_empty());
    let pod: Pod = serde_json::from_value(pod_json("kube")).unwrap();
    let created = pods.create(&PostParams::default(), &pod).await.unwrap();
    assert_eq!(created.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));

    let strategic = Patch::Strategic(json!({"metadata": {"labels": {"via": "strategic"}}}));
    let patched = pods.patch("kube", &PatchParams::default(), &strategic).await.unwrap();
    assert_eq!(patched.metadata.labels.as_ref().unwrap()["via"], "strategic");
    let merge = Patch::Merge(json!({"metadata": {"annotations": {"via": "merge"}}}));
    let patched = pods.patch("kube", &PatchParams::default(), &merge).await.unwrap();
    assert_eq!(patched.metadata.annotations.as_ref().unwrap()["via"], "merge");
    let ops: json_patch_kube::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:1.28"}]))
            .unwrap();
    let patched = pods.patch("kube", &PatchParams::default(), &Patch::Json::<()>(ops)).await.unwrap();
    assert_eq!(patched.spec.as_ref().unwrap().containers[0].image.as_deref(), Some("nginx:1.28"));

    let mut replaced = patched.clone();
    replaced.metadata.labels.as_mut().unwrap().insert("via".into(), "replace".into());
    let replaced = pods.replace("kube", &PostParams::default(), &replaced).await.unwrap();
    assert_eq!(replaced.metadata.labels.as_ref().unwrap()["via"], "replace");
    let stale = pods.replace("kube", &PostParams::default(), &patched).await;
    assert!(matches!(stale, Err(kube::Error::Api(ref e)) if e.code == 409), "{stale:?}");

    // A runtime watcher (list, then watch with bookmarks) sees the pod become Ready.
    let ready = tokio::spawn({
        let pods = pods.clone();
        async move {
            let config = watcher::Config::default().fields("metadata.name=kube");
            let mut stream = watcher(pods, config).applied_objects().boxed();
            while let Some(pod) = stream.try_next().await.unwrap() {
                let conditions = pod.status.and_then(|s| s.conditions).unwrap_or_default();
                if conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True") {
                    return true;
                }
            }
            false
        }
    });
    let status =
        Patch::Merge(json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}));
    pods.patch_status("kube", &PatchParams::default(), &status).await.unwrap();
    let became_ready =
        tokio::time::timeout(std::time::Duration::from_secs(20), ready).await.expect("ready in time").unwrap();
    assert!(became_ready);

    let deleted = pods.delete("kube", &DeleteParams::default()).await.unwrap();
    assert!(deleted.left().is_some_and(|p| p.metadata.name.as_deref() == Some("kube")), "pods delete to the Pod");
    assert!(matches!(pods.get("kube").await, Err(kube::Error::Api(ref e)) if e.code == 404));

    let config_maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "cm"}, "data": {"a": "b"}})).unwrap();
    config_maps.create(&PostParams::default(), &cm).await.unwrap();
    let deleted = config_maps.delete("cm", &DeleteParams::default()).await.unwrap();
    assert!(deleted.right().is_some(), "other kinds delete to a Status");
}
