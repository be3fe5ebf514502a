//! The relay `listen` talks to: a remote one as given, or the embedded default started
//! in-process on `127.0.0.1:PORT` with its SQLite store in the data directory. If that port
//! is already taken by a hookrelay relay (another `listen`, a `hookrelayd`), it is used, and
//! when that relay goes away this `listen` takes the port over ([`Takeover`]): it starts its
//! own embedded relay there on its own store, so the ingest URL keeps working.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use url::Url;

use crate::config::RelayChoice;
use crate::local::paths::Dirs;
use crate::local::saved_relay::LastRelay;
use crate::relay::api::RelayApi;
use hookrelay_http::HttpClient;

/// How long the embedded relay gets to close its sessions on shutdown.
const RELAY_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// An embedded relay served by this process: its task and what stops it.
struct Running {
    task: JoinHandle<anyhow::Result<()>>,
    stop: CancellationToken,
}

/// Where this process's embedded relay is kept once it runs: set at start, or by a
/// [`Takeover`] later; [`RelayHandle::stop`] stops whichever it holds.
type Slot = Arc<Mutex<Option<Running>>>;

/// The relay in use, and the embedded one's task when we started it.
pub(crate) struct RelayHandle {
    /// Base URL for the API and the stream.
    pub url: Url,
    /// For the header block.
    pub description: String,
    running: Slot,
    /// Set when the embedded relay on our port belonged to another process.
    takeover: Option<Takeover>,
}

/// The base URL of the embedded relay on `port` (the key its saved channel is kept under).
pub(crate) fn embedded_url(port: u16) -> Url {
    format!("http://127.0.0.1:{port}").parse().expect("valid URL")
}

impl RelayHandle {
    /// A relay we do not own.
    pub(crate) fn remote(url: Url) -> Self {
        Self { description: url.to_string(), url, running: Slot::default(), takeover: None }
    }

    /// Starts the embedded relay on `127.0.0.1:port` (or finds one there, with a note to
    /// show). If it stops on its own, `on_exit` is cancelled so `listen` stops too.
    pub(crate) async fn embedded(
        port: u16,
        dirs: &Dirs,
        client: &HttpClient,
        on_exit: CancellationToken,
    ) -> anyhow::Result<(Self, Option<String>)> {
        let url = embedded_url(port);
        let takeover = Takeover {
            port,
            url: url.clone(),
            data_dir: dirs.data_dir.clone(),
            client: client.clone(),
            on_exit,
            running: Slot::default(),
        };
        let listener = match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => listener,
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
                if RelayApi::new(client.clone(), url.clone()).is_hookrelay().await {
                    let note = format!(
                        "a hookrelay relay is already running on port {port} (another \
                         `hookrelay listen`, or a hookrelayd); using it. If it stops, this \
                         listen serves the port itself, with the store in {}",
                        dirs.data_dir.display()
                    );
                    let mut relay = Self::remote(url);
                    relay.running = takeover.running.clone();
                    relay.takeover = Some(takeover);
                    return Ok((relay, Some(note)));
                }
                anyhow::bail!(
                    "port {port} is in use by something that is not a hookrelay relay; \
                     pick another with --port, or point --relay at a relay"
                );
            }
            Err(err) => return Err(err).context(format!("could not listen on 127.0.0.1:{port}")),
        };
        // The store is opened before the relay serves: a store another process holds is this
        // command's error ("in use by the running hookrelay listen (pid N)"), not a relay
        // that resets every connection.
        if let Err(err) = takeover.serve_after_open(listener).await {
            let mut context = format!("could not start the embedded relay on 127.0.0.1:{port}");
            if let Ok(Some(RelayChoice::Embedded { port: last })) = LastRelay::new(dirs).load()
                && last != port
            {
                context.push_str(&format!(
                    " (the last `hookrelay listen` ran it on port {last}: add --port {last})"
                ));
            }
            return Err(err.context(context));
        }
        let description =
            format!("embedded, 127.0.0.1:{port}, store in {}", dirs.data_dir.display());
        Ok((Self { url, description, running: takeover.running, takeover: None }, None))
    }

    /// When this handle uses another process's embedded relay: what takes its port over
    /// once that process has gone.
    pub(crate) fn takeover(&self) -> Option<Takeover> {
        self.takeover.clone()
    }

    /// Stops the embedded relay (if ours, from the start or taken over) and returns how it
    /// ended.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        stop(&self.running).await
    }
}

/// Stops the relay in `slot`, if any, and returns how it ended.
async fn stop(slot: &Slot) -> anyhow::Result<()> {
    let running = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    let Some(Running { task, stop }) = running else { return Ok(()) };
    stop.cancel();
    match tokio::time::timeout(RELAY_STOP_TIMEOUT, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(anyhow::anyhow!("the embedded relay panicked: {join}")),
        Err(_) => {
            tracing::warn!("the embedded relay did not stop within {RELAY_STOP_TIMEOUT:?}");
            Ok(())
        }
    }
}

/// The embedded relay's settings (port, store) and the slot its task is kept in.
/// [`RelayHandle::embedded`] starts it with them when the port is free; a `listen` that found
/// another process's relay there keeps them to take its place: once the stream is lost,
/// [`Takeover::try_start`] binds the port and opens this process's store, and the relay
/// then runs here until `listen` stops ([`RelayHandle::stop`]).
#[derive(Clone)]
pub(crate) struct Takeover {
    port: u16,
    url: Url,
    data_dir: PathBuf,
    client: HttpClient,
    on_exit: CancellationToken,
    running: Slot,
}

/// What [`Takeover::try_start`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TakeoverOutcome {
    /// This process now serves the port, with the channel in its store.
    Started,
    /// The port is served again, or not free yet, or the store is still locked by the
    /// process that is going: try again at the next reconnect.
    NotYet,
    /// This process's store does not have the channel: the relay on the port was not the
    /// embedded relay of this data directory (a `hookrelayd` elsewhere); wait for it instead.
    NotOurs,
}

impl TakeoverOutcome {
    /// What to tell the user, once the outcome is final (`None` for [`Self::NotYet`]).
    pub(crate) fn note(&self, relay: &Url, channel: &str) -> Option<String> {
        match self {
            Self::NotYet => None,
            Self::Started => Some(format!(
                "the relay on {relay} has stopped; this listen serves it now, with the same \
                 ingest URL"
            )),
            Self::NotOurs => Some(format!(
                "the relay on {relay} has stopped, and this listen's store does not have \
                 channel {channel}: waiting for that relay to come back"
            )),
        }
    }
}

impl Takeover {
    /// Serves the port with an embedded relay on this process's store, if the port and the
    /// store are free and the store has `channel`.
    pub(crate) async fn try_start(&self, channel: &str, token: &str) -> TakeoverOutcome {
        let Ok(listener) = TcpListener::bind(("127.0.0.1", self.port)).await else {
            return TakeoverOutcome::NotYet;
        };
        if let Err(err) = self.serve_after_open(listener).await {
            tracing::debug!("cannot take over port {} yet: {err:#}", self.port);
            return TakeoverOutcome::NotYet;
        }
        let api = RelayApi::new(self.client.clone(), self.url.clone());
        match api.channel_exists(channel, token).await {
            Ok(true) => TakeoverOutcome::Started,
            found => {
                tracing::debug!(?found, "channel {channel} is not in this store");
                if let Err(err) = stop(&self.running).await {
                    tracing::warn!("the embedded relay stopped with an error: {err:#}");
                }
                TakeoverOutcome::NotOurs
            }
        }
    }

    /// Opens the store (so a store still locked by another process fails here, and the
    /// port is let go at once), then serves the embedded relay on `listener` in a task of
    /// its own.
    async fn serve_after_open(&self, listener: TcpListener) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let relay =
            hookrelay_relay::Relay::open(self.config(), self.url.clone(), stop.clone()).await?;
        self.spawn(stop, move |_| relay.serve(listener));
        Ok(())
    }

    fn config(&self) -> hookrelay_relay::Config {
        hookrelay_relay::Config {
            public_url: Some(self.url.clone()),
            data_dir: self.data_dir.clone(),
            store: hookrelay_relay::StoreKind::Sqlite,
            ..hookrelay_relay::Config::default()
        }
    }

    /// Runs `serve` as the relay's task, kept in the slot; if it ends without being asked
    /// to, `on_exit` is cancelled so `listen` stops too.
    fn spawn<F, Fut>(&self, stop: CancellationToken, serve: F)
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let on_exit = self.on_exit.clone();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let result = serve(stop.clone()).await;
                if !stop.is_cancelled() {
                    on_exit.cancel();
                }
                result.context("the embedded relay stopped")
            }
            .instrument(tracing::info_span!("embedded_relay", port = self.port))
        });
        let mut running = self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *running = Some(Running { task, stop });
    }
}
