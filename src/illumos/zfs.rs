//! zfs(8): builders for the datasets Reddwarf manages (pod volume datasets, the zonepath
//! parent) and the parser of `zfs list -H -p` output (TAB-separated, exact numbers, `-` for
//! "not applicable"; reference §6.2). Pure.

use crate::illumos::exec::CommandSpec;
use crate::illumos::profile::{PlatformProfile, Tool};

/// stderr text for a dataset that does not exist.
pub const DATASET_MISSING: &str = "dataset does not exist";
/// stderr text for creating a dataset that exists.
pub const DATASET_EXISTS: &str = "dataset already exists";

/// The properties the list parser asks for, in order.
pub const LIST_FIELDS: &str = "name,used,avail,quota,mountpoint";

/// The longest dataset name (ZFS_MAX_DATASET_NAME_LEN 256 minus the NUL).
const DATASET_NAME_MAX: usize = 255;

/// Why a zfs command could not be built or its output parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZfsError {
    /// A dataset name breaks the ZFS rules (or ours: no spaces, no snapshots here).
    #[error("invalid dataset name '{name}'")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// A property name or value is unusable.
    #[error("invalid property '{property}'")]
    InvalidProperty {
        /// `name=value`.
        property: String,
    },
    /// Output did not have the requested fields.
    #[error("cannot parse `zfs list` output line {line}")]
    Parse {
        /// The 1-based line number.
        line: usize,
    },
}

/// One dataset, from `zfs list -H -p -o name,used,avail,quota,mountpoint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetInfo {
    /// The full name.
    pub name: String,
    /// Bytes used.
    pub used: u64,
    /// Bytes available.
    pub available: u64,
    /// The quota in bytes; `None` when there is none (`0`).
    pub quota: Option<u64>,
    /// The mountpoint; `None` for `-` and `none`.
    pub mountpoint: Option<String>,
}

/// `zfs create -p [-o PROP=VALUE]… NAME` (`-p` creates missing parents and makes creating
/// an existing parent chain harmless).
pub fn create(profile: &PlatformProfile, name: &str, properties: &[(&str, String)]) -> Result<CommandSpec, ZfsError> {
    check_dataset_name(name)?;
    let mut spec = profile.command(Tool::Zfs).args(["create", "-p"]);
    for (property, value) in properties {
        spec = spec.args(["-o", &property_assignment(property, value)?]);
    }
    Ok(spec.arg(name))
}

/// `zfs set PROP=VALUE NAME`.
pub fn set(profile: &PlatformProfile, name: &str, property: &str, value: &str) -> Result<CommandSpec, ZfsError> {
    check_dataset_name(name)?;
    Ok(profile.command(Tool::Zfs).args(["set", &property_assignment(property, value)?, name]))
}

/// `zfs destroy -r NAME`: the dataset, its children and their snapshots.
pub fn destroy_recursive(profile: &PlatformProfile, name: &str) -> Result<CommandSpec, ZfsError> {
    check_dataset_name(name)?;
    if !name.contains('/') {
        // Never a whole pool.
        return Err(ZfsError::InvalidName { name: name.to_string() });
    }
    Ok(profile.command(Tool::Zfs).args(["destroy", "-r", name]))
}

/// `zfs list -H -p -o name,used,avail,quota,mountpoint [-r] NAME`.
pub fn list(profile: &PlatformProfile, name: &str, recursive: bool) -> Result<CommandSpec, ZfsError> {
    check_dataset_name(name)?;
    let spec = profile.command(Tool::Zfs).args(["list", "-H", "-p", "-o", LIST_FIELDS]);
    Ok(if recursive { spec.args(["-r", name]) } else { spec.arg(name) })
}

fn property_assignment(property: &str, value: &str) -> Result<String, ZfsError> {
    let valid_name = !property.is_empty()
        && property.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-'))
        && property.starts_with(|c: char| c.is_ascii_alphabetic());
    if !valid_name || value.chars().any(char::is_control) {
        return Err(ZfsError::InvalidProperty { property: format!("{property}={}", value.escape_debug()) });
    }
    Ok(format!("{property}={value}"))
}

/// Checks a filesystem or volume name: `pool/a/b`, components of letters, digits and
/// `_ - : .`, no empty component, at most 255 characters.
pub fn check_dataset_name(name: &str) -> Result<(), ZfsError> {
    let valid = !name.is_empty()
        && name.len() <= DATASET_NAME_MAX
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.split('/').all(|component| {
            !component.is_empty()
                && component != "."
                && component != ".."
                && component.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))
        });
    if valid { Ok(()) } else { Err(ZfsError::InvalidName { name: name.to_string() }) }
}

/// Parses `zfs list -H -p -o name,used,avail,quota,mountpoint`.
pub fn parse_list(text: &str) -> Result<Vec<DatasetInfo>, ZfsError> {
    let mut datasets = Vec::new();
    for (index, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let error = || ZfsError::Parse { line: index + 1 };
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, used, avail, quota, mountpoint] = fields.as_slice() else { return Err(error()) };
        let number = |text: &str| if text == "-" { Ok(0) } else { text.parse::<u64>().map_err(|_| error()) };
        datasets.push(DatasetInfo {
            name: name.to_string(),
            used: number(used)?,
            available: number(avail)?,
            quota: Some(number(quota)?).filter(|&q| q > 0),
            mountpoint: Some(mountpoint.to_string()).filter(|m| m != "-" && m != "none"),
        });
    }
    Ok(datasets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders() {
        let p = PlatformProfile::omnios();
        let spec = create(
            &p,
            "rpool/reddwarf/volumes/z/cache",
            &[("quota", "1073741824".into()), ("mountpoint", "legacy".into())],
        );
        assert_eq!(
            spec.unwrap().args,
            ["create", "-p", "-o", "quota=1073741824", "-o", "mountpoint=legacy", "rpool/reddwarf/volumes/z/cache"]
        );
        assert_eq!(destroy_recursive(&p, "rpool/pods/web-1").unwrap().args, ["destroy", "-r", "rpool/pods/web-1"]);
        assert_eq!(
            list(&p, "rpool/pods", true).unwrap().args,
            ["list", "-H", "-p", "-o", LIST_FIELDS, "-r", "rpool/pods"]
        );
        assert_eq!(set(&p, "rpool/pods/web-1", "quota", "10G").unwrap().args, ["set", "quota=10G", "rpool/pods/web-1"]);
        assert!(destroy_recursive(&p, "rpool").is_err());
        for bad in [
            "",
            "/rpool",
            "rpool//x",
            "rpool/a b",
            "rpool/x@snap",
            "rpool/..",
            "-rpool",
            &format!("rpool/{}", "x".repeat(255)),
        ] {
            assert!(check_dataset_name(bad).is_err(), "{bad}");
        }
        assert!(set(&p, "rpool/x", "quota", "1G\n").is_err());
        assert!(create(&p, "rpool/x", &[("-o", "x".into())]).is_err());
    }

    #[test]
    fn parses_the_reference_list() {
        // From the reference (§6.2), plus the name/used/avail/quota columns our builder asks for.
        let text = "rpool/pods\t1083392\t51378765824\t0\t/pods\n\
                    rpool/pods/web-1\t741376\t1073000448\t1073741824\t/pods/web-1\n\
                    rpool/pods/web-1/ROOT\t694272\t1073000448\t0\tlegacy\n\
                    rpool/pods/web-1/ROOT@s\t0\t-\t-\t-\n";
        let datasets = parse_list(text).unwrap();
        assert_eq!(datasets.len(), 4);
        assert_eq!(datasets[0].quota, None);
        assert_eq!(
            datasets[1],
            DatasetInfo {
                name: "rpool/pods/web-1".into(),
                used: 741376,
                available: 1073000448,
                quota: Some(1073741824),
                mountpoint: Some("/pods/web-1".into()),
            }
        );
        assert_eq!(datasets[2].mountpoint.as_deref(), Some("legacy"));
        assert_eq!(datasets[3].mountpoint, None);
        assert!(parse_list("a\tb\n").is_err());
        assert!(parse_list("rpool\tx\t1\t0\t/\n").is_err());
    }
}
