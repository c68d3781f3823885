//! The in-memory backend: nothing is persisted, so a reopened store starts empty. The
//! store's semantics are identical to the durable backend's, because they live in the store.
//! Used by tests and by `serve --store memory`. Its commits run inline on the caller's
//! thread (there is no flush to share), which keeps paused-time tests deterministic. It can
//! be told to fail commits, so tests can exercise the store's handling of a broken disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::StoreError;
use super::backend::{Backend, CommitBatch, LoadedState};

/// A backend that keeps nothing.
#[derive(Default)]
pub struct MemoryBackend {
    /// Commits still to fail; shared so a test can arm it after the store owns the backend.
    pub fail_commits: Arc<AtomicUsize>,
}

impl Backend for MemoryBackend {
    fn load(&mut self) -> Result<LoadedState, StoreError> {
        Ok(LoadedState::default())
    }

    fn wants_writer_thread(&self) -> bool {
        false
    }

    fn commit(&mut self, _batch: &CommitBatch) -> Result<(), StoreError> {
        let armed = self.fail_commits.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        match armed {
            Ok(_) => Err(StoreError::Backend("injected commit failure".into())),
            Err(_) => Ok(()),
        }
    }
}
