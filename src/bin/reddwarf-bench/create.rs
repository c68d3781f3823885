//! W1, create throughput: N pod creates from C concurrent clients, either closed-loop (each
//! client sends when its last answer arrives) or open-loop at a fixed total rate, where
//! latency counts from when a request was due, so a slow server cannot hide its queue.
//! Other workloads reuse it to load pods, and W6 reads the names it acknowledged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::objects::pod;
use crate::report::Tally;
use crate::target::Target;

/// The shape of one create run.
#[derive(Clone)]
pub struct CreateLoad {
    pub clients: usize,
    pub count: u64,
    /// Total arrivals per second; 0 means as fast as the server answers.
    pub rate: f64,
    pub namespace: String,
    /// Pod names are `{prefix}-{n}`.
    pub prefix: String,
}

/// What a run did.
pub struct CreateOutcome {
    pub tally: Tally,
    pub seconds: f64,
    /// Every name the server answered 201 for, in the order the answers came.
    pub acknowledged: Arc<Mutex<Vec<String>>>,
}

impl CreateOutcome {
    pub fn report(&self, load: &CreateLoad) -> Value {
        json!({
            "workload": "W1 create", "clients": load.clients, "requested": load.count,
            "created": self.tally.count(), "seconds": self.seconds,
            "pods_per_second": self.tally.count() as f64 / self.seconds,
            "latency_ms": self.tally.latency_ms(), "errors": self.tally.errors,
        })
    }
}

/// Runs the load until `count` creates were attempted, or `stop` is set.
pub async fn run(target: Arc<Target>, load: &CreateLoad, stop: Arc<std::sync::atomic::AtomicBool>) -> CreateOutcome {
    let next = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let interval = (load.rate > 0.0).then(|| Duration::from_secs_f64(load.clients as f64 / load.rate));
    let mut workers = Vec::new();
    for client in 0..load.clients {
        let (target, next, load, stop, acknowledged) =
            (target.clone(), next.clone(), load.clone(), stop.clone(), acknowledged.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let url = target.at(&format!("/api/v1/namespaces/{}/pods", load.namespace));
            // Open-loop clients start spread over one interval, not all at once.
            let mut due =
                Instant::now() + interval.map_or(Duration::ZERO, |i| i.mul_f64(client as f64 / load.clients as f64));
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= load.count || stop.load(Ordering::Relaxed) {
                    break;
                }
                match interval {
                    Some(_) => tokio::time::sleep_until(due.into()).await,
                    None => due = Instant::now(),
                }
                let name = format!("{}-{n}", load.prefix);
                let result = target.client.post(&url).json(&pod(&name)).send().await;
                let elapsed = due.elapsed().as_micros() as u64;
                match result {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        if r.bytes().await.is_ok() {
                            tally.record(elapsed);
                            acknowledged.lock().expect("not poisoned").push(name);
                        } else {
                            tally.error("body cut off");
                        }
                    }
                    Ok(r) => tally.failed(Ok(r.status())),
                    Err(e) => tally.failed(Err(&e)),
                }
                if let Some(interval) = interval {
                    due += interval;
                }
            }
            tally
        }));
    }
    let mut tally = Tally::default();
    for worker in workers {
        tally.merge(worker.await.expect("a create worker does not panic"));
    }
    CreateOutcome { tally, seconds: started.elapsed().as_secs_f64(), acknowledged }
}
