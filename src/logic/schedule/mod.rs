//! Scheduling decisions, as pure functions: which nodes a pod fits (filters), how well
//! (scores), and the choice. The scheduler actor keeps the inputs — a cache of nodes with
//! the pods already bound to them — and carries out the choice.
//!
//! - [`resources`]: pod requests and node capacity in exact integer units.
//! - [`filters`]: readiness, cordon, resources, nodeSelector, required node affinity,
//!   taints and tolerations, host ports, zone brand.
//! - [`scores`]: least-allocated, balanced allocation, preferred node affinity.

pub mod filters;
pub mod resources;
pub mod scores;

use std::collections::BTreeMap;

pub use filters::{Unfit, filter, tolerates};
pub use resources::{NodeInfo, PodRequest, Resources};

/// Why no node fits, in upstream's words: `0/3 nodes are available: 2 Insufficient cpu, 1
/// node(s) didn't match Pod's node affinity/selector.`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoFit {
    /// The message for the `PodScheduled=False` condition and the `FailedScheduling` event.
    pub message: String,
}

/// Builds the upstream message from the reason each node was rejected for.
pub fn unschedulable_message(total: usize, reasons: &[Unfit]) -> String {
    if total == 0 {
        return "no nodes available to schedule pods".into();
    }
    let mut histogram: BTreeMap<String, usize> = BTreeMap::new();
    for reason in reasons {
        *histogram.entry(reason.to_string()).or_default() += 1;
    }
    if histogram.is_empty() {
        return format!("0/{total} nodes are available.");
    }
    let parts: Vec<String> = histogram.iter().map(|(reason, count)| format!("{count} {reason}")).collect();
    format!("0/{total} nodes are available: {}.", parts.join(", "))
}

/// How many feasible nodes are enough to choose among, in a cluster of `total` nodes:
/// upstream's adaptive `percentageOfNodesToScore` (all nodes below 100; then 50% falling
/// by 1% per 125 nodes, at least 5%, and never fewer than 100 nodes).
pub fn feasible_to_find(total: usize) -> usize {
    if total < 100 {
        return total;
    }
    let percent = 50usize.saturating_sub(total / 125).max(5);
    (total * percent / 100).max(100)
}

/// Picks the best node for `pod`: the feasible node with the highest total score, ties
/// broken by `tie_break` (any number; the caller passes randomness so equal nodes share
/// the load). Every node is examined.
pub fn schedule<'a>(
    pod: &PodRequest,
    nodes: impl IntoIterator<Item = &'a NodeInfo>,
    tie_break: u64,
) -> Result<&'a str, NoFit> {
    schedule_limited(pod, nodes, usize::MAX, tie_break).0
}

/// Like [`schedule`] over `nodes` starting at index `start` (wrapping), stopping once
/// [`feasible_to_find`] feasible nodes are found, as upstream does in large clusters.
/// Returns the choice and how many nodes were examined (the caller starts the next pod
/// there, so every node gets its turn).
pub fn schedule_sampled<'a>(
    pod: &PodRequest,
    nodes: &'a [NodeInfo],
    start: usize,
    tie_break: u64,
) -> (Result<&'a str, NoFit>, usize) {
    let start = if nodes.is_empty() { 0 } else { start % nodes.len() };
    let ordered = nodes[start..].iter().chain(nodes[..start].iter());
    schedule_limited(pod, ordered, feasible_to_find(nodes.len()).max(1), tie_break)
}

fn schedule_limited<'a>(
    pod: &PodRequest,
    nodes: impl IntoIterator<Item = &'a NodeInfo>,
    enough: usize,
    tie_break: u64,
) -> (Result<&'a str, NoFit>, usize) {
    let mut feasible: Vec<(&NodeInfo, i64, i64)> = Vec::new();
    let mut rejected = Vec::new();
    let mut examined = 0;
    for node in nodes {
        examined += 1;
        match filter(pod, node) {
            Ok(()) => feasible.push((node, scores::resource_score(pod, node), scores::preferred_affinity(pod, node))),
            Err(reason) => rejected.push(reason),
        }
        if feasible.len() >= enough {
            break;
        }
    }
    if feasible.is_empty() {
        return (Err(NoFit { message: unschedulable_message(examined, &rejected) }), examined);
    }
    let max_affinity = feasible.iter().map(|(_, _, a)| *a).max().unwrap_or(0);
    let total_score = |resource: i64, affinity: i64| {
        let affinity = if max_affinity > 0 { affinity * scores::MAX_SCORE / max_affinity } else { 0 };
        resource + affinity
    };
    let best = feasible.iter().map(|&(_, r, a)| total_score(r, a)).max().expect("feasible is not empty");
    let winners: Vec<&NodeInfo> =
        feasible.iter().filter(|&&(_, r, a)| total_score(r, a) == best).map(|(n, _, _)| *n).collect();
    (Ok(&winners[(tie_break % winners.len() as u64) as usize].name), examined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::k8s::core::v1::{Node, Pod};
    use serde_json::json;

    pub(crate) fn node(name: &str, cpu: &str, memory: &str, extra: serde_json::Value) -> NodeInfo {
        let mut value = json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True"}]}});
        merge(&mut value, extra);
        NodeInfo::from_node(&serde_json::from_value::<Node>(value).unwrap())
    }

    pub(crate) fn pod(cpu: &str, memory: &str, extra: serde_json::Value) -> PodRequest {
        let mut value = json!({"metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}});
        merge(&mut value, extra);
        PodRequest::from_pod(&serde_json::from_value::<Pod>(value).unwrap())
    }

    fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
        if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
            for (k, v) in extra {
                match (base.get_mut(&k), v) {
                    (Some(existing @ serde_json::Value::Object(_)), v @ serde_json::Value::Object(_)) => {
                        merge(existing, v)
                    }
                    (_, v) => {
                        base.insert(k, v);
                    }
                }
            }
        }
    }

    #[test]
    fn picks_the_least_allocated_feasible_node() {
        let mut busy = node("busy", "4", "8Gi", json!({}));
        busy.assume(&pod("3", "6Gi", json!({})));
        let idle = node("idle", "4", "8Gi", json!({}));
        let small = node("small", "500m", "8Gi", json!({}));
        let nodes = [busy, idle, small];
        assert_eq!(schedule(&pod("1", "1Gi", json!({})), &nodes, 0), Ok("idle"));
        assert_eq!(schedule(&pod("1", "1Gi", json!({})), &nodes, 7), Ok("idle"), "no tie");
    }

    #[test]
    fn ties_are_broken_by_the_callers_randomness() {
        let nodes = [node("a", "4", "8Gi", json!({})), node("b", "4", "8Gi", json!({}))];
        let p = pod("1", "1Gi", json!({}));
        assert_eq!(schedule(&p, &nodes, 0), Ok("a"));
        assert_eq!(schedule(&p, &nodes, 1), Ok("b"));
    }

    #[test]
    fn explains_why_nothing_fits() {
        let nodes = [
            node("a", "1", "8Gi", json!({})),
            node("b", "1", "8Gi", json!({})),
            node("c", "8", "8Gi", json!({"metadata": {"labels": {"disk": "hdd"}}})),
        ];
        let p = pod("2", "1Gi", json!({"spec": {"nodeSelector": {"disk": "ssd"}}}));
        assert_eq!(
            schedule(&p, &nodes, 0),
            Err(NoFit {
                message:
                    "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector."
                        .into()
            })
        );
        assert_eq!(schedule(&p, &[], 0).unwrap_err().message, "no nodes available to schedule pods");
    }

    #[test]
    fn large_clusters_are_sampled_and_every_node_gets_its_turn() {
        assert_eq!(feasible_to_find(50), 50);
        assert_eq!(feasible_to_find(100), 100);
        assert_eq!(feasible_to_find(1000), 420);
        assert_eq!(feasible_to_find(5000), 500);
        assert_eq!(feasible_to_find(20000), 1000);
        let nodes: Vec<NodeInfo> = (0..1000).map(|i| node(&format!("n{i:04}"), "4", "8Gi", json!({}))).collect();
        let p = pod("100m", "1Mi", json!({}));
        let (first, checked) = schedule_sampled(&p, &nodes, 0, 0);
        assert_eq!(checked, 420);
        assert_eq!(first, Ok("n0000"));
        let (next, _) = schedule_sampled(&p, &nodes, 420, 0);
        assert_eq!(next, Ok("n0420"), "the next pod starts where the last stopped");
        let (wrapped, checked) = schedule_sampled(&p, &nodes, 990, 0);
        assert_eq!((wrapped, checked), (Ok("n0990"), 420));
        // When nothing fits, every node is examined and named in the message.
        let huge = pod("64", "1Mi", json!({}));
        let (none, checked) = schedule_sampled(&huge, &nodes, 500, 0);
        assert_eq!(checked, 1000);
        assert_eq!(none.unwrap_err().message, "0/1000 nodes are available: 1000 Insufficient cpu.");
    }

    #[test]
    fn preferred_affinity_outweighs_small_resource_differences() {
        let preferred = json!({"spec": {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 50, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["east"]}]}}]}}}});
        let mut east = node("east", "4", "8Gi", json!({"metadata": {"labels": {"zone": "east"}}}));
        east.assume(&pod("1", "2Gi", json!({})));
        let west = node("west", "4", "8Gi", json!({"metadata": {"labels": {"zone": "west"}}}));
        assert_eq!(schedule(&pod("500m", "1Gi", preferred.clone()), &[east, west], 0), Ok("east"));
    }
}
