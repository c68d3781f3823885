//! `etcd-peer`: N durable puts of one JSON document (each under its own key) into etcd
//! from C concurrent clients, each on its own gRPC connection, with latency in an HDR
//! histogram. It prints one JSON line shaped like `reddwarf-bench store-put`'s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:2379")]
    endpoint: String,
    /// The JSON document to put.
    #[arg(long)]
    document: std::path::PathBuf,
    #[arg(long, default_value_t = 16)]
    clients: usize,
    #[arg(long, default_value_t = 5000)]
    count: u64,
    /// A key prefix unique to this run.
    #[arg(long, default_value = "/registry/pods/default/")]
    prefix: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&args.document)?)?;
    let next = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..args.clients {
        clients.push(etcd_client::Client::connect([args.endpoint.as_str()], None).await.context("connecting to etcd")?);
    }
    let started = Instant::now();
    let mut writers = Vec::new();
    for mut client in clients {
        let (next, document, prefix, count) = (next.clone(), document.clone(), args.prefix.clone(), args.count);
        writers.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("valid bounds");
            let mut errors = 0u64;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return (latency, errors);
                }
                let name = format!("pod-{n}");
                let mut object = document.clone();
                object["metadata"]["name"] = json!(name);
                let value = serde_json::to_vec(&object).expect("JSON serializes");
                let sent = Instant::now();
                match client.put(format!("{prefix}{name}"), value, None).await {
                    Ok(_) => latency.record((sent.elapsed().as_micros() as u64).max(1)).expect("in bounds"),
                    Err(_) => errors += 1,
                }
            }
        }));
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut errors = 0;
    for writer in writers {
        let (h, e) = writer.await?;
        latency.add(h)?;
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    let ms = |v: u64| v as f64 / 1000.0;
    println!(
        "{}",
        json!({
            "system": "etcd", "clients": args.clients, "count": latency.len(), "seconds": seconds,
            "ops_per_second": latency.len() as f64 / seconds,
            "latency_ms": {"p50": ms(latency.value_at_quantile(0.5)), "p90": ms(latency.value_at_quantile(0.9)),
                "p99": ms(latency.value_at_quantile(0.99)), "max": ms(latency.max())},
            "errors": errors,
        })
    );
    Ok(())
}
