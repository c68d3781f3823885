//! `FakeHost`: an [`Executor`] that emulates an illumos host in memory at the command
//! level, for tests and for `--runtime sim`. It accepts the same argv the real tools take
//! (absolute paths, an optional leading `pfexec`), and answers with their exit codes, error
//! texts and output formats (`reference/illumos-reference.md`). Unknown programs fail to
//! spawn; unknown subcommands and options are usage errors (exit 2), so untested
//! invocations fail loudly.
//!
//! Submodules: `zonecfg` (strict script interpreter and rendering), `zones` (zone table
//! and zoneadm state machine), `dladm`, `ipadm`, `zfs`, `zlogin`, `control` (durations,
//! faults, event log, zlogin scripts), `messages` (every error text, the unverified ones
//! marked `[verify]`), [`journal`] (persistence across agent restarts), [`settings`] (the
//! `--sim-*` flags: faults and durations as text).
//!
//! Each zone keeps a console buffer: boot and halt write to it as a real console shows,
//! and tests append to it ([`FakeHost::append_console`]); the agent serves it as the
//! pod's log.
//!
//! Time: each operation that succeeds takes a configurable duration (refusals and injected
//! failures answer at once), slept with `tokio::time`, so tests under
//! `tokio::time::pause()` are instant; transitional states (`incomplete`, `ready`,
//! `shutting_down`) are visible to concurrent `list` calls meanwhile. The command's
//! timeout is honoured: a command still sleeping (or hung by a fault) when it expires is
//! abandoned as if killed, leaving the zone in its transitional state.
//!
//! Not emulated: the global zone's filesystem (lofs specials, resolv.conf), ipf/ipnat,
//! kstat, svcs (beyond the multi-user milestone via zlogin), zvols, `zoneadm
//! shutdown -r`, `move`/`attach`/`detach`, interactive and console zlogin.
//!
//! Cost: one mutex around plain maps; a zone is one small struct; no task or thread per
//! zone or per command.

mod args;
mod control;
mod dladm;
mod ipadm;
pub mod journal;
mod messages;
pub mod settings;
#[cfg(test)]
mod tests;
mod zfs;
mod zlogin;
mod zonecfg;
mod zones;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use parking_lot::Mutex;

pub use control::{Event, EventOutcome, FaultKind, Operation, ZloginReply};

use crate::illumos::exec::{CommandOutput, CommandSpec, ExecError, Executor};
use crate::illumos::profile::{PlatformProfile, Tool};
use crate::illumos::zoneadm::ZoneState;

/// Everything the emulated host holds.
pub(crate) struct HostState {
    profile: PlatformProfile,
    brands: Vec<String>,
    zones: zones::ZoneTable,
    links: dladm::Links,
    ip: ipadm::GlobalStack,
    datasets: zfs::Datasets,
    control: control::Control,
    next_token: u64,
    journal: Option<journal::Journal>,
    event_log: Option<std::fs::File>,
}

/// What runs once an operation's duration has passed.
pub(crate) type Finish = Box<dyn FnOnce(&mut HostState) -> CommandOutput + Send>;

/// A tool's answer: now, or after the operation's duration.
pub(crate) enum Outcome {
    Done(CommandOutput),
    Later {
        /// The zone and token marked busy until `finish` runs (or the command is killed).
        busy: Option<(String, u64)>,
        finish: Finish,
    },
    /// Never finishes (a scripted hang); the caller's timeout abandons it.
    Hang,
}

/// The emulated host. Cheap to clone; clones share the host.
#[derive(Clone)]
pub struct FakeHost {
    state: Arc<Mutex<HostState>>,
}

impl std::fmt::Debug for FakeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("FakeHost").field("profile", &state.profile.name).field("zones", &state.zones.map.len()).finish()
    }
}

impl Default for FakeHost {
    fn default() -> Self {
        Self::new()
    }
}

/// Brands an OmniOS host typically has installed.
const DEFAULT_BRANDS: &[&str] = &["ipkg", "lipkg", "sparse", "pkgsrc", "lx", "bhyve"];

impl FakeHost {
    /// An OmniOS host with brands ipkg, lipkg, sparse, pkgsrc, lx and bhyve, one physical
    /// NIC `e1000g0`, and a 1 TiB pool `rpool` mounted at `/rpool`.
    pub fn new() -> Self {
        Self::with_profile(PlatformProfile::omnios())
    }

    /// The same host with another platform profile.
    pub fn with_profile(profile: PlatformProfile) -> Self {
        let mut links = dladm::Links::default();
        links.add_physical("e1000g0");
        let mut datasets = zfs::Datasets::default();
        datasets.add_pool("rpool", 1 << 40);
        Self {
            state: Arc::new(Mutex::new(HostState {
                profile,
                brands: DEFAULT_BRANDS.iter().map(|b| b.to_string()).collect(),
                zones: zones::ZoneTable::default(),
                links,
                ip: ipadm::GlobalStack::default(),
                datasets,
                control: control::Control::default(),
                next_token: 0,
                journal: None,
                event_log: None,
            })),
        }
    }

    /// Replaces the installed brands.
    pub fn set_brands(&self, brands: &[&str]) {
        self.state.lock().brands = brands.iter().map(|b| b.to_string()).collect();
    }

    /// Adds a physical NIC.
    pub fn add_physical_link(&self, name: &str) {
        self.state.lock().links.add_physical(name);
    }

    /// Adds a pool of `size` bytes mounted at `/NAME`.
    pub fn add_pool(&self, name: &str, size: u64) {
        self.state.lock().datasets.add_pool(name, size);
    }

    /// Makes every future `operation` take `duration` (of `tokio::time`).
    pub fn set_duration(&self, operation: Operation, duration: Duration) {
        self.state.lock().control.set_duration(operation, duration);
    }

    /// Makes the next `count` calls of `operation` exit with `exit_code` and `stderr`
    /// without touching the host.
    pub fn fail_next(&self, operation: Operation, count: u32, exit_code: i32, stderr: &str) {
        let kind = FaultKind::Fail { exit_code, stderr: ensure_newline(stderr) };
        self.state.lock().control.add_fault(operation, None, kind, count);
    }

    /// Like [`FakeHost::fail_next`], for calls addressing `zone` only.
    pub fn fail_next_for_zone(&self, operation: Operation, zone: &str, count: u32, exit_code: i32, stderr: &str) {
        let kind = FaultKind::Fail { exit_code, stderr: ensure_newline(stderr) };
        self.state.lock().control.add_fault(operation, Some(zone.to_string()), kind, count);
    }

    /// Makes the next `count` calls of `operation` hang until their timeout kills them.
    pub fn hang_next(&self, operation: Operation, count: u32) {
        self.state.lock().control.add_fault(operation, None, FaultKind::Hang, count);
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.state.lock().control.clear_faults();
    }

    /// Every command received, in order (the newest 10,000 by default).
    pub fn events(&self) -> Vec<Event> {
        self.state.lock().control.events()
    }

    /// Each received command as one line without `pfexec` (`/usr/sbin/zoneadm -z a boot`).
    pub fn command_lines(&self) -> Vec<String> {
        self.events().iter().map(Event::command_line).collect()
    }

    /// Forgets the event log.
    pub fn clear_events(&self) {
        self.state.lock().control.clear_events();
    }

    /// Keeps only the newest `capacity` events.
    pub fn set_log_capacity(&self, capacity: usize) {
        self.state.lock().control.set_log_capacity(capacity);
    }

    /// What `zlogin ZONE` answers for the in-zone command `argv` (matched after the zone's
    /// shell has re-split the line, with or without a leading `env K=V …`).
    pub fn set_zlogin_reply(&self, zone: &str, argv: &[&str], reply: ZloginReply) {
        let argv = argv.iter().map(|w| w.to_string()).collect();
        self.state.lock().control.set_zlogin_reply(zone, argv, reply);
    }

    /// Forgets the scripted zlogin replies of `zone`.
    pub fn clear_zlogin_replies(&self, zone: &str) {
        self.state.lock().control.clear_zlogin_replies(zone);
    }

    /// Holds `zone` so that halting it stops in state `down` with an error (as when
    /// something in the global zone keeps the zone's kernel resources busy), or releases it
    /// (a zone stuck in `down` then becomes `installed`). False when the zone is unknown.
    pub fn hold_zone_down(&self, zone: &str, hold: bool) -> bool {
        zones::hold_in_down(&mut self.state.lock(), zone, hold)
    }

    /// A zone's state, or `None` when it is not configured.
    pub fn zone_state(&self, zone: &str) -> Option<ZoneState> {
        self.state.lock().zones.map.get(zone).map(|z| z.state)
    }

    /// The configured zones (the global zone excluded), by name.
    pub fn zone_names(&self) -> Vec<String> {
        self.state.lock().zones.map.keys().cloned().collect()
    }

    /// Every datalink, by name.
    pub fn link_names(&self) -> Vec<String> {
        self.state.lock().links.names()
    }

    /// The zone a link is lent to: `None` if the link does not exist, `Some(None)` if it is
    /// in the global zone.
    pub fn link_zone(&self, link: &str) -> Option<Option<String>> {
        self.state.lock().links.get(link).map(|l| l.zone.clone())
    }

    /// Every dataset (and snapshot), by name.
    pub fn dataset_names(&self) -> Vec<String> {
        self.state.lock().datasets.names()
    }

    /// Sets the bytes a dataset itself uses (for quota and `avail` tests).
    pub fn set_dataset_used(&self, dataset: &str, bytes: u64) -> bool {
        self.state.lock().datasets.set_used(dataset, bytes)
    }

    /// What `zone` has written to its console (`None` when the zone does not exist).
    pub fn console(&self, zone: &str) -> Option<String> {
        self.state.lock().zones.map.get(zone).map(|z| z.console.clone())
    }

    /// Appends `text` to `zone`'s console, as a process in the zone writing to it would.
    /// False when the zone does not exist.
    pub fn append_console(&self, zone: &str, text: &str) -> bool {
        match self.state.lock().zones.map.get_mut(zone) {
            Some(z) => {
                z.append_console(text);
                true
            }
            None => false,
        }
    }

    /// Makes this host persistent: replays the journal at `path` (the state a previous
    /// process left), then journals every change there. Call it on a fresh host, before
    /// anything else runs on it.
    pub fn persist_to(&self, path: &std::path::Path) -> Result<(), journal::JournalError> {
        let (journal, entries) = journal::Journal::open(path)?;
        for entry in entries {
            let mut spec = CommandSpec::new(entry.argv.first().cloned().unwrap_or_default())
                .args(entry.argv.iter().skip(1).cloned());
            if let Some(stdin) = entry.stdin {
                spec = spec.stdin(stdin.into_bytes());
            }
            let (_, work, _) = self.start(&spec);
            let output = match work {
                Work::Ready(output, _) => output,
                Work::Later { finish, guard, .. } => {
                    let output = finish(&mut self.state.lock());
                    drop(guard);
                    output
                }
                Work::NotFound(_) | Work::Hang => CommandOutput { exit_code: 127, ..CommandOutput::default() },
            };
            if !output.success() {
                tracing::warn!(command = %spec, stderr = %output.stderr.trim(), "a journaled sim command failed on replay");
            }
        }
        let mut state = self.state.lock();
        state.control.clear_events();
        state.journal = Some(journal);
        Ok(())
    }

    /// Appends one JSON line per received command to `file` (`seq`, `argv`, `zone`,
    /// `stdin`, `injected`: whether a fault answered it), for tests of a separate process.
    pub fn log_events_to(&self, file: std::fs::File) {
        self.state.lock().event_log = Some(file);
    }

    /// Receives a command, applies its immediate part, and says what remains to do (and
    /// the journal entry to record if it succeeds).
    fn start(&self, spec: &CommandSpec) -> (u64, Work, Option<journal::Entry>) {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let argv: Vec<String> = spec.argv().into_iter().map(str::to_string).collect();
        let program = tool_and_args(&argv);
        let (operation, zone) = match program {
            Some((tool, args)) => {
                let (operation, zone) = classify(tool, args);
                (Some(operation), zone)
            }
            None => (None, None),
        };
        let stdin_text = spec.stdin.as_ref().map(|bytes| String::from_utf8_lossy(bytes).into_owned());
        let journaled = match (&state.journal, &operation) {
            (Some(_), Some(op)) if journal::changes_host(op) => {
                Some(journal::Entry { argv: argv.clone(), stdin: stdin_text.clone(), zone: zone.clone() })
            }
            _ => None,
        };
        let seq = state.control.record(argv.clone(), operation.clone(), zone.clone(), stdin_text);
        let (Some((tool, args)), Some(operation)) = (program, operation) else {
            let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no such program on the emulated host");
            return (seq, Work::NotFound(ExecError::Spawn { command: spec.to_string(), source }), None);
        };
        let delay = state.control.duration(&operation);
        if let Some(fault) = state.control.take_fault(&operation, zone.as_deref()) {
            if let Some(event) = state.control.event_mut(seq) {
                event.injected = true;
            }
            return match fault {
                FaultKind::Fail { exit_code, stderr } => {
                    (seq, Work::Ready(CommandOutput { exit_code, stdout: String::new(), stderr }, Duration::ZERO), None)
                }
                FaultKind::Hang => (seq, Work::Hang, None),
            };
        }
        let stdin = spec.stdin.as_deref();
        let outcome = match tool {
            Tool::Zonecfg => Outcome::Done(zones::zonecfg(state, args, stdin)),
            Tool::Zoneadm => zones::zoneadm(state, args),
            Tool::Zlogin => zlogin::zlogin(state, args, stdin, seq),
            Tool::Dladm => Outcome::Done(state.links.command(args)),
            Tool::Ipadm => {
                let links = &state.links;
                let usable = |link: &str| links.get(link).is_some_and(|l| l.zone.is_none());
                Outcome::Done(state.ip.command(args, &usable))
            }
            Tool::Zfs => {
                let busy = state.zones.busy_datasets();
                Outcome::Done(state.datasets.command(args, &busy))
            }
        };
        match outcome {
            // A refused command answers at once; only work that happens takes time.
            Outcome::Done(output) if !output.success() => (seq, Work::Ready(output, Duration::ZERO), None),
            Outcome::Done(output) => (seq, Work::Ready(output, delay), journaled),
            Outcome::Later { busy, finish } => {
                let guard = busy.map(|(zone, token)| BusyGuard { state: Arc::clone(&self.state), zone, token });
                (seq, Work::Later { delay, finish, guard }, journaled)
            }
            Outcome::Hang => (seq, Work::Hang, None),
        }
    }

    async fn complete(&self, seq: u64, work: Work) -> Result<CommandOutput, ExecError> {
        let result = match work {
            Work::NotFound(error) => {
                self.mark(seq, EventOutcome::NotFound);
                return Err(error);
            }
            Work::Hang => std::future::pending::<CommandOutput>().await,
            Work::Ready(output, delay) => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                output
            }
            Work::Later { delay, finish, guard } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let output = finish(&mut self.state.lock());
                // `finish` cleared the busy mark, so dropping the guard does nothing more.
                drop(guard);
                output
            }
        };
        self.mark(seq, EventOutcome::Exited(result.exit_code));
        Ok(result)
    }

    fn mark(&self, seq: u64, outcome: EventOutcome) {
        if let Some(event) = self.state.lock().control.event_mut(seq) {
            event.outcome = outcome;
        }
    }

    /// Appends a received command to the event log file, if there is one. Written when
    /// the command arrives (a hung command that is later abandoned is still logged).
    fn log_received(&self, seq: u64) {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let (Some(file), Some(event)) = (&mut state.event_log, state.control.event_mut(seq)) else { return };
        let line = event_json(event);
        // The log is a test aid: a failed write is reported, never fatal.
        if let Err(error) = std::io::Write::write_all(file, line.as_bytes()) {
            tracing::warn!(%error, "could not append to the sim event log");
        }
    }

    /// Journals a successful change and writes the journal (on a blocking thread) before
    /// the caller sees the command's success.
    async fn journal(&self, entry: journal::Entry) {
        let pending = match self.state.lock().journal.as_mut() {
            Some(journal) => journal.record(entry),
            None => return,
        };
        match tokio::task::spawn_blocking(move || pending.write()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "could not persist the sim host's state"),
            Err(error) => tracing::error!(%error, "the sim host's state writer panicked"),
        }
    }
}

fn event_json(event: &Event) -> String {
    let value = serde_json::json!({
        "seq": event.seq,
        "argv": event.argv,
        "zone": event.zone,
        "stdin": event.stdin,
        "injected": event.injected,
    });
    let mut line = value.to_string();
    line.push('\n');
    line
}

fn ensure_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') { text.to_string() } else { format!("{text}\n") }
}

/// The operation and zone of a command, for faults, durations and the log.
/// The operation an argv runs (through `pfexec` or not) and the zone it addresses; `None`
/// for a program the emulated host does not have.
pub(crate) fn operation_of(argv: &[String]) -> Option<(Operation, Option<String>)> {
    tool_and_args(argv).map(|(tool, args)| classify(tool, args))
}

/// The emulated tool an argv runs (through `pfexec` or not), and its arguments.
fn tool_and_args(argv: &[String]) -> Option<(Tool, &[String])> {
    let stripped = match argv.first() {
        Some(program) if program.rsplit('/').next() == Some("pfexec") => &argv[1..],
        _ => argv,
    };
    let tool = stripped.first().and_then(|program| Tool::ALL.into_iter().find(|t| t.path() == program))?;
    Some((tool, stripped.get(1..).unwrap_or_default()))
}

fn classify(tool: Tool, args: &[String]) -> (Operation, Option<String>) {
    let zone_flag = || args.iter().position(|a| a == "-z").and_then(|i| args.get(i + 1)).cloned();
    match tool {
        Tool::Zonecfg => {
            let rest = args.get(2..).unwrap_or_default();
            let action = if rest.first().map(String::as_str) == Some("-f") {
                "script".to_string()
            } else {
                rest.join(" ").split_whitespace().next().unwrap_or_default().trim_end_matches(';').to_string()
            };
            (Operation::new(tool, action), zone_flag())
        }
        Tool::Zoneadm => {
            let (_, operands) = args::getopt(args, "z:u:R:").unwrap_or_default();
            (Operation::new(tool, operands.first().cloned().unwrap_or_default()), zone_flag())
        }
        Tool::Zlogin => {
            let (_, operands) = args::getopt(args, "QESNindCIl:e:").unwrap_or_default();
            (Operation::zlogin(), operands.first().cloned())
        }
        Tool::Dladm | Tool::Ipadm | Tool::Zfs => {
            (Operation::new(tool, args.first().cloned().unwrap_or_default()), None)
        }
    }
}

/// What is left of a command after its immediate part.
enum Work {
    NotFound(ExecError),
    Ready(CommandOutput, Duration),
    Hang,
    Later { delay: Duration, finish: Finish, guard: Option<BusyGuard> },
}

/// Clears a zone's busy mark if the command is dropped (killed by its timeout) before it
/// finishes, so the next zoneadm call is not refused forever. The zone keeps its
/// transitional state, as a real zone does when zoneadm dies mid-operation.
struct BusyGuard {
    state: Arc<Mutex<HostState>>,
    zone: String,
    token: u64,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if let Some(zone) = self.state.lock().zones.map.get_mut(&self.zone)
            && zone.busy == Some(self.token)
        {
            zone.busy = None;
        }
    }
}

impl Executor for FakeHost {
    fn run(&self, spec: CommandSpec) -> BoxFuture<'static, Result<CommandOutput, ExecError>> {
        let host = self.clone();
        Box::pin(async move {
            let (seq, work, journaled) = host.start(&spec);
            host.log_received(seq);
            match tokio::time::timeout(spec.timeout, host.complete(seq, work)).await {
                Ok(Ok(output)) => {
                    if let Some(entry) = journaled.filter(|_| output.success()) {
                        host.journal(entry).await;
                    }
                    Ok(output)
                }
                Ok(result) => result,
                Err(_elapsed) => {
                    host.mark(seq, EventOutcome::TimedOut);
                    Err(ExecError::Timeout { command: spec.to_string(), after: spec.timeout })
                }
            }
        })
    }
}
