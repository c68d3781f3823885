//! Every text the FakeHost prints, in one place. Texts quoted from the reference are exact;
//! the ones marked `[verify]` are our best reconstruction and should be replaced by
//! fixture-backed strings once they are captured on a real OmniOS host (reference §12.3).

// ---- zonecfg (reference §1.2) ----

pub fn zonecfg_no_such_zone(zone: &str) -> String {
    format!("{zone}: No such zone configured")
}
pub fn zonecfg_bogus_name(zone: &str) -> String {
    format!("{zone}: Bogus zone name")
}
pub fn zonecfg_create_exists() -> String {
    "Zone exists, input not from terminal and -F not specified:\ncreate command ignored, exiting.".into()
}
pub fn zonecfg_overwriting(zone: &str) -> String {
    format!("Zone {zone} already exists; overwriting.")
}
pub fn zonecfg_create_installed(zone: &str) -> String {
    format!("Zone {zone} already installed; create not allowed.")
}
pub fn zonecfg_delete_no_force() -> String {
    "Input not from terminal and -F not specified:\ndelete command ignored, exiting.".into()
}
pub fn zonecfg_failed_to_verify(zone: &str) -> String {
    format!("Zone {zone} failed to verify")
}
pub fn zonecfg_address_exclusive() -> String {
    "net: address cannot be specified for an exclusive IP type".into()
}
pub fn zonecfg_allowed_address_shared() -> String {
    "net: allowed-address cannot be specified for a shared IP type".into()
}
pub fn zonecfg_defrouter_without_allowed(physical: &str) -> String {
    format!("net: defrouter for {physical} cannot be specified without allowed-address for an exclusive IP type")
}
pub fn zonecfg_physical_too_small() -> String {
    "physical value is too small.  It must be at least 1M.".into()
}
pub fn zonecfg_swap_too_small() -> String {
    "swap value is too small.  It must be at least 50M.".into()
}
pub fn zonecfg_bad_size() -> String {
    "A positive number with a required scale suffix (K, M, G or T) was expected here.".into()
}
pub fn zonecfg_capped_memory_exists() -> String {
    "The capped-memory resource or a related resource control already exists.".into()
}
/// `[verify]`
pub fn zonecfg_capped_cpu_exists() -> String {
    "The capped-cpu resource already exists.".into()
}
/// `[verify]` exact prefix for errors in `-f` mode.
pub fn zonecfg_on_line(line: usize, file: &str) -> String {
    format!("On line {line} of {file}:")
}
/// `[verify]` (libzonecfg "No such resource type" with the zone prefix).
pub fn zonecfg_unknown_resource(zone: &str, what: &str) -> String {
    format!("{zone}: No such resource type: {what}")
}
/// `[verify]` (libzonecfg "No such property type" with the zone prefix).
pub fn zonecfg_unknown_property(zone: &str, what: &str) -> String {
    format!("{zone}: No such property type: {what}")
}
/// `[verify]`
pub fn zonecfg_unknown_command(word: &str) -> String {
    format!("{word}: unknown command.")
}
/// `[verify]`
pub fn zonecfg_syntax_error(near: &str) -> String {
    format!("syntax error at '{near}'")
}
/// `[verify]`
pub fn zonecfg_not_specified(property: &str) -> String {
    format!("{property} not specified")
}
/// `[verify]`
pub fn zonecfg_invalid_value(property: &str, value: &str) -> String {
    format!("{property}: invalid value '{value}'")
}
/// `[verify]`
pub fn zonecfg_unknown_brand(brand: &str) -> String {
    format!("{brand}: unknown brand.")
}
/// `[verify]`
pub fn zonecfg_set_after_install(zone: &str, property: &str) -> String {
    format!("Zone {zone} already installed; set {property} not allowed.")
}
/// `[verify]`
pub fn zonecfg_resource_exists(kind: &str, property: &str, value: &str) -> String {
    format!("A {kind} resource with the {property} '{value}' already exists.")
}
/// `[verify]`
pub fn zonecfg_no_such_resource(kind: &str) -> String {
    format!("No such {kind} resource.")
}
/// `[verify]`
pub fn zonecfg_scope(command: &str) -> String {
    format!("{command}: not valid in this scope.")
}
/// `[verify]`
pub fn zonecfg_invalid_state(zone: &str) -> String {
    format!("{zone}: Zone state is invalid for the requested operation")
}

// ---- zoneadm (reference §2.4) ----

pub fn zoneadm_no_such_zone(zone: &str) -> String {
    format!("zoneadm: {zone}: No such zone configured")
}
pub fn zoneadm_global(command: &str) -> String {
    format!("zoneadm: zone 'global': {command} operation is invalid for the global zone.")
}
pub fn zoneadm_already_installed(zone: &str) -> String {
    format!("zoneadm: zone '{zone}': is already installed.")
}
pub fn zoneadm_incomplete(zone: &str) -> String {
    format!("zoneadm: zone '{zone}': zone is incomplete; uninstall required.")
}
pub fn zoneadm_must_be_installed(zone: &str, command: &str) -> String {
    format!("zoneadm: zone '{zone}': must be installed before {command}.")
}
pub fn zoneadm_already_in_state(zone: &str, state: &str) -> String {
    format!("zoneadm: zone '{zone}': is already in state '{state}'.")
}
pub fn zoneadm_invalid_for_running(zone: &str, command: &str) -> String {
    format!("zoneadm: zone '{zone}': {command} operation is invalid for running zones.")
}
pub fn zoneadm_uninstall_no_force(zone: &str) -> String {
    format!("zoneadm: zone '{zone}': Input not from terminal and -F not specified: uninstall not done.")
}
pub fn zoneadm_not_running(zone: &str) -> String {
    format!("zoneadm: zone '{zone}': not running")
}
/// zoneadmd's text; the `zone 'NAME': ` prefix is `[verify]`.
pub fn zoneadm_already_halted(zone: &str) -> String {
    format!("zone '{zone}': zone is already halted")
}
/// zoneadmd's text; the prefix is `[verify]`.
pub fn zoneadm_already_booted(zone: &str) -> String {
    format!("zone '{zone}': zone is already booted")
}
/// zoneadmd's text; the prefix is `[verify]`.
pub fn zoneadm_already_ready(zone: &str) -> String {
    format!("zone '{zone}': zone is already ready")
}
/// zoneadmd's text; the prefix is `[verify]`.
pub fn zoneadm_invalid_in_state(zone: &str, command: &str, state: &str) -> String {
    format!("zone '{zone}': {command} operation is invalid for zones in state '{state}'")
}
pub fn zoneadm_zfs_created() -> String {
    "A ZFS file system has been created for this zone.".into()
}
/// `[verify]`: zoneadm's lock-file message when another zoneadm works on the zone.
pub fn zoneadm_busy(zone: &str) -> String {
    format!("zoneadm: zone '{zone}': another zoneadm may have an operation in progress.")
}
/// `[verify]`: boot failure for a missing or busy datalink (the zone stays installed).
pub fn zoneadm_link_unavailable(zone: &str, link: &str) -> String {
    format!(
        "zoneadm: zone '{zone}': datalink {link} is missing or assigned to another zone\nzoneadm: zone '{zone}': call to zoneadmd failed"
    )
}
/// `[verify]`
pub fn zoneadm_clone_source(zone: &str, source: &str) -> String {
    format!("zoneadm: zone '{zone}': clone source zone '{source}' must be installed and halted.")
}
/// `[verify]`
pub fn zoneadm_clone_brand(zone: &str) -> String {
    format!("zoneadm: zone '{zone}': the source and destination zones have different brands.")
}
/// `[verify]`
pub fn zoneadm_usage(detail: &str) -> String {
    format!("zoneadm: {detail}\nusage:\tzoneadm [-z <zone>] [-u <uuid-match>] <subcommand>")
}

// ---- zlogin (reference §3.2; the `zlogin: ` prefix is [verify]) ----

pub fn zlogin_unknown(zone: &str) -> String {
    format!("zlogin: zone '{zone}' unknown")
}
pub fn zlogin_not_installed(state: &str) -> String {
    format!("zlogin: cannot login to a zone which is '{state}'")
}
pub fn zlogin_not_running(zone: &str, state: &str) -> String {
    format!("zlogin: login allowed only to running zones ({zone} is '{state}').")
}
pub fn zlogin_global() -> String {
    "zlogin: 'zlogin' not applicable to the global zone".into()
}
/// `[verify]`
pub fn zlogin_usage() -> String {
    "usage: zlogin [-dinCEINQS] [-e cmdchar] [-l user] zonename [command [argument ...] ]".into()
}
/// `[verify]`: the zone's `sh` for an unknown command.
pub fn zlogin_not_found(command: &str) -> String {
    format!("sh: {command}: not found")
}

// ---- dladm (reference §4.5) ----

pub fn dladm_vnic_create_failed(over: &str, status: &str) -> String {
    format!("dladm: vnic creation over {over} failed: {status}")
}
pub fn dladm_vnic_delete_failed(status: &str) -> String {
    format!("dladm: vnic deletion failed: {status}")
}
pub fn dladm_etherstub_create_failed(status: &str) -> String {
    format!("dladm: etherstub creation failed: {status}")
}
pub fn dladm_etherstub_delete_failed(status: &str) -> String {
    format!("dladm: etherstub deletion failed: {status}")
}
pub fn dladm_not_a(name: &str, class: &str) -> String {
    format!("dladm: '{name}' is not a {class}")
}
pub fn dladm_invalid_vnic_name(name: &str) -> String {
    format!("dladm: invalid vnic name '{name}'")
}
pub fn dladm_invalid_link_name(name: &str) -> String {
    format!("dladm: invalid link name '{name}'")
}
/// `[verify]`
pub fn dladm_show_failed(command: &str, name: &str, status: &str) -> String {
    format!("dladm: {command} failed for {name}: {status}")
}
pub fn dladm_parsable_needs_fields() -> String {
    "dladm: output fields must be specified in parsable mode".into()
}
pub fn dladm_unknown_field(field: &str) -> String {
    format!("dladm: unknown output field: `{field}'")
}
/// `[verify]`
pub fn dladm_usage(detail: &str) -> String {
    format!("dladm: {detail}\nusage: dladm <subcommand> <args> ...")
}

// ---- ipadm (reference §5.3; prefixes [verify]) ----

pub fn ipadm_addrobj_exists() -> String {
    "ipadm: Could not create address: Address object already exists".into()
}
pub fn ipadm_address_in_use() -> String {
    "ipadm: Could not create address: Address already in use".into()
}
pub fn ipadm_invalid_address() -> String {
    "ipadm: Could not create address: Invalid address".into()
}
pub fn ipadm_interface_exists(interface: &str) -> String {
    format!("ipadm: Could not create interface {interface}: Interface already exists")
}
pub fn ipadm_no_such_interface(what: &str) -> String {
    format!("ipadm: {what}: No such interface")
}
pub fn ipadm_delete_addr_not_found() -> String {
    "ipadm: could not delete address: Object not found".into()
}
/// `[verify]`
pub fn ipadm_usage(detail: &str) -> String {
    format!("ipadm: {detail}")
}

// ---- zfs (reference §6.3) ----

pub fn zfs_missing(name: &str) -> String {
    format!("cannot open '{name}': dataset does not exist")
}
pub fn zfs_exists(name: &str) -> String {
    format!("cannot create '{name}': dataset already exists")
}
/// `[verify]`
pub fn zfs_no_parent(name: &str) -> String {
    format!("cannot create '{name}': parent does not exist")
}
pub fn zfs_has_children(name: &str, children: &[String]) -> String {
    let mut text =
        format!("cannot destroy '{name}': filesystem has children\nuse '-r' to destroy the following datasets:");
    for child in children {
        text.push('\n');
        text.push_str(child);
    }
    text
}
/// `[verify]`
pub fn zfs_has_clones(name: &str, clones: &[String]) -> String {
    let mut text =
        format!("cannot destroy '{name}': snapshot has dependent clones\nuse '-R' to destroy the following datasets:");
    for clone in clones {
        text.push('\n');
        text.push_str(clone);
    }
    text
}
pub fn zfs_busy(name: &str) -> String {
    format!("cannot destroy '{name}': dataset is busy")
}
pub fn zfs_quota_too_small(name: &str) -> String {
    format!("cannot set property for '{name}': size is less than current used or reserved space")
}
/// `[verify]`
pub fn zfs_bad_property(name: &str, property: &str) -> String {
    format!("cannot set property for '{name}': invalid property '{property}'")
}
/// `[verify]`
pub fn zfs_bad_name(name: &str) -> String {
    format!("cannot create '{name}': invalid character in dataset name")
}
/// `[verify]`
pub fn zfs_usage(detail: &str) -> String {
    format!("{detail}\nusage:\n\tzfs <subcommand> [args]")
}
/// `[verify]`: boot failure when an `fs` special cannot be mounted.
pub fn zoneadm_mount_failed(zone: &str, special: &str, dir: &str) -> String {
    format!(
        "zoneadm: zone '{zone}': cannot mount {special} on {dir}: No such file or directory\nzoneadm: zone '{zone}': call to zoneadmd failed"
    )
}
/// `[verify]`: halt could not destroy the kernel zone (it stays `down`).
pub fn zoneadm_cannot_destroy(zone: &str) -> String {
    format!("zoneadm: zone '{zone}': unable to destroy zone\nzoneadm: zone '{zone}': call to zoneadmd failed")
}
/// `[verify]`: uninstall could not remove the zone's datasets.
pub fn zoneadm_destroy_failed(zone: &str, reason: &str) -> String {
    format!("zoneadm: zone '{zone}': {reason}")
}
/// `[verify]`: `zonecfg -f FILE` with a file the fake cannot read.
pub fn zonecfg_cannot_open(file: &str) -> String {
    format!("cannot open {file}: No such file or directory")
}
/// `[verify]`
pub fn zonecfg_usage() -> String {
    "usage:\tzonecfg -z <zone> [-f <command-file> | <subcommand>]".into()
}
