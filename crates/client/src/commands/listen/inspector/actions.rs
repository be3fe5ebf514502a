//! What the inspector's commands do, each in a task of its own that reports back through
//! the loop's queue: pages of history and single events read from the relay (so the list
//! shows the channel's history, not only this run), `s` passed to the delivery loop, `r`
//! and `e` sent as `hookrelay replay` sends (recorded in history as replays), and `c`/`y`
//! turned into an OSC 52 sequence.

use std::sync::Arc;

use hookrelay_proto::{Event, EventDetail, Page};
use tokio::sync::mpsc;

use crate::commands::replay::replay_one;
use crate::commands::show::curl_command;
use crate::deliver::dispatch::Dispatch;
use crate::deliver::retry::RetryPolicy;
use crate::deliver::stop::StopRequests;
use crate::local::state::SavedChannel;
use crate::output::queue::Ui;
use crate::relay::api::RelayApi;
use crate::tui::clipboard::{MAX_COPY_BYTES, osc52};
use crate::tui::model::{Command, Input};
use crate::tui::window::PAGE;

use super::Done;

/// What the actions reach: the relay's API for the channel, `listen`'s forwarders, its
/// stop requests, and the queue its log lines go to.
#[derive(Clone)]
pub(in crate::commands::listen) struct Backend {
    /// The relay.
    pub api: RelayApi,
    /// The channel and its token.
    pub channel: SavedChannel,
    /// Where replays go (the routes and `--forward-to`, as `listen` sends).
    pub dispatch: Arc<Dispatch>,
    /// `s`: read by the delivery loop.
    pub stops: Arc<StopRequests>,
    /// Where replays' lines go (back to the inspector, like every delivery).
    pub ui: Ui,
}

/// Tells the loop `text`.
pub(super) async fn report(done: mpsc::Sender<Done>, text: String) {
    let _ = done.send(Done::Input(Input::Status(text))).await;
}

/// Carries out `command`; what comes of it goes to `done`.
pub(super) async fn carry_out(backend: Backend, command: Command, done: mpsc::Sender<Done>) {
    let (channel, token) = (&backend.channel.channel, &backend.channel.token);
    let input = match command {
        Command::LoadLatest => {
            match backend.api.list_events(channel, token, Page::Last(PAGE)).await {
                Ok(page) => Input::Latest(page),
                Err(err) => Input::PageFailed(err.to_string()),
            }
        }
        Command::LoadOlder { before } => {
            let after = before.saturating_sub(PAGE as u64 + 1);
            let page = Page::After { after, limit: PAGE };
            match backend.api.list_events(channel, token, page).await {
                Ok(page) => Input::Older(page),
                Err(err) => Input::PageFailed(err.to_string()),
            }
        }
        Command::LoadNewer { after } => {
            let page = Page::After { after, limit: PAGE };
            match backend.api.list_events(channel, token, page).await {
                Ok(page) => Input::Newer(page, PAGE),
                Err(err) => Input::PageFailed(err.to_string()),
            }
        }
        Command::LoadDetail { id } => {
            let fetched = fetch(&backend, &id).await;
            Input::Detail(id, fetched)
        }
        Command::Stop { seq } => Input::Status(match backend.stops.request(seq) {
            true => format!("stopped waiting on seq {seq}: recorded as failed, the queue moves on"),
            false => "too many stop requests are waiting; try again".to_owned(),
        }),
        Command::Replay { id } => match fetch(&backend, &id).await {
            Ok(detail) => return replay(backend, detail.event, false, done).await,
            Err(err) => Input::Status(err),
        },
        Command::Edit { id } => match fetch(&backend, &id).await {
            Ok(detail) => {
                let _ = done.send(Done::EditReady(detail.event)).await;
                return;
            }
            Err(err) => Input::Status(err),
        },
        Command::CopyCurl { id } => match fetch(&backend, &id).await {
            Ok(detail) => match backend.dispatch.forwarder_for(&detail.event) {
                Some(forwarder) => {
                    let curl = curl_command(&detail, forwarder.target(), forwarder.overrides());
                    let what = format!("the curl command for seq {}", detail.event.seq);
                    return copy(curl.as_bytes(), &what, done).await;
                }
                None => Input::Status("no target to build a curl command for".into()),
            },
            Err(err) => Input::Status(err),
        },
        Command::CopyBody { id } => match fetch(&backend, &id).await {
            Ok(detail) => {
                let what = format!("the body of seq {}", detail.event.seq);
                return copy(&detail.event.body, &what, done).await;
            }
            Err(err) => Input::Status(err),
        },
        Command::Quit => return,
    };
    let _ = done.send(Done::Input(input)).await;
}

async fn fetch(backend: &Backend, id: &str) -> Result<EventDetail, String> {
    let (channel, token) = (&backend.channel.channel, &backend.channel.token);
    backend.api.get_event(channel, token, id).await.map_err(|err| format!("{id}: {err}"))
}

async fn copy(bytes: &[u8], what: &str, done: mpsc::Sender<Done>) {
    let message = match osc52(bytes) {
        Some(sequence) => {
            let said = format!("copied {what} ({} bytes) to the clipboard (OSC 52)", bytes.len());
            Done::Copy(sequence, said)
        }
        None => Done::Input(Input::Status(format!(
            "{what} is {} bytes, more than the {MAX_COPY_BYTES} a terminal takes: use \
             `hookrelay show ID --body` or `--curl`",
            bytes.len()
        ))),
    };
    let _ = done.send(message).await;
}

/// Replays `event` (one attempt, as `hookrelay replay` does by default) to where `listen`
/// would send it, records it in history and says how it went.
pub(super) async fn replay(backend: Backend, event: Event, edited: bool, done: mpsc::Sender<Done>) {
    let seq = event.seq;
    let Some(forwarder) = backend.dispatch.forwarder_for(&event) else {
        return report(done, format!("seq {seq}: no route or --forward-to to replay it to")).await;
    };
    let policy =
        RetryPolicy { max_attempts: 1, wait_while_unreachable: false, replay: true, edited };
    let result =
        replay_one(&backend.api, &backend.channel, forwarder, &backend.ui, event, policy).await;
    let text = match (result.status, &result.error) {
        (Some(status), _) => {
            format!("replayed seq {seq}: the app answered {status} in {}ms", result.latency_ms)
        }
        (None, Some(error)) => format!("replay of seq {seq} failed: {error}"),
        (None, None) => format!("replayed seq {seq}"),
    };
    report(done, text).await;
}
