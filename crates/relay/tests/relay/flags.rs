//! `hookrelayd`'s command line: sizes and durations read like every other flag of hookrelay
//! (`hookrelay_flags`), defaults are shown as people type them, and `--version` names the
//! build.

use std::process::Command;

fn hookrelayd(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
        .args(args)
        .env_remove("HOOKRELAY_ADMIN_TOKEN")
        .output()
        .expect("hookrelayd runs");
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (output.status.code(), text(output.stdout), text(output.stderr))
}

#[test]
fn help_shows_sizes_and_durations_as_people_type_them() {
    let (code, help, _) = hookrelayd(&["--help"]);
    assert_eq!(code, Some(0));
    for default in ["[default: 25MiB]", "[default: 7d]", "[default: 1GiB]"] {
        assert!(help.contains(default), "{default} missing from:\n{help}");
    }
    assert!(!help.contains("26214400"), "{help}");
    for var in ["HOOKRELAY_ADMIN_TOKEN", "RUST_LOG"] {
        assert!(help.contains(var), "{var} missing from:\n{help}");
    }
    assert!(help.contains("Examples:\n  hookrelayd"), "{help}");
}

#[test]
fn bad_sizes_and_durations_are_usage_errors_naming_the_flag() {
    for (flag, value) in
        [("--max-body", "25 parsecs"), ("--retention-age", "soon"), ("--max-channel-bytes", "x")]
    {
        let (code, _, stderr) = hookrelayd(&[flag, value]);
        assert_eq!(code, Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let (code, stdout, _) = hookrelayd(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with(&format!("hookrelayd {}", env!("CARGO_PKG_VERSION"))), "{stdout}");
    assert!(stdout.contains("(commit ") && stdout.contains(", built "), "{stdout}");
}
