//! The zonecfg configuration model: resource schemas, global properties and rctl aliases,
//! the per-zone configuration, `verify`, and value parsers (sizes, ncpus, rctl values).

use std::collections::BTreeMap;

use super::messages as msg;
use super::render::render_item;

/// Resource types and their properties.
pub(super) struct Schema {
    pub(super) kind: &'static str,
    pub(super) simple: &'static [&'static str],
    pub(super) lists: &'static [&'static str],
    pub(super) required: &'static [&'static str],
}

pub(super) const SCHEMAS: &[Schema] = &[
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
pub(super) const GLOBALS: &[&str] = &[
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
pub(super) const ALIASES: &[(&str, &str, &str)] = &[
    ("max-lwps", "zone.max-lwps", "deny"),
    ("max-processes", "zone.max-processes", "deny"),
    ("max-shm-memory", "zone.max-shm-memory", "deny"),
    ("max-shm-ids", "zone.max-shm-ids", "deny"),
    ("max-msg-ids", "zone.max-msg-ids", "deny"),
    ("max-sem-ids", "zone.max-sem-ids", "deny"),
    ("cpu-shares", "zone.cpu-shares", "none"),
];

pub(super) const KNOWN_RCTLS: &[&str] = &[
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

pub(super) fn schema(kind: &str) -> Option<&'static Schema> {
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
    pub(super) fn new(kind: &'static str) -> Self {
        Self { kind, props: BTreeMap::new(), lists: BTreeMap::new() }
    }

    pub(crate) fn prop(&self, name: &str) -> Option<&str> {
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
    pub(super) fn blank(brand: &str) -> Self {
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
    pub(crate) fn nets(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().filter(|r| r.kind == "net")
    }

    /// The `fs` resources.
    pub(crate) fn filesystems(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().filter(|r| r.kind == "fs")
    }

    /// True for ip-type exclusive.
    pub(crate) fn is_exclusive(&self) -> bool {
        self.ip_type == "exclusive"
    }

    pub(super) fn rctl(&self, name: &str) -> Option<&Vec<RctlValue>> {
        self.rctls.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub(super) fn set_rctl(&mut self, name: &str, values: Vec<RctlValue>) {
        match self.rctls.iter_mut().find(|(n, _)| n == name) {
            Some((_, existing)) => *existing = values,
            None => self.rctls.push((name.to_string(), values)),
        }
    }

    pub(super) fn remove_rctl(&mut self, name: &str) -> bool {
        let before = self.rctls.len();
        self.rctls.retain(|(n, _)| n != name);
        before != self.rctls.len()
    }

    /// What `verify` (and therefore `commit`) objects to.
    pub(super) fn verify(&self, zone: &str) -> Vec<String> {
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

pub(super) fn parse_rctl_value(item: &Item) -> Result<RctlValue, String> {
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

pub(super) fn rctl_pairs(value: &RctlValue) -> Vec<(String, String)> {
    vec![
        ("priv".into(), value.privilege.clone()),
        ("limit".into(), value.limit.to_string()),
        ("action".into(), value.action.clone()),
    ]
}

/// A count, or a size with a K/M/G/T suffix (for `max-shm-memory`).
pub(super) fn parse_count(text: &str) -> Option<u64> {
    text.parse().ok().or_else(|| parse_memory(text))
}

/// A memory size that must carry a scale suffix: `512M`, `1.5g`.
pub(super) fn parse_memory(text: &str) -> Option<u64> {
    let last = text.chars().last()?.to_ascii_uppercase();
    if !matches!(last, 'K' | 'M' | 'G' | 'T') {
        return None;
    }
    crate::illumos::zonecfg::parse_size(text).filter(|&bytes| bytes > 0)
}

/// `1.5` → 150 (percent of a CPU).
pub(super) fn parse_ncpus(text: &str) -> Option<u64> {
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    let percent = (value * 100.0).round();
    (1.0..1e9).contains(&percent).then_some(percent as u64)
}

pub(super) fn format_ncpus(percent: u64) -> String {
    format!("{}.{:02}", percent / 100, percent % 100)
}
