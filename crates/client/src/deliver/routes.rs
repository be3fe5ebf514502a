//! The routing file (`--routes FILE`, or `hookrelay.toml` in the working directory): ordered
//! rules that send each event to its own local target. The first rule whose conditions all
//! match wins; a rule without conditions matches everything. Errors name the file and line.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use hookrelay_proto::Event;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::config::parse_app_url;

/// The file `listen` reads when `--routes` is not given, if it exists.
pub(crate) const DEFAULT_ROUTES_FILE: &str = "hookrelay.toml";

/// A validated rule.
#[derive(Debug, Clone)]
pub struct Route {
    /// A name for the log: `name = "..."`, else `route N`.
    pub name: String,
    /// Where matching events go (the path suffix is appended, like `--forward-to`).
    pub to: Url,
    /// Headers added to (or replacing those of) each forwarded request.
    pub headers: Vec<(String, String)>,
    path: Option<String>,
    header: Vec<(String, String)>,
    json: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    route: Vec<Spanned<RawRoute>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    name: Option<String>,
    to: Spanned<String>,
    path: Option<String>,
    #[serde(default)]
    header: BTreeMap<String, String>,
    #[serde(default)]
    json: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// Reads and validates a routing file.
pub(crate) fn load(path: &Path) -> anyhow::Result<Vec<Route>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read routes file {}", path.display()))?;
    parse(&text).map_err(|err| anyhow::anyhow!("{}:{err}", path.display()))
}

/// Parses routing rules; errors start with the line number (`7: ...`).
pub(crate) fn parse(text: &str) -> anyhow::Result<Vec<Route>> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let file: File = toml::from_str(text).map_err(|err| {
        let line = err.span().map_or(1, |span| line_of(span.start));
        anyhow::anyhow!("{line}: {}", err.message())
    })?;
    if file.route.is_empty() {
        bail!("1: no [[route]] tables: add at least one with a `to` URL");
    }
    file.route
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let line = line_of(raw.span().start);
            let raw = raw.into_inner();
            let to_line = line_of(raw.to.span().start);
            let to = parse_app_url(raw.to.get_ref())
                .map_err(|err| anyhow::anyhow!("{to_line}: `to`: {err}"))?;
            for (name, value) in &raw.headers {
                if http_header_invalid(name, value) {
                    bail!("{line}: invalid header {name:?} in `headers` of route {}", index + 1);
                }
            }
            Ok(Route {
                name: raw.name.unwrap_or_else(|| format!("route {}", index + 1)),
                to,
                headers: raw.headers.into_iter().collect(),
                path: raw.path,
                header: raw.header.into_iter().map(|(n, v)| (n.to_ascii_lowercase(), v)).collect(),
                json: raw.json.into_iter().collect(),
            })
        })
        .collect()
}

fn http_header_invalid(name: &str, value: &str) -> bool {
    name.is_empty()
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

impl Route {
    /// True when every condition of the rule holds for `event`.
    pub fn matches(&self, event: &Event) -> bool {
        let path = crate::deliver::outgoing::matched_path(event);
        let path_ok = self.path.as_deref().is_none_or(|glob| glob_match::glob_match(glob, &path));
        let headers_ok = self.header.iter().all(|(name, glob)| {
            event
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && glob_match::glob_match(glob, v))
        });
        path_ok && headers_ok && (self.json.is_empty() || self.json_matches(&event.body))
    }

    fn json_matches(&self, body: &[u8]) -> bool {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return false;
        };
        self.json.iter().all(|(field, glob)| {
            field
                .split('.')
                .try_fold(&value, |node, key| match node {
                    serde_json::Value::Array(items) => {
                        key.parse::<usize>().ok().and_then(|i| items.get(i))
                    }
                    _ => node.get(key),
                })
                .is_some_and(|found| match found {
                    serde_json::Value::String(text) => glob_match::glob_match(glob, text),
                    other => glob_match::glob_match(glob, &other.to_string()),
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::event;

    /// The first rule that matches `event`, as `Dispatch` picks it.
    fn route<'a>(routes: &'a [Route], event: &Event) -> Option<&'a Route> {
        routes.iter().find(|route| route.matches(event))
    }

    const FILE: &str = r#"
# first match wins
[[route]]
name = "stripe"
path = "/stripe/**"
to = "http://localhost:3000/webhooks"

[[route]]
header = { "X-GitHub-Event" = "push" }
to = "http://localhost:4000/"
headers = { "X-Source" = "hookrelay" }

[[route]]
json = { "data.object.status" = "paid", "data.items.0" = "4*" }
to = "http://localhost:5000/paid"

[[route]]
to = "http://localhost:9000/"
"#;

    #[test]
    fn first_matching_rule_wins() {
        let routes = parse(FILE).expect("works");
        let name = |e: &Event| route(&routes, e).map(|r| r.name.clone());
        assert_eq!(
            name(&event("/stripe/x", &[("x-github-event", "push")], "")).as_deref(),
            Some("stripe")
        );
        assert_eq!(
            name(&event("/gh", &[("x-github-event", "push")], "")).as_deref(),
            Some("route 2")
        );
        let paid = r#"{"data":{"object":{"status":"paid"},"items":[42]}}"#;
        assert_eq!(name(&event("/", &[], paid)).as_deref(), Some("route 3"));
        assert_eq!(
            name(&event("/", &[("x-github-event", "pull")], "{}")).as_deref(),
            Some("route 4")
        );
        assert_eq!(routes[1].headers, vec![("X-Source".to_string(), "hookrelay".to_string())]);
    }

    #[test]
    fn errors_name_the_line() {
        let bad_url = "[[route]]\npath = \"/x\"\nto = \"ftp://localhost:3000\"\n";
        let err = parse(bad_url).expect_err("fails").to_string();
        assert!(err.starts_with("3: `to`: 'ftp://localhost:3000' must be an http://"), "{err}");
        let typed = "[[route]]\nto = \"localhost:3000/a\"\n\n[[route]]\nto = \"4000\"\n";
        let routes = parse(typed).expect("as people type them");
        assert_eq!(routes[0].to.as_str(), "http://localhost:3000/a");
        assert_eq!(routes[1].to.as_str(), "http://localhost:4000/");

        let typo =
            "[[route]]\nto = \"http://a/\"\n\n[[route]]\nto = \"http://b/\"\npaht = \"/x\"\n";
        let err = parse(typo).expect_err("fails").to_string();
        assert!(err.starts_with("6: unknown field `paht`"), "{err}");

        let syntax = "[[route]]\nto = \"http://a/\n";
        assert!(parse(syntax).expect_err("fails").to_string().starts_with("2: "));

        let missing_to = "[[route]]\npath = \"/x\"\n";
        let err = parse(missing_to).expect_err("fails").to_string();
        assert!(err.contains("missing field `to`"), "{err}");
        assert!(parse("").expect_err("fails").to_string().contains("no [[route]]"));
    }

    #[test]
    fn load_prefixes_errors_with_the_file_name() {
        let dir = std::env::temp_dir().join(format!("routes-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("works");
        let file = dir.join("hookrelay.toml");
        std::fs::write(&file, "[[route]]\nto = 3\n").expect("works");
        let err = load(&file).expect_err("fails").to_string();
        assert!(err.starts_with(&format!("{}:2: ", file.display())), "{err}");
        std::fs::remove_dir_all(dir).expect("works");
    }
}
