//! Sending a simulated event to the registered URL: one attempt with a timeout, then retries
//! on the configured schedule in a tracked background task. Every attempt is logged.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::Instrument as _;

use hookrelay_signature::Scheme;

use crate::catalog::Event;
use crate::deliveries::DeliveryAttempt;
use crate::ids;
use crate::state::{AppState, Registration};
use hookrelay_http::error_chain;

/// `User-Agent` of every delivery.
pub(crate) const USER_AGENT: &str =
    concat!("hookrelay-sandbox/", env!("CARGO_PKG_VERSION"), " (webhook emulator)");
/// How much of an answer's body is read (and discarded) before the connection is let go.
const MAX_ANSWER_BODY: usize = 64 * 1024;

/// Delivers `event` to `reg`: awaits the first attempt, schedules retries if it failed, and
/// returns the first attempt's record.
pub(crate) async fn deliver(state: &AppState, reg: Registration, event: Event) -> DeliveryAttempt {
    let delivery_id = ids::new_message_id();
    let body = Bytes::from(event.body);
    let mut first =
        attempt(state, &reg.url, &event.event_type, &delivery_id, 1, body.clone()).await;
    let schedule = state.config().retry_schedule.clone();
    let permit = if first.delivered || schedule.is_empty() {
        None
    } else {
        match state.retry_slots().clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                tracing::warn!(%delivery_id, "too many deliveries waiting for retries; this one gets none");
                None
            }
        }
    };
    first.will_retry = permit.is_some();
    state.record(first.clone());
    if let Some(permit) = permit {
        let span = tracing::info_span!("retries", %delivery_id, event_type = %event.event_type);
        let state2 = state.clone();
        let event_type = event.event_type;
        state.tracker().spawn(
            async move {
                let _permit = permit;
                retry(&state2, &reg, &event_type, &delivery_id, body, &schedule).await;
            }
            .instrument(span),
        );
    }
    first
}

async fn retry(
    state: &AppState,
    reg: &Registration,
    event_type: &str,
    delivery_id: &str,
    body: Bytes,
    schedule: &[Duration],
) {
    for (i, wait) in schedule.iter().enumerate() {
        tokio::select! {
            _ = tokio::time::sleep(*wait) => {}
            // Also fires on shutdown: the registration token is a child of it.
            _ = reg.cancel.cancelled() => {
                tracing::info!("webhook URL removed or replaced: retries stopped");
                return;
            }
        }
        let n = u32::try_from(i + 2).unwrap_or(u32::MAX);
        let mut a = tokio::select! {
            a = attempt(state, &reg.url, event_type, delivery_id, n, body.clone()) => a,
            _ = state.shutdown().cancelled() => return,
        };
        a.will_retry = !a.delivered && i + 1 < schedule.len() && !reg.cancel.is_cancelled();
        let done = a.delivered;
        state.record(a);
        if done {
            return;
        }
    }
    tracing::info!("delivery failed after {} attempts", schedule.len() + 1);
}

/// One POST of `body` to `url`, bounded by the delivery timeout; never fails, the outcome is
/// in the record.
async fn attempt(
    state: &AppState,
    url: &str,
    event_type: &str,
    delivery_id: &str,
    n: u32,
    body: Bytes,
) -> DeliveryAttempt {
    let now = OffsetDateTime::now_utc();
    // Millisecond precision is plenty for a log and easier to read.
    let started_at = now.replace_millisecond(now.millisecond()).unwrap_or(now);
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), USER_AGENT.to_owned()),
    ];
    if let Some(secret) = &state.config().signing_secret {
        let ts = started_at.unix_timestamp();
        hookrelay_signature::sign(Scheme::Standard, secret, &mut headers, &body, ts, delivery_id);
    }
    let clock = Instant::now();
    let timeout = state.config().delivery_timeout;
    let outcome =
        match tokio::time::timeout(timeout, send(state, url, &headers, body.clone())).await {
            Ok(Ok(status)) if (200..300).contains(&status) => (Some(status), None),
            Ok(Ok(status)) => (Some(status), Some(format!("answered {status}, not 2xx"))),
            Ok(Err(e)) => (None, Some(e)),
            Err(_) => (None, Some(format!("timed out after {}", humantime(timeout)))),
        };
    let latency_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (status, error) = outcome;
    if let Some(e) = &error {
        tracing::info!(attempt = n, %url, "delivery failed: {e}");
    }
    DeliveryAttempt {
        delivery_id: delivery_id.to_owned(),
        attempt: n,
        time: started_at.format(&Rfc3339).unwrap_or_default(),
        event_type: event_type.to_owned(),
        webhook_url: url.to_owned(),
        status,
        latency_ms,
        delivered: error.is_none(),
        error,
        will_retry: false,
        request_headers: headers,
        request_body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn send(
    state: &AppState,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
) -> Result<u16, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("invalid URL: {e}"))?;
    let mut req = http::Request::post(uri);
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let req = req.body(Full::new(body)).map_err(|e| format!("invalid request: {e}"))?;
    let resp = state.client().request(req).await.map_err(|e| error_chain(&e))?;
    let status = resp.status().as_u16();
    // Read the answer so the connection can be reused; its content does not matter.
    let _ = Limited::new(resp.into_body(), MAX_ANSWER_BODY).collect().await;
    Ok(status)
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
