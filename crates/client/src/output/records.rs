//! The `--json` records of `listen` and `replay` (DESIGN §4) and the tally behind the
//! summary `listen` prints when it stops: what the renderer writes beside its human lines.

use hookrelay_proto::{Gap, Outcome};
use serde_json::json;

use crate::output::queue::DeliveryLine;

/// The `--json` record of one delivery.
pub(crate) fn delivery_json(line: &DeliveryLine) -> serde_json::Value {
    let mut record = json!({
        "type": "delivery",
        "id": line.id,
        "seq": line.seq,
        "method": line.method,
        "path": line.path,
        "query": line.query,
        "event_type": line.event_type,
        "status": line.status,
        "outcome": line.outcome,
        "attempt": line.attempt,
        "max_attempts": line.max_attempts,
        "target": line.target,
        "latency_ms": line.latency_ms,
        "error": line.error,
        "replay": line.replay,
        "at": line.at.format(&time::format_description::well_known::Rfc3339).ok(),
    });
    if let Some(check) = &line.signature {
        record["signature"] = json!(check);
    }
    if let Some(route) = &line.route {
        record["route"] = json!(route);
    }
    if let Some(response) = &line.response {
        record["response"] = json!(response);
    }
    record
}

/// The `--json` record of a gap (`listen` and `events`).
pub(crate) fn gap_json(gap: &Gap) -> serde_json::Value {
    json!({
        "type": "gap", "from_seq": gap.from_seq, "to_seq": gap.to_seq,
        "count": gap.count(), "reason": gap.reason,
    })
}

/// How the events shown so far ended, for the summary `listen` prints when it stops.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcomes {
    delivered: u64,
    rejected: u64,
    failed: u64,
    skipped: u64,
}

impl Outcomes {
    pub(crate) fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Delivered => self.delivered += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Skipped => self.skipped += 1,
        }
    }

    /// `stopped: 12 delivered, 1 failed, 2 rejected, 3 skipped; ...`.
    pub(crate) fn summary(&self, in_flight: usize, resume_after: u64) -> String {
        let Self { delivered, rejected, failed, skipped } = self;
        let mut text = format!(
            "stopped: {delivered} delivered, {failed} failed, {rejected} rejected, {skipped} \
             skipped"
        );
        if in_flight > 0 {
            text.push_str(&format!(", {in_flight} in flight (sent again next run)"));
        }
        text.push_str(&format!("; the next run resumes after seq {resume_after}"));
        text
    }
}
