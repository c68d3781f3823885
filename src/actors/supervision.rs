//! Supervision that really restarts. actix restarts only an actor that stops itself; a
//! panic just ends the actor (its `stopped()` still runs). So:
//!
//! - **Per-entity actors** (pods, nodes, pools) tell their parent from `stopped()` with a
//!   [`ChildExited`] carrying their incarnation. The parent's [`Children`] ignores stale
//!   exits (an older incarnation), and respawns current ones after an exponential backoff,
//!   counting restarts. The new incarnation rebuilds its state from durable truth (the
//!   store, the observed host), never from the dead actor's memory.
//! - **Singletons** (store writer, routers, scheduler) are watched by a [`Watchdog`], which
//!   escalates a death to a process exit with [`EXIT_SINGLETON_DIED`]; SMF restarts the
//!   daemon and start-up is level-triggered.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use actix::prelude::*;

use crate::logic::backoff::Backoff;

/// The exit status of a process whose singleton actor died (EX_SOFTWARE).
pub const EXIT_SINGLETON_DIED: i32 = 70;

/// Sent by a child from `stopped()`, which runs even when the child panicked.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct ChildExited<K> {
    /// Which child.
    pub key: K,
    /// Which incarnation of it.
    pub incarnation: u64,
}

/// What a parent should do about a child's exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitVerdict {
    /// An old incarnation; a newer one is already running.
    Stale,
    /// The current incarnation died; respawn it after this delay.
    Respawn {
        /// How long to wait.
        after: Duration,
        /// The restart count the next incarnation will report.
        restarts: u64,
    },
}

struct Slot<A: Actor> {
    addr: Addr<A>,
    incarnation: u64,
    restarts: u64,
}

/// A parent's children, by key.
pub struct Children<K, A: Actor> {
    slots: HashMap<K, Slot<A>>,
    /// The last incarnation per key, kept after removal so numbers never repeat.
    incarnations: HashMap<K, (u64, u64)>,
    policy: Backoff,
    /// Where respawns are counted (`reddwarf_actor_restarts_total{kind}`), if anywhere.
    restarts_metric: Option<(crate::metrics::Metrics, &'static str)>,
}

impl<K: Eq + Hash + Clone, A: Actor> Children<K, A> {
    /// No children yet; respawns follow `policy`.
    pub fn new(policy: Backoff) -> Self {
        Self { slots: HashMap::new(), incarnations: HashMap::new(), policy, restarts_metric: None }
    }

    /// Counts each respawn in `metrics` under the actor kind `kind`.
    pub fn count_restarts_in(mut self, metrics: crate::metrics::Metrics, kind: &'static str) -> Self {
        self.restarts_metric = Some((metrics, kind));
        self
    }

    /// The next incarnation of `key` and its restart count, to construct the child with.
    pub fn next_incarnation(&self, key: &K) -> (u64, u64) {
        let (incarnation, restarts) = self.incarnations.get(key).copied().unwrap_or((0, 0));
        (incarnation + 1, restarts)
    }

    /// Records a started child.
    pub fn started(&mut self, key: K, addr: Addr<A>, incarnation: u64, restarts: u64) {
        self.incarnations.insert(key.clone(), (incarnation, restarts));
        self.slots.insert(key, Slot { addr, incarnation, restarts });
    }

    /// The running child of `key`, if its mailbox is still open.
    pub fn get(&self, key: &K) -> Option<&Addr<A>> {
        self.slots.get(key).map(|s| &s.addr).filter(|a| a.connected())
    }

    /// Forgets a child for good (its entity is gone). Returns its address, so the caller
    /// can tell it to stop after the slot no longer keeps it alive.
    pub fn remove(&mut self, key: &K) -> Option<Addr<A>> {
        self.incarnations.remove(key);
        self.slots.remove(key).map(|s| s.addr)
    }

    /// Judges an exit: stale, or respawn after a backoff that grows with each restart.
    pub fn exited(&mut self, key: &K, incarnation: u64) -> ExitVerdict {
        match self.slots.get(key) {
            Some(slot) if slot.incarnation == incarnation => {
                let restarts = slot.restarts + 1;
                self.slots.remove(key);
                self.incarnations.insert(key.clone(), (incarnation, restarts));
                if let Some((metrics, kind)) = &self.restarts_metric {
                    metrics.count_actor_restart(kind);
                }
                let attempt = u32::try_from(restarts.saturating_sub(1)).unwrap_or(u32::MAX);
                ExitVerdict::Respawn { after: self.policy.delay(attempt), restarts }
            }
            _ => ExitVerdict::Stale,
        }
    }

    /// How many children are running.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The keys of the running children.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.slots.keys()
    }
}

type Alive = Box<dyn Fn() -> bool>;

/// Watches singleton actors; when one has died, calls `on_death` with its name (in the
/// daemon: log and exit with [`EXIT_SINGLETON_DIED`]).
pub struct Watchdog {
    watched: Vec<(&'static str, Alive)>,
    on_death: Box<dyn Fn(&'static str)>,
    interval: Duration,
    fired: bool,
}

impl Watchdog {
    /// A watchdog checking every `interval`.
    pub fn new(interval: Duration, on_death: impl Fn(&'static str) + 'static) -> Self {
        Self { watched: Vec::new(), on_death: Box::new(on_death), interval, fired: false }
    }

    /// Watches the actor behind `addr`.
    pub fn watch<A: Actor>(mut self, name: &'static str, addr: &Addr<A>) -> Self {
        let weak = addr.downgrade();
        self.watched.push((name, Box::new(move || weak.upgrade().is_some_and(|a| a.connected()))));
        self
    }

    /// The daemon's reaction: log, then exit so the service manager restarts us.
    pub fn exit_process(name: &'static str) {
        tracing::error!(actor = name, "a singleton actor died; exiting so the service restarts");
        std::process::exit(EXIT_SINGLETON_DIED);
    }
}

impl Actor for Watchdog {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.interval, |this, _| {
            if this.fired {
                return;
            }
            if let Some((name, _)) = this.watched.iter().find(|(_, alive)| !alive()) {
                this.fired = true;
                (this.on_death)(name);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    struct Dummy;
    impl Actor for Dummy {
        type Context = Context<Self>;
    }

    #[derive(Message)]
    #[rtype(result = "()")]
    struct Die;
    impl Handler<Die> for Dummy {
        type Result = ();
        fn handle(&mut self, _: Die, ctx: &mut Context<Self>) {
            ctx.stop();
        }
    }

    #[actix::test]
    async fn stale_exits_are_ignored_and_respawns_back_off() {
        let metrics = crate::metrics::Metrics::new();
        let mut children: Children<String, Dummy> =
            Children::new(Backoff::RESPAWN).count_restarts_in(metrics.clone(), "Dummy");
        let key = "a".to_string();
        let (incarnation, restarts) = children.next_incarnation(&key);
        assert_eq!((incarnation, restarts), (1, 0));
        children.started(key.clone(), Dummy.start(), incarnation, restarts);
        assert_eq!(children.exited(&key, 0), ExitVerdict::Stale);
        assert_eq!(children.exited(&key, 1), ExitVerdict::Respawn { after: Duration::from_millis(100), restarts: 1 });
        assert_eq!(children.next_incarnation(&key), (2, 1));
        children.started(key.clone(), Dummy.start(), 2, 1);
        assert_eq!(children.exited(&key, 1), ExitVerdict::Stale, "a late exit of incarnation 1");
        assert_eq!(children.exited(&key, 2), ExitVerdict::Respawn { after: Duration::from_millis(200), restarts: 2 });
        children.started(key.clone(), Dummy.start(), 3, 2);
        let text = metrics.encode_prometheus();
        assert!(text.contains(r#"reddwarf_actor_restarts_total{kind="Dummy"} 2"#), "only real respawns count: {text}");
        assert!(children.remove(&key).is_some());
        assert_eq!(children.next_incarnation(&key), (1, 0), "a removed entity starts over");
    }

    #[actix::test]
    async fn the_watchdog_fires_once_when_a_singleton_dies() {
        tokio::time::pause();
        let deaths = Rc::new(RefCell::new(Vec::new()));
        let seen = deaths.clone();
        let scheduler = Dummy.start();
        let store_writer = Dummy.start();
        Watchdog::new(Duration::from_secs(1), move |name| seen.borrow_mut().push(name))
            .watch("scheduler", &scheduler)
            .watch("store-writer", &store_writer)
            .start();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(deaths.borrow().is_empty());
        scheduler.do_send(Die);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(*deaths.borrow(), vec!["scheduler"]);
    }
}
