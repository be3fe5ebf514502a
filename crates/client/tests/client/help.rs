//! What the CLI says about itself: `--help` with examples, defaults as people type them and
//! every environment variable; `--version` with the build; a completion script for each
//! shell (bash's checked with `bash -n`) and a man page.

use crate::cli::{Cli, Home};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bash_completion_script_parses_and_every_shell_gets_one() {
    let home = Home::new();
    let (status, script, stderr) = Cli::run(&home, &["completions", "bash"]).await;
    assert!(status.success(), "{stderr}");
    assert!(script.contains("hookrelay") && script.contains("--forward-to"), "{script}");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hookrelay.bash");
    std::fs::write(&path, &script).expect("written");
    let checked = std::process::Command::new("bash").arg("-n").arg(&path).output().expect("bash");
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    for shell in ["zsh", "fish", "powershell"] {
        let (status, script, stderr) = Cli::run(&home, &["completions", shell]).await;
        assert!(status.success(), "{shell}: {stderr}");
        assert!(script.contains("forward-to"), "{shell}: {script}");
    }
    let (status, _, stderr) = Cli::run(&home, &["completions", "tcsh"]).await;
    assert_eq!(status.code(), Some(2), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn man_prints_a_page_with_the_commands_and_the_environment() {
    let home = Home::new();
    let (status, page, stderr) = Cli::run(&home, &["man"]).await;
    assert!(status.success(), "{stderr}");
    assert!(page.contains(".TH hookrelay 1"), "{page}");
    for word in ["listen", "events", "completions", "HOOKRELAY_DATA_DIR", "HOOKRELAY_LOG"] {
        assert!(page.contains(word), "{word} missing from the man page");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_shows_examples_human_defaults_and_variables_without_a_stray_equals() {
    let home = Home::new();
    let (_, top, _) = Cli::run(&home, &["--help"]).await;
    for var in
        ["HOOKRELAY_CONFIG_DIR", "HOOKRELAY_DATA_DIR", "HOOKRELAY_LOG", "HOOKRELAY_ADMIN_TOKEN"]
    {
        assert!(top.contains(var), "{var}: {top}");
    }
    let (status, listen, _) = Cli::run(&home, &["listen", "--help"]).await;
    assert!(status.success());
    let words = listen.split_whitespace().collect::<Vec<_>>().join(" ");
    for shown in ["[default: 30s]", "[env: HOOKRELAY_RELAY]", "[env: HOOKRELAY_PORT]"] {
        assert!(words.contains(shown), "{shown}: {listen}");
    }
    assert!(words.contains("[env: HOOKRELAY_ADMIN_TOKEN]"), "{listen}");
    assert!(!listen.contains("=]"), "{listen}");
    assert!(listen.contains("Examples:\n  hookrelay listen -f 3000"), "{listen}");
    for command in ["events", "show", "replay", "trigger", "sandbox"] {
        let (_, help, _) = Cli::run(&home, &[command, "--help"]).await;
        assert!(help.contains(&format!("Examples:\n  hookrelay {command}")), "{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_names_the_commit_and_the_build_date() {
    let home = Home::new();
    let (status, version, _) = Cli::run(&home, &["--version"]).await;
    assert!(status.success());
    assert!(version.starts_with(&format!("hookrelay {}", env!("CARGO_PKG_VERSION"))), "{version}");
    assert!(version.contains("(commit ") && version.contains(", built "), "{version}");
}
