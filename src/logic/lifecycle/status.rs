//! The pod status the kubelet would write, rendered from a lifecycle [`PodState`]: phase;
//! conditions PodScheduled, Initialized, ContainersReady and Ready (a condition's
//! `lastTransitionTime` moves only when its status changes); one `containerStatuses` entry
//! per container (a pod is one zone, so every container shares the zone's state, restart
//! count and readiness); hostIP(s), podIP(s) and startTime. Pure: `now` is an argument.

use std::net::IpAddr;

use jiff::Timestamp;

use crate::logic::lifecycle::{ContainerState, PodState, Stage, Termination};
use crate::model::k8s::core::v1::{
    ContainerState as K8sContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use crate::model::meta::Time;

/// What the status needs besides the machine.
#[derive(Clone, Debug)]
pub struct StatusContext<'a> {
    /// The pod as the API has it (its spec and its current status).
    pub pod: &'a Pod,
    /// The node's address.
    pub host_ip: Option<IpAddr>,
    /// The zone's name, shown as the containers' `containerID` (`zone://NAME`).
    pub zone_name: &'a str,
    /// When the agent first accepted the pod (used when the pod has no startTime yet).
    pub accepted_at: Timestamp,
    /// The current time.
    pub now: Timestamp,
}

/// `t` as the API stores it: a `metav1.Time` travels in whole seconds, so a status rendered
/// with finer times would never compare equal to the copy the watch brings back.
fn wire_time(t: Timestamp) -> Time {
    Time(Timestamp::from_second(t.as_second()).unwrap_or(t))
}

fn condition(type_: &str, ready: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    PodCondition {
        type_: type_.to_string(),
        status: if ready { "True" } else { "False" }.to_string(),
        reason: reason.map(str::to_string),
        message,
        ..PodCondition::default()
    }
}

fn terminated(t: &Termination) -> ContainerStateTerminated {
    ContainerStateTerminated {
        exit_code: t.exit_code,
        reason: Some(t.reason.clone()),
        started_at: t.started_at.map(wire_time),
        finished_at: Some(wire_time(t.finished_at)),
        ..ContainerStateTerminated::default()
    }
}

fn container_state(state: &ContainerState) -> K8sContainerState {
    match state {
        ContainerState::Waiting { reason, message } => K8sContainerState {
            waiting: Some(ContainerStateWaiting { reason: Some(reason.clone()), message: message.clone() }),
            ..K8sContainerState::default()
        },
        ContainerState::Running { started_at } => K8sContainerState {
            running: Some(ContainerStateRunning { started_at: Some(wire_time(*started_at)) }),
            ..K8sContainerState::default()
        },
        ContainerState::Terminated(t) => {
            K8sContainerState { terminated: Some(terminated(t)), ..K8sContainerState::default() }
        }
    }
}

/// Renders the status for `state`.
pub fn render_status(state: &PodState, context: &StatusContext<'_>) -> PodStatus {
    let pod = context.pod;
    let previous = pod.status.as_ref();
    let spec = pod.spec.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let has_init = spec.and_then(|s| s.init_containers.as_ref()).is_some_and(|c| !c.is_empty());
    let ready = state.is_ready();
    let running = matches!(state.container, ContainerState::Running { .. });

    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let not_ready = |completed: bool| {
        if completed {
            (Some("PodCompleted"), None)
        } else {
            (Some("ContainersNotReady"), Some(format!("containers with unready status: [{}]", names.join(" "))))
        }
    };
    let (reason, message) = if ready { (None, None) } else { not_ready(state.stage == Stage::Completed) };
    let initialized = !has_init || state.has_run;
    let mut conditions = vec![
        condition("PodReadyToStartContainers", state.ip.is_some() && state.stage != Stage::Finished, None, None),
        condition(
            "Initialized",
            initialized,
            (!initialized).then_some("ContainersNotInitialized"),
            (!initialized).then(|| "the pod's zone has not started yet".to_string()),
        ),
        condition("Ready", ready, reason, message.clone()),
        condition("ContainersReady", ready, reason, message),
        condition("PodScheduled", true, None, None),
    ];
    for c in &mut conditions {
        let earlier = previous
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|p| p.type_ == c.type_ && p.status == c.status));
        c.last_transition_time =
            Some(earlier.and_then(|p| p.last_transition_time.clone()).unwrap_or_else(|| wire_time(context.now)));
    }

    let container_id = format!("zone://{}", context.zone_name);
    let last_state = state
        .last_termination
        .as_ref()
        .map(|t| K8sContainerState { terminated: Some(terminated(t)), ..K8sContainerState::default() });
    let container_statuses = containers
        .iter()
        .map(|c| ContainerStatus {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            image_id: String::new(),
            container_id: (state.has_run || running).then(|| container_id.clone()),
            state: Some(container_state(&state.container)),
            last_state: last_state.clone(),
            ready,
            restart_count: i32::try_from(state.restart_count).unwrap_or(i32::MAX),
            started: Some(running),
            ..ContainerStatus::default()
        })
        .collect();

    let pod_ip = state.ip.filter(|_| !state.ip_released).map(|ip| ip.to_string());
    let host_ip = context.host_ip.map(|ip| ip.to_string());
    let start_time = previous.and_then(|s| s.start_time.clone()).unwrap_or_else(|| wire_time(context.accepted_at));
    PodStatus {
        phase: Some(state.phase().to_string()),
        conditions: Some(conditions),
        container_statuses: Some(container_statuses),
        host_ip: host_ip.clone(),
        host_ips: host_ip.map(|ip| vec![HostIP { ip }]),
        pod_ip: pod_ip.clone(),
        pod_ips: pod_ip.map(|ip| vec![PodIP { ip }]),
        start_time: Some(start_time),
        qos_class: previous.and_then(|s| s.qos_class.clone()),
        ..PodStatus::default()
    }
}

/// The same status with every timestamp that the agent itself chose blanked, so two
/// renderings can be compared for a change that matters.
pub fn comparable(status: &PodStatus) -> PodStatus {
    let mut status = status.clone();
    for c in status.conditions.iter_mut().flatten() {
        c.last_transition_time = None;
        c.last_probe_time = None;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::lifecycle::{Desired, Resume};

    fn pod() -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "a", "image": "img-a"}, {"name": "b", "image": "img-b"}]},
            "status": {"phase": "Pending", "qosClass": "BestEffort", "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
            ]}
        }))
        .unwrap()
    }

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().unwrap()
    }

    fn context(pod: &Pod) -> StatusContext<'_> {
        StatusContext {
            pod,
            host_ip: Some("127.0.0.1".parse().unwrap()),
            zone_name: "default_web",
            accepted_at: now(),
            now: now(),
        }
    }

    #[test]
    fn a_running_pod_is_ready_with_every_container() {
        let pod = pod();
        let mut state = PodState::new(Desired::default(), Resume::default());
        state.stage = Stage::Running;
        state.zone = Some(crate::logic::lifecycle::ZoneStatus::Running);
        state.container = ContainerState::Running { started_at: now() };
        state.has_run = true;
        state.ip = Some("127.77.0.2".parse().unwrap());
        let status = render_status(&state, &context(&pod));
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert_eq!(status.pod_ip.as_deref(), Some("127.77.0.2"));
        assert_eq!(status.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
        let conditions = status.conditions.unwrap();
        let find = |t: &str| conditions.iter().find(|c| c.type_ == t).unwrap().clone();
        assert_eq!(find("Ready").status, "True");
        assert_eq!(find("ContainersReady").status, "True");
        assert_eq!(find("Initialized").status, "True");
        // An unchanged condition keeps its transition time.
        assert_eq!(find("PodScheduled").last_transition_time.unwrap().0.to_string(), "2026-01-01T00:00:00Z");
        let containers = status.container_statuses.unwrap();
        assert_eq!(containers.len(), 2);
        assert!(containers.iter().all(|c| c.ready && c.started == Some(true)));
        assert_eq!(containers[1].image, "img-b");
        assert_eq!(containers[0].container_id.as_deref(), Some("zone://default_web"));
    }

    #[test]
    fn a_rendered_status_is_exactly_what_the_api_gives_back() {
        // Times with a fraction of a second, as the agent's clock gives them.
        let later = now() + jiff::SignedDuration::from_millis(1_234);
        let pod = pod();
        let mut state = PodState::new(Desired::default(), Resume::default());
        state.stage = Stage::Running;
        state.container = ContainerState::Running { started_at: later };
        state.has_run = true;
        let context = StatusContext { accepted_at: later, now: later, ..context(&pod) };
        let status = render_status(&state, &context);
        let round_trip: PodStatus = serde_json::from_value(serde_json::to_value(&status).unwrap()).unwrap();
        assert_eq!(round_trip, status);
        let running = status.container_statuses.unwrap()[0].state.clone().unwrap().running.unwrap();
        assert_eq!(running.started_at.unwrap().0.to_string(), "2026-11-27T10:00:01Z");
    }

    #[test]
    fn waiting_and_readiness_verdicts() {
        let pod = pod();
        let state = PodState::new(Desired::default(), Resume::default());
        let status = render_status(&state, &context(&pod));
        assert_eq!(status.phase.as_deref(), Some("Pending"));
        let ready = status.conditions.as_ref().unwrap().iter().find(|c| c.type_ == "Ready").unwrap().clone();
        assert_eq!((ready.status.as_str(), ready.reason.as_deref()), ("False", Some("ContainersNotReady")));
        assert_eq!(ready.message.as_deref(), Some("containers with unready status: [a b]"));
        let waiting = status.container_statuses.unwrap()[0].state.clone().unwrap().waiting.unwrap();
        assert_eq!(waiting.reason.as_deref(), Some("ContainerCreating"));
        assert_eq!(status.start_time, Some(Time(now())));

        // A probe verdict of "not ready" makes a running pod unready (the hook for probes).
        let mut running = PodState::new(Desired::default(), Resume::default());
        running.stage = Stage::Running;
        running.zone = Some(crate::logic::lifecycle::ZoneStatus::Running);
        running.container = ContainerState::Running { started_at: now() };
        running.ready = false;
        let status = render_status(&running, &context(&pod));
        assert!(status.container_statuses.unwrap().iter().all(|c| !c.ready && c.started == Some(true)));
    }

    #[test]
    fn comparable_ignores_transition_times() {
        let pod = pod();
        let state = PodState::new(Desired::default(), Resume::default());
        let a = render_status(&state, &context(&pod));
        let later = StatusContext { now: "2026-11-27T11:00:00Z".parse().unwrap(), ..context(&pod) };
        let b = render_status(&state, &later);
        assert_ne!(a, b);
        assert_eq!(comparable(&a), comparable(&b));
    }
}
