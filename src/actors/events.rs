//! The EventRecorder: controllers and the agent report what happened as [`EventSpec`]s, and
//! this actor writes core/v1 Events, aggregating repeats (the same object, reason, message
//! and source) into one object whose `count` and `lastTimestamp` move on. Recording is
//! fire-and-forget, as upstream's recorder: a full mailbox drops the event and counts it,
//! it never blocks the caller. Where events are written is an [`EventSink`]: the store in
//! the control plane, the API for a remote agent.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix::prelude::*;
use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::actors::directory::{ActorDirectory, Describe, Registration};
use crate::clock::Clock;
use crate::logic::events::{EventSpec, event_name, new_event, repeat_event};
use crate::store::{Store, StoreError, keys};

/// Where events are written.
pub trait EventSink: Send + Sync + 'static {
    /// The stored event, if it exists.
    fn get(&self, namespace: &str, name: &str) -> BoxFuture<'static, Result<Option<Value>, String>>;
    /// Creates an event.
    fn create(&self, event: Value) -> BoxFuture<'static, Result<(), String>>;
    /// Overwrites an event.
    fn replace(&self, event: Value) -> BoxFuture<'static, Result<(), String>>;
}

/// Writes events straight into the store (the control plane's own components).
pub struct StoreEvents {
    store: Store,
}

impl StoreEvents {
    /// A sink over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn key(event: &Value) -> String {
        let meta = |f: &str| event.pointer(&format!("/metadata/{f}")).and_then(Value::as_str).unwrap_or("").to_string();
        keys::object_key("events", Some(&meta("namespace")), &meta("name"))
    }
}

impl EventSink for StoreEvents {
    fn get(&self, namespace: &str, name: &str) -> BoxFuture<'static, Result<Option<Value>, String>> {
        let found = self.store.get(&keys::object_key("events", Some(namespace), name)).map(|o| o.json());
        Box::pin(async move { Ok(found) })
    }

    fn create(&self, event: Value) -> BoxFuture<'static, Result<(), String>> {
        let store = self.store.clone();
        Box::pin(async move { store.create(Self::key(&event), event).await.map(|_| ()).map_err(|e| e.to_string()) })
    }

    fn replace(&self, event: Value) -> BoxFuture<'static, Result<(), String>> {
        let store = self.store.clone();
        Box::pin(async move {
            match store.update(Self::key(&event), event, None).await {
                Ok(_) => Ok(()),
                Err(StoreError::NotFound { .. }) => Err("gone".into()),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

/// Records one event.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Record(pub EventSpec);

/// Forget aggregation state past this many distinct events (a new one is then created).
const MAX_REMEMBERED: usize = 4096;
/// Events waiting beyond this are dropped.
const MAILBOX: usize = 1024;

/// The recorder actor.
pub struct EventRecorder {
    sink: Arc<dyn EventSink>,
    clock: Clock,
    /// Where each distinct event was written: (namespace, name).
    written: HashMap<EventSpec, (String, String)>,
    directory: ActorDirectory,
    registration: Option<Registration>,
}

/// A cheap handle to the recorder, shared by everything that reports events.
#[derive(Clone)]
pub struct Recorder {
    addr: Addr<EventRecorder>,
    dropped: Arc<AtomicU64>,
}

impl Recorder {
    /// Starts the recorder on the current arbiter.
    pub fn start(sink: Arc<dyn EventSink>, clock: Clock, directory: ActorDirectory) -> Self {
        let addr = EventRecorder { sink, clock, written: HashMap::new(), directory, registration: None }.start();
        Self { addr, dropped: Arc::default() }
    }

    /// Records `spec` without waiting; if the recorder is overwhelmed the event is dropped.
    pub fn record(&self, spec: EventSpec) {
        if self.addr.try_send(Record(spec)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events dropped because the recorder was busy.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Records `spec` and waits until it is written (for tests and shutdown paths).
    pub async fn record_and_wait(&self, spec: EventSpec) {
        let _ = self.addr.send(Record(spec)).await;
    }
}

impl Actor for EventRecorder {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(MAILBOX);
        let registration = self.directory.register("EventRecorder", "events", 1, 0, Some(ctx.address().recipient()));
        registration.set_state("recording");
        self.registration = Some(registration);
    }
}

impl Handler<Describe> for EventRecorder {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!("{} distinct events remembered", self.written.len())
    }
}

impl Handler<Record> for EventRecorder {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, Record(spec): Record, _: &mut Context<Self>) -> Self::Result {
        if let Some(r) = &self.registration {
            r.handled();
        }
        if self.written.len() >= MAX_REMEMBERED {
            self.written.clear();
        }
        let sink = self.sink.clone();
        let now = self.clock.now();
        let earlier = self.written.get(&spec).cloned();
        let fresh_name = event_name(&spec, now);
        let uid = uuid::Uuid::new_v4().to_string();
        let spec_for_write = spec.clone();
        let write = async move {
            if let Some((namespace, name)) = earlier
                && let Ok(Some(existing)) = sink.get(&namespace, &name).await
                && sink.replace(repeat_event(&existing, now)).await.is_ok()
            {
                return Some((namespace, name));
            }
            let event = new_event(&spec_for_write, &fresh_name, &uid, now);
            match sink.create(event).await {
                Ok(()) => Some((spec_for_write.namespace().to_string(), fresh_name)),
                Err(err) => {
                    tracing::warn!(%err, reason = %spec_for_write.reason, "could not record an event");
                    None
                }
            }
        };
        AtomicResponse::new(Box::pin(actix::fut::wrap_future::<_, Self>(write).map(move |written, this, _| {
            if let Some(place) = written {
                this.written.insert(spec, place);
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::events::InvolvedObject;
    use crate::store::Selection;

    fn spec(message: &str) -> EventSpec {
        EventSpec {
            involved: InvolvedObject {
                kind: "Pod".into(),
                api_version: "v1".into(),
                namespace: "default".into(),
                name: "web".into(),
                uid: "u1".into(),
                field_path: String::new(),
            },
            warning: true,
            reason: "FailedScheduling".into(),
            message: message.into(),
            component: "default-scheduler".into(),
            host: String::new(),
        }
    }

    #[actix::test]
    async fn repeats_aggregate_into_one_event() {
        let store = Store::in_memory();
        let recorder = Recorder::start(
            Arc::new(StoreEvents::new(store.clone())),
            Clock::tokio_anchored(),
            ActorDirectory::new(Clock::system()),
        );
        for _ in 0..3 {
            recorder.record_and_wait(spec("0/1 nodes are available: 1 Insufficient cpu.")).await;
        }
        recorder.record_and_wait(spec("0/2 nodes are available: 2 Insufficient cpu.")).await;
        let events = store
            .list(&Selection::prefix("/registry/events/default/"), crate::store::ReadAt::Latest, None, None)
            .unwrap();
        assert_eq!(events.items.len(), 2, "one object per distinct message");
        let counts: Vec<i64> = events.items.iter().map(|e| e.json()["count"].as_i64().unwrap()).collect();
        assert!(counts.contains(&3) && counts.contains(&1), "{counts:?}");

        // An aggregated event deleted meanwhile is created again.
        let first = events.items.iter().find(|e| e.json()["count"] == 3).unwrap();
        store.delete(first.key.to_string(), None).await.unwrap();
        recorder.record_and_wait(spec("0/1 nodes are available: 1 Insufficient cpu.")).await;
        assert_eq!(store.count("/registry/events/default/"), 2);
        assert_eq!(recorder.dropped(), 0);
    }
}
