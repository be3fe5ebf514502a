//! Which channel a command uses, chosen the same way for all of them ([`choose`]): the one
//! given with `--channel/--token`, else the one saved for this relay, else a new one that
//! is then saved, so the ingest URL registered with a provider stays the same across runs.
//! `listen` also checks that a saved channel still exists (and replaces it when the relay
//! has forgotten it) and, while the relay cannot be reached, keeps retrying, visibly
//! ([`resolve`]); the one-shot commands fail at once (`relay::connect`).

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::backoff::RECONNECT;
use crate::config::ChannelCreds;
use crate::local::paths::Dirs;
use crate::local::state::{ChannelBook, SavedChannel};
use crate::output::queue::{Ui, UiEvent};
use crate::relay::api::{ApiError, RelayApi, relay_url};

/// What to do when no channel is given or saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfNoChannel {
    /// Fail with a hint (reading history of a channel that never existed is a mistake).
    Fail,
    /// Create one and save it, as `listen` does.
    Create,
}

/// How a command wants its channel chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Ask the relay whether a saved channel still exists, and create a new one when it
    /// does not (`listen`, which registers the ingest URL with providers).
    pub check_saved: bool,
    /// When nothing is given or saved.
    pub if_none: IfNoChannel,
}

/// Why no channel was chosen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ChoiceError {
    /// The relay answered with an error, or could not be reached.
    #[error(transparent)]
    Api(ApiError),
    /// The saved channels could not be read or written.
    #[error(transparent)]
    Local(anyhow::Error),
    /// Nothing given or saved, and [`IfNoChannel::Fail`].
    #[error("no channel is given or saved")]
    NoneSaved,
    /// The channel given with `--channel`/`--token` is not on the relay, or its token is
    /// wrong (checked only where `check_saved` asks).
    #[error(
        "channel {channel} is not on the relay at {relay}, or --token does not read it: check \
         --channel and --token (without them, listen uses the channel saved for this relay, \
         or creates one)"
    )]
    UnknownGiven {
        /// The channel given.
        channel: String,
        /// The relay.
        relay: Url,
    },
}

/// Given → saved → created: the channel to use on the relay at `relay`. A channel created
/// (or replaced) is saved in `book`; `ui`, when given, hears about it.
pub(crate) async fn choose(
    api: &RelayApi,
    relay: &Url,
    given: Option<ChannelCreds>,
    book: &ChannelBook,
    policy: Policy,
    ui: Option<&Ui>,
) -> Result<SavedChannel, ChoiceError> {
    if let Some(ChannelCreds { channel, token }) = given {
        // Checked before anything says "paste into your provider".
        if policy.check_saved
            && !api.channel_exists(&channel, &token).await.map_err(ChoiceError::Api)?
        {
            return Err(ChoiceError::UnknownGiven { channel, relay: relay.clone() });
        }
        let ingest_url = relay_url(relay, &["h", &channel]).to_string();
        return Ok(SavedChannel { channel, token, ingest_url });
    }
    match book.get(relay).map_err(ChoiceError::Local)? {
        Some(saved) => {
            if !policy.check_saved
                || api
                    .channel_exists(&saved.channel, &saved.token)
                    .await
                    .map_err(ChoiceError::Api)?
            {
                return Ok(saved);
            }
            let note = format!(
                "the relay no longer knows channel {}; creating a new one (update the URL at your provider)",
                saved.channel
            );
            notify(ui, note).await;
        }
        None if policy.if_none == IfNoChannel::Fail => return Err(ChoiceError::NoneSaved),
        None => {}
    }
    let channel = SavedChannel::from(api.create_channel().await.map_err(ChoiceError::Api)?);
    book.put(relay, &channel).map_err(ChoiceError::Local)?;
    notify(ui, format!("created channel {}", channel.channel)).await;
    Ok(channel)
}

async fn notify(ui: Option<&Ui>, note: String) {
    if let Some(ui) = ui {
        ui.send(UiEvent::Notice(note)).await;
    }
}

/// `listen`'s choice: [`choose`] with the saved channel checked, retried with backoff while
/// the relay cannot be reached. `None` when cancelled first.
pub(crate) async fn resolve(
    api: &RelayApi,
    relay: &Url,
    given: Option<ChannelCreds>,
    dirs: &Dirs,
    ui: &Ui,
    cancel: &CancellationToken,
) -> anyhow::Result<Option<SavedChannel>> {
    let book = ChannelBook::new(dirs);
    let policy = Policy { check_saved: true, if_none: IfNoChannel::Create };
    let mut backoff = RECONNECT;
    loop {
        let unreachable = match choose(api, relay, given.clone(), &book, policy, Some(ui)).await {
            Ok(channel) => return Ok(Some(channel)),
            Err(ChoiceError::Api(err @ ApiError::Unreachable { .. })) => err,
            Err(err) => return Err(anyhow::Error::new(err).context("could not set up a channel")),
        };
        let delay = backoff.next_delay();
        let attempt = backoff.failures();
        let reason = unreachable.to_string();
        ui.send(UiEvent::Reconnecting { reason, delay, attempt }).await;
        tokio::select! {
            () = cancel.cancelled() => return Ok(None),
            () = tokio::time::sleep(delay) => {}
        }
    }
}
