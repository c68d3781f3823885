//! The FakeHost's test controls: how long each operation takes, faults to inject (fail or
//! hang the next N calls of an operation), the event log of every command it ran, and the
//! scripted answers `zlogin` gives per zone. Plain data, no IO.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::illumos::profile::Tool;

/// Which operation a command performs: the tool and its subcommand (`zoneadm boot`,
/// `dladm create-vnic`, `zfs destroy`). zonecfg scripts given with `-f` are `script`; other
/// zonecfg input is named by its first word (`export`, `delete`, `info`). `zlogin` is `run`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The tool.
    pub tool: Tool,
    /// The subcommand.
    pub action: String,
}

impl Operation {
    /// An operation of `tool`.
    pub fn new(tool: Tool, action: impl Into<String>) -> Self {
        Self { tool, action: action.into() }
    }

    /// `zoneadm ACTION`.
    pub fn zoneadm(action: &str) -> Self {
        Self::new(Tool::Zoneadm, action)
    }

    /// `zonecfg ACTION` (`script` for `-f`).
    pub fn zonecfg(action: &str) -> Self {
        Self::new(Tool::Zonecfg, action)
    }

    /// `dladm ACTION`.
    pub fn dladm(action: &str) -> Self {
        Self::new(Tool::Dladm, action)
    }

    /// `ipadm ACTION`.
    pub fn ipadm(action: &str) -> Self {
        Self::new(Tool::Ipadm, action)
    }

    /// `zfs ACTION`.
    pub fn zfs(action: &str) -> Self {
        Self::new(Tool::Zfs, action)
    }

    /// Any `zlogin` command.
    pub fn zlogin() -> Self {
        Self::new(Tool::Zlogin, "run")
    }
}

/// What an injected fault does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Exit with this code and stderr, without touching the emulated host.
    Fail {
        /// The exit code.
        exit_code: i32,
        /// The stderr text.
        stderr: String,
    },
    /// Never finish; the caller's timeout kills the command.
    Hang,
}

#[derive(Clone, Debug)]
struct Fault {
    operation: Operation,
    zone: Option<String>,
    kind: FaultKind,
    remaining: u32,
}

/// How a logged command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// Still running (or hung).
    Running,
    /// Exited with this code.
    Exited(i32),
    /// Killed by the caller's timeout.
    TimedOut,
    /// The program is not an emulated tool.
    NotFound,
}

/// One command the FakeHost received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Sequence number, from 0, in arrival order.
    pub seq: u64,
    /// The program and arguments exactly as received (a leading `pfexec` included).
    pub argv: Vec<String>,
    /// The operation, when the program is an emulated tool.
    pub operation: Option<Operation>,
    /// The zone the command addressed, if any (`-z ZONE`, the zlogin zone).
    pub zone: Option<String>,
    /// stdin, decoded lossily.
    pub stdin: Option<String>,
    /// How it ended.
    pub outcome: EventOutcome,
    /// The result came from an injected fault.
    pub injected: bool,
    /// For zlogin: the simple commands the zone's shell ran, after re-splitting the line.
    pub in_zone: Vec<Vec<String>>,
}

impl Event {
    /// The argv without a leading `pfexec`, joined with spaces (for readable assertions).
    pub fn command_line(&self) -> String {
        let start = usize::from(self.argv.first().is_some_and(|p| p.rsplit('/').next() == Some("pfexec")));
        self.argv[start..].join(" ")
    }
}

/// What a scripted zlogin command answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZloginReply {
    /// The exit code.
    pub exit_code: i32,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
    /// Never finish (the caller's timeout kills the command); the rest is ignored.
    pub hang: bool,
}

impl ZloginReply {
    /// Never finish, as a hung command in the zone: only the caller's timeout ends it.
    pub fn hang() -> Self {
        Self { hang: true, ..Self::default() }
    }

    /// Exit 0 with this stdout.
    pub fn ok(stdout: impl Into<String>) -> Self {
        Self { exit_code: 0, stdout: stdout.into(), stderr: String::new(), hang: false }
    }

    /// This exit code and stderr.
    pub fn fail(exit_code: i32, stderr: impl Into<String>) -> Self {
        Self { exit_code, stdout: String::new(), stderr: stderr.into(), hang: false }
    }
}

/// The controls, held inside the FakeHost's lock.
#[derive(Debug)]
pub(crate) struct Control {
    durations: HashMap<Operation, Duration>,
    faults: Vec<Fault>,
    log: VecDeque<Event>,
    next_seq: u64,
    log_capacity: usize,
    zlogin: HashMap<String, Vec<(Vec<String>, ZloginReply)>>,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            durations: HashMap::new(),
            faults: Vec::new(),
            log: VecDeque::new(),
            next_seq: 0,
            log_capacity: 10_000,
            zlogin: HashMap::new(),
        }
    }
}

impl Control {
    pub fn set_duration(&mut self, operation: Operation, duration: Duration) {
        self.durations.insert(operation, duration);
    }

    pub fn duration(&self, operation: &Operation) -> Duration {
        self.durations.get(operation).copied().unwrap_or_default()
    }

    pub fn add_fault(&mut self, operation: Operation, zone: Option<String>, kind: FaultKind, count: u32) {
        if count > 0 {
            self.faults.push(Fault { operation, zone, kind, remaining: count });
        }
    }

    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Consumes one matching fault, the oldest first.
    pub fn take_fault(&mut self, operation: &Operation, zone: Option<&str>) -> Option<FaultKind> {
        let index = self
            .faults
            .iter()
            .position(|f| f.operation == *operation && f.zone.as_deref().is_none_or(|wanted| Some(wanted) == zone))?;
        let fault = &mut self.faults[index];
        fault.remaining -= 1;
        let kind = fault.kind.clone();
        if fault.remaining == 0 {
            self.faults.remove(index);
        }
        Some(kind)
    }

    pub fn set_log_capacity(&mut self, capacity: usize) {
        self.log_capacity = capacity.max(1);
        while self.log.len() > self.log_capacity {
            self.log.pop_front();
        }
    }

    pub fn record(
        &mut self,
        argv: Vec<String>,
        operation: Option<Operation>,
        zone: Option<String>,
        stdin: Option<String>,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.log.len() == self.log_capacity {
            self.log.pop_front();
        }
        self.log.push_back(Event {
            seq,
            argv,
            operation,
            zone,
            stdin,
            outcome: EventOutcome::Running,
            injected: false,
            in_zone: Vec::new(),
        });
        seq
    }

    pub fn event_mut(&mut self, seq: u64) -> Option<&mut Event> {
        let first = self.log.front()?.seq;
        let index = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.log.get_mut(index)
    }

    pub fn events(&self) -> Vec<Event> {
        self.log.iter().cloned().collect()
    }

    pub fn clear_events(&mut self) {
        self.log.clear();
    }

    pub fn set_zlogin_reply(&mut self, zone: &str, argv: Vec<String>, reply: ZloginReply) {
        let rules = self.zlogin.entry(zone.to_string()).or_default();
        rules.retain(|(existing, _)| *existing != argv);
        rules.push((argv, reply));
    }

    pub fn clear_zlogin_replies(&mut self, zone: &str) {
        self.zlogin.remove(zone);
    }

    /// The scripted reply for a command: an exact argv match, or one after dropping a
    /// leading `env NAME=VALUE …`.
    pub fn zlogin_reply(&self, zone: &str, argv: &[String]) -> Option<ZloginReply> {
        let rules = self.zlogin.get(zone)?;
        let without_env = strip_env(argv);
        rules.iter().find(|(rule, _)| rule.as_slice() == argv || rule.as_slice() == without_env).map(|(_, r)| r.clone())
    }
}

/// `env A=1 B=2 cmd …` → `cmd …`.
pub(crate) fn strip_env(argv: &[String]) -> &[String] {
    if argv.first().map(String::as_str) != Some("env") {
        return argv;
    }
    let skip = 1 + argv[1..].iter().take_while(|w| w.contains('=') && !w.starts_with('=')).count();
    &argv[skip..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order_and_can_target_a_zone() {
        let mut control = Control::default();
        let boot = Operation::zoneadm("boot");
        control.add_fault(boot.clone(), Some("a".into()), FaultKind::Hang, 1);
        control.add_fault(boot.clone(), None, FaultKind::Fail { exit_code: 1, stderr: "x".into() }, 2);
        assert_eq!(control.take_fault(&boot, Some("b")), Some(FaultKind::Fail { exit_code: 1, stderr: "x".into() }));
        assert_eq!(control.take_fault(&boot, Some("a")), Some(FaultKind::Hang));
        assert!(control.take_fault(&boot, Some("a")).is_some());
        assert_eq!(control.take_fault(&boot, Some("a")), None);
        assert_eq!(control.take_fault(&Operation::zoneadm("halt"), None), None);
    }

    #[test]
    fn the_log_is_bounded_and_addressable_by_seq() {
        let mut control = Control::default();
        control.set_log_capacity(2);
        for i in 0..3 {
            control.record(vec![format!("c{i}")], None, None, None);
        }
        let events = control.events();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
        assert!(control.event_mut(0).is_none());
        control.event_mut(2).unwrap().outcome = EventOutcome::Exited(0);
        assert_eq!(control.events()[1].outcome, EventOutcome::Exited(0));
    }

    #[test]
    fn zlogin_replies_match_with_or_without_env() {
        let mut control = Control::default();
        control.set_zlogin_reply("z", vec!["cat".into(), "/etc/release".into()], ZloginReply::ok("OmniOS\n"));
        let with_env: Vec<String> = ["env", "A=1", "cat", "/etc/release"].map(String::from).to_vec();
        assert_eq!(control.zlogin_reply("z", &with_env).unwrap().stdout, "OmniOS\n");
        assert!(control.zlogin_reply("z", &with_env[2..3]).is_none());
        assert!(control.zlogin_reply("other", &with_env).is_none());
    }
}
