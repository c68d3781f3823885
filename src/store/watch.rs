//! A watch: the backlog it started with (synthetic `Added` events or replayed history),
//! then live events from the writer's broadcast. It applies the selection the way the
//! apiserver does: an object that starts matching arrives as `Added`, one that stops
//! matching as `Deleted`. A watch that falls more than the broadcast buffer behind is told
//! so ([`WatchItem::Lagged`]) and must be ended: the client re-watches or re-lists.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast;

use super::{Event, EventKind, Object, Revision, Selection};

/// What a watch yields next.
#[derive(Debug)]
pub enum WatchItem {
    /// A change to a selected object.
    Event {
        /// Added, modified or deleted, as seen through the selection.
        kind: EventKind,
        /// The object's new state (for a deletion, its last state).
        object: Arc<Object>,
    },
    /// The watcher fell too far behind and was cut off.
    Lagged,
    /// The store shut down.
    Closed,
}

/// A running watch.
pub struct Watch {
    selection: Selection,
    backlog: VecDeque<Arc<Event>>,
    receiver: broadcast::Receiver<Arc<Event>>,
    /// Live events at or below this revision are already covered by the backlog.
    covered: Revision,
    /// The newest revision this watch has seen.
    progress: Revision,
}

impl Watch {
    /// `backlog` holds the events up to `covered`, the revision the store was at when the
    /// watch began; live events at or below it are skipped.
    pub(super) fn new(
        selection: Selection,
        backlog: Vec<Arc<Event>>,
        covered: Revision,
        receiver: broadcast::Receiver<Arc<Event>>,
    ) -> Self {
        Self { selection, backlog: backlog.into(), receiver, covered, progress: covered }
    }

    /// The revision a client may resume from once the backlog has been delivered: the
    /// newest revision this watch has seen, whether or not it selected anything. (Callers
    /// send bookmarks only while [`Watch::next`] is waiting, so the backlog is drained.)
    pub fn progress(&self) -> Revision {
        self.progress
    }

    /// True while the watch is still delivering its initial backlog.
    pub fn replaying(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// The next change, waiting for one if necessary. Cancel-safe.
    pub async fn next(&mut self) -> WatchItem {
        loop {
            let event = match self.backlog.pop_front() {
                Some(event) => event,
                None => match self.receiver.recv().await {
                    Ok(event) if event.revision <= self.covered => continue,
                    Ok(event) => {
                        self.progress = event.revision;
                        event
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => return WatchItem::Lagged,
                    Err(broadcast::error::RecvError::Closed) => return WatchItem::Closed,
                },
            };
            if let Some((kind, object)) = self.visible(&event) {
                return WatchItem::Event { kind, object };
            }
        }
    }

    fn visible(&self, event: &Event) -> Option<(EventKind, Arc<Object>)> {
        let now = self.selection.matches(&event.object);
        let before = event.prev.as_ref().is_some_and(|p| self.selection.matches(p));
        let kind = match (event.kind, before, now) {
            (EventKind::Added, _, true) => EventKind::Added,
            (EventKind::Deleted, _, true) => EventKind::Deleted,
            (EventKind::Modified, true, true) => EventKind::Modified,
            (EventKind::Modified, false, true) => EventKind::Added,
            (EventKind::Modified, true, false) => EventKind::Deleted,
            _ => return None,
        };
        Some((kind, event.object.clone()))
    }
}
