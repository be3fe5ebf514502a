//! What the history commands (`events`, `show`, `replay`) share: where their output goes
//! (stdout, colored only for a terminal without `NO_COLOR`, a closed pipe is a quiet
//! success), how an id the user typed is looked up, and how history is paged through.

use std::io::{self, Write as _};

use anyhow::Context as _;
use hookrelay_proto::{EventDetail, EventSummary, Gap};

use crate::connect::Connection;
use crate::relay_api::{ApiError, PAGE_LIMIT, Page};

/// Whether stdout gets ANSI colors: a terminal, and `NO_COLOR` unset (as the renderer decides).
pub fn stdout_color() -> bool {
    use std::io::IsTerminal as _;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    io::stdout().is_terminal() && !no_color
}

/// Writes a command's data to stdout and flushes. A closed pipe (`hookrelay events | head`)
/// is not an error: the reader has what it wanted.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(err).context("could not write to stdout"))
        }
        _ => Ok(()),
    }
}

/// Fetches one event by id or unique id prefix (with or without `evt_`), turning the relay's
/// 404 and 409 into messages that say what to type instead.
pub async fn fetch_event(conn: &Connection, id: &str) -> anyhow::Result<EventDetail> {
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
pub async fn last_summaries(conn: &Connection, n: usize) -> anyhow::Result<Vec<EventSummary>> {
    let channel = &conn.channel;
    conn.api
        .list_events(&channel.channel, &channel.token, Page::Last(n))
        .await
        .context("could not list events")
}

/// The runs of events the relay expired before any client finished them, oldest first.
pub async fn expired_gaps(conn: &Connection) -> anyhow::Result<Vec<Gap>> {
    let channel = &conn.channel;
    conn.api
        .list_gaps(&channel.channel, &channel.token)
        .await
        .context("could not list the channel's expired events")
}

/// Every summary the relay still holds, oldest first, one page at a time.
pub async fn all_summaries(conn: &Connection) -> anyhow::Result<Vec<EventSummary>> {
    let channel = &conn.channel;
    let mut all: Vec<EventSummary> = Vec::new();
    loop {
        let after = all.last().map_or(0, |summary| summary.seq);
        let page = Page::After { after, limit: PAGE_LIMIT };
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
