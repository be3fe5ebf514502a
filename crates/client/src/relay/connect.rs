//! The relay and channel for the commands other than `listen` (`events`, `show`, `replay`,
//! `trigger`), picked exactly as `listen` picks them: `--relay` or the embedded relay on
//! `127.0.0.1:PORT` (the one a running `listen` serves, else started here on the same store),
//! and `--channel/--token` or the channel saved for that relay. Unlike `listen`, these fail
//! at once when the relay cannot be reached: a one-shot command should not hang.

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{RelayChoice, RelaySelection, UsageError};
use crate::http::{HttpClient, install_crypto_provider};
use crate::local::paths::Dirs;
use crate::local::state::{ChannelBook, LastTarget, SavedChannel};
use crate::relay::api::{RelayApi, relay_url};
use crate::relay::embedded::RelayHandle;

/// An open relay (stopped with [`Connection::close`]) and the channel to use on it.
pub struct Connection {
    /// The relay; embedded ones run until `close`.
    pub relay: RelayHandle,
    /// The channel and its token.
    pub channel: SavedChannel,
    /// The relay's HTTP API.
    pub api: RelayApi,
    /// The HTTP client, for further requests (forwarding replays, posting triggers).
    pub client: HttpClient,
}

/// What to do when no channel is given or saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfNoChannel {
    /// Fail with a hint (reading history of a channel that never existed is a mistake).
    Fail,
    /// Create one and save it, as `listen` does.
    Create,
}

/// Opens the relay and picks the channel.
pub async fn connect(
    selection: &RelaySelection,
    dirs: &Dirs,
    if_none: IfNoChannel,
    cancel: CancellationToken,
) -> anyhow::Result<Connection> {
    install_crypto_provider();
    let client = crate::http::client();
    let relay = match &selection.relay {
        RelayChoice::Remote(url) => RelayHandle::remote(url.clone()),
        RelayChoice::Embedded { port } => {
            RelayHandle::embedded(*port, dirs, &client, cancel).await?.0
        }
    };
    let api = RelayApi::new(client.clone(), relay.url.clone());
    let channel = match pick_channel(selection, dirs, &relay, &api, if_none).await {
        Ok(channel) => channel,
        Err(err) => {
            relay.stop().await.ok();
            return Err(err);
        }
    };
    Ok(Connection { relay, channel, api, client })
}

async fn pick_channel(
    selection: &RelaySelection,
    dirs: &Dirs,
    relay: &RelayHandle,
    api: &RelayApi,
    if_none: IfNoChannel,
) -> anyhow::Result<SavedChannel> {
    if let Some(creds) = selection.channel.clone() {
        let ingest_url = relay_url(&relay.url, &["h", &creds.channel]).to_string();
        return Ok(SavedChannel { channel: creds.channel, token: creds.token, ingest_url });
    }
    let book = ChannelBook::new(dirs);
    if let Some(saved) = book.get(&relay.url)? {
        return Ok(saved);
    }
    match if_none {
        IfNoChannel::Fail => anyhow::bail!(
            "no channel is saved for the relay at {}: run `hookrelay listen` first, \
             or pass --channel and --token",
            relay.url
        ),
        IfNoChannel::Create => {
            let created = api.create_channel().await.context("could not create a channel")?;
            let channel = SavedChannel {
                channel: created.channel,
                token: created.token,
                ingest_url: created.ingest_url,
            };
            book.put(&relay.url, &channel)?;
            Ok(channel)
        }
    }
}

impl Connection {
    /// The local app to send to: `given` (`-f`), else where `listen` last forwarded this
    /// channel, else a usage error saying what to pass.
    pub fn forward_target(&self, given: Option<&Url>, dirs: &Dirs) -> anyhow::Result<Url> {
        if let Some(url) = given {
            return Ok(url.clone());
        }
        LastTarget::new(dirs, &self.relay.url, &self.channel.channel).load()?.ok_or_else(|| {
            UsageError(
                "no --forward-to given, and `hookrelay listen` has not forwarded this channel \
                 anywhere yet: pass -f URL (e.g. -f http://localhost:3000/webhooks)"
                    .into(),
            )
            .into()
        })
    }

    /// Stops the embedded relay if this command started it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.relay.stop().await
    }
}
