//! The filters: a node either fits a pod or is rejected for one reason, worded as upstream's
//! scheduler words it (those words end up in `kubectl describe pod`).

use std::fmt;

use crate::model::k8s::core::v1::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration};

use super::resources::{NodeInfo, PodRequest};

/// Why a node cannot take a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unfit {
    /// The node is not Ready.
    NotReady,
    /// The node is cordoned.
    Unschedulable,
    /// Not enough CPU left.
    InsufficientCpu,
    /// Not enough memory left.
    InsufficientMemory,
    /// No pod slot left.
    TooManyPods,
    /// nodeSelector or required node affinity does not match.
    AffinityMismatch,
    /// A NoSchedule/NoExecute taint the pod does not tolerate.
    UntoleratedTaint {
        /// The taint key.
        key: String,
        /// The taint value.
        value: String,
    },
    /// A host port is taken.
    HostPortConflict,
    /// The node does not run the zone brand the pod asks for.
    BrandUnsupported,
}

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unfit::NotReady => f.write_str("node(s) had untolerated taint {node.kubernetes.io/not-ready: }"),
            Unfit::Unschedulable => f.write_str("node(s) were unschedulable"),
            Unfit::InsufficientCpu => f.write_str("Insufficient cpu"),
            Unfit::InsufficientMemory => f.write_str("Insufficient memory"),
            Unfit::TooManyPods => f.write_str("Too many pods"),
            Unfit::AffinityMismatch => f.write_str("node(s) didn't match Pod's node affinity/selector"),
            Unfit::UntoleratedTaint { key, value } => write!(f, "node(s) had untolerated taint {{{key}: {value}}}"),
            Unfit::HostPortConflict => f.write_str("node(s) didn't have free ports for the requested pod ports"),
            Unfit::BrandUnsupported => f.write_str("node(s) didn't support the requested zone brand"),
        }
    }
}

/// Whether `toleration` tolerates `taint` (operator Exists/Equal, empty key and effect
/// as wildcards, as upstream).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_matches = toleration.effect.as_deref().is_none_or(|e| e.is_empty() || e == taint.effect);
    if !effect_matches {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => key.is_empty() || key == taint.key,
        "Equal" => {
            key == taint.key && toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// Whether a node-selector expression holds for a label whose value is `value` (None:
/// absent). Borrows everything: this runs for every node for every pod.
fn expression_matches(expr: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = expr.values.as_deref().unwrap_or(&[]);
    let compare = |ordering: std::cmp::Ordering| {
        let (Some(v), Some(bound)) =
            (value.and_then(|v| v.parse::<i64>().ok()), values.first().and_then(|b| b.parse::<i64>().ok()))
        else {
            return false;
        };
        v.cmp(&bound) == ordering
    };
    match expr.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| values.iter().all(|x| x != v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => compare(std::cmp::Ordering::Greater),
        "Lt" => compare(std::cmp::Ordering::Less),
        _ => false,
    }
}

/// Whether one node selector term matches (all of its expressions; an empty term matches
/// nothing, as upstream).
pub fn term_matches(term: &NodeSelectorTerm, node: &NodeInfo) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    expressions.iter().all(|e| expression_matches(e, node.labels.get(&e.key).map(String::as_str)))
        && fields.iter().all(|e| e.key == "metadata.name" && expression_matches(e, Some(node.name.as_str())))
}

fn selector_matches(selector: &NodeSelector, node: &NodeInfo) -> bool {
    selector.node_selector_terms.iter().any(|t| term_matches(t, node))
}

/// Checks every filter; the first one that fails is the reason.
pub fn filter(pod: &PodRequest, node: &NodeInfo) -> Result<(), Unfit> {
    if !node.ready {
        return Err(Unfit::NotReady);
    }
    if node.unschedulable {
        return Err(Unfit::Unschedulable);
    }
    let after = |used: i64, asked: i64| used + asked;
    if pod.requests.cpu_millis > 0
        && after(node.requested.cpu_millis, pod.requests.cpu_millis) > node.allocatable.cpu_millis
    {
        return Err(Unfit::InsufficientCpu);
    }
    if pod.requests.memory_bytes > 0
        && after(node.requested.memory_bytes, pod.requests.memory_bytes) > node.allocatable.memory_bytes
    {
        return Err(Unfit::InsufficientMemory);
    }
    if after(node.requested.pods, pod.requests.pods) > node.allocatable.pods {
        return Err(Unfit::TooManyPods);
    }
    let selector_ok = pod.node_selector.iter().all(|(k, v)| node.labels.get(k) == Some(v));
    let affinity_ok = pod.required_affinity.as_ref().is_none_or(|s| selector_matches(s, node));
    if !(selector_ok && affinity_ok) {
        return Err(Unfit::AffinityMismatch);
    }
    if let Some(taint) = node
        .taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !pod.tolerations.iter().any(|tol| tolerates(tol, t)))
    {
        return Err(Unfit::UntoleratedTaint { key: taint.key.clone(), value: taint.value.clone().unwrap_or_default() });
    }
    let conflicts = pod.host_ports.iter().any(|want| {
        node.used_ports.iter().any(|used| {
            used.protocol == want.protocol
                && used.port == want.port
                && (used.ip.is_empty() || want.ip.is_empty() || used.ip == want.ip)
        })
    });
    if conflicts {
        return Err(Unfit::HostPortConflict);
    }
    if let Some(brand) = &pod.brand
        && !node.brands.iter().any(|b| b == brand)
    {
        return Err(Unfit::BrandUnsupported);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{node, pod};
    use super::*;
    use serde_json::json;

    fn toleration(value: serde_json::Value) -> Toleration {
        serde_json::from_value(value).unwrap()
    }

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: Some(value.into()).filter(|v: &String| !v.is_empty()),
            effect: effect.into(),
            time_added: None,
        }
    }

    #[test]
    fn toleration_table() {
        let t = taint("dedicated", "gpu", "NoSchedule");
        let cases = [
            (json!({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}), true),
            (json!({"key": "dedicated", "value": "gpu"}), true),
            (json!({"key": "dedicated", "value": "cpu"}), false),
            (json!({"key": "dedicated", "operator": "Exists"}), true),
            (json!({"operator": "Exists"}), true),
            (json!({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}), false),
            (json!({"key": "other", "operator": "Exists"}), false),
            (json!({"key": "dedicated", "operator": "Bogus"}), false),
        ];
        for (value, want) in cases {
            assert_eq!(tolerates(&toleration(value.clone()), &t), want, "{value}");
        }
    }

    #[test]
    fn each_filter_rejects_for_its_reason() {
        let p = || pod("1", "1Gi", json!({}));
        let ok = node("n", "4", "8Gi", json!({}));
        assert_eq!(filter(&p(), &ok), Ok(()));
        let not_ready =
            node("n", "4", "8Gi", json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}));
        assert_eq!(filter(&p(), &not_ready), Err(Unfit::NotReady));
        let cordoned = node("n", "4", "8Gi", json!({"spec": {"unschedulable": true}}));
        assert_eq!(filter(&p(), &cordoned), Err(Unfit::Unschedulable));
        assert_eq!(filter(&pod("5", "1Gi", json!({})), &ok), Err(Unfit::InsufficientCpu));
        assert_eq!(filter(&pod("1", "9Gi", json!({})), &ok), Err(Unfit::InsufficientMemory));
        let full = node("n", "4", "8Gi", json!({"status": {"allocatable": {"pods": "0"}}}));
        assert_eq!(filter(&p(), &full), Err(Unfit::TooManyPods));
        let mut taken = ok.clone();
        for _ in 0..3 {
            taken.assume(&p());
        }
        assert_eq!(filter(&pod("1500m", "1Gi", json!({})), &taken), Err(Unfit::InsufficientCpu), "bound pods count");
        let selected = pod("1", "1Gi", json!({"spec": {"nodeSelector": {"disk": "ssd"}}}));
        assert_eq!(filter(&selected, &ok), Err(Unfit::AffinityMismatch));
        let tainted = node(
            "n",
            "4",
            "8Gi",
            json!({"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}),
        );
        assert_eq!(
            filter(&p(), &tainted),
            Err(Unfit::UntoleratedTaint { key: "dedicated".into(), value: "gpu".into() })
        );
        assert_eq!(
            Unfit::UntoleratedTaint { key: "dedicated".into(), value: "gpu".into() }.to_string(),
            "node(s) had untolerated taint {dedicated: gpu}"
        );
        let tolerant = pod("1", "1Gi", json!({"spec": {"tolerations": [{"key": "dedicated", "operator": "Exists"}]}}));
        assert_eq!(filter(&tolerant, &tainted), Ok(()));
        let soft = node("n", "4", "8Gi", json!({"spec": {"taints": [{"key": "x", "effect": "PreferNoSchedule"}]}}));
        assert_eq!(filter(&p(), &soft), Ok(()), "PreferNoSchedule does not filter");
        let lx = pod("1", "1Gi", json!({"metadata": {"annotations": {"reddwarf.io/zone-brand": "lx"}}}));
        assert_eq!(filter(&lx, &ok), Err(Unfit::BrandUnsupported));
        let lx_node = node("n", "4", "8Gi", json!({"metadata": {"labels": {"reddwarf.io/zone-brands": "lipkg,lx"}}}));
        assert_eq!(filter(&lx, &lx_node), Ok(()));
    }

    #[test]
    fn host_ports_conflict_across_addresses() {
        let web = |ip: &str| {
            pod(
                "100m",
                "1Mi",
                json!({"spec": {"containers": [{"name": "c", "image": "x",
            "ports": [{"containerPort": 80, "hostPort": 8080, "hostIP": ip}]}]}}),
            )
        };
        let mut n = node("n", "4", "8Gi", json!({}));
        n.assume(&web("10.0.0.1"));
        assert_eq!(filter(&web("10.0.0.1"), &n), Err(Unfit::HostPortConflict));
        assert_eq!(filter(&web("10.0.0.2"), &n), Ok(()));
        assert_eq!(filter(&web(""), &n), Err(Unfit::HostPortConflict), "all addresses overlap any one");
    }

    #[test]
    fn required_affinity_operators() {
        let n = node("n1", "4", "8Gi", json!({"metadata": {"labels": {"zone": "east", "gen": "5"}}}));
        let with = |expressions: serde_json::Value| {
            pod(
                "1",
                "1Gi",
                json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                {"nodeSelectorTerms": [{"matchExpressions": expressions}]}}}}}),
            )
        };
        let cases = [
            (json!([{"key": "zone", "operator": "In", "values": ["east", "west"]}]), true),
            (json!([{"key": "zone", "operator": "NotIn", "values": ["east"]}]), false),
            (json!([{"key": "zone", "operator": "Exists"}]), true),
            (json!([{"key": "gpu", "operator": "DoesNotExist"}]), true),
            (json!([{"key": "gen", "operator": "Gt", "values": ["4"]}]), true),
            (json!([{"key": "gen", "operator": "Lt", "values": ["4"]}]), false),
            (
                json!([{"key": "zone", "operator": "In", "values": ["east"]}, {"key": "gen", "operator": "Gt", "values": ["9"]}]),
                false,
            ),
            (json!([]), false),
        ];
        for (expressions, want) in cases {
            assert_eq!(filter(&with(expressions.clone()), &n).is_ok(), want, "{expressions}");
        }
        let by_name = pod(
            "1",
            "1Gi",
            json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}}),
        );
        assert_eq!(filter(&by_name, &n), Ok(()));
    }
}
