//! W7's Reddwarf side: durable creates straight into Reddwarf's store (sled backend, group
//! commit, flushed before each acknowledgement), in process, the way the API server uses
//! it. `bench/w7-storage.sh` alternates this with etcd puts of the same document.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use reddwarf::api::registry::RegistryAttrs;
use reddwarf::store::sled_backend::SledBackend;
use reddwarf::store::{Store, StoreConfig};
use serde_json::{Value, json};

use crate::report::Tally;

/// `count` creates of `document` (renamed per key) from `clients` concurrent writers into a
/// fresh store under `data_dir`.
pub async fn store_puts(data_dir: &Path, document: &Value, clients: usize, count: u64) -> anyhow::Result<Value> {
    anyhow::ensure!(
        !data_dir.exists() || std::fs::read_dir(data_dir)?.next().is_none(),
        "{} must be empty: each run starts from a fresh store",
        data_dir.display()
    );
    let backend = SledBackend::open(data_dir).context("opening sled")?;
    let store = Store::open(Box::new(backend), RegistryAttrs::shared(), StoreConfig::default())?;
    let next = Arc::new(AtomicU64::new(0));
    let document = Arc::new(document.clone());
    let started = Instant::now();
    let mut writers = Vec::new();
    for _ in 0..clients {
        let (store, next, document) = (store.clone(), next.clone(), document.clone());
        writers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return tally;
                }
                let name = format!("pod-{n}");
                let mut object = (*document).clone();
                object["metadata"]["name"] = json!(name);
                let sent = Instant::now();
                match store.create(format!("/registry/pods/default/{name}"), object).await {
                    Ok(_) => tally.record(sent.elapsed().as_micros() as u64),
                    Err(e) => tally.error(e.to_string()),
                }
            }
        }));
    }
    let mut tally = Tally::default();
    for writer in writers {
        tally.merge(writer.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    store.close();
    Ok(json!({
        "system": "reddwarf-store", "clients": clients, "count": tally.count(), "seconds": seconds,
        "ops_per_second": tally.count() as f64 / seconds, "latency_ms": tally.latency_ms(), "errors": tally.errors,
    }))
}
