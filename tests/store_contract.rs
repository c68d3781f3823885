//! The storage contract (ARCHITECTURE.md §5), run against every backend: in-memory and sled.
//! The crash test re-runs this test binary as a child that writes through a sled store, and
//! kills it with SIGKILL after a random number of acknowledged writes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rand::RngExt;
use reddwarf::store::memory::MemoryBackend;
use reddwarf::store::sled_backend::SledBackend;
use reddwarf::store::{
    Backend, EventKind, LabelsOnly, Op, ReadAt, Selection, Store, StoreConfig, StoreError, WatchFrom, WatchItem,
};
use serde_json::{Value, json};

/// A way to open a store, so each contract test runs against every backend.
trait Factory {
    fn name(&self) -> &'static str;
    fn open(&self, config: StoreConfig) -> Store;
}

struct Memory;
impl Factory for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn open(&self, config: StoreConfig) -> Store {
        Store::open(Box::new(MemoryBackend::default()), Arc::new(LabelsOnly), config).unwrap()
    }
}

struct Sled(tempfile::TempDir);
impl Factory for Sled {
    fn name(&self) -> &'static str {
        "sled"
    }
    fn open(&self, config: StoreConfig) -> Store {
        open_sled(self.0.path(), config)
    }
}

fn open_sled(dir: &Path, config: StoreConfig) -> Store {
    let backend: Box<dyn Backend> = Box::new(SledBackend::open(dir).unwrap());
    Store::open(backend, Arc::new(LabelsOnly), config).unwrap()
}

fn backends() -> Vec<Box<dyn Factory>> {
    vec![Box::new(Memory), Box::new(Sled(tempfile::tempdir().unwrap()))]
}

fn pod(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": {}})
}

fn key(name: &str) -> String {
    format!("/registry/pods/default/{name}")
}

fn resource_version(object: &reddwarf::store::Object) -> String {
    object.json()["metadata"]["resourceVersion"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn concurrent_creates_of_one_name_admit_exactly_one() {
    for backend in backends() {
        let store = backend.open(StoreConfig::default());
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.create(key("race"), pod("race", json!({"writer": i.to_string()}))).await
            }));
        }
        let mut created = 0;
        let mut already_exists = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(StoreError::AlreadyExists { key: k }) => {
                    assert_eq!(k, key("race"));
                    already_exists += 1
                }
                Err(other) => panic!("{}: unexpected {other}", backend.name()),
            }
        }
        assert_eq!((created, already_exists), (1, 15), "{}", backend.name());
        assert_eq!(store.revision(), 1, "{}: failed creates must not use revisions", backend.name());
    }
}

#[tokio::test]
async fn revisions_are_global_contiguous_and_stamped() {
    for backend in backends() {
        let store = backend.open(StoreConfig::default());
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = store.clone();
            tasks.push(tokio::spawn(
                async move { store.create(key(&format!("p{i}")), pod("p", json!({}))).await.unwrap() },
            ));
        }
        let mut revisions = Vec::new();
        for task in tasks {
            let object = task.await.unwrap();
            assert_eq!(resource_version(&object), object.revision.to_string());
            revisions.push(object.revision);
        }
        revisions.sort();
        assert_eq!(revisions, (1..=64).collect::<Vec<_>>(), "{}", backend.name());
        assert_eq!(store.revision(), 64);
    }
}

#[tokio::test]
async fn stale_updates_conflict_and_preconditions_hold() {
    for backend in backends() {
        let store = backend.open(StoreConfig::default());
        let first = store.create(key("a"), pod("a", json!({"v": "1"}))).await.unwrap();
        let second = store.update(key("a"), pod("a", json!({"v": "2"})), Some(first.revision)).await.unwrap();
        assert_eq!(second.revision, first.revision + 1);

        let stale = store.update(key("a"), pod("a", json!({"v": "3"})), Some(first.revision)).await;
        assert_eq!(
            stale.unwrap_err(),
            StoreError::Conflict { key: key("a"), expected: first.revision, current: second.revision },
            "{}",
            backend.name()
        );
        assert_eq!(store.get(&key("a")).unwrap().json()["metadata"]["labels"]["v"], "2");

        assert!(matches!(
            store.update(key("nope"), pod("nope", json!({})), None).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(store.delete(key("a"), Some(first.revision)).await, Err(StoreError::Conflict { .. })));

        let deleted = store.delete(key("a"), Some(second.revision)).await.unwrap();
        assert_eq!(deleted.revision, second.revision + 1);
        assert_eq!(resource_version(&deleted), deleted.revision.to_string());
        assert_eq!(deleted.json()["metadata"]["labels"]["v"], "2", "a deletion returns the last state");
        assert!(store.get(&key("a")).is_none());
        assert!(matches!(store.delete(key("a"), None).await, Err(StoreError::NotFound { .. })));
    }
}

#[tokio::test]
async fn a_transaction_is_all_or_nothing() {
    for backend in backends() {
        let store = backend.open(StoreConfig::default());
        store.create(key("taken"), pod("taken", json!({}))).await.unwrap();
        let failed = store
            .commit(vec![
                Op::Create { key: key("fresh"), value: pod("fresh", json!({})) },
                Op::Create { key: key("taken"), value: pod("taken", json!({})) },
            ])
            .await;
        assert!(matches!(failed, Err(StoreError::AlreadyExists { .. })), "{}", backend.name());
        assert!(store.get(&key("fresh")).is_none());
        assert_eq!(store.revision(), 1);

        let both = store
            .commit(vec![
                Op::Create { key: key("x"), value: pod("x", json!({})) },
                Op::Create { key: key("y"), value: pod("y", json!({})) },
            ])
            .await
            .unwrap();
        assert_eq!(both.iter().map(|o| o.revision).collect::<Vec<_>>(), vec![2, 2], "one transaction, one revision");
        assert!(matches!(store.create("/registry/x/1", json!("not an object")).await, Err(StoreError::Invalid(_))));
    }
}

#[tokio::test]
async fn lists_page_consistently_at_their_revision() {
    for backend in backends() {
        let store = backend.open(StoreConfig::default());
        for i in 0..10 {
            store.create(key(&format!("p{i}")), pod(&format!("p{i}"), json!({"n": i.to_string()}))).await.unwrap();
        }
        store.create("/registry/pods/other/z", pod("z", json!({}))).await.unwrap();
        let selection = Selection::prefix("/registry/pods/default/");
        let first = store.list(&selection, ReadAt::Latest, Some(4), None).unwrap();
        assert_eq!(first.items.len(), 4);
        assert_eq!(first.revision, 11);
        let names: Vec<_> = first.items.iter().map(|o| o.key.to_string()).collect();
        assert_eq!(names, vec![key("p0"), key("p1"), key("p2"), key("p3")]);

        // Change the collection between pages: the next pages still show revision 11.
        store.delete(key("p5"), None).await.unwrap();
        store.update(key("p6"), pod("p6", json!({"n": "changed"})), None).await.unwrap();
        store.create(key("p45"), pod("p45", json!({}))).await.unwrap();

        let mut seen = names;
        let mut after = first.continue_after;
        while let Some(start) = after {
            let page = store.list(&selection, ReadAt::Exact(first.revision), Some(4), Some(&start)).unwrap();
            assert_eq!(page.revision, first.revision);
            for object in &page.items {
                if *object.key == key("p6") {
                    assert_eq!(
                        object.json()["metadata"]["labels"]["n"],
                        "6",
                        "{}: old state at the old revision",
                        backend.name()
                    );
                }
            }
            seen.extend(page.items.iter().map(|o| o.key.to_string()));
            after = page.continue_after;
        }
        let expected: Vec<_> = (0..10).map(|i| key(&format!("p{i}"))).collect();
        assert_eq!(seen, expected, "{}", backend.name());

        let latest = store.list(&selection, ReadAt::Latest, None, None).unwrap();
        assert_eq!(latest.items.len(), 10);
        assert!(latest.items.iter().any(|o| *o.key == key("p45")));
        assert!(!latest.items.iter().any(|o| *o.key == key("p5")));

        let labelled = Selection {
            labels: reddwarf::model::labels::LabelSelector::parse("n in (1,2)").unwrap(),
            ..selection.clone()
        };
        assert_eq!(store.list(&labelled, ReadAt::Latest, None, None).unwrap().items.len(), 2);
        assert!(matches!(
            store.list(&selection, ReadAt::Exact(999), None, None),
            Err(StoreError::FutureRevision { .. })
        ));
    }
}

async fn next_event(watch: &mut reddwarf::store::Watch) -> (EventKind, String, u64) {
    match tokio::time::timeout(Duration::from_secs(5), watch.next()).await.expect("an event in time") {
        WatchItem::Event { kind, object } => (kind, object.key.to_string(), object.revision),
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn watches_replay_in_order_then_follow_live() {
    for backend in backends() {
        let store = backend.open(StoreConfig::default());
        store.create(key("a"), pod("a", json!({}))).await.unwrap(); // 1
        store.create(key("b"), pod("b", json!({}))).await.unwrap(); // 2
        store.update(key("a"), pod("a", json!({"x": "y"})), None).await.unwrap(); // 3
        store.delete(key("b"), None).await.unwrap(); // 4

        let mut watch = store.watch(Selection::prefix("/registry/pods/"), WatchFrom::After(1)).unwrap();
        assert_eq!(next_event(&mut watch).await, (EventKind::Added, key("b"), 2));
        assert_eq!(next_event(&mut watch).await, (EventKind::Modified, key("a"), 3));
        assert_eq!(next_event(&mut watch).await, (EventKind::Deleted, key("b"), 4));
        store.create(key("c"), pod("c", json!({}))).await.unwrap();
        assert_eq!(next_event(&mut watch).await, (EventKind::Added, key("c"), 5), "{}", backend.name());
        assert_eq!(watch.progress(), 5);

        let mut from_now = store.watch(Selection::prefix("/registry/pods/"), WatchFrom::Now).unwrap();
        let mut initial = vec![next_event(&mut from_now).await, next_event(&mut from_now).await];
        initial.sort();
        assert_eq!(initial, vec![(EventKind::Added, key("a"), 3), (EventKind::Added, key("c"), 5)]);
        store.delete(key("a"), None).await.unwrap();
        assert_eq!(next_event(&mut from_now).await, (EventKind::Deleted, key("a"), 6));
    }
}

#[tokio::test]
async fn watching_a_compacted_revision_fails_with_compacted() {
    for backend in backends() {
        let store = backend.open(StoreConfig::default());
        for i in 0..5 {
            store.create(key(&format!("p{i}")), pod("p", json!({}))).await.unwrap();
        }
        store.compact(3).await.unwrap();
        assert_eq!(store.oldest_revision(), 3);
        let err = store.watch(Selection::prefix("/registry/"), WatchFrom::After(2)).err().unwrap();
        assert_eq!(err, StoreError::Compacted { requested: 2, oldest: 3 }, "{}", backend.name());
        assert!(matches!(
            store.list(&Selection::prefix("/"), ReadAt::Exact(1), None, None),
            Err(StoreError::Compacted { .. })
        ));
        let mut watch = store.watch(Selection::prefix("/registry/"), WatchFrom::After(3)).unwrap();
        assert_eq!(next_event(&mut watch).await, (EventKind::Added, key("p3"), 4));
    }
}

#[tokio::test]
async fn history_is_bounded_by_count() {
    for backend in backends() {
        let store = backend.open(StoreConfig { history_max_events: 10, ..StoreConfig::default() });
        for i in 0..30 {
            store.create(key(&format!("p{i}")), pod("p", json!({}))).await.unwrap();
        }
        assert_eq!(store.oldest_revision(), 20, "{}", backend.name());
        assert!(store.watch(Selection::prefix("/"), WatchFrom::After(19)).is_err());
        assert!(store.watch(Selection::prefix("/"), WatchFrom::After(20)).is_ok());
        assert_eq!(store.count("/registry/pods/"), 30, "compaction never drops current objects");
    }
}

#[tokio::test]
async fn a_slow_watcher_is_cut_off_without_blocking_writers() {
    for backend in backends() {
        let store = backend.open(StoreConfig { watcher_buffer: 8, ..StoreConfig::default() });
        let mut slow = store.watch(Selection::prefix("/"), WatchFrom::Now).unwrap();
        for i in 0..50 {
            // Writers never wait for the watcher: all 50 commit although nobody reads.
            tokio::time::timeout(Duration::from_secs(5), store.create(key(&format!("p{i}")), pod("p", json!({}))))
                .await
                .expect("a write is never held up by a watcher")
                .unwrap();
        }
        assert!(matches!(slow.next().await, WatchItem::Lagged), "{}", backend.name());
    }
}

#[tokio::test]
async fn selections_turn_label_changes_into_added_and_deleted() {
    for backend in backends() {
        let store = backend.open(StoreConfig::default());
        let selection = Selection {
            labels: reddwarf::model::labels::LabelSelector::parse("app=web").unwrap(),
            ..Selection::prefix("/registry/pods/")
        };
        let mut watch = store.watch(selection, WatchFrom::Now).unwrap();
        store.create(key("a"), pod("a", json!({"app": "db"}))).await.unwrap();
        store.update(key("a"), pod("a", json!({"app": "web"})), None).await.unwrap();
        store.update(key("a"), pod("a", json!({"app": "web", "x": "1"})), None).await.unwrap();
        store.update(key("a"), pod("a", json!({"app": "db"})), None).await.unwrap();
        assert_eq!(next_event(&mut watch).await.0, EventKind::Added, "{}", backend.name());
        assert_eq!(next_event(&mut watch).await.0, EventKind::Modified);
        assert_eq!(next_event(&mut watch).await.0, EventKind::Deleted);
    }
}

#[tokio::test]
async fn a_failed_commit_is_not_acknowledged_and_stops_writes() {
    let backend = MemoryBackend::default();
    let fail = backend.fail_commits.clone();
    let store = Store::open(Box::new(backend), Arc::new(LabelsOnly), StoreConfig::default()).unwrap();
    store.create(key("ok"), pod("ok", json!({}))).await.unwrap();
    fail.store(1, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(store.create(key("lost"), pod("lost", json!({}))).await, Err(StoreError::Backend(_))));
    assert!(store.get(&key("lost")).is_none(), "an unacknowledged write is not visible");
    assert_eq!(store.revision(), 1);
    assert!(matches!(store.create(key("later"), pod("later", json!({}))).await, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn sled_reopens_with_objects_history_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open_sled(dir.path(), StoreConfig::default());
        store.create(key("a"), pod("a", json!({"v": "1"}))).await.unwrap(); // 1
        store.create(key("b"), pod("b", json!({}))).await.unwrap(); // 2
        store.update(key("a"), pod("a", json!({"v": "2"})), None).await.unwrap(); // 3
        store.delete(key("b"), None).await.unwrap(); // 4
        store.create(key("b"), pod("b", json!({"again": "yes"}))).await.unwrap(); // 5
        store.compact(2).await.unwrap();
        store.close();
    }
    let store = open_sled(dir.path(), StoreConfig::default());
    assert_eq!(store.revision(), 5);
    assert_eq!(store.oldest_revision(), 2);
    assert_eq!(store.get(&key("a")).unwrap().json()["metadata"]["labels"]["v"], "2");
    assert_eq!(store.get(&key("b")).unwrap().revision, 5);
    let mut watch = store.watch(Selection::prefix("/registry/"), WatchFrom::After(2)).unwrap();
    assert_eq!(next_event(&mut watch).await, (EventKind::Modified, key("a"), 3));
    assert_eq!(next_event(&mut watch).await, (EventKind::Deleted, key("b"), 4));
    assert_eq!(next_event(&mut watch).await, (EventKind::Added, key("b"), 5));
    // The list at revision 2 is rebuilt from the reloaded history.
    let at_two = store.list(&Selection::prefix("/registry/"), ReadAt::Exact(2), None, None).unwrap();
    let labels: Vec<_> = at_two.items.iter().map(|o| o.json()["metadata"]["labels"].clone()).collect();
    assert_eq!(labels, vec![json!({"v": "1"}), json!({})]);
    assert!(store.watch(Selection::prefix("/"), WatchFrom::After(1)).is_err());
    let next = store.create(key("c"), pod("c", json!({}))).await.unwrap();
    assert_eq!(next.revision, 6, "revisions continue where they stopped");
}

/// The environment variable that turns the crash child on.
const CRASH_CHILD_DIR: &str = "REDDWARF_CRASH_CHILD_DIR";

/// Not a test on its own: the child process of `acknowledged_writes_survive_sigkill`. It
/// writes through a sled store from 16 tasks and prints `ACK <key> <revision>` after each
/// acknowledged write, until it is killed.
#[tokio::test]
#[ignore = "run only as the child of acknowledged_writes_survive_sigkill"]
async fn crash_child() {
    use std::io::Write;
    let dir = std::env::var(CRASH_CHILD_DIR).expect("crash_child runs only as a child process");
    let store = open_sled(Path::new(&dir), StoreConfig::default());
    let generation = store.revision();
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("g{generation}-w{writer}-{i}");
                let object = store.create(key(&name), pod(&name, json!({}))).await.unwrap();
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {} {}", object.key, object.revision).unwrap();
                out.flush().unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let seed: u64 = rand::rng().random();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    eprintln!("crash test seed {seed}");
    let mut highest_acked = 0;
    for round in 0..3 {
        let child_stderr = logs.path().join(format!("crash-child-{round}.stderr"));
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["store_contract::crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CRASH_CHILD_DIR, dir.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&child_stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (ack_sender, acks_received) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("ACK ") && ack_sender.send(line).is_err() {
                    return;
                }
            }
        });
        // Kill at a random moment, counted in acknowledged writes rather than wall time, so
        // a slow start (a loaded machine, a long reopen) cannot make a round empty.
        let kill_after = rng.random_range(20..2000);
        let mut acks = Vec::new();
        while acks.len() < kill_after {
            match acks_received.recv_timeout(Duration::from_secs(120)) {
                Ok(ack) => acks.push(ack),
                Err(_) => break,
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Lines already in the pipe were acknowledged before the kill: they count too.
        acks.extend(acks_received.iter());
        reader.join().unwrap();
        assert!(
            acks.len() >= kill_after,
            "round {round}: the child stopped after {} of {kill_after} writes; its stderr:\n{}",
            acks.len(),
            std::fs::read_to_string(&child_stderr).unwrap_or_default()
        );

        let store = open_sled(dir.path(), StoreConfig::default());
        let mut round_highest = 0;
        for ack in &acks {
            let mut parts = ack.split(' ').skip(1);
            let (k, revision) = (parts.next().unwrap(), parts.next().unwrap().parse::<u64>().unwrap());
            let object =
                store.get(k).unwrap_or_else(|| panic!("round {round} (seed {seed}): acknowledged {k} is lost"));
            assert_eq!(object.revision, revision, "round {round}: {k} has a different revision");
            round_highest = round_highest.max(revision);
        }
        assert!(round_highest > highest_acked, "round {round}: revisions went backwards");
        assert!(store.revision() >= round_highest, "round {round}: the store revision went backwards");
        highest_acked = store.revision();
        store.close();
    }
}
