//! Validation of a container's health probes (`livenessProbe`, `readinessProbe`,
//! `startupProbe`), as the API server does it, plus one Reddwarf rule: gRPC probes are
//! rejected (422) because the agent does not speak grpc.health.v1, and a probe that is
//! accepted but never run would be worse than a clear refusal.

use serde_json::json;

use crate::model::k8s::core::v1::{Container, Probe};
use crate::model::validation::FieldError;

/// The errors in `container`'s probes; `base` is the container's path
/// (`spec.containers[0]`).
pub fn validate_probes(container: &Container, base: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let probes = [
        ("livenessProbe", &container.liveness_probe),
        ("readinessProbe", &container.readiness_probe),
        ("startupProbe", &container.startup_probe),
    ];
    for (name, probe) in probes {
        if let Some(probe) = probe {
            errors.extend(validate_probe(probe, &format!("{base}.{name}"), name));
        }
    }
    errors
}

fn validate_probe(probe: &Probe, at: &str, name: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if probe.grpc.is_some() {
        errors.push(FieldError::forbidden(
            format!("{at}.grpc"),
            "gRPC probes are not supported by Reddwarf; use exec, httpGet or tcpSocket",
        ));
    }
    let handlers = [probe.exec.is_some(), probe.http_get.is_some(), probe.tcp_socket.is_some(), probe.grpc.is_some()];
    match handlers.iter().filter(|h| **h).count() {
        0 => errors.push(FieldError::required(at, "must specify a handler type")),
        1 => {}
        _ => errors.push(FieldError::forbidden(at, "may not specify more than 1 handler type")),
    }
    let non_negative = [("initialDelaySeconds", probe.initial_delay_seconds)];
    for (field, value) in non_negative {
        if let Some(v) = value
            && v < 0
        {
            errors.push(FieldError::invalid(format!("{at}.{field}"), &json!(v), "must be greater than or equal to 0"));
        }
    }
    let positive = [
        ("periodSeconds", probe.period_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ];
    for (field, value) in positive {
        if let Some(v) = value
            && v < 1
        {
            errors.push(FieldError::invalid(format!("{at}.{field}"), &json!(v), "must be greater than or equal to 1"));
        }
    }
    if name != "readinessProbe"
        && let Some(v) = probe.success_threshold
        && v != 1
    {
        errors.push(FieldError::invalid(format!("{at}.successThreshold"), &json!(v), "must be 1"));
    }
    if let Some(v) = probe.termination_grace_period_seconds {
        if name == "readinessProbe" {
            errors.push(FieldError::invalid(
                format!("{at}.terminationGracePeriodSeconds"),
                &json!(v),
                "must not be set for readinessProbes",
            ));
        } else if v < 1 {
            errors.push(FieldError::invalid(
                format!("{at}.terminationGracePeriodSeconds"),
                &json!(v),
                "must be greater than 0",
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(probes: serde_json::Value) -> Container {
        let mut value = json!({"name": "c", "image": "x"});
        value.as_object_mut().unwrap().extend(probes.as_object().unwrap().clone());
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn probes_are_checked_and_grpc_is_refused() {
        // (probes, expected error summaries)
        let table = [
            (json!({"livenessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 3}}), vec![]),
            (
                json!({"livenessProbe": {"grpc": {"port": 9000}}}),
                vec![
                    "spec.containers[0].livenessProbe.grpc: Forbidden: gRPC probes are not supported by Reddwarf; use exec, httpGet or tcpSocket",
                ],
            ),
            (
                json!({"readinessProbe": {}}),
                vec!["spec.containers[0].readinessProbe: Required value: must specify a handler type"],
            ),
            (
                json!({"startupProbe": {"exec": {"command": ["true"]}, "successThreshold": 2, "periodSeconds": 0}}),
                vec![
                    "spec.containers[0].startupProbe.periodSeconds: Invalid value: 0: must be greater than or equal to 1",
                    "spec.containers[0].startupProbe.successThreshold: Invalid value: 2: must be 1",
                ],
            ),
            (
                json!({"readinessProbe": {"httpGet": {"port": 80}, "tcpSocket": {"port": 80}, "terminationGracePeriodSeconds": 5}}),
                vec![
                    "spec.containers[0].readinessProbe: Forbidden: may not specify more than 1 handler type",
                    "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes",
                ],
            ),
        ];
        for (probes, expected) in table {
            let errors: Vec<String> = validate_probes(&container(probes.clone()), "spec.containers[0]")
                .iter()
                .map(FieldError::summary)
                .collect();
            assert_eq!(errors, expected, "{probes}");
        }
    }
}
