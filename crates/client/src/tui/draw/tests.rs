//! Drawing tested on ratatui's `TestBackend`: the screen as plain text, compared with the
//! snapshots in `snapshots/` (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate change).

use std::time::{Duration, Instant};

use bytes::Bytes;
use hookrelay_proto::{DeliveryResult, DeliveryState, Event, EventDetail, Outcome, SignatureCheck};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::UtcOffset;

use super::*;
use crate::output::queue::{DeliveryLine, EventRef, UiEvent};
use crate::tui::keys::Key;
use crate::tui::model::Input;

const AT: i64 = 1_767_373_331_000;

fn line(
    seq: u64,
    path: &str,
    kind: Option<&str>,
    outcome: Outcome,
    status: Option<u16>,
) -> DeliveryLine {
    DeliveryLine {
        id: format!("evt_{seq:026}"),
        seq,
        received_at_ms: AT + seq as i64 * 61_000,
        path: path.into(),
        event_type: kind.map(Into::into),
        latency_ms: 10 + seq,
        ..crate::test_support::line(outcome, status)
    }
}

/// A model with one event in each state a row can show, a hostile event type included.
fn model() -> Model {
    let mut model = Model::new(Instant::now(), UtcOffset::UTC);
    model.update(Input::Ui(UiEvent::Ready {
        channel: "ch_k2qza9xmk2qza9xm".into(),
        ingest_url: "http://127.0.0.1:8787/h/ch_k2qza9xmk2qza9xm".into(),
        forward_to: Some("http://localhost:3000/webhooks".into()),
        routes: vec![],
        relay: "embedded on 127.0.0.1:8787".into(),
    }));
    model.update(Input::Ui(UiEvent::Connected { last_seq: 7, after: 0 }));
    let signed = |valid: bool| SignatureCheck {
        scheme: "stripe".into(),
        valid,
        reason: (!valid).then(|| "signature mismatch".into()),
    };
    let delay = Duration::from_secs(2);
    let events = [
        UiEvent::Delivery(DeliveryLine {
            signature: Some(signed(true)),
            ..line(1, "/stripe", Some("invoice.paid"), Outcome::Delivered, Some(200))
        }),
        UiEvent::Delivery(DeliveryLine {
            signature: Some(signed(false)),
            ..line(2, "/stripe", Some("charge.failed"), Outcome::Rejected, Some(404))
        }),
        UiEvent::Delivery(line(3, "/x", Some("evil\u{1b}[2J"), Outcome::Delivered, Some(204))),
        UiEvent::Delivery(DeliveryLine {
            replay: true,
            ..line(1, "/stripe", Some("invoice.paid"), Outcome::Delivered, Some(200))
        }),
        UiEvent::Delivery(DeliveryLine {
            error: Some("--events: not selected".into()),
            ..line(4, "/github", Some("push"), Outcome::Skipped, None)
        }),
        UiEvent::Delivery(DeliveryLine {
            attempt: 5,
            error: Some("gave up after 5 attempts".into()),
            ..line(
                5,
                "/a/very/long/path/that/does/not/fit/in/eighty/columns",
                Some("customer.subscription.updated"),
                Outcome::Failed,
                Some(500),
            )
        }),
        UiEvent::Retrying {
            line: DeliveryLine { attempt: 2, ..line(6, "/slow", None, Outcome::Failed, Some(503)) },
            delay,
        },
        UiEvent::Waiting {
            target: "localhost:3000".into(),
            event: EventRef {
                id: "evt_7".into(),
                seq: 7,
                method: "PUT".into(),
                path: "/down".into(),
            },
            waits: 3,
            reason: "connection refused".into(),
            delay,
        },
        UiEvent::Notice("replayed seq 1: the app answered 200 in 11ms".into()),
    ];
    for event in events {
        model.update(Input::Ui(event));
    }
    model
}

fn screen(model: &mut Model, width: u16, height: u16) -> String {
    model.update(Input::Resized(list_height(height)));
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|frame| draw(frame, model)).expect("drawn");
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..height {
        let row: String = (0..width).map(|x| buffer[(x, y)].symbol().to_owned()).collect();
        text.push_str(row.trim_end());
        text.push('\n');
    }
    text
}

fn check(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/tui/draw/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, text).expect("snapshot written");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(text == expected, "{name} differs from {}:\n{text}", path.display());
    assert!(!text.contains('\u{1b}'), "no raw escape reaches the screen");
}

#[test]
fn the_list_at_120_by_40() {
    check("list_120x40", &screen(&mut model(), 120, 40));
}

#[test]
fn the_list_at_80_by_24_stays_readable() {
    let text = screen(&mut model(), 80, 24);
    assert!(text.lines().all(|line| line.chars().count() <= 80));
    check("list_80x24", &text);
}

#[test]
fn a_filtered_list_with_the_prompt_open() {
    let mut model = model();
    for key in [Key::Char('/'), Key::Char('s'), Key::Char('t'), Key::Char('r')] {
        model.update(Input::Key(key));
    }
    check("filter_80x24", &screen(&mut model, 80, 24));
}

#[test]
fn the_detail_view_with_attempts_and_a_masked_secret() {
    let mut model = model();
    model.update(Input::Key(Key::Char('g')));
    model.update(Input::Key(Key::Char('j')));
    model.update(Input::Key(Key::Enter));
    let id = model.detail.as_ref().expect("opened").id.clone();
    let attempt = |status, outcome, will_retry| DeliveryResult {
        target: Some("http://localhost:3000/webhooks/stripe".into()),
        response_headers: vec![("content-type".into(), "text/plain".into())],
        response: Some("no such invoice\tin this app".into()),
        will_retry,
        signature: Some(SignatureCheck {
            scheme: "stripe".into(),
            valid: false,
            reason: Some("signature mismatch".into()),
        }),
        recorded_at_ms: Some(AT + 200_000),
        ..DeliveryResult::new(outcome, Some(status), 12, 1)
    };
    let detail = EventDetail {
        event: Event {
            id: id.clone(),
            seq: 2,
            received_at_ms: AT + 122_000,
            method: "POST".into(),
            path: "/stripe".into(),
            query: Some("live=1".into()),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("stripe-signature".into(), "t=1,v1=deadbeef".into()),
            ],
            body: Bytes::from_static(br#"{"type":"charge.failed","amount":10.50,"a":{"b":[1,2]}}"#),
        },
        state: DeliveryState::Rejected,
        deliveries: vec![attempt(404, Outcome::Rejected, false)],
    };
    model.update(Input::Detail(id, Ok(detail)));
    let text = screen(&mut model, 80, 24);
    assert!(!text.contains("deadbeef"), "secrets stay masked");
    check("detail_80x24", &text);
}

#[test]
fn the_help_overlay_lists_every_key() {
    let mut model = model();
    model.update(Input::Key(Key::Char('?')));
    let text = screen(&mut model, 80, 24);
    for (keys, _) in crate::tui::keys::HELP {
        assert!(text.contains(keys), "{keys} missing:\n{text}");
    }
    check("help_80x24", &text);
}

#[test]
fn the_header_counts_down_to_the_next_reconnect() {
    let mut model = model();
    let since = model.now;
    model.update(Input::Ui(UiEvent::Reconnecting {
        reason: "connection refused".into(),
        delay: Duration::from_millis(3500),
        attempt: 2,
    }));
    model.now = since + Duration::from_millis(1200);
    let text = screen(&mut model, 120, 40);
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("relay lost, reconnecting in 3s (attempt 2): connection refused"),
        "{header}"
    );
}

#[test]
fn lost_events_stay_in_the_header_after_the_status_line_moves_on() {
    let mut model = model();
    let gap = |from_seq, to_seq| UiEvent::Gap {
        at: time::OffsetDateTime::UNIX_EPOCH,
        gap: hookrelay_proto::Gap { from_seq, to_seq, reason: hookrelay_proto::GapReason::Expired },
    };
    model.update(Input::Ui(gap(20, 24)));
    model.update(Input::Ui(gap(30, 30)));
    model.update(Input::Ui(UiEvent::Notice("something else".into())));
    for width in [120, 80] {
        let text = screen(&mut model, width, 24);
        let header = text.lines().next().unwrap_or_default();
        assert!(header.ends_with("✗ 6 events lost"), "{width} columns: {header}");
    }
}
