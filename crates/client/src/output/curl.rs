//! A `curl` command line that reproduces a stored request byte-exact against a URL: every
//! header in order, nothing curl would add on its own, and the exact body (binary bodies
//! go through `base64 -d`, since a shell string cannot hold every byte).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Headers curl adds by itself unless told not to (an empty `-H 'Name:'` removes one).
const CURL_DEFAULT_HEADERS: &[&str] = &["accept", "user-agent", "content-type", "expect"];

/// Quotes `text` for a POSIX shell.
pub(crate) fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The command. `headers` are the ones to send, already filtered of hop-by-hop names, `Host`
/// and `Content-Length` (curl sets those from the URL and body).
pub(crate) fn command(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> String {
    let mut args: Vec<String> = vec![
        "curl".into(),
        "--http1.1".into(),
        "--path-as-is".into(),
        "--globoff".into(),
        "-X".into(),
        shell_quote(method),
        shell_quote(url),
    ];
    for (name, value) in headers {
        args.push("-H".into());
        // curl drops a header given as `Name: ` with an empty value; `Name;` sends it empty.
        args.push(shell_quote(&if value.is_empty() {
            format!("{name};")
        } else {
            format!("{name}: {value}")
        }));
    }
    for default in CURL_DEFAULT_HEADERS {
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case(default)) {
            args.push("-H".into());
            args.push(shell_quote(&format!("{default}:")));
        }
    }
    let text = std::str::from_utf8(body).ok().filter(|text| !text.contains('\0'));
    match (body.is_empty(), text) {
        (true, _) => args.join(" "),
        // --data-raw, unlike --data-binary, never reads a file for a body starting with `@`.
        (false, Some(text)) => {
            args.push("--data-raw".into());
            args.push(shell_quote(text));
            args.join(" ")
        }
        (false, None) => {
            args.push("--data-binary".into());
            args.push("@-".into());
            format!(
                "printf %s {} | base64 -d | {}",
                shell_quote(&STANDARD.encode(body)),
                args.join(" ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn text_body_is_quoted_inline() {
        let cmd = command(
            "POST",
            "http://localhost:3000/x?a=1",
            &h(&[("content-type", "application/json"), ("x-q", "it's")]),
            b"{\"a\":\"it's\"}",
        );
        assert_eq!(
            cmd,
            "curl --http1.1 --path-as-is --globoff -X 'POST' 'http://localhost:3000/x?a=1' -H 'content-type: application/json' -H 'x-q: it'\\''s' -H 'accept:' -H 'user-agent:' -H 'expect:' --data-raw '{\"a\":\"it'\\''s\"}'"
        );
    }

    #[test]
    fn binary_body_goes_through_base64() {
        let cmd = command("PUT", "http://h/", &[], &[0, 255]);
        assert!(cmd.starts_with("printf %s 'AP8=' | base64 -d | curl "), "{cmd}");
        assert!(cmd.ends_with("--data-binary @-"), "{cmd}");
    }

    #[test]
    fn empty_values_and_empty_bodies() {
        let cmd = command("GET", "http://h/", &h(&[("x-empty", "")]), b"");
        assert!(cmd.contains("-H 'x-empty;'"), "{cmd}");
        assert!(!cmd.contains("--data-binary"), "{cmd}");
    }
}
