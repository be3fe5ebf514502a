//! The relay `listen` talks to: a remote one as given, or the embedded default started
//! in-process on `127.0.0.1:PORT` with its SQLite store in the data directory. If that port
//! is already taken by a hookrelay relay (another `listen`, a `hookrelayd`), it is used.

use std::time::Duration;

use anyhow::Context as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use url::Url;

use crate::config::RelayChoice;
use crate::local::paths::Dirs;
use crate::local::state::LastRelay;
use crate::relay::api::RelayApi;
use hookrelay_http::HttpClient;

/// How long the embedded relay gets to close its sessions on shutdown.
const RELAY_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The relay in use, and the embedded one's task when we started it.
pub(crate) struct RelayHandle {
    /// Base URL for the API and the stream.
    pub url: Url,
    /// For the header block.
    pub description: String,
    running: Option<(JoinHandle<anyhow::Result<()>>, CancellationToken)>,
}

/// The base URL of the embedded relay on `port` (the key its saved channel is kept under).
pub(crate) fn embedded_url(port: u16) -> Url {
    format!("http://127.0.0.1:{port}").parse().expect("valid URL")
}

impl RelayHandle {
    /// A relay we do not own.
    pub(crate) fn remote(url: Url) -> Self {
        Self { description: url.to_string(), url, running: None }
    }

    /// Starts the embedded relay on `127.0.0.1:port` (or finds one there). If it stops on
    /// its own, `on_exit` is cancelled so `listen` stops too.
    pub(crate) async fn embedded(
        port: u16,
        dirs: &Dirs,
        client: &HttpClient,
        on_exit: CancellationToken,
    ) -> anyhow::Result<(Self, Option<String>)> {
        let url = embedded_url(port);
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => listener,
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
                if RelayApi::new(client.clone(), url.clone()).is_hookrelay().await {
                    let note =
                        format!("a hookrelay relay is already running on port {port}; using it");
                    return Ok((Self::remote(url), Some(note)));
                }
                anyhow::bail!(
                    "port {port} is in use by something that is not a hookrelay relay; \
                     pick another with --port, or point --relay at a relay"
                );
            }
            Err(err) => return Err(err).context(format!("could not listen on 127.0.0.1:{port}")),
        };
        let config = hookrelay_relay::Config {
            public_url: Some(url.clone()),
            data_dir: dirs.data_dir.clone(),
            store: hookrelay_relay::StoreKind::Sqlite,
            ..hookrelay_relay::Config::default()
        };
        let stop = CancellationToken::new();
        // Opened here, not in the task: a store another process holds is this command's
        // error ("in use by the running hookrelay listen (pid N)"), not a relay that resets
        // every connection.
        let relay = match hookrelay_relay::Relay::open(config, url.clone(), stop.clone()).await {
            Ok(relay) => relay,
            Err(err) => {
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
        };
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let result = relay.serve(listener).await;
                if !stop.is_cancelled() {
                    on_exit.cancel();
                }
                result.context("the embedded relay stopped")
            }
            .instrument(tracing::info_span!("embedded_relay", port))
        });
        let description =
            format!("embedded, 127.0.0.1:{port}, store in {}", dirs.data_dir.display());
        Ok((Self { url, description, running: Some((task, stop)) }, None))
    }

    /// Stops the embedded relay (if ours) and returns how it ended.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let Some((task, stop)) = self.running else { return Ok(()) };
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
}
