//! The scores: how well a feasible node suits a pod, each on 0–100 as upstream's plugins,
//! with the pod's non-zero default requests counted as if bound.

use super::filters::term_matches;
use super::resources::{NodeInfo, PodRequest};

/// The top of each score.
pub const MAX_SCORE: i64 = 100;

fn fraction_used(used: i64, capacity: i64) -> f64 {
    if capacity <= 0 { 1.0 } else { (used as f64 / capacity as f64).min(1.0) }
}

/// Least-allocated plus balanced-allocation, for CPU and memory.
pub fn resource_score(pod: &PodRequest, node: &NodeInfo) -> i64 {
    let cpu =
        fraction_used(node.scoring_requested.cpu_millis + pod.scoring_requests.cpu_millis, node.allocatable.cpu_millis);
    let memory = fraction_used(
        node.scoring_requested.memory_bytes + pod.scoring_requests.memory_bytes,
        node.allocatable.memory_bytes,
    );
    let least_allocated = ((1.0 - cpu) + (1.0 - memory)) / 2.0 * MAX_SCORE as f64;
    // With two resources the standard deviation is half their difference.
    let balanced = (1.0 - (cpu - memory).abs() / 2.0) * MAX_SCORE as f64;
    least_allocated.round() as i64 + balanced.round() as i64
}

/// The sum of the weights of the preferred node-affinity terms the node matches (the
/// caller normalises across nodes).
pub fn preferred_affinity(pod: &PodRequest, node: &NodeInfo) -> i64 {
    pod.preferred_affinity.iter().filter(|t| term_matches(&t.preference, node)).map(|t| i64::from(t.weight)).sum()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{node, pod};
    use super::*;
    use serde_json::json;

    #[test]
    fn emptier_and_balanced_nodes_score_higher() {
        let p = pod("1", "2Gi", json!({}));
        let idle = node("idle", "4", "8Gi", json!({}));
        let mut half = node("half", "4", "8Gi", json!({}));
        half.assume(&pod("2", "4Gi", json!({})));
        assert!(resource_score(&p, &idle) > resource_score(&p, &half));
        // Same free total, but one is lopsided (CPU nearly gone, memory free).
        let mut lopsided = node("lopsided", "4", "8Gi", json!({}));
        lopsided.assume(&pod("3", "0", json!({})));
        let mut even = node("even", "4", "8Gi", json!({}));
        even.assume(&pod("1500m", "3Gi", json!({})));
        assert!(resource_score(&p, &even) > resource_score(&p, &lopsided));
        assert_eq!(
            resource_score(&pod("0", "0", json!({})), &node("zero", "0", "0", json!({}))),
            100,
            "no capacity: balanced only"
        );
    }

    #[test]
    fn preferred_weights_add_up() {
        let p = pod(
            "1",
            "1Gi",
            json!({"spec": {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 20, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["east"]}]}},
            {"weight": 5, "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]}}]}}}}),
        );
        assert_eq!(
            preferred_affinity(
                &p,
                &node("a", "1", "1Gi", json!({"metadata": {"labels": {"zone": "east", "ssd": ""}}}))
            ),
            25
        );
        assert_eq!(
            preferred_affinity(&p, &node("b", "1", "1Gi", json!({"metadata": {"labels": {"zone": "west"}}}))),
            0
        );
    }
}
