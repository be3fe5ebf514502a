//! `hookrelayd`: parses flags (DESIGN §4), sets up logging, runs the relay until SIGINT or
//! SIGTERM. Exit codes: 0 after a clean shutdown, 1 on a runtime failure, 2 on a usage error.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use hookrelay_flags::{parse_duration, parse_memory_size, parse_size};
use hookrelay_relay::{
    Config, DEFAULT_MAX_BODY_MEMORY, Guard, Relay, Retention, StoreKind, TlsFiles,
};
use tokio_util::sync::CancellationToken;
use url::Url;

/// Accepts webhooks at /h/{channel}/..., stores them durably, and streams them to
/// `hookrelay listen` clients over websockets.
#[derive(Debug, Parser)]
#[command(name = "hookrelayd", version = hookrelay_flags::VERSION, after_help = ENVIRONMENT)]
struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    listen: String,
    /// Public base URL used in the ingest URLs handed out [default: http://{listen address}]
    #[arg(long, value_name = "URL")]
    public_url: Option<Url>,
    /// Directory of the SQLite store [default: the user's data directory + /hookrelay, e.g.
    /// ~/.local/share/hookrelay, or ./hookrelay-data when there is none]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Event store: sqlite (durable, in --data-dir), memory (lost on exit), or
    /// redis://HOST:PORT[/DB] (also rediss:// for TLS), or a Redis Cluster as
    /// redis+cluster://HOST:PORT[,HOST:PORT...] (also rediss+cluster://): shared by several
    /// relays. Redis must
    /// keep every acked write on disk (appendonly yes with appendfsync always, or Redis 7.2+
    /// where the relay waits with WAITAOF); the relay checks at start and refuses otherwise.
    #[arg(long, value_name = "STORE", default_value = "sqlite", value_parser = parse_store)]
    store: StoreKind,
    /// Start on a Redis whose persistence settings can lose an acked event (no AOF, or no
    /// fsync per write), or that does not let the relay read them (CONFIG GET).
    #[arg(long)]
    redis_unsafe: bool,
    /// Largest accepted webhook body (e.g. 25MiB, 512KiB, 2MB, or bytes); larger ones get 413.
    #[arg(long, value_name = "SIZE", default_value = "25MiB", value_parser = parse_memory_size)]
    max_body: usize,
    /// Require `Authorization: Bearer T` to create channels. On a non-loopback --listen
    /// without it, the relay makes one and keeps it in DATA_DIR/admin-token (0600). Relays
    /// sharing one Redis need the same token: give it to each.
    #[arg(long, value_name = "T", env = "HOOKRELAY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Let anyone who can reach the relay create channels, even on a public address (no
    /// admin token). Loopback relays are open anyway.
    #[arg(long, conflicts_with = "admin_token")]
    open: bool,
    /// Flush every commit to disk (survives power loss, not only a crash of the relay).
    #[arg(long)]
    fsync: bool,
    /// Most events kept per channel: past it the oldest events a client has finished are
    /// removed. Undelivered events always stay (bounded by --max-channel-bytes).
    #[arg(
        long,
        value_name = "N",
        default_value_t = Retention::default().max_events,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    retention_events: u64,
    /// Oldest event kept, e.g. 2w, 7d, 12h, 30m. Undelivered events this removes are
    /// reported to clients as an expired gap, never skipped silently.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    retention_age: Duration,
    /// Free disk space the store must keep (1GiB, 500MB...): below it every ingest answers
    /// 507 disk_full and /healthz 503, before the disk fills up (0: no check).
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    min_free_disk: u64,
    /// Most body bytes stored per channel. Finished events make room for new ones; when
    /// undelivered events fill it, ingest answers 507 channel_full (providers retry later).
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    max_channel_bytes: u64,
    /// Serve HTTPS and WSS with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// The environment variables `hookrelayd` reads, for `--help`.
const ENVIRONMENT: &str = "\
Environment:
  HOOKRELAY_ADMIN_TOKEN  the admin token (--admin-token)
  RUST_LOG               log filter for stderr, e.g. debug or hookrelay_relay=trace [default: info]
  NO_COLOR               no colors in the log when set

Examples:
  hookrelayd                                            local relay on 127.0.0.1:8787
  hookrelayd --listen 0.0.0.0:8787 --public-url https://relay.example.com
  hookrelayd --retention-age 2w --max-body 5MiB --max-channel-bytes 512MiB
  hookrelayd --store redis://10.0.0.5:6379/0 --listen 0.0.0.0:8787   one of several relays
  hookrelayd --store redis+cluster://10.0.0.5:7000,10.0.0.6:7000       on a Redis Cluster";

fn parse_store(text: &str) -> Result<StoreKind, String> {
    match text {
        "sqlite" => Ok(StoreKind::Sqlite),
        "memory" => Ok(StoreKind::Memory),
        url if url.starts_with("redis://") || url.starts_with("rediss://") => {
            let parsed =
                Url::parse(url).map_err(|err| format!("invalid redis url {url:?}: {err}"))?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(format!("invalid redis url {url:?}: use redis://HOST:PORT[/DB]"));
            }
            Ok(StoreKind::Redis { url: url.to_owned(), accept_unsafe: false })
        }
        url if url.starts_with("redis+cluster://") || url.starts_with("rediss+cluster://") => {
            let nodes = url.split_once("://").map_or("", |(_, nodes)| nodes);
            let valid = !nodes.is_empty()
                && nodes.split(',').all(|node| {
                    node.rsplit_once(':')
                        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
                });
            if !valid {
                return Err(format!(
                    "invalid redis url {url:?}: use redis+cluster://HOST:PORT[,HOST:PORT...]"
                ));
            }
            Ok(StoreKind::Redis { url: url.to_owned(), accept_unsafe: false })
        }
        other => {
            Err(format!("unknown store {other:?}: use sqlite, memory or redis://HOST:PORT[/DB]"))
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log = hookrelay_relay::init_stderr_log(filter, color);
    let result = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(args)),
        Err(err) => Err(anyhow::Error::new(err).context("could not start the async runtime")),
    };
    // The log's last lines first, then the verdict; neither may panic on a closed stderr.
    drop(log);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            hookrelay_relay::stderr_line(&format!("error: {err:#}"));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    let address = listener.local_addr().context("could not read the listen address")?;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    let local_url = hookrelay_relay::local_url(address, tls.is_some())?;
    let data_dir = args.data_dir.unwrap_or_else(hookrelay_relay::default_data_dir);
    let guard = Guard::decide(args.admin_token, args.open, address, &data_dir)?;
    let store = match args.store {
        StoreKind::Redis { url, .. } => StoreKind::Redis { url, accept_unsafe: args.redis_unsafe },
        other => {
            anyhow::ensure!(!args.redis_unsafe, "--redis-unsafe is only for --store redis://...");
            other
        }
    };
    let shared = matches!(store, StoreKind::Redis { .. });
    let config = Config {
        public_url: args.public_url.clone(),
        data_dir,
        store,
        max_body: args.max_body,
        admin_token: guard.token(),
        fsync: args.fsync,
        retention: Retention {
            max_events: args.retention_events,
            max_age: args.retention_age,
            max_channel_bytes: args.max_channel_bytes,
        },
        tls,
        min_free_disk: args.min_free_disk,
        // Room for ten bodies of the default size, and at least four of a larger --max-body.
        max_body_memory: DEFAULT_MAX_BODY_MEMORY.max(args.max_body.saturating_mul(4)),
        ..Config::default()
    };
    let shutdown = CancellationToken::new();
    let base_url = hookrelay_relay::base_url(&config, address)?;
    let relay = Relay::open(config, base_url, shutdown.clone()).await?;
    // Signals are caught before the line that says the relay is ready, so a SIGTERM sent
    // right after it is a clean shutdown.
    let _signals = hookrelay_relay::spawn_signal_watch(shutdown);
    // The one line tests and scripts parse; printed once the store is open. Its reader may
    // be gone (`| head -1`): that is no reason to stop serving.
    let url = local_url.as_str().trim_end_matches('/').to_owned();
    hookrelay_relay::stdout_line(&format!("hookrelayd listening on {url}"));
    // Where channel creation stands (a warning with --open); a closed stderr is no reason to
    // stop.
    hookrelay_relay::stderr_line(&format!("hookrelayd: {}", guard.describe()));
    if shared && matches!(guard, Guard::File { .. }) {
        hookrelay_relay::stderr_line(
            "hookrelayd: warning: this relay's admin token is its own, in its data directory; \
             every relay on one Redis needs the same one: give it with HOOKRELAY_ADMIN_TOKEN",
        );
    }
    relay.serve(listener).await
}
