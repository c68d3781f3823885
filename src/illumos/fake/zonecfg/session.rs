//! A zonecfg session: global and resource scopes, every subcommand, and the end-of-input
//! and error behaviour of reference §1.2 (one-shot input continues after errors; `-f`
//! stops at the first one; both commit what was accumulated).

use super::lexer::*;
use super::messages as msg;
use super::model::*;
use super::render::*;
use crate::illumos::zoneadm::ZoneState;
use crate::illumos::zonecfg::bytes_to_units;

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
