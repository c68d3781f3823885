//! The `--sim-*` flags as text, so a test can shape a separate agent's emulated host:
//!
//! - a fault: `zoneadm install=fail:1` (the next call fails with exit 1 and a zoneadm-like
//!   message), `zoneadm install=fail:2:1:some stderr text`, `zoneadm shutdown=hang:1` (the
//!   next call never finishes; its timeout kills it), optionally for one zone:
//!   `zoneadm boot@default_web=fail:1`;
//! - a duration: `zoneadm install=2s` (every such call takes that long).

use std::time::Duration;

use super::FakeHost;
use super::control::Operation;
use crate::illumos::profile::Tool;

/// Why a setting does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid sim setting '{text}': {reason}")]
pub struct SettingsError {
    /// The setting.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

fn error(text: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError { text: text.to_string(), reason: reason.into() }
}

/// `zoneadm install[@ZONE]` → the operation and the zone.
fn operation(text: &str, head: &str) -> Result<(Operation, Option<String>), SettingsError> {
    let (head, zone) = match head.split_once('@') {
        Some((head, zone)) => (head, Some(zone.trim().to_string())),
        None => (head, None),
    };
    let mut words = head.split_whitespace();
    let (Some(tool), Some(action), None) = (words.next(), words.next(), words.next()) else {
        return Err(error(text, "expected 'TOOL ACTION', such as 'zoneadm install'"));
    };
    let tool = Tool::ALL.into_iter().find(|t| t.name() == tool).ok_or_else(|| error(text, "unknown tool"))?;
    Ok((Operation::new(tool, action), zone))
}

/// Applies a fault setting (`TOOL ACTION[@ZONE]=fail:N[:EXIT[:STDERR]]` or `=hang:N`).
pub fn apply_fault(host: &FakeHost, text: &str) -> Result<(), SettingsError> {
    let (head, fault) = text.split_once('=').ok_or_else(|| error(text, "expected OPERATION=FAULT"))?;
    let (operation, zone) = operation(text, head)?;
    let mut parts = fault.splitn(4, ':');
    let kind = parts.next().unwrap_or_default();
    let count: u32 = parts.next().unwrap_or("1").parse().map_err(|_| error(text, "the count is not a number"))?;
    match kind {
        "fail" => {
            let exit_code: i32 =
                parts.next().unwrap_or("1").parse().map_err(|_| error(text, "the exit code is not a number"))?;
            let default = format!("{}: injected failure (sim setting)", operation.tool.name());
            let stderr = parts.next().map_or(default, str::to_string);
            match zone {
                Some(zone) => host.fail_next_for_zone(operation, &zone, count, exit_code, &stderr),
                None => host.fail_next(operation, count, exit_code, &stderr),
            }
        }
        "hang" if zone.is_none() => host.hang_next(operation, count),
        "hang" => return Err(error(text, "hang faults apply to every zone")),
        _ => return Err(error(text, "the fault is 'fail' or 'hang'")),
    }
    Ok(())
}

/// Applies a duration setting (`TOOL ACTION=DURATION`).
pub fn apply_duration(host: &FakeHost, text: &str) -> Result<(), SettingsError> {
    let (head, duration) = text.split_once('=').ok_or_else(|| error(text, "expected OPERATION=DURATION"))?;
    let (operation, zone) = operation(text, head)?;
    if zone.is_some() {
        return Err(error(text, "durations apply to every zone"));
    }
    let duration: Duration = humantime::parse_duration(duration.trim()).map_err(|e| error(text, e.to_string()))?;
    host.set_duration(operation, duration);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::illumos::exec::{CommandSpec, Executor};

    #[tokio::test]
    async fn faults_and_durations_parse_and_apply() {
        let host = FakeHost::new();
        apply_fault(&host, "zoneadm list=fail:1:3:boom").unwrap();
        let list = || CommandSpec::new("/usr/sbin/zoneadm").args(["list", "-cip"]);
        let output = host.run(list()).await.unwrap();
        assert_eq!((output.exit_code, output.stderr.as_str()), (3, "boom\n"));
        assert!(host.run(list()).await.unwrap().success());
        apply_fault(&host, "zoneadm list=fail:1").unwrap();
        assert_eq!(host.run(list()).await.unwrap().stderr, "zoneadm: injected failure (sim setting)\n");
        apply_duration(&host, "zoneadm install=2s").unwrap();
        for bad in ["zoneadm=fail:1", "nope install=fail:1", "zoneadm install=explode:1", "zoneadm install=fail:x"] {
            assert!(apply_fault(&host, bad).is_err(), "{bad}");
        }
        assert!(apply_duration(&host, "zoneadm install=soon").is_err());
        assert!(apply_fault(&host, "zoneadm shutdown@z=hang:1").is_err());
        apply_fault(&host, "zoneadm boot@default_web=fail:1").unwrap();
    }
}
