//! The SMF manifests and method scripts under `smf/`: the XML parses and has the shape
//! svc.startd needs (dependencies, a foreground start with `duration=child`, the config
//! properties), the scripts pass `sh -n`, and each script, run with a stubbed `svcprop`
//! and a stub daemon, turns properties into exactly the right flags or exits 96
//! (SMF_EXIT_ERR_CONFIG) with a message. The binary itself exits 96 on a bad flag under
//! SMF.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn smf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("smf")
}

/// Parses a manifest with Python's XML parser (CI has python3) and summarizes it as JSON.
fn summarize(manifest: &Path) -> Value {
    const SCRIPT: &str = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "service_bundle" and root.get("type") == "manifest", root.tag
service = root.find("service")
out = {
    "name": service.get("name"),
    "dependencies": {d.get("name"): [d.get("grouping"), d.find("service_fmri").get("value")] for d in service.findall("dependency")},
    "methods": {m.get("name"): m.get("exec") for m in service.findall("exec_method")},
    "groups": {g.get("name"): {p.get("name"): [p.get("type"), p.get("value")] for p in g.findall("propval")} for g in service.findall("property_group")},
    "instance": service.find("create_default_instance").get("enabled"),
}
print(json.dumps(out))
"#;
    let output = Command::new("python3").args(["-c", SCRIPT]).arg(manifest).output().expect("python3 runs");
    assert!(output.status.success(), "{}: {}", manifest.display(), String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn manifests_parse_and_run_the_daemon_in_the_foreground() {
    let server = summarize(&smf_dir().join("reddwarf-server.xml"));
    let agent = summarize(&smf_dir().join("reddwarf-agent.xml"));
    assert_eq!(server["name"], "system/reddwarf/server");
    assert_eq!(agent["name"], "system/reddwarf/agent");
    for (manifest, script) in [(&server, "reddwarf-server"), (&agent, "reddwarf-agent")] {
        assert_eq!(manifest["instance"], "false", "imported disabled until configured");
        assert_eq!(manifest["dependencies"]["network"][1], "svc:/milestone/network:default");
        assert_eq!(manifest["dependencies"]["filesystem"][1], "svc:/system/filesystem/local:default");
        assert_eq!(manifest["groups"]["startd"]["duration"], serde_json::json!(["astring", "child"]));
        assert_eq!(manifest["methods"]["start"], format!("/opt/reddwarf/lib/svc/method/{script} start"));
        assert_eq!(manifest["methods"]["stop"], ":kill");
    }
    assert_eq!(agent["dependencies"]["zones"], serde_json::json!(["require_all", "svc:/system/zones:default"]));
    assert!(server["dependencies"].get("zones").is_none());
    let names = |m: &Value| m["groups"]["config"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&server), ["cluster_cidr", "data_dir", "listen", "log_format", "tls_san"]);
    assert_eq!(
        names(&agent),
        [
            "brands",
            "data_dir",
            "etherstub",
            "log_format",
            "max_pods",
            "node_name",
            "pod_cidr",
            "reservations",
            "server",
            "token_file",
            "zfs_root"
        ]
    );
}

#[test]
fn method_scripts_are_valid_shell() {
    for script in ["reddwarf-server", "reddwarf-agent"] {
        let output = Command::new("sh").arg("-n").arg(smf_dir().join("method").join(script)).output().unwrap();
        assert!(output.status.success(), "{script}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

/// A scratch directory with a stub `svcprop` answering from `props` and a stub daemon
/// that writes its argv, one per line, to `argv`.
struct Stubs {
    dir: tempfile::TempDir,
}

impl Stubs {
    fn new(props: &BTreeMap<&str, &str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let table: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(dir.path().join("props"), table).unwrap();
        // svcprop -p config/NAME FMRI: the value, `""` for an empty astring, exit 1 if absent.
        let svcprop = format!(
            "#!/bin/sh\n[ \"$1\" = -p ] || exit 2\n[ \"$3\" = svc:/test:default ] || exit 3\n\
             line=$(grep \"^$2=\" {props}) || exit 1\nvalue=${{line#*=}}\n\
             if [ -z \"$value\" ]; then echo '\"\"'; else echo \"$value\"; fi\n",
            props = dir.path().join("props").display()
        );
        let daemon = format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > {}\n", dir.path().join("argv").display());
        for (name, body) in [("svcprop", svcprop), ("reddwarf", daemon)] {
            let path = bin.join(name);
            std::fs::write(&path, body).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Self { dir }
    }

    fn run(&self, script: &str) -> Output {
        let path = format!("{}:{}", self.dir.path().join("bin").display(), std::env::var("PATH").unwrap_or_default());
        Command::new("sh")
            .arg(smf_dir().join("method").join(script))
            .arg("start")
            .env("PATH", path)
            .env("SMF_FMRI", "svc:/test:default")
            .env("REDDWARF_BIN", self.dir.path().join("bin/reddwarf"))
            .output()
            .unwrap()
    }

    fn argv(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("argv")).unwrap().lines().map(str::to_string).collect()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// The real binary parses `argv`: every flag a method script emits exists, and every value
/// it passes is valid (`--help` at the end stops it before it would start).
#[track_caller]
fn assert_the_daemon_accepts(argv: &[String]) {
    let output = Command::new(env!("CARGO_BIN_EXE_reddwarf")).args(argv).arg("--help").output().unwrap();
    assert!(output.status.success(), "{argv:?}: {}", String::from_utf8_lossy(&output.stderr));
}

#[track_caller]
fn assert_config_error(output: &Output, message: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(96), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
}

#[test]
fn the_server_method_maps_properties_to_flags() {
    let props = BTreeMap::from([
        ("config/listen", "0.0.0.0:6443"),
        ("config/data_dir", "/var/lib/reddwarf/server"),
        ("config/log_format", "json"),
        ("config/tls_san", "cp.example,10.0.0.5"),
        ("config/cluster_cidr", "10.50.0.0/16"),
    ]);
    let stubs = Stubs::new(&props);
    let output = stubs.run("reddwarf-server");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        stubs.argv(),
        [
            "serve",
            "--listen",
            "0.0.0.0:6443",
            "--data-dir",
            "/var/lib/reddwarf/server",
            "--log-format",
            "json",
            "--cluster-cidr",
            "10.50.0.0/16",
            "--tls-san",
            "cp.example",
            "--tls-san",
            "10.0.0.5"
        ]
    );
    assert_the_daemon_accepts(&stubs.argv());

    let mut bad = props.clone();
    bad.insert("config/log_format", "xml");
    assert_config_error(&Stubs::new(&bad).run("reddwarf-server"), "config/log_format is \"xml\"");
    let mut bad = props.clone();
    bad.insert("config/data_dir", "");
    assert_config_error(&Stubs::new(&bad).run("reddwarf-server"), "config/data_dir is empty");
}

#[test]
fn the_agent_method_maps_properties_to_flags() {
    let base = Stubs::new(&BTreeMap::new());
    let token = base.path("token");
    std::fs::write(&token, "K10...").unwrap();
    let props = BTreeMap::from([
        ("config/server", "https://cp.example:6443"),
        ("config/token_file", token.as_str()),
        ("config/node_name", "node-7"),
        ("config/data_dir", "/var/lib/reddwarf/agent"),
        ("config/pod_cidr", "10.42.7.0/24"),
        ("config/zfs_root", "rpool/reddwarf"),
        ("config/etherstub", "reddwarf0"),
        ("config/reservations", "cpu=500m,memory=1Gi"),
        ("config/brands", ""),
        ("config/max_pods", "110"),
        ("config/log_format", "text"),
    ]);
    let stubs = Stubs::new(&props);
    let output = stubs.run("reddwarf-agent");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        stubs.argv(),
        [
            "agent",
            "--server",
            "https://cp.example:6443",
            "--data-dir",
            "/var/lib/reddwarf/agent",
            "--node-name",
            "node-7",
            "--token-file",
            &token,
            "--pod-cidr",
            "10.42.7.0/24",
            "--zfs-root",
            "rpool/reddwarf",
            "--etherstub",
            "reddwarf0",
            "--max-pods",
            "110",
            "--log-format",
            "text",
            "--system-reserved-cpu",
            "500m",
            "--system-reserved-memory",
            "1Gi"
        ],
        "an empty brands property is left out"
    );
    assert_the_daemon_accepts(&stubs.argv());

    let with = |key: &'static str, value: &'static str| {
        let mut changed = props.clone();
        changed.insert(key, value);
        Stubs::new(&changed).run("reddwarf-agent")
    };
    assert_config_error(&with("config/server", ""), "config/server is empty");
    assert_config_error(&with("config/server", "http://cp:6443"), "must be an https:// URL");
    assert_config_error(&with("config/max_pods", "lots"), "config/max_pods is \"lots\"");
    assert_config_error(&with("config/reservations", "disk=1Gi"), "config/reservations has \"disk=1Gi\"");
    assert_config_error(&with("config/token_file", "/nonexistent/token"), "is not readable");
    assert_config_error(&with("config/token_file", ""), "holds no node certificate yet");

    // Once joined (a node certificate under data_dir), no token is needed; an empty node
    // name means this host's name.
    let joined = tempfile::tempdir().unwrap();
    std::fs::write(joined.path().join("node.crt"), "").unwrap();
    let data_dir: &'static str = Box::leak(joined.path().display().to_string().into_boxed_str());
    let mut rejoin = props.clone();
    rejoin.insert("config/token_file", "");
    rejoin.insert("config/data_dir", data_dir);
    rejoin.insert("config/node_name", "");
    let stubs = Stubs::new(&rejoin);
    let output = stubs.run("reddwarf-agent");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let argv = stubs.argv();
    assert!(!argv.contains(&"--token-file".to_string()), "{argv:?}");
    let host = String::from_utf8(Command::new("uname").arg("-n").output().unwrap().stdout).unwrap();
    assert_eq!(argv[6], host.trim());
}

#[test]
fn the_daemon_exits_96_on_a_bad_flag_under_smf() {
    let run = |smf: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_reddwarf"));
        command.args(["serve", "--listen", "not-an-address"]);
        if smf {
            command.env("SMF_FMRI", "svc:/system/reddwarf/server:default");
        } else {
            command.env_remove("SMF_FMRI");
        }
        command.output().unwrap()
    };
    assert_eq!(run(true).status.code(), Some(96));
    assert_eq!(run(false).status.code(), Some(2), "outside SMF, clap's usual usage error");
}
