//! `hookrelay replay`: re-send stored events (`ID...`, `--last N`, `--failed`) to the local
//! app with `listen`'s pass-through rules, retry policy and log lines (marked as replays),
//! optionally edited (`--edit`) or re-signed (`--resign`), and record each result in the
//! relay's history.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use hookrelay_proto::{ClientMessage, DeliveryResult, DeliveryState, Event, EventSummary, Outcome};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::commands::CommandEnv;
use crate::config::RelaySelection;
use crate::deliver::forward::{Forwarder, Resign};
use crate::deliver::outgoing::HeaderOverride;
use crate::deliver::retry::{RetryPolicy, deliver};
use crate::local::state::SavedChannel;
use crate::output::queue::{DeliveryLine, Ui, UiEvent};
use crate::output::render::Renderer;
use crate::relay::api::RelayApi;
use crate::relay::channel_choice::IfNoChannel;
use crate::relay::connect::{Connection, connect};
use crate::relay::history::{all_summaries, fetch_event, last_summaries};

pub(crate) mod edit;

/// What `hookrelay replay` sends, and where, as `cli` builds it from the flags.
#[derive(Debug)]
pub struct Config {
    /// Event ids or unique prefixes (with or without evt_), replayed in the order given.
    pub ids: Vec<String>,

    /// Replay the newest N events (with --failed: the failed ones among them).
    pub last: Option<u16>,

    /// Replay every event whose last attempt was not a 2xx (rejected, failed, or answered
    /// 1xx/3xx). Pending events (never delivered) and skipped ones are left alone.
    pub failed: bool,

    /// Your local app's URL; each event's path after /h/{channel} is appended to it. Default:
    /// where `hookrelay listen` last forwarded this channel.
    pub forward_to: Option<Url>,

    /// Which relay and channel (as for `listen`).
    pub relay: RelaySelection,

    /// Open $VISUAL/$EDITOR (else vi) on each request's headers and body before sending it.
    pub edit: bool,

    /// Re-signing, as for `listen`.
    pub resign: Option<Resign>,

    /// Set a header on every replayed request, replacing any of the same name.
    pub headers: Vec<HeaderOverride>,

    /// How long to wait for the local app's answer.
    pub timeout: Duration,

    /// Attempts per event (0: until it works).
    pub max_attempts: u32,

    /// Print one JSON object per delivery on stdout (`"replay": true`), as `listen --json`.
    pub json: bool,
}

/// Runs the command.
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let conn = connect(&config.relay, &env.dirs, IfNoChannel::Fail, env.cancel.clone()).await?;
    let result = replay(&config, env, &conn).await;
    let closed = conn.close().await;
    result.and_then(|code| closed.map(|()| code))
}

/// Exit code of a replay Ctrl-C stopped before its work was done (DESIGN §4).
const INTERRUPTED: u8 = 130;

/// Which events to send: ids are fetched (and so checked) before anything is sent; listed
/// ones are fetched one at a time as they go, so a long history is not held in memory.
enum Selection {
    Fetched(Vec<Event>),
    Listed(Vec<EventSummary>),
}

async fn replay(config: &Config, env: &CommandEnv, conn: &Connection) -> anyhow::Result<ExitCode> {
    let selection = if config.ids.is_empty() {
        let listed = match config.last {
            Some(n) => last_summaries(conn, usize::from(n)).await?,
            None => all_summaries(conn).await?,
        };
        let picked: Vec<EventSummary> =
            listed.into_iter().filter(|summary| !config.failed || needs_replay(summary)).collect();
        if picked.is_empty() {
            let what = if config.failed { "no failed events" } else { "no events" };
            eprintln!("nothing to replay: {what} in channel {}", conn.channel.channel);
            return Ok(ExitCode::SUCCESS);
        }
        Selection::Listed(picked)
    } else {
        let mut events = Vec::new();
        for id in &config.ids {
            events.push(fetch_event(conn, id).await?.event);
        }
        Selection::Fetched(events)
    };
    // Edit everything before the first send, so the editor never shares the terminal with
    // the log.
    let selection = match (config.edit, selection) {
        (true, Selection::Listed(summaries)) => {
            let mut events = Vec::new();
            for summary in &summaries {
                events.push(fetch_event(conn, &summary.id).await?.event);
            }
            edit_all(events).await?
        }
        (true, Selection::Fetched(events)) => edit_all(events).await?,
        (false, selection) => selection,
    };
    let target = conn.forward_target(config.forward_to.as_ref(), &env.dirs)?;
    crate::deliver::target::check_target(&target, "-f").await?;
    let forwarder =
        Forwarder::new(conn.client.clone(), target, config.headers.clone(), config.timeout)
            .with_resign(config.resign.clone());
    let (ui, ui_events) = Ui::channel();
    let stdout_closed = CancellationToken::new();
    let renderer = Renderer::terminal(config.json, env.offset);
    let render = tokio::task::spawn_blocking({
        let stdout_closed = stdout_closed.clone();
        move || renderer.run_blocking(ui_events, stdout_closed)
    });
    let policy = RetryPolicy {
        max_attempts: config.max_attempts,
        wait_while_unreachable: false,
        replay: true,
        edited: config.edit,
    };
    let (attempts, recorder) = record_attempts(conn);
    let sending = Sending { conn, forwarder: Arc::new(forwarder), ui: &ui, policy, attempts };
    let sent = sending.send_all(selection, env, &stdout_closed).await;
    drop(ui);
    if let Err(err) = render.await {
        tracing::warn!("the renderer panicked: {err}");
    }
    // Attempts still queued are history too, whatever ended the replay.
    if let Err(err) = recorder.await {
        tracing::warn!("the attempt recorder panicked: {err}");
    }
    let Tally { total, done, undelivered } = sent?;
    if stdout_closed.is_cancelled() {
        return Ok(ExitCode::SUCCESS);
    }
    if env.cancel.is_cancelled() {
        eprintln!("error: interrupted after replaying {done} of {total} events");
        return Ok(ExitCode::from(INTERRUPTED));
    }
    if undelivered > 0 {
        anyhow::bail!("{undelivered} of {total} replayed events were not delivered");
    }
    Ok(ExitCode::SUCCESS)
}

/// Most attempts waiting to be recorded; past it an attempt's history line is dropped (the
/// delivery itself never waits for the history).
const ATTEMPT_QUEUE: usize = 64;

/// A queue of attempts that will be retried and the task that records each in the relay's
/// history (`POST .../deliveries`); the task ends once the queue's senders are gone.
fn record_attempts(
    conn: &Connection,
) -> (mpsc::Sender<ClientMessage>, tokio::task::JoinHandle<()>) {
    let (sender, mut queue) = mpsc::channel(ATTEMPT_QUEUE);
    let (api, channel) = (conn.api.clone(), conn.channel.clone());
    let task = tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            let ClientMessage::Attempt { id, result, .. } = message else { continue };
            let recorded =
                api.record_delivery(&channel.channel, &channel.token, &id, &result).await;
            if let Err(err) = recorded {
                tracing::warn!(event = %id, "could not record an attempt in history: {err}");
            }
        }
    });
    (sender, task)
}

async fn edit_all(events: Vec<Event>) -> anyhow::Result<Selection> {
    let edited = tokio::task::spawn_blocking(move || {
        events.iter().map(edit::edit).collect::<anyhow::Result<Vec<Event>>>()
    })
    .await??;
    Ok(Selection::Fetched(edited))
}

struct Tally {
    total: usize,
    done: usize,
    undelivered: usize,
}

/// What sending each selected event needs.
struct Sending<'a> {
    conn: &'a Connection,
    forwarder: Arc<Forwarder>,
    ui: &'a Ui,
    policy: RetryPolicy,
    /// Attempts that will be retried, for the history.
    attempts: mpsc::Sender<ClientMessage>,
}

impl Sending<'_> {
    async fn send_all(
        self,
        selection: Selection,
        env: &CommandEnv,
        stdout_closed: &CancellationToken,
    ) -> anyhow::Result<Tally> {
        let Self { conn, forwarder, ui, policy, attempts } = self;
        let total = match &selection {
            Selection::Fetched(events) => events.len(),
            Selection::Listed(summaries) => summaries.len(),
        };
        let mut tally = Tally { total, done: 0, undelivered: 0 };
        for index in 0..total {
            let event = match &selection {
                Selection::Fetched(events) => events[index].clone(),
                Selection::Listed(summaries) => {
                    fetch_event(conn, &summaries[index].id).await?.event
                }
            };
            let attempts = Some(attempts.clone());
            let delivery = deliver(forwarder.clone(), ui.clone(), event, policy, attempts, None);
            let (event, result) = tokio::select! {
                () = env.cancel.cancelled() => break,
                () = stdout_closed.cancelled() => break,
                finished = delivery => finished,
            };
            finish_replay(&conn.api, &conn.channel, &event, &result, ui).await;
            tally.done += 1;
            if result.outcome != Outcome::Delivered {
                tally.undelivered += 1;
            }
        }
        Ok(tally)
    }
}

/// Sends `event` to the local app as a replay (`policy` says how hard to try), records the
/// result in the channel's history and shows it: what `hookrelay replay` does for each
/// event, and the inspector's `r` and `e`.
pub(crate) async fn replay_one(
    api: &RelayApi,
    channel: &SavedChannel,
    forwarder: Arc<Forwarder>,
    ui: &Ui,
    event: Event,
    policy: RetryPolicy,
) -> DeliveryResult {
    let policy = RetryPolicy { replay: true, wait_while_unreachable: false, ..policy };
    let (event, result) = deliver(forwarder, ui.clone(), event, policy, None, None).await;
    finish_replay(api, channel, &event, &result, ui).await;
    result
}

/// Records a replay's result in history (a failure to is logged, not fatal) and shows it.
async fn finish_replay(
    api: &RelayApi,
    channel: &SavedChannel,
    event: &Event,
    result: &DeliveryResult,
    ui: &Ui,
) {
    if let Err(err) = api.record_delivery(&channel.channel, &channel.token, &event.id, result).await
    {
        tracing::warn!(event = %event.id, "could not record the replay in history: {err}");
    }
    ui.send(UiEvent::Delivery(DeliveryLine::new(event, result))).await;
}

/// `--failed`: the last attempt was not a 2xx. Never-delivered (pending) and deliberately
/// skipped events are not failures.
pub(crate) fn needs_replay(summary: &EventSummary) -> bool {
    match summary.state {
        DeliveryState::Rejected | DeliveryState::Failed => true,
        DeliveryState::Delivered => summary
            .last_result
            .as_ref()
            .and_then(|result| result.status)
            .is_some_and(|status| !(200..=299).contains(&status)),
        DeliveryState::Pending | DeliveryState::Skipped => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::result;

    fn summary(state: DeliveryState, status: Option<u16>) -> EventSummary {
        EventSummary {
            id: "evt_x".into(),
            seq: 1,
            received_at_ms: 0,
            method: "POST".into(),
            path: String::new(),
            query: None,
            size: 0,
            event_type: None,
            state,
            last_result: status.map(|status| result(Outcome::Delivered, Some(status))),
        }
    }

    #[test]
    fn failed_means_the_last_attempt_was_not_a_2xx() {
        assert!(needs_replay(&summary(DeliveryState::Rejected, Some(404))));
        assert!(needs_replay(&summary(DeliveryState::Failed, None)));
        assert!(needs_replay(&summary(DeliveryState::Delivered, Some(302))));
        assert!(!needs_replay(&summary(DeliveryState::Delivered, Some(204))));
        assert!(!needs_replay(&summary(DeliveryState::Pending, None)));
        assert!(!needs_replay(&summary(DeliveryState::Skipped, None)));
    }
}
