//! The FakeHost's ZFS: a dataset tree per pool with typed properties, mountpoint
//! inheritance, quotas that bound `avail`, snapshots and clones, and the `zfs` subcommands
//! `create`, `destroy`, `list`, `get`, `set`, `snapshot` and `clone` with their output
//! formats (`-H` TABs, `-p` exact numbers, `-` for not applicable) and errors
//! (reference §6).

use std::collections::{BTreeMap, BTreeSet};

use super::args::{fail, getopt, has, ok, value, values};
use super::messages as msg;
use crate::illumos::exec::CommandOutput;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Filesystem,
    Snapshot,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Filesystem => "filesystem",
            Kind::Snapshot => "snapshot",
        }
    }
}

#[derive(Clone, Debug)]
struct Dataset {
    kind: Kind,
    /// Locally set properties (sizes as byte counts).
    props: BTreeMap<String, String>,
    /// Bytes this dataset itself uses.
    used: u64,
    origin: Option<String>,
}

/// Properties that hold sizes.
const SIZE_PROPS: &[&str] = &["quota", "refquota", "reservation", "refreservation", "volsize"];
/// Settable native properties we model, with their allowed values (empty: free-form).
const NATIVE_PROPS: &[(&str, &[&str])] = &[
    ("mountpoint", &[]),
    ("canmount", &["on", "off", "noauto"]),
    ("zoned", &["on", "off"]),
    ("compression", &["on", "off", "lz4", "gzip", "zle", "lzjb"]),
    ("atime", &["on", "off"]),
    ("readonly", &["on", "off"]),
    ("recordsize", &[]),
];

/// All datasets on the emulated host.
#[derive(Debug, Default)]
pub(crate) struct Datasets {
    map: BTreeMap<String, Dataset>,
    pools: BTreeMap<String, u64>,
}

impl Datasets {
    /// Adds a pool of `size` bytes whose root is mounted at `/NAME`.
    pub fn add_pool(&mut self, name: &str, size: u64) {
        self.pools.insert(name.to_string(), size);
        self.map.insert(
            name.to_string(),
            Dataset { kind: Kind::Filesystem, props: BTreeMap::new(), used: 0, origin: None },
        );
    }

    pub fn exists(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub fn names(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    pub fn set_used(&mut self, name: &str, bytes: u64) -> bool {
        self.map.get_mut(name).map(|d| d.used = bytes).is_some()
    }

    /// The effective value of a property, with inheritance for the inheritable ones.
    pub fn property(&self, name: &str, property: &str) -> Option<String> {
        let dataset = self.map.get(name)?;
        if let Some(value) = dataset.props.get(property) {
            return Some(value.clone());
        }
        match property {
            "mountpoint" => Some(self.mountpoint(name)),
            "zoned" | "compression" | "atime" | "readonly" => {
                Some(parent(name).and_then(|p| self.property(p, property)).unwrap_or_else(|| "off".into()))
            }
            _ => None,
        }
    }

    /// The effective mountpoint: local, or inherited (`legacy`/`none` as-is, paths with
    /// this dataset's relative name appended). Snapshots have none (`-`).
    fn mountpoint(&self, name: &str) -> String {
        let Some(dataset) = self.map.get(name) else { return "-".into() };
        if dataset.kind != Kind::Filesystem {
            return "-".into();
        }
        if let Some(local) = dataset.props.get("mountpoint") {
            return local.clone();
        }
        match parent(name) {
            None => format!("/{name}"),
            Some(parent_name) => {
                let inherited = self.mountpoint(parent_name);
                if inherited.starts_with('/') {
                    let leaf = &name[parent_name.len() + 1..];
                    format!("{}/{leaf}", inherited.trim_end_matches('/'))
                } else {
                    inherited
                }
            }
        }
    }

    /// The filesystem whose effective mountpoint is `dir`.
    pub fn find_by_mountpoint(&self, dir: &str) -> Option<String> {
        self.map
            .iter()
            .filter(|(_, d)| d.kind == Kind::Filesystem)
            .map(|(n, _)| n)
            .find(|n| self.mountpoint(n) == dir)
            .cloned()
    }

    fn subtree(&self, name: &str) -> Vec<String> {
        let child_prefix = format!("{name}/");
        let snap_prefix = format!("{name}@");
        let mut names: Vec<String> = self
            .map
            .range(name.to_string()..)
            .take_while(|(n, _)| n.starts_with(name))
            .map(|(n, _)| n)
            .filter(|n| n.as_str() == name || n.starts_with(&child_prefix) || n.starts_with(&snap_prefix))
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn used_total(&self, name: &str) -> u64 {
        self.subtree(name).iter().filter_map(|n| self.map.get(n)).map(|d| d.used).sum()
    }

    fn available(&self, name: &str) -> u64 {
        let pool = name.split(['/', '@']).next().unwrap_or(name);
        let mut available = self.pools.get(pool).copied().unwrap_or(0).saturating_sub(self.used_total(pool));
        let mut current = Some(name);
        while let Some(dataset) = current {
            if let Some(quota) =
                self.map.get(dataset).and_then(|d| d.props.get("quota")).and_then(|q| q.parse::<u64>().ok())
            {
                available = available.min(quota.saturating_sub(self.used_total(dataset)));
            }
            current = parent(dataset);
        }
        available
    }

    /// Creates a filesystem; with `parents`, missing parents too and an existing target is
    /// fine (the man page: "the operation completes successfully", properties ignored).
    pub fn create(&mut self, name: &str, props: &[(String, String)], parents: bool) -> Result<bool, String> {
        if !valid_name(name) || name.contains('@') {
            return Err(msg::zfs_bad_name(name));
        }
        if self.map.contains_key(name) {
            return if parents { Ok(false) } else { Err(msg::zfs_exists(name)) };
        }
        let pool = name.split('/').next().unwrap_or(name);
        if !self.pools.contains_key(pool) {
            return Err(msg::zfs_no_parent(name));
        }
        let mut normalised = BTreeMap::new();
        for (property, value) in props {
            let (property, value) = normalise_property(name, property, value)?;
            normalised.insert(property, value);
        }
        let mut missing = Vec::new();
        let mut current = parent(name);
        while let Some(ancestor) = current {
            if self.map.contains_key(ancestor) {
                break;
            }
            missing.push(ancestor.to_string());
            current = parent(ancestor);
        }
        if !missing.is_empty() && !parents {
            return Err(msg::zfs_no_parent(name));
        }
        for ancestor in missing.into_iter().rev() {
            self.map
                .insert(ancestor, Dataset { kind: Kind::Filesystem, props: BTreeMap::new(), used: 0, origin: None });
        }
        self.map.insert(name.to_string(), Dataset { kind: Kind::Filesystem, props: normalised, used: 0, origin: None });
        Ok(true)
    }

    /// `zfs destroy [-r] [-R] NAME`; `busy` names datasets in use by a running zone.
    pub fn destroy(
        &mut self,
        name: &str,
        recursive: bool,
        with_clones: bool,
        busy: &BTreeSet<String>,
    ) -> Result<(), String> {
        if !self.map.contains_key(name) {
            return Err(msg::zfs_missing(name));
        }
        let doomed = if recursive || with_clones { self.subtree(name) } else { vec![name.to_string()] };
        let children: Vec<String> = self.subtree(name).into_iter().filter(|n| n != name).collect();
        if !recursive && !with_clones && !children.is_empty() {
            return Err(msg::zfs_has_children(name, &children));
        }
        let clones: Vec<String> = self
            .map
            .iter()
            .filter(|(n, d)| d.origin.as_ref().is_some_and(|o| doomed.contains(o)) && !doomed.contains(n))
            .map(|(n, _)| n.clone())
            .collect();
        let mut doomed = doomed;
        if !clones.is_empty() {
            if !with_clones {
                let snapshot = self.map.get(&clones[0]).and_then(|d| d.origin.clone()).unwrap_or_default();
                return Err(msg::zfs_has_clones(&snapshot, &clones));
            }
            for clone in clones {
                doomed.extend(self.subtree(&clone));
            }
        }
        if let Some(in_use) = doomed.iter().find(|n| busy.contains(*n)) {
            return Err(msg::zfs_busy(in_use));
        }
        for dataset in doomed {
            self.map.remove(&dataset);
        }
        Ok(())
    }

    pub fn snapshot(&mut self, snapshot: &str) -> Result<(), String> {
        let (dataset, snap) = snapshot.split_once('@').ok_or_else(|| msg::zfs_bad_name(snapshot))?;
        if snap.is_empty() || !valid_name(dataset) || !snap.chars().all(valid_component_char) {
            return Err(msg::zfs_bad_name(snapshot));
        }
        if !self.map.contains_key(dataset) {
            return Err(msg::zfs_missing(dataset));
        }
        if self.map.contains_key(snapshot) {
            return Err(msg::zfs_exists(snapshot));
        }
        self.map.insert(
            snapshot.to_string(),
            Dataset { kind: Kind::Snapshot, props: BTreeMap::new(), used: 0, origin: None },
        );
        Ok(())
    }

    pub fn clone_snapshot(&mut self, snapshot: &str, target: &str) -> Result<(), String> {
        if self.map.get(snapshot).is_none_or(|d| d.kind != Kind::Snapshot) {
            return Err(msg::zfs_missing(snapshot));
        }
        self.create(target, &[], false)?;
        if let Some(dataset) = self.map.get_mut(target) {
            dataset.origin = Some(snapshot.to_string());
        }
        Ok(())
    }

    /// The snapshots of `dataset` named `PREFIX<N>`, as numbers.
    pub fn snapshot_numbers(&self, dataset: &str, prefix: &str) -> Vec<u32> {
        let start = format!("{dataset}@{prefix}");
        self.map.keys().filter_map(|n| n.strip_prefix(&start)).filter_map(|n| n.parse().ok()).collect()
    }

    /// The filesystems strictly below `name`, parents first.
    pub fn descendants(&self, name: &str) -> Vec<String> {
        self.subtree(name).into_iter().filter(|n| n != name && !n.contains('@')).collect()
    }

    fn set(&mut self, name: &str, property: &str, value: &str) -> Result<(), String> {
        if !self.map.contains_key(name) {
            return Err(msg::zfs_missing(name));
        }
        let (property, value) = normalise_property(name, property, value)?;
        if property == "quota" && value != "0" && value.parse::<u64>().is_ok_and(|q| q < self.used_total(name)) {
            return Err(msg::zfs_quota_too_small(name));
        }
        let dataset = self.map.get_mut(name).expect("checked above");
        if property == "quota" && value == "0" {
            dataset.props.remove("quota");
        } else {
            dataset.props.insert(property, value);
        }
        Ok(())
    }

    /// A property as `list`/`get` prints it: exact with `-p`, human otherwise.
    fn field(&self, name: &str, field: &str, exact: bool) -> String {
        let dataset = &self.map[name];
        let size = |bytes: u64| if exact { bytes.to_string() } else { human_size(bytes) };
        let snapshot = dataset.kind == Kind::Snapshot;
        match field {
            "name" => name.to_string(),
            "type" => dataset.kind.as_str().to_string(),
            "used" => size(self.used_total(name)),
            "avail" | "available" if snapshot => "-".into(),
            "avail" | "available" => size(self.available(name)),
            "refer" | "referenced" => size(dataset.used),
            "mountpoint" => self.mountpoint(name),
            "origin" => dataset.origin.clone().unwrap_or_else(|| "-".into()),
            "mounted" if snapshot => "-".into(),
            "mounted" => if self.mountpoint(name).starts_with('/') { "yes" } else { "no" }.into(),
            quota if SIZE_PROPS.contains(&quota) => {
                if snapshot {
                    return "-".into();
                }
                match dataset.props.get(quota).and_then(|q| q.parse::<u64>().ok()) {
                    Some(bytes) => size(bytes),
                    None if exact => "0".into(),
                    None => "none".into(),
                }
            }
            other => self.property(name, other).unwrap_or_else(|| "-".into()),
        }
    }

    fn source(&self, name: &str, property: &str) -> String {
        let dataset = &self.map[name];
        if dataset.props.contains_key(property) {
            return "local".into();
        }
        match property {
            "mountpoint" | "zoned" | "compression" | "atime" | "readonly" => {
                let mut current = parent(name);
                while let Some(ancestor) = current {
                    if self.map.get(ancestor).is_some_and(|d| d.props.contains_key(property)) {
                        return format!("inherited from {ancestor}");
                    }
                    current = parent(ancestor);
                }
                "default".into()
            }
            p if SIZE_PROPS.contains(&p) || NATIVE_PROPS.iter().any(|(n, _)| *n == p) => "default".into(),
            _ => "-".into(),
        }
    }

    /// Runs `zfs ARGS…`. `busy` names datasets a running zone uses.
    pub fn command(&mut self, args: &[String], busy: &BTreeSet<String>) -> CommandOutput {
        let Some((subcommand, rest)) = args.split_first() else { return fail(2, msg::zfs_usage("missing command")) };
        let result = match subcommand.as_str() {
            "create" => self.command_create(rest),
            "destroy" => self.command_destroy(rest, busy),
            "list" => self.command_list(rest),
            "get" => self.command_get(rest),
            "set" => self.command_set(rest),
            "snapshot" | "snap" => self.command_snapshot(rest),
            "clone" => self.command_clone(rest),
            other => Err((2, msg::zfs_usage(&format!("unrecognized command '{other}'")))),
        };
        result.unwrap_or_else(|(code, message)| fail(code, message))
    }

    fn command_create(&mut self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "po:V:").map_err(|e| (2, msg::zfs_usage(&e)))?;
        if value(&options, 'V').is_some() {
            return Err((2, msg::zfs_usage("volumes are not emulated")));
        }
        let [name] = operands.as_slice() else { return Err((2, msg::zfs_usage("wrong number of arguments"))) };
        let props = values(&options, 'o')
            .into_iter()
            .map(|assignment| {
                assignment
                    .split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| (2, msg::zfs_usage(assignment)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.create(name, &props, has(&options, 'p')).map_err(|e| (1, e))?;
        Ok(ok(""))
    }

    fn command_destroy(&mut self, args: &[String], busy: &BTreeSet<String>) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "rRf").map_err(|e| (2, msg::zfs_usage(&e)))?;
        let [name] = operands.as_slice() else { return Err((2, msg::zfs_usage("wrong number of arguments"))) };
        self.destroy(name, has(&options, 'r'), has(&options, 'R'), busy).map_err(|e| (1, e))?;
        Ok(ok(""))
    }

    fn command_set(&mut self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let [assignment, name] = args else { return Err((2, msg::zfs_usage("wrong number of arguments"))) };
        let (property, value) = assignment.split_once('=').ok_or_else(|| (2, msg::zfs_usage(assignment)))?;
        self.set(name, property, value).map_err(|e| (1, e))?;
        Ok(ok(""))
    }

    fn command_snapshot(&mut self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "r").map_err(|e| (2, msg::zfs_usage(&e)))?;
        let [snapshot] = operands.as_slice() else { return Err((2, msg::zfs_usage("wrong number of arguments"))) };
        self.snapshot(snapshot).map_err(|e| (1, e))?;
        if has(&options, 'r') {
            let (dataset, snap) = snapshot.split_once('@').expect("validated");
            for child in self.descendants(dataset) {
                self.snapshot(&format!("{child}@{snap}")).map_err(|e| (1, e))?;
            }
        }
        Ok(ok(""))
    }

    fn command_clone(&mut self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (_, operands) = getopt(args, "p").map_err(|e| (2, msg::zfs_usage(&e)))?;
        let [snapshot, target] = operands.as_slice() else {
            return Err((2, msg::zfs_usage("wrong number of arguments")));
        };
        self.clone_snapshot(snapshot, target).map_err(|e| (1, e))?;
        Ok(ok(""))
    }

    fn selected(
        &self,
        operands: &[String],
        recursive: bool,
        depth: Option<usize>,
        types: &[&str],
    ) -> Result<Vec<String>, (i32, String)> {
        let roots: Vec<String> =
            if operands.is_empty() { self.pools.keys().cloned().collect() } else { operands.to_vec() };
        let mut names = Vec::new();
        for root in &roots {
            if !self.map.contains_key(root) {
                return Err((1, msg::zfs_missing(root)));
            }
            let all = recursive || depth.is_some() || operands.is_empty();
            let candidates = if all { self.subtree(root) } else { vec![root.clone()] };
            let base = root.matches('/').count();
            for name in candidates {
                let level = name.matches('/').count() - base;
                let kind = self.map[&name].kind.as_str();
                let wanted_type =
                    if types.is_empty() { kind != "snapshot" || name == *root } else { types.contains(&kind) };
                if wanted_type && depth.is_none_or(|d| level <= d) && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    fn command_list(&self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "rHpo:d:t:s:S:").map_err(|e| (2, msg::zfs_usage(&e)))?;
        let fields: Vec<&str> = value(&options, 'o').unwrap_or("name,used,avail,refer,mountpoint").split(',').collect();
        let depth = value(&options, 'd').map(|d| d.parse::<usize>().map_err(|_| (2, msg::zfs_usage(d)))).transpose()?;
        let types: Vec<&str> = value(&options, 't').map(|t| t.split(',').collect()).unwrap_or_default();
        let names = self.selected(&operands, has(&options, 'r'), depth, &types)?;
        let exact = has(&options, 'p');
        let rows: Vec<Vec<String>> =
            names.iter().map(|n| fields.iter().map(|f| self.field(n, f, exact)).collect()).collect();
        Ok(ok(render(&fields, &rows, has(&options, 'H'))))
    }

    fn command_get(&self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "rHpo:d:s:t:").map_err(|e| (2, msg::zfs_usage(&e)))?;
        let Some((properties, datasets)) = operands.split_first() else {
            return Err((2, msg::zfs_usage("missing property")));
        };
        let columns: Vec<&str> = value(&options, 'o').unwrap_or("name,property,value,source").split(',').collect();
        let names = self.selected(datasets, has(&options, 'r'), None, &[])?;
        let exact = has(&options, 'p');
        let mut rows = Vec::new();
        for name in &names {
            for property in properties.split(',') {
                rows.push(
                    columns
                        .iter()
                        .map(|column| match *column {
                            "name" => name.clone(),
                            "property" => property.to_string(),
                            "value" => self.field(name, property, exact),
                            "source" => self.source(name, property),
                            _ => "-".into(),
                        })
                        .collect(),
                );
            }
        }
        Ok(ok(render(&columns, &rows, has(&options, 'H'))))
    }
}

fn render(fields: &[&str], rows: &[Vec<String>], scripted: bool) -> String {
    if scripted {
        rows.iter().map(|row| format!("{}\n", row.join("\t"))).collect()
    } else {
        super::args::human_table(fields, rows).replace(" --", " -")
    }
}

fn parent(name: &str) -> Option<&str> {
    if let Some((dataset, _)) = name.split_once('@') {
        return Some(dataset);
    }
    name.rsplit_once('/').map(|(p, _)| p)
}

fn valid_component_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | ' ')
}

fn valid_name(name: &str) -> bool {
    let dataset = name.split('@').next().unwrap_or(name);
    !dataset.is_empty()
        && name.len() <= 255
        && dataset.starts_with(|c: char| c.is_ascii_alphabetic())
        && dataset.split('/').all(|c| !c.is_empty() && c != "." && c != ".." && c.chars().all(valid_component_char))
}

/// Validates a property assignment; sizes become byte counts (`none` → `0`).
fn normalise_property(dataset: &str, property: &str, value: &str) -> Result<(String, String), String> {
    if SIZE_PROPS.contains(&property) {
        let bytes = if value == "none" { Some(0) } else { parse_zfs_size(value) };
        return bytes
            .map(|b| (property.to_string(), b.to_string()))
            .ok_or_else(|| msg::zfs_bad_property(dataset, property));
    }
    if let Some((_, allowed)) = NATIVE_PROPS.iter().find(|(name, _)| *name == property) {
        let valid = if property == "mountpoint" {
            value == "legacy" || value == "none" || value.starts_with('/')
        } else {
            allowed.is_empty() || allowed.contains(&value)
        };
        return if valid {
            Ok((property.to_string(), value.to_string()))
        } else {
            Err(msg::zfs_bad_property(dataset, property))
        };
    }
    if property.contains(':') {
        return Ok((property.to_string(), value.to_string()));
    }
    Err(msg::zfs_bad_property(dataset, property))
}

/// `10G`, `1.5g`, `512M`, `1073741824`.
fn parse_zfs_size(text: &str) -> Option<u64> {
    let upper = text.to_ascii_uppercase();
    let trimmed = upper.strip_suffix('B').unwrap_or(&upper);
    let (number, multiplier) = match trimmed.chars().last()? {
        'K' => (&trimmed[..trimmed.len() - 1], 1u64 << 10),
        'M' => (&trimmed[..trimmed.len() - 1], 1 << 20),
        'G' => (&trimmed[..trimmed.len() - 1], 1 << 30),
        'T' => (&trimmed[..trimmed.len() - 1], 1 << 40),
        'P' => (&trimmed[..trimmed.len() - 1], 1 << 50),
        _ => (trimmed, 1),
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    Some((value * multiplier as f64).round() as u64)
}

/// zfs's human sizes: `512`, `741K`, `1.00G`, `10.5G`.
fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        return bytes.to_string();
    }
    let units = ["K", "M", "G", "T", "P"];
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.2}{}", units[unit])
    } else if value < 100.0 {
        format!("{value:.1}{}", units[unit])
    } else {
        format!("{value:.0}{}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::illumos::zfs::parse_list;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn host() -> Datasets {
        let mut datasets = Datasets::default();
        datasets.add_pool("rpool", 100 << 30);
        datasets
    }

    fn run(datasets: &mut Datasets, args: &[&str]) -> CommandOutput {
        datasets.command(&strings(args), &BTreeSet::new())
    }

    #[test]
    fn create_list_and_quota() {
        let mut zfs = host();
        assert!(run(&mut zfs, &["create", "-o", "mountpoint=/pods", "rpool/pods"]).success());
        assert!(run(&mut zfs, &["create", "-o", "quota=1G", "rpool/pods/web-1"]).success());
        zfs.set_used("rpool/pods/web-1", 1 << 20);
        let listed = run(&mut zfs, &["list", "-H", "-p", "-o", "name,used,avail,quota,mountpoint", "-r", "rpool/pods"]);
        assert_eq!(
            listed.stdout,
            format!(
                "rpool/pods\t1048576\t{}\t0\t/pods\nrpool/pods/web-1\t1048576\t1072693248\t1073741824\t/pods/web-1\n",
                (100u64 << 30) - (1 << 20)
            )
        );
        // The runtime's parser reads the fake's output.
        let parsed = parse_list(&listed.stdout).unwrap();
        assert_eq!(parsed[1].quota, Some(1 << 30));
        let human = run(&mut zfs, &["list", "-o", "name,quota", "rpool/pods/web-1"]);
        assert_eq!(human.stdout, "NAME             QUOTA\nrpool/pods/web-1 1.00G\n");
        let get = run(&mut zfs, &["get", "-Hp", "-o", "name,property,value,source", "quota", "rpool/pods/web-1"]);
        assert_eq!(get.stdout, "rpool/pods/web-1\tquota\t1073741824\tlocal\n");
        let inherited = run(&mut zfs, &["get", "-H", "-o", "value,source", "mountpoint", "rpool/pods/web-1"]);
        assert_eq!(inherited.stdout, "/pods/web-1\tinherited from rpool/pods\n");
    }

    #[test]
    fn errors_match_the_reference() {
        let mut zfs = host();
        let table: &[(&[&str], i32, &str)] = &[
            (&["list", "rpool/x"], 1, "cannot open 'rpool/x': dataset does not exist\n"),
            (&["create", "rpool/a/b"], 1, "cannot create 'rpool/a/b': parent does not exist\n"),
            (&["destroy", "rpool/x"], 1, "cannot open 'rpool/x': dataset does not exist\n"),
            (&["frob"], 2, ""),
        ];
        for (args, code, stderr) in table {
            let output = run(&mut zfs, args);
            assert_eq!(output.exit_code, *code, "{args:?}");
            assert!(output.stderr.starts_with(stderr), "{args:?}: {}", output.stderr);
        }
        assert!(run(&mut zfs, &["create", "rpool/x"]).success());
        assert_eq!(run(&mut zfs, &["create", "rpool/x"]).stderr, "cannot create 'rpool/x': dataset already exists\n");
        // `-p` on an existing dataset succeeds and ignores the properties.
        assert!(run(&mut zfs, &["create", "-p", "-o", "quota=1G", "rpool/x"]).success());
        assert_eq!(run(&mut zfs, &["get", "-Hp", "-o", "value", "quota", "rpool/x"]).stdout, "0\n");
        assert!(run(&mut zfs, &["create", "-p", "rpool/x/y/z"]).success());
        let children = run(&mut zfs, &["destroy", "rpool/x"]);
        assert_eq!(
            children.stderr,
            "cannot destroy 'rpool/x': filesystem has children\nuse '-r' to destroy the following datasets:\nrpool/x/y\nrpool/x/y/z\n"
        );
        zfs.set_used("rpool/x/y/z", 2 << 30);
        let small = run(&mut zfs, &["set", "quota=1G", "rpool/x"]);
        assert_eq!(
            small.stderr,
            "cannot set property for 'rpool/x': size is less than current used or reserved space\n"
        );
        assert_eq!(run(&mut zfs, &["set", "frob=1", "rpool/x"]).exit_code, 1);
        let busy = zfs.command(&strings(&["destroy", "-r", "rpool/x"]), &BTreeSet::from(["rpool/x/y".to_string()]));
        assert_eq!(busy.stderr, "cannot destroy 'rpool/x/y': dataset is busy\n");
        assert!(run(&mut zfs, &["destroy", "-r", "rpool/x"]).success());
        assert_eq!(zfs.names(), ["rpool"]);
    }

    #[test]
    fn snapshots_and_clones() {
        let mut zfs = host();
        assert!(run(&mut zfs, &["create", "-p", "rpool/pods/gold/ROOT"]).success());
        assert!(run(&mut zfs, &["snapshot", "-r", "rpool/pods/gold@SUNWzone1"]).success());
        assert_eq!(zfs.snapshot_numbers("rpool/pods/gold", "SUNWzone"), [1]);
        assert!(run(&mut zfs, &["clone", "rpool/pods/gold@SUNWzone1", "rpool/pods/web-1"]).success());
        let origin = run(&mut zfs, &["list", "-H", "-o", "origin", "rpool/pods/web-1"]);
        assert_eq!(origin.stdout, "rpool/pods/gold@SUNWzone1\n");
        let blocked = run(&mut zfs, &["destroy", "-r", "rpool/pods/gold"]);
        assert!(
            blocked.stderr.starts_with("cannot destroy 'rpool/pods/gold@SUNWzone1': snapshot has dependent clones"),
            "{}",
            blocked.stderr
        );
        assert!(run(&mut zfs, &["destroy", "-R", "rpool/pods/gold"]).success());
        assert!(!zfs.exists("rpool/pods/web-1"));
        let snapshots = run(&mut zfs, &["list", "-H", "-t", "snapshot", "-o", "name"]);
        assert_eq!(snapshots.stdout, "");
    }

    #[test]
    fn mountpoints_inherit() {
        let mut zfs = host();
        run(&mut zfs, &["create", "-o", "mountpoint=/pods", "rpool/pods"]);
        run(&mut zfs, &["create", "-p", "-o", "mountpoint=legacy", "rpool/pods/a/ROOT"]);
        run(&mut zfs, &["create", "rpool/pods/a/ROOT/zbe"]);
        assert_eq!(zfs.find_by_mountpoint("/pods"), Some("rpool/pods".into()));
        assert_eq!(zfs.find_by_mountpoint("/pods/a"), Some("rpool/pods/a".into()));
        assert_eq!(zfs.property("rpool/pods/a/ROOT/zbe", "mountpoint").as_deref(), Some("legacy"));
        assert_eq!(zfs.property("rpool", "mountpoint").as_deref(), Some("/rpool"));
    }

    #[test]
    fn sizes() {
        for (text, bytes) in [
            ("10G", Some(10u64 << 30)),
            ("1.5g", Some(1536 << 20)),
            ("512", Some(512)),
            ("1GB", Some(1 << 30)),
            ("x", None),
        ] {
            assert_eq!(parse_zfs_size(text), bytes, "{text}");
        }
        for (bytes, text) in
            [(512, "512"), (741 << 10, "741K"), (1 << 30, "1.00G"), (10_737_418_240 + (512 << 20), "10.5G")]
        {
            assert_eq!(human_size(bytes), text);
        }
    }
}
