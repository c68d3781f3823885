//! The FakeHost's global-zone IP stack: interfaces on datalinks, static address objects,
//! the forwarding properties, and the ipadm subcommands `create-if`/`create-ip`,
//! `delete-if`/`delete-ip`, `create-addr -T static`, `delete-addr`, `show-addr`, `show-if`,
//! `set-prop` and `show-prop` (reference §5). ipadm's quirk is kept: on failure the message
//! goes to stderr but its final newline goes to stdout. Pod zones' own stacks are not stored:
//! they are derived from the zone's `allowed-address` when asked (see `zone_addresses`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::args::{getopt, has, human_table, ok, value};
use super::messages as msg;
use crate::illumos::exec::CommandOutput;
use crate::illumos::ofmt;

#[derive(Clone, Debug)]
struct Address {
    addrobj: String,
    kind: &'static str,
    address: String,
}

/// The global zone's IP configuration.
#[derive(Debug)]
pub(crate) struct GlobalStack {
    interfaces: BTreeSet<String>,
    addresses: Vec<Address>,
    forwarding_v4: bool,
    forwarding_v6: bool,
}

impl Default for GlobalStack {
    fn default() -> Self {
        Self {
            interfaces: BTreeSet::from(["lo0".to_string()]),
            addresses: vec![
                Address { addrobj: "lo0/v4".into(), kind: "static", address: "127.0.0.1/8".into() },
                Address { addrobj: "lo0/v6".into(), kind: "static", address: "::1/128".into() },
            ],
            forwarding_v4: false,
            forwarding_v6: false,
        }
    }
}

/// ipadm's failure shape: the message on stderr, its newline on stdout.
fn ipadm_fail(code: i32, message: impl AsRef<str>) -> CommandOutput {
    CommandOutput { exit_code: code, stdout: "\n".into(), stderr: message.as_ref().to_string() }
}

/// The `show-addr` rows a running exclusive-IP zone reports: loopback plus one `from-gz`
/// address per `allowed-address`, named `LINK/_a`, `LINK/_b`… ([verify] for several).
pub(crate) fn zone_addresses(allowed: &[(String, String)]) -> Vec<[String; 4]> {
    let mut rows = vec![["lo0/v4".into(), "static".into(), "ok".into(), "127.0.0.1/8".into()]];
    let mut per_link: std::collections::BTreeMap<&str, u8> = Default::default();
    for (link, address) in allowed {
        let count = per_link.entry(link).or_default();
        let suffix = char::from(b'a' + *count);
        *count += 1;
        rows.push([format!("{link}/_{suffix}"), "from-gz".into(), "ok".into(), address.clone()]);
    }
    rows.push(["lo0/v6".into(), "static".into(), "ok".into(), "::1/128".into()]);
    rows
}

/// Renders `show-addr` rows for the requested fields.
pub(crate) fn render_addresses(rows: &[[String; 4]], fields: &[String], parsable: bool) -> Result<String, String> {
    let mut out_rows = Vec::new();
    for row in rows {
        let mut out = Vec::new();
        for field in fields {
            out.push(match field.as_str() {
                "addrobj" => row[0].clone(),
                "type" => row[1].clone(),
                "state" => row[2].clone(),
                "addr" => row[3].clone(),
                "current" => "U----".into(),
                "persistent" => String::new(),
                other => return Err(other.to_string()),
            });
        }
        out_rows.push(out);
    }
    if parsable {
        Ok(ofmt::render_rows(&out_rows))
    } else {
        let headers: Vec<&str> = fields.iter().map(String::as_str).collect();
        Ok(human_table(&headers, &out_rows))
    }
}

impl GlobalStack {
    /// Runs `ipadm ARGS…`; `link_usable(IF)` says whether a datalink exists in the global
    /// zone (not lent to a zone).
    pub fn command(&mut self, args: &[String], link_usable: &dyn Fn(&str) -> bool) -> CommandOutput {
        let Some((subcommand, rest)) = args.split_first() else {
            return ipadm_fail(2, msg::ipadm_usage("missing subcommand"));
        };
        let result = match subcommand.as_str() {
            "create-if" | "create-ip" => self.create_if(rest, link_usable),
            "delete-if" | "delete-ip" => self.delete_if(rest),
            "create-addr" => self.create_addr(rest, link_usable),
            "delete-addr" => self.delete_addr(rest),
            "show-addr" => self.show_addr(rest),
            "show-if" => self.show_if(rest),
            "set-prop" => self.set_prop(rest),
            "show-prop" => self.show_prop(rest),
            other => Err((2, msg::ipadm_usage(&format!("unknown subcommand '{other}'")))),
        };
        result.unwrap_or_else(|(code, message)| ipadm_fail(code, message))
    }

    fn create_if(
        &mut self,
        args: &[String],
        link_usable: &dyn Fn(&str) -> bool,
    ) -> Result<CommandOutput, (i32, String)> {
        let (_, operands) = getopt(args, "t").map_err(|e| (2, msg::ipadm_usage(&e)))?;
        let [interface] = operands.as_slice() else { return Err((2, msg::ipadm_usage("wrong number of arguments"))) };
        if self.interfaces.contains(interface) {
            return Err((1, msg::ipadm_interface_exists(interface)));
        }
        if !link_usable(interface) {
            return Err((1, msg::ipadm_no_such_interface(&format!("Could not create interface {interface}"))));
        }
        self.interfaces.insert(interface.clone());
        Ok(ok(""))
    }

    fn delete_if(&mut self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let [interface] = args else { return Err((2, msg::ipadm_usage("wrong number of arguments"))) };
        if interface == "lo0" || !self.interfaces.remove(interface) {
            return Err((1, msg::ipadm_no_such_interface(&format!("Could not delete interface {interface}"))));
        }
        let prefix = format!("{interface}/");
        self.addresses.retain(|a| !a.addrobj.starts_with(&prefix));
        Ok(ok(""))
    }

    fn create_addr(
        &mut self,
        args: &[String],
        link_usable: &dyn Fn(&str) -> bool,
    ) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "tT:a:d").map_err(|e| (2, msg::ipadm_usage(&e)))?;
        let [addrobj] = operands.as_slice() else { return Err((2, msg::ipadm_usage("wrong number of arguments"))) };
        if value(&options, 'T') != Some("static") {
            return Err((2, msg::ipadm_usage("only -T static is emulated")));
        }
        let Some(address) = value(&options, 'a') else { return Err((2, msg::ipadm_usage("-a is required"))) };
        let address = address.strip_prefix("local=").unwrap_or(address);
        let (interface, name) = addrobj.split_once('/').ok_or_else(|| (1, msg::ipadm_invalid_address()))?;
        let valid_name = (1..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        let valid_address = address.split_once('/').is_some_and(|(ip, prefix)| {
            ip.parse::<IpAddr>()
                .is_ok_and(|ip| prefix.parse::<u8>().is_ok_and(|p| p <= if ip.is_ipv4() { 32 } else { 128 }))
        });
        if !valid_name || !valid_address {
            return Err((1, msg::ipadm_invalid_address()));
        }
        if self.addresses.iter().any(|a| a.addrobj == *addrobj) {
            return Err((1, msg::ipadm_addrobj_exists()));
        }
        let ip = address.split('/').next().unwrap_or_default();
        if self.addresses.iter().any(|a| a.address.split('/').next() == Some(ip)) {
            return Err((1, msg::ipadm_address_in_use()));
        }
        // create-addr creates the interface implicitly on current illumos ([verify]).
        if !self.interfaces.contains(interface) {
            if !link_usable(interface) {
                return Err((1, msg::ipadm_no_such_interface("Could not create address")));
            }
            self.interfaces.insert(interface.to_string());
        }
        self.addresses.push(Address { addrobj: addrobj.clone(), kind: "static", address: address.to_string() });
        Ok(ok(""))
    }

    fn delete_addr(&mut self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (_, operands) = getopt(args, "r").map_err(|e| (2, msg::ipadm_usage(&e)))?;
        let [addrobj] = operands.as_slice() else { return Err((2, msg::ipadm_usage("wrong number of arguments"))) };
        let before = self.addresses.len();
        self.addresses.retain(|a| a.addrobj != *addrobj);
        if before == self.addresses.len() {
            return Err((1, msg::ipadm_delete_addr_not_found()));
        }
        Ok(ok(""))
    }

    fn show_addr(&self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "po:").map_err(|e| (2, msg::ipadm_usage(&e)))?;
        let fields = output_fields(&options, "addrobj,type,state,addr")?;
        let rows: Vec<[String; 4]> = self
            .addresses
            .iter()
            .filter(|a| match operands.first() {
                None => true,
                Some(filter) if filter.ends_with('/') => a.addrobj.starts_with(filter.as_str()),
                Some(filter) => a.addrobj == *filter,
            })
            .map(|a| [a.addrobj.clone(), a.kind.to_string(), "ok".into(), a.address.clone()])
            .collect();
        if rows.is_empty() && !operands.is_empty() {
            return Err((1, format!("ipadm: {}: Object not found", operands[0])));
        }
        render_addresses(&rows, &fields, has(&options, 'p'))
            .map(ok)
            .map_err(|f| (1, format!("ipadm: unknown output field: `{f}'")))
    }

    fn show_if(&self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "po:").map_err(|e| (2, msg::ipadm_usage(&e)))?;
        let fields = output_fields(&options, "ifname,class,state,current,persistent")?;
        let mut rows = Vec::new();
        for interface in self.interfaces.iter().filter(|i| operands.first().is_none_or(|o| o == *i)) {
            let mut row = Vec::new();
            for field in &fields {
                row.push(match field.as_str() {
                    "ifname" => interface.clone(),
                    "class" => if interface == "lo0" { "loopback" } else { "ip" }.to_string(),
                    "state" => "ok".into(),
                    "current" => "bm--------46".into(),
                    "persistent" => "-46".into(),
                    other => return Err((1, format!("ipadm: unknown output field: `{other}'"))),
                });
            }
            rows.push(row);
        }
        let headers: Vec<&str> = fields.iter().map(String::as_str).collect();
        Ok(ok(if has(&options, 'p') { ofmt::render_rows(&rows) } else { human_table(&headers, &rows) }))
    }

    fn set_prop(&mut self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "tp:").map_err(|e| (2, msg::ipadm_usage(&e)))?;
        let [protocol] = operands.as_slice() else { return Err((2, msg::ipadm_usage("wrong number of arguments"))) };
        let setting = value(&options, 'p').ok_or_else(|| (2, msg::ipadm_usage("-p is required")))?;
        let on = match setting {
            "forwarding=on" => true,
            "forwarding=off" => false,
            _ => return Err((1, format!("ipadm: set-prop: {setting}: Invalid argument"))),
        };
        match protocol.as_str() {
            "ipv4" => self.forwarding_v4 = on,
            "ipv6" => self.forwarding_v6 = on,
            other => return Err((1, format!("ipadm: set-prop: {other}: Invalid protocol"))),
        }
        Ok(ok(""))
    }

    fn show_prop(&self, args: &[String]) -> Result<CommandOutput, (i32, String)> {
        let (options, operands) = getopt(args, "cp:o:").map_err(|e| (2, msg::ipadm_usage(&e)))?;
        let [protocol] = operands.as_slice() else { return Err((2, msg::ipadm_usage("wrong number of arguments"))) };
        if value(&options, 'p') != Some("forwarding") || value(&options, 'o') != Some("current") || !has(&options, 'c')
        {
            return Err((2, msg::ipadm_usage("only `show-prop -c -o current -p forwarding` is emulated")));
        }
        let on = match protocol.as_str() {
            "ipv4" => self.forwarding_v4,
            "ipv6" => self.forwarding_v6,
            other => return Err((1, format!("ipadm: show-prop: {other}: Invalid protocol"))),
        };
        Ok(ok(if on { "on\n" } else { "off\n" }))
    }
}

fn output_fields(options: &[(char, Option<String>)], default: &str) -> Result<Vec<String>, (i32, String)> {
    match value(options, 'o') {
        Some(list) => Ok(list.split(',').map(str::to_ascii_lowercase).collect()),
        None if has(options, 'p') => Err((1, "ipadm: output fields must be specified in parsable mode".into())),
        None => Ok(default.split(',').map(str::to_string).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::illumos::ipadm::parse_addrs;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn run(stack: &mut GlobalStack, args: &[&str]) -> CommandOutput {
        stack.command(&strings(args), &|link| link == "gw0")
    }

    #[test]
    fn addresses_on_the_gateway_vnic() {
        let mut stack = GlobalStack::default();
        assert!(run(&mut stack, &["create-addr", "-t", "-T", "static", "-a", "10.0.0.1/24", "gw0/v4"]).success());
        let shown = run(&mut stack, &["show-addr", "-p", "-o", "addrobj,type,state,addr"]);
        let parsed = parse_addrs(&shown.stdout).unwrap();
        let names: Vec<&str> = parsed.iter().map(|a| a.addrobj.as_str()).collect();
        assert_eq!(names, ["lo0/v4", "lo0/v6", "gw0/v4"]);
        assert_eq!(run(&mut stack, &["show-addr", "-p", "-o", "addr", "gw0/v4"]).stdout, "10.0.0.1/24\n");
        assert_eq!(
            run(&mut stack, &["show-addr", "-p", "-o", "addrobj,addr", "lo0/v6"]).stdout,
            "lo0/v6:\\:\\:1/128\n"
        );
        let again = run(&mut stack, &["create-addr", "-t", "-T", "static", "-a", "10.0.0.1/24", "gw0/v4"]);
        assert_eq!(
            (again.exit_code, again.stderr.as_str(), again.stdout.as_str()),
            (1, "ipadm: Could not create address: Address object already exists", "\n")
        );
        let in_use = run(&mut stack, &["create-addr", "-T", "static", "-a", "10.0.0.1/24", "gw0/other"]);
        assert_eq!(in_use.stderr, "ipadm: Could not create address: Address already in use");
        assert!(
            run(&mut stack, &["create-addr", "-T", "static", "-a", "10.0.0.9/24", "net9/v4"])
                .stderr
                .ends_with("No such interface")
        );
        assert_eq!(
            run(&mut stack, &["create-if", "gw0"]).stderr,
            "ipadm: Could not create interface gw0: Interface already exists"
        );
        assert!(run(&mut stack, &["delete-addr", "gw0/v4"]).success());
        assert_eq!(
            run(&mut stack, &["delete-addr", "gw0/v4"]).stderr,
            "ipadm: could not delete address: Object not found"
        );
    }

    #[test]
    fn forwarding() {
        let mut stack = GlobalStack::default();
        assert_eq!(run(&mut stack, &["show-prop", "-c", "-o", "current", "-p", "forwarding", "ipv4"]).stdout, "off\n");
        assert!(run(&mut stack, &["set-prop", "-t", "-p", "forwarding=on", "ipv4"]).success());
        assert_eq!(run(&mut stack, &["show-prop", "-c", "-o", "current", "-p", "forwarding", "ipv4"]).stdout, "on\n");
    }

    #[test]
    fn zone_stacks_come_from_allowed_address() {
        let rows = zone_addresses(&[("pod1x0".into(), "10.0.0.7/24".into())]);
        let text = render_addresses(&rows, &strings(&["addrobj", "type", "state", "addr"]), true).unwrap();
        assert_eq!(
            text,
            "lo0/v4:static:ok:127.0.0.1/8\npod1x0/_a:from-gz:ok:10.0.0.7/24\nlo0/v6:static:ok:\\:\\:1/128\n"
        );
    }
}
