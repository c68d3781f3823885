//! The process's Prometheus metrics, in one cloneable [`Metrics`] registry that every part
//! observes into: the API server (requests, latency, in-flight counts), the scheduler (pod
//! scheduling SLI), the node agent (pod start SLI) and the actor supervisors (restarts).
//! Names, labels and buckets are upstream's stable ones, so existing dashboards and SLO
//! queries work unchanged. This module owns the metric definitions and their encoding; it
//! knows nothing of HTTP (the API serves it at `/metrics`).

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `apiserver_request_duration_seconds` buckets (upstream's, 5 ms to 60 s).
const REQUEST_BUCKETS: &[f64] = &[
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0,
    45.0, 60.0,
];

/// `kubelet_pod_start_sli_duration_seconds` buckets (upstream's, 0.5 s to 1 h).
const POD_START_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 20.0, 30.0, 45.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 480.0,
    600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0,
];

/// The labels of one API request, as upstream's request metrics carry them.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `LIST`, `WATCH`, `POST`, `PUT`, `PATCH`, `APPLY`, `DELETE`.
    pub verb: String,
    /// `All` for dry-run requests, empty otherwise.
    pub dry_run: String,
    /// The API group (empty for core).
    pub group: String,
    /// The API version.
    pub version: String,
    /// The resource (empty for non-resource paths).
    pub resource: String,
    /// The subresource.
    pub subresource: String,
    /// `resource`, `namespace` or `cluster` (empty for non-resource paths).
    pub scope: String,
    /// Always `apiserver`.
    pub component: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestCodeLabels {
    verb: String,
    dry_run: String,
    group: String,
    version: String,
    resource: String,
    subresource: String,
    scope: String,
    component: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestKindLabels {
    request_kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptsLabels {
    attempts: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

struct Inner {
    registry: Registry,
    requests: Family<RequestCodeLabels, Counter>,
    request_duration: HistogramFamily<RequestLabels>,
    inflight: Family<RequestKindLabels, Gauge>,
    longrunning: Family<RequestLabels, Gauge>,
    pod_scheduling: HistogramFamily<AttemptsLabels>,
    pod_start: Histogram,
    actor_restarts: Family<KindLabels, Counter>,
}

/// The shared metrics registry. Cloning is cheap and every clone observes into the same
/// metrics.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS.iter().copied())
}

fn scheduling_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 20))
}

impl Metrics {
    /// A registry with every metric registered (and none observed yet).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestCodeLabels, Counter>::default();
        registry.register(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code",
            requests.clone(),
        );
        let request_duration: HistogramFamily<RequestLabels> = Family::new_with_constructor(request_histogram);
        registry.register(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component",
            request_duration.clone(),
        );
        let inflight = Family::<RequestKindLabels, Gauge>::default();
        registry.register(
            "apiserver_current_inflight_requests",
            "Maximal number of currently used inflight request limit of this apiserver per request kind in last second",
            inflight.clone(),
        );
        let longrunning = Family::<RequestLabels, Gauge>::default();
        registry.register(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component",
            longrunning.clone(),
        );
        let pod_scheduling: HistogramFamily<AttemptsLabels> = Family::new_with_constructor(scheduling_histogram);
        registry.register(
            "scheduler_pod_scheduling_sli_duration_seconds",
            "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts",
            pod_scheduling.clone(),
        );
        let pod_start = Histogram::new(POD_START_BUCKETS.iter().copied());
        registry.register(
            "kubelet_pod_start_sli_duration_seconds",
            "Duration in seconds to start a pod, excluding time to pull images and run init containers, measured from pod creation timestamp to when all its containers are reported as started and observed via watch",
            pod_start.clone(),
        );
        let actor_restarts = Family::<KindLabels, Counter>::default();
        registry.register(
            "reddwarf_actor_restarts",
            "Number of times a supervised actor was respawned after it stopped unexpectedly, by actor kind",
            actor_restarts.clone(),
        );
        for kind in ["readOnly", "mutating"] {
            drop(inflight.get_or_create_owned(&RequestKindLabels { request_kind: kind.into() }));
        }
        Self {
            inner: Arc::new(Inner {
                registry,
                requests,
                request_duration,
                inflight,
                longrunning,
                pod_scheduling,
                pod_start,
                actor_restarts,
            }),
        }
    }

    /// Records one finished API request: `apiserver_request_total` (with its HTTP `code`)
    /// and `apiserver_request_duration_seconds`.
    pub fn observe_request(&self, labels: &RequestLabels, code: u16, elapsed: Duration) {
        let with_code = RequestCodeLabels {
            verb: labels.verb.clone(),
            dry_run: labels.dry_run.clone(),
            group: labels.group.clone(),
            version: labels.version.clone(),
            resource: labels.resource.clone(),
            subresource: labels.subresource.clone(),
            scope: labels.scope.clone(),
            component: labels.component.clone(),
            code: code.to_string(),
        };
        self.inner.requests.get_or_create(&with_code).inc();
        self.inner.request_duration.get_or_create(labels).observe(elapsed.as_secs_f64());
    }

    /// The `apiserver_current_inflight_requests` gauge of one request kind (`readOnly`,
    /// `mutating`, ...).
    pub fn inflight(&self, request_kind: &str) -> Gauge {
        self.inner.inflight.get_or_create_owned(&RequestKindLabels { request_kind: request_kind.to_string() })
    }

    /// The `apiserver_longrunning_requests` gauge of one kind of watch.
    pub fn longrunning(&self, labels: &RequestLabels) -> Gauge {
        self.inner.longrunning.get_or_create_owned(labels)
    }

    /// Records a pod scheduled after `attempts` attempts, `elapsed` after it entered the
    /// scheduling queue.
    pub fn observe_pod_scheduling(&self, attempts: u32, elapsed: Duration) {
        let labels = AttemptsLabels { attempts: attempts.to_string() };
        self.inner.pod_scheduling.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// Records a pod whose containers all started `elapsed` after its creation.
    pub fn observe_pod_start(&self, elapsed: Duration) {
        self.inner.pod_start.observe(elapsed.as_secs_f64());
    }

    /// Counts one respawn of an actor of `kind` (`PodActor`, `NodeActor`, ...).
    pub fn count_actor_restart(&self, kind: &str) {
        self.inner.actor_restarts.get_or_create(&KindLabels { kind: kind.to_string() }).inc();
    }

    /// Everything, in the Prometheus text format (version 0.0.4), with
    /// [`PROMETHEUS_CONTENT_TYPE`].
    pub fn encode_prometheus(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.inner.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Everything, in the OpenMetrics text format, with [`OPENMETRICS_CONTENT_TYPE`].
    pub fn encode_openmetrics(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.inner.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// The Content-Type of [`Metrics::encode_prometheus`].
pub const PROMETHEUS_CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
/// The Content-Type of [`Metrics::encode_openmetrics`].
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_names_with_help() {
        let metrics = Metrics::new();
        let labels = RequestLabels {
            verb: "LIST".into(),
            resource: "pods".into(),
            version: "v1".into(),
            scope: "namespace".into(),
            component: "apiserver".into(),
            ..Default::default()
        };
        metrics.observe_request(&labels, 200, Duration::from_millis(30));
        metrics.observe_request(&labels, 429, Duration::from_millis(1));
        metrics.inflight("readOnly").inc();
        metrics.clone().observe_pod_scheduling(1, Duration::from_millis(40));
        metrics.observe_pod_start(Duration::from_secs(3));
        metrics.count_actor_restart("PodActor");
        let text = metrics.encode_prometheus();
        for needle in [
            "# HELP apiserver_request_total ",
            "# TYPE apiserver_request_total counter",
            r#"apiserver_request_total{verb="LIST",dry_run="",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",code="429"} 1"#,
            "# TYPE apiserver_request_duration_seconds histogram",
            r#"apiserver_request_duration_seconds_bucket{verb="LIST",dry_run="",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",le="0.05"} 2"#,
            r#"apiserver_current_inflight_requests{request_kind="readOnly"} 1"#,
            r#"apiserver_current_inflight_requests{request_kind="mutating"} 0"#,
            "# HELP scheduler_pod_scheduling_sli_duration_seconds ",
            r#"scheduler_pod_scheduling_sli_duration_seconds_count{attempts="1"} 1"#,
            "# HELP kubelet_pod_start_sli_duration_seconds ",
            "kubelet_pod_start_sli_duration_seconds_count 1",
            r#"reddwarf_actor_restarts_total{kind="PodActor"} 1"#,
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
        assert!(metrics.encode_openmetrics().ends_with("# EOF\n"));
    }

    #[test]
    fn families_appear_once_observed_like_upstream() {
        // As with upstream's Go client, a labelled family with no series is not written;
        // the unlabelled ones and the pre-created in-flight kinds always are.
        let metrics = Metrics::new();
        let text = metrics.encode_prometheus();
        assert!(text.contains("# HELP kubelet_pod_start_sli_duration_seconds "), "{text}");
        assert!(text.contains(r#"apiserver_current_inflight_requests{request_kind="mutating"} 0"#), "{text}");
        assert!(!text.contains("scheduler_pod_scheduling_sli_duration_seconds"), "{text}");
        metrics.observe_pod_scheduling(2, Duration::from_secs(1));
        assert!(metrics.encode_prometheus().contains("# HELP scheduler_pod_scheduling_sli_duration_seconds "));
    }
}
