//! What a DELETE does to an object: remove it now, start (or shorten) a graceful
//! deletion, or wait for finalizers — the apiserver's rules, including the pod-specific
//! ones (an unscheduled or finished pod goes at once; grace 0 forces it).

use jiff::{SignedDuration, Timestamp};

/// The facts about an object that decide its deletion.
#[derive(Clone, Debug, Default)]
pub struct DeletionInput<'a> {
    /// `metadata.finalizers` is non-empty.
    pub has_finalizers: bool,
    /// The current `deletionTimestamp`, if deletion already began.
    pub deletion_timestamp: Option<Timestamp>,
    /// The current `deletionGracePeriodSeconds`.
    pub deletion_grace: Option<i64>,
    /// For pods: `spec.nodeName`.
    pub node_name: Option<&'a str>,
    /// For pods: `status.phase`.
    pub phase: Option<&'a str>,
    /// For pods: `spec.terminationGracePeriodSeconds`.
    pub spec_grace: Option<i64>,
    /// `gracePeriodSeconds` from the DeleteOptions.
    pub requested_grace: Option<i64>,
}

/// The outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Remove the object now.
    Remove,
    /// Set `deletionTimestamp` and `deletionGracePeriodSeconds`; something else finishes.
    Mark {
        /// The new `deletionTimestamp`.
        at: Timestamp,
        /// The new `deletionGracePeriodSeconds`.
        grace_seconds: i64,
    },
    /// Deletion is already under way with an equal or shorter grace period.
    AlreadyDeleting,
}

/// Decides the deletion of a pod.
pub fn pod_deletion(input: &DeletionInput<'_>, now: Timestamp) -> Deletion {
    let grace = input.requested_grace.or(input.spec_grace).unwrap_or(30).max(0);
    let unscheduled = input.node_name.is_none_or(str::is_empty);
    let finished = matches!(input.phase, Some("Succeeded" | "Failed"));
    let grace = if unscheduled || finished { 0 } else { grace };
    mark_or_remove(input, grace, now)
}

/// Decides the deletion of an object that has no grace period of its own: it goes at once
/// unless finalizers hold it.
pub fn plain_deletion(input: &DeletionInput<'_>, now: Timestamp) -> Deletion {
    mark_or_remove(input, 0, now)
}

fn mark_or_remove(input: &DeletionInput<'_>, grace: i64, now: Timestamp) -> Deletion {
    let at = now.saturating_add(SignedDuration::from_secs(grace)).unwrap_or(now);
    if let (Some(existing), Some(existing_grace)) = (input.deletion_timestamp, input.deletion_grace) {
        // A second delete may only shorten the grace period, and never moves the deadline
        // later. Grace 0 (the kubelet's final delete, or --force) removes the object even
        // after the first deadline has passed, as the Kubernetes API server does.
        if grace >= existing_grace {
            return Deletion::AlreadyDeleting;
        }
        return if grace == 0 && !input.has_finalizers {
            Deletion::Remove
        } else {
            Deletion::Mark { at: at.min(existing), grace_seconds: grace }
        };
    }
    if grace == 0 && !input.has_finalizers { Deletion::Remove } else { Deletion::Mark { at, grace_seconds: grace } }
}

/// Whether an update that leaves an object in this state should delete it instead: its
/// deletion has begun with grace 0 (or finished its grace) and nothing holds it any more.
pub fn delete_during_update(deletion_timestamp_set: bool, deletion_grace: Option<i64>, finalizers_left: bool) -> bool {
    deletion_timestamp_set && deletion_grace == Some(0) && !finalizers_left
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().unwrap()
    }

    fn later(seconds: i64) -> Timestamp {
        now().saturating_add(SignedDuration::from_secs(seconds)).unwrap()
    }

    #[test]
    fn pods() {
        let scheduled =
            DeletionInput { node_name: Some("n1"), phase: Some("Running"), spec_grace: Some(30), ..Default::default() };
        assert_eq!(pod_deletion(&scheduled, now()), Deletion::Mark { at: later(30), grace_seconds: 30 });
        let options = DeletionInput { requested_grace: Some(5), ..scheduled.clone() };
        assert_eq!(pod_deletion(&options, now()), Deletion::Mark { at: later(5), grace_seconds: 5 });
        let force = DeletionInput { requested_grace: Some(0), ..scheduled.clone() };
        assert_eq!(pod_deletion(&force, now()), Deletion::Remove);
        let unscheduled = DeletionInput { node_name: None, ..scheduled.clone() };
        assert_eq!(pod_deletion(&unscheduled, now()), Deletion::Remove);
        let finished = DeletionInput { phase: Some("Succeeded"), ..scheduled.clone() };
        assert_eq!(pod_deletion(&finished, now()), Deletion::Remove);
        let held = DeletionInput { has_finalizers: true, ..force.clone() };
        assert_eq!(pod_deletion(&held, now()), Deletion::Mark { at: now(), grace_seconds: 0 });
        let negative = DeletionInput { requested_grace: Some(-3), ..scheduled.clone() };
        assert_eq!(pod_deletion(&negative, now()), Deletion::Remove);
    }

    #[test]
    fn repeated_deletes_only_shorten() {
        let deleting = DeletionInput {
            node_name: Some("n1"),
            spec_grace: Some(30),
            deletion_timestamp: Some(later(30)),
            deletion_grace: Some(30),
            ..Default::default()
        };
        assert_eq!(pod_deletion(&deleting, now()), Deletion::AlreadyDeleting);
        let shorter = DeletionInput { requested_grace: Some(1), ..deleting.clone() };
        assert_eq!(pod_deletion(&shorter, now()), Deletion::Mark { at: later(1), grace_seconds: 1 });
        let forced = DeletionInput { requested_grace: Some(0), ..deleting.clone() };
        assert_eq!(pod_deletion(&forced, now()), Deletion::Remove);
        // After the deadline has passed, the kubelet's grace-0 delete still removes it.
        let overdue = DeletionInput { deletion_timestamp: Some(now()), deletion_grace: Some(2), ..forced.clone() };
        assert_eq!(pod_deletion(&overdue, later(10)), Deletion::Remove);
        // A shorter grace that would end after the current deadline keeps the deadline.
        let shorter_late = DeletionInput { requested_grace: Some(20), deletion_timestamp: Some(later(5)), ..deleting };
        assert_eq!(pod_deletion(&shorter_late, now()), Deletion::Mark { at: later(5), grace_seconds: 20 });
    }

    #[test]
    fn plain_objects_and_finalizers() {
        assert_eq!(plain_deletion(&DeletionInput::default(), now()), Deletion::Remove);
        let held = DeletionInput { has_finalizers: true, ..Default::default() };
        assert_eq!(plain_deletion(&held, now()), Deletion::Mark { at: now(), grace_seconds: 0 });
        assert!(delete_during_update(true, Some(0), false));
        assert!(!delete_during_update(true, Some(0), true));
        assert!(!delete_during_update(true, Some(30), false));
        assert!(!delete_during_update(false, Some(0), false));
    }
}
