//! One event to the local app until it has an outcome (DESIGN §2.5): delivered (2xx),
//! rejected (4xx, at once), or failed once `max_attempts` attempts answered 5xx, timed out or
//! broke off (or at once, when the request cannot be built). While nothing listens at the
//! target, `listen` waits with capped backoff without counting attempts: the app is
//! restarting. Every attempt that will be retried is shown (`Waiting`, `Retrying`) and sent
//! to `attempts` for the relay's history. Used by `listen`'s processor and by `replay`.

use std::sync::Arc;
use std::time::Duration;

use hookrelay_proto::{ClientMessage, DeliveryResult, Event, Outcome};
use tokio::sync::mpsc;

use hookrelay_http::{Reach, probe_after_failure};

use crate::backoff::LOCAL_RETRY;
use crate::deliver::forward::{Answer, ForwardError, Forwarder, Verdict};
use crate::deliver::stop::StopRequests;
use crate::output::queue::{DeliveryLine, EventRef, Ui, UiEvent};

/// `listen`'s default `--max-attempts`.
pub(crate) const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Attempts before the event is failed; 0: no bound.
    pub max_attempts: u32,
    /// Wait, without counting attempts, while the target refuses connections (`listen`).
    /// Without it (`replay`) an unreachable target is a failed attempt like any other.
    pub wait_while_unreachable: bool,
    /// Results and lines belong to `hookrelay replay`.
    pub replay: bool,
    /// The request was edited before sending (`replay --edit`), for the history.
    pub edited: bool,
}

/// Forwards `event` until it has an outcome, as `policy` says. Attempts that will be retried
/// go to `attempts` (as `ClientMessage::Attempt`) when given; a full or closed queue only
/// loses that history line, never the delivery. With `stops`, a stop asked for this event's
/// `seq` (the inspector's `s`) ends it at once as failed, mid-request or mid-backoff.
pub(crate) async fn deliver(
    forwarder: Arc<Forwarder>,
    ui: Ui,
    event: Event,
    policy: RetryPolicy,
    attempts: Option<mpsc::Sender<ClientMessage>>,
    stops: Option<Arc<StopRequests>>,
) -> (Event, DeliveryResult) {
    let mut backoff = LOCAL_RETRY;
    // Attempts that reached the app or timed out (what `max_attempts` bounds), and tries that
    // found nothing listening while `listen` waits.
    let (mut attempt, mut waits) = (0, 0);
    // A stop asked before this event's first try (or left from an earlier run of the same
    // seq) does not count: only one asked while it is retried does.
    if let Some(stops) = &stops {
        stops.take(event.seq);
    }
    let mut last: Option<DeliveryResult> = None;
    loop {
        let stop = async {
            match &stops {
                Some(stops) => stops.requested(event.seq).await,
                None => std::future::pending().await,
            }
        };
        let sent = tokio::select! {
            sent = forwarder.send(&event) => sent,
            () = stop => {
                let result = stopped(last, attempt + 1, &forwarder, &event, policy);
                return (event, result);
            }
        };
        let waiting =
            matches!(&sent, Err(err) if err.is_unreachable()) && policy.wait_while_unreachable;
        if waiting {
            waits += 1;
        } else {
            attempt += 1;
            waits = 0;
        }
        // A wait is numbered as the attempt it waits to make.
        let (mut result, retryable) = outcome_of(sent, if waiting { attempt + 1 } else { attempt });
        result.target = Some(forwarder.url_for(&event));
        result.replay = policy.replay;
        result.edited = policy.edited;
        result.resigned = forwarder.resign_scheme();
        result.max_attempts = (policy.max_attempts > 0).then_some(policy.max_attempts);
        // A failure without an answer may mean the target can never answer (TLS to a plain
        // port, a name that stopped resolving): checked on the first such try of a run and
        // then on tries 2, 4, 8..., and then final at once, with the fix, not retried.
        let tries = if waiting { waits } else { attempt };
        if result.status.is_none()
            && retryable
            && tries.is_power_of_two()
            && let Reach::Never(broken) = probe_after_failure(forwarder.target()).await
        {
            result.error =
                Some(format!("cannot deliver: {}", broken.advice(forwarder.target(), "-f")));
            return (event, result);
        }
        let settled = matches!(result.outcome, Outcome::Delivered | Outcome::Rejected);
        let bounded = policy.max_attempts > 0 && attempt >= policy.max_attempts;
        if settled || !retryable || (bounded && !waiting) {
            if !settled && attempt > 1 {
                let last = result.error.take().unwrap_or_else(|| describe_status(&result));
                result.error = Some(format!("gave up after {attempt} attempts: {last}"));
            }
            return (event, result);
        }
        let delay = backoff.next_delay();
        let result = DeliveryResult { will_retry: true, ..result };
        // While waiting, history gets the first refused try of the wait, not every one.
        if (!waiting || waits == 1)
            && let Some(attempts) = &attempts
        {
            let record = ClientMessage::Attempt {
                seq: event.seq,
                id: event.id.clone(),
                result: result.clone(),
            };
            let _ = attempts.try_send(record);
        }
        let update = if waiting {
            UiEvent::Waiting {
                target: forwarder.target_label(),
                event: EventRef::of(&event),
                waits,
                reason: result.error.clone().unwrap_or_default(),
                delay,
            }
        } else {
            let mut line = DeliveryLine::new(&event, &result);
            line.route = forwarder.name().map(str::to_owned);
            line.response = result.response.clone();
            UiEvent::Retrying { line, delay }
        };
        ui.send(update).await;
        let stop = async {
            match &stops {
                Some(stops) => stops.requested(event.seq).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stop => {
                let result = stopped(Some(result), attempt, &forwarder, &event, policy);
                return (event, result);
            }
        }
        last = Some(result);
    }
}

/// The failed result of an event the user stopped waiting on: the last attempt's answer, if
/// any, marked final, with why it ended.
fn stopped(
    last: Option<DeliveryResult>,
    attempt: u32,
    forwarder: &Forwarder,
    event: &Event,
    policy: RetryPolicy,
) -> DeliveryResult {
    let mut result = last.unwrap_or_else(|| DeliveryResult {
        target: Some(forwarder.url_for(event)),
        max_attempts: (policy.max_attempts > 0).then_some(policy.max_attempts),
        ..DeliveryResult::new(Outcome::Failed, None, 0, attempt.max(1))
    });
    let before = result.error.take().unwrap_or_else(|| describe_status(&result));
    result.outcome = Outcome::Failed;
    result.will_retry = false;
    result.error = Some(format!("stopped waiting (s in the inspector): {before}"));
    result
}

/// One try's result before the policy's marks, and whether trying again may help.
fn outcome_of(sent: Result<Answer, ForwardError>, attempt: u32) -> (DeliveryResult, bool) {
    match sent {
        Ok(answer) => {
            let outcome = match Verdict::of(answer.status) {
                Verdict::Delivered => Outcome::Delivered,
                Verdict::Rejected => Outcome::Rejected,
                Verdict::Retry => Outcome::Failed,
            };
            let result = DeliveryResult {
                response: Some(answer.preview).filter(|text| !text.is_empty()),
                response_headers: answer.headers,
                ..DeliveryResult::new(outcome, Some(answer.status), millis(answer.latency), attempt)
            };
            (result, true)
        }
        Err(err) => {
            let result = DeliveryResult {
                error: Some(err.to_string()),
                ..DeliveryResult::new(Outcome::Failed, None, 0, attempt)
            };
            (result, err.is_retryable())
        }
    }
}

/// `the app answered 503` for a result without an error text.
fn describe_status(result: &DeliveryResult) -> String {
    match result.status {
        Some(status) => format!("the app answered {status}"),
        None => "no answer".to_owned(),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
