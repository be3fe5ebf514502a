//! `hookrelay channels`: the channels this laptop has saved (one per relay: its id, ingest
//! URL and newest event), and `new`, `delete`, `rotate` for the current relay's channel.
//! `new` makes a fresh channel (a new ingest URL to give the provider), `delete` removes it
//! from the relay and forgets it, `rotate` gets a new token (the old one stops working; the
//! ingest URL stays).

use std::process::ExitCode;
use std::time::Duration;

use hookrelay_proto::Page;
use url::Url;

use crate::commands::CommandEnv;
use crate::config::RelaySelection;
use crate::local::state::{ChannelBook, SavedChannel};
use crate::output::stdout::write_stdout;
use crate::output::style::escape_controls;
use crate::relay::api::RelayApi;
use crate::relay::channel_choice::IfNoChannel;
use crate::relay::connect::connect;

/// Longest wait for one relay's newest event in the list.
const LIST_TIMEOUT: Duration = Duration::from_secs(3);

/// What `hookrelay channels` does, on which relay (as for the other commands).
#[derive(Debug)]
pub enum Action {
    /// List the saved channels.
    List,
    /// Make a new channel on the relay and save it in place of the old one.
    New(RelaySelection),
    /// Delete the relay's saved channel there and forget it.
    Delete(RelaySelection),
    /// Get a new token for the relay's saved channel.
    Rotate(RelaySelection),
}

/// The kinds of change, once the relay is chosen.
enum Change {
    New,
    Delete,
    Rotate,
}

/// Runs the command.
pub(crate) async fn run(action: Action, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let book = ChannelBook::new(&env.dirs);
    let (change, selection) = match action {
        Action::List => return list(&book).await,
        Action::New(selection) => (Change::New, selection),
        Action::Delete(selection) => (Change::Delete, selection),
        Action::Rotate(selection) => (Change::Rotate, selection),
    };
    let if_none = match change {
        Change::New => IfNoChannel::Create,
        _ => IfNoChannel::Fail,
    };
    let saved_before = book.all()?;
    let conn = connect(&selection, &env.dirs, if_none, env.cancel.clone()).await?;
    let relay = conn.relay.url.clone();
    // With nothing saved for this relay, `connect` has just made the new channel.
    let just_made = !saved_before.contains_key(relay.as_str());
    let result = async {
        Ok::<_, anyhow::Error>(match change {
            Change::New if just_made => format!(
                "new channel {} on {relay}\n  ingest URL  {}   ← paste into your provider\n",
                conn.channel.channel, conn.channel.ingest_url
            ),
            Change::New => {
                let created: SavedChannel = conn.api.create_channel().await?.into();
                book.put(&relay, &created)?;
                format!(
                    "new channel {} on {relay}\n  ingest URL  {}   ← paste into your provider\n\
                     (the old channel {} stays on the relay; `hookrelay channels delete` \
                     removes the current one)\n",
                    created.channel, created.ingest_url, conn.channel.channel
                )
            }
            Change::Delete => {
                conn.api.delete_channel(&conn.channel.channel, &conn.channel.token).await?;
                book.remove(&relay)?;
                format!(
                    "deleted channel {} on {relay}; its ingest URL answers 410 from now on\n",
                    conn.channel.channel
                )
            }
            Change::Rotate => {
                let rotated: SavedChannel =
                    conn.api.rotate_token(&conn.channel.channel, &conn.channel.token).await?.into();
                book.put(&relay, &rotated)?;
                format!(
                    "new token for channel {} on {relay}, saved; the old one no longer works \
                     (the ingest URL is unchanged)\n",
                    rotated.channel
                )
            }
        })
    }
    .await;
    let closed = conn.close().await;
    let text = result?;
    closed?;
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// One line per saved channel: relay, channel, ingest URL, newest event (when the relay
/// answers in time; `-` otherwise).
async fn list(book: &ChannelBook) -> anyhow::Result<ExitCode> {
    let all = book.all()?;
    if all.is_empty() {
        eprintln!("no channels saved yet; `hookrelay listen` or `hookrelay login` makes one");
        return Ok(ExitCode::SUCCESS);
    }
    hookrelay_http::install_crypto_provider();
    let client = hookrelay_http::client();
    let mut text = String::new();
    for (relay, channel) in all {
        let newest = match relay.parse::<Url>() {
            Ok(url) => newest_event(&RelayApi::new(client.clone(), url), &channel).await,
            Err(_) => "-".to_owned(),
        };
        text.push_str(&format!(
            "{relay}\n  channel     {}\n  ingest URL  {}\n  newest      {}\n",
            channel.channel,
            channel.ingest_url,
            escape_controls(&newest, false)
        ));
    }
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

async fn newest_event(api: &RelayApi, channel: &SavedChannel) -> String {
    let last = api.list_events(&channel.channel, &channel.token, Page::Last(1));
    match tokio::time::timeout(LIST_TIMEOUT, last).await {
        Ok(Ok(events)) => match events.last() {
            Some(event) => format!(
                "seq {}  {}  {}",
                event.seq,
                event.id,
                event.event_type.as_deref().unwrap_or("-")
            ),
            None => "no events yet".to_owned(),
        },
        Ok(Err(err)) => format!("- ({err})"),
        Err(_) => "- (the relay did not answer)".to_owned(),
    }
}
