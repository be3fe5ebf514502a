//! What the history commands (`events`, `show`, `replay`) share: how an id the user typed is
//! looked up, and how history is paged through.

use anyhow::Context as _;
use hookrelay_proto::{EventDetail, EventSummary, Gap, MAX_PAGE, Page};

use crate::relay::api::ApiError;
use crate::relay::connect::Connection;

/// Fetches one event by id or unique id prefix (with or without `evt_`), turning the relay's
/// 404 and 409 into messages that say what to type instead.
pub(crate) async fn fetch_event(conn: &Connection, id: &str) -> anyhow::Result<EventDetail> {
    let channel = &conn.channel;
    match conn.api.get_event(&channel.channel, &channel.token, id).await {
        Ok(detail) => Ok(detail),
        Err(ApiError::Status { status: 404, message }) => Err(anyhow::anyhow!(
            "{message}; `hookrelay events` lists the events of channel {}",
            channel.channel
        )),
        Err(ApiError::Status { status: 409, message }) => {
            Err(anyhow::anyhow!("{message}; type more characters of the id"))
        }
        Err(err) => Err(anyhow::Error::new(err).context(format!("could not read event '{id}'"))),
    }
}

/// The newest `n` summaries, oldest first.
pub(crate) async fn last_summaries(
    conn: &Connection,
    n: usize,
) -> anyhow::Result<Vec<EventSummary>> {
    let channel = &conn.channel;
    conn.api
        .list_events(&channel.channel, &channel.token, Page::Last(n))
        .await
        .context("could not list events")
}

/// The runs of events the relay expired before any client finished them, oldest first.
pub(crate) async fn expired_gaps(conn: &Connection) -> anyhow::Result<Vec<Gap>> {
    let channel = &conn.channel;
    conn.api
        .list_gaps(&channel.channel, &channel.token)
        .await
        .context("could not list the channel's expired events")
}

/// Every summary the relay still holds, oldest first, one page at a time.
pub(crate) async fn all_summaries(conn: &Connection) -> anyhow::Result<Vec<EventSummary>> {
    let channel = &conn.channel;
    let mut all: Vec<EventSummary> = Vec::new();
    loop {
        let after = all.last().map_or(0, |summary| summary.seq);
        let page = Page::After { after, limit: MAX_PAGE };
        let batch = conn
            .api
            .list_events(&channel.channel, &channel.token, page)
            .await
            .context("could not list events")?;
        // An empty page, not a short one, ends the walk: the relay may cap pages lower.
        if batch.is_empty() {
            return Ok(all);
        }
        all.extend(batch);
    }
}
