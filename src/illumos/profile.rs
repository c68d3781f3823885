//! The platform profile: every fact that differs between illumos distributions, or that the
//! reference marks `[verify]`, lives here as a named field so it can be changed in one
//! place. Both the runtime (to build commands) and the `FakeHost` (to emulate a host) read
//! it. OmniOS is the primary target ([`PlatformProfile::omnios`]).

/// The administration tools Reddwarf calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tool {
    /// `zonecfg(8)`.
    Zonecfg,
    /// `zoneadm(8)`.
    Zoneadm,
    /// `zlogin(1)`.
    Zlogin,
    /// `dladm(8)`.
    Dladm,
    /// `ipadm(8)`.
    Ipadm,
    /// `zfs(8)`.
    Zfs,
}

impl Tool {
    /// All tools.
    pub const ALL: [Tool; 6] = [Tool::Zonecfg, Tool::Zoneadm, Tool::Zlogin, Tool::Dladm, Tool::Ipadm, Tool::Zfs];

    /// The command name (the last path component of its program).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Zonecfg => "zonecfg",
            Tool::Zoneadm => "zoneadm",
            Tool::Zlogin => "zlogin",
            Tool::Dladm => "dladm",
            Tool::Ipadm => "ipadm",
            Tool::Zfs => "zfs",
        }
    }

    /// The absolute path on illumos (all of these live in `/usr/sbin`).
    pub fn path(self) -> &'static str {
        match self {
            Tool::Zonecfg => "/usr/sbin/zonecfg",
            Tool::Zoneadm => "/usr/sbin/zoneadm",
            Tool::Zlogin => "/usr/sbin/zlogin",
            Tool::Dladm => "/usr/sbin/dladm",
            Tool::Ipadm => "/usr/sbin/ipadm",
            Tool::Zfs => "/usr/sbin/zfs",
        }
    }

    /// The tool whose program path (or bare name) is `program`.
    pub fn from_program(program: &str) -> Option<Tool> {
        let name = program.rsplit('/').next().unwrap_or(program);
        Tool::ALL.into_iter().find(|tool| tool.name() == name)
    }
}

/// Distribution-specific behaviour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformProfile {
    /// A short name for logs (`omnios`, `illumos-gate`).
    pub name: &'static str,
    /// Run every tool as `pfexec TOOL …` (for a non-root agent with an RBAC profile).
    pub pfexec: Option<&'static str>,
    /// `zoneadm list -p` prints an 8th field (a debug id) after ip-type. OmniOS and SmartOS
    /// do, illumos-gate does not. What the field holds is `[verify]`.
    pub list_has_debug_id: bool,
    /// The brand of the global zone as `zoneadm list -p` shows it.
    pub global_brand: &'static str,
    /// The brand a new zone gets when the configuration names none.
    pub default_brand: &'static str,
    /// The brand `zonecfg export` omits (`set brand=` is not printed for it). `[verify]`
    pub native_brand: &'static str,
    /// The longest zone name: ZONENAME_MAX (64) minus the NUL. `[verify]` against
    /// `sys/zone.h`, and whether lx/bhyve accept the full length on OmniOS.
    pub zone_name_max: usize,
    /// zonecfg reads its command file from stdin with `-f -`. The man page says so; the
    /// `On line N of -:` prefix it prints for errors is `[verify]`.
    pub zonecfg_stdin_file: &'static str,
    /// Pass `-t` to `dladm delete-vnic` / `delete-etherstub` for links created with `-t`.
    /// The reference's lifecycle sequence omits it (`[verify]`, §12.4).
    pub dladm_delete_with_t: bool,
}

impl PlatformProfile {
    /// OmniOS (r151046 LTS and later): 8-field `list -p`, `lipkg` default brand.
    pub fn omnios() -> Self {
        Self {
            name: "omnios",
            pfexec: None,
            list_has_debug_id: true,
            global_brand: "ipkg",
            default_brand: "lipkg",
            native_brand: "native",
            zone_name_max: crate::logic::naming::ZONE_NAME_MAX,
            zonecfg_stdin_file: "-",
            dladm_delete_with_t: false,
        }
    }

    /// Upstream illumos-gate: 7-field `list -p`.
    pub fn illumos_gate() -> Self {
        Self { name: "illumos-gate", list_has_debug_id: false, default_brand: "ipkg", ..Self::omnios() }
    }

    /// The same profile, running every tool through `pfexec`.
    pub fn with_pfexec(self) -> Self {
        Self { pfexec: Some("/usr/bin/pfexec"), ..self }
    }

    /// A command for `tool`, with `pfexec` in front when the profile asks for it.
    pub fn command(&self, tool: Tool) -> crate::illumos::exec::CommandSpec {
        use crate::illumos::exec::CommandSpec;
        match self.pfexec {
            Some(pfexec) => CommandSpec::new(pfexec).arg(tool.path()),
            None => CommandSpec::new(tool.path()),
        }
    }
}

impl Default for PlatformProfile {
    fn default() -> Self {
        Self::omnios()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_use_absolute_paths_and_optional_pfexec() {
        let plain = PlatformProfile::omnios().command(Tool::Zoneadm);
        assert_eq!(plain.argv(), ["/usr/sbin/zoneadm"]);
        let privileged = PlatformProfile::omnios().with_pfexec().command(Tool::Zfs);
        assert_eq!(privileged.argv(), ["/usr/bin/pfexec", "/usr/sbin/zfs"]);
    }

    #[test]
    fn tools_are_found_by_program() {
        assert_eq!(Tool::from_program("/usr/sbin/dladm"), Some(Tool::Dladm));
        assert_eq!(Tool::from_program("ipadm"), Some(Tool::Ipadm));
        assert_eq!(Tool::from_program("/usr/bin/kstat"), None);
    }
}
