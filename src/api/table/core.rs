//! Tables for the core resources other than pods, with upstream's columns.

use jiff::Timestamp;
use serde_json::Value;

use super::{AGE, Column, NAME, TableDef, age_cell, age_since, text};

const fn col(name: &'static str, description: &'static str, priority: u8) -> Column {
    Column { name, kind: "string", format: "", description, priority }
}

fn name(o: &Value) -> Value {
    Value::from(text(o, "/metadata/name", ""))
}

fn count(o: &Value, fields: &[&str]) -> Value {
    Value::from(fields.iter().map(|f| o.get(*f).and_then(Value::as_object).map_or(0, |m| m.len())).sum::<usize>())
}

/// Namespaces: NAME STATUS AGE.
pub static NAMESPACES: TableDef = TableDef {
    columns: &[NAME, col("Status", "The status of the namespace", 0), AGE],
    row: |o, now| vec![name(o), Value::from(text(o, "/status/phase", "")), age_cell(o, now)],
};

/// Nodes: NAME STATUS ROLES AGE VERSION, and the wide columns.
pub static NODES: TableDef = TableDef {
    columns: &[
        NAME,
        col("Status", "The status of the node", 0),
        col("Roles", "The roles of the node", 0),
        AGE,
        col("Version", "Kubelet Version reported by the node.", 0),
        col("Internal-IP", "List of internal IPs.", 1),
        col("External-IP", "List of external IPs.", 1),
        col("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
        col("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
        col(
            "Container-Runtime",
            "Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            1,
        ),
    ],
    row: node_row,
};

fn node_row(o: &Value, now: Timestamp) -> Vec<Value> {
    let ready = o
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c.get("type").and_then(Value::as_str) == Some("Ready")));
    let mut status = vec![match ready.and_then(|c| c.get("status")).and_then(Value::as_str) {
        Some("True") => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    let mut roles: Vec<String> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role.to_string()),
            _ if k == "kubernetes.io/role" => v.as_str().map(str::to_string),
            _ => None,
        })
        .collect();
    roles.sort();
    let address = |kind: &str| {
        o.pointer("/status/addresses")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|a| a.get("type").and_then(Value::as_str) == Some(kind)))
            .and_then(|a| a.get("address"))
            .and_then(Value::as_str)
            .unwrap_or("<none>")
            .to_string()
    };
    vec![
        name(o),
        Value::from(status.join(",")),
        Value::from(if roles.is_empty() { "<none>".to_string() } else { roles.join(",") }),
        age_cell(o, now),
        Value::from(text(o, "/status/nodeInfo/kubeletVersion", "")),
        Value::from(address("InternalIP")),
        Value::from(address("ExternalIP")),
        Value::from(text(o, "/status/nodeInfo/osImage", "<unknown>")),
        Value::from(text(o, "/status/nodeInfo/kernelVersion", "<unknown>")),
        Value::from(text(o, "/status/nodeInfo/containerRuntimeVersion", "<unknown>")),
    ]
}

/// Services: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, and SELECTOR when wide.
pub static SERVICES: TableDef = TableDef {
    columns: &[
        NAME,
        col("Type", "The type of the service.", 0),
        col("Cluster-IP", "The IP address of the service.", 0),
        col("External-IP", "The external IP address of the service.", 0),
        col("Port(s)", "The ports of the service.", 0),
        AGE,
        col("Selector", "Route service traffic to pods with label keys and values matching this selector.", 1),
    ],
    row: service_row,
};

fn strings(o: &Value, pointer: &str) -> Vec<String> {
    o.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn service_row(o: &Value, now: Timestamp) -> Vec<Value> {
    let kind = text(o, "/spec/type", "ClusterIP");
    let mut external = strings(o, "/spec/externalIPs");
    let external = match kind {
        "LoadBalancer" => {
            let ingress =
                o.pointer("/status/loadBalancer/ingress").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut ips: Vec<String> = ingress
                .iter()
                .filter_map(|i| i.get("ip").or_else(|| i.get("hostname")).and_then(Value::as_str).map(str::to_string))
                .collect();
            ips.append(&mut external);
            if ips.is_empty() { "<pending>".to_string() } else { ips.join(",") }
        }
        "ExternalName" => text(o, "/spec/externalName", "<none>").to_string(),
        _ if external.is_empty() => "<none>".to_string(),
        _ => external.join(","),
    };
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(node_port) if node_port != 0 => format!("{port}:{node_port}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    let selector: Vec<String> = o
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    vec![
        name(o),
        Value::from(kind),
        Value::from(text(o, "/spec/clusterIP", "<none>")),
        Value::from(external),
        Value::from(if ports.is_empty() { "<none>".to_string() } else { ports.join(",") }),
        age_cell(o, now),
        Value::from(if selector.is_empty() { "<none>".to_string() } else { selector.join(",") }),
    ]
}

/// Endpoints: NAME ENDPOINTS AGE.
pub static ENDPOINTS: TableDef = TableDef {
    columns: &[NAME, col("Endpoints", "Endpoints of the service", 0), AGE],
    row: |o, now| {
        let mut all = Vec::new();
        for subset in o.get("subsets").and_then(Value::as_array).into_iter().flatten() {
            let ports: Vec<i64> = subset
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("port").and_then(Value::as_i64))
                .collect();
            for address in subset.get("addresses").and_then(Value::as_array).into_iter().flatten() {
                let ip = address.get("ip").and_then(Value::as_str).unwrap_or("");
                if ports.is_empty() {
                    all.push(ip.to_string());
                }
                for port in &ports {
                    all.push(format!("{ip}:{port}"));
                }
            }
        }
        let shown = match all.len() {
            0 => "<none>".to_string(),
            n if n > 3 => format!("{} + {} more...", all[..3].join(","), n - 3),
            _ => all.join(","),
        };
        vec![name(o), Value::from(shown), age_cell(o, now)]
    },
};

/// Events: LAST SEEN TYPE REASON OBJECT MESSAGE, and more when wide.
pub static EVENTS: TableDef = TableDef {
    columns: &[
        col("Last Seen", "The last time the event was observed", 0),
        col("Type", "Type of this event (Normal, Warning), new types could be added in the future.", 0),
        col("Reason", "The reason this event was generated.", 0),
        col("Object", "The related object.", 0),
        col("Subobject", "The subobject the event is about, such as a container.", 1),
        col("Source", "The component reporting this event.", 1),
        col("Message", "A human-readable description of the status of this operation.", 0),
        col("First Seen", "The first time the event was observed", 1),
        Column {
            name: "Count",
            kind: "integer",
            format: "",
            description: "The number of times this event has occurred.",
            priority: 1,
        },
        NAME_WIDE,
    ],
    row: event_row,
};

const NAME_WIDE: Column = Column {
    name: "Name",
    kind: "string",
    format: "name",
    description: "Name must be unique within a namespace.",
    priority: 1,
};

fn event_row(o: &Value, now: Timestamp) -> Vec<Value> {
    let stamp = |pointer: &str| o.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty());
    let first = stamp("/firstTimestamp").or_else(|| stamp("/eventTime"));
    let first_age = age_since(first, now);
    let mut last_age = match stamp("/lastTimestamp") {
        Some(last) => age_since(Some(last), now),
        None => first_age.clone(),
    };
    let mut count = o.get("count").and_then(Value::as_i64).unwrap_or(0);
    if let Some(series) = o.get("series") {
        last_age = age_since(series.get("lastObservedTime").and_then(Value::as_str), now);
        count = series.get("count").and_then(Value::as_i64).unwrap_or(count);
    } else if count == 0 {
        count = 1;
    }
    let kind = text(o, "/involvedObject/kind", "").to_lowercase();
    let target = match text(o, "/involvedObject/name", "") {
        "" => kind,
        object => format!("{kind}/{object}"),
    };
    let source = match text(o, "/source/component", "") {
        "" => {
            let controller = text(o, "/reportingComponent", "");
            match text(o, "/reportingInstance", "") {
                "" => controller.to_string(),
                instance => format!("{controller}, {instance}"),
            }
        }
        component => match text(o, "/source/host", "") {
            "" => component.to_string(),
            host => format!("{component}, {host}"),
        },
    };
    vec![
        Value::from(last_age),
        Value::from(text(o, "/type", "")),
        Value::from(text(o, "/reason", "")),
        Value::from(target),
        Value::from(text(o, "/involvedObject/fieldPath", "")),
        Value::from(source),
        Value::from(text(o, "/message", "").trim()),
        Value::from(first_age),
        Value::from(count),
        name(o),
    ]
}

/// ConfigMaps: NAME DATA AGE.
pub static CONFIGMAPS: TableDef = TableDef {
    columns: &[
        NAME,
        Column {
            name: "Data",
            kind: "integer",
            format: "",
            description: "Number of keys in the ConfigMap",
            priority: 0,
        },
        AGE,
    ],
    row: |o, now| vec![name(o), count(o, &["data", "binaryData"]), age_cell(o, now)],
};

/// Secrets: NAME TYPE DATA AGE.
pub static SECRETS: TableDef = TableDef {
    columns: &[
        NAME,
        col("Type", "The type of the secret", 0),
        Column {
            name: "Data",
            kind: "integer",
            format: "",
            description: "The number of keys in the secret",
            priority: 0,
        },
        AGE,
    ],
    row: |o, now| vec![name(o), Value::from(text(o, "/type", "")), count(o, &["data"]), age_cell(o, now)],
};

/// ServiceAccounts: NAME SECRETS AGE.
pub static SERVICE_ACCOUNTS: TableDef = TableDef {
    columns: &[
        NAME,
        Column {
            name: "Secrets",
            kind: "integer",
            format: "",
            description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
            priority: 0,
        },
        AGE,
    ],
    row: |o, now| {
        vec![name(o), Value::from(o.get("secrets").and_then(Value::as_array).map_or(0, Vec::len)), age_cell(o, now)]
    },
};

/// Leases: NAME HOLDER AGE.
pub static LEASES: TableDef = TableDef {
    columns: &[NAME, col("Holder", "The holder of the lease", 0), AGE],
    row: |o, now| vec![name(o), Value::from(text(o, "/spec/holderIdentity", "<none>")), age_cell(o, now)],
};

/// ResourceQuotas: NAME AGE REQUEST LIMIT, with used/hard per resource.
pub static RESOURCE_QUOTAS: TableDef = TableDef {
    columns: &[
        NAME,
        AGE,
        col("Request", "Request represents a minimum amount of cpu/memory that a container may consume.", 0),
        col(
            "Limit",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
            0,
        ),
    ],
    row: |o, now| {
        let (mut requests, mut limits) = (Vec::new(), Vec::new());
        for (resource, hard) in o
            .pointer("/status/hard")
            .or_else(|| o.pointer("/spec/hard"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let used = o
                .pointer(&format!("/status/used/{}", resource.replace('/', "~1")))
                .and_then(Value::as_str)
                .unwrap_or("0");
            let cell = format!("{resource}: {used}/{}", hard.as_str().unwrap_or(""));
            if resource.starts_with("limits.") { limits.push(cell) } else { requests.push(cell) }
        }
        vec![name(o), age_cell(o, now), Value::from(requests.join(", ")), Value::from(limits.join(", "))]
    },
};

/// LimitRanges: NAME CREATED AT.
pub static LIMIT_RANGES: TableDef = TableDef {
    columns: &[
        NAME,
        col(
            "Created At",
            "CreationTimestamp is a timestamp representing the server time when this object was created.",
            0,
        ),
    ],
    row: |o, _| vec![name(o), Value::from(text(o, "/metadata/creationTimestamp", ""))],
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn nodes() {
        let node = json!({"metadata": {"name": "n1", "creationTimestamp": "2026-11-27T09:00:00Z", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "addresses": [{"type": "InternalIP", "address": "192.168.1.5"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0-reddwarf", "osImage": "OmniOS r151054", "kernelVersion": "5.11", "containerRuntimeVersion": "zones://1"}}});
        let row = node_row(&node, now());
        assert_eq!(row[1], "Ready,SchedulingDisabled");
        assert_eq!(row[2], "control-plane");
        assert_eq!(row[3], "60m");
        assert_eq!(row[5], "192.168.1.5");
        assert_eq!(row[6], "<none>");
        assert_eq!(node_row(&json!({"metadata": {"name": "n2"}}), now())[1], "Unknown");
    }

    #[test]
    fn services() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.10",
            "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}, {"port": 53, "protocol": "UDP"}], "selector": {"app": "web"}}});
        let row = service_row(&svc, now());
        assert_eq!(row[4], "80:30080/TCP,53/UDP");
        assert_eq!(row[6], "app=web");
        assert_eq!(row[3], "<none>");
    }

    #[test]
    fn events() {
        let event = json!({"metadata": {"name": "web.1"}, "type": "Normal", "reason": "Scheduled", "message": "Successfully assigned default/web to n1 ",
            "involvedObject": {"kind": "Pod", "name": "web"}, "source": {"component": "default-scheduler"},
            "firstTimestamp": "2026-11-27T09:50:00Z", "lastTimestamp": "2026-11-27T09:59:00Z", "count": 3});
        let row = event_row(&event, now());
        assert_eq!(row[..4], [json!("60s"), json!("Normal"), json!("Scheduled"), json!("pod/web")]);
        assert_eq!(row[5], "default-scheduler");
        assert_eq!(row[6], "Successfully assigned default/web to n1");
        assert_eq!(row[7], "10m");
        assert_eq!(row[8], 3);
        assert_eq!(row.len(), EVENTS.columns.len());
    }

    #[test]
    fn every_row_matches_its_columns() {
        let object = json!({"metadata": {"name": "x"}});
        for def in [
            &NAMESPACES,
            &NODES,
            &SERVICES,
            &ENDPOINTS,
            &EVENTS,
            &CONFIGMAPS,
            &SECRETS,
            &SERVICE_ACCOUNTS,
            &LEASES,
            &RESOURCE_QUOTAS,
            &LIMIT_RANGES,
            &super::super::DEFAULT,
            &super::super::PODS,
        ] {
            assert_eq!((def.row)(&object, now()).len(), def.columns.len());
        }
    }
}
