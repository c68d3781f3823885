//! zonecfg(8): the command file generated from a [`ZonePlan`], the commands that apply,
//! export and delete a configuration, and a parser of `export` output into a semantic
//! [`ZoneConfig`] so the runtime can tell whether a zone is already configured as planned.
//!
//! zonecfg re-parses its input with its own lexer (reference §1.1): every value we emit is
//! double-quoted, and a value that cannot be quoted (a double quote, a backslash, a control
//! character such as a newline) is rejected rather than escaped, because the lexer has no
//! escapes. The script goes to `zonecfg -z ZONE -f -` on stdin, never through argv.

use std::collections::BTreeMap;

use crate::illumos::exec::CommandSpec;
use crate::illumos::profile::{PlatformProfile, Tool};
use crate::logic::naming;
use crate::logic::zone_plan::{FsPlan, ZonePlan};

/// The libzonecfg text for a zone that does not exist (`ZONE: No such zone configured`).
pub const NO_SUCH_ZONE: &str = "No such zone configured";

/// Why a zonecfg command could not be built or its output understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZonecfgError {
    /// The zone name breaks the zonecfg rules.
    #[error(transparent)]
    InvalidName(#[from] naming::NameError),
    /// A value cannot be double-quoted safely.
    #[error("zone {zone}: {field} value '{value}' cannot be quoted for zonecfg: {reason}")]
    UnquotableValue {
        /// The zone.
        zone: String,
        /// The property.
        field: String,
        /// The value, escaped for display.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// `zonecfg export` printed something this parser does not understand.
    #[error("zone {zone}: cannot parse export line {line}: '{text}': {detail}")]
    Export {
        /// The zone.
        zone: String,
        /// The 1-based line number.
        line: usize,
        /// The line.
        text: String,
        /// What was wrong.
        detail: &'static str,
    },
}

/// `zonecfg -z ZONE -f -` with the command file on stdin.
pub fn configure(profile: &PlatformProfile, zone: &str, script: &str) -> Result<CommandSpec, ZonecfgError> {
    naming::check_zone_name(zone)?;
    Ok(profile.command(Tool::Zonecfg).args(["-z", zone, "-f", profile.zonecfg_stdin_file]).stdin(script.as_bytes()))
}

/// `zonecfg -z ZONE export`.
pub fn export(profile: &PlatformProfile, zone: &str) -> Result<CommandSpec, ZonecfgError> {
    naming::check_zone_name(zone)?;
    Ok(profile.command(Tool::Zonecfg).args(["-z", zone, "export"]))
}

/// `zonecfg -z ZONE delete -F`: removes the configuration whatever state it is in.
pub fn delete(profile: &PlatformProfile, zone: &str) -> Result<CommandSpec, ZonecfgError> {
    naming::check_zone_name(zone)?;
    Ok(profile.command(Tool::Zonecfg).args(["-z", zone, "delete", "-F"]))
}

/// Double-quotes one value for zonecfg, or refuses it.
pub fn quote(zone: &str, field: &str, value: &str) -> Result<String, ZonecfgError> {
    let reason = if value.contains('"') {
        "it contains a double quote"
    } else if value.contains('\\') {
        "it contains a backslash"
    } else if value.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(format!("\"{value}\""));
    };
    Err(ZonecfgError::UnquotableValue {
        zone: zone.to_string(),
        field: field.to_string(),
        value: value.escape_debug().to_string(),
        reason,
    })
}

/// The zonecfg command file for a plan: `create -b`, the attributes, the global
/// properties, one block per other resource, then `commit`.
pub fn render_script(plan: &ZonePlan) -> Result<String, ZonecfgError> {
    naming::check_zone_name(&plan.zone_name)?;
    let zone = plan.zone_name.as_str();
    let mut out = Script { zone, text: String::from("create -b\n") };
    // Attributes come first: `verify` needs a zonepath, so any configuration zonecfg commits
    // (even a partial one, reference §1.2) already carries the attributes that mark the
    // zone as Reddwarf's, and a later attempt may safely replace it.
    for (name, value) in &plan.attrs {
        out.line("add attr");
        out.set("name", name)?;
        out.set("type", "string")?;
        out.set("value", value)?;
        out.line("end");
    }
    out.set("zonepath", &plan.zonepath)?;
    out.set("brand", &plan.brand)?;
    out.set("autoboot", if plan.autoboot { "true" } else { "false" })?;
    out.set("ip-type", plan.ip_type.as_str())?;

    out.line("add net");
    out.set("physical", &plan.net.physical)?;
    if let Some(address) = &plan.net.allowed_address {
        out.set("allowed-address", address)?;
    }
    if let Some(router) = &plan.net.defrouter {
        out.set("defrouter", router)?;
    }
    for (name, value) in &plan.net.properties {
        let name = bare_word(zone, "net property name", name)?;
        let value = quote(zone, name, value)?;
        out.line(&format!("add property (name={name},value={value})"));
    }
    out.line("end");

    if let Some(cap) = plan.cpu_cap {
        out.line("add capped-cpu");
        out.set("ncpus", &cap.ncpus())?;
        out.line("end");
    }
    if let Some(bytes) = plan.physical_memory {
        out.line("add capped-memory");
        out.set("physical", &exact_size(bytes))?;
        out.line("end");
    }
    if let Some(lwps) = plan.max_lwps {
        out.line("add rctl");
        out.set("name", "zone.max-lwps")?;
        out.line(&format!("add value {}", rctl_value(u64::from(lwps), "deny")));
        out.line("end");
    }
    for fs in &plan.filesystems {
        out.line("add fs");
        out.set("dir", &fs.dir)?;
        out.set("special", &fs.special)?;
        out.set("type", &fs.fs_type)?;
        if !fs.options.is_empty() {
            let options: Vec<String> =
                fs.options.iter().map(|o| quote(zone, "options", o)).collect::<Result<_, _>>()?;
            out.line(&format!("add options [{}]", options.join(",")));
        }
        out.line("end");
    }
    out.line("commit");
    Ok(out.text)
}

struct Script<'a> {
    zone: &'a str,
    text: String,
}

impl Script<'_> {
    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn set(&mut self, property: &str, value: &str) -> Result<(), ZonecfgError> {
        let quoted = quote(self.zone, property, value)?;
        self.line(&format!("set {property}={quoted}"));
        Ok(())
    }
}

fn bare_word<'a>(zone: &str, field: &str, word: &'a str) -> Result<&'a str, ZonecfgError> {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        Ok(word)
    } else {
        Err(ZonecfgError::UnquotableValue {
            zone: zone.to_string(),
            field: field.to_string(),
            value: word.escape_debug().to_string(),
            reason: "only letters, digits, '-', '_' and '.' are allowed here",
        })
    }
}

/// An rctl value as zonecfg writes it: `(priv=privileged,limit=N,action=ACTION)`.
pub fn rctl_value(limit: u64, action: &str) -> String {
    format!("(priv=privileged,limit={limit},action={action})")
}

/// A byte count in the largest unit (K, M, G, T) that holds it exactly; zonecfg requires a
/// scale suffix. Counts below 1 KiB, or not a multiple of it, are rounded up to whole KiB.
pub fn exact_size(bytes: u64) -> String {
    let mut value = bytes.div_ceil(1024).max(1);
    for unit in ["K", "M", "G"] {
        if !value.is_multiple_of(1024) {
            return format!("{value}{unit}");
        }
        value /= 1024;
    }
    format!("{value}T")
}

/// How zonecfg prints a byte count in `info` and `export` ("bytes_to_units", reference
/// §1.7): divide by 1024 (rounding) while the value is at least 1024, up to `T`; print one
/// decimal when the last division was inexact and the result is below 10. Lossy.
pub fn bytes_to_units(bytes: u64) -> String {
    if bytes < 1024 {
        return bytes.to_string();
    }
    let units = ['K', 'M', 'G', 'T'];
    let (mut value, mut unit) = (bytes, 0usize);
    let before = loop {
        let before = value;
        value = (value + 512) >> 10;
        if value < 1024 || unit + 1 == units.len() {
            break before;
        }
        unit += 1;
    };
    if before % 1024 != 0 && (before >> 10) < 10 {
        format!("{:.1}{}", before as f64 / 1024.0, units[unit])
    } else {
        format!("{value}{}", units[unit])
    }
}

/// Parses a zonecfg size (`512M`, `1.5g`, `1024`): the number of bytes, or `None`.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, multiplier) = match text.chars().last()?.to_ascii_uppercase() {
        'K' => (&text[..text.len() - 1], 1u64 << 10),
        'M' => (&text[..text.len() - 1], 1 << 20),
        'G' => (&text[..text.len() - 1], 1 << 30),
        'T' => (&text[..text.len() - 1], 1 << 40),
        _ => (text, 1),
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let bytes = value * multiplier as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then(|| bytes.round() as u64)
}

/// A zone configuration in the form `export` shows it, normalised for comparison: aliases
/// appear as rctls (capped-cpu is `zone.cpu-cap`), resources are sorted, sizes are in
/// zonecfg's own (lossy) rendering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneConfig {
    /// `zonepath`.
    pub zonepath: String,
    /// `brand`; `None` when export omitted it (the native brand).
    pub brand: Option<String>,
    /// `autoboot`.
    pub autoboot: bool,
    /// `ip-type`.
    pub ip_type: String,
    /// Other global properties that are set (`limitpriv`, `pool`, …).
    pub other_globals: BTreeMap<String, String>,
    /// `net` resources, sorted.
    pub nets: Vec<NetConfig>,
    /// `capped-memory physical`, as [`bytes_to_units`] prints it.
    pub physical_memory: Option<String>,
    /// rctl name → its values, normalised (`(action=deny,limit=150,priv=privileged)`).
    pub rctls: BTreeMap<String, Vec<String>>,
    /// `fs` resources, sorted, options sorted.
    pub filesystems: Vec<FsPlan>,
    /// `attr` name → (type, value).
    pub attrs: BTreeMap<String, (String, String)>,
    /// Delegated `dataset` names, sorted.
    pub datasets: Vec<String>,
    /// Other resources (`device`, `dedicated-cpu`, …) as `type prop=value …` lines.
    pub other_resources: Vec<String>,
}

/// A `net` resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct NetConfig {
    /// `physical`.
    pub physical: String,
    /// `allowed-address`.
    pub allowed_address: Option<String>,
    /// `defrouter`.
    pub defrouter: Option<String>,
    /// `property` entries, as (name, value).
    pub properties: Vec<(String, String)>,
    /// Other net properties (`global-nic`, `mac-addr`, …).
    pub other: BTreeMap<String, String>,
}

impl ZoneConfig {
    /// What `export` shows for a zone configured from `plan`.
    pub fn from_plan(plan: &ZonePlan, profile: &PlatformProfile) -> Self {
        let mut rctls = BTreeMap::new();
        if let Some(cap) = plan.cpu_cap {
            rctls.insert("zone.cpu-cap".to_string(), vec![normalise_complex(&rctl_value(cap.percent.into(), "deny"))]);
        }
        if let Some(lwps) = plan.max_lwps {
            rctls.insert("zone.max-lwps".to_string(), vec![normalise_complex(&rctl_value(lwps.into(), "deny"))]);
        }
        let mut filesystems: Vec<FsPlan> = plan.filesystems.iter().cloned().map(sorted_options).collect();
        filesystems.sort();
        Self {
            zonepath: plan.zonepath.clone(),
            brand: (plan.brand != profile.native_brand).then(|| plan.brand.clone()),
            autoboot: plan.autoboot,
            ip_type: plan.ip_type.as_str().to_string(),
            other_globals: BTreeMap::new(),
            nets: vec![NetConfig {
                physical: plan.net.physical.clone(),
                allowed_address: plan.net.allowed_address.clone(),
                defrouter: plan.net.defrouter.clone(),
                properties: plan.net.properties.clone(),
                other: BTreeMap::new(),
            }],
            physical_memory: plan.physical_memory.map(bytes_to_units),
            rctls,
            filesystems,
            attrs: plan.attrs.iter().map(|(n, v)| (n.clone(), ("string".to_string(), v.clone()))).collect(),
            datasets: Vec::new(),
            other_resources: Vec::new(),
        }
    }
}

fn sorted_options(mut fs: FsPlan) -> FsPlan {
    fs.options.sort();
    fs
}

/// Sorts the `key=value` pairs of a complex value so that equal values compare equal.
fn normalise_complex(value: &str) -> String {
    let inner = value.trim().trim_start_matches('(').trim_end_matches(')');
    let mut pairs: Vec<String> = inner
        .split(',')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim(), unquote(v.trim())),
            None => pair.trim().to_string(),
        })
        .collect();
    pairs.sort();
    format!("({})", pairs.join(","))
}

fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

/// Splits `(name=ips,value="10.0.0.7/24")` into its pairs.
fn complex_pairs(value: &str) -> BTreeMap<String, String> {
    let inner = value.trim().trim_start_matches('(').trim_end_matches(')');
    let mut pairs = BTreeMap::new();
    let (mut key, mut current, mut quoted) = (String::new(), String::new(), false);
    for c in inner.chars().chain(std::iter::once(',')) {
        match c {
            '"' => quoted = !quoted,
            '=' if !quoted && key.is_empty() => key = std::mem::take(&mut current),
            ',' if !quoted => {
                pairs.insert(std::mem::take(&mut key).trim().to_string(), std::mem::take(&mut current));
            }
            c => current.push(c),
        }
    }
    pairs
}

/// Parses `zonecfg -z ZONE export` output.
pub fn parse_export(zone: &str, text: &str) -> Result<ZoneConfig, ZonecfgError> {
    let mut config = ZoneConfig { ip_type: "shared".into(), ..ZoneConfig::default() };
    let mut open: Option<(String, BTreeMap<String, String>, Vec<String>)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let error =
            |detail| ZonecfgError::Export { zone: zone.to_string(), line: index + 1, text: raw.to_string(), detail };
        if line.is_empty() || line.starts_with('#') || line.starts_with("create") {
            continue;
        }
        if line == "end" {
            let (kind, props, lists) = open.take().ok_or_else(|| error("'end' outside a resource"))?;
            close_resource(&mut config, &kind, props, lists);
        } else if let Some(rest) = line.strip_prefix("set ") {
            let (key, value) = rest.split_once('=').ok_or_else(|| error("'set' without '='"))?;
            let (key, value) = (key.trim().to_string(), unquote(value.trim()).to_string());
            match &mut open {
                Some((_, props, _)) => {
                    props.insert(key, value);
                }
                None => set_global(&mut config, key, value),
            }
        } else if let Some(rest) = line.strip_prefix("add ") {
            let (what, value) = rest.split_once(' ').map_or((rest, ""), |(w, v)| (w, v.trim()));
            match (&mut open, value.is_empty()) {
                (None, true) => open = Some((what.to_string(), BTreeMap::new(), Vec::new())),
                (Some((_, _, lists)), false) => {
                    let items = value.trim_start_matches('[').trim_end_matches(']');
                    if value.starts_with('(') {
                        lists.push(format!("{what} {value}"));
                    } else {
                        lists.extend(items.split(',').map(|item| format!("{what} {}", unquote(item.trim()))));
                    }
                }
                _ => return Err(error("unexpected 'add'")),
            }
        } else {
            return Err(error("unknown command"));
        }
    }
    if open.is_some() {
        let lines = text.lines().count();
        return Err(ZonecfgError::Export {
            zone: zone.to_string(),
            line: lines,
            text: String::new(),
            detail: "unterminated resource",
        });
    }
    config.nets.sort();
    config.filesystems.sort();
    config.datasets.sort();
    config.other_resources.sort();
    Ok(config)
}

fn set_global(config: &mut ZoneConfig, key: String, value: String) {
    match key.as_str() {
        "zonepath" => config.zonepath = value,
        "brand" => config.brand = Some(value),
        "autoboot" => config.autoboot = value == "true",
        "ip-type" => config.ip_type = value,
        _ => {
            config.other_globals.insert(key, value);
        }
    }
}

fn close_resource(config: &mut ZoneConfig, kind: &str, mut props: BTreeMap<String, String>, lists: Vec<String>) {
    let mut take = |key: &str| props.remove(key);
    match kind {
        "net" => {
            let properties = lists
                .iter()
                .filter_map(|item| item.strip_prefix("property "))
                .map(complex_pairs)
                .map(|mut pairs| (pairs.remove("name").unwrap_or_default(), pairs.remove("value").unwrap_or_default()))
                .collect();
            config.nets.push(NetConfig {
                physical: take("physical").unwrap_or_default(),
                allowed_address: take("allowed-address"),
                defrouter: take("defrouter"),
                properties,
                other: props,
            });
        }
        "fs" => {
            let mut options: Vec<String> =
                lists.iter().filter_map(|item| item.strip_prefix("options ")).map(str::to_string).collect();
            options.sort();
            config.filesystems.push(FsPlan {
                dir: take("dir").unwrap_or_default(),
                special: take("special").unwrap_or_default(),
                fs_type: take("type").unwrap_or_default(),
                options,
            });
        }
        "capped-memory" => config.physical_memory = take("physical"),
        "rctl" => {
            let name = take("name").unwrap_or_default();
            let values = lists.iter().filter_map(|item| item.strip_prefix("value ")).map(normalise_complex).collect();
            config.rctls.insert(name, values);
        }
        "attr" => {
            let name = take("name").unwrap_or_default();
            config.attrs.insert(name, (take("type").unwrap_or_default(), take("value").unwrap_or_default()));
        }
        "dataset" => config.datasets.push(take("name").unwrap_or_default()),
        other => {
            let mut line = other.to_string();
            for (key, value) in &props {
                line.push_str(&format!(" {key}={value}"));
            }
            for item in &lists {
                line.push_str(&format!(" {item}"));
            }
            config.other_resources.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::zone_plan::plan_zone;
    use crate::logic::zone_plan::tests::{representative_network, representative_node, representative_pod};

    const GOLDEN: &str = include_str!("../../tests/fixtures/zonecfg/representative-pod.cfg");

    fn representative_plan() -> ZonePlan {
        plan_zone(&representative_pod(), &representative_node(), &representative_network()).unwrap()
    }

    #[test]
    fn golden_script_for_a_representative_pod() {
        let script = render_script(&representative_plan()).unwrap();
        assert_eq!(
            script, GOLDEN,
            "regenerate tests/fixtures/zonecfg/representative-pod.cfg if this change is intended"
        );
    }

    #[test]
    fn the_script_goes_to_stdin_never_argv() {
        let profile = PlatformProfile::omnios();
        let spec = configure(&profile, "shop_web-1", "create -b\n").unwrap();
        assert_eq!(spec.argv(), ["/usr/sbin/zonecfg", "-z", "shop_web-1", "-f", "-"]);
        assert_eq!(spec.stdin.as_deref(), Some(&b"create -b\n"[..]));
        assert_eq!(delete(&profile, "z1").unwrap().argv(), ["/usr/sbin/zonecfg", "-z", "z1", "delete", "-F"]);
        assert_eq!(
            export(&profile.clone().with_pfexec(), "z1").unwrap().argv(),
            ["/usr/bin/pfexec", "/usr/sbin/zonecfg", "-z", "z1", "export"]
        );
        assert!(configure(&profile, "global", "").is_err());
        assert!(export(&profile, "a;b").is_err());
    }

    #[test]
    fn values_are_quoted_or_refused() {
        let table = [
            ("plain", Some("\"plain\"")),
            ("a; delete -F", Some("\"a; delete -F\"")),
            ("with space, comma=eq [x] (y)", Some("\"with space, comma=eq [x] (y)\"")),
            ("", Some("\"\"")),
            ("x\"; delete -F; \"", None),
            ("line\nadd attr", None),
            ("cr\rx", None),
            ("back\\slash", None),
        ];
        for (value, expected) in table {
            assert_eq!(quote("z", "value", value).ok().as_deref(), expected, "{value:?}");
        }
    }

    #[test]
    fn the_renderer_refuses_what_the_planner_would_have_refused() {
        let mut plan = representative_plan();
        plan.attrs.push(("note".into(), "x\"\nadd fs".into()));
        assert!(matches!(render_script(&plan), Err(ZonecfgError::UnquotableValue { .. })));
        let mut plan = representative_plan();
        plan.net.properties.push(("ips) ; delete -F".into(), "x".into()));
        assert!(render_script(&plan).is_err());
    }

    #[test]
    fn sizes() {
        for (bytes, exact) in
            [(512 << 20, "512M"), (1 << 30, "1G"), (1536 << 20, "1536M"), (1000, "1K"), (3 << 40, "3T")]
        {
            assert_eq!(exact_size(bytes), exact);
            assert_eq!(parse_size(exact).map(exact_size).as_deref(), Some(exact));
        }
        let units = [
            (1000, "1000"),
            (1024, "1K"),
            (1536, "1.5K"),
            (512 << 20, "512M"),
            (1536 << 20, "1.5G"),
            (1 << 30, "1G"),
            (10_737_418_240 + (512 << 20), "11G"),
            (5 << 40, "5T"),
            (5000 << 40, "5000T"),
        ];
        for (bytes, text) in units {
            assert_eq!(bytes_to_units(bytes), text, "{bytes}");
        }
        for (text, bytes) in
            [("50m", Some(50 << 20)), ("1.5G", Some(1536 << 20)), ("12", Some(12)), ("x", None), ("", None)]
        {
            assert_eq!(parse_size(text), bytes, "{text}");
        }
    }

    /// The export example of reference §1.8.
    const EXPORT_FIXTURE: &str = "create -b
set zonepath=/zones/k8s_web1
set brand=sparse
set autoboot=false
set limitpriv=default
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
set name=zone.cpu-shares
add value (priv=privileged,limit=10,action=none)
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

    #[test]
    fn parses_the_reference_export() {
        let config = parse_export("k8s_web1", EXPORT_FIXTURE).unwrap();
        assert_eq!(config.zonepath, "/zones/k8s_web1");
        assert_eq!(config.brand.as_deref(), Some("sparse"));
        assert!(!config.autoboot);
        assert_eq!(config.ip_type, "exclusive");
        assert_eq!(config.other_globals, BTreeMap::from([("limitpriv".to_string(), "default".to_string())]));
        assert_eq!(
            config.nets,
            [NetConfig {
                physical: "web1x0".into(),
                allowed_address: Some("10.88.0.11/24".into()),
                defrouter: Some("10.88.0.1".into()),
                ..NetConfig::default()
            }]
        );
        assert_eq!(config.physical_memory.as_deref(), Some("512M"));
        assert_eq!(config.rctls["zone.cpu-cap"], ["(action=deny,limit=150,priv=privileged)"]);
        assert_eq!(config.rctls.len(), 4);
        assert_eq!(config.attrs["k8s-pod-uid"].1, "3f7c2a10-8c51-4b62-9a0e-2f6d1c9b7e11");
        assert_eq!(config.datasets, ["tank/k8s/vols/pvc-1"]);
    }

    #[test]
    fn parses_fs_options_properties_and_unknown_resources() {
        let text = "create -b\nset zonepath=/z\nadd fs\nset dir=/data\nset special=/srv\nset type=lofs\n\
                    add options nodevices\nadd options ro\nend\nadd net\nset physical=a0\nset global-nic=stub0\n\
                    add property (name=ips,value=\"10.0.0.7/24\")\nend\nadd device\nset match=/dev/zvol/rdsk/x\nend\n";
        let config = parse_export("z", text).unwrap();
        assert_eq!(config.filesystems[0].options, ["nodevices", "ro"]);
        assert_eq!(config.nets[0].properties, [("ips".to_string(), "10.0.0.7/24".to_string())]);
        assert_eq!(config.nets[0].other["global-nic"], "stub0");
        assert_eq!(config.other_resources, ["device match=/dev/zvol/rdsk/x"]);
        assert!(parse_export("z", "add net\nset physical=a0\n").is_err());
        assert!(parse_export("z", "end\n").is_err());
        assert!(parse_export("z", "frobnicate\n").is_err());
    }

    #[test]
    fn a_plan_compares_equal_to_its_export_and_not_to_a_drifted_one() {
        let profile = PlatformProfile::omnios();
        let plan = representative_plan();
        let expected = ZoneConfig::from_plan(&plan, &profile);
        assert_eq!(expected.physical_memory.as_deref(), Some("576M"));
        assert_eq!(expected.rctls["zone.cpu-cap"], ["(action=deny,limit=200,priv=privileged)"]);
        let mut drifted = expected.clone();
        drifted.nets[0].defrouter = Some("10.0.0.254".into());
        assert_ne!(expected, drifted);
    }
}
