//! ipadm(8) in the global zone: IP interfaces and static addresses on the node's own links
//! (the pods' gateway VNIC), IP forwarding, and the parser of `show-addr` parsable output.
//! Pod zones get their addresses from `allowed-address` at boot, not from here. Pure.

use crate::illumos::exec::CommandSpec;
use crate::illumos::ofmt;
use crate::illumos::profile::{PlatformProfile, Tool};
use crate::logic::naming;

/// Status text when an address object name is taken (success on retry).
pub const ADDROBJ_EXISTS: &str = "Address object already exists";
/// Status text when the interface already exists (success on retry).
pub const INTERFACE_EXISTS: &str = "Interface already exists";
/// Status text when deleting something that is not there (already deleted).
pub const OBJECT_NOT_FOUND: &str = "Object not found";

/// The fields the address parser asks for, in order.
pub const ADDR_FIELDS: &str = "addrobj,type,state,addr";

/// The longest address object name after the `/`. `[verify]`
const ADDROBJ_NAME_MAX: usize = 32;

/// Why an ipadm command could not be built or its output parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IpadmError {
    /// The interface name breaks the link rules.
    #[error(transparent)]
    InvalidName(#[from] naming::NameError),
    /// An address object is not `IF/NAME` with a valid NAME.
    #[error("invalid address object '{addrobj}'")]
    InvalidAddrobj {
        /// The address object.
        addrobj: String,
    },
    /// An address is not `ADDRESS/PREFIX`.
    #[error("invalid address '{address}'")]
    InvalidAddress {
        /// The address.
        address: String,
    },
    /// Output did not have the requested fields.
    #[error("cannot parse `ipadm show-addr` output line {line}")]
    Parse {
        /// The 1-based line number.
        line: usize,
    },
}

/// One address, from `show-addr -p -o addrobj,type,state,addr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    /// `IF/NAME`.
    pub addrobj: String,
    /// `static`, `dhcp`, `addrconf`, `from-gz`.
    pub kind: String,
    /// `ok`, `tentative`, `duplicate`, …
    pub state: String,
    /// `ADDRESS/PREFIX`, with any `%IF` scope removed.
    pub address: String,
}

/// `ipadm create-if -t IF`.
pub fn create_if(profile: &PlatformProfile, interface: &str) -> Result<CommandSpec, IpadmError> {
    naming::check_link_name(interface)?;
    Ok(profile.command(Tool::Ipadm).args(["create-if", "-t", interface]))
}

/// `ipadm delete-if IF`.
pub fn delete_if(profile: &PlatformProfile, interface: &str) -> Result<CommandSpec, IpadmError> {
    naming::check_link_name(interface)?;
    Ok(profile.command(Tool::Ipadm).args(["delete-if", interface]))
}

/// `ipadm create-addr -t -T static -a ADDRESS/PREFIX IF/NAME`.
pub fn create_static_addr(profile: &PlatformProfile, addrobj: &str, address: &str) -> Result<CommandSpec, IpadmError> {
    check_addrobj(addrobj)?;
    let valid = address.split_once('/').is_some_and(|(ip, prefix)| {
        ip.parse::<std::net::IpAddr>().is_ok() && prefix.parse::<u8>().is_ok_and(|p| p <= 128)
    });
    if !valid {
        return Err(IpadmError::InvalidAddress { address: address.to_string() });
    }
    Ok(profile.command(Tool::Ipadm).args(["create-addr", "-t", "-T", "static", "-a", address, addrobj]))
}

/// `ipadm delete-addr IF/NAME`.
pub fn delete_addr(profile: &PlatformProfile, addrobj: &str) -> Result<CommandSpec, IpadmError> {
    check_addrobj(addrobj)?;
    Ok(profile.command(Tool::Ipadm).args(["delete-addr", addrobj]))
}

/// `ipadm show-addr -p -o addrobj,type,state,addr [IF/NAME]`.
pub fn show_addr(profile: &PlatformProfile, addrobj: Option<&str>) -> Result<CommandSpec, IpadmError> {
    let spec = profile.command(Tool::Ipadm).args(["show-addr", "-p", "-o", ADDR_FIELDS]);
    match addrobj {
        Some(addrobj) => {
            check_addrobj(addrobj)?;
            Ok(spec.arg(addrobj))
        }
        None => Ok(spec),
    }
}

/// `ipadm set-prop -t -p forwarding=on|off ipv4|ipv6`.
pub fn set_forwarding(profile: &PlatformProfile, ipv6: bool, on: bool) -> CommandSpec {
    let value = if on { "forwarding=on" } else { "forwarding=off" };
    profile.command(Tool::Ipadm).args(["set-prop", "-t", "-p", value, if ipv6 { "ipv6" } else { "ipv4" }])
}

/// Checks `IF/NAME`: a valid link name, then a name of letters and digits that starts with
/// a letter.
pub fn check_addrobj(addrobj: &str) -> Result<(), IpadmError> {
    let invalid = || IpadmError::InvalidAddrobj { addrobj: addrobj.to_string() };
    let (interface, name) = addrobj.split_once('/').ok_or_else(invalid)?;
    naming::check_link_name(interface).map_err(|_| invalid())?;
    let valid = (1..=ADDROBJ_NAME_MAX).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric());
    if valid { Ok(()) } else { Err(invalid()) }
}

/// Parses `show-addr -p -o addrobj,type,state,addr`.
pub fn parse_addrs(text: &str) -> Result<Vec<AddrInfo>, IpadmError> {
    let rows = ofmt::parse_rows(text, 4).map_err(|line| IpadmError::Parse { line })?;
    Ok(rows
        .into_iter()
        .map(|row| AddrInfo {
            addrobj: row[0].clone(),
            kind: row[1].clone(),
            state: row[2].clone(),
            address: strip_scope(&row[3]),
        })
        .collect())
}

/// `fe80::1%net0/10` → `fe80::1/10`.
fn strip_scope(address: &str) -> String {
    match address.split_once('%') {
        Some((ip, rest)) => match rest.split_once('/') {
            Some((_, prefix)) => format!("{ip}/{prefix}"),
            None => ip.to_string(),
        },
        None => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders() {
        let p = PlatformProfile::omnios();
        assert_eq!(
            create_static_addr(&p, "gw0/v4", "10.0.0.1/24").unwrap().args,
            ["create-addr", "-t", "-T", "static", "-a", "10.0.0.1/24", "gw0/v4"]
        );
        assert_eq!(create_if(&p, "gw0").unwrap().args, ["create-if", "-t", "gw0"]);
        assert_eq!(delete_addr(&p, "gw0/v4").unwrap().args, ["delete-addr", "gw0/v4"]);
        assert_eq!(set_forwarding(&p, false, true).args, ["set-prop", "-t", "-p", "forwarding=on", "ipv4"]);
        for bad in ["gw0", "gw0/", "gw0/4v", "gw0/v-4", "gw/v4", "gw0/v4/x"] {
            assert!(create_static_addr(&p, bad, "10.0.0.1/24").is_err(), "{bad}");
        }
        for bad in ["10.0.0.1", "10.0.0.1/", "x/24", "10.0.0.1/200"] {
            assert!(create_static_addr(&p, "gw0/v4", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_addresses() {
        // The reference's parsable example (§5.2).
        let text = "lo0/v4:static:ok:127.0.0.1/8\nnet0/v4:static:ok:10.0.0.5/24\n\
                    net0/v6ll:addrconf:ok:fe80\\:\\:8\\:20ff\\:fe12\\:3456%net0/10\n";
        let addrs = parse_addrs(text).unwrap();
        assert_eq!(addrs.len(), 3);
        assert_eq!(
            addrs[1],
            AddrInfo {
                addrobj: "net0/v4".into(),
                kind: "static".into(),
                state: "ok".into(),
                address: "10.0.0.5/24".into()
            }
        );
        assert_eq!(addrs[2].address, "fe80::8:20ff:fe12:3456/10");
        assert!(parse_addrs("a:b\n").is_err());
    }
}
