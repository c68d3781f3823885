//! The durable backend, on sled 0.34.7 (pinned; see `reference/design-notes.md` §2).
//!
//! One tree, three key spaces, so that one `apply_batch` commits a whole group atomically:
//!
//! | key | value |
//! |---|---|
//! | `m:rev`, `m:compacted`, `m:schema` | big-endian u64 |
//! | `r` + revision (big-endian u64) + index (big-endian u32) | 0 = put or 1 = delete, then the object key |
//! | `v` + object key + `\0` + revision | the encoded object written at that revision |
//!
//! sled's background flusher is off (`flush_every_ms(None)`), as it is on illumos anyway:
//! [`Backend::commit`] calls `flush()` and returns only when the batch is on disk. We never
//! use `generate_id` (it jumps after a crash) or `watch_prefix` (a slow subscriber blocks
//! writers).

use std::path::Path;

use bytes::Bytes;

use super::backend::{Backend, CommitBatch, LoadedState, LogPosition, Removal};
use super::{Revision, StoreError};

const SCHEMA: u64 = 1;
const META_REVISION: &[u8] = b"m:rev";
const META_COMPACTED: &[u8] = b"m:compacted";
const META_SCHEMA: &[u8] = b"m:schema";
const LOG: u8 = b'r';
const VERSION: u8 = b'v';

/// A sled database holding the store.
pub struct SledBackend {
    db: sled::Db,
}

fn backend_error(context: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("{context}: {err}"))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt store: {what}"))
}

impl SledBackend {
    /// Opens (or creates) the database in `dir`. sled locks its files; a previous owner
    /// that is still shutting down (a restart under SMF, or a store reopened in the same
    /// process) may hold the lock for a moment, so a busy lock is retried for a while.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        const LOCK_RETRIES: u32 = 100;
        let mut attempt = 0;
        loop {
            let opened = sled::Config::new().path(dir).flush_every_ms(None).cache_capacity(64 * 1024 * 1024).open();
            match opened {
                Ok(db) => return Ok(Self { db }),
                // sled reports a busy lock as an `Other` IO error with this text.
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock") && attempt < LOCK_RETRIES =>
                {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(backend_error(&format!("opening {}", dir.display()), e)),
            }
        }
    }

    fn meta(&self, name: &[u8]) -> Result<Option<u64>, StoreError> {
        match self.db.get(name).map_err(|e| backend_error("reading metadata", e))? {
            Some(v) => Ok(Some(read_u64(&v)?)),
            None => Ok(None),
        }
    }
}

fn log_key(position: LogPosition) -> [u8; 13] {
    let mut key = [LOG; 13];
    key[1..9].copy_from_slice(&position.revision.to_be_bytes());
    key[9..].copy_from_slice(&position.index.to_be_bytes());
    key
}

fn version_key(key: &str, revision: Revision) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 10);
    out.push(VERSION);
    out.extend_from_slice(key.as_bytes());
    out.push(0);
    out.extend_from_slice(&revision.to_be_bytes());
    out
}

fn read_u64(bytes: &[u8]) -> Result<u64, StoreError> {
    Ok(u64::from_be_bytes(bytes.try_into().map_err(|_| corrupt("bad integer"))?))
}

fn utf8(bytes: &[u8]) -> Result<&str, StoreError> {
    std::str::from_utf8(bytes).map_err(|_| corrupt("key is not UTF-8"))
}

impl Backend for SledBackend {
    fn load(&mut self) -> Result<LoadedState, StoreError> {
        match self.meta(META_SCHEMA)? {
            None => {
                self.db.insert(META_SCHEMA, &SCHEMA.to_be_bytes()).map_err(|e| backend_error("writing schema", e))?;
                self.db.flush().map_err(|e| backend_error("flushing", e))?;
            }
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(StoreError::Backend(format!("unsupported store schema {other}; expected {SCHEMA}")));
            }
        }
        let mut state = LoadedState {
            revision: self.meta(META_REVISION)?.unwrap_or(0),
            compacted: self.meta(META_COMPACTED)?.unwrap_or(0),
            ..LoadedState::default()
        };
        for entry in self.db.scan_prefix([VERSION]) {
            let (k, v) = entry.map_err(|e| backend_error("scanning versions", e))?;
            let body = &k[1..];
            if body.len() < 9 || body[body.len() - 9] != 0 {
                return Err(corrupt("malformed version key"));
            }
            let key = utf8(&body[..body.len() - 9])?;
            let revision = read_u64(&body[body.len() - 8..])?;
            state.versions.entry(key.to_string()).or_default().insert(revision, Bytes::copy_from_slice(&v));
        }
        for entry in self.db.scan_prefix([LOG]) {
            let (k, v) = entry.map_err(|e| backend_error("scanning the log", e))?;
            if k.len() != 13 {
                return Err(corrupt("malformed log key"));
            }
            let position = LogPosition {
                revision: read_u64(&k[1..9])?,
                index: u32::from_be_bytes(k[9..13].try_into().expect("length checked")),
            };
            let (&kind, key) = v.split_first().ok_or_else(|| corrupt("empty log record"))?;
            state.log.push((position, utf8(key)?.to_string(), kind == 1));
        }
        Ok(state)
    }

    fn commit(&mut self, batch: &CommitBatch) -> Result<(), StoreError> {
        let mut sled_batch = sled::Batch::default();
        for write in &batch.writes {
            let mut record = Vec::with_capacity(write.key.len() + 1);
            record.push(u8::from(write.value.is_none()));
            record.extend_from_slice(write.key.as_bytes());
            sled_batch.insert(&log_key(write.position), record);
            if let Some(value) = &write.value {
                sled_batch.insert(version_key(&write.key, write.position.revision), value.as_ref());
            }
        }
        for removal in &batch.removals {
            match removal {
                Removal::Log(position) => sled_batch.remove(&log_key(*position)),
                Removal::Version { key, revision } => sled_batch.remove(version_key(key, *revision)),
            }
        }
        sled_batch.insert(META_REVISION, &batch.revision.to_be_bytes());
        sled_batch.insert(META_COMPACTED, &batch.compacted.to_be_bytes());
        self.db.apply_batch(sled_batch).map_err(|e| backend_error("committing", e))?;
        self.db.flush().map_err(|e| backend_error("flushing", e))?;
        Ok(())
    }

    fn close(&mut self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(|e| backend_error("flushing on close", e))
    }
}
