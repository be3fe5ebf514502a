//! `hookrelay sandbox`: runs the provider emulator (`crates/sandbox`, DESIGN §6) until
//! Ctrl-C while `output::sandbox` prints, on stdout, a header saying where it listens, its
//! API key and how to register a URL, then one line per delivery attempt (or `--json`
//! records).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use hookrelay_sandbox::{Catalog, Mode, SandboxConfig, generate_api_key};
use hookrelay_signature::Secret;
use tokio::sync::mpsc;

use crate::commands::CommandEnv;
use crate::config::RelayChoice;
use crate::local::saved_relay::{LastRelay, LoginFile};
use crate::local::state::ChannelBook;
use crate::output::sandbox::{ReadyRecord, RegisterTarget, header, print_attempts};
use crate::output::stdout::write_stdout;
use crate::relay::api::relay_url;
use crate::relay::embedded::embedded_url;

/// Delivery attempts waiting to be printed. When the terminal (or a pipe) is this far
/// behind, further lines are dropped; `GET /v1/webhook_deliveries` still lists them.
pub(crate) const PRINT_QUEUE: usize = 256;
/// How long to wait, after the server stopped, for the last lines to be printed.
const PRINT_DRAIN: Duration = Duration::from_secs(1);

/// How `hookrelay sandbox` runs the emulator, as `cli` builds it from the flags.
#[derive(Debug)]
pub struct Config {
    /// Address the emulated API listens on (port 0: any free port, printed at start).
    pub listen: SocketAddr,

    /// sandbox: any triggerable event type can be tested; production: only `test`, as the
    /// provider's production environment does.
    pub mode: Mode,

    /// The key every request must send as `Authorization: Bearer KEY` (default: a new one,
    /// printed at start).
    pub api_key: Option<String>,

    /// A catalogue file (JSON or TOML) whose event types are added to the built-in ones or
    /// replace them. Repeatable; later files win.
    pub catalogs: Vec<PathBuf>,

    /// Sign deliveries with Standard Webhooks headers (webhook-id, webhook-timestamp,
    /// webhook-signature) using this secret. Off by default: the provider documents none.
    pub signing_secret: Option<Secret>,

    /// Waits before each retry of a failed delivery, e.g. 1s,2s,4s or 250ms,1m; `none` for
    /// no retries.
    pub retry_schedule: Vec<Duration>,

    /// How long one delivery attempt may take (e.g. 500ms, 10s, 1m).
    pub delivery_timeout: Duration,

    /// Print one JSON object per line on stdout: a `ready` record, then one per delivery
    /// attempt.
    pub json: bool,

    /// The relay whose saved channel the printed example registers (`--relay`, `--port`);
    /// `None`: the one `listen` last ran with.
    pub relay: Option<RelayChoice>,
}

/// Runs the emulator until `env.cancel` (Ctrl-C, SIGTERM).
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load_files(&config.catalogs)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await.with_context(|| {
        format!("could not listen on {} (pick another with --listen)", config.listen)
    })?;
    let addr = listener.local_addr().context("could not read the listening address")?;
    let (tx, rx) = mpsc::channel(PRINT_QUEUE);
    let emulator = SandboxConfig {
        mode: config.mode,
        api_key: config.api_key.unwrap_or_else(|| generate_api_key(config.mode)),
        catalog,
        retry_schedule: config.retry_schedule,
        delivery_timeout: config.delivery_timeout,
        signing_secret: config.signing_secret,
        observer: Some(tx),
    };
    let base = base_url(addr);
    if config.json {
        let ready = ReadyRecord {
            kind: "ready",
            url: &base,
            mode: emulator.mode.as_str(),
            api_key: &emulator.api_key,
            can_test: emulator.catalog.triggerable(emulator.mode),
            signing: emulator.signing_secret.is_some(),
        };
        write_stdout(
            format!("{}\n", serde_json::to_string(&ready).unwrap_or_default()).as_bytes(),
        )?;
    } else {
        let register = register_target(config.relay.as_ref(), env)?;
        write_stdout(header(&base, &emulator, &register).as_bytes())?;
    }
    let json = config.json;
    let offset = env.offset;
    let printer = tokio::task::spawn_blocking(move || print_attempts(rx, json, offset));
    let served = hookrelay_sandbox::serve(listener, emulator, env.cancel.clone()).await;
    // The server and its retry tasks are gone, so the queue closes and the printer ends.
    if tokio::time::timeout(PRINT_DRAIN, printer).await.is_err() {
        tracing::debug!("the delivery log printer did not finish in time");
    }
    served.map(|()| ExitCode::SUCCESS)
}

/// `http://ADDR`, with a wildcard address shown as loopback so the examples work as pasted.
fn base_url(addr: SocketAddr) -> String {
    let mut shown = addr;
    if addr.ip().is_unspecified() {
        shown.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{shown}")
}

/// The ingest URL of the channel `hookrelay listen` saved for the relay in use (`--relay`,
/// `--port`, else the one `listen` last ran with), so the printed example registers
/// exactly that; with none saved, that relay's `/h/CHANNEL`.
fn register_target(
    given: Option<&RelayChoice>,
    env: &CommandEnv,
) -> anyhow::Result<RegisterTarget> {
    let login = LoginFile::new(&env.dirs).load()?;
    let relay = match LastRelay::new(&env.dirs).or_last(given, login.as_ref())? {
        RelayChoice::Remote(url) => url,
        RelayChoice::Embedded { port } => embedded_url(port),
    };
    Ok(match ChannelBook::new(&env.dirs).get(&relay)? {
        Some(saved) => RegisterTarget::Saved(saved.ingest_url),
        None => RegisterTarget::Placeholder(relay_url(&relay, &["h", "CHANNEL"]).to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_are_shown_as_loopback() {
        assert_eq!(base_url("0.0.0.0:8788".parse().expect("addr")), "http://127.0.0.1:8788");
        assert_eq!(base_url("127.0.0.1:9".parse().expect("addr")), "http://127.0.0.1:9");
    }
}
