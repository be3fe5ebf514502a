//! `hookrelay login` and `logout` (DESIGN §4): a deployed relay becomes the laptop's default
//! for every command, after checking that it is a hookrelay relay and that the admin token
//! may create channels; each failure is a clear error with exit 1.

use crate::app::LocalApp;
use crate::cli::{Cli, Home};
use crate::relay::{Http, RelayProcess, number};

const ADMIN: &str = "hra_test_admin_token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_checks_the_relay_and_token_then_every_command_uses_it_until_logout() {
    let data = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start_with(0, data.path(), &["--admin-token", ADMIN]).await;
    let home = Home::new();
    let app = LocalApp::start().await;

    // Each way it can go wrong says what to do, with exit 1.
    let (status, _, err) = Cli::run(&home, &["login", &relay.url]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("guards channel creation: pass --admin-token"), "{err}");
    let (status, _, err) =
        Cli::run(&home, &["login", &relay.url, "--admin-token", "hra_wrong"]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("refused the admin token"), "{err}");
    let (status, _, err) = Cli::run(&home, &["login", &app.url("")]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("not as a hookrelay relay"), "{err}");
    let closed = format!("http://127.0.0.1:{}", crate::app::free_port());
    let (status, _, err) = Cli::run(&home, &["login", &closed]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("could not reach the relay"), "{err}");
    assert!(!home.config_dir().join("login.json").exists(), "nothing saved by a failed login");

    // The real one.
    let (status, out, err) = Cli::run(&home, &["login", &relay.url, "--admin-token", ADMIN]).await;
    assert!(status.success(), "{err}");
    let ingest_url = out
        .lines()
        .find_map(|line| line.trim().strip_prefix("ingest URL  "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an ingest URL line")
        .to_owned();
    assert!(ingest_url.starts_with(&format!("{}/h/ch_", relay.url)), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let saved = home.config_dir().join("login.json");
        let mode = saved.metadata().expect("saved").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "it holds the admin token");
    }
    // A second login reuses the channel: the URL at the provider stays valid.
    let (_, again, _) = Cli::run(&home, &["login", &relay.url, "--admin-token", ADMIN]).await;
    assert!(again.contains(&ingest_url), "{again}");

    // listen and events, with no --relay, use it.
    let target = app.url("/");
    let mut cli = Cli::spawn(&home, &["listen", "--json", "-f", &target]);
    let ready = cli.ready().await;
    assert_eq!(ready["ingest_url"], ingest_url.as_str());
    Http::default().ingest("POST", &ingest_url, &[], r#"{"n":7}"#).await;
    assert_eq!(cli.deliveries(1).await[0]["status"], 200);
    let last = app.records().pop().expect("a request");
    assert_eq!(number(&last.body), 7, "the last request is the event");
    assert!(cli.interrupt().await.success());
    let (status, listed, _) = Cli::run(&home, &["events", "--json"]).await;
    assert!(status.success());
    assert_eq!(listed.lines().count(), 1, "{listed}");

    let (status, out, _) = Cli::run(&home, &["logout"]).await;
    assert!(status.success() && out.contains(&format!("logged out of {}", relay.url)), "{out}");
    assert!(!home.config_dir().join("login.json").exists());
    relay.kill().await;
}
