//! One event to the local app until it gives a final answer: delivered (2xx), rejected
//! (4xx) or a failure that retrying cannot fix. Meanwhile every retry is shown (`Waiting`,
//! `Retrying`) and waits with capped backoff. Used by `listen`'s processor and by `replay`.

use std::sync::Arc;
use std::time::Duration;

use hookrelay_proto::{DeliveryResult, Event, Outcome};

use crate::backoff::LOCAL_RETRY;
use crate::deliver::forward::{Forwarder, Verdict};
use crate::output::queue::{DeliveryLine, Ui, UiEvent};

/// Forwards `event` until the local app gives a final answer, waiting with capped backoff
/// while it is down or failing. Never gives up on its own: the queue waits (DESIGN §2.5).
/// `replay` marks the results (and the retry lines shown meanwhile) as `hookrelay replay`'s.
pub(crate) async fn deliver(
    forwarder: Arc<Forwarder>,
    ui: Ui,
    event: Event,
    replay: bool,
) -> (Event, DeliveryResult) {
    let mut backoff = LOCAL_RETRY;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let failure = match forwarder.send(&event).await {
            Ok(answer) => {
                let result = |outcome| DeliveryResult {
                    response: Some(answer.preview.clone()).filter(|text| !text.is_empty()),
                    replay,
                    ..DeliveryResult::new(
                        outcome,
                        Some(answer.status),
                        millis(answer.latency),
                        attempt,
                    )
                };
                match Verdict::of(answer.status) {
                    Verdict::Delivered => return (event, result(Outcome::Delivered)),
                    Verdict::Rejected => return (event, result(Outcome::Rejected)),
                    // Shown like a delivery (the app did answer), marked as retried.
                    Verdict::Retry => {
                        let mut line = DeliveryLine::new(&event, &result(Outcome::Failed));
                        line.route = forwarder.name().map(str::to_owned);
                        Err(line)
                    }
                }
            }
            Err(err) if err.is_retryable() => Ok(err.to_string()),
            Err(err) => {
                let result = DeliveryResult {
                    error: Some(err.to_string()),
                    replay,
                    ..DeliveryResult::new(Outcome::Failed, None, 0, attempt)
                };
                return (event, result);
            }
        };
        let delay = backoff.next_delay();
        let update = match failure {
            Ok(reason) => {
                UiEvent::Waiting { target: forwarder.target_label(), attempt, reason, delay }
            }
            Err(line) => UiEvent::Retrying { line, delay },
        };
        ui.send(update).await;
        tokio::time::sleep(delay).await;
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
