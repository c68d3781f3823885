//! The object store: the contract of ARCHITECTURE.md §5, shared by every backend.
//!
//! - Every committed transaction gets the next global revision: contiguous, in commit order.
//!   An object's `metadata.resourceVersion` is the revision that last wrote it; the store
//!   stamps it into the stored JSON, so reads need no re-encoding.
//! - Writes carry preconditions (must not exist, must be at revision R). One writer thread
//!   checks them against the authoritative in-memory state, assigns revisions, commits a
//!   whole group of transactions to the backend with one durable flush, and only then
//!   replies (group commit). An acknowledged write is on disk.
//! - Reads, lists and watches are served from the in-memory, revision-indexed cache
//!   ([`cache`]): current objects plus a bounded history of events. A list may be read at an
//!   older revision that history still covers; a watch replays history from any retained
//!   revision, then follows live events. A watcher that falls behind is cut off, never
//!   waited for.
//!
//! The backends ([`memory`], [`sled_backend`]) only persist and reload; all semantics live
//! here, once. This module must not import actix.

mod backend;
mod cache;
pub mod keys;
pub mod memory;
pub mod sled_backend;
mod watch;
mod writer;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use serde_json::Value;
use tokio::sync::{broadcast, oneshot};

use crate::model::fields::FieldSelector;
use crate::model::labels::LabelSelector;

pub use backend::{Backend, CommitBatch, LoadedState, LogPosition, Removal, Write};
pub use cache::ListPage;
pub use watch::{Watch, WatchItem};

/// A store revision. Revision 0 is the empty store; the first commit is revision 1.
pub type Revision = u64;

/// What the store knows about an object beyond its bytes: the labels and the selectable
/// fields, extracted once at write time so that selectors never re-parse JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attrs {
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Field-selector values, such as `("spec.nodeName", "node1")`.
    pub fields: Vec<(&'static str, String)>,
}

impl Attrs {
    /// The value of a selectable field, if the object has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// Computes [`Attrs`] for an object. The API layer supplies it, because which fields a
/// resource can be selected by is part of the resource's definition.
pub trait AttrExtractor: Send + Sync + 'static {
    /// The attributes of the object stored at `key`.
    fn attrs(&self, key: &str, object: &Value) -> Attrs;
}

/// Extracts only labels: enough for tests and for resources without field selectors.
pub struct LabelsOnly;

impl AttrExtractor for LabelsOnly {
    fn attrs(&self, _key: &str, object: &Value) -> Attrs {
        Attrs { labels: labels_of(object), fields: Vec::new() }
    }
}

/// `metadata.labels` of a JSON object, skipping non-string values.
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// One stored object at one revision. Immutable and shared (`Arc`) between the current
/// state, the history and every watcher.
#[derive(Debug)]
pub struct Object {
    /// The storage key, such as `/registry/pods/default/web`.
    pub key: Arc<str>,
    /// The object as JSON, with `metadata.resourceVersion` equal to `revision`.
    pub value: Bytes,
    /// The revision that wrote this state.
    pub revision: Revision,
    /// Labels and selectable fields.
    pub attrs: Attrs,
}

impl Object {
    /// The object decoded as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.value).expect("the store only holds JSON it encoded itself")
    }
}

/// What kind of change an [`Event`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventKind {
    /// The key did not exist before.
    Added,
    /// The key existed and was overwritten.
    Modified,
    /// The key was removed.
    Deleted,
}

/// One committed change.
#[derive(Debug)]
pub struct Event {
    /// The revision of the transaction that made the change.
    pub revision: Revision,
    /// Added, modified or deleted.
    pub kind: EventKind,
    /// The new state; for a deletion, the last state stamped with the deletion's revision.
    pub object: Arc<Object>,
    /// The state before the change, if the key existed.
    pub prev: Option<Arc<Object>>,
}

/// One operation of a transaction.
#[derive(Debug)]
pub enum Op {
    /// Write `value` at `key`, which must not exist.
    Create {
        /// The storage key.
        key: String,
        /// The object; must be a JSON object.
        value: Value,
    },
    /// Overwrite `key`, which must exist, and be at `expected` when that is given.
    Update {
        /// The storage key.
        key: String,
        /// The object; must be a JSON object.
        value: Value,
        /// The revision the key must be at.
        expected: Option<Revision>,
    },
    /// Remove `key`, which must exist, and be at `expected` when that is given.
    Delete {
        /// The storage key.
        key: String,
        /// The revision the key must be at.
        expected: Option<Revision>,
    },
}

impl Op {
    fn key(&self) -> &str {
        match self {
            Op::Create { key, .. } | Op::Update { key, .. } | Op::Delete { key, .. } => key,
        }
    }
}

/// Where a list reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAt {
    /// The newest committed state.
    Latest,
    /// Exactly this revision; it must still be covered by history.
    Exact(Revision),
}

/// Which objects a list or watch selects: a key prefix and optional selectors.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Keys must start with this prefix.
    pub prefix: String,
    /// Label selector (empty: everything).
    pub labels: LabelSelector,
    /// Field selector (empty: everything).
    pub fields: FieldSelector,
}

impl Selection {
    /// Everything under `prefix`.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into(), ..Self::default() }
    }

    /// True when `object` is selected.
    pub fn matches(&self, object: &Object) -> bool {
        object.key.starts_with(&self.prefix)
            && self.labels.matches(&object.attrs.labels)
            && self.fields.matches(|f| object.attrs.field(f))
    }
}

/// Where a watch starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchFrom {
    /// Synthetic `Added` events for every selected object, then live events.
    Now,
    /// Every event after this revision (replayed from history), then live events.
    After(Revision),
}

/// Why a store operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A create found the key present.
    #[error("key {key} already exists")]
    AlreadyExists {
        /// The key.
        key: String,
    },
    /// An update or delete found no key.
    #[error("key {key} not found")]
    NotFound {
        /// The key.
        key: String,
    },
    /// A revision precondition failed.
    #[error("key {key} is at revision {current}, not {expected}")]
    Conflict {
        /// The key.
        key: String,
        /// The revision the caller expected.
        expected: Revision,
        /// The revision the key is at.
        current: Revision,
    },
    /// The requested revision is older than the retained history.
    #[error("revision {requested} has been compacted; the oldest available is {oldest}")]
    Compacted {
        /// The revision asked for.
        requested: Revision,
        /// The oldest revision a read or watch may start from.
        oldest: Revision,
    },
    /// The requested revision has not been committed yet.
    #[error("revision {requested} is newer than the current revision {current}")]
    FutureRevision {
        /// The revision asked for.
        requested: Revision,
        /// The current revision.
        current: Revision,
    },
    /// A value or transaction the store cannot accept.
    #[error("invalid write: {0}")]
    Invalid(String),
    /// The store is closed, or stopped taking writes after a durability failure.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The backend failed; the write was not acknowledged.
    #[error("storage backend error: {0}")]
    Backend(String),
}

/// Store tuning.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// How long history is kept for watches and consistent lists.
    pub history_window: std::time::Duration,
    /// The most events history keeps, whatever their age.
    pub history_max_events: usize,
    /// The most transactions one group commit takes.
    pub max_batch: usize,
    /// Events a watcher may fall behind before it is cut off.
    pub watcher_buffer: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            history_window: std::time::Duration::from_secs(300),
            history_max_events: 100_000,
            max_batch: 512,
            watcher_buffer: 16_384,
        }
    }
}

/// The store handle. Cloning is cheap; every clone talks to the same writer and cache.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

struct Shared {
    cache: Arc<RwLock<cache::Cache>>,
    /// Why the writer stopped taking writes, if it did.
    failure: Arc<Mutex<Option<String>>>,
    events: broadcast::Sender<Arc<Event>>,
    writer: Mutex<Option<writer::WriterHandle>>,
}

impl Store {
    /// Opens a store over `backend`: loads its state, then starts the writer thread.
    pub fn open(
        backend: Box<dyn Backend>,
        extractor: Arc<dyn AttrExtractor>,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        let mut backend = backend;
        let loaded = backend.load()?;
        let cache = Arc::new(RwLock::new(cache::Cache::rebuild(loaded, extractor.as_ref(), writer::now())?));
        let (events, _) = broadcast::channel(config.watcher_buffer.max(1));
        let failure = Arc::new(Mutex::new(None));
        let writer = writer::spawn(backend, cache.clone(), events.clone(), extractor, config, failure.clone());
        Ok(Self { shared: Arc::new(Shared { cache, failure, events, writer: Mutex::new(Some(writer)) }) })
    }

    /// An empty in-memory store with labels-only attributes (tests and tools).
    pub fn in_memory() -> Self {
        Self::open(Box::new(memory::MemoryBackend::default()), Arc::new(LabelsOnly), StoreConfig::default())
            .expect("an empty memory backend always loads")
    }

    /// Ok while the store takes writes; otherwise why not.
    pub fn health(&self) -> Result<(), String> {
        if let Some(reason) = self.shared.failure.lock().clone() {
            return Err(reason);
        }
        if self.shared.writer.lock().is_none() {
            return Err("the store is closed".into());
        }
        Ok(())
    }

    /// The newest committed revision.
    pub fn revision(&self) -> Revision {
        self.shared.cache.read().revision()
    }

    /// The oldest revision a list or watch may still start from.
    pub fn oldest_revision(&self) -> Revision {
        self.shared.cache.read().compacted()
    }

    /// The number of objects whose key starts with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.shared.cache.read().count(prefix)
    }

    /// The current state of `key`.
    pub fn get(&self, key: &str) -> Option<Arc<Object>> {
        self.shared.cache.read().get(key)
    }

    /// A page of the selected objects, in key order, starting after `start_after`.
    pub fn list(
        &self,
        selection: &Selection,
        at: ReadAt,
        limit: Option<usize>,
        start_after: Option<&str>,
    ) -> Result<ListPage, StoreError> {
        self.shared.cache.read().list(selection, at, limit, start_after)
    }

    /// Starts a watch over `selection`.
    pub fn watch(&self, selection: Selection, from: WatchFrom) -> Result<Watch, StoreError> {
        let cache = self.shared.cache.read();
        // Subscribing under the read lock pairs with the writer publishing under the write
        // lock: every event is either in the snapshot taken here or arrives on the channel.
        let receiver = self.shared.events.subscribe();
        let (backlog, revision) = cache.watch_backlog(&selection, from)?;
        Ok(Watch::new(selection, backlog, revision, receiver))
    }

    /// Commits `ops` atomically as one revision, once durable. Returns the resulting
    /// objects in op order (for a delete, the deleted state stamped with the new revision).
    pub async fn commit(&self, ops: Vec<Op>) -> Result<Vec<Arc<Object>>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(writer::Request::Commit { ops, reply })?;
        answer.await.map_err(|_| StoreError::Unavailable("the store writer stopped".into()))?
    }

    /// Creates `key`.
    pub async fn create(&self, key: impl Into<String>, value: Value) -> Result<Arc<Object>, StoreError> {
        self.commit_one(Op::Create { key: key.into(), value }).await
    }

    /// Overwrites `key`, optionally only if it is at `expected`.
    pub async fn update(
        &self,
        key: impl Into<String>,
        value: Value,
        expected: Option<Revision>,
    ) -> Result<Arc<Object>, StoreError> {
        self.commit_one(Op::Update { key: key.into(), value, expected }).await
    }

    /// Deletes `key`, optionally only if it is at `expected`.
    pub async fn delete(&self, key: impl Into<String>, expected: Option<Revision>) -> Result<Arc<Object>, StoreError> {
        self.commit_one(Op::Delete { key: key.into(), expected }).await
    }

    /// Read-modify-write of one key that retries when another writer got there first.
    /// `change` sees the current object and returns the new value, or `None` to leave the
    /// object as it is (then the current object is returned and nothing is written).
    pub async fn update_with<E>(
        &self,
        key: &str,
        mut change: impl FnMut(&Object) -> Result<Option<Value>, E>,
    ) -> Result<Arc<Object>, E>
    where
        E: From<StoreError>,
    {
        loop {
            let current = self.get(key).ok_or_else(|| StoreError::NotFound { key: key.to_string() })?;
            let Some(value) = change(&current)? else { return Ok(current) };
            match self.update(key, value, Some(current.revision)).await {
                Err(StoreError::Conflict { .. }) => continue,
                other => return other.map_err(E::from),
            }
        }
    }

    /// Forgets history up to and including `revision`, in memory and on disk.
    pub async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(writer::Request::Compact { revision, reply })?;
        answer.await.map_err(|_| StoreError::Unavailable("the store writer stopped".into()))?
    }

    /// Stops taking writes, waits for the writer to finish what it has, and closes the
    /// backend. Later writes fail with `Unavailable`; reads keep working.
    pub fn close(&self) {
        if let Some(writer) = self.shared.writer.lock().take() {
            writer.close();
        }
    }

    async fn commit_one(&self, op: Op) -> Result<Arc<Object>, StoreError> {
        let mut objects = self.commit(vec![op]).await?;
        Ok(objects.pop().expect("one op gives one object"))
    }

    fn send(&self, request: writer::Request) -> Result<(), StoreError> {
        let writer = self.shared.writer.lock();
        let writer = writer.as_ref().ok_or_else(|| StoreError::Unavailable("the store is closed".into()))?;
        writer.send(request)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.get_mut().take() {
            writer.close();
        }
    }
}
