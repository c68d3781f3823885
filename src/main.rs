//! The `reddwarf` command line: parses flags and wires the pieces together. It makes no
//! decisions of its own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use reddwarf::actors::directory::ActorDirectory;
use reddwarf::actors::events::{Recorder, StoreEvents};
use reddwarf::actors::namespaces::{NamespaceController, NamespacedCollection};
use reddwarf::actors::node_lifecycle::{NodeHealthSettings, NodeLifecycle};
use reddwarf::actors::scheduler::SchedulerActor;
use reddwarf::actors::supervision::Watchdog;
use reddwarf::api::inflight::InflightLimits;
use reddwarf::api::join::JoinAuthority;
use reddwarf::api::registry::{self, RegistryAttrs};
use reddwarf::api::tls::{TlsSource, prepare};
use reddwarf::api::{ApiSettings, ApiState, auth, bootstrap, kubeconfig, server};
use reddwarf::clock::Clock;
use reddwarf::metrics::Metrics;
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
    /// Run the control plane: API server, store, scheduler and controllers.
    Serve(ServeArgs),
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
        .start();
    let settings = ApiSettings {
        inflight: InflightLimits {
            max_read: args.max_requests_inflight,
            max_mutating: args.max_mutating_requests_inflight,
            reserved_heartbeat: args.reserved_heartbeat_requests_inflight,
        },
        ..ApiSettings::default()
    };
    let metrics = Metrics::new();
    let join = Some(Arc::new(JoinAuthority { server_ca_pem: tls.ca_pem.clone(), client_ca: tls.client_ca.clone() }));
    let state = ApiState { store: store.clone(), clock, settings, shutdown, directory, metrics, join };
    let credentials = server::Credentials { authenticator, client_verifier: tls.client_verifier };
    server::run(bound, state, credentials, tls.server_config, stopping).await.context("serving")?;
    store.close();
    tracing::info!("stopped cleanly");
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
            Command::Token(args) => token(args).await,
        }
    })
}
