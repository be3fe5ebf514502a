//! Pure rules for the request sent to the local app (DESIGN §2.6): where it goes (target
//! path + event path, both queries) and which headers it carries (the event's, in order and
//! with duplicates, minus hop-by-hop ones, with `Host`, `Content-Length`, the event id and
//! the user's `-H` overrides).

use hookrelay_proto::{EVENT_ID_HEADER, Event};
use url::Url;

/// Headers that describe one connection, not the message, and so are never forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// A `-H 'Name: value'` override: replaces every header of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderOverride {
    /// Lowercase header name.
    pub name: String,
    /// The value, as given.
    pub value: String,
}

impl std::str::FromStr for HeaderOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, value) =
            text.split_once(':').ok_or_else(|| format!("expected 'Name: value', got '{text}'"))?;
        let name = name.trim();
        let value = value.trim();
        http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("'{name}' is not a valid header name"))?;
        http::HeaderValue::from_str(value)
            .map_err(|_| format!("the value of '{name}' is not a valid header value"))?;
        Ok(Self { name: name.to_ascii_lowercase(), value: value.to_owned() })
    }
}

/// The event's path with its dot segments (`.`, `..`, also percent-encoded as `%2e`)
/// resolved and never above its root, so a request for `/h/CH/../../admin` reaches
/// `FORWARD_TO/admin`, not a path outside `--forward-to` (DESIGN §2.6). Every other segment
/// stays exactly as sent, still percent-encoded; the history keeps the path as received.
pub(crate) fn confined_path(raw: &str) -> String {
    let Some(rest) = raw.strip_prefix('/') else { return raw.to_owned() };
    let segments: Vec<&str> = rest.split('/').collect();
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    for (index, segment) in segments.iter().enumerate() {
        let last = index + 1 == segments.len();
        match segment.to_ascii_lowercase().replace("%2e", ".").as_str() {
            "." => {}
            ".." => {
                kept.pop();
            }
            _ => {
                kept.push(segment);
                continue;
            }
        }
        // A dot segment at the end leaves the path ending in `/`, as RFC 3986 §5.2.4 does.
        if last {
            kept.push("");
        }
    }
    format!("/{}", kept.join("/"))
}

/// The path `--path` and routes match: the confined path, `/` for none.
pub(crate) fn matched_path(event: &Event) -> String {
    match confined_path(&event.path) {
        path if path.is_empty() => "/".to_owned(),
        path => path,
    }
}

/// The absolute URL to request: the target's path joined with the event's (confined) path
/// suffix (one slash between them), then the target's own query followed by the event's.
pub(crate) fn target_url(target: &Url, event_path: &str, event_query: Option<&str>) -> String {
    let mut url = format!("{}://{}", target.scheme(), authority(target));
    let base = target.path().trim_end_matches('/');
    let confined = confined_path(event_path);
    let suffix = confined.trim_start_matches('/');
    match (base.is_empty(), suffix.is_empty()) {
        (_, true) => url.push_str(if base.is_empty() { "/" } else { target.path() }),
        (true, false) => url.push_str(&format!("/{suffix}")),
        (false, false) => url.push_str(&format!("{base}/{suffix}")),
    }
    let queries: Vec<&str> =
        [target.query(), event_query].into_iter().flatten().filter(|q| !q.is_empty()).collect();
    if !queries.is_empty() {
        url.push('?');
        url.push_str(&queries.join("&"));
    }
    url
}

/// `host[:port]` of the target, as the `Host` header should carry it.
pub(crate) fn authority(target: &Url) -> String {
    let host = target.host_str().unwrap_or_default();
    match target.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The header list to send, in order: `Host`, the event's end-to-end headers, the `-H`
/// overrides, `Content-Length` when the original had a body or a length, and the event id.
pub(crate) fn forward_headers(
    event: &Event,
    target: &Url,
    overrides: &[HeaderOverride],
) -> Vec<(String, String)> {
    let named_by_connection: Vec<String> = event
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, value)| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    let mut had_length = false;
    let mut out = vec![("host".to_owned(), authority(target))];
    for (name, value) in &event.headers {
        let lower = name.to_ascii_lowercase();
        if lower == "content-length" || lower == "transfer-encoding" {
            had_length = true;
        }
        let dropped = HOP_BY_HOP.contains(&lower.as_str())
            || named_by_connection.contains(&lower)
            || matches!(lower.as_str(), "host" | "content-length" | EVENT_ID_HEADER)
            || overrides.iter().any(|o| o.name == lower);
        if !dropped {
            out.push((name.clone(), value.clone()));
        }
    }
    out.extend(overrides.iter().map(|o| (o.name.clone(), o.value.clone())));
    if had_length || !event.body.is_empty() {
        out.push(("content-length".to_owned(), event.body.len().to_string()));
    }
    out.push((EVENT_ID_HEADER.to_owned(), event.id.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        text.parse().expect("valid url")
    }

    #[test]
    fn dot_segments_never_leave_the_root_and_everything_else_is_kept() {
        for (raw, confined) in [
            ("", ""),
            ("/", "/"),
            ("/stripe", "/stripe"),
            ("/a//b/", "/a//b/"),
            ("/a/b/../c", "/a/c"),
            ("/../../admin", "/admin"),
            ("/%2e%2e/%2E%2e/admin", "/admin"),
            ("/.%2e/admin?x", "/admin?x"),
            ("/a/./b/.", "/a/b/"),
            ("/a/..", "/"),
            ("/a%2Fb/..%2f/c", "/a%2Fb/..%2f/c"),
            ("/...", "/..."),
        ] {
            assert_eq!(confined_path(raw), confined, "{raw}");
        }
        let base = url("http://localhost:3000/webhooks");
        assert_eq!(
            target_url(&base, "/../../admin", Some("a=1")),
            "http://localhost:3000/webhooks/admin?a=1"
        );
    }

    #[test]
    fn joins_paths_with_exactly_one_slash() {
        let cases = [
            (
                "http://localhost:3000/webhooks",
                "/stripe",
                None,
                "http://localhost:3000/webhooks/stripe",
            ),
            (
                "http://localhost:3000/webhooks/",
                "/stripe",
                None,
                "http://localhost:3000/webhooks/stripe",
            ),
            ("http://localhost:3000", "/stripe/x", None, "http://localhost:3000/stripe/x"),
            ("http://localhost:3000", "", None, "http://localhost:3000/"),
            ("http://localhost:3000/webhooks", "", None, "http://localhost:3000/webhooks"),
            ("http://localhost:3000/hooks/", "", None, "http://localhost:3000/hooks/"),
            ("http://localhost/a", "/b%20c", Some("x=1&x=2"), "http://localhost/a/b%20c?x=1&x=2"),
            ("https://app.test/a?key=k", "/b", Some("x=1"), "https://app.test/a/b?key=k&x=1"),
            ("https://app.test/a?key=k", "", None, "https://app.test/a?key=k"),
            ("http://[::1]:8080/", "/p", Some(""), "http://[::1]:8080/p"),
        ];
        for (target, path, query, want) in cases {
            assert_eq!(target_url(&url(target), path, query), want, "{target} + {path}");
        }
    }

    fn event(headers: &[(&str, &str)], body: &'static [u8]) -> Event {
        crate::test_support::event("/x", headers, body)
    }

    #[test]
    fn drops_hop_by_hop_and_connection_named_headers_and_keeps_order() {
        let event = event(
            &[
                ("host", "relay.example"),
                ("x-a", "1"),
                ("connection", "keep-alive, X-Secret-Hop"),
                ("keep-alive", "timeout=5"),
                ("x-secret-hop", "gone"),
                ("transfer-encoding", "chunked"),
                ("te", "trailers"),
                ("upgrade", "h2c"),
                ("proxy-authorization", "Basic x"),
                ("x-a", "2"),
                ("content-length", "999"),
                ("stripe-signature", "t=1,v1=abc"),
            ],
            b"hello",
        );
        let headers = forward_headers(&event, &url("http://localhost:3000/hooks"), &[]);
        let want: Vec<(String, String)> = [
            ("host", "localhost:3000"),
            ("x-a", "1"),
            ("x-a", "2"),
            ("stripe-signature", "t=1,v1=abc"),
            ("content-length", "5"),
            ("hookrelay-event-id", "evt_1"),
        ]
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect();
        assert_eq!(headers, want);
    }

    #[test]
    fn overrides_replace_same_named_headers_and_empty_get_has_no_length() {
        let mut get = event(&[("Authorization", "old"), ("x-keep", "1")], b"");
        get.method = "GET".into();
        let overrides = ["authorization: Bearer new".parse().expect("valid")];
        let headers = forward_headers(&get, &url("http://127.0.0.1/"), &overrides);
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["host", "x-keep", "authorization", "hookrelay-event-id"]);
        assert_eq!(headers[2].1, "Bearer new");
        let empty_post = event(&[("content-length", "0")], b"");
        let headers = forward_headers(&empty_post, &url("http://127.0.0.1/"), &[]);
        assert!(headers.contains(&("content-length".into(), "0".into())));
    }

    #[test]
    fn header_overrides_parse_and_reject_garbage() {
        let parsed: HeaderOverride = "X-Test:  a b ".parse().expect("valid");
        assert_eq!(parsed, HeaderOverride { name: "x-test".into(), value: "a b".into() });
        assert!("no-colon".parse::<HeaderOverride>().is_err());
        assert!("bad name: v".parse::<HeaderOverride>().is_err());
        assert!("x: line\nbreak".parse::<HeaderOverride>().is_err());
    }
}
