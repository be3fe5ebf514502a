use std::time::{Duration, Instant};

use hookrelay_proto::{DeliveryState, EventDetail, EventSummary, Outcome};
use time::UtcOffset;

use super::*;
use crate::output::queue::{DeliveryLine, EventRef};
use crate::tui::keys::Key;
use crate::tui::row::RowState;

fn summary(seq: u64) -> EventSummary {
    EventSummary {
        id: format!("evt_{seq}"),
        seq,
        received_at_ms: 1_767_373_331_000 + seq as i64 * 1000,
        method: "POST".into(),
        path: format!("/hooks/{seq}"),
        query: None,
        size: 2,
        event_type: Some(
            if seq.is_multiple_of(2) { "invoice.paid" } else { "charge.failed" }.into(),
        ),
        state: DeliveryState::Delivered,
        last_result: None,
    }
}

fn line(seq: u64, outcome: Outcome, status: Option<u16>) -> DeliveryLine {
    DeliveryLine {
        id: format!("evt_{seq}"),
        seq,
        path: format!("/hooks/{seq}"),
        ..crate::test_support::line(outcome, status)
    }
}

fn ready() -> UiEvent {
    UiEvent::Ready {
        channel: "ch_1".into(),
        ingest_url: "http://127.0.0.1:8787/h/ch_1".into(),
        forward_to: Some("http://localhost:3000/".into()),
        routes: vec![],
        relay: "embedded".into(),
    }
}

/// A model that got the channel and the history `seqs`.
fn with_history(seqs: std::ops::RangeInclusive<u64>) -> Model {
    let mut model = Model::new(Instant::now(), UtcOffset::UTC);
    model.update(Input::Resized(5));
    assert_eq!(model.update(Input::Ui(ready())), [Command::LoadLatest]);
    model.update(Input::Latest(seqs.map(summary).collect()));
    model
}

fn key(model: &mut Model, key: Key) -> Vec<Command> {
    model.update(Input::Key(key))
}

fn chars(model: &mut Model, text: &str) {
    for c in text.chars() {
        key(model, Key::Char(c));
    }
}

#[test]
fn live_events_are_followed_until_the_user_moves_and_again_at_the_bottom() {
    let mut model = with_history(1..=3);
    assert_eq!(model.selected, Some(3));
    model.update(Input::Ui(UiEvent::Delivery(line(4, Outcome::Delivered, Some(200)))));
    assert_eq!(model.selected, Some(4), "follows the newest");
    key(&mut model, Key::Char('k'));
    assert_eq!((model.selected, model.follow), (Some(3), false));
    model.update(Input::Ui(UiEvent::Delivery(line(5, Outcome::Delivered, Some(200)))));
    assert_eq!(model.selected, Some(3), "stays where the user is");
    key(&mut model, Key::Down);
    key(&mut model, Key::Char('j'));
    assert_eq!((model.selected, model.follow), (Some(5), true));
    model.update(Input::Ui(UiEvent::Delivery(line(6, Outcome::Delivered, Some(200)))));
    assert_eq!(model.selected, Some(6), "follows again");
    // The list shows the last `list_height` rows while following.
    assert_eq!(model.top, Some(2));
}

#[test]
fn moving_above_the_oldest_row_pages_older_events_in() {
    let mut model = with_history(101..=110);
    assert!(key(&mut model, Key::PageUp).is_empty(), "still rows above");
    assert_eq!(model.selected, Some(106));
    assert_eq!(key(&mut model, Key::Char('g')), [Command::LoadOlder { before: 101 }]);
    assert_eq!(model.selected, Some(101));
    assert!(key(&mut model, Key::Up).is_empty(), "one page at a time");
    model.update(Input::Older((91..=100).map(summary).collect()));
    assert_eq!(model.selected, Some(100), "the first older row is selected");
    assert_eq!(model.window.bounds(), Some((91, 110)));
    assert_eq!(key(&mut model, Key::Char('g')), [Command::LoadOlder { before: 91 }]);
    model.update(Input::Older(Vec::new()));
    assert_eq!(model.status.as_deref(), Some("this is the oldest event the relay has"));
    assert_eq!(key(&mut model, Key::Char('g')), [], "nothing older to ask for");
}

#[test]
fn g_end_from_a_detached_window_reloads_the_newest_page() {
    let mut model = with_history(1..=3);
    model.window.detached = true;
    assert_eq!(key(&mut model, Key::Char('G')), [Command::LoadLatest]);
    assert!(model.follow);
}

#[test]
fn enter_opens_the_detail_which_reloads_when_its_event_changes() {
    let mut model = with_history(1..=3);
    key(&mut model, Key::Up);
    assert_eq!(key(&mut model, Key::Enter), [Command::LoadDetail { id: "evt_2".into() }]);
    assert_eq!(model.screen, Screen::Detail);
    let detail = EventDetail {
        event: crate::test_support::event("/hooks/2", &[], "{}"),
        state: DeliveryState::Delivered,
        deliveries: vec![],
    };
    model.update(Input::Detail("evt_other".into(), Ok(detail.clone())));
    assert!(model.detail.as_ref().is_some_and(|view| view.loaded.is_none()), "not ours");
    model.update(Input::Detail("evt_2".into(), Ok(detail)));
    assert!(model.detail.as_ref().is_some_and(|view| view.loaded.is_some()));
    let replayed = DeliveryLine { replay: true, ..line(2, Outcome::Delivered, Some(200)) };
    let commands = model.update(Input::Ui(UiEvent::Delivery(replayed)));
    assert_eq!(commands, [Command::LoadDetail { id: "evt_2".into() }]);
    assert_eq!(key(&mut model, Key::Char('r')), [Command::Replay { id: "evt_2".into() }]);
    assert_eq!(key(&mut model, Key::Char('e')), [Command::Edit { id: "evt_2".into() }]);
    key(&mut model, Key::Char('j'));
    assert_eq!(model.detail.as_ref().map(|view| view.scroll), Some(1));
    key(&mut model, Key::Esc);
    assert_eq!((model.screen, model.detail.is_none()), (Screen::List, true));
    assert_eq!(key(&mut model, Key::Char('c')), [Command::CopyCurl { id: "evt_2".into() }]);
    assert_eq!(key(&mut model, Key::Char('y')), [Command::CopyBody { id: "evt_2".into() }]);
}

#[test]
fn s_stops_the_event_being_retried() {
    let mut model = with_history(1..=2);
    assert_eq!(key(&mut model, Key::Char('s')), []);
    assert_eq!(model.status.as_deref(), Some("no event is being retried"));
    let waiting = EventRef { id: "evt_3".into(), seq: 3, method: "POST".into(), path: "/x".into() };
    let delay = Duration::from_secs(1);
    model.update(Input::Ui(UiEvent::Waiting {
        target: "localhost:3000".into(),
        event: waiting,
        waits: 1,
        reason: "connection refused".into(),
        delay,
    }));
    assert_eq!(model.window.get(3).map(|row| row.state), Some(RowState::Waiting));
    key(&mut model, Key::Char('k'));
    assert_eq!(key(&mut model, Key::Char('s')), [Command::Stop { seq: 3 }], "the only one");
    let retried = line(4, Outcome::Failed, Some(503));
    model.update(Input::Ui(UiEvent::Retrying { line: retried, delay }));
    assert_eq!(model.window.get(4).map(|row| row.state), Some(RowState::Retrying));
    key(&mut model, Key::Char('k'));
    assert_eq!(model.selected, Some(1));
    assert_eq!(key(&mut model, Key::Char('s')), [], "two: which one?");
    key(&mut model, Key::Char('G'));
    assert_eq!(key(&mut model, Key::Char('s')), [Command::Stop { seq: 4 }], "the selected one");
    let failed = DeliveryLine {
        error: Some("stopped waiting (s in the inspector): the app answered 503".into()),
        ..line(4, Outcome::Failed, Some(503))
    };
    model.update(Input::Ui(UiEvent::Delivery(failed)));
    assert_eq!(model.window.get(4).map(|row| row.state), Some(RowState::Failed));
}

#[test]
fn the_filter_narrows_the_list_and_esc_clears_it() {
    let mut model = with_history(1..=6);
    key(&mut model, Key::Char('/'));
    chars(&mut model, "invoicx");
    key(&mut model, Key::Backspace);
    chars(&mut model, "e");
    assert!(model.filter_editing);
    key(&mut model, Key::Char('q'));
    assert!(!model.quit, "q is text while typing the filter");
    key(&mut model, Key::Backspace);
    key(&mut model, Key::Enter);
    let seqs: Vec<u64> = model.visible().iter().map(|row| row.seq).collect();
    assert_eq!(seqs, [2, 4, 6]);
    key(&mut model, Key::Up);
    assert_eq!(model.selected, Some(4), "moves among the matching rows");
    key(&mut model, Key::Esc);
    assert!(model.filter.is_empty());
    assert_eq!(model.visible().len(), 6);
    assert_eq!((model.selected, model.top), (Some(4), Some(2)), "the list stays full");
}

#[test]
fn help_opens_and_any_key_closes_it_and_q_or_ctrl_c_quit() {
    let mut model = with_history(1..=1);
    key(&mut model, Key::Char('?'));
    assert!(model.help);
    assert_eq!(key(&mut model, Key::Char('x')), []);
    assert!(!model.help && !model.quit);
    assert_eq!(key(&mut model, Key::Char('q')), [Command::Quit]);
    let mut model = with_history(1..=1);
    model.filter_editing = true;
    assert_eq!(key(&mut model, Key::Interrupt), [Command::Quit]);
    assert!(model.quit);
}

#[test]
fn connection_states_and_notices_reach_the_header_and_status_line() {
    let mut model = with_history(1..=1);
    model.update(Input::Ui(UiEvent::Connecting { relay: "http://r/".into() }));
    assert_eq!(model.conn, Conn::Connecting);
    model.update(Input::Ui(UiEvent::Connected { last_seq: 1, after: 0 }));
    assert_eq!(model.conn, Conn::Connected);
    let reason = "could not reach the relay".to_owned();
    let delay = Duration::from_secs(4);
    model.update(Input::Ui(UiEvent::Reconnecting { reason: reason.clone(), delay, attempt: 2 }));
    assert!(matches!(model.conn, Conn::Reconnecting { attempt: 2, .. }));
    model.update(Input::Ui(UiEvent::Notice("created channel ch_1".into())));
    assert_eq!(model.status.as_deref(), Some("created channel ch_1"));
    model.update(Input::Ui(UiEvent::Stopped { in_flight: 0, resume_after: 1 }));
    assert_eq!(model.stopped, Some((0, 1)));
}
