//! The persistence boundary. A backend keeps versions of values and a log of which revision
//! wrote or deleted which key, commits batches atomically and durably, and hands everything
//! back on open. It makes no decisions: preconditions, revisions and history are the
//! store's, so every backend behaves alike.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::{Revision, StoreError};

/// Where a change sits in the log: its transaction's revision, and its position within
/// that transaction (a transaction may change several keys at one revision).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// The transaction's revision.
    pub revision: Revision,
    /// The change's index within the transaction.
    pub index: u32,
}

/// One change in a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// Where the change sits in the log.
    pub position: LogPosition,
    /// The storage key.
    pub key: String,
    /// The encoded object, or `None` for a deletion.
    pub value: Option<Bytes>,
}

/// Something compaction lets the backend forget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    /// A log record.
    Log(LogPosition),
    /// The version of `key` written at `revision`, now superseded or deleted.
    Version {
        /// The storage key.
        key: String,
        /// The revision that wrote the version.
        revision: Revision,
    },
}

/// One atomic, durable commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitBatch {
    /// The store revision after this batch.
    pub revision: Revision,
    /// The oldest revision history still covers after this batch.
    pub compacted: Revision,
    /// The changes, in revision order.
    pub writes: Vec<Write>,
    /// What compaction released.
    pub removals: Vec<Removal>,
}

/// Everything a backend holds, as loaded on open.
#[derive(Clone, Debug, Default)]
pub struct LoadedState {
    /// The revision of the last commit.
    pub revision: Revision,
    /// The compaction point: log records exist only above it.
    pub compacted: Revision,
    /// Every retained version: key, then revision, to value.
    pub versions: BTreeMap<String, BTreeMap<Revision, Bytes>>,
    /// Log records above `compacted`, in log order: position, key, and whether it was a
    /// deletion.
    pub log: Vec<(LogPosition, String, bool)>,
}

/// A persistence backend. It runs on the store's writer thread only, so it may block.
pub trait Backend: Send + 'static {
    /// Reads the persisted state.
    fn load(&mut self) -> Result<LoadedState, StoreError>;

    /// Applies `batch` atomically. It must be durable when this returns `Ok`.
    fn commit(&mut self, batch: &CommitBatch) -> Result<(), StoreError>;

    /// Whether commits should go through the group-commit writer thread. True for durable
    /// backends, where a flush is worth sharing; false where a commit costs nothing.
    fn wants_writer_thread(&self) -> bool {
        true
    }

    /// Flushes and releases the backend. Called once, when the store closes.
    fn close(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}
