//! Persistence of an emulated host, for `--runtime sim` agents that must survive a restart
//! the way a real host does (its zones, links and datasets outlive the agent). The state is
//! kept as a journal of the commands that changed it; a new `FakeHost` replays the journal
//! (instantly, without faults or durations) to rebuild the same host.
//!
//! The file is append-only between compactions: each change is appended and synced
//! (`fdatasync`) before the command's caller sees success, and changes that arrive while a
//! write is under way share the next one (group commit), so a thousand concurrent pods
//! neither queue for a thousand syncs nor rewrite the whole host for each. In memory the
//! journal also keeps the *live* entries: deleting a zone, link, address or dataset drops
//! the commands that made it. When the file holds more dead lines than live ones (and at
//! the first write of each process) it is replaced by the live entries alone, atomically
//! (temporary file, fsync, rename, fsync of the directory). A crash in the middle of an
//! append can leave a torn last line; it was never acknowledged, and reading skips it.

use crate::durable_file::write_atomically;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::control::Operation;
use crate::illumos::profile::Tool;

/// Dead lines the file may hold beyond its live ones before it is compacted.
const COMPACTION_SLACK: usize = 1024;

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading or writing the file failed.
    #[error("sim host state {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not a journal.
    #[error("sim host state {path}: {detail}")]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// One command that changed the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// The full argv, program first.
    pub argv: Vec<String>,
    /// stdin, when there was any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    /// The zone it addressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// Whether a successful `operation` changes the host (observation does not; zlogin runs
/// inside a zone, whose contents are not emulated).
pub(crate) fn changes_host(operation: &Operation) -> bool {
    const OBSERVE: &[&str] = &["list", "export", "info", "get", "show-vnic", "show-link", "show-etherstub"];
    operation.tool != Tool::Zlogin
        && !OBSERVE.contains(&operation.action.as_str())
        && !operation.action.starts_with("show-")
}

/// The journal file and its entries.
pub(crate) struct Journal {
    path: PathBuf,
    shared: Arc<Shared>,
}

/// What the journal and its writes share. Lock order: `file` before `entries` (the host's
/// own lock may be held while taking `entries`, never `file`).
struct Shared {
    entries: Mutex<Entries>,
    file: Mutex<OnDisk>,
}

/// The journal's contents in memory.
#[derive(Default)]
struct Entries {
    /// Counts recorded changes; a write covers every generation up to the one it took.
    generation: u64,
    /// What still exists, each entry with its JSON line (serialised once).
    live: Vec<(Entry, String)>,
    /// Lines recorded but not yet appended to the file.
    unwritten: Vec<String>,
    /// Lines the file holds once `unwritten` is appended.
    lines: usize,
}

/// The file's side: what is on disk, and the handle appends go through.
struct OnDisk {
    /// The newest generation known to be on disk.
    written: u64,
    /// Open for appending after the first (compacting) write of this process.
    append: Option<File>,
}

/// A change that must be on disk before its command reports success.
pub(crate) struct PendingWrite {
    path: PathBuf,
    generation: u64,
    shared: Arc<Shared>,
}

impl Journal {
    /// Reads the journal at `path` (absent means empty) and returns the live entries to
    /// replay.
    pub fn open(path: &Path) -> Result<(Self, Vec<Entry>), JournalError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(JournalError::Io { path: path.to_path_buf(), source }),
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut entries = Entries { lines: lines.len(), ..Entries::default() };
        for (i, text) in lines.iter().enumerate() {
            match serde_json::from_str::<Entry>(text) {
                Ok(entry) => entries.apply(entry, format!("{text}\n")),
                // A torn append: never acknowledged.
                Err(_) if i + 1 == lines.len() => tracing::warn!(path = %path.display(), "skipping a torn last line"),
                Err(e) => {
                    return Err(JournalError::Corrupt {
                        path: path.to_path_buf(),
                        detail: format!("line {}: {e}", i + 1),
                    });
                }
            }
        }
        let replay = entries.live.iter().map(|(entry, _)| entry.clone()).collect();
        let shared = Shared { entries: Mutex::new(entries), file: Mutex::new(OnDisk { written: 0, append: None }) };
        Ok((Self { path: path.to_path_buf(), shared: Arc::new(shared) }, replay))
    }

    /// Records a successful change; returns the write that makes it durable.
    pub fn record(&mut self, entry: Entry) -> PendingWrite {
        let mut entries = self.shared.entries.lock();
        let json = line(&entry);
        entries.unwritten.push(json.clone());
        entries.lines += 1;
        entries.apply(entry, json);
        entries.generation += 1;
        PendingWrite { path: self.path.clone(), generation: entries.generation, shared: self.shared.clone() }
    }
}

impl Entries {
    /// Applies one change (with its JSON line) to the live entries: a deletion drops what
    /// it undoes (and is kept itself only when it undid nothing); anything else is added.
    fn apply(&mut self, entry: Entry, json: String) {
        if let Some(undoes) = Undoes::of(&entry) {
            let before = self.live.len();
            self.live.retain(|(e, _)| !undoes.matches(e));
            if self.live.len() < before {
                return;
            }
        }
        self.live.push((entry, json));
    }
}

/// What a deleting command undoes.
enum Undoes {
    /// Every command that addressed this zone (`zonecfg -z Z delete`).
    Zone(String),
    /// The `dladm create-*` of this link.
    Link(String),
    /// The `ipadm` commands on this address object.
    Address(String),
    /// The `zfs` commands on this dataset, its children and snapshots.
    Dataset { name: String, children: String, snapshots: String },
}

impl Undoes {
    fn of(entry: &Entry) -> Option<Self> {
        let (operation, _) = super::operation_of(&entry.argv)?;
        let last = entry.argv.last()?.clone();
        match (operation.tool, operation.action.as_str()) {
            (Tool::Zonecfg, "delete") => entry.zone.clone().map(Self::Zone),
            (Tool::Dladm, "delete-vnic" | "delete-etherstub") => Some(Self::Link(last)),
            (Tool::Ipadm, "delete-addr") => Some(Self::Address(last)),
            (Tool::Zfs, "destroy") => {
                Some(Self::Dataset { children: format!("{last}/"), snapshots: format!("{last}@"), name: last })
            }
            _ => None,
        }
    }

    fn matches(&self, e: &Entry) -> bool {
        let program = e.argv.first().map(String::as_str).unwrap_or_default();
        let action = e.argv.get(1).map(String::as_str).unwrap_or_default();
        let target = e.argv.last().map(String::as_str).unwrap_or_default();
        match self {
            Self::Zone(zone) => e.zone.as_deref() == Some(zone),
            Self::Link(link) => program.ends_with("dladm") && action.starts_with("create-") && target == link,
            Self::Address(addrobj) => program.ends_with("ipadm") && target == addrobj,
            Self::Dataset { name, children, snapshots } => {
                program.ends_with("zfs")
                    && (target == name || target.starts_with(children) || target.starts_with(snapshots))
            }
        }
    }
}

/// An entry as a journal line.
fn line(entry: &Entry) -> String {
    // Serialising plain strings cannot fail.
    let mut json = serde_json::to_string(entry).unwrap_or_default();
    json.push('\n');
    json
}

impl PendingWrite {
    /// Makes sure this change is on disk: appends what is unwritten (or compacts the file)
    /// unless a write that covers this change has already happened. Blocking: call it from
    /// a blocking thread.
    pub fn write(self) -> Result<(), JournalError> {
        let io = |source| JournalError::Io { path: self.path.clone(), source };
        let mut on_disk = self.shared.file.lock();
        if on_disk.written >= self.generation {
            return Ok(());
        }
        let (generation, bytes, compacted) = {
            let mut entries = self.shared.entries.lock();
            let dead = entries.lines.saturating_sub(entries.live.len());
            let compact = on_disk.append.is_none() || dead > entries.live.len() + COMPACTION_SLACK;
            let lines = if compact {
                entries.unwritten.clear();
                entries.lines = entries.live.len();
                entries.live.iter().map(|(_, json)| json.as_str()).collect::<String>()
            } else {
                std::mem::take(&mut entries.unwritten).concat()
            };
            (entries.generation, lines.into_bytes(), compact)
        };
        if compacted {
            on_disk.append = None;
            write_atomically(&self.path, &bytes).map_err(io)?;
            on_disk.append = Some(File::options().append(true).open(&self.path).map_err(io)?);
        } else if let Some(file) = on_disk.append.as_mut() {
            let appended = file.write_all(&bytes).and_then(|()| file.sync_data());
            if let Err(source) = appended {
                // The file may now end in a partial line: the next write replaces it.
                on_disk.append = None;
                return Err(io(source));
            }
        }
        on_disk.written = generation;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(argv: &[&str], zone: Option<&str>) -> Entry {
        Entry { argv: argv.iter().map(|s| s.to_string()).collect(), stdin: None, zone: zone.map(str::to_string) }
    }

    #[test]
    fn deletions_compact_what_they_undo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.journal");
        let (mut journal, replay) = Journal::open(&path).unwrap();
        assert!(replay.is_empty());
        let steps: &[(&[&str], Option<&str>)] = &[
            (&["/usr/sbin/dladm", "create-vnic", "-t", "-l", "stub0", "a0"], None),
            (&["/usr/sbin/zonecfg", "-z", "z1", "-f", "-"], Some("z1")),
            (&["/usr/sbin/zoneadm", "-z", "z1", "install"], Some("z1")),
            (&["/usr/sbin/zfs", "create", "-p", "rpool/v/z1/a"], None),
            (&["/usr/sbin/zfs", "create", "-p", "rpool/v/z2/a"], None),
            (&["/usr/sbin/zoneadm", "-z", "z1", "uninstall", "-F"], Some("z1")),
            (&["/usr/sbin/zonecfg", "-z", "z1", "delete", "-F"], Some("z1")),
            (&["/usr/sbin/dladm", "delete-vnic", "a0"], None),
            (&["/usr/sbin/zfs", "destroy", "-r", "rpool/v/z1"], None),
        ];
        let mut last = None;
        for (argv, zone) in steps {
            let write = journal.record(entry(argv, *zone));
            last = Some(write);
        }
        last.unwrap().write().unwrap();
        let (_, replay) = Journal::open(&path).unwrap();
        assert_eq!(replay, [entry(&["/usr/sbin/zfs", "create", "-p", "rpool/v/z2/a"], None)]);
    }

    #[test]
    fn an_older_snapshot_never_overwrites_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.journal");
        let (mut journal, _) = Journal::open(&path).unwrap();
        let first = journal.record(entry(&["/usr/sbin/zfs", "create", "a/b"], None));
        let second = journal.record(entry(&["/usr/sbin/zfs", "create", "a/c"], None));
        second.write().unwrap();
        first.write().unwrap();
        assert_eq!(Journal::open(&path).unwrap().1.len(), 2);
        let good = line(&entry(&["/usr/sbin/zfs", "create", "a/b"], None));
        std::fs::write(&path, format!("not json\n{good}")).unwrap();
        assert!(matches!(Journal::open(&path), Err(JournalError::Corrupt { .. })));
        assert!(changes_host(&Operation::zoneadm("boot")));
        assert!(!changes_host(&Operation::zoneadm("list")));
        assert!(!changes_host(&Operation::dladm("show-vnic")));
        assert!(!changes_host(&Operation::zlogin()));
    }

    #[test]
    fn changes_are_appended_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.journal");
        let (mut journal, _) = Journal::open(&path).unwrap();
        journal.record(entry(&["/usr/sbin/zfs", "create", "a/b"], None)).write().unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        journal.record(entry(&["/usr/sbin/zfs", "create", "a/c"], None)).write().unwrap();
        journal.record(entry(&["/usr/sbin/zfs", "destroy", "a/b"], None)).write().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&first), "appended, not rewritten");
        assert_eq!(text.lines().count(), 3, "the deletion is in the file until compaction");
        let (_, replay) = Journal::open(&path).unwrap();
        assert_eq!(replay, [entry(&["/usr/sbin/zfs", "create", "a/c"], None)], "replay holds only what exists");

        // A crash in the middle of an append: the half line was never acknowledged.
        std::fs::write(&path, format!("{text}{{\"argv\":[\"/usr/sbin/zfs\",\"cre")).unwrap();
        let (mut journal, replay) = Journal::open(&path).unwrap();
        assert_eq!(replay.len(), 1);
        // The first write of a process compacts, so the torn line is gone for good.
        journal.record(entry(&["/usr/sbin/zfs", "create", "a/d"], None)).write().unwrap();
        let (_, replay) = Journal::open(&path).unwrap();
        assert_eq!(replay.len(), 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }

    #[test]
    fn a_file_of_mostly_dead_lines_is_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.journal");
        let (mut journal, _) = Journal::open(&path).unwrap();
        journal.record(entry(&["/usr/sbin/zfs", "create", "keep"], None)).write().unwrap();
        let mut most_lines = 0;
        for i in 0..COMPACTION_SLACK {
            journal.record(entry(&["/usr/sbin/zfs", "create", &format!("t{i}")], None)).write().unwrap();
            journal.record(entry(&["/usr/sbin/zfs", "destroy", &format!("t{i}")], None)).write().unwrap();
            most_lines = most_lines.max(std::fs::read_to_string(&path).unwrap().lines().count());
        }
        assert!(most_lines > COMPACTION_SLACK, "appends until the slack is used: {most_lines}");
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines < COMPACTION_SLACK, "compacted: {lines} lines");
        assert_eq!(Journal::open(&path).unwrap().1, [entry(&["/usr/sbin/zfs", "create", "keep"], None)]);
    }

    #[test]
    fn one_write_covers_every_change_recorded_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.journal");
        let (mut journal, _) = Journal::open(&path).unwrap();
        let first = journal.record(entry(&["/usr/sbin/zfs", "create", "a/b"], None));
        let second = journal.record(entry(&["/usr/sbin/zfs", "create", "a/c"], None));
        first.write().unwrap();
        assert_eq!(Journal::open(&path).unwrap().1.len(), 2, "the first write wrote the newest state");
        // The second change is already on disk, so its write does nothing.
        std::fs::write(&path, "").unwrap();
        second.write().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }
}
