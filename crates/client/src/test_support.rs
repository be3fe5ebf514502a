//! Fixtures for the unit tests: an event, a delivery result or a delivery line with every
//! field a test does not look at set to a plain value. Tests that depend on a field set it
//! with struct-update syntax on top of these.

use bytes::Bytes;
use hookrelay_proto::{DeliveryResult, Event, Outcome};

use crate::output::queue::DeliveryLine;

/// A `POST` of `body` with `headers` to `path`: event `evt_1`, seq 1, received at 0.
pub(crate) fn event(path: &str, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Event {
    Event {
        id: "evt_1".into(),
        seq: 1,
        received_at_ms: 0,
        method: "POST".into(),
        path: path.into(),
        query: None,
        headers: headers.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
        body: Bytes::copy_from_slice(body.as_ref()),
    }
}

/// A first attempt that ended as `outcome` with `status`, in 1 ms, and nothing else.
pub(crate) fn result(outcome: Outcome, status: Option<u16>) -> DeliveryResult {
    DeliveryResult::new(outcome, status, 1, 1)
}

/// The log line of a first attempt at `POST /stripe` (seq 3, 12 ms, at 17:02:11 UTC) that
/// ended as `outcome` with `status`.
pub(crate) fn line(outcome: Outcome, status: Option<u16>) -> DeliveryLine {
    DeliveryLine {
        at: time::macros::datetime!(2026-01-02 17:02:11 UTC),
        id: "evt_k2qza9xmk2qza9xmk2qza9xm".into(),
        seq: 3,
        received_at_ms: 1_767_373_331_000,
        method: "POST".into(),
        path: "/stripe".into(),
        query: None,
        event_type: None,
        outcome,
        status,
        latency_ms: 12,
        attempt: 1,
        max_attempts: None,
        target: None,
        error: None,
        replay: false,
        signature: None,
        route: None,
        response: None,
    }
}
