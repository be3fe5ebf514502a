//! How a body looks in the terminal: JSON re-indented with syntax colors (numbers and key
//! order exactly as sent), form fields decoded, binary as a short hex dump with its size.

use crate::output::style::escape_controls;
use owo_colors::OwoColorize;

/// Bytes of a binary body shown in a hex dump; the rest is summarised.
const HEX_DUMP_LIMIT: usize = 256;

/// What kind of body this is, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No bytes.
    Empty,
    /// Valid JSON.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// UTF-8 text that is not JSON.
    Text,
    /// Anything else.
    Binary,
}

/// Classifies a body by its bytes, using the content type only to recognise forms.
pub(crate) fn classify(content_type: Option<&str>, body: &[u8]) -> BodyKind {
    if body.is_empty() {
        return BodyKind::Empty;
    }
    let is_form = content_type
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        BodyKind::Json
    } else if std::str::from_utf8(body).is_err() || body.contains(&0) {
        BodyKind::Binary
    } else if is_form {
        BodyKind::Form
    } else {
        BodyKind::Text
    }
}

/// The body as it should be shown, ending with a newline unless empty.
pub(crate) fn render(content_type: Option<&str>, body: &[u8], color: bool) -> String {
    match classify(content_type, body) {
        BodyKind::Empty => String::new(),
        BodyKind::Json => pretty_json(body, color),
        BodyKind::Form => form_fields(body, color),
        BodyKind::Text => {
            with_newline(escape_controls(&String::from_utf8_lossy(body), true).into_owned())
        }
        BodyKind::Binary => hex_dump(body),
    }
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn form_fields(body: &[u8], color: bool) -> String {
    let mut out = String::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        let (name, value) = (escape_controls(&name, false), escape_controls(&value, false));
        let name = if color { name.cyan().to_string() } else { name.into_owned() };
        out.push_str(&format!("{name} = {value}\n"));
    }
    out
}

/// `xxd`-style lines for the first [`HEX_DUMP_LIMIT`] bytes, headed by the size.
pub(crate) fn hex_dump(body: &[u8]) -> String {
    let mut out = format!("binary body, {} bytes\n", body.len());
    for (row, chunk) in body.chunks(16).take(HEX_DUMP_LIMIT / 16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' })
            .collect();
        out.push_str(&format!("{:08x}  {:<47}  {ascii}\n", row * 16, hex.join(" ")));
    }
    if body.len() > HEX_DUMP_LIMIT {
        out.push_str(&format!(
            "… {} more bytes (use --body to get them all)\n",
            body.len() - HEX_DUMP_LIMIT
        ));
    }
    out
}

/// Re-indents valid JSON text token by token, so numbers, escapes and key order stay exactly
/// as sent (parsing into a value would reformat numbers and could reorder keys).
fn pretty_json(body: &[u8], color: bool) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        match c {
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(c);
                    out.push(close);
                } else {
                    out.push(c);
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            '"' => {
                let mut string = String::from('"');
                while let Some(s) = chars.next() {
                    string.push(s);
                    match s {
                        '\\' => string.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
                let is_key = {
                    let mut rest = chars.clone();
                    loop {
                        match rest.next() {
                            Some(w) if w.is_whitespace() => continue,
                            next => break next == Some(':'),
                        }
                    }
                };
                out.push_str(&match (color, is_key) {
                    (false, _) => string,
                    (true, true) => string.blue().bold().to_string(),
                    (true, false) => string.green().to_string(),
                });
            }
            c if c.is_whitespace() => {}
            _ => {
                let mut literal = String::from(c);
                while chars
                    .peek()
                    .is_some_and(|n| !matches!(n, ',' | '}' | ']' | ':') && !n.is_whitespace())
                {
                    literal.extend(chars.next());
                }
                out.push_str(&match (color, literal.as_str()) {
                    (false, _) => literal,
                    (true, "true" | "false" | "null") => literal.magenta().to_string(),
                    (true, _) => literal.yellow().to_string(),
                });
            }
        }
    }
    with_newline(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_reindented_keeping_numbers_and_key_order() {
        let body = br#"{"z":1.50,"a":[1,2e3,{}],"s":"x,\"y\":{","n":null,"e":[]}"#;
        let expected = "{\n  \"z\": 1.50,\n  \"a\": [\n    1,\n    2e3,\n    {}\n  ],\n  \"s\": \"x,\\\"y\\\":{\",\n  \"n\": null,\n  \"e\": []\n}\n";
        assert_eq!(render(Some("application/json"), body, false), expected);
    }

    #[test]
    fn colored_json_marks_keys_and_values_differently() {
        let out = render(None, br#"{"k":"v","n":1}"#, true);
        assert!(out.contains("\u{1b}["), "{out:?}");
        assert_ne!(out, render(None, br#"{"k":"v","n":1}"#, false));
    }

    #[test]
    fn forms_are_decoded_into_fields() {
        let out = render(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"a=1&b=hello+world&c=%E2%9C%93",
            false,
        );
        assert_eq!(out, "a = 1\nb = hello world\nc = ✓\n");
    }

    #[test]
    fn binary_is_a_hex_dump_with_size() {
        let body: Vec<u8> = (0..=255u8).chain(0..10).collect();
        let out = render(Some("application/octet-stream"), &body, false);
        assert!(out.starts_with("binary body, 266 bytes\n00000000  00 01 02"), "{out}");
        assert!(out.ends_with("… 10 more bytes (use --body to get them all)\n"), "{out}");
        assert_eq!(classify(None, b"a\0b"), BodyKind::Binary);
    }

    #[test]
    fn text_and_empty_bodies() {
        assert_eq!(render(None, b"", false), "");
        assert_eq!(render(Some("text/plain"), b"hi", false), "hi\n");
    }
}
