//! Which events `listen` forwards: `--events` (event type patterns) and `--path` (a glob on
//! the path after the channel). Events that do not match are acknowledged as `skipped`.

use hookrelay_proto::{Event, event_type};

/// The filters given on the command line; the default forwards everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Event type patterns (`invoice.paid`, `customer.*`); empty means any.
    pub events: Vec<String>,
    /// A glob the path must match (`/stripe/**`); `None` means any.
    pub path: Option<String>,
}

impl Filter {
    /// Parses `--events 'a,b.*'` (comma-separated, blanks ignored) and `--path GLOB`.
    pub fn new(events: Option<&str>, path: Option<String>) -> Self {
        let events = events
            .into_iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|pattern| !pattern.is_empty())
            .map(String::from)
            .collect();
        Filter { events, path }
    }

    /// `None` when the event should be forwarded, else why it is skipped.
    pub fn skip_reason(&self, event: &Event) -> Option<String> {
        if let Some(glob) = &self.path {
            let path = crate::deliver::outgoing::matched_path(event);
            if !glob_match::glob_match(glob, &path) {
                return Some(format!("path {path} does not match --path {glob}"));
            }
        }
        if self.events.is_empty() {
            return None;
        }
        match event_type(&event.body) {
            Some(kind) if self.events.iter().any(|p| glob_match::glob_match(p, &kind)) => None,
            Some(kind) => Some(format!("event type {kind} does not match --events")),
            None => Some("no JSON type/event_type field to match --events".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(path: &str, body: &str) -> Event {
        crate::test_support::event(path, &[], body)
    }

    #[test]
    fn event_patterns_match_exact_names_and_prefixes() {
        let filter = Filter::new(Some("invoice.paid, customer.*"), None);
        assert_eq!(filter.skip_reason(&event("", r#"{"type":"invoice.paid"}"#)), None);
        assert_eq!(filter.skip_reason(&event("", r#"{"event_type":"customer.created"}"#)), None);
        assert!(filter.skip_reason(&event("", r#"{"type":"invoice.created"}"#)).is_some());
        assert!(filter.skip_reason(&event("", "plain text")).is_some());
    }

    #[test]
    fn path_glob_matches_the_suffix() {
        let filter = Filter::new(None, Some("/stripe/**".into()));
        assert_eq!(filter.skip_reason(&event("/stripe/v1/events", "")), None);
        assert!(filter.skip_reason(&event("/github", "")).is_some());
        let root = Filter::new(None, Some("/".into()));
        assert_eq!(root.skip_reason(&event("", "")), None);
        // Dot segments cannot smuggle a path past the glob: it matches where it would go.
        assert!(filter.skip_reason(&event("/stripe/../admin", "")).is_some());
        assert_eq!(filter.skip_reason(&event("/github/../stripe/x", "")), None);
    }

    #[test]
    fn default_forwards_everything() {
        assert_eq!(Filter::new(None, None).skip_reason(&event("/x", "binary\0")), None);
        assert_eq!(Filter::new(Some(" , "), None).skip_reason(&event("/x", "")), None);
    }
}
