//! Text as the inspector puts it in cells: event data with control characters escaped
//! ([`clean`]), cut to a width ([`fit`]), and the detail view's lines, rendered once per
//! fetched event ([`detail_lines`]) with the body bounded.

use bytes::Bytes;
use hookrelay_proto::EventDetail;
use time::UtcOffset;

use crate::output::event_view;
use crate::output::style::escape_controls;

/// Most body bytes the detail view renders; the rest is summarised (`hookrelay show ID
/// --body` has them all), so a 25 MiB body does not become a 50 MiB screen.
pub(crate) const MAX_BODY_SHOWN: usize = 256 * 1024;

/// `text` safe to put in a cell: control characters shown escaped, tabs as spaces.
pub(crate) fn clean(text: &str) -> String {
    escape_controls(&text.replace('\t', "    "), false).into_owned()
}

/// `text` cut to `width` characters, with `…` where it was cut.
pub(crate) fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// The detail view's lines: the event as `hookrelay show` prints it (secrets masked),
/// cleaned, with a body past [`MAX_BODY_SHOWN`] cut and said so.
pub(crate) fn detail_lines(detail: &EventDetail, offset: UtcOffset) -> Vec<String> {
    let body = &detail.event.body;
    let cut = body.len().saturating_sub(MAX_BODY_SHOWN);
    let text = if cut > 0 {
        let mut shown = detail.clone();
        shown.event.body = Bytes::copy_from_slice(&body[..MAX_BODY_SHOWN]);
        event_view::render(&shown, offset, false, false)
    } else {
        event_view::render(detail, offset, false, false)
    };
    let mut lines: Vec<String> = text.lines().map(|line| format!(" {}", clean(line))).collect();
    if cut > 0 {
        lines.push(format!(
            " … the body's last {cut} bytes are not shown: `hookrelay show {} --body` has them",
            clean(&detail.event.id)
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use hookrelay_proto::DeliveryState;

    use super::*;

    #[test]
    fn cells_never_get_control_characters_and_long_text_is_cut() {
        assert_eq!(clean("a\tb\u{1b}[2J"), "a    b\\x1b[2J");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn a_huge_body_is_cut_in_the_detail_view() {
        let body = vec![b'x'; MAX_BODY_SHOWN + 10];
        let detail = EventDetail {
            event: crate::test_support::event("/big", &[("content-type", "text/plain")], body),
            state: DeliveryState::Pending,
            deliveries: vec![],
        };
        let lines = detail_lines(&detail, UtcOffset::UTC);
        let last = lines.last().expect("lines");
        assert!(last.contains("last 10 bytes are not shown"), "{last}");
        let shown: usize = lines.iter().map(|line| line.matches('x').count()).sum();
        assert!(shown < MAX_BODY_SHOWN + 200, "{shown}");
    }
}
