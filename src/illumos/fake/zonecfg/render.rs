//! Rendering a configuration as `info` (reference §1.7) and `export` (§1.8) print it.

use super::model::*;
use crate::illumos::zonecfg::bytes_to_units;

/// Values with characters the lexer treats specially are quoted on output.
pub(super) fn render_word(value: &str) -> String {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || "=;,()[]\"#".contains(c)) {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

pub(super) fn render_item(item: &Item) -> String {
    match item {
        Item::Simple(s) => render_word(s),
        Item::Complex(pairs) => {
            let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", render_word(v))).collect();
            format!("({})", inner.join(","))
        }
    }
}

/// `info` output (reference §1.7).
pub(super) fn render_info(zone: &str, config: &ZoneConfig) -> String {
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

pub(super) fn info_value(value: &str) -> String {
    if value.contains(' ') { format!("\"{value}\"") } else { value.to_string() }
}

/// Every resource block of `info`, in zonecfg's order, with the resource it shows.
pub(super) fn info_blocks(config: &ZoneConfig) -> Vec<(Resource, String)> {
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

pub(super) fn render_resource(resource: &Resource) -> String {
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
pub(super) fn render_export(config: &ZoneConfig, native_brand: &str) -> String {
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
