//! The test harness: a real `reddwarf serve` child process on a free port with its own data
//! directory, an HTTPS client that trusts its CA and carries its admin token (or a client
//! certificate issued from its CA), and the real kubectl binaries (`kubectl.1.NN` beside
//! the `kubectl` on PATH).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `reddwarf serve`.
pub struct Server {
    child: Option<Child>,
    dir: tempfile::TempDir,
    extra_args: Vec<String>,
    /// The admin kubeconfig it wrote.
    pub kubeconfig: PathBuf,
    /// Its HTTPS URL.
    pub url: String,
    /// The admin bearer token.
    pub token: String,
    /// Its CA certificate (PEM).
    pub ca_pem: String,
    /// The admin's client certificate and key (PEM), from the kubeconfig.
    pub admin_identity: String,
}

fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Server {
    /// Starts a server with default flags.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra `serve` flags, without a node agent (so pods stay
    /// wherever the control plane leaves them).
    pub fn start_with(extra: &[&str]) -> Self {
        let mut args = vec!["--no-agent"];
        args.extend_from_slice(extra);
        Self::start_with_agent(&args)
    }

    /// Starts a server with extra `serve` flags and, unless they say `--no-agent`, its
    /// in-process node agent.
    pub fn start_with_agent(extra: &[&str]) -> Self {
        install_crypto();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut server = Server {
            child: None,
            dir,
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            kubeconfig: PathBuf::new(),
            url: String::new(),
            token: String::new(),
            ca_pem: String::new(),
            admin_identity: String::new(),
        };
        server.launch();
        server
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("a log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_reddwarf"))
            .arg("serve")
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0"])
            .args(&self.extra_args)
            .env("RUST_LOG", "info,sled=warn")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("starting reddwarf serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("reddwarf serve did not print its kubeconfig; log:\n{}", self.log()));
        let path = line.strip_prefix("export KUBECONFIG=").unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        self.kubeconfig = PathBuf::from(path);
        let config: Value = serde_yaml::from_str(&std::fs::read_to_string(&self.kubeconfig).unwrap()).unwrap();
        self.url = config.pointer("/clusters/0/cluster/server").and_then(Value::as_str).unwrap().to_string();
        let users = config["users"].as_array().expect("kubeconfig users");
        let user_field = |field: &str| {
            users
                .iter()
                .find_map(|u| u["user"][field].as_str().map(str::to_string))
                .unwrap_or_else(|| panic!("{field}"))
        };
        let decode = |data: &str| {
            String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).unwrap())
                .unwrap()
        };
        self.token = user_field("token");
        self.admin_identity =
            format!("{}{}", decode(&user_field("client-certificate-data")), decode(&user_field("client-key-data")));
        let ca = config.pointer("/clusters/0/cluster/certificate-authority-data").and_then(Value::as_str).unwrap();
        self.ca_pem = decode(ca);
        self.child = Some(child);
    }

    /// A kube-rs client with the admin credentials.
    pub async fn kube_client(&self) -> kube::Client {
        install_crypto();
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig).unwrap();
        let options = kube::config::KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.unwrap();
        kube::Client::try_from(config).unwrap()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// An HTTPS client that trusts the server's CA and sends the admin token.
    pub fn client(&self) -> reqwest::Client {
        self.client_with_token(Some(&self.token))
    }

    /// An HTTPS client that trusts the server's CA, with the given token (or none).
    pub fn client_with_token(&self, token: Option<&str>) -> reqwest::Client {
        install_crypto();
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = token {
            headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .default_headers(headers)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// An HTTPS client that trusts the server's CA and presents `identity` (a PEM client
    /// certificate followed by its key), with no token.
    pub fn client_with_identity(&self, identity: &str) -> reqwest::Client {
        install_crypto();
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .identity(reqwest::Identity::from_pem(identity.as_bytes()).expect("a PEM identity"))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// A client certificate for `user` in `groups` from the server's CA (read from its data
    /// directory), valid from `not_before` to `not_after`, as PEM certificate + key.
    pub fn issue_identity(
        &self,
        user: &str,
        groups: &[&str],
        not_before: jiff::Timestamp,
        not_after: jiff::Timestamp,
    ) -> String {
        let tls = self.dir.path().join("data").join("tls");
        let ca_cert = std::fs::read_to_string(tls.join("ca.crt")).unwrap();
        let ca_key = std::fs::read_to_string(tls.join("ca.key")).unwrap();
        let issued =
            reddwarf::api::tls::issue_client_certificate(&ca_cert, &ca_key, user, groups, not_before, not_after)
                .expect("issuing a client certificate");
        format!("{}{}", issued.cert_pem, issued.key_pem)
    }

    /// A client certificate for `user` in `groups`, valid for the next hour.
    pub fn identity(&self, user: &str, groups: &[&str]) -> String {
        #[allow(clippy::disallowed_methods, reason = "certificates are checked against the real clock")]
        let now = jiff::Timestamp::now();
        let hour = jiff::SignedDuration::from_hours(1);
        self.issue_identity(user, groups, now - hour, now + hour)
    }

    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Kills the server with SIGKILL and waits for it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits (up to 30 s) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "reddwarf did not exit after SIGTERM; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same data directory.
    pub fn restart(&mut self) {
        self.kill9();
        self.launch();
    }

    /// Runs a kubectl against this server.
    pub fn kubectl(&self, kubectl: &Kubectl, args: &[&str]) -> Run {
        let cache = self.dir.path().join(format!("kubecache-{}", kubectl.version));
        let output = Command::new(&kubectl.path)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", &cache)
            .env("HOME", self.dir.path())
            .output()
            .expect("running kubectl");
        Run {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// A kubectl command with this server's environment, to spawn and stream.
    pub fn kubectl_command(&self, kubectl: &Kubectl, args: &[&str]) -> Command {
        let mut command = Command::new(&kubectl.path);
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join(format!("kubecache-{}", kubectl.version)))
            .env("HOME", self.dir.path());
        command
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// What a command printed.
#[derive(Debug)]
pub struct Run {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(self) -> String {
        assert!(self.status.success(), "command failed: {self:?}");
        self.stdout
    }

    /// Asserts failure and returns stderr.
    #[track_caller]
    pub fn failed(self) -> String {
        assert!(!self.status.success(), "command unexpectedly succeeded: {self:?}");
        self.stderr
    }
}

/// A pinned kubectl binary.
#[derive(Debug, Clone)]
pub struct Kubectl {
    /// The binary.
    pub path: PathBuf,
    /// Its minor version, such as `1.33`.
    pub version: String,
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

/// The `kubectl.<version>` beside the `kubectl` on PATH (the google-cloud-cli layout). When
/// it is missing the test fails if `CI` is set, and is skipped (None) otherwise.
pub fn kubectl(version: &str) -> Option<Kubectl> {
    let found = which("kubectl")
        .and_then(|k| std::fs::canonicalize(k).ok())
        .and_then(|k| k.parent().map(|d| d.join(format!("kubectl.{version}"))))
        .filter(|p| p.is_file());
    match found {
        Some(path) => Some(Kubectl { path, version: version.to_string() }),
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "kubectl {version} is required: install google-cloud-cli's kubectl (kubectl.{version} beside kubectl on PATH)"
            )
        }
        None => {
            eprintln!("SKIPPED: kubectl.{version} not found beside the kubectl on PATH");
            None
        }
    }
}

/// Python 3 with the `kubernetes` client, or None (a failure when `CI` is set).
pub fn python_with_kubernetes() -> Option<PathBuf> {
    let python = which("python3")?;
    let ok = Command::new(&python).args(["-c", "import kubernetes"]).output().is_ok_and(|o| o.status.success());
    if ok {
        Some(python)
    } else if std::env::var_os("CI").is_some() {
        panic!("python3 with the `kubernetes` package is required: pip install kubernetes")
    } else {
        eprintln!("SKIPPED: python3 lacks the kubernetes package");
        None
    }
}

/// A minimal valid pod manifest.
pub fn pod_json(name: &str) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
    })
}

/// A pod already bound to a node that no agent runs, so neither the scheduler nor any
/// agent writes it: tests that count revisions or expect exact watch streams use it.
pub fn parked_pod_json(name: &str) -> Value {
    let mut pod = pod_json(name);
    pod["spec"]["nodeName"] = serde_json::json!("parked-node");
    pod
}

/// Sends a request and returns its status and JSON body (a non-JSON body as `{"raw": …}`).
pub async fn send(request: reqwest::RequestBuilder) -> (reqwest::StatusCode, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let body = response.bytes().await.unwrap();
    let value =
        serde_json::from_slice(&body).unwrap_or_else(|_| serde_json::json!({"raw": String::from_utf8_lossy(&body)}));
    (status, value)
}

/// Asserts that an answer is a Kubernetes `Status` with this code and reason.
#[track_caller]
pub fn assert_status(got: &(reqwest::StatusCode, Value), code: u16, reason: &str) {
    assert_eq!(got.0.as_u16(), code, "{}", got.1);
    assert_eq!(got.1["kind"], "Status", "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert_eq!(got.1["reason"], reason, "{}", got.1);
}
