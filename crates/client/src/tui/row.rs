//! One line of the inspector's event list: what is known about an event, from the relay's
//! history (a summary) or from the live pipeline (waiting, retrying, delivered), merged.

use hookrelay_proto::{DeliveryResult, DeliveryState, EventSummary, Outcome, SignatureCheck};

use crate::output::queue::{DeliveryLine, EventRef};

/// Where an event stands, as the list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowState {
    /// Received, no result yet.
    Pending,
    /// Nothing listens at the local app; the queue waits to try again.
    Waiting,
    /// The app answered 5xx or timed out; the queue tries again.
    Retrying,
    /// Delivered (2xx and other non-errors).
    Delivered,
    /// The app answered 4xx.
    Rejected,
    /// Given up.
    Failed,
    /// Kept from the app by a filter or the lack of a route.
    Skipped,
}

impl RowState {
    /// The state's word (`failed`), also what the filter matches.
    pub(crate) fn word(self) -> &'static str {
        match self {
            RowState::Pending => "pending",
            RowState::Waiting => "waiting",
            RowState::Retrying => "retrying",
            RowState::Delivered => "delivered",
            RowState::Rejected => "rejected",
            RowState::Failed => "failed",
            RowState::Skipped => "skipped",
        }
    }

    /// The queue is still trying this event (what `s` stops).
    pub(crate) fn is_retrying(self) -> bool {
        matches!(self, RowState::Waiting | RowState::Retrying)
    }
}

impl From<Outcome> for RowState {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Delivered => RowState::Delivered,
            Outcome::Rejected => RowState::Rejected,
            Outcome::Failed => RowState::Failed,
            Outcome::Skipped => RowState::Skipped,
        }
    }
}

/// One event in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// Its seq (the list's order).
    pub seq: u64,
    /// Its id (empty until known: never, in practice, since every source carries it).
    pub id: String,
    /// When the relay received it (ms since the epoch); `None` when not known yet.
    pub received_at_ms: Option<i64>,
    /// HTTP method.
    pub method: String,
    /// Path suffix with `?query`.
    pub path: String,
    /// The JSON body's event type.
    pub event_type: Option<String>,
    /// Where it stands.
    pub state: RowState,
    /// The app's last status.
    pub status: Option<u16>,
    /// Latency of the last attempt.
    pub latency_ms: Option<u64>,
    /// Attempts so far (0: none).
    pub attempts: u32,
    /// The `--verify` result.
    pub signature: Option<SignatureCheck>,
    /// Replayed from the inspector or `hookrelay replay` at least once.
    pub replayed: bool,
    /// The last error, if any.
    pub error: Option<String>,
    /// What the filter looks at, lowercased (kept up to date by every change above, so
    /// filtering a full list costs no allocation per row).
    search: String,
}

fn with_query(path: &str, query: Option<&str>) -> String {
    let path = if path.is_empty() { "/" } else { path };
    match query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    }
}

impl Row {
    /// A row from the relay's history.
    pub(crate) fn from_summary(summary: &EventSummary) -> Self {
        let path = with_query(&summary.path, summary.query.as_deref());
        let mut row = Self::bare(summary.seq, &summary.id, &summary.method, path);
        row.received_at_ms = Some(summary.received_at_ms);
        row.event_type.clone_from(&summary.event_type);
        row.state = match summary.state {
            DeliveryState::Pending => RowState::Pending,
            DeliveryState::Delivered => RowState::Delivered,
            DeliveryState::Rejected => RowState::Rejected,
            DeliveryState::Failed => RowState::Failed,
            DeliveryState::Skipped => RowState::Skipped,
        };
        if let Some(result) = &summary.last_result {
            row.take_result(result);
        }
        row.refresh_search();
        row
    }

    /// A row for an event only known from a live report so far.
    fn bare(seq: u64, id: &str, method: &str, path: String) -> Self {
        Self {
            seq,
            id: id.to_owned(),
            received_at_ms: None,
            method: method.to_owned(),
            path,
            event_type: None,
            state: RowState::Pending,
            status: None,
            latency_ms: None,
            attempts: 0,
            signature: None,
            replayed: false,
            error: None,
            search: String::new(),
        }
    }

    /// A row for `event`, which waits for the local app.
    pub(crate) fn waiting(event: &EventRef, reason: &str) -> Self {
        let mut row = Self::bare(event.seq, &event.id, &event.method, event.path.clone());
        row.set_waiting(reason);
        row
    }

    /// A row for the event of a delivery line.
    pub(crate) fn from_line(line: &DeliveryLine, retrying: bool) -> Self {
        let path = with_query(&line.path, line.query.as_deref());
        let mut row = Self::bare(line.seq, &line.id, &line.method, path);
        row.apply_line(line, retrying);
        row
    }

    /// Nothing listens at the local app; the event waits.
    pub(crate) fn set_waiting(&mut self, reason: &str) {
        self.state = RowState::Waiting;
        self.error = Some(reason.to_owned());
        self.refresh_search();
    }

    /// Takes what a delivery line says (an attempt to be retried, or the final result).
    pub(crate) fn apply_line(&mut self, line: &DeliveryLine, retrying: bool) {
        self.received_at_ms = Some(line.received_at_ms);
        if line.event_type.is_some() {
            self.event_type.clone_from(&line.event_type);
        }
        self.status = line.status;
        self.latency_ms = Some(line.latency_ms);
        self.error.clone_from(&line.error);
        if line.replay {
            // A replay does not change where the live delivery left the event's attempts.
            self.replayed = true;
            self.state = line.outcome.into();
        } else {
            self.attempts = line.attempt;
            if line.signature.is_some() {
                self.signature.clone_from(&line.signature);
            }
            self.state = if retrying { RowState::Retrying } else { line.outcome.into() };
        }
        self.refresh_search();
    }

    fn take_result(&mut self, result: &DeliveryResult) {
        self.status = result.status;
        self.latency_ms = Some(result.latency_ms);
        self.attempts = result.attempt;
        self.signature.clone_from(&result.signature);
        self.replayed = result.replay;
        self.error.clone_from(&result.error);
    }

    fn refresh_search(&mut self) {
        let status = self.status.map(|s| s.to_string()).unwrap_or_default();
        let fields = [self.event_type.as_deref().unwrap_or(""), &self.path, &status];
        // A newline cannot be typed into the filter, so no match spans two fields.
        self.search = format!("{}\n{}", fields.join("\n"), self.state.word()).to_lowercase();
    }

    /// Whether the filter text matches its type, path, status or state (case-insensitive).
    pub(crate) fn matches(&self, filter: &str) -> bool {
        self.matches_lowercase(&filter.to_lowercase())
    }

    /// [`Row::matches`] for a filter already lowercased.
    pub(crate) fn matches_lowercase(&self, filter: &str) -> bool {
        filter.is_empty() || self.search.contains(filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::line;

    #[test]
    fn live_lines_set_state_and_replays_keep_the_attempt_count() {
        let mut retried = line(Outcome::Failed, Some(503));
        retried.attempt = 2;
        let mut row = Row::from_line(&retried, true);
        assert_eq!((row.state, row.status, row.attempts), (RowState::Retrying, Some(503), 2));
        let mut replay = line(Outcome::Delivered, Some(200));
        replay.replay = true;
        row.apply_line(&replay, false);
        assert_eq!((row.state, row.attempts, row.replayed), (RowState::Delivered, 2, true));
    }

    #[test]
    fn the_filter_looks_at_type_path_status_and_state() {
        let mut rejected = line(Outcome::Rejected, Some(404));
        rejected.event_type = Some("Invoice.Paid".into());
        let row = Row::from_line(&rejected, false);
        for text in ["invoice", "/STRIPE", "404", "reject", ""] {
            assert!(row.matches(text), "{text}");
        }
        assert!(!row.matches("charge"));
    }
}
