#![allow(clippy::disallowed_methods, reason = "a benchmark measures real elapsed time")]
//! Durable commit throughput of the store: N concurrent writers creating realistic pod
//! objects (about 3 KB of JSON) through a sled-backed store, where every acknowledged
//! write has been flushed. Criterion reports the rate as elements (commits) per second.
//!
//! `cargo bench --bench store`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use reddwarf::api::registry::RegistryAttrs;
use reddwarf::store::sled_backend::SledBackend;
use reddwarf::store::{Store, StoreConfig};
use serde_json::{Value, json};

/// A pod about the size of a real one after defaulting (~3 KB of compact JSON), the same
/// document W7 writes into etcd (`bench/w7-storage.sh`).
fn realistic_pod(name: &str) -> Value {
    let mut pod: Value = serde_json::from_str(include_str!("../bench/pod-3k.json")).expect("valid JSON");
    pod["metadata"]["name"] = json!(name);
    pod
}

fn durable_commits(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("store_durable_commits");
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    const PER_ITERATION: u64 = 1024;
    group.throughput(Throughput::Elements(PER_ITERATION));
    for writers in [1u64, 16, 64] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            Box::new(SledBackend::open(dir.path()).unwrap()),
            RegistryAttrs::shared(),
            StoreConfig::default(),
        )
        .unwrap();
        let sequence = Arc::new(AtomicU64::new(0));
        group.bench_function(BenchmarkId::new("writers", writers), |b| {
            b.to_async(&runtime).iter_custom(|iterations| {
                let store = store.clone();
                let sequence = sequence.clone();
                async move {
                    let started = Instant::now();
                    for _ in 0..iterations {
                        let mut tasks = Vec::new();
                        for _ in 0..writers {
                            let store = store.clone();
                            let sequence = sequence.clone();
                            tasks.push(tokio::spawn(async move {
                                for _ in 0..PER_ITERATION / writers {
                                    let n = sequence.fetch_add(1, Ordering::Relaxed);
                                    let name = format!("pod-{n}");
                                    store
                                        .create(format!("/registry/pods/default/{name}"), realistic_pod(&name))
                                        .await
                                        .unwrap();
                                }
                            }));
                        }
                        for task in tasks {
                            task.await.unwrap();
                        }
                    }
                    started.elapsed()
                }
            })
        });
        store.close();
    }
    group.finish();
}

criterion_group!(benches, durable_commits);
criterion_main!(benches);
