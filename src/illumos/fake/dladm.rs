//! The FakeHost's datalinks: physical NICs, etherstubs and VNICs with MAC addresses, the
//! zone each VNIC is lent to, and the dladm subcommands `create-etherstub`,
//! `delete-etherstub`, `create-vnic`, `delete-vnic`, `show-vnic`, `show-etherstub` and
//! `show-link` with libofmt output and dladm's errors (reference §4). Link names are
//! checked here independently of `logic::naming`, so each can catch the other's bugs.

use std::collections::BTreeMap;

use super::args::{fail, getopt, has, human_table, ok, value};
use super::messages as msg;
use crate::illumos::exec::CommandOutput;
use crate::illumos::ofmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Phys,
    Etherstub,
    Vnic,
}

impl Class {
    fn as_str(self) -> &'static str {
        match self {
            Class::Phys => "phys",
            Class::Etherstub => "etherstub",
            Class::Vnic => "vnic",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Link {
    pub class: Class,
    pub over: Option<String>,
    pub mac: [u8; 6],
    pub mac_type: &'static str,
    pub vid: u16,
    pub zone: Option<String>,
    pub mtu: u32,
}

/// All datalinks on the emulated host.
#[derive(Debug, Default)]
pub(crate) struct Links {
    map: BTreeMap<String, Link>,
    next_mac: u32,
}

/// The dladm link-name rules (reference §4.1).
pub(crate) fn valid_link_name(name: &str) -> bool {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let ppa = &name[name.len() - digits..];
    name.len() <= 31
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && digits > 0
        && (ppa == "0" || !ppa.starts_with('0'))
        && ppa.parse::<u64>().is_ok_and(|n| n <= 4_294_967_294)
}

fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter().map(|o| format!("{o:x}")).collect::<Vec<_>>().join(":")
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let octets: Vec<u8> = text
        .split(':')
        .map(|o| u8::from_str_radix(o, 16).ok().filter(|_| (1..=2).contains(&o.len())))
        .collect::<Option<_>>()?;
    octets.try_into().ok()
}

impl Links {
    pub fn add_physical(&mut self, name: &str) {
        let mac = self.allocate_mac(0x00);
        self.map.insert(
            name.to_string(),
            Link { class: Class::Phys, over: None, mac, mac_type: "factory", vid: 0, zone: None, mtu: 1500 },
        );
    }

    pub fn names(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    pub fn get(&self, name: &str) -> Option<&Link> {
        self.map.get(name)
    }

    /// Lends a link to a booting zone; false when it is missing or lent elsewhere.
    pub fn assign(&mut self, name: &str, zone: &str) -> bool {
        match self.map.get_mut(name) {
            Some(link) if link.class == Class::Vnic && link.zone.as_deref().is_none_or(|z| z == zone) => {
                link.zone = Some(zone.to_string());
                true
            }
            _ => false,
        }
    }

    /// Returns every link lent to `zone` to the global zone.
    pub fn release(&mut self, zone: &str) {
        for link in self.map.values_mut().filter(|l| l.zone.as_deref() == Some(zone)) {
            link.zone = None;
        }
    }

    /// A deterministic, locally administered MAC (`2:8:20:…` for VNICs, like dladm's
    /// random prefix).
    fn allocate_mac(&mut self, first: u8) -> [u8; 6] {
        self.next_mac += 1;
        let [_, a, b, c] = self.next_mac.to_be_bytes();
        if first == 0 { [0, 0xc, 0x29, a, b, c] } else { [first, 8, 0x20, a, b, c] }
    }

    pub fn command(&mut self, args: &[String]) -> CommandOutput {
        let Some((subcommand, rest)) = args.split_first() else {
            return fail(1, msg::dladm_usage("missing subcommand"));
        };
        match subcommand.as_str() {
            "create-etherstub" => self.create_etherstub(rest),
            "delete-etherstub" => self.delete(rest, Class::Etherstub),
            "create-vnic" => self.create_vnic(rest),
            "delete-vnic" => self.delete(rest, Class::Vnic),
            "show-vnic" => self.show(rest, "show-vnic", Some(Class::Vnic)),
            "show-etherstub" => self.show(rest, "show-etherstub", Some(Class::Etherstub)),
            "show-link" => self.show(rest, "show-link", None),
            other => fail(1, msg::dladm_usage(&format!("unknown subcommand '{other}'"))),
        }
    }

    fn create_etherstub(&mut self, args: &[String]) -> CommandOutput {
        let (_, operands) = match getopt(args, "tR:") {
            Ok(parsed) => parsed,
            Err(e) => return fail(1, msg::dladm_usage(&e)),
        };
        let [name] = operands.as_slice() else { return fail(1, msg::dladm_usage("wrong number of arguments")) };
        if !valid_link_name(name) {
            return fail(1, msg::dladm_invalid_link_name(name));
        }
        if self.map.contains_key(name) {
            return fail(1, msg::dladm_etherstub_create_failed("object already exists"));
        }
        let mac = self.allocate_mac(2);
        self.map.insert(
            name.clone(),
            Link { class: Class::Etherstub, over: None, mac, mac_type: "random", vid: 0, zone: None, mtu: 9000 },
        );
        ok("")
    }

    fn create_vnic(&mut self, args: &[String]) -> CommandOutput {
        let (options, operands) = match getopt(args, "tR:l:m:n:r:v:fp:") {
            Ok(parsed) => parsed,
            Err(e) => return fail(1, msg::dladm_usage(&e)),
        };
        let [name] = operands.as_slice() else { return fail(1, msg::dladm_usage("wrong number of arguments")) };
        let Some(over) = value(&options, 'l') else { return fail(1, msg::dladm_usage("-l is required")) };
        if !valid_link_name(name) {
            return fail(1, msg::dladm_invalid_vnic_name(name));
        }
        let vid = match value(&options, 'v').map(str::parse::<u16>) {
            None => 0,
            Some(Ok(v)) if (1..=4094).contains(&v) => v,
            Some(_) => return fail(1, "dladm: invalid VLAN id"),
        };
        match self.map.get(over) {
            None => return fail(1, msg::dladm_vnic_create_failed(over, "object not found")),
            Some(link) if link.class == Class::Vnic => {
                return fail(1, msg::dladm_vnic_create_failed(over, "invalid argument"));
            }
            Some(_) => {}
        }
        if self.map.contains_key(name) {
            return fail(1, msg::dladm_vnic_create_failed(over, "object already exists"));
        }
        let (mac, mac_type) = match value(&options, 'm') {
            None | Some("auto" | "random") => (self.allocate_mac(2), "random"),
            Some(text) => match parse_mac(text) {
                Some(mac) if self.map.values().any(|l| l.mac == mac) => {
                    return fail(1, msg::dladm_vnic_create_failed(over, "MAC address is already in use"));
                }
                Some(mac) => (mac, "fixed"),
                None => return fail(1, msg::dladm_vnic_create_failed(over, "invalid MAC address value")),
            },
        };
        let mtu = self.map[over].mtu;
        self.map.insert(
            name.clone(),
            Link { class: Class::Vnic, over: Some(over.to_string()), mac, mac_type, vid, zone: None, mtu },
        );
        ok("")
    }

    fn delete(&mut self, args: &[String], class: Class) -> CommandOutput {
        let (_, operands) = match getopt(args, "tR:") {
            Ok(parsed) => parsed,
            Err(e) => return fail(1, msg::dladm_usage(&e)),
        };
        let [name] = operands.as_slice() else { return fail(1, msg::dladm_usage("wrong number of arguments")) };
        let failed = |status: &str| match class {
            Class::Vnic => fail(1, msg::dladm_vnic_delete_failed(status)),
            _ => fail(1, msg::dladm_etherstub_delete_failed(status)),
        };
        let Some(link) = self.map.get(name) else { return failed("object not found") };
        if link.class != class {
            return fail(1, msg::dladm_not_a(name, class.as_str()));
        }
        let has_vnics = self.map.values().any(|l| l.over.as_deref() == Some(name.as_str()));
        if link.zone.is_some() || has_vnics {
            return failed("link busy");
        }
        self.map.remove(name);
        ok("")
    }

    fn field(&self, name: &str, link: &Link, field: &str) -> Result<String, String> {
        Ok(match field {
            "link" => name.to_string(),
            "class" => link.class.as_str().to_string(),
            "mtu" => link.mtu.to_string(),
            "state" => if link.class == Class::Etherstub { "unknown" } else { "up" }.to_string(),
            "bridge" => String::new(),
            "over" => link.over.clone().unwrap_or_default(),
            "speed" => if link.class == Class::Phys { "1000" } else { "0" }.to_string(),
            "macaddress" => format_mac(&link.mac),
            "macaddrtype" => link.mac_type.to_string(),
            "vid" => link.vid.to_string(),
            "zone" => link.zone.clone().unwrap_or_default(),
            other => return Err(other.to_string()),
        })
    }

    fn show(&self, args: &[String], command: &str, class: Option<Class>) -> CommandOutput {
        let (options, operands) = match getopt(args, "pPo:l:") {
            Ok(parsed) => parsed,
            Err(e) => return fail(1, msg::dladm_usage(&e)),
        };
        let parsable = has(&options, 'p');
        let default_fields = match class {
            Some(Class::Vnic) => "link,over,speed,macaddress,macaddrtype,vid,zone",
            Some(_) => "link",
            None => "link,class,mtu,state,bridge,over",
        };
        let fields: Vec<String> = match value(&options, 'o') {
            Some("all") if parsable => return fail(1, "dladm: output field `all' invalid in parsable mode"),
            Some("all") | None if !parsable => default_fields.split(',').map(str::to_string).collect(),
            Some(list) => list.split(',').map(str::to_ascii_lowercase).collect(),
            None => return fail(1, msg::dladm_parsable_needs_fields()),
        };
        let over_filter = value(&options, 'l');
        let mut rows = Vec::new();
        let selected: Vec<(&String, &Link)> = match operands.as_slice() {
            [] => self.map.iter().filter(|(_, l)| class.is_none_or(|c| l.class == c)).collect(),
            [name] => match self.map.get_key_value(name.as_str()) {
                Some((n, l)) if class.is_none_or(|c| l.class == c) => vec![(n, l)],
                Some(_) => return fail(1, msg::dladm_not_a(name, class.map_or("link", Class::as_str))),
                None => return fail(1, msg::dladm_show_failed(command, name, "object not found")),
            },
            _ => return fail(1, msg::dladm_usage("too many arguments")),
        };
        for (name, link) in selected {
            if over_filter.is_some_and(|o| link.over.as_deref() != Some(o)) {
                continue;
            }
            let row: Result<Vec<String>, String> = fields.iter().map(|f| self.field(name, link, f)).collect();
            match row {
                Ok(row) => rows.push(row),
                Err(field) => return fail(1, msg::dladm_unknown_field(&field)),
            }
        }
        if parsable {
            ok(ofmt::render_rows(&rows))
        } else {
            let headers: Vec<&str> = fields.iter().map(String::as_str).collect();
            ok(human_table(&headers, &rows))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::illumos::dladm::{parse_links, parse_vnics};
    use crate::logic::naming;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn host() -> Links {
        let mut links = Links::default();
        links.add_physical("e1000g0");
        links
    }

    fn run(links: &mut Links, args: &[&str]) -> CommandOutput {
        links.command(&strings(args))
    }

    #[test]
    fn etherstubs_and_vnics() {
        let mut links = host();
        assert!(run(&mut links, &["create-etherstub", "-t", "stub0"]).success());
        assert!(run(&mut links, &["create-vnic", "-t", "-l", "stub0", "pod1x0"]).success());
        assert!(run(&mut links, &["create-vnic", "-t", "-l", "stub0", "-m", "2:8:20:aa:bb:1", "pod2x0"]).success());
        let shown = run(&mut links, &["show-vnic", "-p", "-o", "link,over,macaddress,vid,zone", "pod2x0"]);
        assert_eq!(shown.stdout, "pod2x0:stub0:2\\:8\\:20\\:aa\\:bb\\:1:0:\n");
        let parsed =
            parse_vnics(&run(&mut links, &["show-vnic", "-p", "-o", "link,over,macaddress,vid,zone"]).stdout).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].mac, "02:08:20:aa:bb:01");
        let single = run(&mut links, &["show-vnic", "-p", "-o", "macaddress", "pod2x0"]);
        assert_eq!(single.stdout, "2:8:20:aa:bb:1\n");
        let all =
            parse_links(&run(&mut links, &["show-link", "-p", "-o", "link,class,mtu,state,over"]).stdout).unwrap();
        let classes: Vec<(&str, &str)> = all.iter().map(|l| (l.link.as_str(), l.class.as_str())).collect();
        assert_eq!(classes, [("e1000g0", "phys"), ("pod1x0", "vnic"), ("pod2x0", "vnic"), ("stub0", "etherstub")]);
        let human = run(&mut links, &["show-vnic", "pod1x0"]);
        assert!(human.stdout.starts_with("LINK   OVER  SPEED MACADDRESS"), "{}", human.stdout);
    }

    #[test]
    fn errors_match_the_reference() {
        let mut links = host();
        run(&mut links, &["create-etherstub", "stub0"]);
        run(&mut links, &["create-vnic", "-l", "stub0", "pod1x0"]);
        let table: &[(&[&str], &str)] = &[
            (
                &["create-vnic", "-l", "stub0", "pod1x0"],
                "dladm: vnic creation over stub0 failed: object already exists\n",
            ),
            (&["create-vnic", "-l", "stub9", "pod2x0"], "dladm: vnic creation over stub9 failed: object not found\n"),
            (&["create-vnic", "-l", "stub0", "pod01"], "dladm: invalid vnic name 'pod01'\n"),
            (&["create-vnic", "-l", "stub0", "pod"], "dladm: invalid vnic name 'pod'\n"),
            (&["create-etherstub", "stub-0"], "dladm: invalid link name 'stub-0'\n"),
            (&["delete-etherstub", "stub0"], "dladm: etherstub deletion failed: link busy\n"),
            (&["delete-vnic", "pod9x0"], "dladm: vnic deletion failed: object not found\n"),
            (&["delete-vnic", "stub0"], "dladm: 'stub0' is not a vnic\n"),
            (&["show-vnic", "-p", "pod1x0"], "dladm: output fields must be specified in parsable mode\n"),
            (&["show-vnic", "-p", "-o", "frob"], "dladm: unknown output field: `frob'\n"),
        ];
        for (args, stderr) in table {
            let output = run(&mut links, args);
            assert_eq!((output.exit_code, output.stderr.as_str()), (1, *stderr), "{args:?}");
        }
        assert!(links.assign("pod1x0", "web-1"));
        assert!(!links.assign("pod1x0", "web-2"), "a VNIC belongs to one zone at a time");
        assert_eq!(run(&mut links, &["delete-vnic", "pod1x0"]).stderr, "dladm: vnic deletion failed: link busy\n");
        links.release("web-1");
        assert!(run(&mut links, &["delete-vnic", "pod1x0"]).success());
        assert!(run(&mut links, &["delete-etherstub", "stub0"]).success());
    }

    #[test]
    fn naming_and_the_fake_agree_on_link_names() {
        let names = [
            "x0",
            "net10",
            "a_b9",
            "net01",
            "x00",
            "0net",
            "_x1",
            "net",
            "ne-t0",
            "a4294967295",
            &"a".repeat(31),
            &format!("{}1", "a".repeat(30)),
        ];
        for name in names {
            assert_eq!(valid_link_name(name), naming::check_link_name(name).is_ok(), "{name}");
        }
        for i in 0..500 {
            let vnic = naming::vnic_name("ns", &format!("pod-{i}"));
            assert!(valid_link_name(&vnic), "{vnic}");
        }
    }
}
