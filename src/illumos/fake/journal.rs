//! Persistence of an emulated host, for `--runtime sim` agents that must survive a restart
//! the way a real host does (its zones, links and datasets outlive the agent). The state is
//! kept as a journal of the commands that changed it; a new `FakeHost` replays the journal
//! (instantly, without faults or durations) to rebuild the same host. The journal is
//! compacted as it goes: deleting a zone, link, address or dataset drops the commands that
//! made it, so the journal holds only what still exists. It is rewritten atomically
//! (temporary file, fsync, rename, fsync of the directory) after each change, before the
//! command's caller sees success; changes that arrive while a write is under way share the
//! next write (group commit), so a thousand concurrent pods do not queue for a thousand
//! fsyncs.

use crate::durable_file::write_atomically;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::control::Operation;
use crate::illumos::profile::Tool;

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

/// What the journal and its writes share. Lock order: `writer` before `entries` (the
/// host's own lock may be held while taking `entries`, never `writer`).
struct Shared {
    /// The entries, each with its JSON line (serialised once), and their generation.
    entries: Mutex<(u64, Vec<(Entry, String)>)>,
    /// Held while writing; the generation on disk.
    writer: Mutex<u64>,
}

/// A change that must be on disk before its command reports success. Writing it writes
/// the newest state, so concurrent changes share one write (group commit).
pub(crate) struct PendingWrite {
    path: PathBuf,
    generation: u64,
    shared: Arc<Shared>,
}

impl Journal {
    /// Reads the journal at `path` (absent means empty).
    pub fn open(path: &Path) -> Result<(Self, Vec<Entry>), JournalError> {
        let io = |source| JournalError::Io { path: path.to_path_buf(), source };
        let entries = match std::fs::read_to_string(path) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|line| {
                    serde_json::from_str::<Entry>(line)
                        .map_err(|e| JournalError::Corrupt { path: path.to_path_buf(), detail: e.to_string() })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        let lines = entries.iter().map(|e| (e.clone(), line(e))).collect();
        let shared = Shared { entries: Mutex::new((0, lines)), writer: Mutex::new(0) };
        let journal = Self { path: path.to_path_buf(), shared: Arc::new(shared) };
        Ok((journal, entries))
    }

    /// Records a successful change, compacting what it undoes; returns the write to make.
    pub fn record(&mut self, entry: Entry, operation: &Operation) -> PendingWrite {
        let last = entry.argv.last().cloned().unwrap_or_default();
        let undone = |e: &Entry| -> bool {
            let program = e.argv.first().map(String::as_str).unwrap_or_default();
            let action = e.argv.get(1).map(String::as_str).unwrap_or_default();
            let target = e.argv.last().map(String::as_str).unwrap_or_default();
            match (operation.tool, operation.action.as_str()) {
                (Tool::Zonecfg, "delete") => e.zone.is_some() && e.zone == entry.zone,
                (Tool::Dladm, "delete-vnic" | "delete-etherstub") => {
                    program.ends_with("dladm") && action.starts_with("create-") && target == last
                }
                (Tool::Ipadm, "delete-addr") => program.ends_with("ipadm") && target == last,
                (Tool::Zfs, "destroy") => {
                    program.ends_with("zfs")
                        && (target == last
                            || target.starts_with(&format!("{last}/"))
                            || target.starts_with(&format!("{last}@")))
                }
                _ => false,
            }
        };
        let mut guard = self.shared.entries.lock();
        let (generation, entries) = &mut *guard;
        let before = entries.len();
        entries.retain(|(e, _)| !undone(e));
        if entries.len() == before {
            let json = line(&entry);
            entries.push((entry, json));
        }
        *generation += 1;
        PendingWrite { path: self.path.clone(), generation: *generation, shared: self.shared.clone() }
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
    /// Makes sure this change is on disk: writes the newest state unless a write that
    /// covers this change has already happened. Blocking: call it from a blocking thread.
    pub fn write(self) -> Result<(), JournalError> {
        let mut written = self.shared.writer.lock();
        if *written >= self.generation {
            return Ok(());
        }
        let (generation, bytes) = {
            let guard = self.shared.entries.lock();
            let mut bytes = Vec::with_capacity(guard.1.iter().map(|(_, json)| json.len()).sum());
            for (_, json) in &guard.1 {
                bytes.extend_from_slice(json.as_bytes());
            }
            (guard.0, bytes)
        };
        write_atomically(&self.path, &bytes).map_err(|source| JournalError::Io { path: self.path.clone(), source })?;
        *written = generation;
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
        let steps: &[(&[&str], Option<&str>, Operation)] = &[
            (&["/usr/sbin/dladm", "create-vnic", "-t", "-l", "stub0", "a0"], None, Operation::dladm("create-vnic")),
            (&["/usr/sbin/zonecfg", "-z", "z1", "-f", "-"], Some("z1"), Operation::zonecfg("script")),
            (&["/usr/sbin/zoneadm", "-z", "z1", "install"], Some("z1"), Operation::zoneadm("install")),
            (&["/usr/sbin/zfs", "create", "-p", "rpool/v/z1/a"], None, Operation::zfs("create")),
            (&["/usr/sbin/zfs", "create", "-p", "rpool/v/z2/a"], None, Operation::zfs("create")),
            (&["/usr/sbin/zoneadm", "-z", "z1", "uninstall", "-F"], Some("z1"), Operation::zoneadm("uninstall")),
            (&["/usr/sbin/zonecfg", "-z", "z1", "delete", "-F"], Some("z1"), Operation::zonecfg("delete")),
            (&["/usr/sbin/dladm", "delete-vnic", "a0"], None, Operation::dladm("delete-vnic")),
            (&["/usr/sbin/zfs", "destroy", "-r", "rpool/v/z1"], None, Operation::zfs("destroy")),
        ];
        let mut last = None;
        for (argv, zone, operation) in steps {
            let write = journal.record(entry(argv, *zone), operation);
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
        let first = journal.record(entry(&["/usr/sbin/zfs", "create", "a/b"], None), &Operation::zfs("create"));
        let second = journal.record(entry(&["/usr/sbin/zfs", "create", "a/c"], None), &Operation::zfs("create"));
        second.write().unwrap();
        first.write().unwrap();
        assert_eq!(Journal::open(&path).unwrap().1.len(), 2);
        std::fs::write(&path, "not json\n").unwrap();
        assert!(matches!(Journal::open(&path), Err(JournalError::Corrupt { .. })));
        assert!(changes_host(&Operation::zoneadm("boot")));
        assert!(!changes_host(&Operation::zoneadm("list")));
        assert!(!changes_host(&Operation::dladm("show-vnic")));
        assert!(!changes_host(&Operation::zlogin()));
    }

    #[test]
    fn one_write_covers_every_change_recorded_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.journal");
        let (mut journal, _) = Journal::open(&path).unwrap();
        let first = journal.record(entry(&["/usr/sbin/zfs", "create", "a/b"], None), &Operation::zfs("create"));
        let second = journal.record(entry(&["/usr/sbin/zfs", "create", "a/c"], None), &Operation::zfs("create"));
        first.write().unwrap();
        assert_eq!(Journal::open(&path).unwrap().1.len(), 2, "the first write wrote the newest state");
        // The second change is already on disk, so its write does nothing.
        std::fs::write(&path, "").unwrap();
        second.write().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }
}
