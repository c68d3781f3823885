//! Apply conflicts and how the apiserver reports them: a 409 `Status` whose message kubectl
//! prints verbatim, with one `FieldManagerConflict` cause per field. The wording follows
//! `k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go`: a manager prints as
//! `"name"`, plus `with subresource "status"` when it wrote through one, plus `using v1`
//! when its entry is an `Update`.

use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use super::element::go_quote;
use super::fieldset::FieldPath;
use super::managed::{ManagedFieldsEntry, Operation};

/// A manager another applier conflicts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictingManager {
    /// The manager's name.
    pub manager: String,
    /// Its entry's operation.
    pub operation: Operation,
    /// Its entry's API version.
    pub api_version: String,
    /// Its entry's subresource.
    pub subresource: Option<String>,
}

impl ConflictingManager {
    pub(crate) fn of(entry: &ManagedFieldsEntry) -> Self {
        ConflictingManager {
            manager: entry.manager.clone(),
            operation: entry.operation,
            api_version: entry.api_version.clone(),
            subresource: entry.subresource.clone(),
        }
    }

    fn identifier(&self) -> String {
        ManagedFieldsEntry {
            manager: self.manager.clone(),
            operation: self.operation,
            api_version: self.api_version.clone(),
            time: None,
            fields: Default::default(),
            subresource: self.subresource.clone(),
        }
        .identifier()
    }
}

/// `"kubectl-client-side-apply" using v1`, as upstream's `printManager` has it.
impl fmt::Display for ConflictingManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&go_quote(&self.manager))?;
        if let Some(subresource) = &self.subresource {
            write!(f, " with subresource {}", go_quote(subresource))?;
        }
        if self.operation == Operation::Update {
            write!(f, " using {}", self.api_version)?;
        }
        Ok(())
    }
}

/// One field another manager owns with a different value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// Who owns the field.
    pub manager: ConflictingManager,
    /// The field.
    pub path: FieldPath,
}

/// The conflicts that failed an apply, grouped by manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflicts(Vec<Conflict>);

/// One entry of the `Status`'s `details.causes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConflictCause {
    /// Always `FieldManagerConflict`.
    pub reason: &'static str,
    /// `conflict with "<manager>"...`.
    pub message: String,
    /// The field, as `.spec.containers[name="nginx"].image`.
    pub field: String,
}

impl Conflicts {
    /// The conflicts grouped by manager, managers sorted by upstream's identifier; within a
    /// manager the given order stays (upstream lists a manager's fields in field-set order).
    pub fn new(mut conflicts: Vec<Conflict>) -> Self {
        conflicts.sort_by_cached_key(|c| c.manager.identifier());
        conflicts.dedup();
        Conflicts(conflicts)
    }

    /// The conflicts.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.0
    }

    /// The `Status` message.
    pub fn message(&self) -> String {
        if let [only] = self.0.as_slice() {
            return format!("Apply failed with 1 conflict: conflict with {}: {}", only.manager, only.path);
        }
        let mut lines = Vec::new();
        let mut current: Option<&ConflictingManager> = None;
        for conflict in &self.0 {
            if current != Some(&conflict.manager) {
                lines.push(format!("conflicts with {}:", conflict.manager));
                current = Some(&conflict.manager);
            }
            lines.push(format!("- {}", conflict.path));
        }
        format!("Apply failed with {} conflicts: {}", self.0.len(), lines.join("\n"))
    }

    /// The `Status`'s `details.causes`.
    pub fn causes(&self) -> Vec<ConflictCause> {
        self.0
            .iter()
            .map(|c| ConflictCause {
                reason: "FieldManagerConflict",
                message: format!("conflict with {}", c.manager),
                field: c.path.to_string(),
            })
            .collect()
    }

    /// The whole 409 `Status` upstream answers with.
    pub fn to_status(&self) -> Value {
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message(),
            "reason": "Conflict",
            "details": {"causes": self.causes()},
            "code": 409
        })
    }
}

impl fmt::Display for Conflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Conflicts {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::apply::element::PathElement;
    use serde_json::json;

    fn manager(name: &str, operation: Operation, subresource: Option<&str>) -> ConflictingManager {
        ConflictingManager {
            manager: name.to_string(),
            operation,
            api_version: "v1".to_string(),
            subresource: subresource.map(str::to_string),
        }
    }

    fn image_of(container: &str) -> FieldPath {
        FieldPath(vec![
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::key([("name".to_string(), json!(container))]),
            PathElement::field("image"),
        ])
    }

    #[test]
    fn one_conflict_renders_the_status_kubectl_expects() {
        let conflicts = Conflicts::new(vec![Conflict {
            manager: manager("kubectl-client-side-apply", Operation::Update, None),
            path: image_of("nginx"),
        }]);
        assert_eq!(
            conflicts.to_status(),
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"Conflict","code":409,
                   "message":"Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .spec.containers[name=\"nginx\"].image",
                   "details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-client-side-apply\" using v1","field":".spec.containers[name=\"nginx\"].image"}]}})
        );
    }

    #[test]
    fn several_conflicts_group_by_sorted_manager() {
        let labels_app =
            FieldPath(vec![PathElement::field("metadata"), PathElement::field("labels"), PathElement::field("app")]);
        let conflicts = Conflicts::new(vec![
            Conflict { manager: manager("kubelet", Operation::Update, Some("status")), path: labels_app.clone() },
            Conflict { manager: manager("helm", Operation::Apply, None), path: image_of("app") },
            Conflict { manager: manager("helm", Operation::Apply, None), path: image_of("web") },
        ]);
        assert_eq!(
            conflicts.message(),
            "Apply failed with 3 conflicts: conflicts with \"helm\":\n\
             - .spec.containers[name=\"app\"].image\n\
             - .spec.containers[name=\"web\"].image\n\
             conflicts with \"kubelet\" with subresource \"status\" using v1:\n\
             - .metadata.labels.app"
        );
        assert_eq!(
            conflicts.causes().iter().map(|c| c.message.as_str()).collect::<Vec<_>>(),
            [
                "conflict with \"helm\"",
                "conflict with \"helm\"",
                "conflict with \"kubelet\" with subresource \"status\" using v1"
            ]
        );
    }
}
