//! The FakeHost's zonecfg: a strict interpreter of the zonecfg command language (lexer,
//! global and resource scopes, `create`/`set`/`add`/`select`/`remove`/`clear`/`end`/
//! `cancel`/`verify`/`commit`/`delete`/`info`/`export`), the per-zone configuration model,
//! and `info`/`export` rendering (reference §1.2, §1.5, §1.7, §1.8).
//!
//! Faithful quirks: one-shot input is the argv joined with spaces and re-lexed; `-f` mode
//! stops at the first error but still commits what was accumulated before it (the partial
//! commit of §1.2); aliases (`max-lwps`, `capped-cpu`, `capped-memory swap`) are stored as
//! rctls and exported as such. Unknown resources, properties and commands are errors.

use std::collections::BTreeMap;

use super::messages as msg;
use crate::illumos::zoneadm::ZoneState;
use crate::illumos::zonecfg::bytes_to_units;

/// Resource types and their properties.
struct Schema {
    kind: &'static str,
    simple: &'static [&'static str],
    lists: &'static [&'static str],
    required: &'static [&'static str],
}

const SCHEMAS: &[Schema] = &[
    Schema {
        kind: "net",
        simple: &["address", "allowed-address", "physical", "defrouter", "global-nic", "mac-addr", "vlan-id"],
        lists: &["property"],
        required: &["physical"],
    },
    Schema {
        kind: "fs",
        simple: &["dir", "special", "raw", "type"],
        lists: &["options"],
        required: &["dir", "special", "type"],
    },
    Schema { kind: "device", simple: &["match"], lists: &[], required: &["match"] },
    Schema { kind: "attr", simple: &["name", "type", "value"], lists: &[], required: &["name", "type", "value"] },
    Schema { kind: "dataset", simple: &["name"], lists: &[], required: &["name"] },
    Schema { kind: "dedicated-cpu", simple: &["ncpus", "importance"], lists: &[], required: &["ncpus"] },
    Schema { kind: "rctl", simple: &["name"], lists: &["value"], required: &["name", "value"] },
    Schema { kind: "capped-cpu", simple: &["ncpus"], lists: &[], required: &["ncpus"] },
    Schema { kind: "capped-memory", simple: &["physical", "swap", "locked"], lists: &[], required: &[] },
];

/// Global properties, in `info` order.
const GLOBALS: &[&str] = &[
    "zonepath",
    "brand",
    "autoboot",
    "bootargs",
    "pool",
    "limitpriv",
    "scheduling-class",
    "ip-type",
    "hostid",
    "fs-allowed",
];

/// Global aliases of rctls: (alias, rctl, action), in `info` order.
const ALIASES: &[(&str, &str, &str)] = &[
    ("max-lwps", "zone.max-lwps", "deny"),
    ("max-processes", "zone.max-processes", "deny"),
    ("max-shm-memory", "zone.max-shm-memory", "deny"),
    ("max-shm-ids", "zone.max-shm-ids", "deny"),
    ("max-msg-ids", "zone.max-msg-ids", "deny"),
    ("max-sem-ids", "zone.max-sem-ids", "deny"),
    ("cpu-shares", "zone.cpu-shares", "none"),
];

const KNOWN_RCTLS: &[&str] = &[
    "zone.cpu-shares",
    "zone.cpu-cap",
    "zone.max-lwps",
    "zone.max-processes",
    "zone.max-swap",
    "zone.max-locked-memory",
    "zone.max-shm-memory",
    "zone.max-shm-ids",
    "zone.max-sem-ids",
    "zone.max-msg-ids",
    "zone.max-lofi",
];

fn schema(kind: &str) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|s| s.kind == kind)
}

/// A list item: `ro`, or `(name=ips,value=10.0.0.7/24)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Simple(String),
    Complex(Vec<(String, String)>),
}

/// One resource (fs, net, device, attr, dataset, dedicated-cpu; rctl and the capped-*
/// resources only while they are being edited).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resource {
    pub kind: &'static str,
    pub props: BTreeMap<&'static str, String>,
    pub lists: BTreeMap<&'static str, Vec<Item>>,
}

impl Resource {
    fn new(kind: &'static str) -> Self {
        Self { kind, props: BTreeMap::new(), lists: BTreeMap::new() }
    }

    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props.get(name).map(String::as_str)
    }
}

/// One resource control value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RctlValue {
    pub privilege: String,
    pub limit: u64,
    pub action: String,
}

/// A zone's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ZoneConfig {
    pub zonepath: String,
    pub brand: String,
    pub autoboot: bool,
    pub ip_type: String,
    pub globals: BTreeMap<&'static str, String>,
    pub resources: Vec<Resource>,
    pub physical_memory: Option<u64>,
    pub rctls: Vec<(String, Vec<RctlValue>)>,
}

impl ZoneConfig {
    fn blank(brand: &str) -> Self {
        Self {
            zonepath: String::new(),
            brand: brand.to_string(),
            autoboot: false,
            ip_type: "shared".into(),
            globals: BTreeMap::new(),
            resources: Vec::new(),
            physical_memory: None,
            rctls: Vec::new(),
        }
    }

    /// The `net` resources.
    pub fn nets(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().filter(|r| r.kind == "net")
    }

    /// The `fs` resources.
    pub fn filesystems(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().filter(|r| r.kind == "fs")
    }

    /// True for ip-type exclusive.
    pub fn is_exclusive(&self) -> bool {
        self.ip_type == "exclusive"
    }

    fn rctl(&self, name: &str) -> Option<&Vec<RctlValue>> {
        self.rctls.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn set_rctl(&mut self, name: &str, values: Vec<RctlValue>) {
        match self.rctls.iter_mut().find(|(n, _)| n == name) {
            Some((_, existing)) => *existing = values,
            None => self.rctls.push((name.to_string(), values)),
        }
    }

    fn remove_rctl(&mut self, name: &str) -> bool {
        let before = self.rctls.len();
        self.rctls.retain(|(n, _)| n != name);
        before != self.rctls.len()
    }

    /// What `verify` (and therefore `commit`) objects to.
    fn verify(&self, zone: &str) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.zonepath.is_empty() {
            reasons.push(msg::zonecfg_not_specified("zonepath"));
        }
        for net in self.nets() {
            let physical = net.prop("physical").unwrap_or_default();
            if self.is_exclusive() {
                if net.prop("address").is_some() {
                    reasons.push(msg::zonecfg_address_exclusive());
                }
                let allowed_on_link =
                    self.nets().any(|n| n.prop("physical") == Some(physical) && n.prop("allowed-address").is_some());
                if net.prop("defrouter").is_some() && !allowed_on_link {
                    reasons.push(msg::zonecfg_defrouter_without_allowed(physical));
                }
            } else if net.prop("allowed-address").is_some() {
                reasons.push(msg::zonecfg_allowed_address_shared());
            }
        }
        if !reasons.is_empty() {
            reasons.push(msg::zonecfg_failed_to_verify(zone));
        }
        reasons
    }
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Eq,
    Open(char),
    Close(char),
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Word(w) | Token::Quoted(w) => w.clone(),
            Token::Eq => "=".into(),
            Token::Open(c) | Token::Close(c) => c.to_string(),
            Token::Comma => ",".into(),
        }
    }

    fn word(&self) -> Option<&str> {
        match self {
            Token::Word(w) | Token::Quoted(w) => Some(w),
            _ => None,
        }
    }
}

/// A command: its 1-based line and its tokens, or a lexing error.
type Lexed = (usize, Result<Vec<Token>, String>);

/// Splits input into commands at unquoted `;` and newlines. A quote left open at the end of
/// a line is a syntax error for that command (zonecfg strings cannot span lines).
fn lex(text: &str) -> Vec<Lexed> {
    let mut commands = Vec::new();
    let (mut tokens, mut word, mut line, mut start_line) = (Vec::new(), String::new(), 1usize, 1usize);
    let mut chars = text.chars().peekable();
    let mut broken: Option<String> = None;
    fn flush(word: &mut String, tokens: &mut Vec<Token>) {
        if !word.is_empty() {
            tokens.push(Token::Word(std::mem::take(word)));
        }
    }
    let finish = |tokens: &mut Vec<Token>, broken: &mut Option<String>, commands: &mut Vec<Lexed>, at: usize| {
        if let Some(error) = broken.take() {
            commands.push((at, Err(error)));
            tokens.clear();
        } else if !tokens.is_empty() {
            commands.push((at, Ok(std::mem::take(tokens))));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\n' | ';' => {
                flush(&mut word, &mut tokens);
                finish(&mut tokens, &mut broken, &mut commands, start_line);
                if c == '\n' {
                    line += 1;
                }
                start_line = line;
            }
            '#' if word.is_empty() => {
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            '"' => {
                flush(&mut word, &mut tokens);
                let mut quoted = String::new();
                let mut closed = false;
                while let Some(&n) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    chars.next();
                    if n == '"' {
                        closed = true;
                        break;
                    }
                    quoted.push(n);
                }
                if closed {
                    tokens.push(Token::Quoted(quoted));
                } else if broken.is_none() {
                    broken = Some(msg::zonecfg_syntax_error(&format!("\"{quoted}")));
                }
            }
            '=' | '(' | ')' | '[' | ']' | ',' => {
                flush(&mut word, &mut tokens);
                tokens.push(match c {
                    '=' => Token::Eq,
                    '(' | '[' => Token::Open(c),
                    ')' | ']' => Token::Close(c),
                    _ => Token::Comma,
                });
            }
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    finish(&mut tokens, &mut broken, &mut commands, start_line);
    commands
}

/// A property value: `x`, `"x y"`, `[a,b]` or `(k=v,…)`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Simple(String),
    List(Vec<Item>),
    Complex(Vec<(String, String)>),
}

/// Parses one value from the start of `tokens`; returns it and the tokens consumed.
fn parse_value(tokens: &[Token]) -> Result<(Value, usize), String> {
    let syntax = |at: usize| msg::zonecfg_syntax_error(&tokens.get(at).map_or("end of line".into(), Token::text));
    match tokens.first() {
        Some(Token::Word(w) | Token::Quoted(w)) => Ok((Value::Simple(w.clone()), 1)),
        Some(Token::Open('(')) => {
            let (pairs, used) = parse_complex(tokens)?;
            Ok((Value::Complex(pairs), used))
        }
        Some(Token::Open('[')) => {
            let mut items = Vec::new();
            let mut at = 1;
            loop {
                match tokens.get(at) {
                    Some(Token::Close(']')) if items.is_empty() => return Ok((Value::List(items), at + 1)),
                    Some(Token::Word(w) | Token::Quoted(w)) => {
                        items.push(Item::Simple(w.clone()));
                        at += 1;
                    }
                    Some(Token::Open('(')) => {
                        let (pairs, used) = parse_complex(&tokens[at..])?;
                        items.push(Item::Complex(pairs));
                        at += used;
                    }
                    _ => return Err(syntax(at)),
                }
                match tokens.get(at) {
                    Some(Token::Comma) => at += 1,
                    Some(Token::Close(']')) => return Ok((Value::List(items), at + 1)),
                    _ => return Err(syntax(at)),
                }
            }
        }
        _ => Err(syntax(0)),
    }
}

fn parse_complex(tokens: &[Token]) -> Result<(Vec<(String, String)>, usize), String> {
    let syntax = |at: usize| msg::zonecfg_syntax_error(&tokens.get(at).map_or("end of line".into(), Token::text));
    let mut pairs = Vec::new();
    let mut at = 1;
    loop {
        let key = tokens.get(at).and_then(Token::word).ok_or_else(|| syntax(at))?;
        if tokens.get(at + 1) != Some(&Token::Eq) {
            return Err(syntax(at + 1));
        }
        let value = tokens.get(at + 2).and_then(Token::word).ok_or_else(|| syntax(at + 2))?;
        pairs.push((key.to_string(), value.to_string()));
        at += 3;
        match tokens.get(at) {
            Some(Token::Comma) => at += 1,
            Some(Token::Close(')')) => return Ok((pairs, at + 1)),
            _ => return Err(syntax(at)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sessions

/// Facts about the host a session needs.
pub(crate) struct Host<'a> {
    pub brands: &'a [String],
    pub default_brand: &'a str,
    pub native_brand: &'a str,
    pub file_name: &'a str,
    /// Looks up another zone's configuration (for `create -t ZONE`).
    pub lookup: &'a dyn Fn(&str) -> Option<ZoneConfig>,
}

/// How input arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// argv joined with spaces: every command runs even after an error.
    OneShot,
    /// `-f FILE`: stop at the first error.
    File,
}

/// What a session did.
pub(crate) struct Outcome {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The configuration to store, if one was committed.
    pub committed: Option<ZoneConfig>,
    /// The zone's configuration was deleted.
    pub deleted: bool,
}

struct Scope {
    resource: Resource,
    /// The configuration before `add`/`select`, restored by `cancel`.
    before: ZoneConfig,
    /// Where a selected resource sat, so `end` puts it back in place.
    position: Option<usize>,
    selected: bool,
}

struct Session<'a> {
    zone: &'a str,
    host: &'a Host<'a>,
    state: Option<ZoneState>,
    working: Option<ZoneConfig>,
    dirty: bool,
    scope: Option<Scope>,
    stdout: String,
    stderr: String,
    failed: bool,
    committed: Option<ZoneConfig>,
    deleted: bool,
    /// Stop now without the cleanup commit (`create` refused, `delete`, `exit`).
    stop: bool,
}

/// Runs zonecfg input against a zone (`existing` is its configuration and state, if any).
pub(crate) fn run(
    zone: &str,
    existing: Option<(&ZoneConfig, ZoneState)>,
    input: &str,
    mode: Mode,
    host: &Host<'_>,
) -> Outcome {
    let mut session = Session {
        zone,
        host,
        state: existing.map(|(_, s)| s),
        working: existing.map(|(c, _)| c.clone()),
        dirty: false,
        scope: None,
        stdout: String::new(),
        stderr: String::new(),
        failed: false,
        committed: None,
        deleted: false,
        stop: false,
    };
    for (line, command) in lex(input) {
        let result = command.and_then(|tokens| session.execute(&tokens));
        if let Err(error) = result {
            if mode == Mode::File {
                session.error(&msg::zonecfg_on_line(line, host.file_name));
            }
            session.error(&error);
            if mode == Mode::File {
                break;
            }
        }
        if session.stop {
            break;
        }
    }
    if !session.stop {
        session.cleanup();
    }
    Outcome {
        exit_code: i32::from(session.failed),
        stdout: session.stdout,
        stderr: session.stderr,
        committed: session.committed,
        deleted: session.deleted,
    }
}

impl Session<'_> {
    fn error(&mut self, text: &str) {
        self.failed = true;
        self.stderr.push_str(text);
        self.stderr.push('\n');
    }

    fn installed(&self) -> bool {
        self.state.is_some_and(|s| s != ZoneState::Configured)
    }

    fn working(&mut self) -> Result<&mut ZoneConfig, String> {
        let zone = self.zone;
        self.working.as_mut().ok_or_else(|| msg::zonecfg_no_such_zone(zone))
    }

    /// End of input: an open resource is abandoned, then pending changes are committed.
    fn cleanup(&mut self) {
        if let Some(scope) = self.scope.take() {
            self.working = Some(scope.before);
        }
        if self.dirty {
            for reason in self.commit() {
                self.error(&reason);
            }
        }
    }

    /// Verifies and commits; returns what verify objected to (nothing is committed then).
    fn commit(&mut self) -> Vec<String> {
        let Some(working) = &self.working else { return Vec::new() };
        let reasons = working.verify(self.zone);
        if reasons.is_empty() {
            self.committed = Some(working.clone());
            if self.state.is_none() {
                self.state = Some(ZoneState::Configured);
            }
            self.dirty = false;
        }
        reasons
    }

    fn execute(&mut self, tokens: &[Token]) -> Result<(), String> {
        let Some(Token::Word(command)) = tokens.first() else {
            return Err(msg::zonecfg_syntax_error(&tokens[0].text()));
        };
        let args = &tokens[1..];
        if self.scope.is_some() {
            return self.execute_in_resource(command, args);
        }
        match command.as_str() {
            "create" => self.create(args),
            "set" => self.set_global(args),
            "add" => self.add_resource(args),
            "select" => self.select(args),
            "remove" => self.remove_resource(args),
            "clear" => self.clear_global(args),
            "info" => self.info(args),
            "export" => self.export(args),
            "verify" => {
                let reasons = self
                    .working
                    .as_ref()
                    .map_or_else(|| vec![msg::zonecfg_no_such_zone(self.zone)], |w| w.verify(self.zone));
                match reasons.split_last() {
                    None => Ok(()),
                    Some((last, rest)) => {
                        for reason in rest {
                            self.error(reason);
                        }
                        Err(last.clone())
                    }
                }
            }
            "commit" => {
                self.working()?;
                let reasons = self.commit();
                match reasons.split_last() {
                    None => Ok(()),
                    Some((last, rest)) => {
                        for reason in rest {
                            self.error(reason);
                        }
                        Err(last.clone())
                    }
                }
            }
            "delete" => self.delete(args),
            "exit" => {
                self.cleanup();
                self.stop = true;
                Ok(())
            }
            "end" | "cancel" => Err(msg::zonecfg_scope(command)),
            other => Err(msg::zonecfg_unknown_command(other)),
        }
    }

    fn create(&mut self, args: &[Token]) -> Result<(), String> {
        let words: Vec<&str> = args.iter().map(|t| t.word().unwrap_or("")).collect();
        let (mut force, mut template, mut blank) = (false, None, false);
        let mut i = 0;
        while i < words.len() {
            match words[i] {
                "-F" => force = true,
                "-b" => blank = true,
                "-t" => {
                    template = Some(*words.get(i + 1).ok_or_else(|| msg::zonecfg_syntax_error("-t"))?);
                    i += 1;
                }
                other => return Err(msg::zonecfg_syntax_error(other)),
            }
            i += 1;
        }
        match self.state {
            Some(state) if state != ZoneState::Configured => {
                self.stop = true;
                return Err(msg::zonecfg_create_installed(self.zone));
            }
            Some(_) if !force => {
                self.stop = true;
                return Err(msg::zonecfg_create_exists());
            }
            Some(_) => {
                self.stdout.push_str(&msg::zonecfg_overwriting(self.zone));
                self.stdout.push('\n');
            }
            None => {}
        }
        let config = match (blank, template) {
            (true, Some(_)) => return Err(msg::zonecfg_syntax_error("-t")),
            (true, None) | (false, None | Some("SUNWblank" | "SUNWdefault")) => {
                ZoneConfig::blank(self.host.default_brand)
            }
            (false, Some(name)) => {
                let mut copy = (self.host.lookup)(name).ok_or_else(|| msg::zonecfg_no_such_zone(name))?;
                copy.zonepath.clear();
                copy
            }
        };
        self.working = Some(config);
        self.dirty = true;
        Ok(())
    }

    fn set_global(&mut self, args: &[Token]) -> Result<(), String> {
        let (property, value) = property_assignment(args)?;
        let Value::Simple(value) = value else { return Err(msg::zonecfg_syntax_error(&property)) };
        let zone = self.zone;
        let installed = self.installed();
        let brands = self.host.brands;
        let config = self.working()?;
        match property.as_str() {
            "zonepath" | "brand" if installed => return Err(msg::zonecfg_set_after_install(zone, &property)),
            "zonepath" if !value.starts_with('/') || value == "/" => {
                return Err(msg::zonecfg_invalid_value(&property, &value));
            }
            "zonepath" => config.zonepath = value,
            "brand" if !brands.contains(&value) => return Err(msg::zonecfg_unknown_brand(&value)),
            "brand" => config.brand = value,
            "autoboot" => {
                config.autoboot = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(msg::zonecfg_invalid_value(&property, &value)),
                }
            }
            "ip-type" if value == "shared" || value == "exclusive" => config.ip_type = value,
            "ip-type" => return Err(msg::zonecfg_invalid_value(&property, &value)),
            name => {
                if let Some(global) = GLOBALS.iter().find(|g| **g == name) {
                    config.globals.insert(global, value);
                } else if let Some((_, rctl, action)) = ALIASES.iter().find(|(alias, _, _)| *alias == name) {
                    let limit = parse_count(&value).ok_or_else(|| msg::zonecfg_invalid_value(name, &value))?;
                    config.set_rctl(
                        rctl,
                        vec![RctlValue { privilege: "privileged".into(), limit, action: action.to_string() }],
                    );
                } else {
                    return Err(msg::zonecfg_unknown_property(zone, name));
                }
            }
        }
        self.dirty = true;
        Ok(())
    }

    fn clear_global(&mut self, args: &[Token]) -> Result<(), String> {
        let [Token::Word(property)] = args else { return Err(msg::zonecfg_syntax_error("clear")) };
        let zone = self.zone;
        let config = self.working()?;
        if let Some((_, rctl, _)) = ALIASES.iter().find(|(alias, _, _)| alias == property) {
            config.remove_rctl(rctl);
        } else if matches!(property.as_str(), "zonepath" | "brand" | "ip-type" | "autoboot") {
            return Err(msg::zonecfg_invalid_value("clear", property));
        } else if GLOBALS.contains(&property.as_str()) {
            config.globals.remove(property.as_str());
        } else {
            return Err(msg::zonecfg_unknown_property(zone, property));
        }
        self.dirty = true;
        Ok(())
    }

    fn add_resource(&mut self, args: &[Token]) -> Result<(), String> {
        let [Token::Word(kind)] = args else { return Err(msg::zonecfg_syntax_error("add")) };
        let zone = self.zone;
        let schema = schema(kind).ok_or_else(|| msg::zonecfg_unknown_resource(zone, kind))?;
        let config = self.working()?;
        match schema.kind {
            "capped-memory"
                if config.physical_memory.is_some()
                    || config.rctl("zone.max-swap").is_some()
                    || config.rctl("zone.max-locked-memory").is_some() =>
            {
                return Err(msg::zonecfg_capped_memory_exists());
            }
            "capped-cpu" if config.rctl("zone.cpu-cap").is_some() => return Err(msg::zonecfg_capped_cpu_exists()),
            _ => {}
        }
        let before = config.clone();
        self.scope = Some(Scope { resource: Resource::new(schema.kind), before, position: None, selected: false });
        Ok(())
    }

    fn select(&mut self, args: &[Token]) -> Result<(), String> {
        let Some(Token::Word(kind)) = args.first() else { return Err(msg::zonecfg_syntax_error("select")) };
        let zone = self.zone;
        let schema = schema(kind).ok_or_else(|| msg::zonecfg_unknown_resource(zone, kind))?;
        let filters = parse_filters(&args[1..])?;
        let config = self.working()?;
        let before = config.clone();
        let (resource, position) = take_matching(config, schema.kind, &filters, true)?;
        self.scope = Some(Scope { resource, before, position, selected: true });
        Ok(())
    }

    fn remove_resource(&mut self, args: &[Token]) -> Result<(), String> {
        let args = match args.first() {
            Some(Token::Word(w)) if w == "-F" => &args[1..],
            _ => args,
        };
        let Some(Token::Word(kind)) = args.first() else { return Err(msg::zonecfg_syntax_error("remove")) };
        let zone = self.zone;
        let schema = schema(kind).ok_or_else(|| msg::zonecfg_unknown_resource(zone, kind))?;
        let filters = parse_filters(&args[1..])?;
        let config = self.working()?;
        take_matching(config, schema.kind, &filters, false)?;
        self.dirty = true;
        Ok(())
    }

    fn delete(&mut self, args: &[Token]) -> Result<(), String> {
        let force = matches!(args, [Token::Word(f)] if f == "-F");
        if !force {
            self.stop = true;
            return Err(msg::zonecfg_delete_no_force());
        }
        match self.state {
            None => Err(msg::zonecfg_no_such_zone(self.zone)),
            Some(state) if state.has_kernel_zone() => {
                self.stop = true;
                Err(msg::zonecfg_invalid_state(self.zone))
            }
            Some(_) => {
                self.working = None;
                self.state = None;
                self.committed = None;
                self.deleted = true;
                self.dirty = false;
                self.stop = true;
                Ok(())
            }
        }
    }

    fn execute_in_resource(&mut self, command: &str, args: &[Token]) -> Result<(), String> {
        let zone = self.zone;
        let scope = self.scope.as_mut().expect("in a resource scope");
        let schema = schema(scope.resource.kind).expect("known kind");
        match command {
            "set" => {
                let (property, value) = property_assignment(args)?;
                if let Some(name) = schema.simple.iter().find(|p| **p == property) {
                    let Value::Simple(value) = value else { return Err(msg::zonecfg_syntax_error(&property)) };
                    scope.resource.props.insert(name, value);
                } else if let Some(name) = schema.lists.iter().find(|p| **p == property) {
                    scope.resource.lists.insert(name, value_items(value));
                } else {
                    return Err(msg::zonecfg_unknown_property(zone, &property));
                }
                Ok(())
            }
            "add" => {
                let Some(property) = args.first().and_then(Token::word) else {
                    return Err(msg::zonecfg_syntax_error("add"));
                };
                let name = schema
                    .lists
                    .iter()
                    .find(|p| **p == property)
                    .ok_or_else(|| msg::zonecfg_unknown_property(zone, property))?;
                let (value, used) = parse_value(&args[1..])?;
                if used + 1 != args.len() {
                    return Err(msg::zonecfg_syntax_error(&args[used + 1].text()));
                }
                scope.resource.lists.entry(name).or_default().extend(value_items(value));
                Ok(())
            }
            "remove" => {
                let Some(property) = args.first().and_then(Token::word) else {
                    return Err(msg::zonecfg_syntax_error("remove"));
                };
                let name = schema
                    .lists
                    .iter()
                    .find(|p| **p == property)
                    .ok_or_else(|| msg::zonecfg_unknown_property(zone, property))?;
                let (value, _) = parse_value(&args[1..])?;
                let items = value_items(value);
                scope.resource.lists.entry(name).or_default().retain(|item| !items.contains(item));
                Ok(())
            }
            "clear" => {
                let Some(property) = args.first().and_then(Token::word) else {
                    return Err(msg::zonecfg_syntax_error("clear"));
                };
                if schema.simple.contains(&property) {
                    scope.resource.props.remove(property);
                } else if schema.lists.contains(&property) {
                    scope.resource.lists.remove(property);
                } else {
                    return Err(msg::zonecfg_unknown_property(zone, property));
                }
                Ok(())
            }
            "cancel" => {
                let scope = self.scope.take().expect("in a resource scope");
                self.working = Some(scope.before);
                Ok(())
            }
            "end" => self.end_resource(),
            "info" => {
                let text = render_resource(&scope.resource);
                self.stdout.push_str(&text);
                Ok(())
            }
            other => Err(msg::zonecfg_scope(other)),
        }
    }

    fn end_resource(&mut self) -> Result<(), String> {
        let scope = self.scope.as_ref().expect("in a resource scope");
        let resource = scope.resource.clone();
        let schema = schema(resource.kind).expect("known kind");
        for required in schema.required {
            if !resource.props.contains_key(required) && !resource.lists.contains_key(required) {
                return Err(msg::zonecfg_not_specified(required));
            }
        }
        let (position, selected) = (scope.position, scope.selected);
        let config = self.working.as_mut().expect("a resource scope implies a configuration");
        check_resource(config, &resource, selected)?;
        match resource.kind {
            "capped-cpu" => {
                let ncpus = resource.prop("ncpus").unwrap_or_default();
                let percent = parse_ncpus(ncpus).ok_or_else(|| msg::zonecfg_invalid_value("ncpus", ncpus))?;
                config.set_rctl("zone.cpu-cap", vec![privileged(percent, "deny")]);
            }
            "capped-memory" => {
                if resource.props.is_empty() {
                    return Err(msg::zonecfg_not_specified("physical, swap or locked"));
                }
                let size = |name: &str| {
                    resource.prop(name).map(|v| parse_memory(v).ok_or_else(msg::zonecfg_bad_size)).transpose()
                };
                let (physical, swap, locked) = (size("physical")?, size("swap")?, size("locked")?);
                if physical.is_some_and(|p| p < 1 << 20) {
                    return Err(msg::zonecfg_physical_too_small());
                }
                if swap.is_some_and(|s| s < 50 << 20) {
                    return Err(msg::zonecfg_swap_too_small());
                }
                config.physical_memory = physical;
                if let Some(swap) = swap {
                    config.set_rctl("zone.max-swap", vec![privileged(swap, "deny")]);
                }
                if let Some(locked) = locked {
                    config.set_rctl("zone.max-locked-memory", vec![privileged(locked, "deny")]);
                }
            }
            "rctl" => {
                let name = resource.prop("name").unwrap_or_default().to_string();
                let values = resource
                    .lists
                    .get("value")
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(parse_rctl_value)
                    .collect::<Result<Vec<_>, _>>()?;
                match (position, config.rctls.iter().position(|(n, _)| *n == name)) {
                    (_, Some(i)) => config.rctls[i].1 = values,
                    (Some(i), None) => config.rctls.insert(i.min(config.rctls.len()), (name, values)),
                    (None, None) => config.rctls.push((name, values)),
                }
            }
            _ => match position {
                Some(i) => config.resources.insert(i.min(config.resources.len()), resource),
                None => config.resources.push(resource),
            },
        }
        self.scope = None;
        self.dirty = true;
        Ok(())
    }

    fn info(&mut self, args: &[Token]) -> Result<(), String> {
        let config = self.working.as_ref().ok_or_else(|| msg::zonecfg_no_such_zone(self.zone))?;
        let text = match args.first().and_then(Token::word) {
            None => render_info(self.zone, config),
            Some(property) if GLOBALS.contains(&property) || property == "zonename" => {
                let all = render_info(self.zone, config);
                all.lines()
                    .find(|l| l.starts_with(&format!("{property}:")))
                    .map(|l| format!("{l}\n"))
                    .unwrap_or_default()
            }
            Some(kind) => {
                let schema = schema(kind).ok_or_else(|| msg::zonecfg_unknown_resource(self.zone, kind))?;
                let filters = parse_filters(&args[1..])?;
                let blocks: Vec<String> = info_blocks(config)
                    .into_iter()
                    .filter(|(resource, _)| resource.kind == schema.kind && matches_filters(resource, &filters))
                    .map(|(_, text)| text)
                    .collect();
                if blocks.is_empty() { format!("{}\n", msg::zonecfg_no_such_resource(kind)) } else { blocks.concat() }
            }
        };
        self.stdout.push_str(&text);
        Ok(())
    }

    fn export(&mut self, args: &[Token]) -> Result<(), String> {
        if !args.is_empty() {
            return Err(msg::zonecfg_syntax_error(&args[0].text()));
        }
        let config = self.working.as_ref().ok_or_else(|| msg::zonecfg_no_such_zone(self.zone))?;
        self.stdout.push_str(&render_export(config, self.host.native_brand));
        Ok(())
    }
}

fn privileged(limit: u64, action: &str) -> RctlValue {
    RctlValue { privilege: "privileged".into(), limit, action: action.into() }
}

fn value_items(value: Value) -> Vec<Item> {
    match value {
        Value::Simple(s) => vec![Item::Simple(s)],
        Value::List(items) => items,
        Value::Complex(pairs) => vec![Item::Complex(pairs)],
    }
}

/// `PROP = VALUE` with nothing after it.
fn property_assignment(args: &[Token]) -> Result<(String, Value), String> {
    let property = args.first().and_then(Token::word).ok_or_else(|| msg::zonecfg_syntax_error("set"))?;
    if args.get(1) != Some(&Token::Eq) {
        return Err(msg::zonecfg_syntax_error(&args.get(1).map_or("end of line".into(), Token::text)));
    }
    let (value, used) = parse_value(&args[2..])?;
    if let Some(extra) = args.get(2 + used) {
        return Err(msg::zonecfg_syntax_error(&extra.text()));
    }
    Ok((property.to_string(), value))
}

/// `prop=value …` filters of `select`, `remove` and `info`.
fn parse_filters(args: &[Token]) -> Result<Vec<(String, String)>, String> {
    let mut filters = Vec::new();
    let mut at = 0;
    while at < args.len() {
        let key = args[at].word().ok_or_else(|| msg::zonecfg_syntax_error(&args[at].text()))?;
        if args.get(at + 1) != Some(&Token::Eq) {
            return Err(msg::zonecfg_syntax_error(key));
        }
        let value = args.get(at + 2).and_then(Token::word).ok_or_else(|| msg::zonecfg_syntax_error(key))?;
        filters.push((key.to_string(), value.to_string()));
        at += 3;
    }
    Ok(filters)
}

fn matches_filters(resource: &Resource, filters: &[(String, String)]) -> bool {
    filters.iter().all(|(k, v)| resource.prop(k) == Some(v.as_str()))
}

/// Removes the one resource of `kind` matching `filters` (for `select`, exactly one must
/// match; for `remove`, all matches go). Virtual resources are rebuilt from the rctls.
fn take_matching(
    config: &mut ZoneConfig,
    kind: &'static str,
    filters: &[(String, String)],
    exactly_one: bool,
) -> Result<(Resource, Option<usize>), String> {
    let mut resource = Resource::new(kind);
    match kind {
        "capped-cpu" => {
            let cap = config
                .rctl("zone.cpu-cap")
                .and_then(|v| v.first())
                .map(|v| v.limit)
                .ok_or_else(|| msg::zonecfg_no_such_resource(kind))?;
            resource.props.insert("ncpus", format_ncpus(cap));
            config.remove_rctl("zone.cpu-cap");
            Ok((resource, None))
        }
        "capped-memory" => {
            let swap = config.rctl("zone.max-swap").and_then(|v| v.first()).map(|v| v.limit);
            let locked = config.rctl("zone.max-locked-memory").and_then(|v| v.first()).map(|v| v.limit);
            if config.physical_memory.is_none() && swap.is_none() && locked.is_none() {
                return Err(msg::zonecfg_no_such_resource(kind));
            }
            for (name, value) in [("physical", config.physical_memory), ("swap", swap), ("locked", locked)] {
                if let Some(value) = value {
                    resource.props.insert(name, bytes_to_units(value));
                }
            }
            config.physical_memory = None;
            config.remove_rctl("zone.max-swap");
            config.remove_rctl("zone.max-locked-memory");
            Ok((resource, None))
        }
        "rctl" => {
            let matches: Vec<usize> = config
                .rctls
                .iter()
                .enumerate()
                .filter(|(_, (name, _))| filters.iter().all(|(k, v)| k == "name" && v == name))
                .map(|(i, _)| i)
                .collect();
            if matches.is_empty() || (exactly_one && matches.len() > 1) {
                return Err(msg::zonecfg_no_such_resource(kind));
            }
            let (name, values) = config.rctls.remove(matches[0]);
            if !exactly_one {
                config.rctls.retain(|(n, _)| !filters.iter().all(|(k, v)| k == "name" && v == n));
            }
            resource.props.insert("name", name);
            resource.lists.insert("value", values.iter().map(|v| Item::Complex(rctl_pairs(v))).collect());
            Ok((resource, Some(matches[0])))
        }
        _ => {
            let matches: Vec<usize> = config
                .resources
                .iter()
                .enumerate()
                .filter(|(_, r)| r.kind == kind && matches_filters(r, filters))
                .map(|(i, _)| i)
                .collect();
            if matches.is_empty() || (exactly_one && matches.len() > 1) {
                return Err(msg::zonecfg_no_such_resource(kind));
            }
            let first = config.resources.remove(matches[0]);
            if !exactly_one {
                config.resources.retain(|r| !(r.kind == kind && matches_filters(r, filters)));
            }
            Ok((first, Some(matches[0])))
        }
    }
}

/// Checks a finished resource against the others (duplicates) and its own values.
fn check_resource(config: &ZoneConfig, resource: &Resource, selected: bool) -> Result<(), String> {
    let same = |key: &str| {
        config
            .resources
            .iter()
            .any(|r| r.kind == resource.kind && r.prop(key).is_some() && r.prop(key) == resource.prop(key))
    };
    match resource.kind {
        "fs" => {
            let dir = resource.prop("dir").unwrap_or_default();
            if !dir.starts_with('/') {
                return Err(msg::zonecfg_invalid_value("dir", dir));
            }
            if same("dir") {
                return Err(msg::zonecfg_resource_exists("fs", "dir", dir));
            }
        }
        "net" => {
            let duplicate = config.nets().any(|n| {
                n.prop("physical") == resource.prop("physical")
                    && n.prop("address") == resource.prop("address")
                    && n.prop("allowed-address") == resource.prop("allowed-address")
            });
            if duplicate {
                return Err(msg::zonecfg_resource_exists(
                    "net",
                    "physical",
                    resource.prop("physical").unwrap_or_default(),
                ));
            }
            if let Some(vid) = resource.prop("vlan-id")
                && !vid.parse::<u16>().is_ok_and(|v| (1..=4094).contains(&v))
            {
                return Err(msg::zonecfg_invalid_value("vlan-id", vid));
            }
        }
        "dataset" if same("name") => {
            return Err(msg::zonecfg_resource_exists("dataset", "name", resource.prop("name").unwrap_or_default()));
        }
        "device" if same("match") => {
            return Err(msg::zonecfg_resource_exists("device", "match", resource.prop("match").unwrap_or_default()));
        }
        "attr" => {
            let name = resource.prop("name").unwrap_or_default();
            let valid_name = name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                && !name.starts_with("zone");
            if !valid_name {
                return Err(msg::zonecfg_invalid_value("name", name));
            }
            if same("name") {
                return Err(msg::zonecfg_resource_exists("attr", "name", name));
            }
            let value = resource.prop("value").unwrap_or_default();
            let valid_value = match resource.prop("type").unwrap_or_default() {
                "string" => true,
                "int" => value.parse::<i64>().is_ok(),
                "uint" => value.parse::<u64>().is_ok(),
                "boolean" => value == "true" || value == "false",
                other => return Err(msg::zonecfg_invalid_value("type", other)),
            };
            if !valid_value {
                return Err(msg::zonecfg_invalid_value("value", value));
            }
        }
        "rctl" => {
            let name = resource.prop("name").unwrap_or_default();
            if !KNOWN_RCTLS.contains(&name) {
                return Err(msg::zonecfg_invalid_value("name", name));
            }
            if !selected && config.rctl(name).is_some() {
                return Err(msg::zonecfg_resource_exists("rctl", "name", name));
            }
        }
        _ => {}
    }
    Ok(())
}

fn parse_rctl_value(item: &Item) -> Result<RctlValue, String> {
    let Item::Complex(pairs) = item else {
        return Err(msg::zonecfg_invalid_value("value", &render_item(item)));
    };
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let invalid = || msg::zonecfg_invalid_value("value", &render_item(item));
    let privilege = get("priv").filter(|p| matches!(*p, "basic" | "privileged" | "system")).ok_or_else(invalid)?;
    let limit = get("limit").and_then(parse_count).ok_or_else(invalid)?;
    let action =
        get("action").filter(|a| matches!(*a, "none" | "deny") || a.starts_with("signal=")).ok_or_else(invalid)?;
    if pairs.len() != 3 {
        return Err(invalid());
    }
    Ok(RctlValue { privilege: privilege.into(), limit, action: action.into() })
}

fn rctl_pairs(value: &RctlValue) -> Vec<(String, String)> {
    vec![
        ("priv".into(), value.privilege.clone()),
        ("limit".into(), value.limit.to_string()),
        ("action".into(), value.action.clone()),
    ]
}

/// A count, or a size with a K/M/G/T suffix (for `max-shm-memory`).
fn parse_count(text: &str) -> Option<u64> {
    text.parse().ok().or_else(|| parse_memory(text))
}

/// A memory size that must carry a scale suffix: `512M`, `1.5g`.
fn parse_memory(text: &str) -> Option<u64> {
    let last = text.chars().last()?.to_ascii_uppercase();
    if !matches!(last, 'K' | 'M' | 'G' | 'T') {
        return None;
    }
    crate::illumos::zonecfg::parse_size(text).filter(|&bytes| bytes > 0)
}

/// `1.5` → 150 (percent of a CPU).
fn parse_ncpus(text: &str) -> Option<u64> {
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    let percent = (value * 100.0).round();
    (1.0..1e9).contains(&percent).then_some(percent as u64)
}

fn format_ncpus(percent: u64) -> String {
    format!("{}.{:02}", percent / 100, percent % 100)
}

// ---------------------------------------------------------------------------------------
// Rendering

/// Values with characters the lexer treats specially are quoted on output.
fn render_word(value: &str) -> String {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || "=;,()[]\"#".contains(c)) {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

fn render_item(item: &Item) -> String {
    match item {
        Item::Simple(s) => render_word(s),
        Item::Complex(pairs) => {
            let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", render_word(v))).collect();
            format!("({})", inner.join(","))
        }
    }
}

/// `info` output (reference §1.7).
pub(crate) fn render_info(zone: &str, config: &ZoneConfig) -> String {
    let mut out = format!("zonename: {zone}\n");
    for global in GLOBALS {
        let value = match *global {
            "zonepath" => config.zonepath.clone(),
            "brand" => config.brand.clone(),
            "autoboot" => config.autoboot.to_string(),
            "ip-type" => config.ip_type.clone(),
            other => config.globals.get(other).cloned().unwrap_or_default(),
        };
        out.push_str(&format!("{global}: {}\n", info_value(&value)));
    }
    for (alias, rctl, _) in ALIASES {
        if let Some(value) = config.rctl(rctl).and_then(|v| v.first()) {
            out.push_str(&format!("[{alias}: {}]\n", value.limit));
        }
    }
    for (_, text) in info_blocks(config) {
        out.push_str(&text);
    }
    out
}

fn info_value(value: &str) -> String {
    if value.contains(' ') { format!("\"{value}\"") } else { value.to_string() }
}

/// Every resource block of `info`, in zonecfg's order, with the resource it shows.
fn info_blocks(config: &ZoneConfig) -> Vec<(Resource, String)> {
    let mut blocks = Vec::new();
    for kind in ["fs", "net", "device", "dedicated-cpu"] {
        for resource in config.resources.iter().filter(|r| r.kind == kind) {
            blocks.push((resource.clone(), render_resource(resource)));
        }
    }
    if let Some(cap) = config.rctl("zone.cpu-cap").and_then(|v| v.first()) {
        let mut resource = Resource::new("capped-cpu");
        resource.props.insert("ncpus", format_ncpus(cap.limit));
        blocks.push((resource, format!("capped-cpu:\n\t[ncpus: {}]\n", format_ncpus(cap.limit))));
    }
    let swap = config.rctl("zone.max-swap").and_then(|v| v.first()).map(|v| v.limit);
    let locked = config.rctl("zone.max-locked-memory").and_then(|v| v.first()).map(|v| v.limit);
    if config.physical_memory.is_some() || swap.is_some() || locked.is_some() {
        let mut text = String::from("capped-memory:\n");
        if let Some(physical) = config.physical_memory {
            text.push_str(&format!("\tphysical: {}\n", bytes_to_units(physical)));
        }
        if let Some(swap) = swap {
            text.push_str(&format!("\t[swap: {}]\n", bytes_to_units(swap)));
        }
        if let Some(locked) = locked {
            text.push_str(&format!("\t[locked: {}]\n", bytes_to_units(locked)));
        }
        blocks.push((Resource::new("capped-memory"), text));
    }
    for kind in ["attr", "dataset"] {
        for resource in config.resources.iter().filter(|r| r.kind == kind) {
            blocks.push((resource.clone(), render_resource(resource)));
        }
    }
    for (name, values) in &config.rctls {
        let mut resource = Resource::new("rctl");
        resource.props.insert("name", name.clone());
        let mut text = format!("rctl:\n\tname: {name}\n");
        for value in values {
            text.push_str(&format!("\tvalue: {}\n", render_item(&Item::Complex(rctl_pairs(value)))));
        }
        blocks.push((resource, text));
    }
    blocks
}

fn render_resource(resource: &Resource) -> String {
    let schema = schema(resource.kind).expect("known kind");
    let mut out = format!("{}:\n", resource.kind);
    // Newer `net` properties print only when set ([verify] whether they always print).
    let optional = ["global-nic", "mac-addr", "vlan-id"];
    for property in schema.simple {
        match resource.prop(property) {
            Some(value) => out.push_str(&format!("\t{property}: {}\n", info_value(value))),
            None if resource.kind == "net" && optional.contains(property) => {}
            None => out.push_str(&format!("\t{property} not specified\n")),
        }
    }
    for list in schema.lists {
        let items = resource.lists.get(list).map(Vec::as_slice).unwrap_or_default();
        if *list == "options" {
            let rendered: Vec<String> = items.iter().map(render_item).collect();
            out.push_str(&format!("\toptions: [{}]\n", rendered.join(",")));
        } else {
            for item in items {
                out.push_str(&format!("\t{list}: {}\n", render_item(item)));
            }
        }
    }
    out
}

/// `export` output (reference §1.8).
pub(crate) fn render_export(config: &ZoneConfig, native_brand: &str) -> String {
    let mut out = String::from("create -b\n");
    let set = |out: &mut String, name: &str, value: &str| out.push_str(&format!("set {name}={}\n", render_word(value)));
    set(&mut out, "zonepath", &config.zonepath);
    if config.brand != native_brand {
        set(&mut out, "brand", &config.brand);
    }
    set(&mut out, "autoboot", &config.autoboot.to_string());
    for global in ["bootargs", "pool", "limitpriv", "scheduling-class"] {
        if let Some(value) = config.globals.get(global).filter(|v| !v.is_empty()) {
            set(&mut out, global, value);
        }
    }
    set(&mut out, "ip-type", &config.ip_type);
    for global in ["hostid", "fs-allowed"] {
        if let Some(value) = config.globals.get(global).filter(|v| !v.is_empty()) {
            set(&mut out, global, value);
        }
    }
    let export_resource = |out: &mut String, resource: &Resource| {
        let schema = schema(resource.kind).expect("known kind");
        out.push_str(&format!("add {}\n", resource.kind));
        for property in schema.simple {
            if let Some(value) = resource.prop(property) {
                out.push_str(&format!("set {property}={}\n", render_word(value)));
            }
        }
        for list in schema.lists {
            for item in resource.lists.get(list).map(Vec::as_slice).unwrap_or_default() {
                out.push_str(&format!("add {list} {}\n", render_item(item)));
            }
        }
        out.push_str("end\n");
    };
    for kind in ["fs", "net", "device"] {
        for resource in config.resources.iter().filter(|r| r.kind == kind) {
            export_resource(&mut out, resource);
        }
    }
    if let Some(physical) = config.physical_memory {
        out.push_str(&format!("add capped-memory\nset physical={}\nend\n", bytes_to_units(physical)));
    }
    for (name, values) in &config.rctls {
        out.push_str(&format!("add rctl\nset name={name}\n"));
        for value in values {
            out.push_str(&format!("add value {}\n", render_item(&Item::Complex(rctl_pairs(value)))));
        }
        out.push_str("end\n");
    }
    for kind in ["attr", "dataset", "dedicated-cpu"] {
        for resource in config.resources.iter().filter(|r| r.kind == kind) {
            export_resource(&mut out, resource);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host<'static> {
        static BRANDS: std::sync::LazyLock<Vec<String>> =
            std::sync::LazyLock::new(|| ["ipkg", "lipkg", "sparse", "lx"].map(String::from).to_vec());
        Host { brands: &BRANDS, default_brand: "lipkg", native_brand: "native", file_name: "-", lookup: &|_| None }
    }

    fn run_file(existing: Option<(&ZoneConfig, ZoneState)>, script: &str) -> Outcome {
        run("web1", existing, script, Mode::File, &host())
    }

    const POD: &str = "create -b
set zonepath=\"/zones/web1\"
set brand=\"sparse\"
set autoboot=\"false\"
set ip-type=\"exclusive\"
set max-lwps=\"2000\"
add net
set physical=\"web1x0\"
set allowed-address=\"10.88.0.11/24\"
set defrouter=\"10.88.0.1\"
end
add capped-cpu
set ncpus=\"1.5\"
end
add capped-memory
set physical=\"512M\"
set swap=\"1G\"
end
add attr
set name=\"k8s-pod-uid\"
set type=\"string\"
set value=\"3f7c2a10-8c51-4b62-9a0e-2f6d1c9b7e11\"
end
add dataset
set name=\"tank/k8s/vols/pvc-1\"
end
";

    #[test]
    fn configures_and_exports_as_the_reference_shows() {
        let outcome = run_file(None, POD);
        assert_eq!((outcome.exit_code, outcome.stderr.as_str()), (0, ""));
        let config = outcome.committed.unwrap();
        // Reference §1.8, with our rctl insertion order (max-lwps first, as set first).
        let expected = "create -b
set zonepath=/zones/web1
set brand=sparse
set autoboot=false
set ip-type=exclusive
add net
set allowed-address=10.88.0.11/24
set physical=web1x0
set defrouter=10.88.0.1
end
add capped-memory
set physical=512M
end
add rctl
set name=zone.max-lwps
add value (priv=privileged,limit=2000,action=deny)
end
add rctl
set name=zone.cpu-cap
add value (priv=privileged,limit=150,action=deny)
end
add rctl
set name=zone.max-swap
add value (priv=privileged,limit=1073741824,action=deny)
end
add attr
set name=k8s-pod-uid
set type=string
set value=3f7c2a10-8c51-4b62-9a0e-2f6d1c9b7e11
end
add dataset
set name=tank/k8s/vols/pvc-1
end
";
        assert_eq!(render_export(&config, "native"), expected);
        // The export is itself a valid script that reproduces the configuration.
        let again = run_file(None, expected).committed.unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn info_matches_the_reference_layout() {
        let config = run_file(None, POD).committed.unwrap();
        let info = render_info("web1", &config);
        let expected_start = "zonename: web1\nzonepath: /zones/web1\nbrand: sparse\nautoboot: false\nbootargs: \npool: \n\
                              limitpriv: \nscheduling-class: \nip-type: exclusive\nhostid: \nfs-allowed: \n[max-lwps: 2000]\n\
                              net:\n\taddress not specified\n\tallowed-address: 10.88.0.11/24\n\tphysical: web1x0\n\
                              \tdefrouter: 10.88.0.1\ncapped-cpu:\n\t[ncpus: 1.50]\ncapped-memory:\n\tphysical: 512M\n\
                              \t[swap: 1G]\nattr:\n";
        assert!(info.starts_with(expected_start), "{info}");
        assert!(
            info.ends_with("rctl:\n\tname: zone.max-swap\n\tvalue: (priv=privileged,limit=1073741824,action=deny)\n")
        );
        let filtered =
            run("web1", Some((&config, ZoneState::Configured)), "info net physical=web1x0", Mode::OneShot, &host());
        assert!(filtered.stdout.starts_with("net:\n"));
        let none =
            run("web1", Some((&config, ZoneState::Configured)), "info net physical=nope", Mode::OneShot, &host());
        assert_eq!(none.stdout, "No such net resource.\n");
        let one = run("web1", Some((&config, ZoneState::Configured)), "info zonepath", Mode::OneShot, &host());
        assert_eq!(one.stdout, "zonepath: /zones/web1\n");
    }

    #[test]
    fn quoted_semicolons_are_data_and_bare_ones_are_commands() {
        let quoted = run_file(
            None,
            "create -b\nset zonepath=/z\nadd attr\nset name=note\nset type=string\nset value=\"a; delete -F\"\nend\n",
        );
        assert_eq!(quoted.exit_code, 0, "{}", quoted.stderr);
        let config = quoted.committed.unwrap();
        assert_eq!(config.resources[0].prop("value"), Some("a; delete -F"));
        // Unquoted, the `;` ends the command and `delete -F` runs (the injection we prevent).
        let injected = run_file(None, "create -b\nset zonepath=/z\ncommit\nset bootargs=a; delete -F\n");
        assert!(injected.deleted);
    }

    #[test]
    fn one_shot_input_is_re_lexed_from_joined_argv() {
        let outcome =
            run("web1", None, "create -b ; set zonepath=/zones/web1 ; set brand=sparse", Mode::OneShot, &host());
        assert_eq!(outcome.exit_code, 0, "{}", outcome.stderr);
        assert_eq!(outcome.committed.unwrap().brand, "sparse");
    }

    #[test]
    fn file_mode_stops_at_the_first_error_but_commits_what_came_before() {
        let script = "create -b\nset zonepath=/zones/web1\nset brand=sparse\nadd net\nset physical=web1x0\nset bogus=1\nend\nset autoboot=true\n";
        let outcome = run_file(None, script);
        assert_eq!(outcome.exit_code, 1);
        assert_eq!(outcome.stderr, "On line 6 of -:\nweb1: No such property type: bogus\n");
        let partial = outcome.committed.expect("the earlier part is committed");
        assert_eq!(partial.brand, "sparse");
        assert!(partial.nets().next().is_none(), "the unfinished net resource is dropped");
        assert!(!partial.autoboot, "nothing after the error ran");
    }

    #[test]
    fn one_shot_mode_continues_after_an_error() {
        let outcome =
            run("web1", None, "create -b; set frob=1; set zonepath=/z; set autoboot=true", Mode::OneShot, &host());
        assert_eq!(outcome.exit_code, 1);
        assert!(outcome.committed.unwrap().autoboot);
    }

    #[test]
    fn strictness() {
        let table: &[(&str, &str)] = &[
            ("create -b\nset zonepath=/z\nadd frob\n", "web1: No such resource type: frob"),
            ("create -b\nset zonepath=/z\nadd fs\nset dir=/a\nset bogus=1\n", "web1: No such property type: bogus"),
            ("create -b\nfrobnicate\n", "frobnicate: unknown command."),
            ("create -b\nset zonepath=/z\nset brand=solaris10\n", "solaris10: unknown brand."),
            ("create -b\nset autoboot=maybe\n", "autoboot: invalid value 'maybe'"),
            ("create -b\nset zonepath=relative\n", "zonepath: invalid value 'relative'"),
            ("create -b\nadd net\nend\n", "physical not specified"),
            ("create -b\nset zonepath=/z\nset limitpriv=\"default\n", "syntax error at '\"default'"),
            (
                "create -b\nadd capped-memory\nset physical=512\nend\n",
                "A positive number with a required scale suffix (K, M, G or T) was expected here.",
            ),
            (
                "create -b\nadd capped-memory\nset physical=512K\nend\n",
                "physical value is too small.  It must be at least 1M.",
            ),
            ("create -b\nadd capped-memory\nset swap=10M\nend\n", "swap value is too small.  It must be at least 50M."),
            (
                "create -b\nadd capped-memory\nset physical=1G\nend\nadd capped-memory\n",
                "The capped-memory resource or a related resource control already exists.",
            ),
            (
                "create -b\nadd rctl\nset name=zone.frob\nadd value (priv=privileged,limit=1,action=deny)\nend\n",
                "name: invalid value 'zone.frob'",
            ),
            (
                "create -b\nadd attr\nset name=zonename\nset type=string\nset value=x\nend\n",
                "name: invalid value 'zonename'",
            ),
            ("create -b\nadd attr\nset name=n\nset type=int\nset value=x\nend\n", "value: invalid value 'x'"),
            ("end\n", "end: not valid in this scope."),
            ("set zonepath=/z\n", "web1: No such zone configured"),
        ];
        for (script, error) in table {
            let outcome = run_file(None, script);
            assert_eq!(outcome.exit_code, 1, "{script}");
            assert!(outcome.stderr.contains(error), "{script:?}: {}", outcome.stderr);
        }
    }

    #[test]
    fn verify_rules_of_the_ip_type() {
        let base = "create -b\nset zonepath=/z\n";
        let cases = [
            (
                "set ip-type=exclusive\nadd net\nset physical=a0\nset address=10.0.0.1/24\nend\n",
                "net: address cannot be specified for an exclusive IP type",
            ),
            (
                "set ip-type=shared\nadd net\nset physical=a0\nset allowed-address=10.0.0.1/24\nend\n",
                "net: allowed-address cannot be specified for a shared IP type",
            ),
            (
                "set ip-type=exclusive\nadd net\nset physical=a0\nset defrouter=10.0.0.1\nend\n",
                "net: defrouter for a0 cannot be specified without allowed-address for an exclusive IP type",
            ),
        ];
        for (rest, error) in cases {
            let outcome = run_file(None, &format!("{base}{rest}"));
            assert_eq!(outcome.exit_code, 1);
            assert!(outcome.stderr.contains(error), "{}", outcome.stderr);
            assert!(outcome.stderr.contains("Zone web1 failed to verify"));
            assert!(outcome.committed.is_none(), "an invalid configuration is never committed");
        }
        let missing_path = run_file(None, "create -b\nset brand=sparse\n");
        assert!(missing_path.stderr.contains("zonepath not specified"));
        assert!(missing_path.committed.is_none());
    }

    #[test]
    fn create_and_delete_rules() {
        let config = run_file(None, "create -b\nset zonepath=/z\n").committed.unwrap();
        let again = run_file(Some((&config, ZoneState::Configured)), "create -b\nset zonepath=/y\n");
        assert_eq!(
            again.stderr,
            "On line 1 of -:\nZone exists, input not from terminal and -F not specified:\ncreate command ignored, exiting.\n"
        );
        assert!(again.committed.is_none());
        let forced = run_file(Some((&config, ZoneState::Configured)), "create -F -b\nset zonepath=/y\n");
        assert_eq!(forced.stdout, "Zone web1 already exists; overwriting.\n");
        assert_eq!(forced.committed.unwrap().zonepath, "/y");
        let installed = run_file(Some((&config, ZoneState::Installed)), "create -F -b\n");
        assert!(installed.stderr.contains("Zone web1 already installed; create not allowed."));
        let brand_change = run_file(Some((&config, ZoneState::Installed)), "set brand=lx\n");
        assert!(brand_change.stderr.contains("Zone web1 already installed; set brand not allowed."));
        let autoboot = run_file(Some((&config, ZoneState::Installed)), "set autoboot=true\n");
        assert!(autoboot.committed.unwrap().autoboot);
        let no_force = run("web1", Some((&config, ZoneState::Configured)), "delete", Mode::OneShot, &host());
        assert!(no_force.stderr.contains("delete command ignored, exiting."));
        assert!(!no_force.deleted);
        let deleted = run("web1", Some((&config, ZoneState::Installed)), "delete -F", Mode::OneShot, &host());
        assert!(deleted.deleted && deleted.exit_code == 0);
        let running = run("web1", Some((&config, ZoneState::Running)), "delete -F", Mode::OneShot, &host());
        assert!(!running.deleted && running.exit_code == 1);
        let missing = run("web1", None, "export", Mode::OneShot, &host());
        assert_eq!((missing.exit_code, missing.stderr.as_str()), (1, "web1: No such zone configured\n"));
    }

    #[test]
    fn select_modify_remove_and_cancel() {
        let config = run_file(None, POD).committed.unwrap();
        let existing = Some((&config, ZoneState::Configured));
        let modified =
            run_file(existing, "select net physical=web1x0\nset defrouter=10.88.0.254\nend\n").committed.unwrap();
        assert_eq!(modified.nets().next().unwrap().prop("defrouter"), Some("10.88.0.254"));
        let cancelled = run_file(existing, "select net physical=web1x0\nclear defrouter\ncancel\nset autoboot=true\n");
        assert_eq!(cancelled.committed.unwrap().nets().next().unwrap().prop("defrouter"), Some("10.88.0.1"));
        let cpu = run_file(existing, "select capped-cpu\nset ncpus=2\nend\n").committed.unwrap();
        assert_eq!(cpu.rctl("zone.cpu-cap").unwrap()[0].limit, 200);
        let removed =
            run_file(existing, "remove dataset name=tank/k8s/vols/pvc-1\nremove capped-memory\n").committed.unwrap();
        assert!(removed.resources.iter().all(|r| r.kind != "dataset"));
        assert_eq!(removed.physical_memory, None);
        assert!(removed.rctl("zone.max-swap").is_none());
        let missing = run_file(existing, "select net physical=nope\n");
        assert!(missing.stderr.contains("No such net resource."));
    }

    #[test]
    fn fs_options_and_net_properties() {
        let script = "create -b\nset zonepath=/z\nset brand=lx\nset ip-type=exclusive\nadd fs\nset dir=/data\nset special=/srv/data\n\
                      set type=lofs\nadd options [ro,nodevices]\nadd options \"size=64m\"\nend\nadd net\nset physical=app0\n\
                      add property (name=ips,value=\"10.0.0.7/24\")\nadd property (name=primary,value=true)\nend\n";
        let outcome = run_file(None, script);
        assert_eq!(outcome.exit_code, 0, "{}", outcome.stderr);
        let export = render_export(&outcome.committed.unwrap(), "native");
        assert!(export.contains("add options ro\nadd options nodevices\nadd options \"size=64m\"\n"), "{export}");
        assert!(
            export.contains("add property (name=ips,value=10.0.0.7/24)\nadd property (name=primary,value=true)\n"),
            "{export}"
        );
        let duplicate = run_file(
            None,
            "create -b\nadd fs\nset dir=/a\nset special=/b\nset type=lofs\nend\nadd fs\nset dir=/a\nset special=/c\nset type=lofs\nend\n",
        );
        assert!(duplicate.stderr.contains("A fs resource with the dir '/a' already exists."));
    }

    #[test]
    fn comments_and_blank_lines_are_ignored() {
        let outcome = run_file(None, "# a comment\n\ncreate -b\n   set zonepath=/z   # trailing\n");
        assert_eq!(outcome.exit_code, 0, "{}", outcome.stderr);
    }
}
