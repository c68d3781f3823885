//! dladm(8): builders for etherstubs and VNICs (always temporary, `-t`, because the agent
//! recreates its links from its own state), and parsers of `show-vnic` / `show-link`
//! parsable output. Link names are checked against the dladm rules before a command is
//! built (reference §4.1). Pure.

use crate::illumos::exec::CommandSpec;
use crate::illumos::ofmt;
use crate::illumos::profile::{PlatformProfile, Tool};
use crate::logic::naming;

/// The dladm status text for a missing link.
pub const OBJECT_NOT_FOUND: &str = "object not found";
/// The dladm status text for a name that is taken.
pub const OBJECT_EXISTS: &str = "object already exists";
/// The dladm status text for a link in use (by a running zone, or VNICs over an etherstub).
pub const LINK_BUSY: &str = "link busy";

/// The fields the VNIC parser asks for, in order.
pub const VNIC_FIELDS: &str = "link,over,macaddress,vid,zone";
/// The fields the link parser asks for, in order.
pub const LINK_FIELDS: &str = "link,class,mtu,state,over";

/// Why a dladm command could not be built or its output parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DladmError {
    /// A link name breaks the dladm rules.
    #[error(transparent)]
    InvalidName(#[from] naming::NameError),
    /// A MAC address is malformed.
    #[error("invalid MAC address '{mac}'")]
    InvalidMac {
        /// The address.
        mac: String,
    },
    /// Output did not have the requested fields.
    #[error("cannot parse `dladm {command}` output line {line}")]
    Parse {
        /// The subcommand.
        command: &'static str,
        /// The 1-based line number.
        line: usize,
    },
}

/// One VNIC, from `show-vnic -p -o link,over,macaddress,vid,zone`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VnicInfo {
    /// The VNIC name.
    pub link: String,
    /// The link it is over (an etherstub or NIC).
    pub over: String,
    /// The MAC address, normalised to two lower-case hex digits per octet.
    pub mac: String,
    /// The VLAN id (0 for none).
    pub vid: u16,
    /// The zone the VNIC is assigned to, if any.
    pub zone: Option<String>,
}

/// One link, from `show-link -p -o link,class,mtu,state,over`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    /// The link name.
    pub link: String,
    /// `phys`, `etherstub`, `vnic`, …
    pub class: String,
    /// The MTU.
    pub mtu: Option<u32>,
    /// `up`, `down`, `unknown`.
    pub state: String,
    /// The underlying link(s), if any.
    pub over: Option<String>,
}

/// `dladm create-etherstub -t NAME`.
pub fn create_etherstub(profile: &PlatformProfile, name: &str) -> Result<CommandSpec, DladmError> {
    naming::check_link_name(name)?;
    Ok(profile.command(Tool::Dladm).args(["create-etherstub", "-t", name]))
}

/// `dladm delete-etherstub [-t] NAME`.
pub fn delete_etherstub(profile: &PlatformProfile, name: &str) -> Result<CommandSpec, DladmError> {
    naming::check_link_name(name)?;
    Ok(delete_link(profile, "delete-etherstub", name))
}

/// `dladm create-vnic -t -l OVER [-m MAC] NAME`.
pub fn create_vnic(
    profile: &PlatformProfile,
    name: &str,
    over: &str,
    mac: Option<&str>,
) -> Result<CommandSpec, DladmError> {
    naming::check_link_name(name)?;
    naming::check_link_name(over)?;
    let spec = profile.command(Tool::Dladm).args(["create-vnic", "-t", "-l", over]);
    let spec = match mac {
        Some(mac) => spec.args(["-m", &normalise_mac(mac)?]),
        None => spec,
    };
    Ok(spec.arg(name))
}

/// `dladm delete-vnic [-t] NAME` (`-t` per [`PlatformProfile::dladm_delete_with_t`]).
pub fn delete_vnic(profile: &PlatformProfile, name: &str) -> Result<CommandSpec, DladmError> {
    naming::check_link_name(name)?;
    Ok(delete_link(profile, "delete-vnic", name))
}

fn delete_link(profile: &PlatformProfile, subcommand: &str, name: &str) -> CommandSpec {
    let spec = profile.command(Tool::Dladm).arg(subcommand);
    let spec = if profile.dladm_delete_with_t { spec.arg("-t") } else { spec };
    spec.arg(name)
}

/// `dladm show-vnic -p -o link,over,macaddress,vid,zone [NAME]`.
pub fn show_vnic(profile: &PlatformProfile, name: Option<&str>) -> Result<CommandSpec, DladmError> {
    let spec = profile.command(Tool::Dladm).args(["show-vnic", "-p", "-o", VNIC_FIELDS]);
    match name {
        Some(name) => {
            naming::check_link_name(name)?;
            Ok(spec.arg(name))
        }
        None => Ok(spec),
    }
}

/// `dladm show-link -p -o link,class,mtu,state,over [NAME]`.
pub fn show_link(profile: &PlatformProfile, name: Option<&str>) -> Result<CommandSpec, DladmError> {
    let spec = profile.command(Tool::Dladm).args(["show-link", "-p", "-o", LINK_FIELDS]);
    match name {
        Some(name) => {
            naming::check_link_name(name)?;
            Ok(spec.arg(name))
        }
        None => Ok(spec),
    }
}

/// Parses `show-vnic -p -o link,over,macaddress,vid,zone`.
pub fn parse_vnics(text: &str) -> Result<Vec<VnicInfo>, DladmError> {
    let rows = ofmt::parse_rows(text, 5).map_err(|line| DladmError::Parse { command: "show-vnic", line })?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            Ok(VnicInfo {
                mac: normalise_mac(&row[2]).map_err(|_| DladmError::Parse { command: "show-vnic", line: i + 1 })?,
                vid: row[3].parse().map_err(|_| DladmError::Parse { command: "show-vnic", line: i + 1 })?,
                zone: ofmt::none_if_blank(&row[4]),
                link: row[0].clone(),
                over: row[1].clone(),
            })
        })
        .collect()
}

/// Parses `show-link -p -o link,class,mtu,state,over`.
pub fn parse_links(text: &str) -> Result<Vec<LinkInfo>, DladmError> {
    let rows = ofmt::parse_rows(text, 5).map_err(|line| DladmError::Parse { command: "show-link", line })?;
    Ok(rows
        .into_iter()
        .map(|row| LinkInfo {
            link: row[0].clone(),
            class: row[1].clone(),
            mtu: row[2].parse().ok(),
            state: row[3].clone(),
            over: ofmt::none_if_blank(&row[4]),
        })
        .collect())
}

/// `2:8:20:a:b:1` → `02:08:20:0a:0b:01`. dladm prints octets without leading zeros.
pub fn normalise_mac(mac: &str) -> Result<String, DladmError> {
    let octets: Vec<&str> = mac.split(':').collect();
    let valid = octets.len() == 6
        && octets.iter().all(|o| (1..=2).contains(&o.len()) && o.chars().all(|c| c.is_ascii_hexdigit()));
    if !valid {
        return Err(DladmError::InvalidMac { mac: mac.to_string() });
    }
    Ok(octets.iter().map(|o| format!("{:0>2}", o.to_ascii_lowercase())).collect::<Vec<_>>().join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_check_names() {
        let p = PlatformProfile::omnios();
        assert_eq!(create_etherstub(&p, "stub0").unwrap().args, ["create-etherstub", "-t", "stub0"]);
        assert_eq!(
            create_vnic(&p, "pod7x0", "stub0", None).unwrap().args,
            ["create-vnic", "-t", "-l", "stub0", "pod7x0"]
        );
        assert_eq!(
            create_vnic(&p, "pod7x0", "stub0", Some("2:8:20:a:b:1")).unwrap().args,
            ["create-vnic", "-t", "-l", "stub0", "-m", "02:08:20:0a:0b:01", "pod7x0"]
        );
        assert_eq!(delete_vnic(&p, "pod7x0").unwrap().args, ["delete-vnic", "pod7x0"]);
        assert_eq!(delete_etherstub(&p, "stub0").unwrap().args, ["delete-etherstub", "stub0"]);
        assert_eq!(show_vnic(&p, Some("pod7x0")).unwrap().args, ["show-vnic", "-p", "-o", VNIC_FIELDS, "pod7x0"]);
        assert_eq!(show_link(&p, None).unwrap().args, ["show-link", "-p", "-o", LINK_FIELDS]);
        for bad in ["net01", "pod", "0pod", "a-b0", &"a".repeat(32)] {
            assert!(create_vnic(&p, bad, "stub0", None).is_err(), "{bad}");
        }
        assert!(create_vnic(&p, "pod0", "stub0", Some("zz:1")).is_err());
    }

    #[test]
    fn parses_vnics() {
        // Shape from the reference (§4.4), with all five fields requested.
        let text = "pod1x0:stub0:2\\:8\\:20\\:aa\\:bb\\:1:0:web-1\nadmin0:aggr0:2\\:8\\:20\\:43\\:4e\\:9c:0:\n";
        let vnics = parse_vnics(text).unwrap();
        assert_eq!(
            vnics[0],
            VnicInfo {
                link: "pod1x0".into(),
                over: "stub0".into(),
                mac: "02:08:20:aa:bb:01".into(),
                vid: 0,
                zone: Some("web-1".into()),
            }
        );
        assert_eq!(vnics[1].zone, None);
        assert!(parse_vnics("pod1x0:stub0:2\\:8:0:z\n").is_err());
        assert!(parse_vnics("a:b:c\n").is_err());
    }

    #[test]
    fn parses_links() {
        // The reference's example (§4.4).
        let text = "e1000g0:phys:1500:up:\nstub0:etherstub:9000:unknown:\npod1x0:vnic:1500:up:stub0\n";
        let links = parse_links(text).unwrap();
        assert_eq!(links.len(), 3);
        assert_eq!(links[1].class, "etherstub");
        assert_eq!(links[1].mtu, Some(9000));
        assert_eq!(links[0].over, None);
        assert_eq!(links[2].over.as_deref(), Some("stub0"));
    }
}
