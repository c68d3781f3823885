//! The ActorDirectory: every live actor, with its one-line state. actix has no way to list
//! actors or see their mailboxes, so each actor registers itself when it starts (by kind,
//! id and incarnation) and publishes its state on each transition. The registration is a
//! guard held in the actor: dropping the actor — a clean stop or a panic — removes exactly
//! that incarnation, so a late stop of an old incarnation never removes its successor.
//! `GET /debug/actors` serves [`ActorDirectory::snapshot`] and, with `?probe=1`,
//! [`ActorDirectory::probe`], which pings each actor and marks the stuck ones.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use jiff::Timestamp;
use parking_lot::RwLock;
use serde::Serialize;

use crate::clock::Clock;

/// Identifies one incarnation of one actor.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorKey {
    /// The actor type, such as `PodActor`.
    pub kind: &'static str,
    /// The entity, such as `default/web` or a node name.
    pub id: String,
    /// Counts respawns of the same entity, from 1.
    pub incarnation: u64,
}

/// Asks an actor to describe itself; answered from its mailbox, so a stuck actor cannot.
#[derive(Message)]
#[rtype(result = "String")]
pub struct Describe;

struct Entry {
    started_at: Timestamp,
    state: String,
    since: Timestamp,
    handled: u64,
    in_flight: u32,
    restarts: u64,
    describe: Option<Recipient<Describe>>,
}

/// One actor, as `/debug/actors` shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ActorSnapshot {
    /// The actor type.
    pub kind: &'static str,
    /// The entity.
    pub id: String,
    /// Which incarnation.
    pub incarnation: u64,
    /// Its one-line state.
    pub state: String,
    /// When it entered that state.
    pub since: String,
    /// When this incarnation started.
    pub started_at: String,
    /// Messages it has handled.
    pub messages_handled: u64,
    /// Operations it has in flight.
    pub operations_in_flight: u32,
    /// How often this entity's actor has been respawned.
    pub restarts: u64,
    /// With `?probe=1`: whether it answered in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsive: Option<bool>,
    /// With `?probe=1`: what it said about itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The registry of live actors. Cloning shares it.
#[derive(Clone)]
pub struct ActorDirectory {
    entries: Arc<RwLock<BTreeMap<ActorKey, Entry>>>,
    clock: Clock,
}

fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl ActorDirectory {
    /// An empty directory.
    pub fn new(clock: Clock) -> Self {
        Self { entries: Arc::default(), clock }
    }

    /// Registers an actor; keep the returned guard in the actor.
    pub fn register(
        &self,
        kind: &'static str,
        id: impl Into<String>,
        incarnation: u64,
        restarts: u64,
        describe: Option<Recipient<Describe>>,
    ) -> Registration {
        let key = ActorKey { kind, id: id.into(), incarnation };
        let now = self.clock.now();
        let entry = Entry {
            started_at: now,
            state: "starting".into(),
            since: now,
            handled: 0,
            in_flight: 0,
            restarts,
            describe,
        };
        self.entries.write().insert(key.clone(), entry);
        Registration { directory: self.clone(), key }
    }

    /// Every live actor (of `kind`, when given).
    pub fn snapshot(&self, kind: Option<&str>) -> Vec<ActorSnapshot> {
        self.entries
            .read()
            .iter()
            .filter(|(k, _)| kind.is_none_or(|kind| k.kind == kind))
            .map(|(k, e)| ActorSnapshot {
                kind: k.kind,
                id: k.id.clone(),
                incarnation: k.incarnation,
                state: e.state.clone(),
                since: time(e.since),
                started_at: time(e.started_at),
                messages_handled: e.handled,
                operations_in_flight: e.in_flight,
                restarts: e.restarts,
                responsive: None,
                description: None,
            })
            .collect()
    }

    /// [`ActorDirectory::snapshot`], after asking each actor to describe itself within
    /// `timeout`. Actors that do not answer are marked unresponsive.
    pub async fn probe(&self, kind: Option<&str>, timeout: Duration) -> Vec<ActorSnapshot> {
        let targets: Vec<(ActorKey, Option<Recipient<Describe>>)> = self
            .entries
            .read()
            .iter()
            .filter(|(k, _)| kind.is_none_or(|kind| k.kind == kind))
            .map(|(k, e)| (k.clone(), e.describe.clone()))
            .collect();
        let answers = futures_util::future::join_all(targets.into_iter().map(|(key, describe)| async move {
            let answer = match describe {
                Some(recipient) => recipient.send(Describe).timeout(timeout).await.ok(),
                None => None,
            };
            (key, answer)
        }))
        .await;
        let mut snapshot = self.snapshot(kind);
        for item in &mut snapshot {
            if let Some((_, answer)) = answers
                .iter()
                .find(|(k, _)| k.kind == item.kind && k.id == item.id && k.incarnation == item.incarnation)
            {
                item.responsive = Some(answer.is_some());
                item.description = answer.clone();
            }
        }
        snapshot
    }

    fn update(&self, key: &ActorKey, change: impl FnOnce(&mut Entry)) {
        if let Some(entry) = self.entries.write().get_mut(key) {
            change(entry);
        }
    }
}

/// An actor's entry in the directory; dropping it deregisters exactly this incarnation.
pub struct Registration {
    directory: ActorDirectory,
    key: ActorKey,
}

impl Registration {
    /// Publishes a new one-line state (its `since` moves only when it changes).
    pub fn set_state(&self, state: impl AsRef<str>) {
        let now = self.directory.clock.now();
        self.directory.update(&self.key, |e| {
            if e.state != state.as_ref() {
                e.state = state.as_ref().to_string();
                e.since = now;
            }
        });
    }

    /// Counts one handled message.
    pub fn handled(&self) {
        self.directory.update(&self.key, |e| e.handled += 1);
    }

    /// Publishes the number of operations in flight.
    pub fn set_in_flight(&self, count: u32) {
        self.directory.update(&self.key, |e| e.in_flight = count);
    }

    /// This registration's key.
    pub fn key(&self) -> &ActorKey {
        &self.key
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.directory.entries.write().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sleepy {
        _registration: Option<Registration>,
    }

    impl Actor for Sleepy {
        type Context = Context<Self>;
    }

    impl Handler<Describe> for Sleepy {
        type Result = String;
        fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
            "fine".into()
        }
    }

    #[derive(Message)]
    #[rtype(result = "()")]
    struct Block;

    impl Handler<Block> for Sleepy {
        type Result = ();
        fn handle(&mut self, _: Block, ctx: &mut Context<Self>) {
            // Holds the mailbox, as an actor stuck behind `ctx.wait` would.
            ctx.wait(actix::fut::wrap_future(tokio::time::sleep(Duration::from_secs(3600))));
        }
    }

    #[actix::test]
    async fn registrations_follow_incarnations_and_probes_find_stuck_actors() {
        let directory = ActorDirectory::new(Clock::tokio_anchored());
        let first = directory.register("PodActor", "default/web", 1, 0, None);
        let second = directory.register("PodActor", "default/web", 2, 1, None);
        first.set_state("running");
        second.set_state("installing");
        second.handled();
        drop(first);
        let snapshot = directory.snapshot(Some("PodActor"));
        assert_eq!(snapshot.len(), 1, "dropping the old incarnation leaves the new one");
        assert_eq!((snapshot[0].incarnation, snapshot[0].restarts, snapshot[0].state.as_str()), (2, 1, "installing"));
        assert_eq!(snapshot[0].messages_handled, 1);
        assert!(directory.snapshot(Some("NodeActor")).is_empty());
        drop(second);

        let healthy = Sleepy { _registration: None }.start();
        let stuck = Sleepy { _registration: None }.start();
        let _h = directory.register("Sleepy", "healthy", 1, 0, Some(healthy.clone().recipient()));
        let _s = directory.register("Sleepy", "stuck", 1, 0, Some(stuck.clone().recipient()));
        stuck.do_send(Block);
        tokio::time::pause();
        let probed = directory.probe(Some("Sleepy"), Duration::from_millis(200)).await;
        let by_id = |id: &str| probed.iter().find(|p| p.id == id).unwrap().clone();
        assert_eq!(by_id("healthy").responsive, Some(true));
        assert_eq!(by_id("healthy").description.as_deref(), Some("fine"));
        assert_eq!(by_id("stuck").responsive, Some(false));
    }
}
