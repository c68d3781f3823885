//! Overload protection: counters of requests in flight, one pool per [`RequestKind`]. A
//! request that finds its pool full is answered at once with 429 `TooManyRequests` and
//! `Retry-After: 1` (upstream's `--max-requests-inflight` and
//! `--max-mutating-requests-inflight`), so a flood degrades into quick refusals that
//! clients retry, never into a queue that grows without bound. Watches are counted (in the
//! `apiserver_longrunning_requests` gauge) but not limited here. Node heartbeats draw first
//! from a small reserved pool and then from the mutating one, so nodes keep renewing their
//! Leases while everything else is refused. Which pool a request belongs to is decided in
//! `logic::inflight`; this module only counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use prometheus_client::metrics::gauge::Gauge;

use crate::logic::inflight::RequestKind;
use crate::metrics::Metrics;

/// How many requests of each kind may be in flight; 0 means no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InflightLimits {
    /// Reads (`--max-requests-inflight`, upstream's default 400).
    pub max_read: usize,
    /// Writes (`--max-mutating-requests-inflight`, upstream's default 200).
    pub max_mutating: usize,
    /// Node heartbeats, reserved for them alone.
    pub reserved_heartbeat: usize,
}

impl Default for InflightLimits {
    fn default() -> Self {
        Self { max_read: 400, max_mutating: 200, reserved_heartbeat: 32 }
    }
}

struct Pool {
    limit: usize,
    used: AtomicUsize,
    gauge: Gauge,
}

impl Pool {
    fn new(limit: usize, gauge: Gauge) -> Arc<Self> {
        Arc::new(Self { limit, used: AtomicUsize::new(0), gauge })
    }

    /// Takes a slot if one is free.
    fn try_take(self: &Arc<Self>) -> Option<Slot> {
        let taken = self.used.fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            (self.limit == 0 || used < self.limit).then_some(used + 1)
        });
        taken.ok().map(|_| {
            self.gauge.inc();
            Slot { pool: Some(self.clone()) }
        })
    }
}

/// A slot held in a pool until dropped.
pub struct Slot {
    pool: Option<Arc<Pool>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.used.fetch_sub(1, Ordering::AcqRel);
            pool.gauge.dec();
        }
    }
}

impl Slot {
    /// A slot of a request that is counted elsewhere (watches: the caller holds the
    /// long-running gauge).
    fn untracked() -> Self {
        Self { pool: None }
    }
}

/// The in-flight pools of one server.
pub struct Inflight {
    read: Arc<Pool>,
    mutating: Arc<Pool>,
    /// None when no capacity is reserved.
    heartbeat: Option<Arc<Pool>>,
}

impl Inflight {
    /// Pools with these limits, reporting into `apiserver_current_inflight_requests`.
    pub fn new(limits: InflightLimits, metrics: &Metrics) -> Self {
        let gauge = |kind: RequestKind| metrics.inflight(kind.label());
        Self {
            read: Pool::new(limits.max_read, gauge(RequestKind::ReadOnly)),
            mutating: Pool::new(limits.max_mutating, gauge(RequestKind::Mutating)),
            // A reserve of 0 means "none reserved", not "unlimited".
            heartbeat: (limits.reserved_heartbeat > 0)
                .then(|| Pool::new(limits.reserved_heartbeat, gauge(RequestKind::Heartbeat))),
        }
    }

    /// Admits a request of `kind`, or None when its pool is full.
    pub fn admit(&self, kind: RequestKind) -> Option<Slot> {
        match kind {
            RequestKind::ReadOnly => self.read.try_take(),
            RequestKind::Mutating => self.mutating.try_take(),
            RequestKind::Heartbeat => {
                self.heartbeat.as_ref().and_then(Pool::try_take).or_else(|| self.mutating.try_take())
            }
            RequestKind::LongRunning => Some(Slot::untracked()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_refuse_past_their_limit_and_heartbeats_have_their_own() {
        let metrics = Metrics::new();
        let inflight = Inflight::new(InflightLimits { max_read: 2, max_mutating: 1, reserved_heartbeat: 1 }, &metrics);
        let r1 = inflight.admit(RequestKind::ReadOnly).unwrap();
        let _r2 = inflight.admit(RequestKind::ReadOnly).unwrap();
        assert!(inflight.admit(RequestKind::ReadOnly).is_none());
        assert!(
            metrics.encode_prometheus().contains(r#"apiserver_current_inflight_requests{request_kind="readOnly"} 2"#)
        );
        drop(r1);
        assert!(inflight.admit(RequestKind::ReadOnly).is_some());

        let _m = inflight.admit(RequestKind::Mutating).unwrap();
        assert!(inflight.admit(RequestKind::Mutating).is_none());
        // The mutating pool is full, but one heartbeat still gets through.
        let h = inflight.admit(RequestKind::Heartbeat).unwrap();
        assert!(inflight.admit(RequestKind::Heartbeat).is_none());
        drop(h);
        assert!(inflight.admit(RequestKind::Heartbeat).is_some());
        // Watches are not limited here.
        let watches: Vec<_> = (0..10).map(|_| inflight.admit(RequestKind::LongRunning).unwrap()).collect();
        assert_eq!(watches.len(), 10);
    }

    #[test]
    fn zero_means_unlimited_except_for_the_reserve() {
        let metrics = Metrics::new();
        let inflight = Inflight::new(InflightLimits { max_read: 0, max_mutating: 1, reserved_heartbeat: 0 }, &metrics);
        let reads: Vec<_> = (0..1000).map(|_| inflight.admit(RequestKind::ReadOnly).unwrap()).collect();
        assert_eq!(reads.len(), 1000);
        let _m = inflight.admit(RequestKind::Heartbeat).unwrap();
        assert!(inflight.admit(RequestKind::Heartbeat).is_none(), "no reserve: heartbeats share the mutating pool");
    }
}
