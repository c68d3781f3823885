//! zoneadm(8): builders for the lifecycle subcommands (install, clone, boot, shutdown,
//! halt, ready, uninstall, list) and the parser of `zoneadm list -p` output, including the
//! 7-field (illumos-gate) and 8-field (OmniOS, SmartOS) forms and `\:` escapes in
//! zonepaths (reference §2.3). Pure: nothing here runs a command.

use std::fmt;

use crate::illumos::exec::CommandSpec;
use crate::illumos::profile::{PlatformProfile, Tool};
use crate::logic::naming;

/// stderr of `install`/`clone` on a zone that is already installed (reference §2.4).
pub const ALREADY_INSTALLED: &str = "is already installed";
/// stderr of `uninstall` on a zone that is only configured.
pub const ALREADY_CONFIGURED: &str = "is already in state 'configured'";
/// stderr of `reboot` (and, `[verify]`, `shutdown`) on a zone that is not running.
pub const NOT_RUNNING: &str = "not running";

/// Why a zoneadm command could not be built or its output parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZoneadmError {
    /// The zone name breaks the zonecfg rules.
    #[error(transparent)]
    InvalidName(#[from] naming::NameError),
    /// A `list -p` line does not have the documented shape.
    #[error("cannot parse zoneadm list line {line} '{text}': {detail}")]
    List {
        /// The 1-based line number.
        line: usize,
        /// The line.
        text: String,
        /// What was wrong.
        detail: String,
    },
}

/// A zone state (reference §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZoneState {
    /// Configuration exists, nothing installed.
    Configured,
    /// Install, clone or uninstall in progress or failed; recover with `uninstall -F`.
    Incomplete,
    /// Installed, not running.
    Installed,
    /// Kernel zone exists, no processes.
    Ready,
    /// Booted.
    Running,
    /// Halting or shutting down.
    ShuttingDown,
    /// Processes gone, kernel resources being released.
    Down,
    /// Scratch-mounted for package operations.
    Mounted,
}

impl ZoneState {
    /// The word zoneadm prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneState::Configured => "configured",
            ZoneState::Incomplete => "incomplete",
            ZoneState::Installed => "installed",
            ZoneState::Ready => "ready",
            ZoneState::Running => "running",
            ZoneState::ShuttingDown => "shutting_down",
            ZoneState::Down => "down",
            ZoneState::Mounted => "mounted",
        }
    }

    /// Parses the word zoneadm prints.
    pub fn parse(word: &str) -> Option<ZoneState> {
        Some(match word {
            "configured" => ZoneState::Configured,
            "incomplete" => ZoneState::Incomplete,
            "installed" => ZoneState::Installed,
            "ready" => ZoneState::Ready,
            "running" => ZoneState::Running,
            "shutting_down" => ZoneState::ShuttingDown,
            "down" => ZoneState::Down,
            "mounted" => ZoneState::Mounted,
            _ => return None,
        })
    }

    /// States a zone passes through on its own; callers should wait and look again.
    pub fn is_transitional(self) -> bool {
        matches!(self, ZoneState::Incomplete | ZoneState::ShuttingDown | ZoneState::Down | ZoneState::Mounted)
    }

    /// The zone has a kernel instance (and a zone id).
    pub fn has_kernel_zone(self) -> bool {
        matches!(
            self,
            ZoneState::Ready | ZoneState::Running | ZoneState::ShuttingDown | ZoneState::Down | ZoneState::Mounted
        )
    }
}

impl fmt::Display for ZoneState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `ip-type` as `list -p` prints it: `excl` or `shared`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListedIpType {
    /// `excl`.
    Exclusive,
    /// `shared`.
    Shared,
}

/// One line of `zoneadm list -p`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneEntry {
    /// The zone id; `None` (`-`) when the zone has no kernel instance.
    pub id: Option<u32>,
    /// The zone name.
    pub name: String,
    /// The state.
    pub state: ZoneState,
    /// The zonepath, unescaped.
    pub zonepath: String,
    /// The uuid; `None` until the zone is installed.
    pub uuid: Option<String>,
    /// The brand.
    pub brand: String,
    /// The IP type.
    pub ip_type: ListedIpType,
    /// OmniOS/SmartOS 8th field; its meaning is `[verify]`.
    pub debug_id: Option<String>,
}

/// Parses `zoneadm list -p` (any of `-cp`, `-cip`, `-z ZONE list -p`) output. Fields
/// beyond the 8th are ignored, as the man page asks.
pub fn parse_zone_list(text: &str) -> Result<Vec<ZoneEntry>, ZoneadmError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| parse_zone_line(i + 1, line))
        .collect()
}

fn parse_zone_line(number: usize, line: &str) -> Result<ZoneEntry, ZoneadmError> {
    let error = |detail: String| ZoneadmError::List { line: number, text: line.to_string(), detail };
    let fields = split_escaped(line);
    if fields.len() < 7 {
        return Err(error(format!("expected at least 7 ':'-separated fields, found {}", fields.len())));
    }
    let id = match fields[0].as_str() {
        "-" => None,
        text => Some(text.parse().map_err(|_| error(format!("bad zone id '{text}'")))?),
    };
    let state = ZoneState::parse(&fields[2]).ok_or_else(|| error(format!("unknown state '{}'", fields[2])))?;
    let ip_type = match fields[6].as_str() {
        "excl" => ListedIpType::Exclusive,
        "shared" => ListedIpType::Shared,
        other => return Err(error(format!("unknown ip-type '{other}'"))),
    };
    Ok(ZoneEntry {
        id,
        name: fields[1].clone(),
        state,
        zonepath: fields[3].clone(),
        uuid: Some(fields[4].clone()).filter(|u| !u.is_empty()),
        brand: fields[5].clone(),
        ip_type,
        debug_id: fields.get(7).cloned(),
    })
}

/// Splits on `:` except `\:`, which becomes a literal colon (zoneadm escapes nothing else).
fn split_escaped(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&':') => {
                chars.next();
                fields.last_mut().expect("never empty").push(':');
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

/// Where `install` gets the zone's files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum InstallSource {
    /// From the global zone's package publishers (ipkg, lipkg, sparse, pkgsrc; bhyve).
    #[default]
    Publishers,
    /// An lx root-filesystem tarball: `install -t FILE`.
    Tarball(String),
    /// A ZFS send stream, dataset or snapshot: `install -s SOURCE`.
    ZfsSource(String),
}

/// `zoneadm -z ZONE list -p`: one zone whatever its state.
pub fn list_zone(profile: &PlatformProfile, zone: &str) -> Result<CommandSpec, ZoneadmError> {
    zone_command(profile, zone, &["list", "-p"])
}

/// `zoneadm list -cip`: every zone, the global zone included.
pub fn list_all(profile: &PlatformProfile) -> CommandSpec {
    profile.command(Tool::Zoneadm).args(["list", "-cip"])
}

/// `zoneadm -z ZONE install [-t FILE | -s SOURCE]`.
pub fn install(profile: &PlatformProfile, zone: &str, source: &InstallSource) -> Result<CommandSpec, ZoneadmError> {
    let spec = zone_command(profile, zone, &["install"])?;
    Ok(match source {
        InstallSource::Publishers => spec,
        InstallSource::Tarball(file) => spec.args(["-t", file]),
        InstallSource::ZfsSource(source) => spec.args(["-s", source]),
    })
}

/// `zoneadm -z ZONE clone [-s SNAPSHOT] SOURCE_ZONE`.
pub fn clone(
    profile: &PlatformProfile,
    zone: &str,
    source: &str,
    snapshot: Option<&str>,
) -> Result<CommandSpec, ZoneadmError> {
    naming::check_zone_name(source)?;
    let spec = zone_command(profile, zone, &["clone"])?;
    let spec = match snapshot {
        Some(snapshot) => spec.args(["-s", snapshot]),
        None => spec,
    };
    Ok(spec.arg(source))
}

/// `zoneadm -z ZONE boot`.
pub fn boot(profile: &PlatformProfile, zone: &str) -> Result<CommandSpec, ZoneadmError> {
    zone_command(profile, zone, &["boot"])
}

/// `zoneadm -z ZONE ready`.
pub fn ready(profile: &PlatformProfile, zone: &str) -> Result<CommandSpec, ZoneadmError> {
    zone_command(profile, zone, &["ready"])
}

/// `zoneadm -z ZONE shutdown`: graceful; runs the zone's shutdown scripts.
pub fn shutdown(profile: &PlatformProfile, zone: &str) -> Result<CommandSpec, ZoneadmError> {
    zone_command(profile, zone, &["shutdown"])
}

/// `zoneadm -z ZONE halt`: immediate.
pub fn halt(profile: &PlatformProfile, zone: &str) -> Result<CommandSpec, ZoneadmError> {
    zone_command(profile, zone, &["halt"])
}

/// `zoneadm -z ZONE uninstall -F` (`-F` because stdin is not a terminal).
pub fn uninstall(profile: &PlatformProfile, zone: &str) -> Result<CommandSpec, ZoneadmError> {
    zone_command(profile, zone, &["uninstall", "-F"])
}

fn zone_command(profile: &PlatformProfile, zone: &str, rest: &[&str]) -> Result<CommandSpec, ZoneadmError> {
    naming::check_zone_name(zone)?;
    Ok(profile.command(Tool::Zoneadm).args(["-z", zone]).args(rest.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OmniOS 8-field form, from the reference (§2.3).
    const OMNIOS: &str = "0:global:running:/::ipkg:shared:0
42:cube-media:running:/zones/cube-media:c624d04f-d0d9-e1e6-822e-acebc78ec9ff:lipkg:excl:128
44:cube-ws:installed:/zones/cube-ws:0f9c56f4-9810-6d45-f801-d34bf27cc13f:pkgsrc:excl:179
";

    /// illumos-gate 7-field form, from the reference (§2.3).
    const GATE: &str = "0:global:running:/::ipkg:shared
-:k8s_web2:installed:/zones/k8s_web2:8c1d0f4e-0b55-6a1f-9a0e-3f1b2c3d4e5f:sparse:excl
-:k8s_web3:configured:/zones/k8s_web3::sparse:excl
";

    #[test]
    fn parses_the_omnios_form() {
        let zones = parse_zone_list(OMNIOS).unwrap();
        assert_eq!(zones.len(), 3);
        assert_eq!(zones[0].name, "global");
        assert_eq!(zones[0].uuid, None);
        assert_eq!(zones[0].ip_type, ListedIpType::Shared);
        assert_eq!(
            zones[1],
            ZoneEntry {
                id: Some(42),
                name: "cube-media".into(),
                state: ZoneState::Running,
                zonepath: "/zones/cube-media".into(),
                uuid: Some("c624d04f-d0d9-e1e6-822e-acebc78ec9ff".into()),
                brand: "lipkg".into(),
                ip_type: ListedIpType::Exclusive,
                debug_id: Some("128".into()),
            }
        );
        assert_eq!(zones[2].state, ZoneState::Installed);
    }

    #[test]
    fn parses_the_gate_form() {
        let zones = parse_zone_list(GATE).unwrap();
        assert_eq!(zones[1].id, None);
        assert_eq!(zones[1].debug_id, None);
        assert_eq!(zones[2].state, ZoneState::Configured);
        assert_eq!(zones[2].uuid, None);
        assert_eq!(zones[2].brand, "sparse");
    }

    #[test]
    fn unescapes_colons_and_ignores_extra_fields() {
        let zones = parse_zone_list("7:odd:ready:/zones/a\\:b\\:c:u-1:lx:excl:9:future:fields\n").unwrap();
        assert_eq!(zones[0].zonepath, "/zones/a:b:c");
        assert_eq!(zones[0].brand, "lx");
        assert_eq!(zones[0].debug_id.as_deref(), Some("9"));
        let backslash = parse_zone_list("-:z:installed:/zones/a\\b:u:lipkg:excl\n").unwrap();
        assert_eq!(backslash[0].zonepath, "/zones/a\\b");
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            "-:z:installed:/zones/z:u:lipkg",
            "x:z:installed:/z:u:lipkg:excl",
            "-:z:frozen:/z:u:lipkg:excl",
            "-:z:installed:/z:u:lipkg:exclusive",
        ] {
            assert!(parse_zone_list(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_zone_list("\n").unwrap(), []);
    }

    #[test]
    fn states_round_trip() {
        for state in [
            ZoneState::Configured,
            ZoneState::Incomplete,
            ZoneState::Installed,
            ZoneState::Ready,
            ZoneState::Running,
            ZoneState::ShuttingDown,
            ZoneState::Down,
            ZoneState::Mounted,
        ] {
            assert_eq!(ZoneState::parse(state.as_str()), Some(state));
        }
    }

    #[test]
    fn builders() {
        let p = PlatformProfile::omnios();
        let argv = |spec: Result<CommandSpec, ZoneadmError>| spec.unwrap().args;
        assert_eq!(list_all(&p).argv(), ["/usr/sbin/zoneadm", "list", "-cip"]);
        assert_eq!(argv(list_zone(&p, "z1")), ["-z", "z1", "list", "-p"]);
        assert_eq!(argv(install(&p, "z1", &InstallSource::Publishers)), ["-z", "z1", "install"]);
        assert_eq!(
            argv(install(&p, "z1", &InstallSource::Tarball("/img/a.tar.gz".into()))),
            ["-z", "z1", "install", "-t", "/img/a.tar.gz"]
        );
        assert_eq!(argv(clone(&p, "z1", "gold", None)), ["-z", "z1", "clone", "gold"]);
        assert_eq!(
            argv(clone(&p, "z1", "gold", Some("rpool/pods/gold@SUNWzone3"))),
            ["-z", "z1", "clone", "-s", "rpool/pods/gold@SUNWzone3", "gold"]
        );
        assert_eq!(argv(boot(&p, "z1")), ["-z", "z1", "boot"]);
        assert_eq!(argv(ready(&p, "z1")), ["-z", "z1", "ready"]);
        assert_eq!(argv(shutdown(&p, "z1")), ["-z", "z1", "shutdown"]);
        assert_eq!(argv(halt(&p, "z1")), ["-z", "z1", "halt"]);
        assert_eq!(argv(uninstall(&p, "z1")), ["-z", "z1", "uninstall", "-F"]);
        assert!(boot(&p, "global").is_err());
        assert!(clone(&p, "z1", "-F", None).is_err());
    }
}
