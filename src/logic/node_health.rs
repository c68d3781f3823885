//! Node health decisions: when a node whose heartbeats stopped is unreachable, what its
//! conditions and taints become, and when each of its pods is evicted (the taint manager's
//! rule: a pod that does not tolerate the `NoExecute` taint goes at once; one that does
//! goes after its `tolerationSeconds`, or never without one).

use std::time::Duration;

use crate::logic::schedule::tolerates;
use crate::model::k8s::core::v1::{Taint, Toleration};

/// The taint an unreachable node gets.
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";
/// The default grace before a silent node is unreachable (`--node-monitor-grace-period`).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(40);

/// Whether a node last heard from `silent_for` ago is unreachable.
pub fn is_unreachable(silent_for: Duration, grace: Duration) -> bool {
    silent_for > grace
}

/// The `NoExecute` taint of an unreachable node.
pub fn unreachable_taint() -> Taint {
    Taint { key: UNREACHABLE_TAINT.into(), value: None, effect: "NoExecute".into(), time_added: None }
}

/// How long after `taint` appeared a pod with `tolerations` is evicted: `Some(ZERO)` at
/// once, `Some(d)` after its `tolerationSeconds`, `None` never. With several matching
/// tolerations the shortest bound wins, and an unbounded one means never (as upstream).
pub fn eviction_delay(tolerations: &[Toleration], taint: &Taint) -> Option<Duration> {
    let matching: Vec<&Toleration> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
    if matching.is_empty() {
        return Some(Duration::ZERO);
    }
    if matching.iter().any(|t| t.toleration_seconds.is_none()) {
        return None;
    }
    let shortest = matching.iter().filter_map(|t| t.toleration_seconds).min().unwrap_or(0);
    Some(Duration::from_secs(u64::try_from(shortest).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tolerations(value: serde_json::Value) -> Vec<Toleration> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn unreachable_after_the_grace_period() {
        assert!(!is_unreachable(Duration::from_secs(40), DEFAULT_GRACE));
        assert!(is_unreachable(Duration::from_secs(41), DEFAULT_GRACE));
    }

    #[test]
    fn eviction_table() {
        let taint = unreachable_taint();
        let cases = [
            (json!([]), Some(Duration::ZERO)),
            (json!([{"key": "other", "operator": "Exists"}]), Some(Duration::ZERO)),
            (
                json!([{"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]),
                Some(Duration::from_secs(300)),
            ),
            (json!([{"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoExecute"}]), None),
            (json!([{"operator": "Exists"}]), None),
            (
                json!([{"key": UNREACHABLE_TAINT, "operator": "Exists", "tolerationSeconds": 30},
                    {"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}]),
                Some(Duration::from_secs(10)),
            ),
            (json!([{"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"}]), Some(Duration::ZERO)),
            (json!([{"key": UNREACHABLE_TAINT, "operator": "Exists", "tolerationSeconds": -5}]), Some(Duration::ZERO)),
        ];
        for (value, want) in cases {
            assert_eq!(eviction_delay(&tolerations(value.clone()), &taint), want, "{value}");
        }
    }
}
