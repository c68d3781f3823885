//! Exponential backoff: the delay before the n-th retry, doubling from a base to a cap, with
//! optional jitter supplied by the caller (a number in `[0, 1)`), so this stays pure.

use std::time::Duration;

/// A doubling backoff policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub cap: Duration,
}

impl Backoff {
    /// The pod-restart policy of the kubelet (CrashLoopBackOff): 10 s doubling to 5 min.
    pub const CRASH_LOOP: Backoff = Backoff { base: Duration::from_secs(10), cap: Duration::from_secs(300) };
    /// The scheduler's retry of unschedulable pods: 1 s doubling to 10 s.
    pub const SCHEDULING: Backoff = Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(10) };
    /// Respawning a crashed actor: 100 ms doubling to 30 s.
    pub const RESPAWN: Backoff = Backoff { base: Duration::from_millis(100), cap: Duration::from_secs(30) };

    /// The delay before retry number `attempt` (0 is the first retry).
    pub fn delay(self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.checked_mul(factor).unwrap_or(self.cap).min(self.cap)
    }

    /// [`Backoff::delay`] spread by up to `spread` (0.0–1.0) of itself, using `jitter` in `[0, 1)`.
    pub fn delay_with_jitter(self, attempt: u32, spread: f64, jitter: f64) -> Duration {
        let delay = self.delay(attempt);
        delay + delay.mul_f64(spread.clamp(0.0, 1.0) * jitter.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap() {
        let b = Backoff::CRASH_LOOP;
        let delays: Vec<u64> = (0..8).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(300));
        assert_eq!(Backoff::SCHEDULING.delay(0), Duration::from_secs(1));
        assert_eq!(Backoff::SCHEDULING.delay(5), Duration::from_secs(10));
        assert_eq!(b.delay_with_jitter(0, 0.5, 0.5), Duration::from_millis(12_500));
        assert_eq!(b.delay_with_jitter(0, 0.5, 0.0), Duration::from_secs(10));
    }
}
