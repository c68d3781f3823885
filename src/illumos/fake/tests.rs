//! Command-level scenarios for the FakeHost: the pod lifecycle sequence of reference
//! §12.4, timing under paused tokio time, faults, and scale.

use std::time::Duration;

use super::*;
use crate::illumos::dladm::parse_vnics;
use crate::illumos::zoneadm::{ListedIpType, parse_zone_list};

fn spec(line: &str) -> CommandSpec {
    let mut words = line.split(' ');
    CommandSpec::new(words.next().unwrap()).args(words)
}

async fn run(host: &FakeHost, line: &str) -> CommandOutput {
    host.run(spec(line)).await.unwrap()
}

async fn run_ok(host: &FakeHost, line: &str) -> CommandOutput {
    let output = run(host, line).await;
    assert_eq!(output.exit_code, 0, "{line}: {}", output.stderr);
    output
}

const WEB1: &str = "create -b
set zonepath=\"/pods/web-1\"
set brand=\"sparse\"
set autoboot=\"false\"
set ip-type=\"exclusive\"
add net
set physical=\"pod7x0\"
set allowed-address=\"10.0.0.7/24\"
set defrouter=\"10.0.0.1\"
end
add capped-cpu
set ncpus=\"1.5\"
end
commit
";

async fn configure(host: &FakeHost, zone: &str, script: &str) -> CommandOutput {
    let spec = CommandSpec::new("/usr/sbin/zonecfg").args(["-z", zone, "-f", "-"]).stdin(script.as_bytes());
    host.run(spec).await.unwrap()
}

async fn node_setup(host: &FakeHost) {
    run_ok(host, "/usr/sbin/zfs create -o mountpoint=/pods rpool/pods").await;
    run_ok(host, "/usr/sbin/dladm create-etherstub -t stub0").await;
    run_ok(host, "/usr/sbin/dladm create-vnic -t -l stub0 gw0").await;
    run_ok(host, "/usr/sbin/ipadm create-addr -t -T static -a 10.0.0.1/24 gw0/v4").await;
    run_ok(host, "/usr/sbin/ipadm set-prop -p forwarding=on ipv4").await;
}

#[tokio::test]
async fn the_reference_pod_lifecycle() {
    let host = FakeHost::new();
    node_setup(&host).await;
    run_ok(&host, "/usr/sbin/dladm create-vnic -t -l stub0 pod7x0").await;
    assert_eq!(configure(&host, "web-1", WEB1).await.exit_code, 0);
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Configured));
    let installed = run_ok(&host, "/usr/sbin/zoneadm -z web-1 install").await;
    assert!(installed.stdout.starts_with("A ZFS file system has been created for this zone.\n"));
    assert!(host.dataset_names().contains(&"rpool/pods/web-1/ROOT/zbe".to_string()));
    run_ok(&host, "/usr/sbin/zfs set quota=10G rpool/pods/web-1").await;
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 boot").await;
    assert_eq!(host.link_zone("pod7x0"), Some(Some("web-1".into())));

    let listed = parse_zone_list(&run_ok(&host, "/usr/sbin/zoneadm list -cip").await.stdout).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].name, "global");
    assert_eq!(
        (listed[1].state, listed[1].id, listed[1].ip_type),
        (ZoneState::Running, Some(1), ListedIpType::Exclusive)
    );
    assert!(listed[1].uuid.is_some() && listed[1].debug_id.is_some(), "OmniOS prints 8 fields");
    let vnics = parse_vnics(
        &run_ok(&host, "/usr/sbin/dladm show-vnic -p -o link,over,macaddress,vid,zone pod7x0").await.stdout,
    );
    assert_eq!(vnics.unwrap()[0].zone.as_deref(), Some("web-1"));
    let inside = run_ok(&host, "/usr/sbin/zlogin -Q -E web-1 ipadm show-addr -p -o addrobj,addr").await;
    assert_eq!(inside.stdout, "lo0/v4:127.0.0.1/8\npod7x0/_a:10.0.0.7/24\nlo0/v6:\\:\\:1/128\n");

    // The VNIC and the zonepath dataset are busy while the zone runs.
    assert_eq!(
        run(&host, "/usr/sbin/dladm delete-vnic pod7x0").await.stderr,
        "dladm: vnic deletion failed: link busy\n"
    );
    assert_eq!(
        run(&host, "/usr/sbin/zfs destroy -r rpool/pods/web-1").await.stderr,
        "cannot destroy 'rpool/pods/web-1': dataset is busy\n"
    );

    run_ok(&host, "/usr/sbin/zoneadm -z web-1 shutdown").await;
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Installed));
    assert_eq!(host.link_zone("pod7x0"), Some(None));
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 uninstall -F").await;
    assert!(!host.dataset_names().iter().any(|d| d.starts_with("rpool/pods/web-1")));
    run_ok(&host, "/usr/sbin/zonecfg -z web-1 delete -F").await;
    run_ok(&host, "/usr/sbin/dladm delete-vnic pod7x0").await;
    assert_eq!(host.zone_names(), Vec::<String>::new());

    let zone_commands: Vec<String> = host
        .command_lines()
        .into_iter()
        .filter(|l| l.contains(" -z web-1 "))
        .map(|l| l.replace("/usr/sbin/", ""))
        .collect();
    assert_eq!(
        zone_commands,
        [
            "zonecfg -z web-1 -f -",
            "zoneadm -z web-1 install",
            "zoneadm -z web-1 boot",
            "zoneadm -z web-1 shutdown",
            "zoneadm -z web-1 uninstall -F",
            "zonecfg -z web-1 delete -F",
        ]
    );
    assert!(host.events().iter().all(|e| matches!(e.outcome, EventOutcome::Exited(_))));
    let script = host.events().into_iter().find(|e| e.operation == Some(Operation::zonecfg("script"))).unwrap();
    assert_eq!(script.stdin.as_deref(), Some(WEB1));
}

#[tokio::test]
async fn zoneadm_errors_and_idempotent_halt_and_boot() {
    let host = FakeHost::new();
    node_setup(&host).await;
    run_ok(&host, "/usr/sbin/dladm create-vnic -t -l stub0 pod7x0").await;
    configure(&host, "web-1", WEB1).await;
    let table: &[(&str, i32, &str)] = &[
        ("/usr/sbin/zoneadm -z nope boot", 1, "zoneadm: nope: No such zone configured\n"),
        ("/usr/sbin/zoneadm -z web-1 boot", 1, "zoneadm: zone 'web-1': must be installed before boot.\n"),
        (
            "/usr/sbin/zoneadm -z web-1 halt",
            1,
            "zone 'web-1': halt operation is invalid for zones in state 'configured'\n",
        ),
        ("/usr/sbin/zoneadm -z web-1 uninstall -F", 1, "zoneadm: zone 'web-1': is already in state 'configured'.\n"),
        (
            "/usr/sbin/zoneadm -z global halt",
            1,
            "zoneadm: zone 'global': halt operation is invalid for the global zone.\n",
        ),
        ("/usr/sbin/zoneadm -z web-1 frobnicate", 2, ""),
    ];
    for (line, code, stderr) in table {
        let output = run(&host, line).await;
        assert_eq!(output.exit_code, *code, "{line}");
        assert!(output.stderr.starts_with(stderr), "{line}: {}", output.stderr);
    }
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 install").await;
    let again = run(&host, "/usr/sbin/zoneadm -z web-1 install").await;
    assert_eq!(again.stderr, "zoneadm: zone 'web-1': is already installed.\n");
    let halted = run_ok(&host, "/usr/sbin/zoneadm -z web-1 halt").await;
    assert_eq!(halted.stderr, "zone 'web-1': zone is already halted\n");
    let no_force = run(&host, "/usr/sbin/zoneadm -z web-1 uninstall").await;
    assert!(no_force.stderr.contains("Input not from terminal and -F not specified: uninstall not done."));
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 boot").await;
    assert_eq!(run_ok(&host, "/usr/sbin/zoneadm -z web-1 boot").await.stderr, "zone 'web-1': zone is already booted\n");
    let running = run(&host, "/usr/sbin/zoneadm -z web-1 uninstall -F").await;
    assert_eq!(running.stderr, "zoneadm: zone 'web-1': uninstall operation is invalid for running zones.\n");
    let create = configure(&host, "web-1", "create -F -b\n").await;
    assert!(create.stderr.contains("Zone web-1 already installed; create not allowed."));
    let delete = run(&host, "/usr/sbin/zonecfg -z web-1 delete -F").await;
    assert_eq!(delete.stderr, "web-1: Zone state is invalid for the requested operation\n");
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 halt").await;
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Installed));
    assert_eq!(run(&host, "/usr/sbin/zonecfg -z global export").await.exit_code, 2);
}

#[tokio::test]
async fn a_held_zone_lingers_in_down() {
    let host = FakeHost::new();
    node_setup(&host).await;
    run_ok(&host, "/usr/sbin/dladm create-vnic -t -l stub0 pod7x0").await;
    configure(&host, "web-1", WEB1).await;
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 install").await;
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 boot").await;
    assert!(host.hold_zone_down("web-1", true));
    let halt = run(&host, "/usr/sbin/zoneadm -z web-1 halt").await;
    assert_eq!(halt.exit_code, 1);
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Down));
    assert!(run_ok(&host, "/usr/sbin/zoneadm list -p").await.stdout.contains("1:web-1:down:"));
    assert_eq!(host.link_zone("pod7x0"), Some(Some("web-1".into())), "the link is still held");
    assert!(run(&host, "/usr/sbin/zoneadm -z web-1 uninstall -F").await.stderr.contains("invalid for running zones"));
    host.hold_zone_down("web-1", false);
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Installed));
    assert_eq!(host.link_zone("pod7x0"), Some(None));
}

#[tokio::test]
async fn boot_needs_its_vnic() {
    let host = FakeHost::new();
    node_setup(&host).await;
    configure(&host, "web-1", WEB1).await;
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 install").await;
    let output = run(&host, "/usr/sbin/zoneadm -z web-1 boot").await;
    assert_eq!(output.exit_code, 1);
    assert!(output.stderr.contains("pod7x0"), "{}", output.stderr);
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Installed));
}

#[tokio::test]
async fn pfexec_and_unknown_programs() {
    let host = FakeHost::new();
    let listed = host.run(spec("/usr/bin/pfexec /usr/sbin/zoneadm list -cp")).await.unwrap();
    assert_eq!(listed.stdout, "0:global:running:/::ipkg:shared:0\n");
    let gate = FakeHost::with_profile(PlatformProfile::illumos_gate());
    assert_eq!(run(&gate, "/usr/sbin/zoneadm list -p").await.stdout, "0:global:running:/::ipkg:shared\n");
    for line in ["/usr/sbin/frob x", "zoneadm list", "/usr/bin/zoneadm list"] {
        let error = host.run(spec(line)).await.unwrap_err();
        assert!(matches!(error, ExecError::Spawn { .. }), "{line}");
    }
    let events = host.events();
    assert_eq!(events[0].argv[0], "/usr/bin/pfexec");
    assert_eq!(events[0].command_line(), "/usr/sbin/zoneadm list -cp");
    assert_eq!(events[0].operation, Some(Operation::zoneadm("list")));
    assert_eq!(events[1].outcome, EventOutcome::NotFound);
}

#[tokio::test(start_paused = true)]
async fn operations_take_their_time_and_transitions_are_visible() {
    let host = FakeHost::new();
    node_setup(&host).await;
    run_ok(&host, "/usr/sbin/dladm create-vnic -t -l stub0 pod7x0").await;
    configure(&host, "web-1", WEB1).await;
    host.set_duration(Operation::zoneadm("install"), Duration::from_secs(60));
    host.set_duration(Operation::zoneadm("boot"), Duration::from_secs(5));
    let started = tokio::time::Instant::now();
    let install = tokio::spawn({
        let host = host.clone();
        async move { host.run(spec("/usr/sbin/zoneadm -z web-1 install").timeout(Duration::from_secs(600))).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Incomplete));
    let list = run_ok(&host, "/usr/sbin/zoneadm -z web-1 list -p").await;
    assert!(list.stdout.starts_with("-:web-1:incomplete:/pods/web-1::sparse:excl"), "{}", list.stdout);
    let busy = run(&host, "/usr/sbin/zoneadm -z web-1 boot").await;
    assert_eq!(busy.stderr, "zoneadm: zone 'web-1': another zoneadm may have an operation in progress.\n");
    assert!(install.await.unwrap().unwrap().success());
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    let boot = tokio::spawn({
        let host = host.clone();
        async move { host.run(spec("/usr/sbin/zoneadm -z web-1 boot")).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Ready));
    assert!(run_ok(&host, "/usr/sbin/zoneadm list -p").await.stdout.contains(":web-1:ready:"));
    boot.await.unwrap().unwrap();
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Running));
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_install_leaves_the_zone_incomplete() {
    let host = FakeHost::new();
    node_setup(&host).await;
    configure(&host, "web-1", WEB1).await;
    host.set_duration(Operation::zoneadm("install"), Duration::from_secs(120));
    let error =
        host.run(spec("/usr/sbin/zoneadm -z web-1 install").timeout(Duration::from_secs(30))).await.unwrap_err();
    assert!(matches!(error, ExecError::Timeout { .. }));
    assert_eq!(host.events().last().unwrap().outcome, EventOutcome::TimedOut);
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Incomplete));
    // The busy mark went with the killed command: recovery can proceed at once.
    let again = run(&host, "/usr/sbin/zoneadm -z web-1 install").await;
    assert_eq!(again.stderr, "zoneadm: zone 'web-1': zone is incomplete; uninstall required.\n");
    host.set_duration(Operation::zoneadm("install"), Duration::ZERO);
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 uninstall -F").await;
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 install").await;
    assert_eq!(host.zone_state("web-1"), Some(ZoneState::Installed));
}

#[tokio::test(start_paused = true)]
async fn injected_failures_and_hangs() {
    let host = FakeHost::new();
    host.fail_next(Operation::dladm("create-etherstub"), 2, 1, "dladm: etherstub creation failed: try again later");
    for _ in 0..2 {
        let output = run(&host, "/usr/sbin/dladm create-etherstub -t stub0").await;
        assert_eq!(
            (output.exit_code, output.stderr.as_str()),
            (1, "dladm: etherstub creation failed: try again later\n")
        );
    }
    run_ok(&host, "/usr/sbin/dladm create-etherstub -t stub0").await;
    assert!(host.link_names().contains(&"stub0".to_string()));
    assert_eq!(host.events().iter().filter(|e| e.injected).count(), 2);

    host.hang_next(Operation::zoneadm("list"), 1);
    let started = tokio::time::Instant::now();
    let error = host.run(spec("/usr/sbin/zoneadm list -cp").timeout(Duration::from_secs(10))).await.unwrap_err();
    assert!(matches!(error, ExecError::Timeout { after, .. } if after == Duration::from_secs(10)));
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    run_ok(&host, "/usr/sbin/zoneadm list -cp").await;

    host.fail_next_for_zone(Operation::zonecfg("script"), "b", 1, 1, "b: Permission denied");
    assert_eq!(configure(&host, "a", "create -b\nset zonepath=/a\n").await.exit_code, 0);
    assert_eq!(configure(&host, "b", "create -b\nset zonepath=/b\n").await.exit_code, 1);
    assert_eq!(configure(&host, "b", "create -b\nset zonepath=/b\n").await.exit_code, 0);
}

#[tokio::test]
async fn zlogin_runs_scripted_commands_and_shows_lost_quoting() {
    let host = FakeHost::new();
    node_setup(&host).await;
    run_ok(&host, "/usr/sbin/dladm create-vnic -t -l stub0 pod7x0").await;
    configure(&host, "web-1", WEB1).await;
    let not_installed = run(&host, "/usr/sbin/zlogin web-1 hostname").await;
    assert_eq!(not_installed.stderr, "zlogin: cannot login to a zone which is 'configured'\n");
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 install").await;
    let not_running = run(&host, "/usr/sbin/zlogin web-1 hostname").await;
    assert_eq!(not_running.stderr, "zlogin: login allowed only to running zones (web-1 is 'installed').\n");
    assert_eq!(run(&host, "/usr/sbin/zlogin nope hostname").await.stderr, "zlogin: zone 'nope' unknown\n");
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 boot").await;

    assert_eq!(run_ok(&host, "/usr/sbin/zlogin -Q -E web-1 hostname").await.stdout, "web-1\n");
    host.set_zlogin_reply("web-1", &["cat", "/etc/release"], ZloginReply::ok("  OmniOS v11 r151050\n"));
    let release =
        host.run(CommandSpec::new("/usr/sbin/zlogin").args(["-Q", "-E", "web-1", "'cat' '/etc/release'"])).await;
    assert_eq!(release.unwrap().stdout, "  OmniOS v11 r151050\n");
    let stdin = CommandSpec::new("/usr/sbin/zlogin").args(["-Q", "web-1", "cat"]).stdin(b"piped".to_vec());
    assert_eq!(host.run(stdin).await.unwrap().stdout, "piped");
    let missing = run(&host, "/usr/sbin/zlogin -Q web-1 frob").await;
    assert_eq!((missing.exit_code, missing.stderr.as_str()), (127, "sh: frob: not found\n"));

    // Words joined by zlogin are re-split by the zone's shell: `;` unquoted runs two commands.
    let unquoted = CommandSpec::new("/usr/sbin/zlogin").args(["-Q", "web-1", "echo", "a;", "hostname"]);
    assert_eq!(host.run(unquoted).await.unwrap().stdout, "a\nweb-1\n");
    assert_eq!(host.events().last().unwrap().in_zone, [vec!["echo".to_string(), "a".into()], vec!["hostname".into()]]);
    let quoted = CommandSpec::new("/usr/sbin/zlogin").args(["-Q", "web-1", "'echo' 'a; hostname'"]);
    assert_eq!(host.run(quoted).await.unwrap().stdout, "a; hostname\n");
    assert_eq!(host.events().last().unwrap().in_zone.len(), 1);
}

#[tokio::test]
async fn clone_from_a_golden_zone() {
    let host = FakeHost::new();
    node_setup(&host).await;
    configure(&host, "gold", "create -b\nset zonepath=/pods/gold\nset brand=sparse\n").await;
    run_ok(&host, "/usr/sbin/zoneadm -z gold install").await;
    for (zone, snapshot) in [("web-1", "SUNWzone1"), ("web-2", "SUNWzone2")] {
        configure(&host, zone, &format!("create -t gold\nset zonepath=/pods/{zone}\n")).await;
        run_ok(&host, &format!("/usr/sbin/zoneadm -z {zone} clone gold")).await;
        assert_eq!(host.zone_state(zone), Some(ZoneState::Installed));
        let origin = run_ok(&host, &format!("/usr/sbin/zfs list -H -o origin rpool/pods/{zone}/ROOT/zbe")).await;
        assert_eq!(origin.stdout, format!("rpool/pods/gold/ROOT/zbe@{snapshot}\n"));
    }
    configure(&host, "web-3", "create -b\nset zonepath=/pods/web-3\nset brand=sparse\n").await;
    run_ok(&host, "/usr/sbin/zoneadm -z web-3 clone -s rpool/pods/gold@SUNWzone1 gold").await;
    configure(&host, "lx-1", "create -b\nset zonepath=/pods/lx-1\nset brand=lx\n").await;
    let brand = run(&host, "/usr/sbin/zoneadm -z lx-1 clone gold").await;
    assert!(brand.stderr.contains("different brands"), "{}", brand.stderr);
    // The golden zone cannot go while clones depend on its snapshots.
    let uninstall = run(&host, "/usr/sbin/zoneadm -z gold uninstall -F").await;
    assert_eq!(uninstall.exit_code, 1);
    assert!(uninstall.stderr.contains("dependent clones"), "{}", uninstall.stderr);
}

#[tokio::test]
async fn thousands_of_zones_stay_cheap() {
    let host = FakeHost::new();
    host.set_log_capacity(1_000);
    node_setup(&host).await;
    let count = 2_000;
    for i in 0..count {
        let zone = format!("z{i}");
        run_ok(&host, &format!("/usr/sbin/dladm create-vnic -t -l stub0 v{i}x0")).await;
        let script = format!(
            "create -b\nset zonepath=/pods/{zone}\nset brand=sparse\nset ip-type=exclusive\nadd net\nset physical=v{i}x0\nend\n"
        );
        assert_eq!(configure(&host, &zone, &script).await.exit_code, 0);
        run_ok(&host, &format!("/usr/sbin/zoneadm -z {zone} install")).await;
        run_ok(&host, &format!("/usr/sbin/zoneadm -z {zone} boot")).await;
    }
    let zones = parse_zone_list(&run_ok(&host, "/usr/sbin/zoneadm list -cip").await.stdout).unwrap();
    assert_eq!(zones.len(), count + 1);
    assert!(zones.windows(2).skip(1).all(|w| w[0].id < w[1].id), "running zones are listed by id");
    assert_eq!(host.events().len(), 1_000, "the log is bounded");
}

async fn create_web1(host: &FakeHost) {
    run_ok(host, "/usr/sbin/dladm create-etherstub -t stub0").await;
    run_ok(host, "/usr/sbin/dladm create-vnic -t -l stub0 pod7x0").await;
    let script = CommandSpec::new("/usr/sbin/zonecfg").args(["-z", "web-1", "-f", "-"]).stdin(WEB1.as_bytes().to_vec());
    assert!(host.run(script).await.unwrap().success());
    run_ok(host, "/usr/sbin/zoneadm -z web-1 install").await;
    run_ok(host, "/usr/sbin/zoneadm -z web-1 boot").await;
}

#[tokio::test]
async fn a_persistent_host_comes_back_the_same_and_deleted_things_stay_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.journal");
    let host = FakeHost::new();
    host.persist_to(&path).unwrap();
    create_web1(&host).await;
    run_ok(&host, "/usr/sbin/zfs create -p -o mountpoint=legacy rpool/v/web-1/cache").await;
    run_ok(&host, "/usr/sbin/zfs create -p rpool/v/other").await;
    run_ok(&host, "/usr/sbin/zoneadm list -cip").await;

    let again = FakeHost::new();
    again.persist_to(&path).unwrap();
    assert_eq!(again.zone_state("web-1"), Some(ZoneState::Running));
    assert_eq!(again.link_zone("pod7x0"), Some(Some("web-1".to_string())));
    assert_eq!(again.dataset_names(), host.dataset_names());
    assert!(again.events().is_empty(), "replay is not logged");
    assert!(again.console("web-1").unwrap().contains("Hostname: web-1"));

    // Tear everything of web-1 down on the second host; a third sees only what is left.
    for line in [
        "/usr/sbin/zoneadm -z web-1 halt",
        "/usr/sbin/zoneadm -z web-1 uninstall -F",
        "/usr/sbin/zonecfg -z web-1 delete -F",
        "/usr/sbin/dladm delete-vnic pod7x0",
        "/usr/sbin/zfs destroy -r rpool/v/web-1",
    ] {
        run_ok(&again, line).await;
    }
    let third = FakeHost::new();
    third.persist_to(&path).unwrap();
    assert_eq!(third.zone_names(), Vec::<String>::new());
    assert_eq!(third.link_names(), ["e1000g0", "stub0"]);
    assert!(third.dataset_names().contains(&"rpool/v/other".to_string()));
    assert!(!third.dataset_names().iter().any(|d| d.contains("web-1")));
    // The deletions were appended; the third host's first change compacts the file.
    run_ok(&third, "/usr/sbin/zfs create -p rpool/v/more").await;
    let journal = std::fs::read_to_string(&path).unwrap();
    assert_eq!(journal.lines().count(), 3, "only the etherstub, rpool/v/other and rpool/v/more remain: {journal}");
}

#[tokio::test]
async fn consoles_record_boot_and_halt_and_take_appends_and_the_event_log_file_gets_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let host = FakeHost::new();
    host.log_events_to(std::fs::File::create(&log).unwrap());
    assert_eq!(host.console("web-1"), None);
    assert!(!host.append_console("web-1", "x"));
    create_web1(&host).await;
    assert!(host.append_console("web-1", "hello from the app\n"));
    run_ok(&host, "/usr/sbin/zoneadm -z web-1 halt").await;
    let console = host.console("web-1").unwrap();
    let boot = console.find("[NOTICE: Zone booting up]").unwrap();
    let app = console.find("hello from the app").unwrap();
    let halt = console.find("[NOTICE: Zone halted]").unwrap();
    assert!(boot < app && app < halt, "{console}");
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[4]["argv"], serde_json::json!(["/usr/sbin/zoneadm", "-z", "web-1", "boot"]));
    assert_eq!(lines[4]["injected"], false);
    assert_eq!(lines[4]["zone"], "web-1");
}
