//! The FakeHost's zonecfg: a strict interpreter of the zonecfg command language (lexer,
//! global and resource scopes, `create`/`set`/`add`/`select`/`remove`/`clear`/`end`/
//! `cancel`/`verify`/`commit`/`delete`/`info`/`export`), the per-zone configuration model,
//! and `info`/`export` rendering (reference §1.2, §1.5, §1.7, §1.8).
//!
//! Faithful quirks: one-shot input is the argv joined with spaces and re-lexed; `-f` mode
//! stops at the first error but still commits what was accumulated before it (the partial
//! commit of §1.2); aliases (`max-lwps`, `capped-cpu`, `capped-memory swap`) are stored as
//! rctls and exported as such. Unknown resources, properties and commands are errors.
//!
//! Submodules: `lexer` (tokens and values), `model` (schemas, configuration, verify),
//! `session` (the interpreter), `render` (`info` and `export`).

mod lexer;
mod model;
mod render;
mod session;

pub(crate) use model::ZoneConfig;
pub(crate) use session::{Host, Mode, run};

// Messages are shared with the other emulated tools.
use super::messages;

#[cfg(test)]
mod tests {
    use super::render::{render_export, render_info};
    use super::session::Outcome;
    use super::*;
    use crate::illumos::zoneadm::ZoneState;

    fn host() -> Host<'static> {
        static BRANDS: std::sync::LazyLock<Vec<String>> =
            std::sync::LazyLock::new(|| ["ipkg", "lipkg", "sparse", "lx"].map(String::from).to_vec());
        Host { brands: &BRANDS, default_brand: "lipkg", native_brand: "native", file_name: "-", lookup: &|_| None }
    }

    fn run_file(existing: Option<(&ZoneConfig, ZoneState)>, script: &str) -> Outcome {
        run("web1", existing, script, Mode::File, &host())
    }

    const POD: &str = "create -b
set zonepath=\"/zones/web1\"
set brand=\"sparse\"
set autoboot=\"false\"
set ip-type=\"exclusive\"
set max-lwps=\"2000\"
add net
set physical=\"web1x0\"
set allowed-address=\"10.88.0.11/24\"
set defrouter=\"10.88.0.1\"
end
add capped-cpu
set ncpus=\"1.5\"
end
add capped-memory
set physical=\"512M\"
set swap=\"1G\"
end
add attr
set name=\"k8s-pod-uid\"
set type=\"string\"
set value=\"3f7c2a10-8c51-4b62-9a0e-2f6d1c9b7e11\"
end
add dataset
set name=\"tank/k8s/vols/pvc-1\"
end
";

    #[test]
    fn configures_and_exports_as_the_reference_shows() {
        let outcome = run_file(None, POD);
        assert_eq!((outcome.exit_code, outcome.stderr.as_str()), (0, ""));
        let config = outcome.committed.unwrap();
        // Reference §1.8, with our rctl insertion order (max-lwps first, as set first).
        let expected = "create -b
set zonepath=/zones/web1
set brand=sparse
set autoboot=false
set ip-type=exclusive
add net
set allowed-address=10.88.0.11/24
set physical=web1x0
set defrouter=10.88.0.1
end
add capped-memory
set physical=512M
end
add rctl
set name=zone.max-lwps
add value (priv=privileged,limit=2000,action=deny)
end
add rctl
set name=zone.cpu-cap
add value (priv=privileged,limit=150,action=deny)
end
add rctl
set name=zone.max-swap
add value (priv=privileged,limit=1073741824,action=deny)
end
add attr
set name=k8s-pod-uid
set type=string
set value=3f7c2a10-8c51-4b62-9a0e-2f6d1c9b7e11
end
add dataset
set name=tank/k8s/vols/pvc-1
end
";
        assert_eq!(render_export(&config, "native"), expected);
        // The export is itself a valid script that reproduces the configuration.
        let again = run_file(None, expected).committed.unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn info_matches_the_reference_layout() {
        let config = run_file(None, POD).committed.unwrap();
        let info = render_info("web1", &config);
        let expected_start = "zonename: web1\nzonepath: /zones/web1\nbrand: sparse\nautoboot: false\nbootargs: \npool: \n\
                              limitpriv: \nscheduling-class: \nip-type: exclusive\nhostid: \nfs-allowed: \n[max-lwps: 2000]\n\
                              net:\n\taddress not specified\n\tallowed-address: 10.88.0.11/24\n\tphysical: web1x0\n\
                              \tdefrouter: 10.88.0.1\ncapped-cpu:\n\t[ncpus: 1.50]\ncapped-memory:\n\tphysical: 512M\n\
                              \t[swap: 1G]\nattr:\n";
        assert!(info.starts_with(expected_start), "{info}");
        assert!(
            info.ends_with("rctl:\n\tname: zone.max-swap\n\tvalue: (priv=privileged,limit=1073741824,action=deny)\n")
        );
        let filtered =
            run("web1", Some((&config, ZoneState::Configured)), "info net physical=web1x0", Mode::OneShot, &host());
        assert!(filtered.stdout.starts_with("net:\n"));
        let none =
            run("web1", Some((&config, ZoneState::Configured)), "info net physical=nope", Mode::OneShot, &host());
        assert_eq!(none.stdout, "No such net resource.\n");
        let one = run("web1", Some((&config, ZoneState::Configured)), "info zonepath", Mode::OneShot, &host());
        assert_eq!(one.stdout, "zonepath: /zones/web1\n");
    }

    #[test]
    fn quoted_semicolons_are_data_and_bare_ones_are_commands() {
        let quoted = run_file(
            None,
            "create -b\nset zonepath=/z\nadd attr\nset name=note\nset type=string\nset value=\"a; delete -F\"\nend\n",
        );
        assert_eq!(quoted.exit_code, 0, "{}", quoted.stderr);
        let config = quoted.committed.unwrap();
        assert_eq!(config.resources[0].prop("value"), Some("a; delete -F"));
        // Unquoted, the `;` ends the command and `delete -F` runs (the injection we prevent).
        let injected = run_file(None, "create -b\nset zonepath=/z\ncommit\nset bootargs=a; delete -F\n");
        assert!(injected.deleted);
    }

    #[test]
    fn one_shot_input_is_re_lexed_from_joined_argv() {
        let outcome =
            run("web1", None, "create -b ; set zonepath=/zones/web1 ; set brand=sparse", Mode::OneShot, &host());
        assert_eq!(outcome.exit_code, 0, "{}", outcome.stderr);
        assert_eq!(outcome.committed.unwrap().brand, "sparse");
    }

    #[test]
    fn file_mode_stops_at_the_first_error_but_commits_what_came_before() {
        let script = "create -b\nset zonepath=/zones/web1\nset brand=sparse\nadd net\nset physical=web1x0\nset bogus=1\nend\nset autoboot=true\n";
        let outcome = run_file(None, script);
        assert_eq!(outcome.exit_code, 1);
        assert_eq!(outcome.stderr, "On line 6 of -:\nweb1: No such property type: bogus\n");
        let partial = outcome.committed.expect("the earlier part is committed");
        assert_eq!(partial.brand, "sparse");
        assert!(partial.nets().next().is_none(), "the unfinished net resource is dropped");
        assert!(!partial.autoboot, "nothing after the error ran");
    }

    #[test]
    fn one_shot_mode_continues_after_an_error() {
        let outcome =
            run("web1", None, "create -b; set frob=1; set zonepath=/z; set autoboot=true", Mode::OneShot, &host());
        assert_eq!(outcome.exit_code, 1);
        assert!(outcome.committed.unwrap().autoboot);
    }

    #[test]
    fn strictness() {
        let table: &[(&str, &str)] = &[
            ("create -b\nset zonepath=/z\nadd frob\n", "web1: No such resource type: frob"),
            ("create -b\nset zonepath=/z\nadd fs\nset dir=/a\nset bogus=1\n", "web1: No such property type: bogus"),
            ("create -b\nfrobnicate\n", "frobnicate: unknown command."),
            ("create -b\nset zonepath=/z\nset brand=solaris10\n", "solaris10: unknown brand."),
            ("create -b\nset autoboot=maybe\n", "autoboot: invalid value 'maybe'"),
            ("create -b\nset zonepath=relative\n", "zonepath: invalid value 'relative'"),
            ("create -b\nadd net\nend\n", "physical not specified"),
            ("create -b\nset zonepath=/z\nset limitpriv=\"default\n", "syntax error at '\"default'"),
            (
                "create -b\nadd capped-memory\nset physical=512\nend\n",
                "A positive number with a required scale suffix (K, M, G or T) was expected here.",
            ),
            (
                "create -b\nadd capped-memory\nset physical=512K\nend\n",
                "physical value is too small.  It must be at least 1M.",
            ),
            ("create -b\nadd capped-memory\nset swap=10M\nend\n", "swap value is too small.  It must be at least 50M."),
            (
                "create -b\nadd capped-memory\nset physical=1G\nend\nadd capped-memory\n",
                "The capped-memory resource or a related resource control already exists.",
            ),
            (
                "create -b\nadd rctl\nset name=zone.frob\nadd value (priv=privileged,limit=1,action=deny)\nend\n",
                "name: invalid value 'zone.frob'",
            ),
            (
                "create -b\nadd attr\nset name=zonename\nset type=string\nset value=x\nend\n",
                "name: invalid value 'zonename'",
            ),
            ("create -b\nadd attr\nset name=n\nset type=int\nset value=x\nend\n", "value: invalid value 'x'"),
            ("end\n", "end: not valid in this scope."),
            ("set zonepath=/z\n", "web1: No such zone configured"),
        ];
        for (script, error) in table {
            let outcome = run_file(None, script);
            assert_eq!(outcome.exit_code, 1, "{script}");
            assert!(outcome.stderr.contains(error), "{script:?}: {}", outcome.stderr);
        }
    }

    #[test]
    fn verify_rules_of_the_ip_type() {
        let base = "create -b\nset zonepath=/z\n";
        let cases = [
            (
                "set ip-type=exclusive\nadd net\nset physical=a0\nset address=10.0.0.1/24\nend\n",
                "net: address cannot be specified for an exclusive IP type",
            ),
            (
                "set ip-type=shared\nadd net\nset physical=a0\nset allowed-address=10.0.0.1/24\nend\n",
                "net: allowed-address cannot be specified for a shared IP type",
            ),
            (
                "set ip-type=exclusive\nadd net\nset physical=a0\nset defrouter=10.0.0.1\nend\n",
                "net: defrouter for a0 cannot be specified without allowed-address for an exclusive IP type",
            ),
        ];
        for (rest, error) in cases {
            let outcome = run_file(None, &format!("{base}{rest}"));
            assert_eq!(outcome.exit_code, 1);
            assert!(outcome.stderr.contains(error), "{}", outcome.stderr);
            assert!(outcome.stderr.contains("Zone web1 failed to verify"));
            assert!(outcome.committed.is_none(), "an invalid configuration is never committed");
        }
        let missing_path = run_file(None, "create -b\nset brand=sparse\n");
        assert!(missing_path.stderr.contains("zonepath not specified"));
        assert!(missing_path.committed.is_none());
    }

    #[test]
    fn create_and_delete_rules() {
        let config = run_file(None, "create -b\nset zonepath=/z\n").committed.unwrap();
        let again = run_file(Some((&config, ZoneState::Configured)), "create -b\nset zonepath=/y\n");
        assert_eq!(
            again.stderr,
            "On line 1 of -:\nZone exists, input not from terminal and -F not specified:\ncreate command ignored, exiting.\n"
        );
        assert!(again.committed.is_none());
        let forced = run_file(Some((&config, ZoneState::Configured)), "create -F -b\nset zonepath=/y\n");
        assert_eq!(forced.stdout, "Zone web1 already exists; overwriting.\n");
        assert_eq!(forced.committed.unwrap().zonepath, "/y");
        let installed = run_file(Some((&config, ZoneState::Installed)), "create -F -b\n");
        assert!(installed.stderr.contains("Zone web1 already installed; create not allowed."));
        let brand_change = run_file(Some((&config, ZoneState::Installed)), "set brand=lx\n");
        assert!(brand_change.stderr.contains("Zone web1 already installed; set brand not allowed."));
        let autoboot = run_file(Some((&config, ZoneState::Installed)), "set autoboot=true\n");
        assert!(autoboot.committed.unwrap().autoboot);
        let no_force = run("web1", Some((&config, ZoneState::Configured)), "delete", Mode::OneShot, &host());
        assert!(no_force.stderr.contains("delete command ignored, exiting."));
        assert!(!no_force.deleted);
        let deleted = run("web1", Some((&config, ZoneState::Installed)), "delete -F", Mode::OneShot, &host());
        assert!(deleted.deleted && deleted.exit_code == 0);
        let running = run("web1", Some((&config, ZoneState::Running)), "delete -F", Mode::OneShot, &host());
        assert!(!running.deleted && running.exit_code == 1);
        let missing = run("web1", None, "export", Mode::OneShot, &host());
        assert_eq!((missing.exit_code, missing.stderr.as_str()), (1, "web1: No such zone configured\n"));
    }

    #[test]
    fn select_modify_remove_and_cancel() {
        let config = run_file(None, POD).committed.unwrap();
        let existing = Some((&config, ZoneState::Configured));
        let modified =
            run_file(existing, "select net physical=web1x0\nset defrouter=10.88.0.254\nend\n").committed.unwrap();
        assert_eq!(modified.nets().next().unwrap().prop("defrouter"), Some("10.88.0.254"));
        let cancelled = run_file(existing, "select net physical=web1x0\nclear defrouter\ncancel\nset autoboot=true\n");
        assert_eq!(cancelled.committed.unwrap().nets().next().unwrap().prop("defrouter"), Some("10.88.0.1"));
        let cpu = run_file(existing, "select capped-cpu\nset ncpus=2\nend\n").committed.unwrap();
        assert_eq!(cpu.rctl("zone.cpu-cap").unwrap()[0].limit, 200);
        let removed =
            run_file(existing, "remove dataset name=tank/k8s/vols/pvc-1\nremove capped-memory\n").committed.unwrap();
        assert!(removed.resources.iter().all(|r| r.kind != "dataset"));
        assert_eq!(removed.physical_memory, None);
        assert!(removed.rctl("zone.max-swap").is_none());
        let missing = run_file(existing, "select net physical=nope\n");
        assert!(missing.stderr.contains("No such net resource."));
    }

    #[test]
    fn fs_options_and_net_properties() {
        let script = "create -b\nset zonepath=/z\nset brand=lx\nset ip-type=exclusive\nadd fs\nset dir=/data\nset special=/srv/data\n\
                      set type=lofs\nadd options [ro,nodevices]\nadd options \"size=64m\"\nend\nadd net\nset physical=app0\n\
                      add property (name=ips,value=\"10.0.0.7/24\")\nadd property (name=primary,value=true)\nend\n";
        let outcome = run_file(None, script);
        assert_eq!(outcome.exit_code, 0, "{}", outcome.stderr);
        let export = render_export(&outcome.committed.unwrap(), "native");
        assert!(export.contains("add options ro\nadd options nodevices\nadd options \"size=64m\"\n"), "{export}");
        assert!(
            export.contains("add property (name=ips,value=10.0.0.7/24)\nadd property (name=primary,value=true)\n"),
            "{export}"
        );
        let duplicate = run_file(
            None,
            "create -b\nadd fs\nset dir=/a\nset special=/b\nset type=lofs\nend\nadd fs\nset dir=/a\nset special=/c\nset type=lofs\nend\n",
        );
        assert!(duplicate.stderr.contains("A fs resource with the dir '/a' already exists."));
    }

    #[test]
    fn comments_and_blank_lines_are_ignored() {
        let outcome = run_file(None, "# a comment\n\ncreate -b\n   set zonepath=/z   # trailing\n");
        assert_eq!(outcome.exit_code, 0, "{}", outcome.stderr);
    }
}
