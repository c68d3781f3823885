//! The FakeHost's zones: the zone table (configuration, state, zone id, uuid, zonepath
//! dataset), the zonecfg front end that stores what a session commits, and zoneadm with the
//! state machine of reference §2.2 (configured → incomplete → installed → ready → running →
//! shutting_down → installed), its errors and exit codes (§2.4), `list -p` rendering (§2.3),
//! datasets created at install and cloned at clone (§6.4), and links lent to a zone while
//! it runs. Operations that take time return a completion that the dispatcher runs after
//! the configured duration, so transitional states are visible to concurrent `list` calls.
//! A zone costs one small struct; nothing here spawns a task.

use std::collections::{BTreeMap, BTreeSet};

use super::args::{fail, getopt, has, ok, value};
use super::messages as msg;
use super::zonecfg::{self as cfg, ZoneConfig};
use super::{HostState, Outcome};
use crate::illumos::exec::CommandOutput;
use crate::illumos::zoneadm::ZoneState;

/// One zone.
#[derive(Clone, Debug)]
pub(crate) struct Zone {
    pub config: ZoneConfig,
    pub state: ZoneState,
    pub id: Option<u32>,
    pub uuid: Option<u32>,
    /// Position in the index file (creation order).
    pub index: u64,
    /// The zonepath dataset created at install or clone.
    pub dataset: Option<String>,
    /// The token of the zoneadm operation in progress.
    pub busy: Option<u64>,
    /// Something holds the zone: halting leaves it `down` (a test fault).
    pub held: bool,
    /// What the zone wrote to its console, newest last (at most [`CONSOLE_MAX`] bytes).
    pub console: String,
}

/// How much console output a zone keeps.
pub(crate) const CONSOLE_MAX: usize = 1 << 20;

impl Zone {
    /// Appends to the console, dropping the oldest whole lines beyond [`CONSOLE_MAX`].
    pub fn append_console(&mut self, text: &str) {
        self.console.push_str(text);
        if self.console.len() > CONSOLE_MAX {
            let excess = self.console.len() - CONSOLE_MAX;
            let cut = self.console[excess..].find('\n').map_or(self.console.len(), |i| excess + i + 1);
            self.console.drain(..cut);
        }
    }
}

/// Every zone except the global zone.
#[derive(Debug, Default)]
pub(crate) struct ZoneTable {
    pub map: BTreeMap<String, Zone>,
    next_index: u64,
    next_id: u32,
    next_uuid: u32,
}

impl ZoneTable {
    fn allocate_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// Datasets a zone with a kernel instance is using (its zonepath tree, zfs `fs`
    /// specials, delegated datasets): `zfs destroy` refuses them.
    pub fn busy_datasets(&self) -> BTreeSet<String> {
        let mut busy = BTreeSet::new();
        for zone in self.map.values().filter(|z| z.state.has_kernel_zone()) {
            busy.extend(zone.dataset.iter().cloned());
            for resource in &zone.config.resources {
                match (resource.kind, resource.prop("type")) {
                    ("fs", Some("zfs")) | ("dataset", _) => {
                        busy.extend(resource.prop("special").or(resource.prop("name")).map(str::to_string))
                    }
                    _ => {}
                }
            }
        }
        busy
    }
}

fn uuid_text(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-{:012x}", u64::from(n).wrapping_mul(0x9e37_79b9))
}

fn is_ipkg_family(brand: &str) -> bool {
    matches!(brand, "ipkg" | "lipkg" | "sparse" | "pkgsrc")
}

// ---------------------------------------------------------------------------------------
// zonecfg

/// Runs `zonecfg ARGS…` with optional stdin.
pub(crate) fn zonecfg(host: &mut HostState, args: &[String], stdin: Option<&[u8]>) -> CommandOutput {
    let (zone, rest) = match args {
        [flag, zone, rest @ ..] if flag == "-z" => (zone.as_str(), rest),
        _ => return fail(2, msg::zonecfg_usage()),
    };
    if !valid_zone_name(zone, host.profile.zone_name_max) {
        return fail(2, format!("{}\n{}", msg::zonecfg_bogus_name(zone), msg::zonecfg_usage()));
    }
    let (input, mode, file) = match rest {
        [flag, file] if flag == "-f" => {
            if file != host.profile.zonecfg_stdin_file {
                return fail(1, msg::zonecfg_cannot_open(file));
            }
            (String::from_utf8_lossy(stdin.unwrap_or_default()).into_owned(), cfg::Mode::File, file.as_str())
        }
        [] => return fail(2, msg::zonecfg_usage()),
        words => (words.join(" "), cfg::Mode::OneShot, "-"),
    };
    let outcome = {
        let zones = &host.zones.map;
        let lookup = |name: &str| zones.get(name).map(|z| z.config.clone());
        let session_host = cfg::Host {
            brands: &host.brands,
            default_brand: host.profile.default_brand,
            native_brand: host.profile.native_brand,
            file_name: file,
            lookup: &lookup,
        };
        let existing = zones.get(zone).map(|z| (&z.config, z.state));
        cfg::run(zone, existing, &input, mode, &session_host)
    };
    if outcome.deleted {
        host.zones.map.remove(zone);
    } else if let Some(config) = outcome.committed {
        match host.zones.map.get_mut(zone) {
            Some(existing) => existing.config = config,
            None => {
                host.zones.next_index += 1;
                let index = host.zones.next_index;
                host.zones.map.insert(
                    zone.to_string(),
                    Zone {
                        config,
                        state: ZoneState::Configured,
                        id: None,
                        uuid: None,
                        index,
                        dataset: None,
                        busy: None,
                        held: false,
                        console: String::new(),
                    },
                );
            }
        }
    }
    CommandOutput { exit_code: outcome.exit_code, stdout: outcome.stdout, stderr: outcome.stderr }
}

fn valid_zone_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name != "global"
        && !name.starts_with("SUNW")
}

// ---------------------------------------------------------------------------------------
// zoneadm

/// Runs `zoneadm ARGS…`.
pub(crate) fn zoneadm(host: &mut HostState, args: &[String]) -> Outcome {
    let (options, operands) = match getopt(args, "z:u:R:") {
        Ok(parsed) => parsed,
        Err(e) => return Outcome::Done(fail(2, msg::zoneadm_usage(&e))),
    };
    let Some((subcommand, rest)) = operands.split_first() else {
        return Outcome::Done(fail(2, msg::zoneadm_usage("missing subcommand")));
    };
    let zone = value(&options, 'z');
    if subcommand == "list" {
        return Outcome::Done(list(host, zone, rest));
    }
    let Some(zone) = zone else { return Outcome::Done(fail(2, msg::zoneadm_usage("-z <zone> required"))) };
    if zone == "global" {
        return Outcome::Done(fail(1, msg::zoneadm_global(subcommand)));
    }
    let Some(current) = host.zones.map.get(zone) else {
        return Outcome::Done(fail(1, msg::zoneadm_no_such_zone(zone)));
    };
    let mutating = matches!(
        subcommand.as_str(),
        "install" | "clone" | "boot" | "ready" | "shutdown" | "halt" | "reboot" | "uninstall"
    );
    if mutating && current.busy.is_some() {
        return Outcome::Done(fail(1, msg::zoneadm_busy(zone)));
    }
    let zone = zone.to_string();
    match subcommand.as_str() {
        "install" => install(host, &zone, rest),
        "clone" => clone(host, &zone, rest),
        "boot" => boot(host, &zone, rest, ZoneState::Running),
        "ready" => boot(host, &zone, rest, ZoneState::Ready),
        "reboot" => reboot(host, &zone),
        "halt" => halt(host, &zone, "halt"),
        "shutdown" => shutdown(host, &zone, rest),
        "uninstall" => uninstall(host, &zone, rest),
        other => Outcome::Done(fail(2, msg::zoneadm_usage(&format!("unknown subcommand '{other}'")))),
    }
}

fn list(host: &HostState, zone: Option<&str>, args: &[String]) -> CommandOutput {
    let (options, extra) = match getopt(args, "cinpv") {
        Ok(parsed) => parsed,
        Err(e) => return fail(2, msg::zoneadm_usage(&e)),
    };
    if !extra.is_empty() {
        return fail(2, msg::zoneadm_usage("too many arguments"));
    }
    let (all, installed, parsable, verbose, no_global) =
        (has(&options, 'c'), has(&options, 'i'), has(&options, 'p'), has(&options, 'v'), has(&options, 'n'));
    let mut rows: Vec<ListRow<'_>> = Vec::new();
    let global_row = ListRow {
        id: Some(0),
        name: "global",
        state: "running",
        path: "/",
        uuid: String::new(),
        brand: host.profile.global_brand,
        ip: "shared",
        debug: "0".into(),
    };
    match zone {
        Some(name) => {
            if all || installed {
                return fail(2, msg::zoneadm_usage("-c and -i may not be used with -z"));
            }
            if name == "global" {
                rows.push(global_row);
            } else {
                let Some(z) = host.zones.map.get(name) else { return fail(1, msg::zoneadm_no_such_zone(name)) };
                rows.push(zone_row(name, z));
            }
        }
        None => {
            if !no_global {
                rows.push(global_row);
            }
            // Zones with a kernel instance first, by zone id, then the rest in index order
            // (reference §2.3; the exact ordering is [verify]).
            let mut zones: Vec<(&String, &Zone)> = host
                .zones
                .map
                .iter()
                .filter(|(_, z)| all || z.state.has_kernel_zone() || (installed && z.state == ZoneState::Installed))
                .collect();
            zones.sort_by_key(|(_, z)| (z.id.is_none(), z.id, z.index));
            rows.extend(zones.into_iter().map(|(name, z)| zone_row(name, z)));
        }
    }
    let mut out = String::new();
    if parsable {
        for row in &rows {
            let id = row.id.map_or("-".to_string(), |i| i.to_string());
            let path = row.path.replace(':', "\\:");
            out.push_str(&format!("{id}:{}:{}:{path}:{}:{}:{}", row.name, row.state, row.uuid, row.brand, row.ip));
            if host.profile.list_has_debug_id {
                out.push_str(&format!(":{}", row.debug));
            }
            out.push('\n');
        }
    } else if verbose {
        out.push_str(&format!(
            "{:>4} {:<16} {:<10} {:<30} {:<8} {:<6}\n",
            "ID", "NAME", "STATUS", "PATH", "BRAND", "IP"
        ));
        for ListRow { id, name, state, path, brand, ip, .. } in &rows {
            let id = id.map_or("-".to_string(), |i| i.to_string());
            out.push_str(&format!("{id:>4} {name:<16} {state:<10} {path:<30} {brand:<8} {ip:<6}\n"));
        }
    } else {
        for row in &rows {
            out.push_str(&format!("{}\n", row.name));
        }
    }
    ok(out)
}

/// One line of `zoneadm list`.
struct ListRow<'a> {
    id: Option<u32>,
    name: &'a str,
    state: &'a str,
    path: &'a str,
    uuid: String,
    brand: &'a str,
    ip: &'a str,
    debug: String,
}

fn zone_row<'a>(name: &'a str, zone: &'a Zone) -> ListRow<'a> {
    ListRow {
        id: zone.id,
        name,
        state: zone.state.as_str(),
        path: &zone.config.zonepath,
        uuid: zone.uuid.map(uuid_text).unwrap_or_default(),
        brand: &zone.config.brand,
        ip: if zone.config.is_exclusive() { "excl" } else { "shared" },
        // The OmniOS 8th field's meaning is [verify]; the fake prints the index position.
        debug: zone.index.to_string(),
    }
}

/// Marks a zone busy with a fresh token.
fn begin(host: &mut HostState, zone: &str) -> u64 {
    host.next_token += 1;
    let token = host.next_token;
    if let Some(z) = host.zones.map.get_mut(zone) {
        z.busy = Some(token);
    }
    token
}

/// A completion that runs `apply` if the zone still exists and still carries `token`.
fn finish(
    zone: String,
    token: u64,
    apply: impl FnOnce(&mut HostState, &str) -> CommandOutput + Send + 'static,
) -> Outcome {
    let name = zone.clone();
    Outcome::Later {
        busy: Some((zone, token)),
        finish: Box::new(move |host: &mut HostState| {
            if host.zones.map.get(&name).is_none_or(|z| z.busy != Some(token)) {
                return ok("");
            }
            let output = apply(host, &name);
            if let Some(z) = host.zones.map.get_mut(&name) {
                z.busy = None;
            }
            output
        }),
    }
}

/// State checks shared by install and clone.
fn check_installable(zone: &str, state: ZoneState, command: &str) -> Option<CommandOutput> {
    match state {
        ZoneState::Configured => None,
        ZoneState::Incomplete => Some(fail(1, msg::zoneadm_incomplete(zone))),
        ZoneState::Installed => Some(fail(1, msg::zoneadm_already_installed(zone))),
        _ => Some(fail(1, msg::zoneadm_invalid_for_running(zone, command))),
    }
}

/// The dataset `install` creates for the zonepath: `PARENT_DS/LEAF` when the zonepath's
/// parent directory is a ZFS mountpoint.
fn zonepath_dataset(host: &HostState, zonepath: &str) -> Option<String> {
    let (parent_dir, leaf) = zonepath.rsplit_once('/')?;
    let parent_dir = if parent_dir.is_empty() { "/" } else { parent_dir };
    host.datasets.find_by_mountpoint(parent_dir).map(|ds| format!("{ds}/{leaf}"))
}

fn install(host: &mut HostState, zone: &str, args: &[String]) -> Outcome {
    let current = &host.zones.map[zone];
    if let Some(refused) = check_installable(zone, current.state, "install") {
        return Outcome::Done(refused);
    }
    let brand = current.config.brand.clone();
    let spec = if brand == "lx" { "x:t:s:" } else { "x:P:e:c:k:a:d:pusv" };
    let (options, extra) = match getopt(args, spec) {
        Ok(parsed) => parsed,
        Err(e) => return Outcome::Done(fail(2, msg::zoneadm_usage(&e))),
    };
    if !extra.is_empty() {
        return Outcome::Done(fail(2, msg::zoneadm_usage("too many arguments")));
    }
    let no_dataset = value(&options, 'x') == Some("nodataset");
    let mut stdout = String::new();
    let dataset = if no_dataset { None } else { zonepath_dataset(host, &host.zones.map[zone].config.zonepath) };
    if let Some(dataset) = &dataset {
        if host.datasets.create(dataset, &[], false).unwrap_or(false) {
            stdout.push_str(&msg::zoneadm_zfs_created());
            stdout.push('\n');
        }
        if is_ipkg_family(&brand) {
            let root = format!("{dataset}/ROOT");
            let legacy = [("mountpoint".to_string(), "legacy".to_string()), ("zoned".to_string(), "on".to_string())];
            let _ = host.datasets.create(&root, &legacy, true);
            let _ =
                host.datasets.create(&format!("{root}/zbe"), &[("canmount".to_string(), "noauto".to_string())], true);
        }
    }
    let token = begin(host, zone);
    let z = host.zones.map.get_mut(zone).expect("checked above");
    z.state = ZoneState::Incomplete;
    z.dataset = dataset;
    finish(zone.to_string(), token, move |host, name| {
        host.zones.next_uuid += 1;
        let uuid = host.zones.next_uuid;
        let z = host.zones.map.get_mut(name).expect("checked by finish");
        z.state = ZoneState::Installed;
        z.uuid = Some(uuid);
        ok(format!("{stdout}        Done: Installation completed in 0.000 seconds.\n"))
    })
}

fn clone(host: &mut HostState, zone: &str, args: &[String]) -> Outcome {
    let (options, operands) = match getopt(args, "m:s:") {
        Ok(parsed) => parsed,
        Err(e) => return Outcome::Done(fail(2, msg::zoneadm_usage(&e))),
    };
    let [source] = operands.as_slice() else {
        return Outcome::Done(fail(2, msg::zoneadm_usage("clone needs a source zone")));
    };
    let current = &host.zones.map[zone];
    if let Some(refused) = check_installable(zone, current.state, "clone") {
        return Outcome::Done(refused);
    }
    let Some(origin) = host.zones.map.get(source) else {
        return Outcome::Done(fail(1, msg::zoneadm_no_such_zone(source)));
    };
    if origin.state != ZoneState::Installed || origin.busy.is_some() {
        return Outcome::Done(fail(1, msg::zoneadm_clone_source(zone, source)));
    }
    if origin.config.brand != current.config.brand {
        return Outcome::Done(fail(1, msg::zoneadm_clone_brand(zone)));
    }
    let target = zonepath_dataset(host, &current.config.zonepath);
    let mut dataset = None;
    if let (Some(source_ds), Some(target)) = (origin.dataset.clone(), target) {
        let snapshot_name = match value(&options, 's') {
            Some(snapshot) => match snapshot.split_once('@') {
                Some((ds, snap)) if ds == source_ds && host.datasets.exists(snapshot) => snap.to_string(),
                _ => return Outcome::Done(fail(1, msg::zfs_missing(snapshot))),
            },
            None => {
                let next = host.datasets.snapshot_numbers(&source_ds, "SUNWzone").into_iter().max().unwrap_or(0) + 1;
                let snap = format!("SUNWzone{next}");
                for ds in std::iter::once(source_ds.clone()).chain(host.datasets.descendants(&source_ds)) {
                    let _ = host.datasets.snapshot(&format!("{ds}@{snap}"));
                }
                snap
            }
        };
        for ds in std::iter::once(source_ds.clone()).chain(host.datasets.descendants(&source_ds)) {
            let relative = &ds[source_ds.len()..];
            let _ = host.datasets.clone_snapshot(&format!("{ds}@{snapshot_name}"), &format!("{target}{relative}"));
        }
        dataset = Some(target);
    }
    let token = begin(host, zone);
    let z = host.zones.map.get_mut(zone).expect("checked above");
    z.state = ZoneState::Incomplete;
    z.dataset = dataset;
    finish(zone.to_string(), token, |host, name| {
        host.zones.next_uuid += 1;
        let uuid = host.zones.next_uuid;
        let z = host.zones.map.get_mut(name).expect("checked by finish");
        z.state = ZoneState::Installed;
        z.uuid = Some(uuid);
        ok("")
    })
}

/// `boot` (target Running) and `ready` (target Ready).
fn boot(host: &mut HostState, zone: &str, args: &[String], target: ZoneState) -> Outcome {
    let command = if target == ZoneState::Running { "boot" } else { "ready" };
    if target == ZoneState::Ready && !args.is_empty() {
        return Outcome::Done(fail(2, msg::zoneadm_usage("ready takes no arguments")));
    }
    if let Some(first) = args.first().filter(|a| *a != "--") {
        return Outcome::Done(fail(2, msg::zoneadm_usage(&format!("unexpected argument '{first}'"))));
    }
    let state = host.zones.map[zone].state;
    match (state, target) {
        (ZoneState::Configured | ZoneState::Incomplete, _) => {
            return Outcome::Done(fail(1, msg::zoneadm_must_be_installed(zone, command)));
        }
        (ZoneState::Running, ZoneState::Running) => {
            return Outcome::Done(CommandOutput {
                exit_code: 0,
                stdout: String::new(),
                stderr: format!("{}\n", msg::zoneadm_already_booted(zone)),
            });
        }
        (ZoneState::Ready, ZoneState::Ready) => {
            return Outcome::Done(CommandOutput {
                exit_code: 0,
                stdout: String::new(),
                stderr: format!("{}\n", msg::zoneadm_already_ready(zone)),
            });
        }
        (ZoneState::Installed, _) | (ZoneState::Ready, ZoneState::Running) => {}
        (other, _) => return Outcome::Done(fail(1, msg::zoneadm_invalid_in_state(zone, command, other.as_str()))),
    }
    if state == ZoneState::Installed {
        let config = host.zones.map[zone].config.clone();
        for fs in config.filesystems().filter(|fs| fs.prop("type") == Some("zfs")) {
            let special = fs.prop("special").unwrap_or_default();
            if !host.datasets.exists(special) {
                return Outcome::Done(fail(
                    1,
                    msg::zoneadm_mount_failed(zone, special, fs.prop("dir").unwrap_or_default()),
                ));
            }
        }
        if config.is_exclusive() {
            for net in config.nets() {
                let physical = net.prop("physical").unwrap_or_default();
                if !host.links.assign(physical, zone) {
                    host.links.release(zone);
                    return Outcome::Done(fail(1, msg::zoneadm_link_unavailable(zone, physical)));
                }
            }
        }
        let id = host.zones.allocate_id();
        let z = host.zones.map.get_mut(zone).expect("checked above");
        z.state = ZoneState::Ready;
        z.id = Some(id);
    }
    if target == ZoneState::Ready {
        return Outcome::Done(ok(""));
    }
    let token = begin(host, zone);
    finish(zone.to_string(), token, |host, name| {
        let z = host.zones.map.get_mut(name).expect("checked by finish");
        z.state = ZoneState::Running;
        let banner = format!(
            "[NOTICE: Zone booting up]\nSunOS Release 5.11 Version omnios-r151054 64-bit\nHostname: {name}\n\n{name} console login:\n"
        );
        z.append_console(&banner);
        ok("")
    })
}

fn reboot(host: &mut HostState, zone: &str) -> Outcome {
    if host.zones.map[zone].state != ZoneState::Running {
        return Outcome::Done(fail(1, msg::zoneadm_not_running(zone)));
    }
    let id = host.zones.allocate_id();
    let token = begin(host, zone);
    let z = host.zones.map.get_mut(zone).expect("checked above");
    z.state = ZoneState::ShuttingDown;
    z.id = Some(id);
    finish(zone.to_string(), token, |host, name| {
        host.zones.map.get_mut(name).expect("checked by finish").state = ZoneState::Running;
        ok("")
    })
}

fn halt(host: &mut HostState, zone: &str, command: &str) -> Outcome {
    let state = host.zones.map[zone].state;
    match state {
        ZoneState::Installed => {
            return Outcome::Done(CommandOutput {
                exit_code: 0,
                stdout: String::new(),
                stderr: format!("{}\n", msg::zoneadm_already_halted(zone)),
            });
        }
        ZoneState::Configured | ZoneState::Incomplete => {
            return Outcome::Done(fail(1, msg::zoneadm_invalid_in_state(zone, command, state.as_str())));
        }
        _ => {}
    }
    let token = begin(host, zone);
    host.zones.map.get_mut(zone).expect("checked above").state = ZoneState::ShuttingDown;
    finish(zone.to_string(), token, |host, name| {
        let z = host.zones.map.get_mut(name).expect("checked by finish");
        if z.held {
            // Processes are gone but the kernel zone cannot be destroyed (reference §2.2).
            z.state = ZoneState::Down;
            return fail(1, msg::zoneadm_cannot_destroy(name));
        }
        z.state = ZoneState::Installed;
        z.id = None;
        z.append_console("\n[NOTICE: Zone halted]\n");
        host.links.release(name);
        ok("")
    })
}

/// Makes the next halts of `zone` stop in `down` (`hold`), or lets a held zone finish
/// halting (`!hold`, which also completes a zone already stuck in `down`).
pub(crate) fn hold_in_down(host: &mut HostState, zone: &str, hold: bool) -> bool {
    let Some(z) = host.zones.map.get_mut(zone) else { return false };
    z.held = hold;
    if !hold && z.state == ZoneState::Down {
        z.state = ZoneState::Installed;
        z.id = None;
        host.links.release(zone);
    }
    true
}

fn shutdown(host: &mut HostState, zone: &str, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Outcome::Done(fail(2, msg::zoneadm_usage("shutdown -r is not emulated")));
    }
    match host.zones.map[zone].state {
        ZoneState::Running => halt(host, zone, "shutdown"),
        ZoneState::Ready => Outcome::Done(fail(1, msg::zoneadm_invalid_in_state(zone, "shutdown", "ready"))),
        // [verify]: what shutdown says for a zone that is not running.
        _ => Outcome::Done(fail(1, msg::zoneadm_not_running(zone))),
    }
}

fn uninstall(host: &mut HostState, zone: &str, args: &[String]) -> Outcome {
    let (options, extra) = match getopt(args, "Fh") {
        Ok(parsed) => parsed,
        Err(e) => return Outcome::Done(fail(2, msg::zoneadm_usage(&e))),
    };
    if !extra.is_empty() {
        return Outcome::Done(fail(2, msg::zoneadm_usage("too many arguments")));
    }
    let state = host.zones.map[zone].state;
    match state {
        ZoneState::Configured => return Outcome::Done(fail(1, msg::zoneadm_already_in_state(zone, "configured"))),
        ZoneState::Installed | ZoneState::Incomplete => {}
        _ => return Outcome::Done(fail(1, msg::zoneadm_invalid_for_running(zone, "uninstall"))),
    }
    if !has(&options, 'F') {
        return Outcome::Done(fail(1, msg::zoneadm_uninstall_no_force(zone)));
    }
    let token = begin(host, zone);
    host.zones.map.get_mut(zone).expect("checked above").state = ZoneState::Incomplete;
    finish(zone.to_string(), token, |host, name| {
        if let Some(dataset) = host.zones.map[name].dataset.clone()
            && host.datasets.exists(&dataset)
        {
            let busy = host.zones.busy_datasets();
            if let Err(reason) = host.datasets.destroy(&dataset, true, false, &busy) {
                return fail(1, msg::zoneadm_destroy_failed(name, &reason));
            }
        }
        let z = host.zones.map.get_mut(name).expect("checked by finish");
        z.state = ZoneState::Configured;
        z.uuid = None;
        z.dataset = None;
        ok("")
    })
}
