//! Which channel `listen` streams: the one given with `--channel/--token`, else the one
//! saved for this relay (checked to still exist), else a new one that is then saved, so the
//! ingest URL registered with a provider stays the same across runs. While the relay cannot
//! be reached this keeps retrying, visibly.

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::backoff::RECONNECT;
use crate::config::ChannelCreds;
use crate::local::paths::Dirs;
use crate::local::state::{ChannelBook, SavedChannel};
use crate::output::queue::{Ui, UiEvent};
use crate::relay::api::{ApiError, RelayApi, relay_url};

/// The channel to stream, or `None` when cancelled first.
pub async fn resolve(
    api: &RelayApi,
    relay: &Url,
    given: Option<ChannelCreds>,
    dirs: &Dirs,
    ui: &Ui,
    cancel: &CancellationToken,
) -> anyhow::Result<Option<SavedChannel>> {
    if let Some(ChannelCreds { channel, token }) = given {
        let ingest_url = relay_url(relay, &["h", &channel]).to_string();
        return Ok(Some(SavedChannel { channel, token, ingest_url }));
    }
    let book = ChannelBook::new(dirs);
    let mut backoff = RECONNECT;
    loop {
        match saved_or_new(api, relay, &book, ui).await {
            Ok(channel) => return Ok(Some(channel)),
            Err(err @ ApiError::Unreachable { .. }) => {
                let delay = backoff.next_delay();
                let attempt = backoff.failures();
                let reason = err.to_string();
                ui.send(UiEvent::Reconnecting { reason, delay, attempt }).await;
                tokio::select! {
                    () = cancel.cancelled() => return Ok(None),
                    () = tokio::time::sleep(delay) => {}
                }
            }
            Err(err) => return Err(anyhow::Error::new(err).context("could not set up a channel")),
        }
    }
}

async fn saved_or_new(
    api: &RelayApi,
    relay: &Url,
    book: &ChannelBook,
    ui: &Ui,
) -> Result<SavedChannel, ApiError> {
    let saved = book.get(relay).map_err(local)?;
    if let Some(saved) = saved {
        if api.channel_exists(&saved.channel, &saved.token).await? {
            return Ok(saved);
        }
        let note = format!(
            "the relay no longer knows channel {}; creating a new one (update the URL at your provider)",
            saved.channel
        );
        ui.send(UiEvent::Notice(note)).await;
    }
    let created = api.create_channel().await?;
    let channel = SavedChannel {
        channel: created.channel,
        token: created.token,
        ingest_url: created.ingest_url,
    };
    book.put(relay, &channel).map_err(local)?;
    ui.send(UiEvent::Notice(format!("created channel {}", channel.channel))).await;
    Ok(channel)
}

/// A local file problem, reported with the same type so the retry loop stays simple; it is
/// not `Unreachable`, so it is not retried.
fn local(err: anyhow::Error) -> ApiError {
    ApiError::Status { status: 0, message: format!("{err:#}") }
}
