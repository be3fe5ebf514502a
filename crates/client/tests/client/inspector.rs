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

    /// The screen as a terminal of [`COLUMNS`]×[`ROWS`] would show it now: enough of a
    /// VT100 for what ratatui and crossterm write (cursor moves, clears; colors and other
    /// sequences ignored), since only the cells that changed are written each frame.
    fn rows(&self) -> Vec<String> {
        let text = self.text();
        let mut grid = vec![vec![' '; COLUMNS]; ROWS];
        let (mut row, mut col) = (0usize, 0usize);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\u{1b}' => match chars.next() {
                    Some('[') => {
                        let mut params = String::new();
                        let mut end = ' ';
                        for p in chars.by_ref() {
                            if ('@'..='~').contains(&p) {
                                end = p;
                                break;
                            }
                            params.push(p);
                        }
                        let numbers: Vec<usize> =
                            params.split(';').map(|n| n.parse().unwrap_or(1)).collect();
                        match end {
                            'H' => {
                                row = numbers.first().copied().unwrap_or(1).saturating_sub(1);
                                col = numbers.get(1).copied().unwrap_or(1).saturating_sub(1);
                            }
                            'J' if params == "2" => grid = vec![vec![' '; COLUMNS]; ROWS],
                            _ => {}
                        }
                    }
                    // OSC (the clipboard): up to BEL.
                    Some(']') => while chars.next().is_some_and(|c| c != '\u{7}') {},
                    _ => {}
                },
                '\r' => col = 0,
                '\n' => row += 1,
                c if c.is_control() => {}
                c => {
                    if let Some(cell) = grid.get_mut(row).and_then(|line| line.get_mut(col)) {
                        *cell = c;
                    }
                    col += 1;
                }
            }
        }
        grid.into_iter().map(|line| line.into_iter().collect()).collect()
    }

    /// Waits until a line of the screen shows `needle`.
    async fn wait_for(&self, needle: &str) {
        let wait = async {
            loop {
                let changed = self.0.1.notified();
                if self.rows().iter().any(|row| row.contains(needle)) {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(WAIT, wait).await.is_err() {
            panic!("the screen never showed {needle:?}:\n{}", self.rows().join("\n"));
        }
    }
}

/// The pseudo-terminal's size.
const COLUMNS: usize = 100;
const ROWS: usize = 30;

/// `hookrelay listen --tui` on a 100×30 pseudo-terminal, forwarding to the setup's app.
struct Tui {
    child: tokio::process::Child,
    stdin: ChildStdin,
    screen: Screen,
}

impl Tui {
    fn start(setup: &Setup, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let line = format!(
            "stty cols {COLUMNS} rows {ROWS}; exec {} listen --tui --relay {} --channel {} \
             --token {} -f {} {}",
            env!("CARGO_BIN_EXE_hookrelay"),
            setup.relay.url,
            setup.channel.channel,
            setup.channel.token,
            setup.app.url("/webhooks"),
            extra.join(" "),
        );
        let mut child = tokio::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("TERM", "xterm-256color")
            .env("HOOKRELAY_CONFIG_DIR", setup.home.config_dir())
            .env("HOOKRELAY_DATA_DIR", setup.home.data_dir())
            .env_remove("HOOKRELAY_RELAY")
            .env_remove("HOOKRELAY_TOKEN")
            .env_remove("VISUAL")
            .env_remove("EDITOR")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("script runs");
        let stdin = child.stdin.take().expect("piped");
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
        Self { child, stdin, screen }
    }

    async fn press(&mut self, keys: &str) {
        self.stdin.write_all(keys.as_bytes()).await.expect("typed");
        self.stdin.flush().await.expect("flushed");
    }

    /// Presses `q` and returns everything written to the terminal once it exited 0.
    async fn quit(self) -> String {
        self.quit_with("q").await
    }

    /// [`Tui::quit`] with other keys.
    async fn quit_with(mut self, keys: &str) -> String {
        self.press(keys).await;
        let status = tokio::time::timeout(WAIT, self.child.wait()).await.expect("quits");
        let output = self.screen.text();
        assert!(status.expect("waited").success(), "{output:?}");
        assert!(output.contains("\u{1b}[?1049l"), "left the alternate screen: {output:?}");
        output
    }
}

/// The payloads of the OSC 52 sequences in `output`, decoded.
fn copied(output: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    output
        .split("\u{1b}]52;c;")
        .skip(1)
        .filter_map(|rest| rest.split_once('\u{7}'))
        .map(|(payload, _)| {
            base64::engine::general_purpose::STANDARD.decode(payload).expect("base64")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_forwards_replays_on_r_stops_a_retried_event_on_s_and_quits_on_q() {
    let setup = Setup::start().await;
    let json: &[(&str, &[u8])] = &[("content-type", b"application/json")];
    let first = setup.ingest("POST", "/paid", json, r#"{"type":"invoice.paid"}"#).await;
    let mut tui = Tui::start(&setup, &["--max-attempts", "0"], &[]);
    let screen = tui.screen.clone();

    // Forwarded as `listen` forwards, and drawn.
    let records = setup.app.wait_for(1).await;
    assert_eq!(records[0].header("hookrelay-event-id").as_deref(), Some(first.as_str()));
    screen.wait_for("invoice.paid").await;
    screen.wait_for("connected").await;

    // `r` replays the selected (newest) event to the app.
    tui.press("r").await;
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
    tui.press("s").await;
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
    tui.press("?").await;
    screen.wait_for("any key closes this help").await;
    tui.press(" ").await;
    let output = tui.quit().await;
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
    let output = tokio::time::timeout(WAIT, async {
        // The app's answer comes back before the delivery line is printed: wait for the line.
        let mut out = String::new();
        let mut stdout = child.stdout.take().expect("piped");
        let mut chunk = [0u8; 4096];
        while !out.contains("POST /a") {
            let read = stdout.read(&mut chunk).await.expect("stdout");
            assert!(read > 0, "listen ended before the delivery line: {out}");
            out.push_str(&String::from_utf8_lossy(&chunk[..read]));
        }
        crate::cli::interrupt(&child);
        stdout.read_to_string(&mut out).await.expect("stdout");
        let mut err = String::new();
        child.stderr.take().expect("piped").read_to_string(&mut err).await.expect("stderr");
        (child.wait().await.expect("exits"), out, err)
    })
    .await
    .expect("exits in time");
    let (status, out, err) = output;
    assert!(status.success(), "{err}");
    assert!(err.contains("--tui needs a terminal"), "{err}");
    assert!(!out.contains('\u{1b}'), "the plain log: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_replays_what_the_editor_left_and_c_and_y_copy_through_osc52() {
    let setup = Setup::start().await;
    let json: &[(&str, &[u8])] = &[("content-type", b"application/json")];
    let id = setup.ingest("POST", "/e", json, r#"{"amount":100}"#).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("editor.sh");
    std::fs::write(&script, "#!/bin/sh\nsed -i -e 's/100/999/' -e '1i x-edited: yes' \"$1\"\n")
        .expect("script");
    let editor = format!("sh {}", script.display());
    let mut tui = Tui::start(&setup, &[], &[("EDITOR", &editor)]);
    setup.app.wait_for(1).await;
    tui.screen.wait_for("/e").await;

    tui.press("e").await;
    let records = setup.app.wait_for(2).await;
    assert_eq!(&records[1].body[..], br#"{"amount":999}"#);
    assert_eq!(records[1].header("x-edited").as_deref(), Some("yes"));
    assert_eq!(records[1].header("hookrelay-event-id").as_deref(), Some(id.as_str()));
    tui.screen.wait_for("replayed seq 1").await;
    // The editor got the terminal, and the inspector took it back.
    assert!(tui.screen.text().matches("\u{1b}[?1049h").count() >= 2, "{:?}", tui.screen.text());

    tui.press("y").await;
    tui.screen.wait_for("copied the body of seq 1").await;
    tui.press("c").await;
    tui.screen.wait_for("copied the curl command for seq 1").await;
    let output = tui.quit().await;
    let copies = copied(&output);
    assert_eq!(copies.len(), 2, "{output:?}");
    assert_eq!(copies[0], br#"{"amount":100}"#, "the stored body, not the edit");
    let curl = String::from_utf8_lossy(&copies[1]).into_owned();
    assert!(curl.starts_with("curl ") && curl.contains(&setup.app.url("/webhooks/e")), "{curl}");
    assert!(curl.contains(r#"--data-raw '{"amount":100}'"#), "{curl}");

    let shown = setup.json_lines(&["show", &id, "--json"]).await;
    let deliveries = shown[0]["deliveries"].as_array().expect("deliveries").clone();
    let edited = deliveries.iter().filter(|d| d["edited"] == Value::Bool(true)).count();
    assert_eq!(edited, 1, "{deliveries:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrolling_above_the_newest_page_loads_older_events_from_the_relay() {
    let setup = Setup::start().await;
    // More than one page of history (the inspector asks for 200 at a time).
    for n in 1..=230 {
        setup.ingest("POST", &format!("/n{n}"), &[], "{}").await;
    }
    setup.listen_until(230).await;
    let mut tui = Tui::start(&setup, &[], &[]);
    tui.screen.wait_for("/n230").await;
    assert!(!tui.screen.rows().join("\n").contains("/n30 "), "only the newest page at first");
    // `g` goes to the oldest row held and asks for the page before it; `g` again, to the top.
    tui.press("g").await;
    tui.screen.wait_for("/n30 ").await;
    tui.press("g").await;
    tui.screen.wait_for("/n1 ").await;
    // Ctrl-C, which raw mode delivers as a key, quits like q.
    tui.quit_with("\u{3}").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_the_terminal_back_and_ends_listen_normally() {
    let setup = Setup::start().await;
    setup.ingest("POST", "/t", &[], "{}").await;
    let mut tui = Tui::start(&setup, &[], &[]);
    tui.screen.wait_for("● connected").await;
    tui.screen.wait_for("/t").await;
    // `exec` made hookrelay the child of `script`.
    let script = tui.child.id().expect("running").to_string();
    let found = tokio::process::Command::new("pgrep").args(["-P", &script]).output().await;
    let pid = String::from_utf8_lossy(&found.expect("pgrep runs").stdout).trim().to_owned();
    assert!(!pid.is_empty() && !pid.contains('\n'), "one child: {pid:?}");
    let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(sent.success());
    let status = tokio::time::timeout(WAIT, tui.child.wait()).await.expect("ends").expect("waited");
    let output = tui.screen.text();
    assert!(status.success(), "{status:?}: {output:?}");
    let restored = output.rfind("\u{1b}[?1049l").expect("left the alternate screen");
    assert!(restored > output.rfind("\u{1b}[?1049h").unwrap_or(0), "{output:?}");
    assert!(output[restored..].contains("stopped: 1 delivered"), "{output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_error_gives_the_terminal_back_before_it_is_printed() {
    let setup = Setup::start().await;
    setup.ingest("POST", "/f", &[], "{}").await;
    let mut tui = Tui::start(&setup, &["--exit-on-disconnect"], &[]);
    tui.screen.wait_for("● connected").await;
    tui.screen.wait_for("/f").await;
    setup.relay.stop().await;
    let status = tokio::time::timeout(WAIT, tui.child.wait()).await.expect("ends").expect("waited");
    let output = tui.screen.text();
    assert_eq!(status.code(), Some(1), "{output:?}");
    let restored = output.rfind("\u{1b}[?1049l").expect("left the alternate screen");
    assert!(output[restored..].contains("error: "), "{output:?}");
}
