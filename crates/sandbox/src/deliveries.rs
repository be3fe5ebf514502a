//! The delivery log behind `GET /v1/webhook_deliveries`: one record per attempt, in memory,
//! bounded.

use std::collections::VecDeque;

use serde::Serialize;

/// How many attempts the log keeps. When it is full the oldest record is dropped, so a
/// long-running emulator stays small; the answer then starts at a later attempt.
pub(crate) const MAX_LOG_ENTRIES: usize = 1_000;

/// One delivery attempt, as logged and as answered by the test route.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryAttempt {
    /// Shared by all attempts of one event; also the `webhook-id` when signing.
    pub delivery_id: String,
    /// 1 for the first try, 2 for the first retry...
    pub attempt: u32,
    /// When the attempt started, RFC 3339.
    pub time: String,
    /// The event type sent.
    pub event_type: String,
    /// Where it was sent.
    pub webhook_url: String,
    /// The HTTP status answered, if any answer came.
    pub status: Option<u16>,
    /// From sending the request to the end of the answer's body (or the failure).
    pub latency_ms: u64,
    /// Whether the answer was a 2xx within the timeout.
    pub delivered: bool,
    /// Why it failed: connection error, timeout, or the non-2xx status.
    pub error: Option<String>,
    /// Whether another attempt is scheduled after this failed one.
    pub will_retry: bool,
    /// Headers sent, in order (`Content-Type`, `User-Agent`, the `webhook-*` ones when
    /// signing); `Host` and `Content-Length` are added by the HTTP client.
    pub request_headers: Vec<(String, String)>,
    /// The exact body bytes sent (always UTF-8 JSON).
    pub request_body: String,
}

/// The bounded log, oldest first.
#[derive(Debug, Default)]
pub(crate) struct DeliveryLog {
    entries: VecDeque<DeliveryAttempt>,
}

impl DeliveryLog {
    /// Appends, dropping the oldest record past [`MAX_LOG_ENTRIES`].
    pub(crate) fn push(&mut self, attempt: DeliveryAttempt) {
        if self.entries.len() == MAX_LOG_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(attempt);
    }

    /// A copy of every record, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<DeliveryAttempt> {
        self.entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_drops_the_oldest_past_its_bound() {
        let mut log = DeliveryLog::default();
        for n in 0..MAX_LOG_ENTRIES as u32 + 5 {
            log.push(DeliveryAttempt {
                delivery_id: format!("msg_{n}"),
                attempt: n,
                time: String::new(),
                event_type: "test".into(),
                webhook_url: String::new(),
                status: None,
                latency_ms: 0,
                delivered: false,
                error: None,
                will_retry: false,
                request_headers: Vec::new(),
                request_body: String::new(),
            });
        }
        let all = log.snapshot();
        assert_eq!(all.len(), MAX_LOG_ENTRIES);
        assert_eq!(all[0].attempt, 5);
        assert_eq!(all[MAX_LOG_ENTRIES - 1].attempt, MAX_LOG_ENTRIES as u32 + 4);
    }
}
