//! WATCH: chunked, newline-delimited JSON events (`{"type":"ADDED","object":{...}}`), as
//! kubectl and client-go expect. `resourceVersion` unset or `0` starts with synthetic
//! `ADDED` events for the current state; `N` replays history after N; a compacted `N` is an
//! `ERROR` event with 410 `Expired`. Bookmarks, `timeoutSeconds`, selectors, Table output
//! and `sendInitialEvents` are honoured. A watcher that falls behind is cut off with 410,
//! so it re-lists instead of slowing writers.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::stream;
use rand::RngExt;
use serde_json::json;
use tokio::time::Instant;

use crate::api::ApiState;
use crate::api::path::Route;
use crate::api::read::selection;
use crate::api::request::{Params, accept, wants_table};
use crate::api::status::ApiError;
use crate::api::table::{self, IncludeObject};
use crate::clock::Clock;
use crate::store::{EventKind, Watch, WatchFrom, WatchItem};

/// How events are rendered.
#[derive(Clone, Copy)]
enum Format {
    Object,
    Table { include: IncludeObject },
}

struct Stream {
    watch: Watch,
    route: Route,
    format: Format,
    clock: Clock,
    columns_sent: bool,
    bookmarks: bool,
    bookmark_interval: Duration,
    next_bookmark: Instant,
    deadline: Instant,
    initial_events_end: bool,
    shutdown: tokio::sync::watch::Receiver<bool>,
    finished: bool,
}

fn event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut line = Vec::with_capacity(object.len() + 32);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(object);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

/// The `ERROR` event that ends a watch.
fn error_line(err: &ApiError) -> Bytes {
    event_line("ERROR", err.to_status().to_string().as_bytes())
}

impl Stream {
    fn bookmark(&self, annotate_initial_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": self.watch.progress().to_string()});
        if annotate_initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object =
            json!({"kind": self.route.def.kind, "apiVersion": self.route.def.api_version(), "metadata": metadata});
        event_line("BOOKMARK", object.to_string().as_bytes())
    }

    fn render(&mut self, kind: EventKind, object: &crate::store::Object) -> Bytes {
        let name = match kind {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        };
        match self.format {
            Format::Object => event_line(name, &self.route.def.codec.present_bytes(&object.value)),
            Format::Table { include } => {
                let value = self.route.def.codec.present(object.json());
                let row = table::row(self.route.def.table, &value, include, self.clock.now());
                let metadata = json!({"resourceVersion": object.revision.to_string()});
                let table = table::table(self.route.def.table, vec![row], metadata, !self.columns_sent);
                self.columns_sent = true;
                event_line(name, table.to_string().as_bytes())
            }
        }
    }

    /// The next chunk, or None when the watch is over.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.finished {
            return None;
        }
        if self.initial_events_end && !self.watch.replaying() {
            self.initial_events_end = false;
            return Some(self.bookmark(true));
        }
        loop {
            tokio::select! {
                biased;
                changed = self.shutdown.changed() => {
                    if changed.is_err() || *self.shutdown.borrow() {
                        return None;
                    }
                }
                item = self.watch.next() => {
                    return match item {
                        WatchItem::Event { kind, object } => {
                            self.next_bookmark = Instant::now() + self.bookmark_interval;
                            Some(self.render(kind, &object))
                        }
                        WatchItem::Lagged => {
                            self.finished = true;
                            Some(error_line(&ApiError::expired("the watch fell too far behind and was closed; list again to resynchronise")))
                        }
                        WatchItem::Closed => None,
                    };
                }
                _ = tokio::time::sleep_until(self.deadline) => return None,
                _ = tokio::time::sleep_until(self.next_bookmark), if self.bookmarks => {
                    self.next_bookmark = Instant::now() + self.bookmark_interval;
                    return Some(self.bookmark(false));
                }
            }
        }
    }
}

/// `GET ...?watch=true`.
pub fn watch(req: &HttpRequest, state: &ApiState, route: &Route, params: &Params) -> Result<HttpResponse, ApiError> {
    let selection = selection(route, params)?;
    let version = params.non_empty("resourceVersion").unwrap_or("0");
    let from = if version == "0" {
        WatchFrom::Now
    } else {
        WatchFrom::After(
            version.parse().map_err(|_| ApiError::bad_request(format!("invalid resource version: {version:?}")))?,
        )
    };
    let send_initial = params.flag("sendInitialEvents");
    let from = if send_initial { WatchFrom::Now } else { from };
    let timeout = match params.int("timeoutSeconds")? {
        Some(seconds) if seconds > 0 => Duration::from_secs(seconds as u64),
        _ => {
            let min = state.settings.min_watch_timeout;
            min + min.mul_f64(rand::rng().random_range(0.0..1.0))
        }
    };
    let format = if wants_table(&accept(req)) {
        Format::Table { include: IncludeObject::parse(params.get("includeObject")) }
    } else {
        Format::Object
    };
    let started = state.store.watch(selection, from);
    let response = || {
        let mut builder = HttpResponse::Ok();
        builder.content_type("application/json").insert_header(("Cache-Control", "no-cache, private"));
        builder
    };
    let watch = match started {
        Ok(watch) => watch,
        // Upstream answers an expired or future version with an ERROR event in a 200 stream.
        Err(err) => {
            let err = ApiError::from_store(err, route.subject(""));
            return Ok(response().body(error_line(&err)));
        }
    };
    let now = Instant::now();
    let state_stream = Stream {
        watch,
        route: route.clone(),
        format,
        clock: state.clock.clone(),
        columns_sent: false,
        bookmarks: params.flag("allowWatchBookmarks"),
        bookmark_interval: state.settings.bookmark_interval,
        next_bookmark: now + state.settings.bookmark_interval,
        deadline: now + timeout,
        initial_events_end: send_initial && params.flag("allowWatchBookmarks"),
        shutdown: state.shutdown.clone(),
        finished: false,
    };
    let body = stream::unfold(state_stream, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(chunk), s))
    });
    Ok(response().streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Selection, Store};
    use serde_json::Value;

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}})
    }

    fn stream(
        store: &Store,
        from: WatchFrom,
        bookmarks: bool,
        timeout: Duration,
    ) -> (Stream, tokio::sync::watch::Sender<bool>) {
        let route = crate::api::path::parse("/api/v1/namespaces/default/pods").unwrap();
        let watch = store.watch(Selection::prefix(route.def.prefix(Some("default"))), from).unwrap();
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let now = Instant::now();
        let interval = Duration::from_secs(10);
        let s = Stream {
            watch,
            route,
            format: Format::Object,
            clock: Clock::tokio_anchored(),
            columns_sent: false,
            bookmarks,
            bookmark_interval: interval,
            next_bookmark: now + interval,
            deadline: now + timeout,
            initial_events_end: false,
            shutdown,
            finished: false,
        };
        (s, stop)
    }

    fn parse(chunk: Option<Bytes>) -> Value {
        serde_json::from_slice(&chunk.expect("a chunk")).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn bookmarks_carry_progress_and_the_deadline_ends_the_stream() {
        let store = Store::in_memory();
        store.create("/registry/pods/default/a", pod("a")).await.unwrap();
        let started = Instant::now();
        let (mut s, _stop) = stream(&store, WatchFrom::Now, true, Duration::from_secs(35));
        assert_eq!(parse(s.next_chunk().await)["type"], "ADDED");
        // Nothing happens: a bookmark every 10 (virtual) seconds, at the current revision.
        let bookmark = parse(s.next_chunk().await);
        assert_eq!(bookmark["type"], "BOOKMARK");
        assert_eq!(bookmark["object"]["metadata"]["resourceVersion"], "1");
        assert_eq!(bookmark["object"]["kind"], "Pod");
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        store.create("/registry/pods/default/b", pod("b")).await.unwrap();
        store.create("/registry/pods/other/c", pod("c")).await.unwrap();
        assert_eq!(parse(s.next_chunk().await)["object"]["metadata"]["name"], "b");
        // The next bookmark counts the unselected write too.
        let bookmark = parse(s.next_chunk().await);
        assert_eq!(bookmark["object"]["metadata"]["resourceVersion"], "3");
        // ...and the stream ends at its deadline.
        while let Some(chunk) = s.next_chunk().await {
            assert_eq!(parse(Some(chunk))["type"], "BOOKMARK");
        }
        assert_eq!(started.elapsed(), Duration::from_secs(35));
    }

    #[tokio::test(start_paused = true)]
    async fn no_bookmarks_unless_asked_and_shutdown_ends_the_stream() {
        let store = Store::in_memory();
        let (mut s, stop) = stream(&store, WatchFrom::Now, false, Duration::from_secs(3600));
        let waiter = tokio::spawn(async move { s.next_chunk().await });
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert!(!waiter.is_finished(), "no bookmarks without allowWatchBookmarks");
        stop.send(true).unwrap();
        assert!(waiter.await.unwrap().is_none(), "shutdown ends the watch");
    }

    #[tokio::test(start_paused = true)]
    async fn a_lagging_watcher_gets_410_and_ends() {
        let store = crate::store::Store::open(
            Box::new(crate::store::memory::MemoryBackend::default()),
            std::sync::Arc::new(crate::store::LabelsOnly),
            crate::store::StoreConfig { watcher_buffer: 4, ..Default::default() },
        )
        .unwrap();
        let (mut s, _stop) = stream(&store, WatchFrom::Now, false, Duration::from_secs(60));
        for i in 0..20 {
            store.create(format!("/registry/pods/default/p{i}"), pod(&format!("p{i}"))).await.unwrap();
        }
        let error = parse(s.next_chunk().await);
        assert_eq!(error["type"], "ERROR");
        assert_eq!(error["object"]["code"], 410);
        assert!(s.next_chunk().await.is_none());
    }

    #[test]
    fn lines() {
        assert_eq!(event_line("ADDED", b"{}"), Bytes::from_static(b"{\"type\":\"ADDED\",\"object\":{}}\n"));
        let line = error_line(&ApiError::expired("too old resource version: 1 (5)"));
        let value: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["type"], "ERROR");
        assert_eq!(value["object"]["code"], 410);
        assert_eq!(value["object"]["reason"], "Expired");
    }
}
