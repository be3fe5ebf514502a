//! `replay --edit`: the request as a text file (one `Name: value` header per line, a blank
//! line, then the raw body bytes), opened in `$VISUAL`/`$EDITOR` (else `vi`) and read back.
//! A body the user did not touch stays byte-exact.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bytes::Bytes;
use hookrelay_proto::{Event, Header};

use crate::local::atomic::write_atomic;

/// Opens the editor on `event` and returns it with the edited headers and body. Fails (so
/// nothing is sent) when the editor fails or the file comes back empty.
pub(crate) fn edit(event: &Event) -> anyhow::Result<Event> {
    let original = to_file(&event.headers, &event.body);
    let file = TempFile::create(&event.id, &original)?;
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| std::env::var("EDITOR").ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "vi".into());
    // Through the shell, like git: $EDITOR may carry arguments (`code --wait`).
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&file.0)
        .status()
        .with_context(|| format!("could not start the editor `{editor}`"))?;
    if !status.success() {
        anyhow::bail!("the editor `{editor}` exited with {status}; nothing was sent");
    }
    let edited = std::fs::read(&file.0).context("could not read the edited request back")?;
    if edited == original {
        return Ok(event.clone());
    }
    if edited.iter().all(u8::is_ascii_whitespace) {
        anyhow::bail!("the edited request is empty; nothing was sent");
    }
    let (headers, body) = from_file(&edited)?;
    // Editors such as vi add a final newline on save; that alone is not an edit of the body.
    let body = if body.strip_suffix(b"\n") == Some(&event.body[..]) && !event.body.ends_with(b"\n")
    {
        event.body.clone()
    } else {
        Bytes::from(body.to_vec())
    };
    Ok(Event { headers, body, ..event.clone() })
}

/// Headers, a blank line, the body.
pub(super) fn to_file(headers: &[Header], body: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    for (name, value) in headers {
        text.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    text.push(b'\n');
    text.extend_from_slice(body);
    text
}

/// Parses [`to_file`]'s format back (CRLF line ends accepted in the header part).
pub(super) fn from_file(text: &[u8]) -> anyhow::Result<(Vec<Header>, &[u8])> {
    let mut headers = Vec::new();
    let mut rest = text;
    let mut number = 0;
    loop {
        number += 1;
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = after;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Ok((headers, rest));
        }
        let line = std::str::from_utf8(line)
            .with_context(|| format!("line {number} of the edited headers is not UTF-8"))?;
        let Some((name, value)) = line.split_once(':') else {
            anyhow::bail!(
                "line {number} of the edited request is not a 'Name: value' header: {line:?} \
                 (a blank line separates headers from the body)"
            );
        };
        let name = name.trim();
        let value = value.trim();
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || http::HeaderValue::from_str(value).is_err()
        {
            anyhow::bail!("line {number} of the edited request is not a valid header: {line:?}");
        }
        headers.push((name.to_owned(), value.to_owned()));
        if rest.is_empty() {
            return Ok((headers, rest));
        }
    }
}

/// A private (0600) file in the temp directory, removed when dropped: it holds secrets.
struct TempFile(PathBuf);

impl TempFile {
    fn create(event_id: &str, contents: &[u8]) -> anyhow::Result<Self> {
        let name = format!(
            "hookrelay-{}-{}-{:08x}.http",
            event_id.chars().filter(char::is_ascii_alphanumeric).collect::<String>(),
            std::process::id(),
            fastrand::u32(..)
        );
        let path = std::env::temp_dir().join(name);
        write_atomic(&path, contents, false).with_context(|| what(&path))?;
        Ok(Self(path))
    }
}

fn what(path: &Path) -> String {
    format!("could not write {}", path.display())
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_round_trips_headers_and_exact_body() {
        let headers: Vec<Header> =
            vec![("content-type".into(), "application/json".into()), ("x-a".into(), "1".into())];
        let body = b"\n\nbody with blank lines\r\n\0\xff";
        let file = to_file(&headers, body);
        let (parsed, parsed_body) = from_file(&file).expect("parses");
        assert_eq!(parsed, headers);
        assert_eq!(parsed_body, body);
        let (none, empty) = from_file(b"\n").expect("parses");
        assert!(none.is_empty() && empty.is_empty());
    }

    #[test]
    fn edited_headers_are_trimmed_and_garbage_is_refused() {
        let (headers, body) = from_file(b"X-New:  yes \r\nx-b:\r\n\r\n{}").expect("parses");
        assert_eq!(headers, [("X-New".into(), "yes".into()), ("x-b".into(), String::new())]);
        assert_eq!(body, b"{}");
        let err = from_file(b"x-a: 1\nnot a header\n\n{}").expect_err("refused");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
