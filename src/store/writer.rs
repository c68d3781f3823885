//! The single writer: one OS thread owns the revision counter, checks preconditions,
//! commits groups of transactions to the backend with one durable flush, publishes the
//! resulting events, and only then replies.
//!
//! Group commit: the thread takes every request waiting in its queue (up to
//! `max_batch`), so concurrent writers share one flush. A transaction that fails its
//! precondition is answered with its error after the group commits, so no caller hears
//! about state that might not survive. If the backend fails, the store stops taking writes
//! (like etcd after a failed fsync): the disk state is unknown, and acknowledging anything
//! more could lose it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::{broadcast, oneshot};

use super::backend::{Backend, CommitBatch, LogPosition, Removal, Write};
use super::cache::{Cache, encode, restamp};
use super::{AttrExtractor, Event, EventKind, Object, Op, Revision, StoreConfig, StoreError};

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

pub(super) enum Request {
    Commit { ops: Vec<Op>, reply: Reply<Vec<Arc<Object>>> },
    Compact { revision: Revision, reply: Reply<()> },
}

pub(super) enum Message {
    Request(Request),
    Close,
}

/// How writes reach the writer.
pub(super) enum WriterHandle {
    /// A dedicated thread that batches concurrent writes into one durable flush (group
    /// commit): for backends whose commits are expensive.
    Thread { sender: mpsc::Sender<Message>, thread: std::thread::JoinHandle<()> },
    /// Each write is committed on the caller's thread, one at a time: for backends whose
    /// commits cost nothing (memory). A commit then never waits on another thread, which
    /// keeps tests under paused tokio time deterministic.
    Inline(Box<Mutex<Writer>>),
}

impl WriterHandle {
    pub(super) fn send(&self, request: Request) -> Result<(), StoreError> {
        match self {
            WriterHandle::Thread { sender, .. } => sender
                .send(Message::Request(request))
                .map_err(|_| StoreError::Unavailable("the store writer stopped".into())),
            WriterHandle::Inline(writer) => {
                writer.lock().process(vec![request]);
                Ok(())
            }
        }
    }

    /// Finishes queued work, closes the backend and joins the thread.
    pub(super) fn close(self) {
        match self {
            WriterHandle::Thread { sender, thread } => {
                let _ = sender.send(Message::Close);
                let _ = thread.join();
            }
            WriterHandle::Inline(writer) => writer.into_inner().close_backend(),
        }
    }
}

pub(super) fn spawn(
    backend: Box<dyn Backend>,
    cache: Arc<RwLock<Cache>>,
    events: broadcast::Sender<Arc<Event>>,
    extractor: Arc<dyn AttrExtractor>,
    config: StoreConfig,
    failure: Arc<Mutex<Option<String>>>,
) -> WriterHandle {
    let threaded = backend.wants_writer_thread();
    let writer =
        Writer { backend, cache, events, extractor, config, poisoned: None, failure, pending_removals: Vec::new() };
    if !threaded {
        return WriterHandle::Inline(Box::new(Mutex::new(writer)));
    }
    let (sender, receiver) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || writer.run(receiver))
        .expect("spawning the store writer thread");
    WriterHandle::Thread { sender, thread }
}

pub(super) struct Writer {
    backend: Box<dyn Backend>,
    cache: Arc<RwLock<Cache>>,
    events: broadcast::Sender<Arc<Event>>,
    extractor: Arc<dyn AttrExtractor>,
    config: StoreConfig,
    /// Set after a backend failure; every later write is refused with it.
    poisoned: Option<String>,
    /// The same reason, shared with the store handle for health checks.
    failure: Arc<Mutex<Option<String>>>,
    /// History trimmed from memory whose on-disk records go out with the next commit.
    pending_removals: Vec<Removal>,
}

/// A transaction staged against the state as of the batch so far.
struct Staged {
    objects: Vec<Arc<Object>>,
    events: Vec<(Arc<Event>, u32)>,
    writes: Vec<Write>,
}

/// The time history ages by: real time, since the writer is a plain thread.
#[allow(clippy::disallowed_methods, reason = "history age is real time, not tokio time")]
pub(super) fn now() -> Instant {
    Instant::now()
}

/// How often an idle writer looks for history past its window.
const IDLE_TRIM_INTERVAL: Duration = Duration::from_secs(1);

impl Writer {
    fn run(mut self, receiver: mpsc::Receiver<Message>) {
        loop {
            let first = match receiver.recv_timeout(IDLE_TRIM_INTERVAL) {
                Ok(message) => message,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.trim_idle();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut requests = Vec::new();
            let mut closing = false;
            let mut next = Some(first);
            while let Some(message) = next.take() {
                match message {
                    Message::Request(request) => requests.push(request),
                    Message::Close => {
                        closing = true;
                        break;
                    }
                }
                if requests.len() < self.config.max_batch {
                    next = receiver.try_recv().ok();
                }
            }
            self.process(requests);
            if closing {
                break;
            }
        }
        self.close_backend();
    }

    fn close_backend(mut self) {
        if let Err(err) = self.backend.close() {
            tracing::error!(%err, "closing the store backend");
        }
    }

    fn trim_idle(&mut self) {
        if self.poisoned.is_some() {
            return;
        }
        let removals = self.cache.write().trim(now(), self.config.history_window, self.config.history_max_events, None);
        self.pending_removals.extend(removals);
        if !self.pending_removals.is_empty() {
            self.process(Vec::new());
        }
    }

    fn process(&mut self, requests: Vec<Request>) {
        if let Some(reason) = &self.poisoned {
            for request in requests {
                let err = StoreError::Unavailable(format!("writes are disabled after a storage failure: {reason}"));
                match request {
                    Request::Commit { reply, .. } => drop(reply.send(Err(err))),
                    Request::Compact { reply, .. } => drop(reply.send(Err(err))),
                }
            }
            return;
        }

        let mut commits = Vec::new();
        let mut compactions = Vec::new();
        for request in requests {
            match request {
                Request::Commit { ops, reply } => commits.push((ops, reply)),
                Request::Compact { revision, reply } => compactions.push((revision, reply)),
            }
        }
        if let Some(up_to) = compactions.iter().map(|(r, _)| *r).max() {
            let removals =
                self.cache.write().trim(now(), self.config.history_window, self.config.history_max_events, Some(up_to));
            self.pending_removals.extend(removals);
        }

        // Stage every transaction against the cache plus the batch's own earlier changes.
        let cache = self.cache.read();
        let base_revision = cache.revision();
        let mut next_revision = base_revision + 1;
        let mut overlay: HashMap<String, Option<Arc<Object>>> = HashMap::new();
        let mut answers = Vec::with_capacity(commits.len());
        let mut events = Vec::new();
        let mut writes = Vec::new();
        for (ops, reply) in commits {
            match self.stage(ops, next_revision, &cache, &overlay) {
                Ok(staged) => {
                    for (event, _) in &staged.events {
                        let current = (event.kind != EventKind::Deleted).then(|| event.object.clone());
                        overlay.insert(event.object.key.to_string(), current);
                    }
                    events.extend(staged.events);
                    writes.extend(staged.writes);
                    answers.push((reply, Ok(staged.objects)));
                    next_revision += 1;
                }
                Err(err) => answers.push((reply, Err(err))),
            }
        }
        let compacted = cache.compacted();
        drop(cache);

        let revision = next_revision - 1;
        let mut outcome = Ok(());
        if !writes.is_empty() || !self.pending_removals.is_empty() {
            let batch =
                CommitBatch { revision, compacted, writes, removals: std::mem::take(&mut self.pending_removals) };
            outcome = self.backend.commit(&batch);
        }

        match outcome {
            Ok(()) => {
                let mut cache = self.cache.write();
                let published: Vec<Arc<Event>> = events.iter().map(|(e, _)| e.clone()).collect();
                cache.apply(events, revision, now());
                // Publishing under the write lock pairs with `Store::watch` subscribing under
                // the read lock: no watcher can miss an event or see it twice.
                for event in published {
                    let _ = self.events.send(event);
                }
                let removals = cache.trim(now(), self.config.history_window, self.config.history_max_events, None);
                drop(cache);
                self.pending_removals.extend(removals);
                for (reply, answer) in answers {
                    let _ = reply.send(answer);
                }
                for (_, reply) in compactions {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(err) => {
                tracing::error!(%err, "store commit failed; refusing further writes");
                self.poisoned = Some(err.to_string());
                *self.failure.lock() = Some(err.to_string());
                for (reply, answer) in answers {
                    let _ = reply.send(answer.and(Err(err.clone())));
                }
                for (_, reply) in compactions {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }

    fn stage(
        &self,
        ops: Vec<Op>,
        revision: Revision,
        cache: &Cache,
        overlay: &HashMap<String, Option<Arc<Object>>>,
    ) -> Result<Staged, StoreError> {
        if ops.is_empty() {
            return Err(StoreError::Invalid("empty transaction".into()));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = ops.iter().map(Op::key).find(|k| !seen.insert(*k)) {
            return Err(StoreError::Invalid(format!("transaction changes {dup} twice")));
        }
        let mut staged = Staged { objects: Vec::new(), events: Vec::new(), writes: Vec::new() };
        for (index, op) in ops.into_iter().enumerate() {
            let index = u32::try_from(index).map_err(|_| StoreError::Invalid("transaction too large".into()))?;
            let position = LogPosition { revision, index };
            let current = match overlay.get(op.key()) {
                Some(state) => state.clone(),
                None => cache.get(op.key()),
            };
            let check = |expected: Option<Revision>, current: &Arc<Object>| match expected {
                Some(expected) if expected != current.revision => {
                    Err(StoreError::Conflict { key: current.key.to_string(), expected, current: current.revision })
                }
                _ => Ok(()),
            };
            let (event, value) = match op {
                Op::Create { key, value } => {
                    if current.is_some() {
                        return Err(StoreError::AlreadyExists { key });
                    }
                    let object = Arc::new(encode(&key, value, revision, self.extractor.as_ref())?);
                    (Event { revision, kind: EventKind::Added, object: object.clone(), prev: None }, Some(object))
                }
                Op::Update { key, value, expected } => {
                    let current = current.ok_or(StoreError::NotFound { key: key.clone() })?;
                    check(expected, &current)?;
                    let object = Arc::new(encode(&key, value, revision, self.extractor.as_ref())?);
                    (
                        Event { revision, kind: EventKind::Modified, object: object.clone(), prev: Some(current) },
                        Some(object),
                    )
                }
                Op::Delete { key, expected } => {
                    let current = current.ok_or(StoreError::NotFound { key: key.clone() })?;
                    check(expected, &current)?;
                    let object = Arc::new(restamp(&current, revision));
                    (Event { revision, kind: EventKind::Deleted, object, prev: Some(current) }, None)
                }
            };
            staged.writes.push(Write {
                position,
                key: event.object.key.to_string(),
                value: value.as_ref().map(|o| o.value.clone()),
            });
            staged.objects.push(event.object.clone());
            staged.events.push((Arc::new(event), index));
        }
        Ok(staged)
    }
}
