//! What a workload measured: latencies in an HDR histogram, errors counted by cause, and
//! readings of the server process (resident memory, CPU time) from `/proc`.

use std::collections::BTreeMap;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Latencies (microseconds) and errors of one worker, or of all of them merged.
#[derive(Default)]
pub struct Tally {
    latency_us: Option<Histogram<u64>>,
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    pub fn record(&mut self, micros: u64) {
        self.histogram().record(micros.max(1)).ok();
    }

    pub fn error(&mut self, cause: impl Into<String>) {
        *self.errors.entry(cause.into()).or_default() += 1;
    }

    /// Counts a failed HTTP exchange by status code, or by transport error.
    pub fn failed(&mut self, result: Result<reqwest::StatusCode, &reqwest::Error>) {
        match result {
            Ok(status) => self.error(status.as_u16().to_string()),
            Err(e) => self.error(format!("transport: {}", without_url(e))),
        }
    }

    pub fn merge(&mut self, other: Tally) {
        if let Some(h) = other.latency_us {
            self.histogram().add(h).expect("histograms with equal bounds");
        }
        for (cause, n) in other.errors {
            *self.errors.entry(cause).or_default() += n;
        }
    }

    pub fn count(&self) -> u64 {
        self.latency_us.as_ref().map_or(0, Histogram::len)
    }

    /// p50, p90, p99 and max in milliseconds.
    pub fn latency_ms(&self) -> Value {
        let Some(h) = &self.latency_us else { return Value::Null };
        let ms = |v: u64| v as f64 / 1000.0;
        json!({
            "p50": ms(h.value_at_quantile(0.50)), "p90": ms(h.value_at_quantile(0.90)),
            "p99": ms(h.value_at_quantile(0.99)), "max": ms(h.max()),
        })
    }

    fn histogram(&mut self) -> &mut Histogram<u64> {
        self.latency_us.get_or_insert_with(|| Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"))
    }
}

/// The error and its causes, without the URL (which differs per object).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timeout".to_string()
    } else if error.is_connect() {
        "connect".to_string()
    } else {
        "request".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// A process's resident set size, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading the server's /proc status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc status")
}

/// A process's user plus system CPU time, in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("reading the server's /proc stat")?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields.get(11).context("no utime")?.parse::<u64>()? + fields.get(12).context("no stime")?.parse::<u64>()?;
    Ok(ticks as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
