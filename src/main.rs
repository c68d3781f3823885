//! The `reddwarf` command line: parses flags and wires the pieces together. It makes no
//! decisions of its own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use reddwarf::actors::agent::credentials::{Credentials, Identity};
use reddwarf::actors::agent::logs::{ApiAccess, ConsoleFiles, ConsoleSource, FakeConsoles};
use reddwarf::actors::agent::{self, AgentHandle, AgentSettings, Capacity};
use reddwarf::actors::directory::ActorDirectory;
use reddwarf::actors::events::{Recorder, StoreEvents};
use reddwarf::actors::ipam::NodeCidrAllocator;
use reddwarf::actors::namespaces::{NamespaceController, NamespacedCollection};
use reddwarf::actors::node_lifecycle::{NodeHealthSettings, NodeLifecycle};
use reddwarf::actors::scheduler::SchedulerActor;
use reddwarf::actors::supervision::Watchdog;
use reddwarf::api::inflight::InflightLimits;
use reddwarf::api::join::JoinAuthority;
use reddwarf::api::registry::{self, RegistryAttrs};
use reddwarf::api::tls::{TlsSource, prepare};
use reddwarf::api::{ApiSettings, ApiState, SecretToken, auth, bootstrap, kubeconfig, server};
use reddwarf::clock::Clock;
use reddwarf::illumos::exec::{Executor, ProcessExecutor};
use reddwarf::illumos::fake::{FakeHost, settings as sim_settings};
use reddwarf::illumos::profile::PlatformProfile;
use reddwarf::illumos::runtime::IllumosRuntime;
use reddwarf::logic::join_token::JoinToken;
use reddwarf::metrics::Metrics;
use reddwarf::model::quantity::parse_quantity;
use reddwarf::store::memory::MemoryBackend;
use reddwarf::store::sled_backend::SledBackend;
use reddwarf::store::{Backend, Store, StoreConfig};
use reddwarf::tokens::AdminClient;

#[derive(Parser)]
#[command(name = "reddwarf", version, about = "A Kubernetes-compatible control plane and node agent for illumos zones")]
struct Cli {
    /// Log format.
    #[arg(long, value_enum, default_value = "text", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane: API server, store, scheduler and controllers (and, unless
    /// --no-agent, a node agent for this host).
    Serve(ServeArgs),
    /// Run a node agent that joins a server: registers the node and runs its pods as zones.
    Agent(AgentArgs),
    /// Manage join tokens (through the API, with an admin kubeconfig).
    Token(TokenArgs),
}

#[derive(clap::Args)]
struct TokenArgs {
    /// The admin kubeconfig.
    #[arg(long, env = "KUBECONFIG", default_value = "./reddwarf-data/admin.kubeconfig", global = true)]
    kubeconfig: PathBuf,
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a join token and print it (`K10<ca-sha256>::<id>.<secret>`); only its hash is kept.
    Create {
        /// How long it works (0: forever).
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        ttl: Duration,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List join tokens (ids and expiry; the secrets are not kept).
    List,
    /// Revoke a join token by id.
    Revoke {
        /// The token id (or the whole token).
        id: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RuntimeKind {
    /// Real zones, through zonecfg, zoneadm, dladm, ipadm and zfs.
    Illumos,
    /// An in-memory emulation of an illumos host (for Linux, tests and demos).
    Sim,
}

/// Where the real zone tools live; its presence makes `illumos` the default runtime.
const ZONEADM: &str = "/usr/sbin/zoneadm";

fn default_runtime() -> RuntimeKind {
    if Path::new(ZONEADM).exists() { RuntimeKind::Illumos } else { RuntimeKind::Sim }
}

fn parse_cpu(text: &str) -> Result<u64, String> {
    let q = parse_quantity(text).map_err(|e| e.to_string())?;
    u64::try_from(q.millis()).map_err(|_| format!("'{text}' is negative"))
}

fn parse_bytes(text: &str) -> Result<u64, String> {
    let q = parse_quantity(text).map_err(|e| e.to_string())?;
    u64::try_from(q.units()).map_err(|_| format!("'{text}' is negative"))
}

/// The node flags `serve` (for its local agent) and `agent` share.
#[derive(clap::Args, Clone)]
struct NodeArgs {
    /// The Node's name (default: this host's name).
    #[arg(long)]
    node_name: Option<String>,
    /// illumos (real zones) or sim (emulated); default illumos where /usr/sbin/zoneadm exists.
    #[arg(long, value_enum)]
    runtime: Option<RuntimeKind>,
    /// The directory under which zonepaths are made.
    #[arg(long, default_value = "/zones")]
    zonepath_root: String,
    /// The ZFS dataset under which the agent creates its datasets.
    #[arg(long, default_value = "rpool/reddwarf")]
    zfs_root: String,
    /// The pods' etherstub.
    #[arg(long, default_value = "reddwarf0")]
    etherstub: String,
    /// CPU kept for the system (subtracted from allocatable).
    #[arg(long, default_value = "100m", value_parser = parse_cpu)]
    system_reserved_cpu: u64,
    /// Memory kept for the system (subtracted from allocatable).
    #[arg(long, default_value = "256Mi", value_parser = parse_bytes)]
    system_reserved_memory: u64,
    /// The most pods this node runs.
    #[arg(long, default_value_t = 110)]
    max_pods: u32,
    /// The most exec probes (zlogin commands) running at once on this node.
    #[arg(long, default_value_t = reddwarf::actors::agent::probes::DEFAULT_MAX_CONCURRENT_EXEC_PROBES)]
    max_concurrent_exec_probes: usize,
    /// Installed zone brands, in order of preference.
    #[arg(long, value_delimiter = ',', default_value = "lipkg,sparse,lx")]
    zone_brands: Vec<String>,
    /// hostPath volumes are allowed only under these prefixes (repeatable).
    #[arg(long = "host-path-prefix")]
    host_path_prefixes: Vec<String>,
    /// The node's address (default 127.0.0.1).
    #[arg(long)]
    node_ip: Option<std::net::IpAddr>,
    /// Where the kubelet HTTPS server (logs) listens (default: 0.0.0.0:10250 for `agent`,
    /// 127.0.0.1 on a free port for `serve`'s local agent).
    #[arg(long)]
    kubelet_listen: Option<SocketAddr>,
    /// Use this pod CIDR instead of waiting for the control plane to assign one.
    #[arg(long)]
    pod_cidr: Option<ipnet::IpNet>,
    /// How often all zones are listed to notice changes nobody asked for.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    relist_interval: Duration,
    /// sim: the CPU capacity to report.
    #[arg(long, default_value = "8", value_parser = parse_cpu)]
    sim_cpu: u64,
    /// sim: the memory capacity to report.
    #[arg(long, default_value = "32Gi", value_parser = parse_bytes)]
    sim_memory: u64,
    /// sim: append one JSON line per host command to this file (for tests).
    #[arg(long)]
    sim_event_log: Option<PathBuf>,
    /// sim: inject a fault, such as `zoneadm install=fail:1` or `zoneadm shutdown=hang:1` (repeatable).
    #[arg(long = "sim-fault")]
    sim_faults: Vec<String>,
    /// sim: make an operation take time, such as `zoneadm install=2s` (repeatable).
    #[arg(long = "sim-duration")]
    sim_durations: Vec<String>,
    /// sim: run this many simulated nodes in this process, the way kwok does (named
    /// NODE-NAME-0, NODE-NAME-1, …; each has its own Node, Lease, IP pool, pod actors and
    /// FakeHost, and they share one API client). 1 runs a single node named NODE-NAME.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    sim_nodes: u32,
}

#[derive(clap::Args)]
struct AgentArgs {
    /// The API server's URL (default: from --kubeconfig).
    #[arg(long)]
    server: Option<String>,
    /// A join token from `reddwarf token create` (`K10…::…`), or a bearer token.
    #[arg(long, conflicts_with = "token_file")]
    token: Option<String>,
    /// A file holding the join token, or a bearer token (default: from --kubeconfig).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// The PEM CA of the API server (default: from --kubeconfig).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// A kubeconfig to take the CA (and the server and token, when not given) from.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The agent's local state: IP pool, projected volumes, the sim host's state.
    #[arg(long, default_value = "./reddwarf-agent")]
    data_dir: PathBuf,
    #[command(flatten)]
    node: NodeArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum StoreKind {
    /// Durable, on sled, under the data directory.
    Sled,
    /// In memory only: everything is lost on exit (for tests and demos).
    Memory,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Where the store, TLS material and admin kubeconfig live.
    #[arg(long, default_value = "./reddwarf-data")]
    data_dir: PathBuf,
    /// The address the HTTPS API listens on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// A PEM certificate chain to serve instead of the generated one.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The CA to write into admin.kubeconfig with --tls-cert (default: the chain's last).
    #[arg(long, requires = "tls_cert")]
    tls_ca: Option<PathBuf>,
    /// Extra names for the generated serving certificate (repeatable).
    #[arg(long = "tls-san")]
    tls_sans: Vec<String>,
    /// The storage backend.
    #[arg(long, value_enum, default_value = "sled")]
    store: StoreKind,
    /// How long watch history is kept.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    history_window: Duration,
    /// The most events watch history keeps.
    #[arg(long, default_value_t = 100_000)]
    history_max_events: usize,
    /// The most non-mutating requests in flight; more are refused with 429 (0: no limit).
    /// Watches are not counted.
    #[arg(long, default_value_t = 400)]
    max_requests_inflight: usize,
    /// The most mutating requests in flight; more are refused with 429 (0: no limit).
    #[arg(long, default_value_t = 200)]
    max_mutating_requests_inflight: usize,
    /// In-flight slots reserved for node heartbeats (Lease renewals and node status), on
    /// top of the mutating limit, so a flood cannot make nodes look dead (0: none).
    #[arg(long, default_value_t = 32)]
    reserved_heartbeat_requests_inflight: usize,
    /// How long a node may go without a heartbeat before it is marked NotReady.
    #[arg(long, default_value = "40s", value_parser = humantime::parse_duration)]
    node_monitor_grace_period: Duration,
    /// Do not run a node agent in this process.
    #[arg(long)]
    no_agent: bool,
    /// The range pod addresses come from, cut into per-node blocks (default 10.88.0.0/16;
    /// 127.77.0.0/16 where the runtime is sim, so pod addresses are loopback).
    #[arg(long)]
    cluster_cidr: Option<ipnet::IpNet>,
    /// The prefix length of each node's block of the cluster CIDR.
    #[arg(long, default_value_t = 24)]
    node_cidr_prefix: u8,
    #[command(flatten)]
    node: NodeArgs,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sled=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("securing {}", dir.display()))?;
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    create_private_dir(&args.data_dir)?;
    let data_dir = std::fs::canonicalize(&args.data_dir)?;
    let clock = Clock::system();
    let source = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => TlsSource::Supplied { data_dir: &data_dir, cert, key, ca: args.tls_ca.as_deref() },
        _ => TlsSource::Generated { data_dir: &data_dir, extra_names: &args.tls_sans },
    };
    let tls = prepare(source, clock.now()).context("preparing TLS")?;

    let backend: Box<dyn Backend> = match args.store {
        StoreKind::Sled => Box::new(SledBackend::open(&data_dir.join("store")).context("opening the store")?),
        StoreKind::Memory => {
            tracing::warn!("--store memory: nothing will survive a restart");
            Box::new(MemoryBackend::default())
        }
    };
    let config = StoreConfig {
        history_window: args.history_window,
        history_max_events: args.history_max_events,
        ..Default::default()
    };
    let store = Store::open(backend, RegistryAttrs::shared(), config).context("loading the store")?;
    bootstrap::ensure_system_namespaces(&store, &clock).await.context("creating the system namespaces")?;

    let bound = server::bind(args.listen).with_context(|| format!("listening on {}", args.listen))?;
    let url = kubeconfig::server_url(bound.local_addr);
    let kubeconfig_path = data_dir.join("admin.kubeconfig");
    let (token, authenticator) = auth::admin_token(&data_dir, kubeconfig::existing_token(&kubeconfig_path))?;
    kubeconfig::write(&kubeconfig_path, &url, &tls.ca_pem, &tls.admin, &token).context("writing admin.kubeconfig")?;
    tracing::info!(%url, revision = store.revision(), "serving the Kubernetes API");
    println!("export KUBECONFIG={}", kubeconfig_path.display());

    let (stopping, shutdown) = tokio::sync::watch::channel(false);
    let directory = ActorDirectory::new(clock.clone());
    let events = Recorder::start(Arc::new(StoreEvents::new(store.clone())), clock.clone(), directory.clone());
    let runtime = args.node.runtime.unwrap_or_else(default_runtime);
    let cluster_cidr = args.cluster_cidr.unwrap_or_else(|| {
        let default = if runtime == RuntimeKind::Sim { "127.77.0.0/16" } else { "10.88.0.0/16" };
        default.parse().expect("a valid default CIDR")
    });
    let cidrs =
        NodeCidrAllocator::new(store.clone(), cluster_cidr, args.node_cidr_prefix, events.clone(), directory.clone())
            .start();
    let metrics = Metrics::new();
    let scheduler = SchedulerActor::new(store.clone(), clock.clone(), events.clone(), directory.clone())
        .with_metrics(metrics.clone())
        .start();
    let health = NodeHealthSettings { grace: args.node_monitor_grace_period };
    let nodes = NodeLifecycle::new(store.clone(), clock.clone(), events.clone(), directory.clone(), health)
        .with_metrics(metrics.clone())
        .start();
    let collections = registry::namespaced_storage()
        .into_iter()
        .map(|(storage, pods)| NamespacedCollection { storage, pods })
        .collect();
    let namespaces = NamespaceController::new(store.clone(), clock.clone(), directory.clone(), collections).start();
    Watchdog::new(Duration::from_secs(1), Watchdog::exit_process)
        .watch("scheduler", &scheduler)
        .watch("node-lifecycle", &nodes)
        .watch("namespace-controller", &namespaces)
        .watch("node-cidr-allocator", &cidrs)
        .start();
    let settings = ApiSettings {
        kubelet_client_token: Some(SecretToken::new(token.clone())),
        inflight: InflightLimits {
            max_read: args.max_requests_inflight,
            max_mutating: args.max_mutating_requests_inflight,
            reserved_heartbeat: args.reserved_heartbeat_requests_inflight,
        },
        ..ApiSettings::default()
    };
    let join = Some(Arc::new(JoinAuthority { server_ca_pem: tls.ca_pem.clone(), client_ca: tls.client_ca.clone() }));
    let state = ApiState {
        store: store.clone(),
        clock: clock.clone(),
        settings,
        shutdown,
        directory: directory.clone(),
        metrics,
        join,
    };
    let _agent = if args.no_agent {
        None
    } else {
        let credentials =
            Credentials { server: url.clone(), ca_pem: tls.ca_pem.clone(), identity: Identity::Token(token.clone()) };
        let mut node = args.node.clone();
        node.kubelet_listen = node.kubelet_listen.or_else(|| Some(SocketAddr::from(([127, 0, 0, 1], 0))));
        Some(start_agent(node, credentials, data_dir.join("agent"), clock.clone(), directory.clone()).await?)
    };
    let credentials = server::Credentials { authenticator, client_verifier: tls.client_verifier };
    server::run(bound, state, credentials, tls.server_config, stopping).await.context("serving")?;
    store.close();
    tracing::info!("stopped cleanly");
    Ok(())
}

/// The memory of an illumos host, from `prtconf -m` (megabytes).
async fn illumos_memory_bytes() -> anyhow::Result<u64> {
    let spec = reddwarf::illumos::exec::CommandSpec::new("/usr/sbin/prtconf").arg("-m");
    let output = ProcessExecutor::default().run(spec).await?;
    let megabytes: u64 =
        output.stdout.trim().parse().with_context(|| format!("prtconf -m printed {:?}", output.stdout))?;
    Ok(megabytes << 20)
}

/// Builds the runtimes and starts the node agents: one, or with `--runtime sim
/// --sim-nodes N`, N simulated nodes over one shared API client.
async fn start_agent(
    args: NodeArgs,
    credentials: Credentials,
    data_dir: PathBuf,
    clock: Clock,
    directory: ActorDirectory,
) -> anyhow::Result<Vec<AgentHandle>> {
    create_private_dir(&data_dir)?;
    let data_dir = std::fs::canonicalize(&data_dir)?;
    let kind = args.runtime.unwrap_or_else(default_runtime);
    if args.sim_nodes > 1 && kind != RuntimeKind::Sim {
        anyhow::bail!("--sim-nodes needs --runtime sim");
    }
    let node_name = node_name(&args)?;
    let client = credentials.client(args.sim_nodes as usize).await.context("building the API client")?;
    let access = ApiAccess { server: credentials.server.clone(), ca_pem: credentials.ca_pem.clone() };
    if args.sim_nodes == 1 {
        let handle = start_node(&args, kind, node_name, data_dir, &client, &access, &clock, &directory).await?;
        return Ok(vec![handle]);
    }
    let mut handles = Vec::new();
    for index in 0..args.sim_nodes {
        let name = format!("{node_name}-{index}");
        let dir = data_dir.join(&name);
        create_private_dir(&dir)?;
        handles.push(start_node(&args, kind, name, dir, &client, &access, &clock, &directory).await?);
    }
    Ok(handles)
}

/// Builds one node's runtime and starts its agent.
#[allow(clippy::too_many_arguments, reason = "wiring: each argument is one shared piece")]
async fn start_node(
    args: &NodeArgs,
    kind: RuntimeKind,
    node_name: String,
    data_dir: PathBuf,
    client: &kube::Client,
    access: &ApiAccess,
    clock: &Clock,
    directory: &ActorDirectory,
) -> anyhow::Result<AgentHandle> {
    let profile = PlatformProfile::omnios();
    let (runtime, console, capacity): (IllumosRuntime, Arc<dyn ConsoleSource>, Capacity) = match kind {
        RuntimeKind::Sim => {
            let host = FakeHost::with_profile(profile.clone());
            host.persist_to(&data_dir.join("sim-host.journal")).context("loading the sim host's state")?;
            if let Some(path) = &args.sim_event_log {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?;
                host.log_events_to(file);
            }
            for fault in &args.sim_faults {
                sim_settings::apply_fault(&host, fault)?;
            }
            for duration in &args.sim_durations {
                sim_settings::apply_duration(&host, duration)?;
            }
            let capacity = Capacity {
                cpu_millis: args.sim_cpu,
                memory_bytes: args.sim_memory,
                ephemeral_storage_bytes: 100 << 30,
            };
            let runtime = IllumosRuntime::new(Arc::new(host.clone()), profile);
            (runtime, Arc::new(FakeConsoles(host)), capacity)
        }
        RuntimeKind::Illumos => {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
            let capacity = Capacity {
                cpu_millis: cpus * 1000,
                memory_bytes: illumos_memory_bytes().await.context("detecting the host's memory")?,
                ephemeral_storage_bytes: 100 << 30,
            };
            let runtime = IllumosRuntime::new(Arc::new(ProcessExecutor::default()), profile);
            (runtime, Arc::new(ConsoleFiles { dir: PathBuf::from("/var/log/zones") }), capacity)
        }
    };
    let kubelet_listen = match args.kubelet_listen {
        // Simulated nodes in one process each need a port of their own.
        Some(listen) if args.sim_nodes > 1 => SocketAddr::new(listen.ip(), 0),
        Some(listen) => listen,
        None if args.sim_nodes > 1 => SocketAddr::from(([127, 0, 0, 1], 0)),
        None => SocketAddr::from(([0, 0, 0, 0], 10250)),
    };
    let settings = AgentSettings {
        node_name,
        node_ip: args.node_ip.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1])),
        runtime_name: if kind == RuntimeKind::Sim { "sim" } else { "illumos" }.to_string(),
        brands: args.zone_brands.clone(),
        zonepath_root: args.zonepath_root.clone(),
        zfs_root: args.zfs_root.clone(),
        etherstub: args.etherstub.clone(),
        host_path_prefixes: args.host_path_prefixes.clone(),
        capacity,
        reserved_cpu_millis: args.system_reserved_cpu,
        reserved_memory_bytes: args.system_reserved_memory,
        max_pods: args.max_pods,
        max_concurrent_exec_probes: args.max_concurrent_exec_probes,
        pod_cidr: args.pod_cidr,
        data_dir,
        kubelet_listen,
        relist_interval: args.relist_interval,
        lease_interval: Duration::from_secs(10),
        status_interval: Duration::from_secs(10),
        test_faults: false,
    };
    Ok(agent::start(settings, runtime, client.clone(), console, access.clone(), clock.clone(), directory.clone())?)
}

/// The Node's name: `--node-name`, else this host's name.
fn node_name(args: &NodeArgs) -> anyhow::Result<String> {
    match &args.node_name {
        Some(name) => Ok(name.clone()),
        None => Ok(hostname::get().context("reading the host name")?.to_string_lossy().to_lowercase()),
    }
}

/// The agent's credentials, in order: a node certificate from an earlier join (kept in
/// the data directory); a join with `--token`/`--token-file` when it holds a join token;
/// else a bearer token with the server and CA from flags or `--kubeconfig`.
async fn agent_credentials(args: &AgentArgs) -> anyhow::Result<Credentials> {
    let token = match (&args.token, &args.token_file) {
        (Some(token), _) => Some(token.trim().to_string()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?.trim().to_string(),
        ),
        (None, None) => None,
    };
    let join_token = token.as_deref().filter(|t| JoinToken::parse(t).is_ok());
    create_private_dir(&args.data_dir)?;
    if let Some(joined) = reddwarf::join::load(&args.data_dir)? {
        tracing::info!(server = %joined.server, "using the node certificate from an earlier join");
        return Ok(joined.into());
    }
    if let Some(join_token) = join_token {
        let server = args.server.as_deref().context("joining needs --server")?;
        let node_name = node_name(&args.node)?;
        let joined = reddwarf::join::join(server, join_token, &node_name, &args.data_dir).await?;
        tracing::info!(%server, node = %node_name, "joined: node certificate stored");
        return Ok(joined.into());
    }
    Ok(Credentials::load(
        args.server.as_deref(),
        token.as_deref(),
        args.ca_file.as_deref(),
        args.kubeconfig.as_deref(),
    )?)
}

async fn run_agent(args: AgentArgs) -> anyhow::Result<()> {
    let credentials = match agent_credentials(&args).await {
        Ok(credentials) => credentials,
        Err(error) => {
            // A refused join or missing credentials is a configuration problem: under SMF
            // the service goes to maintenance rather than restarting in a loop.
            eprintln!("error: {error:#}");
            std::process::exit(EXIT_CONFIG_ERROR);
        }
    };
    let clock = Clock::system();
    let directory = ActorDirectory::new(clock.clone());
    let handles = start_agent(args.node, credentials, args.data_dir, clock, directory).await?;
    for handle in &handles {
        tracing::info!(kubelet = %handle.kubelet_address, node = %handle.context.settings.node_name, "node agent running");
    }
    tokio::signal::ctrl_c().await.context("waiting for a signal")?;
    tracing::info!("stopping");
    Ok(())
}

async fn token(args: TokenArgs) -> anyhow::Result<()> {
    let client = AdminClient::from_kubeconfig(&args.kubeconfig)?;
    match args.command {
        TokenCommand::Create { ttl, description } => {
            let random: [u8; 64] = rand::random();
            let token = client.create(ttl, &description, Clock::system().now(), &random).await?;
            println!("{token}");
        }
        TokenCommand::List => {
            println!("{:<8} {:<32} DESCRIPTION", "ID", "EXPIRES");
            for token in client.list().await? {
                println!("{:<8} {:<32} {}", token.id, token.expires.as_deref().unwrap_or("never"), token.description);
            }
        }
        TokenCommand::Revoke { id } => {
            client.revoke(&id).await?;
            println!("revoked");
        }
    }
    Ok(())
}

/// The exit status SMF reads as a configuration error (`SMF_EXIT_ERR_CONFIG`): the
/// service goes to maintenance instead of being restarted in a loop.
const EXIT_CONFIG_ERROR: i32 = 96;

fn main() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Under SMF (svc.startd sets SMF_FMRI) a bad flag is a configuration error.
        Err(err) if std::env::var_os("SMF_FMRI").is_some() && err.use_stderr() => {
            let _ = err.print();
            std::process::exit(EXIT_CONFIG_ERROR);
        }
        Err(err) => err.exit(),
    };
    init_logging(cli.log_format);
    rustls::crypto::ring::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("another rustls crypto provider is already installed"))?;
    actix_web::rt::System::new().block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Agent(args) => run_agent(args).await,
            Command::Token(args) => token(args).await,
        }
    })
}
