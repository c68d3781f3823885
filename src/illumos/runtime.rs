//! `IllumosRuntime`: the pod-lifecycle steps an actor asks of the host, over an
//! `Arc<dyn Executor>` (the real host, or the `FakeHost`). Every step is idempotent and
//! resumable: it first observes (`zoneadm -z ZONE list -p`, `zonecfg export`, `dladm
//! show-*`, `zfs list`), does only what is missing, and reports whether it did anything
//! ([`Step`]). A respawned actor can therefore call the same steps again after a crash at
//! any point. Every command carries a timeout from [`Timeouts`]. Errors carry the step,
//! the zone (or link, dataset), the command and its stderr.
//!
//! This module decides nothing about pods; `logic` does. It never uses actix.

use std::sync::Arc;
use std::time::Duration;

use crate::illumos::exec::{CommandOutput, CommandSpec, ExecError, Executor};
use crate::illumos::profile::PlatformProfile;
use crate::illumos::zoneadm::{InstallSource, ZoneEntry, ZoneState};
use crate::illumos::zonecfg::{self, ZoneConfig};
use crate::illumos::{dladm, ipadm, zfs, zlogin, zoneadm};
use crate::logic::zone_plan::ZonePlan;

/// The attribute that marks a zone as Reddwarf's (see `logic::zone_plan`): only such a
/// zone's configuration is ever replaced.
const OWNER_ATTR: &str = "reddwarf-namespace";

/// How long each kind of command may run before it is killed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Observation: `list`, `export`, `show-*`, `zfs list`.
    pub observe: Duration,
    /// `zonecfg -f -` and `zonecfg delete -F`.
    pub configure: Duration,
    /// `zoneadm install` (package installs can be slow).
    pub install: Duration,
    /// `zoneadm clone`.
    pub clone: Duration,
    /// `zoneadm boot`.
    pub boot: Duration,
    /// `zoneadm shutdown` (graceful).
    pub shutdown: Duration,
    /// `zoneadm halt`.
    pub halt: Duration,
    /// `zoneadm uninstall`.
    pub uninstall: Duration,
    /// dladm and ipadm changes.
    pub network: Duration,
    /// zfs changes.
    pub zfs: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            observe: Duration::from_secs(30),
            configure: Duration::from_secs(60),
            install: Duration::from_secs(30 * 60),
            clone: Duration::from_secs(10 * 60),
            boot: Duration::from_secs(5 * 60),
            shutdown: Duration::from_secs(5 * 60),
            halt: Duration::from_secs(2 * 60),
            uninstall: Duration::from_secs(10 * 60),
            network: Duration::from_secs(30),
            zfs: Duration::from_secs(2 * 60),
        }
    }
}

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The step changed the host.
    Done,
    /// The host was already as asked; nothing was changed.
    AlreadyDone,
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The command could not run or was killed at its timeout.
    #[error("{op} {subject}: {source}")]
    Exec {
        /// The step.
        op: &'static str,
        /// The zone, link or dataset.
        subject: String,
        /// Why.
        source: ExecError,
    },
    /// The command exited non-zero.
    #[error("{op} {subject}: `{command}` exited with {exit_code}: {stderr}")]
    Failed {
        /// The step.
        op: &'static str,
        /// The zone, link or dataset.
        subject: String,
        /// The command line.
        command: String,
        /// Its exit code.
        exit_code: i32,
        /// Its stderr, trimmed.
        stderr: String,
    },
    /// The command's output could not be parsed.
    #[error("{op} {subject}: cannot parse the output of `{command}`: {detail}")]
    Parse {
        /// The step.
        op: &'static str,
        /// The zone, link or dataset.
        subject: String,
        /// The command line.
        command: String,
        /// What was wrong.
        detail: String,
    },
    /// A command could not be built (a name or value the host would reject or misparse).
    #[error("{op} {subject}: {detail}")]
    Invalid {
        /// The step.
        op: &'static str,
        /// The zone, link or dataset.
        subject: String,
        /// What was wrong.
        detail: String,
    },
    /// The zone is in a state where the step cannot run (transitional states included:
    /// retry later).
    #[error("{op} zone {zone}: not possible while the zone is {state}")]
    InvalidState {
        /// The step.
        op: &'static str,
        /// The zone.
        zone: String,
        /// Its state, or `absent`.
        state: String,
    },
    /// Something exists under our name but is not what we would have made (a zone with
    /// another configuration past `configured`, a VNIC over another link, a zone that is
    /// not Reddwarf's).
    #[error("{op} {subject}: {detail}")]
    Conflict {
        /// The step.
        op: &'static str,
        /// The zone, link, address or dataset.
        subject: String,
        /// What differs.
        detail: String,
    },
}

impl RuntimeError {
    /// True for a non-zero exit whose stderr contains `text`.
    pub fn stderr_contains(&self, text: &str) -> bool {
        matches!(self, RuntimeError::Failed { stderr, .. } if stderr.contains(text))
    }

    /// True when retrying later may succeed (timeouts, transitional zone states).
    pub fn is_transient(&self) -> bool {
        match self {
            RuntimeError::Exec { source: ExecError::Timeout { .. }, .. } => true,
            RuntimeError::InvalidState { state, .. } => ZoneState::parse(state).is_some_and(ZoneState::is_transitional),
            _ => false,
        }
    }
}

/// The node-wide setup every pod needs (reference §12.4, "once per node").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeNetwork {
    /// The pods' private switch (`stub0`).
    pub etherstub: String,
    /// The global zone's VNIC on it, the pods' default router (`gw0`).
    pub gateway_vnic: String,
    /// The gateway's address object (`gw0/v4`).
    pub gateway_addrobj: String,
    /// The gateway's address with prefix (`10.0.0.1/24`).
    pub gateway_address: String,
    /// The dataset whose mountpoint is the zonepath root (`rpool/pods` at `/pods`).
    pub zonepath_dataset: String,
    /// That mountpoint.
    pub zonepath_root: String,
}

/// The host boundary for pod lifecycles.
#[derive(Clone)]
pub struct IllumosRuntime {
    executor: Arc<dyn Executor>,
    profile: PlatformProfile,
    timeouts: Timeouts,
}

impl std::fmt::Debug for IllumosRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IllumosRuntime").field("profile", &self.profile.name).field("timeouts", &self.timeouts).finish()
    }
}

fn invalid(op: &'static str, subject: &str, error: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Invalid { op, subject: subject.to_string(), detail: error.to_string() }
}

fn parse_error(op: &'static str, subject: &str, command: &str, error: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Parse { op, subject: subject.to_string(), command: command.to_string(), detail: error.to_string() }
}

impl IllumosRuntime {
    /// A runtime with the default timeouts.
    pub fn new(executor: Arc<dyn Executor>, profile: PlatformProfile) -> Self {
        Self { executor, profile, timeouts: Timeouts::default() }
    }

    /// The same runtime with other timeouts.
    pub fn with_timeouts(self, timeouts: Timeouts) -> Self {
        Self { timeouts, ..self }
    }

    /// The platform profile.
    pub fn profile(&self) -> &PlatformProfile {
        &self.profile
    }

    /// The timeouts.
    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    async fn run(&self, op: &'static str, subject: &str, spec: CommandSpec) -> Result<CommandOutput, RuntimeError> {
        tracing::debug!(op, subject, command = %spec, "running host command");
        self.executor.run(spec).await.map_err(|source| RuntimeError::Exec { op, subject: subject.to_string(), source })
    }

    async fn run_ok(&self, op: &'static str, subject: &str, spec: CommandSpec) -> Result<CommandOutput, RuntimeError> {
        let command = spec.to_string();
        let output = self.run(op, subject, spec).await?;
        if output.success() {
            return Ok(output);
        }
        Err(RuntimeError::Failed {
            op,
            subject: subject.to_string(),
            command,
            exit_code: output.exit_code,
            stderr: output.stderr.trim().to_string(),
        })
    }

    // ---- observation ----------------------------------------------------------------

    /// Every zone except the global zone (`zoneadm list -cip`).
    pub async fn list_zones(&self) -> Result<Vec<ZoneEntry>, RuntimeError> {
        let spec = zoneadm::list_all(&self.profile).timeout(self.timeouts.observe);
        let command = spec.to_string();
        let output = self.run_ok("list zones", "", spec).await?;
        let zones = zoneadm::parse_zone_list(&output.stdout).map_err(|e| parse_error("list zones", "", &command, e))?;
        Ok(zones.into_iter().filter(|z| z.name != "global").collect())
    }

    /// One zone (`zoneadm -z ZONE list -p`), or `None` when it is not configured.
    pub async fn zone(&self, zone: &str) -> Result<Option<ZoneEntry>, RuntimeError> {
        const OP: &str = "observe";
        let spec =
            zoneadm::list_zone(&self.profile, zone).map_err(|e| invalid(OP, zone, e))?.timeout(self.timeouts.observe);
        let command = spec.to_string();
        match self.run_ok(OP, zone, spec).await {
            Ok(output) => {
                let mut zones =
                    zoneadm::parse_zone_list(&output.stdout).map_err(|e| parse_error(OP, zone, &command, e))?;
                Ok(zones.pop().filter(|z| z.name == zone))
            }
            Err(error) if error.stderr_contains(zonecfg::NO_SUCH_ZONE) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn state(&self, zone: &str) -> Result<Option<ZoneState>, RuntimeError> {
        Ok(self.zone(zone).await?.map(|z| z.state))
    }

    /// A zone's configuration as `zonecfg export` shows it, or `None` when it does not exist.
    pub async fn zone_config(&self, zone: &str) -> Result<Option<ZoneConfig>, RuntimeError> {
        const OP: &str = "read configuration of";
        let spec =
            zonecfg::export(&self.profile, zone).map_err(|e| invalid(OP, zone, e))?.timeout(self.timeouts.observe);
        match self.run_ok(OP, zone, spec).await {
            Ok(output) => zonecfg::parse_export(zone, &output.stdout)
                .map(Some)
                .map_err(|e| parse_error(OP, zone, "zonecfg export", e)),
            Err(error) if error.stderr_contains(zonecfg::NO_SUCH_ZONE) => Ok(None),
            Err(error) => Err(error),
        }
    }

    // ---- zone steps --------------------------------------------------------------------

    /// Configures the zone of `plan`. A no-op when the zone is already configured exactly
    /// so. A Reddwarf zone that is only `configured` with another configuration is replaced;
    /// past `configured` that is a [`RuntimeError::Conflict`] (it must be torn down
    /// first). If zonecfg fails half-way, the partial configuration it may have committed
    /// is deleted.
    pub async fn configure_zone(&self, plan: &ZonePlan) -> Result<Step, RuntimeError> {
        const OP: &str = "configure";
        let zone = plan.zone_name.as_str();
        let script = zonecfg::render_script(plan).map_err(|e| invalid(OP, zone, e))?;
        let wanted = ZoneConfig::from_plan(plan, &self.profile);
        if let Some(entry) = self.zone(zone).await? {
            let existing = self.zone_config(zone).await?;
            if existing.as_ref().is_some_and(|existing| matches_plan(existing, &wanted)) {
                return Ok(Step::AlreadyDone);
            }
            // Gone meanwhile: configure it afresh below.
            let ours = existing.as_ref().is_none_or(|c| c.attrs.contains_key(OWNER_ATTR));
            if !ours {
                return Err(RuntimeError::Conflict {
                    op: OP,
                    subject: zone.into(),
                    detail: "a zone of this name exists and is not managed by Reddwarf".into(),
                });
            }
            if entry.state != ZoneState::Configured {
                return Err(RuntimeError::Conflict {
                    op: OP,
                    subject: zone.into(),
                    detail: format!(
                        "the zone is {} with a different configuration; uninstall and delete it first",
                        entry.state
                    ),
                });
            }
            self.delete_zone_config(zone).await?;
        }
        let spec = zonecfg::configure(&self.profile, zone, &script)
            .map_err(|e| invalid(OP, zone, e))?
            .timeout(self.timeouts.configure);
        if let Err(error) = self.run_ok(OP, zone, spec).await {
            // zonecfg commits what it accumulated before the failing line (reference §1.2).
            if let Err(cleanup) = self.delete_zone_config(zone).await {
                tracing::warn!(zone, error = %cleanup, "could not delete a partial zone configuration");
            }
            return Err(error);
        }
        Ok(Step::Done)
    }

    /// Deletes the zone's configuration (`zonecfg delete -F`). A no-op when it does not
    /// exist; refused while the zone has a kernel instance.
    pub async fn delete_zone_config(&self, zone: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "delete configuration of";
        match self.state(zone).await? {
            None => return Ok(Step::AlreadyDone),
            Some(state) if state.has_kernel_zone() => {
                return Err(RuntimeError::InvalidState { op: OP, zone: zone.into(), state: state.to_string() });
            }
            Some(_) => {}
        }
        let spec =
            zonecfg::delete(&self.profile, zone).map_err(|e| invalid(OP, zone, e))?.timeout(self.timeouts.configure);
        match self.run_ok(OP, zone, spec).await {
            Ok(_) => Ok(Step::Done),
            Err(error) if error.stderr_contains(zonecfg::NO_SUCH_ZONE) => Ok(Step::AlreadyDone),
            Err(error) => Err(error),
        }
    }

    /// Installs the zone. A no-op once it is installed (or further); an `incomplete` zone
    /// (an interrupted install) is uninstalled first.
    pub async fn install_zone(&self, zone: &str, source: &InstallSource) -> Result<Step, RuntimeError> {
        const OP: &str = "install";
        let spec = zoneadm::install(&self.profile, zone, source)
            .map_err(|e| invalid(OP, zone, e))?
            .timeout(self.timeouts.install);
        self.populate(OP, zone, spec).await
    }

    /// Installs the zone by cloning `source` (an installed, halted zone of the same
    /// brand). Idempotent like [`IllumosRuntime::install_zone`].
    pub async fn clone_zone(&self, zone: &str, source: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "clone";
        let spec = zoneadm::clone(&self.profile, zone, source, None)
            .map_err(|e| invalid(OP, zone, e))?
            .timeout(self.timeouts.clone);
        self.populate(OP, zone, spec).await
    }

    async fn populate(&self, op: &'static str, zone: &str, spec: CommandSpec) -> Result<Step, RuntimeError> {
        match self.state(zone).await? {
            None => return Err(RuntimeError::InvalidState { op, zone: zone.into(), state: "absent".into() }),
            Some(ZoneState::Configured) => {}
            Some(ZoneState::Incomplete) => {
                self.uninstall_zone(zone).await?;
            }
            Some(ZoneState::Mounted) => {
                return Err(RuntimeError::InvalidState {
                    op,
                    zone: zone.into(),
                    state: ZoneState::Mounted.to_string(),
                });
            }
            Some(_) => return Ok(Step::AlreadyDone),
        }
        match self.run_ok(op, zone, spec).await {
            Ok(_) => Ok(Step::Done),
            // Someone else finished it meanwhile.
            Err(error) if error.stderr_contains(zoneadm::ALREADY_INSTALLED) => Ok(Step::AlreadyDone),
            Err(error) => Err(error),
        }
    }

    /// Boots the zone. A no-op when it is running.
    pub async fn boot_zone(&self, zone: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "boot";
        match self.state(zone).await? {
            Some(ZoneState::Running) => return Ok(Step::AlreadyDone),
            Some(ZoneState::Installed | ZoneState::Ready) => {}
            other => return Err(RuntimeError::InvalidState { op: OP, zone: zone.into(), state: state_name(other) }),
        }
        let spec = zoneadm::boot(&self.profile, zone).map_err(|e| invalid(OP, zone, e))?.timeout(self.timeouts.boot);
        self.run_ok(OP, zone, spec).await?;
        Ok(Step::Done)
    }

    /// Shuts the zone down gracefully. A no-op when it is not running; a `ready` zone
    /// (which has nothing to shut down) is halted.
    pub async fn shutdown_zone(&self, zone: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "shut down";
        match self.state(zone).await? {
            Some(ZoneState::Running) => {}
            Some(ZoneState::Ready) => return self.halt_zone(zone).await,
            Some(state @ (ZoneState::ShuttingDown | ZoneState::Down)) => {
                return Err(RuntimeError::InvalidState { op: OP, zone: zone.into(), state: state.to_string() });
            }
            _ => return Ok(Step::AlreadyDone),
        }
        let spec =
            zoneadm::shutdown(&self.profile, zone).map_err(|e| invalid(OP, zone, e))?.timeout(self.timeouts.shutdown);
        match self.run_ok(OP, zone, spec).await {
            Ok(_) => Ok(Step::Done),
            Err(error) if error.stderr_contains(zoneadm::NOT_RUNNING) => Ok(Step::AlreadyDone),
            Err(error) => Err(error),
        }
    }

    /// Halts the zone at once. A no-op when it has no kernel instance (halted, only
    /// configured, or absent).
    pub async fn halt_zone(&self, zone: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "halt";
        match self.state(zone).await? {
            Some(state) if state.has_kernel_zone() => {}
            _ => return Ok(Step::AlreadyDone),
        }
        let spec = zoneadm::halt(&self.profile, zone).map_err(|e| invalid(OP, zone, e))?.timeout(self.timeouts.halt);
        self.run_ok(OP, zone, spec).await?;
        Ok(Step::Done)
    }

    /// Uninstalls the zone (`uninstall -F`). A no-op when it is only configured or absent;
    /// refused while it has a kernel instance (halt it first).
    pub async fn uninstall_zone(&self, zone: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "uninstall";
        match self.state(zone).await? {
            None | Some(ZoneState::Configured) => return Ok(Step::AlreadyDone),
            Some(ZoneState::Installed | ZoneState::Incomplete) => {}
            Some(state) => {
                return Err(RuntimeError::InvalidState { op: OP, zone: zone.into(), state: state.to_string() });
            }
        }
        let spec =
            zoneadm::uninstall(&self.profile, zone).map_err(|e| invalid(OP, zone, e))?.timeout(self.timeouts.uninstall);
        match self.run_ok(OP, zone, spec).await {
            Ok(_) => Ok(Step::Done),
            Err(error) if error.stderr_contains(zoneadm::ALREADY_CONFIGURED) => Ok(Step::AlreadyDone),
            Err(error) => Err(error),
        }
    }

    /// Halts, uninstalls and deletes the zone, whatever state it is in.
    pub async fn remove_zone(&self, zone: &str) -> Result<Step, RuntimeError> {
        let steps =
            [self.halt_zone(zone).await?, self.uninstall_zone(zone).await?, self.delete_zone_config(zone).await?];
        Ok(if steps.contains(&Step::Done) { Step::Done } else { Step::AlreadyDone })
    }

    /// Runs `argv` (with `env`) as root inside a running zone, through `zlogin -Q -E` with
    /// every word shell-quoted. Returns the command's output whatever its exit code.
    pub async fn exec_in_zone(
        &self,
        zone: &str,
        argv: &[String],
        env: &[(String, String)],
        stdin: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<CommandOutput, RuntimeError> {
        const OP: &str = "exec in";
        let spec = zlogin::run(&self.profile, zone, argv, env).map_err(|e| invalid(OP, zone, e))?.timeout(timeout);
        let spec = match stdin {
            Some(bytes) => spec.stdin(bytes),
            None => spec,
        };
        self.run(OP, zone, spec).await
    }

    // ---- network steps -----------------------------------------------------------------

    /// Looks a link up by name with a name query. dladm's exact "object not found" status
    /// means absent; any other failure falls back to listing every link, so a different
    /// error text can cost a listing but never a wrong answer. (Listing first would make
    /// each new pod's lookup O(links) on a busy node.)
    async fn find_link<T>(
        &self,
        op: &'static str,
        name: &str,
        build: impl Fn(Option<&str>) -> Result<CommandSpec, dladm::DladmError>,
        parse: impl Fn(&str) -> Result<Vec<T>, dladm::DladmError>,
        is_it: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, RuntimeError> {
        let named = build(Some(name)).map_err(|e| invalid(op, name, e))?.timeout(self.timeouts.observe);
        let command = named.to_string();
        let output = self.run(op, name, named).await?;
        let text = if output.success() {
            output.stdout
        } else if output.stderr.contains(dladm::OBJECT_NOT_FOUND) {
            return Ok(None);
        } else {
            let all = build(None).map_err(|e| invalid(op, name, e))?.timeout(self.timeouts.observe);
            self.run_ok(op, name, all).await?.stdout
        };
        let items = parse(&text).map_err(|e| parse_error(op, name, &command, e))?;
        Ok(items.into_iter().find(|item| is_it(item)))
    }

    /// Creates a temporary etherstub. A no-op when it exists.
    pub async fn ensure_etherstub(&self, name: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "create etherstub";
        let profile = &self.profile;
        let found = self
            .find_link(
                OP,
                name,
                |n| dladm::show_link(profile, n),
                dladm::parse_links,
                |l: &dladm::LinkInfo| l.link == name,
            )
            .await?;
        match found {
            Some(link) if link.class == "etherstub" => return Ok(Step::AlreadyDone),
            Some(link) => {
                return Err(RuntimeError::Conflict {
                    op: OP,
                    subject: name.into(),
                    detail: format!("a {} link of this name exists", link.class),
                });
            }
            None => {}
        }
        let spec =
            dladm::create_etherstub(profile, name).map_err(|e| invalid(OP, name, e))?.timeout(self.timeouts.network);
        self.run_ok(OP, name, spec).await?;
        Ok(Step::Done)
    }

    /// Creates a temporary VNIC over `over`. A no-op when it exists over that link.
    pub async fn ensure_vnic(&self, name: &str, over: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "create vnic";
        let profile = &self.profile;
        let found = self
            .find_link(
                OP,
                name,
                |n| dladm::show_vnic(profile, n),
                dladm::parse_vnics,
                |v: &dladm::VnicInfo| v.link == name,
            )
            .await?;
        match found {
            Some(vnic) if vnic.over == over => return Ok(Step::AlreadyDone),
            Some(vnic) => {
                return Err(RuntimeError::Conflict {
                    op: OP,
                    subject: name.into(),
                    detail: format!("the VNIC exists over {}, not {over}", vnic.over),
                });
            }
            None => {}
        }
        let spec = dladm::create_vnic(profile, name, over, None)
            .map_err(|e| invalid(OP, name, e))?
            .timeout(self.timeouts.network);
        self.run_ok(OP, name, spec).await?;
        Ok(Step::Done)
    }

    /// Deletes a VNIC. A no-op when it does not exist; fails with `link busy` while a
    /// zone uses it.
    pub async fn delete_vnic(&self, name: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "delete vnic";
        let spec =
            dladm::delete_vnic(&self.profile, name).map_err(|e| invalid(OP, name, e))?.timeout(self.timeouts.network);
        match self.run_ok(OP, name, spec).await {
            Ok(_) => Ok(Step::Done),
            Err(error) if error.stderr_contains(dladm::OBJECT_NOT_FOUND) => Ok(Step::AlreadyDone),
            Err(error) => Err(error),
        }
    }

    /// Creates a static address in the global zone. A no-op when the address object
    /// already holds that address.
    pub async fn ensure_address(&self, addrobj: &str, address: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "create address";
        let find = |addrs: Vec<ipadm::AddrInfo>| addrs.into_iter().find(|a| a.addrobj == addrobj);
        let named = ipadm::show_addr(&self.profile, Some(addrobj))
            .map_err(|e| invalid(OP, addrobj, e))?
            .timeout(self.timeouts.observe);
        let command = named.to_string();
        let output = self.run(OP, addrobj, named).await?;
        let text = if output.success() {
            output.stdout
        } else {
            let all = ipadm::show_addr(&self.profile, None)
                .map_err(|e| invalid(OP, addrobj, e))?
                .timeout(self.timeouts.observe);
            self.run_ok(OP, addrobj, all).await?.stdout
        };
        let existing = find(ipadm::parse_addrs(&text).map_err(|e| parse_error(OP, addrobj, &command, e))?);
        match existing {
            Some(found) if found.address == address => return Ok(Step::AlreadyDone),
            Some(found) => {
                return Err(RuntimeError::Conflict {
                    op: OP,
                    subject: addrobj.into(),
                    detail: format!("it holds {}, not {address}", found.address),
                });
            }
            None => {}
        }
        let spec = ipadm::create_static_addr(&self.profile, addrobj, address)
            .map_err(|e| invalid(OP, addrobj, e))?
            .timeout(self.timeouts.network);
        self.run_ok(OP, addrobj, spec).await?;
        Ok(Step::Done)
    }

    /// Turns on IPv4 forwarding in the global zone (temporarily; naturally idempotent).
    pub async fn enable_forwarding(&self) -> Result<Step, RuntimeError> {
        let spec = ipadm::set_forwarding(&self.profile, false, true).timeout(self.timeouts.network);
        self.run_ok("enable forwarding", "ipv4", spec).await?;
        Ok(Step::Done)
    }

    /// The once-per-node setup: zonepath dataset, etherstub, gateway VNIC and address,
    /// forwarding.
    pub async fn prepare_node(&self, network: &NodeNetwork) -> Result<(), RuntimeError> {
        self.ensure_dataset(&network.zonepath_dataset, None, Some(&network.zonepath_root)).await?;
        self.ensure_etherstub(&network.etherstub).await?;
        self.ensure_vnic(&network.gateway_vnic, &network.etherstub).await?;
        self.ensure_address(&network.gateway_addrobj, &network.gateway_address).await?;
        self.enable_forwarding().await?;
        Ok(())
    }

    // ---- storage steps -----------------------------------------------------------------

    async fn dataset(&self, name: &str) -> Result<Option<zfs::DatasetInfo>, RuntimeError> {
        const OP: &str = "observe dataset";
        let spec =
            zfs::list(&self.profile, name, false).map_err(|e| invalid(OP, name, e))?.timeout(self.timeouts.observe);
        let command = spec.to_string();
        match self.run_ok(OP, name, spec).await {
            Ok(output) => {
                let datasets = zfs::parse_list(&output.stdout).map_err(|e| parse_error(OP, name, &command, e))?;
                Ok(datasets.into_iter().find(|d| d.name == name))
            }
            Err(error) if error.stderr_contains(zfs::DATASET_MISSING) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether a dataset or snapshot of this name exists.
    pub async fn dataset_exists(&self, name: &str) -> Result<bool, RuntimeError> {
        Ok(self.dataset(name).await?.is_some())
    }

    /// Creates a filesystem (and missing parents) with this quota and mountpoint, or
    /// brings an existing one's quota and mountpoint in line. A no-op when both match.
    pub async fn ensure_dataset(
        &self,
        name: &str,
        quota: Option<u64>,
        mountpoint: Option<&str>,
    ) -> Result<Step, RuntimeError> {
        const OP: &str = "create dataset";
        let Some(existing) = self.dataset(name).await? else {
            let mut properties = Vec::new();
            if let Some(quota) = quota {
                properties.push(("quota", quota.to_string()));
            }
            if let Some(mountpoint) = mountpoint {
                properties.push(("mountpoint", mountpoint.to_string()));
            }
            let spec = zfs::create(&self.profile, name, &properties)
                .map_err(|e| invalid(OP, name, e))?
                .timeout(self.timeouts.zfs);
            self.run_ok(OP, name, spec).await?;
            return Ok(Step::Done);
        };
        let mut step = Step::AlreadyDone;
        if existing.quota != quota {
            let value = quota.map_or_else(|| "none".to_string(), |q| q.to_string());
            let spec = zfs::set(&self.profile, name, "quota", &value)
                .map_err(|e| invalid(OP, name, e))?
                .timeout(self.timeouts.zfs);
            self.run_ok(OP, name, spec).await?;
            step = Step::Done;
        }
        if let Some(mountpoint) = mountpoint.filter(|m| existing.mountpoint.as_deref() != Some(*m)) {
            let spec = zfs::set(&self.profile, name, "mountpoint", mountpoint)
                .map_err(|e| invalid(OP, name, e))?
                .timeout(self.timeouts.zfs);
            self.run_ok(OP, name, spec).await?;
            step = Step::Done;
        }
        Ok(step)
    }

    /// Destroys a dataset and everything below it. A no-op when it does not exist.
    pub async fn destroy_dataset(&self, name: &str) -> Result<Step, RuntimeError> {
        const OP: &str = "destroy dataset";
        let spec =
            zfs::destroy_recursive(&self.profile, name).map_err(|e| invalid(OP, name, e))?.timeout(self.timeouts.zfs);
        match self.run_ok(OP, name, spec).await {
            Ok(_) => Ok(Step::Done),
            Err(error) if error.stderr_contains(zfs::DATASET_MISSING) => Ok(Step::AlreadyDone),
            Err(error) => Err(error),
        }
    }

    /// Creates the plan's volume datasets (`mountpoint=legacy`, as `fs type=zfs` needs).
    pub async fn prepare_volumes(&self, plan: &ZonePlan) -> Result<Step, RuntimeError> {
        let mut step = Step::AlreadyDone;
        for dataset in &plan.volume_datasets {
            if self.ensure_dataset(&dataset.name, dataset.quota_bytes, Some("legacy")).await? == Step::Done {
                step = Step::Done;
            }
        }
        Ok(step)
    }

    /// Destroys the plan's volume datasets.
    pub async fn remove_volumes(&self, plan: &ZonePlan) -> Result<Step, RuntimeError> {
        match &plan.volume_dataset_parent {
            Some(parent) => self.destroy_dataset(parent).await,
            None => Ok(Step::AlreadyDone),
        }
    }
}

/// Whether an exported configuration is the planned one. Global properties and resource
/// types the plan never sets (`limitpriv`, `device`, …) are ignored, so a distribution that
/// adds defaults of its own is not mistaken for drift; everything the plan sets must match
/// exactly.
fn matches_plan(existing: &ZoneConfig, wanted: &ZoneConfig) -> bool {
    let comparable = ZoneConfig { other_globals: Default::default(), other_resources: Vec::new(), ..existing.clone() };
    comparable == *wanted
}

fn state_name(state: Option<ZoneState>) -> String {
    state.map_or_else(|| "absent".to_string(), |s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::illumos::fake::{FakeHost, Operation};
    use crate::logic::zone_plan::plan_zone;
    use crate::logic::zone_plan::tests::{representative_network, representative_node, representative_pod};

    fn node_network() -> NodeNetwork {
        NodeNetwork {
            etherstub: "stub0".into(),
            gateway_vnic: "gw0".into(),
            gateway_addrobj: "gw0/v4".into(),
            gateway_address: "10.0.0.1/24".into(),
            zonepath_dataset: "rpool/pods".into(),
            zonepath_root: "/pods".into(),
        }
    }

    fn runtime(host: &FakeHost) -> IllumosRuntime {
        IllumosRuntime::new(Arc::new(host.clone()), PlatformProfile::omnios())
    }

    fn plan() -> ZonePlan {
        plan_zone(&representative_pod(), &representative_node(), &representative_network()).unwrap()
    }

    /// The commands that changed something (not observation), without the path prefix.
    fn changes(host: &FakeHost) -> Vec<String> {
        let observe = [" list", " export", " show-", "zfs list"];
        host.command_lines()
            .into_iter()
            .map(|l| l.replace("/usr/sbin/", ""))
            .filter(|l| !observe.iter().any(|o| l.contains(o)))
            .collect()
    }

    async fn create_pod(rt: &IllumosRuntime, plan: &ZonePlan) {
        rt.prepare_node(&node_network()).await.unwrap();
        rt.ensure_vnic(&plan.net.physical, "stub0").await.unwrap();
        rt.prepare_volumes(plan).await.unwrap();
        rt.configure_zone(plan).await.unwrap();
        rt.install_zone(&plan.zone_name, &InstallSource::Publishers).await.unwrap();
        rt.boot_zone(&plan.zone_name).await.unwrap();
    }

    #[tokio::test]
    async fn a_pod_lifecycle_then_every_step_again_is_a_no_op() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        let plan = plan();
        let zone = plan.zone_name.as_str();
        create_pod(&rt, &plan).await;
        assert_eq!(host.zone_state(zone), Some(ZoneState::Running));
        let vnic = plan.net.physical.as_str();
        assert_eq!(
            changes(&host),
            [
                "zfs create -p -o mountpoint=/pods rpool/pods".to_string(),
                "dladm create-etherstub -t stub0".into(),
                "dladm create-vnic -t -l stub0 gw0".into(),
                "ipadm create-addr -t -T static -a 10.0.0.1/24 gw0/v4".into(),
                "ipadm set-prop -t -p forwarding=on ipv4".into(),
                format!("dladm create-vnic -t -l stub0 {vnic}"),
                "zfs create -p -o quota=1073741824 -o mountpoint=legacy rpool/reddwarf/volumes/shop_web-1/cache".into(),
                format!("zonecfg -z {zone} -f -"),
                format!("zoneadm -z {zone} install"),
                format!("zoneadm -z {zone} boot"),
            ]
        );

        // A respawned actor repeats every step: nothing changes.
        host.clear_events();
        rt.prepare_node(&node_network()).await.unwrap();
        assert_eq!(rt.ensure_vnic(vnic, "stub0").await.unwrap(), Step::AlreadyDone);
        assert_eq!(rt.prepare_volumes(&plan).await.unwrap(), Step::AlreadyDone);
        assert_eq!(rt.configure_zone(&plan).await.unwrap(), Step::AlreadyDone);
        assert_eq!(rt.install_zone(zone, &InstallSource::Publishers).await.unwrap(), Step::AlreadyDone);
        assert_eq!(rt.boot_zone(zone).await.unwrap(), Step::AlreadyDone);
        assert_eq!(changes(&host), ["ipadm set-prop -t -p forwarding=on ipv4"]);

        let listed = rt.list_zones().await.unwrap();
        assert_eq!(listed.iter().map(|z| (z.name.as_str(), z.state)).collect::<Vec<_>>(), [(zone, ZoneState::Running)]);

        // Teardown, twice.
        host.clear_events();
        for round in 0..2 {
            let expected = if round == 0 { Step::Done } else { Step::AlreadyDone };
            assert_eq!(rt.shutdown_zone(zone).await.unwrap(), expected);
            assert_eq!(rt.halt_zone(zone).await.unwrap(), Step::AlreadyDone);
            assert_eq!(rt.uninstall_zone(zone).await.unwrap(), expected);
            assert_eq!(rt.delete_zone_config(zone).await.unwrap(), expected);
            assert_eq!(rt.delete_vnic(vnic).await.unwrap(), expected);
            assert_eq!(rt.remove_volumes(&plan).await.unwrap(), expected);
        }
        assert_eq!(
            changes(&host),
            [
                format!("zoneadm -z {zone} shutdown"),
                format!("zoneadm -z {zone} uninstall -F"),
                format!("zonecfg -z {zone} delete -F"),
                format!("dladm delete-vnic {vnic}"),
                "zfs destroy -r rpool/reddwarf/volumes/shop_web-1".into(),
                format!("dladm delete-vnic {vnic}"),
                "zfs destroy -r rpool/reddwarf/volumes/shop_web-1".into(),
            ]
        );
        assert_eq!(host.zone_names(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_missing_link_is_known_from_its_name_query_and_other_failures_list_every_link() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        rt.prepare_node(&node_network()).await.unwrap();
        let shows = |host: &FakeHost| -> Vec<String> {
            host.command_lines()
                .into_iter()
                .filter(|l| l.contains(" show-"))
                .map(|l| l.replace("/usr/sbin/", ""))
                .collect()
        };
        host.clear_events();
        assert_eq!(rt.ensure_vnic("pod1x0", "stub0").await.unwrap(), Step::Done);
        let fields = dladm::VNIC_FIELDS;
        assert_eq!(shows(&host), [format!("dladm show-vnic -p -o {fields} pod1x0")], "no listing for a new VNIC");

        // An error text other than dladm's "object not found" proves nothing: list them all.
        host.clear_events();
        host.fail_next(Operation::dladm("show-vnic"), 1, 1, "dladm: show-vnic: operation failed");
        assert_eq!(rt.ensure_vnic("pod2x0", "stub0").await.unwrap(), Step::Done);
        assert_eq!(
            shows(&host),
            [format!("dladm show-vnic -p -o {fields} pod2x0"), format!("dladm show-vnic -p -o {fields}")]
        );
        host.clear_events();
        host.fail_next(Operation::dladm("show-vnic"), 1, 1, "dladm: show-vnic: operation failed");
        assert_eq!(rt.ensure_vnic("pod2x0", "stub0").await.unwrap(), Step::AlreadyDone, "found by the listing");
    }

    #[tokio::test]
    async fn annotation_values_with_semicolons_stay_data() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        let plan = plan();
        create_pod(&rt, &plan).await;
        let config = rt.zone_config(&plan.zone_name).await.unwrap().unwrap();
        assert_eq!(config.attrs["note"], ("string".to_string(), "a; delete -F".to_string()));
        assert_eq!(config, ZoneConfig::from_plan(&plan, rt.profile()));
        assert_eq!(host.zone_state(&plan.zone_name), Some(ZoneState::Running));
    }

    #[tokio::test]
    async fn a_configured_zone_with_another_configuration_is_replaced_but_an_installed_one_is_not() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        let plan = plan();
        rt.configure_zone(&plan).await.unwrap();
        let mut changed = plan.clone();
        changed.net.defrouter = Some("10.0.0.254".into());
        host.clear_events();
        assert_eq!(rt.configure_zone(&changed).await.unwrap(), Step::Done);
        let zone = plan.zone_name.as_str();
        assert_eq!(changes(&host), [format!("zonecfg -z {zone} delete -F"), format!("zonecfg -z {zone} -f -")]);
        assert_eq!(rt.zone_config(zone).await.unwrap().unwrap().nets[0].defrouter.as_deref(), Some("10.0.0.254"));

        rt.prepare_volumes(&plan).await.unwrap();
        rt.install_zone(zone, &InstallSource::Publishers).await.unwrap();
        let error = rt.configure_zone(&plan).await.unwrap_err();
        assert!(matches!(error, RuntimeError::Conflict { .. }), "{error}");
        assert!(error.to_string().contains("installed"), "{error}");
    }

    #[tokio::test]
    async fn a_zone_that_is_not_ours_is_never_touched() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        let plan = plan();
        let spec =
            CommandSpec::new("/usr/sbin/zonecfg").args(["-z", &plan.zone_name, "create -b; set zonepath=/zones/admin"]);
        assert!(host.run(spec).await.unwrap().success());
        let error = rt.configure_zone(&plan).await.unwrap_err();
        assert!(matches!(error, RuntimeError::Conflict { .. }), "{error}");
        assert!(host.zone_state(&plan.zone_name).is_some());
    }

    #[tokio::test]
    async fn a_half_committed_configuration_is_cleaned_up() {
        let host = FakeHost::new();
        host.set_brands(&["lipkg"]);
        let rt = runtime(&host);
        let plan = plan();
        // zonecfg stops at `set brand="sparse"` but commits the zonepath set before it.
        let error = rt.configure_zone(&plan).await.unwrap_err();
        assert!(error.stderr_contains("sparse: unknown brand."), "{error}");
        assert_eq!(host.zone_state(&plan.zone_name), None);
        let zone = plan.zone_name.as_str();
        assert_eq!(changes(&host), [format!("zonecfg -z {zone} -f -"), format!("zonecfg -z {zone} delete -F")]);
    }

    #[tokio::test]
    async fn a_partial_configuration_left_by_a_crash_is_replaced() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        let plan = plan();
        // The script cut short after the zonepath line, as if the agent died while writing
        // zonecfg's stdin: zonecfg commits what it read.
        let script = zonecfg::render_script(&plan).unwrap();
        let cut = script.find("set brand").unwrap();
        let partial = CommandSpec::new("/usr/sbin/zonecfg")
            .args(["-z", &plan.zone_name, "-f", "-"])
            .stdin(&script.as_bytes()[..cut]);
        assert!(host.run(partial).await.unwrap().success());
        assert_eq!(host.zone_state(&plan.zone_name), Some(ZoneState::Configured));
        assert_eq!(rt.configure_zone(&plan).await.unwrap(), Step::Done);
        assert_eq!(rt.zone_config(&plan.zone_name).await.unwrap().unwrap(), ZoneConfig::from_plan(&plan, rt.profile()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_interrupted_install_resumes() {
        let host = FakeHost::new();
        let rt = runtime(&host).with_timeouts(Timeouts { install: Duration::from_secs(60), ..Timeouts::default() });
        let plan = plan();
        rt.prepare_node(&node_network()).await.unwrap();
        rt.configure_zone(&plan).await.unwrap();
        let zone = plan.zone_name.as_str();
        host.set_duration(Operation::zoneadm("install"), Duration::from_secs(90));
        let error = rt.install_zone(zone, &InstallSource::Publishers).await.unwrap_err();
        assert!(error.is_transient(), "{error}");
        assert_eq!(host.zone_state(zone), Some(ZoneState::Incomplete));
        host.set_duration(Operation::zoneadm("install"), Duration::from_secs(30));
        host.clear_events();
        assert_eq!(rt.install_zone(zone, &InstallSource::Publishers).await.unwrap(), Step::Done);
        assert_eq!(changes(&host), [format!("zoneadm -z {zone} uninstall -F"), format!("zoneadm -z {zone} install")]);
        assert_eq!(host.zone_state(zone), Some(ZoneState::Installed));
    }

    #[tokio::test(start_paused = true)]
    async fn every_call_has_a_timeout() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        host.hang_next(Operation::zoneadm("list"), 1);
        let started = tokio::time::Instant::now();
        let error = rt.list_zones().await.unwrap_err();
        assert!(matches!(&error, RuntimeError::Exec { source: ExecError::Timeout { .. }, .. }), "{error}");
        assert_eq!(started.elapsed(), Timeouts::default().observe);
        assert!(error.is_transient());
    }

    #[tokio::test]
    async fn halting_or_removing_a_missing_or_halted_zone_succeeds() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        assert_eq!(rt.halt_zone("nothing").await.unwrap(), Step::AlreadyDone);
        assert_eq!(rt.remove_zone("nothing").await.unwrap(), Step::AlreadyDone);
        assert_eq!(rt.shutdown_zone("nothing").await.unwrap(), Step::AlreadyDone);
        assert!(matches!(rt.boot_zone("nothing").await, Err(RuntimeError::InvalidState { .. })));
        assert!(matches!(
            rt.install_zone("nothing", &InstallSource::Publishers).await,
            Err(RuntimeError::InvalidState { .. })
        ));
        let plan = plan();
        create_pod(&rt, &plan).await;
        let zone = plan.zone_name.as_str();
        assert!(matches!(rt.uninstall_zone(zone).await, Err(RuntimeError::InvalidState { .. })));
        assert!(matches!(rt.delete_zone_config(zone).await, Err(RuntimeError::InvalidState { .. })));
        assert!(rt.delete_vnic(&plan.net.physical).await.unwrap_err().stderr_contains(dladm::LINK_BUSY));
        assert_eq!(rt.remove_zone(zone).await.unwrap(), Step::Done);
        assert_eq!(host.zone_state(zone), None);
    }

    #[tokio::test]
    async fn a_zone_stuck_in_down_is_reported_as_transient() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        let plan = plan();
        create_pod(&rt, &plan).await;
        let zone = plan.zone_name.as_str();
        host.hold_zone_down(zone, true);
        assert!(rt.halt_zone(zone).await.unwrap_err().stderr_contains("unable to destroy zone"));
        for error in [rt.boot_zone(zone).await.unwrap_err(), rt.uninstall_zone(zone).await.unwrap_err()] {
            assert!(matches!(&error, RuntimeError::InvalidState { state, .. } if state == "down"), "{error}");
            assert!(error.is_transient());
        }
        host.hold_zone_down(zone, false);
        assert_eq!(rt.remove_zone(zone).await.unwrap(), Step::Done);
    }

    #[tokio::test]
    async fn settings_the_plan_does_not_make_are_not_drift() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        let plan = plan();
        rt.configure_zone(&plan).await.unwrap();
        let zone = plan.zone_name.as_str();
        let extra = CommandSpec::new("/usr/sbin/zonecfg").args([
            "-z",
            zone,
            "set limitpriv=default; add device; set match=/dev/null; end",
        ]);
        assert!(host.run(extra).await.unwrap().success());
        assert_eq!(rt.configure_zone(&plan).await.unwrap(), Step::AlreadyDone);
        let drift = CommandSpec::new("/usr/sbin/zonecfg").args(["-z", zone, "set autoboot=true"]);
        assert!(host.run(drift).await.unwrap().success());
        assert_eq!(rt.configure_zone(&plan).await.unwrap(), Step::Done);
    }

    #[tokio::test]
    async fn exec_keeps_argv_and_environment_intact() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        let plan = plan();
        create_pod(&rt, &plan).await;
        let argv: Vec<String> = ["echo", "a; hostname", "it's"].map(String::from).to_vec();
        let env = vec![("X".to_string(), "1; reboot".to_string())];
        let output = rt.exec_in_zone(&plan.zone_name, &argv, &env, None, Duration::from_secs(5)).await.unwrap();
        assert_eq!(output.stdout, "a; hostname it's\n");
        let event = host.events().pop().unwrap();
        assert_eq!(
            event.in_zone,
            [vec!["env".to_string(), "X=1; reboot".into(), "echo".into(), "a; hostname".into(), "it's".into()]]
        );
        let cat = ["cat".to_string()];
        let stdin = rt.exec_in_zone(&plan.zone_name, &cat, &[], Some(b"data".to_vec()), Duration::from_secs(5)).await;
        assert_eq!(stdin.unwrap().stdout, "data");
    }

    #[tokio::test]
    async fn network_and_dataset_conflicts_and_updates() {
        let host = FakeHost::new();
        let rt = runtime(&host);
        rt.prepare_node(&node_network()).await.unwrap();
        rt.ensure_etherstub("stub1").await.unwrap();
        rt.ensure_vnic("pod1x0", "stub0").await.unwrap();
        assert!(matches!(rt.ensure_vnic("pod1x0", "stub1").await, Err(RuntimeError::Conflict { .. })));
        assert!(matches!(rt.ensure_etherstub("pod1x0").await, Err(RuntimeError::Conflict { .. })));
        assert!(matches!(rt.ensure_address("gw0/v4", "10.0.0.2/24").await, Err(RuntimeError::Conflict { .. })));
        assert!(matches!(rt.ensure_vnic("pod01", "stub0").await, Err(RuntimeError::Invalid { .. })));
        assert_eq!(rt.ensure_dataset("rpool/v/a", Some(1 << 30), Some("legacy")).await.unwrap(), Step::Done);
        assert_eq!(rt.ensure_dataset("rpool/v/a", Some(1 << 30), Some("legacy")).await.unwrap(), Step::AlreadyDone);
        host.clear_events();
        assert_eq!(rt.ensure_dataset("rpool/v/a", Some(2 << 30), Some("legacy")).await.unwrap(), Step::Done);
        assert_eq!(changes(&host), ["zfs set quota=2147483648 rpool/v/a"]);
        assert_eq!(rt.ensure_dataset("rpool/v/a", None, None).await.unwrap(), Step::Done);
        assert_eq!(rt.destroy_dataset("rpool/v").await.unwrap(), Step::Done);
        assert_eq!(rt.destroy_dataset("rpool/v").await.unwrap(), Step::AlreadyDone);
    }

    #[tokio::test]
    async fn pfexec_profiles_work_end_to_end() {
        let host = FakeHost::new();
        let rt = IllumosRuntime::new(Arc::new(host.clone()), PlatformProfile::omnios().with_pfexec());
        let plan = plan();
        create_pod(&rt, &plan).await;
        assert!(host.events().iter().all(|e| e.argv[0] == "/usr/bin/pfexec"));
        assert_eq!(host.zone_state(&plan.zone_name), Some(ZoneState::Running));
    }
}
