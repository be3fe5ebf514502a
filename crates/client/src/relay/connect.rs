//! The relay and channel for the commands other than `listen` (`events`, `show`, `replay`,
//! `trigger`), picked as `listen` picks them: `--relay` or the embedded relay on
//! `127.0.0.1:PORT` (the one a running `listen` serves, else started here on the same
//! store), without either the relay `listen` last ran with (`LastRelay`); and the channel
//! from [`choose`] (without asking the relay whether a saved one still exists). Unlike
//! `listen`, these fail at once when the relay cannot be reached: a one-shot command should
//! not hang.

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{RelayChoice, RelaySelection, UsageError};
use crate::local::paths::Dirs;
use crate::local::saved_relay::{LastRelay, LoginFile};
use crate::local::state::{ChannelBook, LastTarget, SavedChannel};
use crate::relay::api::{RelayApi, check_relay};
use crate::relay::channel_choice::{ChoiceError, IfNoChannel, Policy, choose};
use crate::relay::embedded::RelayHandle;
use hookrelay_http::{HttpClient, install_crypto_provider};

/// An open relay (stopped with [`Connection::close`]) and the channel to use on it.
pub(crate) struct Connection {
    /// The relay; embedded ones run until `close`.
    pub relay: RelayHandle,
    /// The channel and its token.
    pub channel: SavedChannel,
    /// The relay's HTTP API.
    pub api: RelayApi,
    /// The HTTP client, for further requests (forwarding replays, posting triggers).
    pub client: HttpClient,
}

/// Opens the relay and picks the channel.
pub(crate) async fn connect(
    selection: &RelaySelection,
    dirs: &Dirs,
    if_none: IfNoChannel,
    cancel: CancellationToken,
) -> anyhow::Result<Connection> {
    install_crypto_provider();
    let client = hookrelay_http::client();
    let login = LoginFile::new(dirs).load()?;
    let relay = match LastRelay::new(dirs).or_last(selection.relay.as_ref(), login.as_ref())? {
        RelayChoice::Remote(url) => {
            check_relay(&url).await?;
            RelayHandle::remote(url)
        }
        RelayChoice::Embedded { port } => {
            RelayHandle::embedded(port, dirs, &client, cancel).await?.0
        }
    };
    let admin_token = selection.admin_token.clone().or_else(|| {
        login.filter(|login| login.relay == relay.url).and_then(|login| login.admin_token)
    });
    let api = RelayApi::new(client.clone(), relay.url.clone()).with_admin_token(admin_token);
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
    let book = ChannelBook::new(dirs);
    let policy = Policy { check_saved: false, if_none };
    match choose(api, &relay.url, selection.channel.clone(), &book, policy, None).await {
        Ok(channel) => Ok(channel),
        Err(ChoiceError::NoneSaved) => anyhow::bail!(
            "no channel is saved for the relay at {}: run `hookrelay listen` first, \
             or pass --channel and --token",
            relay.url
        ),
        Err(ChoiceError::Api(err)) => {
            Err(anyhow::Error::new(err).context("could not create a channel"))
        }
        Err(ChoiceError::Local(err)) => Err(err),
        Err(err @ ChoiceError::UnknownGiven { .. }) => Err(err.into()),
    }
}

impl Connection {
    /// The local app to send to: `given` (`-f`), else where `listen` last forwarded this
    /// channel, else a usage error saying what to pass.
    pub(crate) fn forward_target(&self, given: Option<&Url>, dirs: &Dirs) -> anyhow::Result<Url> {
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
    pub(crate) async fn close(self) -> anyhow::Result<()> {
        self.relay.stop().await
    }
}
