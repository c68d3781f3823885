//! W3, watch fan-out: M watchers on the pods of one namespace while a writer creates pods
//! at a fixed rate. Each pod carries its send time, so every watcher measures delivery
//! latency (send to receipt of the ADDED event). It also reports the server's resident
//! memory per open watch, and watchers that were cut off or missed events.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::objects::{SENT_AT, pod, unix_micros};
use crate::report::{Tally, rss_kib};
use crate::target::Target;

pub struct FanOut {
    pub watchers: usize,
    pub rate: f64,
    pub seconds: f64,
    pub namespace: String,
    pub server_pid: Option<u32>,
}

struct Watcher {
    delivery: Tally,
    received: u64,
    cut_off: bool,
}

pub async fn run(target: Arc<Target>, fanout: FanOut) -> anyhow::Result<Value> {
    target.ensure_namespace(&fanout.namespace).await?;
    let pods_path = format!("/api/v1/namespaces/{}/pods", fanout.namespace);
    let list: Value = target.client.get(target.at(&format!("{pods_path}?limit=1"))).send().await?.json().await?;
    let revision = list.pointer("/metadata/resourceVersion").and_then(Value::as_str).context("no list revision")?;
    let rss_before = fanout.server_pid.map(rss_kib).transpose()?;

    let connected = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let url = target.at(&format!("{pods_path}?watch=true&resourceVersion={revision}&timeoutSeconds=3600"));
    let mut watchers = Vec::new();
    for _ in 0..fanout.watchers {
        let (target, url, connected, stop, expected) =
            (target.clone(), url.clone(), connected.clone(), stop.clone(), expected.clone());
        watchers.push(tokio::spawn(async move { watch(&target, &url, &connected, &stop, &expected).await }));
    }
    let connect_deadline = Instant::now() + Duration::from_secs(120);
    while connected.load(Ordering::Relaxed) < fanout.watchers && Instant::now() < connect_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let opened = connected.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_watching = fanout.server_pid.map(rss_kib).transpose()?;

    // The writer: open loop at the given rate, each create its own task.
    let writes = (fanout.rate * fanout.seconds).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / fanout.rate);
    let run_id = format!("{:x}", std::process::id());
    let started = Instant::now();
    let mut creates = Vec::new();
    for n in 0..writes {
        tokio::time::sleep_until((started + interval.mul_f64(n as f64)).into()).await;
        let (target, pods_path, run_id) = (target.clone(), pods_path.clone(), run_id.clone());
        creates.push(tokio::spawn(async move {
            let mut object = pod(&format!("w{run_id}-{n}"));
            object["metadata"]["annotations"][SENT_AT] = json!(unix_micros().to_string());
            let sent = Instant::now();
            match target.client.post(target.at(&pods_path)).json(&object).send().await {
                Ok(r) if r.status() == reqwest::StatusCode::CREATED => Ok(sent.elapsed().as_micros() as u64),
                Ok(r) => Err(r.status().as_u16().to_string()),
                Err(e) => Err(format!("transport: {e}")),
            }
        }));
    }
    let mut create_tally = Tally::default();
    for create in creates {
        match create.await? {
            Ok(micros) => create_tally.record(micros),
            Err(cause) => create_tally.error(cause),
        }
    }
    expected.store(create_tally.count(), Ordering::Relaxed);
    let write_seconds = started.elapsed().as_secs_f64();

    // Give watchers until every event arrived, or 30 s more.
    let drain_deadline = Instant::now() + Duration::from_secs(30);
    while watchers.iter().any(|w| !w.is_finished()) && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut delivery = Tally::default();
    let (mut cut_off, mut incomplete, mut received) = (0, 0, 0);
    for watcher in watchers {
        let watcher = watcher.await?;
        cut_off += usize::from(watcher.cut_off);
        incomplete += usize::from(watcher.received < create_tally.count());
        received += watcher.received;
        delivery.merge(watcher.delivery);
    }
    let per_watcher_kib = match (rss_before, rss_watching) {
        (Some(before), Some(after)) if opened > 0 => json!((after as f64 - before as f64) / opened as f64),
        _ => Value::Null,
    };
    Ok(json!({
        "workload": "W3 watch fan-out", "watchers": fanout.watchers, "watchers_opened": opened,
        "writes": create_tally.count(), "write_rate_achieved": create_tally.count() as f64 / write_seconds,
        "create_latency_ms": create_tally.latency_ms(), "create_errors": create_tally.errors,
        "events_received": received, "events_expected": create_tally.count() * opened as u64,
        "delivery_latency_ms": delivery.latency_ms(),
        "watchers_cut_off": cut_off, "watchers_missing_events": incomplete,
        "server_rss_kib": {"before": rss_before, "with_watchers": rss_watching},
        "server_kib_per_watcher": per_watcher_kib,
    }))
}

/// One watcher: reads the stream line by line and takes the latency of each ADDED event.
async fn watch(
    target: &Target,
    url: &str,
    connected: &AtomicUsize,
    stop: &AtomicBool,
    expected: &AtomicU64,
) -> Watcher {
    let mut watcher = Watcher { delivery: Tally::default(), received: 0, cut_off: false };
    let mut response = match target.client.get(url).timeout(Duration::from_secs(7200)).send().await {
        Ok(r) if r.status().is_success() => r,
        _ => {
            watcher.cut_off = true;
            return watcher;
        }
    };
    connected.fetch_add(1, Ordering::Relaxed);
    let mut buffer = Vec::new();
    while !stop.load(Ordering::Relaxed) && watcher.received < expected.load(Ordering::Relaxed) {
        let chunk = match tokio::time::timeout(Duration::from_millis(500), response.chunk()).await {
            Err(_) => continue,
            Ok(Ok(Some(chunk))) => chunk,
            Ok(_) => {
                watcher.cut_off = true;
                break;
            }
        };
        let now = unix_micros();
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            if line.starts_with(br#"{"type":"ERROR""#) {
                watcher.cut_off = true;
            }
            if !line.starts_with(br#"{"type":"ADDED""#) {
                continue;
            }
            if let Some(sent) = sent_at(&line) {
                watcher.received += 1;
                watcher.delivery.record(now.saturating_sub(sent));
            }
        }
        if watcher.cut_off {
            break;
        }
    }
    watcher
}

/// The send time a writer put in the pod, found without parsing the whole event.
fn sent_at(line: &[u8]) -> Option<u64> {
    let key = format!("\"{SENT_AT}\":\"");
    let start = line.windows(key.len()).position(|w| w == key.as_bytes())? + key.len();
    let digits = line[start..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&line[start..start + digits]).ok()?.parse().ok()
}
