//! `GET pods/{name}/log`: the API server's proxy to the node agent that runs the pod. It
//! finds the node's address (`status.addresses`, InternalIP first) and kubelet port
//! (`status.daemonEndpoints.kubeletEndpoint.Port`), forwards `follow`, `tailLines`,
//! `limitBytes`, `timestamps`, `sinceSeconds` and `previous`, and streams the agent's
//! answer through, so `kubectl logs -f` follows. Like upstream's default, the agent's
//! certificate is not verified; the API server identifies itself to the agent with its
//! kubelet-client token ([`crate::api::ApiSettings::kubelet_client_token`]).

use std::time::Duration;

use actix_web::{HttpResponse, http::StatusCode};
use futures_util::StreamExt;
use serde_json::Value;

use crate::api::ApiState;
use crate::api::path::Route;
use crate::api::request::Params;
use crate::api::status::ApiError;
use crate::store::keys;

/// The query parameters passed on to the agent.
const FORWARDED: &[&str] = &["follow", "tailLines", "limitBytes", "timestamps", "sinceSeconds", "previous"];

fn kubelet_endpoint(node: &Value) -> Option<(String, u64)> {
    let port =
        node.pointer("/status/daemonEndpoints/kubeletEndpoint/Port").and_then(Value::as_u64).filter(|p| *p > 0)?;
    let addresses = node.pointer("/status/addresses").and_then(Value::as_array)?;
    let pick = |kind: &str| addresses.iter().find(|a| a["type"] == kind).and_then(|a| a["address"].as_str());
    let address = pick("InternalIP").or_else(|| pick("ExternalIP")).or_else(|| pick("Hostname"))?;
    Some((address.to_string(), port))
}

/// Proxies a pod log request to the pod's node.
pub async fn pod_log(state: &ApiState, route: &Route, params: &Params) -> Result<HttpResponse, ApiError> {
    let name = route.name.as_deref().unwrap_or("");
    let pod = state.store.get(&route.key()).ok_or_else(|| ApiError::not_found(route.subject(name)))?.json();
    let namespace = route.namespace.as_deref().unwrap_or("default");
    let containers: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let container = match (params.non_empty("container"), containers.as_slice()) {
        (Some(container), _) => container.to_string(),
        (None, [only]) => only.to_string(),
        (None, _) => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    if !containers.contains(&container.as_str()) {
        return Err(ApiError::bad_request(format!("container {container} is not valid for pod {name}")));
    }
    let node_name = pod.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty());
    let Some(node_name) = node_name else {
        return Err(ApiError::bad_request(format!("pod {name} does not have a host assigned")));
    };
    let node = state
        .store
        .get(&keys::object_key("nodes", None, node_name))
        .ok_or_else(|| ApiError::bad_request(format!("node {node_name} of pod {name} does not exist")))?
        .json();
    let (address, port) = kubelet_endpoint(&node)
        .ok_or_else(|| ApiError::bad_request(format!("node {node_name} does not advertise a kubelet endpoint")))?;
    let host = if address.contains(':') { format!("[{address}]") } else { address };
    let mut query = form_urlencoded::Serializer::new(String::new());
    for key in FORWARDED {
        if let Some(value) = params.get(key) {
            query.append_pair(key, value);
        }
    }
    let url = format!("https://{host}:{port}/containerLogs/{namespace}/{name}/{container}?{}", query.finish());
    let follow = params.flag("follow");
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(ApiError::internal)?;
    let mut request = client.get(url);
    if !follow {
        request = request.timeout(Duration::from_secs(60));
    }
    if let Some(token) = &state.settings.kubelet_client_token {
        request = request.bearer_auth(token.expose());
    }
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::unavailable(format!("cannot reach the node agent of {node_name}: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(ApiError::bad_request(format!("the node agent answered {status}: {}", text.trim())));
    }
    let body = response.bytes_stream().map(|chunk| chunk.map_err(actix_web::error::ErrorBadGateway));
    Ok(HttpResponse::build(StatusCode::OK).content_type("text/plain").streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubelet_endpoint_prefers_the_internal_address() {
        let node = serde_json::json!({"status": {
            "addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        }});
        assert_eq!(kubelet_endpoint(&node), Some(("127.0.0.1".to_string(), 10250)));
        assert_eq!(kubelet_endpoint(&serde_json::json!({"status": {}})), None);
    }
}
