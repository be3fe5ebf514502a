//! `listen --tui` run as a person runs it: the real binary in a pseudo-terminal (`script`
//! from util-linux), keys typed into it, and what the local app and the relay's history
//! received checked afterwards.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::ChildStdin;
use tokio::sync::Notify;

use crate::WAIT;
use crate::history::Setup;

/// Everything the inspector wrote to its terminal, collected as it comes.
#[derive(Clone, Default)]
struct Screen(Arc<(Mutex<Vec<u8>>, Notify)>);

impl Screen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.0.lock().expect("screen")).into_owned()
    }

    /// The output's words: escape sequences (colors, cursor moves between the cells that
    /// changed) count as spaces.
    fn words(&self) -> String {
        let text = self.text();
        let mut plain = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\u{1b}' {
                plain.push(c);
                continue;
            }
            plain.push(' ');
            if chars.next_if_eq(&'[').is_some() {
                // A CSI sequence ends with its first byte in @..~.
                while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {}
            } else {
                chars.next();
            }
        }
        plain.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Waits until the screen has shown `needle` (compared word by word).
    async fn wait_for(&self, needle: &str) {
        let needle = needle.split_whitespace().collect::<Vec<_>>().join(" ");
        let wait = async {
            loop {
                let changed = self.0.1.notified();
                if self.words().contains(&needle) {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(WAIT, wait).await.is_err() {
            panic!("the screen never showed {needle:?}:\n{}", self.words());
        }
    }
}

async fn press(stdin: &mut ChildStdin, keys: &str) {
    stdin.write_all(keys.as_bytes()).await.expect("typed");
    stdin.flush().await.expect("flushed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_forwards_replays_on_r_stops_a_retried_event_on_s_and_quits_on_q() {
    let setup = Setup::start().await;
    let json: &[(&str, &[u8])] = &[("content-type", b"application/json")];
    let first = setup.ingest("POST", "/paid", json, r#"{"type":"invoice.paid"}"#).await;
    let line = format!(
        "stty cols 100 rows 30; exec {} listen --tui --max-attempts 0 --relay {} --channel {} \
         --token {} -f {}",
        env!("CARGO_BIN_EXE_hookrelay"),
        setup.relay.url,
        setup.channel.channel,
        setup.channel.token,
        setup.app.url("/webhooks"),
    );
    let mut child = tokio::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env("HOOKRELAY_CONFIG_DIR", setup.home.config_dir())
        .env("HOOKRELAY_DATA_DIR", setup.home.data_dir())
        .env_remove("HOOKRELAY_RELAY")
        .env_remove("HOOKRELAY_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("script runs");
    let mut stdin = child.stdin.take().expect("piped");
    let screen = Screen::default();
    let mut stdout = child.stdout.take().expect("piped");
    tokio::spawn({
        let screen = screen.clone();
        async move {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut chunk).await {
                screen.0.0.lock().expect("screen").extend_from_slice(&chunk[..n]);
                screen.0.1.notify_waiters();
            }
        }
    });

    // Forwarded as `listen` forwards, and drawn.
    let records = setup.app.wait_for(1).await;
    assert_eq!(records[0].header("hookrelay-event-id").as_deref(), Some(first.as_str()));
    screen.wait_for("invoice.paid").await;
    screen.wait_for("connected").await;

    // `r` replays the selected (newest) event to the app.
    press(&mut stdin, "r").await;
    let records = setup.app.wait_for(2).await;
    assert_eq!(records[1].header("hookrelay-event-id").as_deref(), Some(first.as_str()));
    assert_eq!(records[1].path_and_query, "/webhooks/paid");
    screen.wait_for("replayed seq 1").await;

    // An event the app keeps failing is retried forever (--max-attempts 0) and holds the
    // queue, until `s` gives up on it: then the next one goes.
    let failing: &[(&str, &[u8])] = &[("x-respond", b"503")];
    let stuck = setup.ingest("POST", "/stuck", failing, "{}").await;
    let next = setup.ingest("POST", "/next", &[], "{}").await;
    setup.app.wait_for(4).await;
    let ids = |records: &[crate::app::Recorded]| -> Vec<String> {
        records.iter().filter_map(|r| r.header("hookrelay-event-id")).collect()
    };
    assert!(!ids(&setup.app.records()).contains(&next), "held behind the retried one");
    press(&mut stdin, "s").await;
    let delivered_next = async {
        loop {
            let records = setup.app.wait_for(setup.app.records().len() + 1).await;
            if ids(&records).contains(&next) {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, delivered_next).await.expect("the next event went");

    // `?` opens the help, any key closes it, `q` quits with the terminal restored.
    press(&mut stdin, "?").await;
    screen.wait_for("any key closes this help").await;
    press(&mut stdin, " q").await;
    let status = tokio::time::timeout(WAIT, child.wait()).await.expect("quits").expect("waited");
    assert!(status.success(), "{status:?}\n{}", screen.text());
    let output = screen.text();
    assert!(output.contains("\u{1b}[?1049l"), "left the alternate screen: {output:?}");
    assert!(output.contains("stopped: 2 delivered, 1 failed"), "{output:?}");

    // History has the replay, and the stopped event as failed.
    let shown = setup.json_lines(&["show", &first, "--json"]).await;
    let deliveries = shown[0]["deliveries"].as_array().expect("deliveries").clone();
    assert!(deliveries.iter().any(|d| d["replay"] == Value::Bool(true)), "{deliveries:?}");
    let events = setup.json_lines(&["events", "--json"]).await;
    let state = |id: &str| {
        let row = events.iter().find(|row| row["id"] == id).expect("listed");
        row["state"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(state(&stuck), "failed");
    assert_eq!(state(&next), "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_tui_falls_back_to_the_log_and_says_so() {
    let setup = Setup::start().await;
    setup.ingest("POST", "/a", &[], "{}").await;
    let target = setup.app.url("/webhooks");
    let mut child =
        setup.command(&["listen", "--tui", "-f", &target], &[]).spawn().expect("starts");
    setup.app.wait_for(1).await;
    crate::cli::interrupt(&child);
    let output = tokio::time::timeout(WAIT, async {
        let mut err = String::new();
        let mut out = String::new();
        child.stderr.take().expect("piped").read_to_string(&mut err).await.expect("stderr");
        child.stdout.take().expect("piped").read_to_string(&mut out).await.expect("stdout");
        (child.wait().await.expect("exits"), out, err)
    })
    .await
    .expect("exits in time");
    let (status, out, err) = output;
    assert!(status.success(), "{err}");
    assert!(err.contains("--tui needs a terminal"), "{err}");
    assert!(out.contains("POST /a") && !out.contains('\u{1b}'), "the plain log: {out}");
}
