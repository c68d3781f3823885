//! The revision-indexed cache: the current object of every key, plus a bounded history of
//! events. It answers every read. Lists at an older revision are rebuilt by undoing the
//! history newer than that revision; watches replay the history after their start.
//!
//! Only the writer thread mutates it (under the write lock); readers share the read lock.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use super::backend::{LoadedState, LogPosition, Removal};
use super::{AttrExtractor, Event, EventKind, Object, ReadAt, Revision, Selection, StoreError, WatchFrom};

/// One page of a list.
#[derive(Debug)]
pub struct ListPage {
    /// The selected objects, in key order.
    pub items: Vec<Arc<Object>>,
    /// The revision the page was read at.
    pub revision: Revision,
    /// When more objects follow: the key of the last item, to continue after.
    pub continue_after: Option<String>,
}

struct HistoryEntry {
    event: Arc<Event>,
    /// The change's index within its transaction (for the on-disk log).
    index: u32,
    committed_at: Instant,
}

pub(super) struct Cache {
    objects: BTreeMap<Arc<str>, Arc<Object>>,
    history: VecDeque<HistoryEntry>,
    revision: Revision,
    compacted: Revision,
}

/// Parses `value`, stamps `metadata.resourceVersion`, and encodes it.
pub(super) fn encode(
    key: &str,
    mut value: Value,
    revision: Revision,
    extractor: &dyn AttrExtractor,
) -> Result<Object, StoreError> {
    let object =
        value.as_object_mut().ok_or_else(|| StoreError::Invalid(format!("{key}: the value is not a JSON object")))?;
    let metadata = object.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
    let metadata =
        metadata.as_object_mut().ok_or_else(|| StoreError::Invalid(format!("{key}: metadata is not a JSON object")))?;
    metadata.insert("resourceVersion".into(), Value::String(revision.to_string()));
    let attrs = extractor.attrs(key, &value);
    let bytes = serde_json::to_vec(&value).map_err(|e| StoreError::Invalid(format!("{key}: {e}")))?;
    Ok(Object { key: key.into(), value: Bytes::from(bytes), revision, attrs })
}

/// The state of `object` re-stamped with a later revision (the object of a deletion event).
pub(super) fn restamp(object: &Object, revision: Revision) -> Object {
    let mut value = object.json();
    value["metadata"]["resourceVersion"] = Value::String(revision.to_string());
    let bytes = serde_json::to_vec(&value).expect("re-encoding JSON we decoded cannot fail");
    Object { key: object.key.clone(), value: Bytes::from(bytes), revision, attrs: object.attrs.clone() }
}

fn decode(key: &str, bytes: &Bytes, revision: Revision, extractor: &dyn AttrExtractor) -> Result<Object, StoreError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Backend(format!("corrupt store: {key} at revision {revision}: {e}")))?;
    let attrs = extractor.attrs(key, &value);
    Ok(Object { key: key.into(), value: bytes.clone(), revision, attrs })
}

fn corrupt(what: String) -> StoreError {
    StoreError::Backend(format!("corrupt store: {what}"))
}

impl Cache {
    /// Rebuilds objects and history from what the backend loaded.
    pub(super) fn rebuild(
        loaded: LoadedState,
        extractor: &dyn AttrExtractor,
        now: Instant,
    ) -> Result<Self, StoreError> {
        let compacted = loaded.compacted;
        let mut live: HashMap<String, Arc<Object>> = HashMap::new();
        for (key, versions) in &loaded.versions {
            if let Some((revision, bytes)) = versions.range(..=compacted).next_back() {
                live.insert(key.clone(), Arc::new(decode(key, bytes, *revision, extractor)?));
            }
        }
        let mut history = VecDeque::with_capacity(loaded.log.len());
        let mut log = loaded.log;
        log.sort_by_key(|(position, _, _)| *position);
        for (position, key, deleted) in log {
            if position.revision <= compacted || position.revision > loaded.revision {
                return Err(corrupt(format!(
                    "log record {} outside ({compacted}, {}]",
                    position.revision, loaded.revision
                )));
            }
            let event = if deleted {
                let prev = live.remove(&key).ok_or_else(|| corrupt(format!("deletion of absent key {key}")))?;
                let object = Arc::new(restamp(&prev, position.revision));
                Event { revision: position.revision, kind: EventKind::Deleted, object, prev: Some(prev) }
            } else {
                let bytes = loaded
                    .versions
                    .get(&key)
                    .and_then(|v| v.get(&position.revision))
                    .ok_or_else(|| corrupt(format!("missing version of {key} at {}", position.revision)))?;
                let object = Arc::new(decode(&key, bytes, position.revision, extractor)?);
                let prev = live.insert(key, object.clone());
                let kind = if prev.is_some() { EventKind::Modified } else { EventKind::Added };
                Event { revision: position.revision, kind, object, prev }
            };
            history.push_back(HistoryEntry { event: Arc::new(event), index: position.index, committed_at: now });
        }
        let objects = live.into_values().map(|o| (o.key.clone(), o)).collect();
        Ok(Self { objects, history, revision: loaded.revision, compacted })
    }

    pub(super) fn revision(&self) -> Revision {
        self.revision
    }

    pub(super) fn compacted(&self) -> Revision {
        self.compacted
    }

    pub(super) fn get(&self, key: &str) -> Option<Arc<Object>> {
        self.objects.get(key).cloned()
    }

    pub(super) fn count(&self, prefix: &str) -> usize {
        self.range_from(prefix, None).count()
    }

    /// Current objects with keys under `prefix`, after `start_after` when given.
    fn range_from<'a>(
        &'a self,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Arc<Object>> + 'a {
        let lower = match start_after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        self.objects
            .range::<str, _>((lower, Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(_, o)| o)
    }

    fn check_readable(&self, revision: Revision) -> Result<(), StoreError> {
        if revision > self.revision {
            return Err(StoreError::FutureRevision { requested: revision, current: self.revision });
        }
        if revision < self.compacted {
            return Err(StoreError::Compacted { requested: revision, oldest: self.compacted });
        }
        Ok(())
    }

    pub(super) fn list(
        &self,
        selection: &Selection,
        at: ReadAt,
        limit: Option<usize>,
        start_after: Option<&str>,
    ) -> Result<ListPage, StoreError> {
        let revision = match at {
            ReadAt::Latest => self.revision,
            ReadAt::Exact(revision) => {
                self.check_readable(revision)?;
                revision
            }
        };
        let limit = limit.filter(|&l| l > 0).unwrap_or(usize::MAX);
        let candidates: Box<dyn Iterator<Item = &Arc<Object>>> = if revision == self.revision {
            Box::new(self.range_from(&selection.prefix, start_after))
        } else {
            Box::new(self.range_at(revision, &selection.prefix, start_after))
        };
        let mut items = Vec::new();
        let mut continue_after = None;
        for object in candidates.filter(|o| selection.matches(o)) {
            if items.len() == limit {
                continue_after = items.last().map(|o: &Arc<Object>| o.key.to_string());
                break;
            }
            items.push(object.clone());
        }
        Ok(ListPage { items, revision, continue_after })
    }

    /// Objects under `prefix` as they were at `revision` (which history covers), in key
    /// order: the current objects, with every key changed since `revision` put back to its
    /// state before the first of those changes.
    fn range_at<'a>(
        &'a self,
        revision: Revision,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Arc<Object>> + 'a {
        let first_newer = self.history.partition_point(|e| e.event.revision <= revision);
        let mut restored: BTreeMap<&str, Option<&Arc<Object>>> = BTreeMap::new();
        for entry in self.history.range(first_newer..) {
            let key: &str = &entry.event.object.key;
            if key.starts_with(prefix) && start_after.is_none_or(|after| key > after) {
                restored.entry(key).or_insert(entry.event.prev.as_ref());
            }
        }
        let changed: HashSet<&str> = restored.keys().copied().collect();
        let previous: Vec<&Arc<Object>> = restored.into_values().flatten().collect();
        let unchanged = self.range_from(prefix, start_after).filter(move |o| !changed.contains(&*o.key));
        merge_by_key(unchanged, previous.into_iter())
    }

    /// The events a new watch starts with, and the revision they bring it up to (the
    /// current one).
    pub(super) fn watch_backlog(
        &self,
        selection: &Selection,
        from: WatchFrom,
    ) -> Result<(Vec<Arc<Event>>, Revision), StoreError> {
        match from {
            WatchFrom::Now => {
                let events = self
                    .range_from(&selection.prefix, None)
                    .filter(|o| selection.matches(o))
                    .map(|o| {
                        Arc::new(Event { revision: o.revision, kind: EventKind::Added, object: o.clone(), prev: None })
                    })
                    .collect();
                Ok((events, self.revision))
            }
            WatchFrom::After(revision) => {
                self.check_readable(revision)?;
                let first_newer = self.history.partition_point(|e| e.event.revision <= revision);
                let events = self
                    .history
                    .range(first_newer..)
                    .filter(|e| e.event.object.key.starts_with(&selection.prefix))
                    .map(|e| e.event.clone())
                    .collect();
                Ok((events, self.revision))
            }
        }
    }

    /// Applies committed events (all of one batch, in order) and moves to `revision`.
    pub(super) fn apply(&mut self, events: Vec<(Arc<Event>, u32)>, revision: Revision, now: Instant) {
        for (event, index) in events {
            match event.kind {
                EventKind::Deleted => {
                    self.objects.remove(&*event.object.key);
                }
                EventKind::Added | EventKind::Modified => {
                    self.objects.insert(event.object.key.clone(), event.object.clone());
                }
            }
            self.history.push_back(HistoryEntry { event, index, committed_at: now });
        }
        self.revision = revision;
    }

    /// Drops history beyond the window or the size limit, and everything at or below
    /// `up_to` when given. Always drops whole revisions. Returns what the backend may forget.
    pub(super) fn trim(
        &mut self,
        now: Instant,
        window: Duration,
        max_events: usize,
        up_to: Option<Revision>,
    ) -> Vec<Removal> {
        let mut removals = Vec::new();
        let mut compact_to = up_to.map(|r| r.min(self.revision)).unwrap_or(0).max(self.compacted);
        while let Some(front) = self.history.front() {
            let expired = now.saturating_duration_since(front.committed_at) > window;
            let too_many = self.history.len() > max_events;
            let covered = front.event.revision <= compact_to;
            if !(expired || too_many || covered) {
                break;
            }
            compact_to = compact_to.max(front.event.revision);
            let entry = self.history.pop_front().expect("front exists");
            let event = &entry.event;
            removals.push(Removal::Log(LogPosition { revision: event.revision, index: entry.index }));
            if let Some(prev) = &event.prev {
                removals.push(Removal::Version { key: prev.key.to_string(), revision: prev.revision });
            }
        }
        self.compacted = compact_to;
        removals
    }
}

/// Merges two key-ordered streams of objects with disjoint keys.
fn merge_by_key<'a>(
    a: impl Iterator<Item = &'a Arc<Object>>,
    b: impl Iterator<Item = &'a Arc<Object>>,
) -> impl Iterator<Item = &'a Arc<Object>> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) => {
            if x.key <= y.key {
                a.next()
            } else {
                b.next()
            }
        }
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
    })
}
