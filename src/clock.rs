//! The one source of wall-clock time for the shells (API, store, actors). Pure code never
//! reads it: it receives `now` as an argument.
//!
//! Production uses the system clock. Tests use [`Clock::tokio_anchored`], whose wall time
//! advances with `tokio::time`, so `tokio::time::pause()` and `advance()` move timestamps too.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

/// A cloneable wall clock.
#[derive(Clone)]
pub struct Clock {
    source: Arc<dyn Fn() -> Timestamp + Send + Sync>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Self {
        #[allow(clippy::disallowed_methods, reason = "this is the one place wall time is read")]
        Self { source: Arc::new(Timestamp::now) }
    }

    /// A clock that starts at the current system time and then advances with
    /// `tokio::time::Instant`, so paused-time tests see consistent timestamps.
    pub fn tokio_anchored() -> Self {
        let base_wall = Self::system().now();
        let base = tokio::time::Instant::now();
        Self {
            source: Arc::new(move || {
                let elapsed = tokio::time::Instant::now().saturating_duration_since(base);
                base_wall
                    .saturating_add(SignedDuration::try_from(elapsed).unwrap_or(SignedDuration::MAX))
                    .unwrap_or(base_wall)
            }),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        (self.source)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}
