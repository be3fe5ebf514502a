//! Colors for terminal text: the [`Tone`] roles and [`paint`], which applies one only when
//! color is on (`stdout::stdout_color`), so every formatter stays testable as plain text.

use owo_colors::{OwoColorize as _, Style};

/// A color role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Success.
    Green,
    /// Rejected / failed.
    Red,
    /// Retrying / waiting.
    Yellow,
    /// Redirects, URLs.
    Cyan,
    /// Secondary text.
    Dim,
    /// Labels.
    Bold,
}

/// `text` with every control character made visible (`\x1b`, `\u{9b}`; `\n`, `\r`, `\t`
/// unless `multiline` keeps newlines and tabs), so data from a webhook sender can never move
/// the cursor, clear the screen or recolor the terminal (DESIGN §9). Exact outputs
/// (`--body`, `--json`, `--curl`) do not use it.
pub(crate) fn escape_controls(text: &str, multiline: bool) -> std::borrow::Cow<'_, str> {
    let kept = |c: char| multiline && (c == '\n' || c == '\t');
    if !text.chars().any(|c| c.is_control() && !kept(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if kept(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` in `tone` when `color` is on, unchanged otherwise.
pub(crate) fn paint(text: &str, tone: Tone, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    let style = match tone {
        Tone::Green => Style::new().green(),
        Tone::Red => Style::new().red(),
        Tone::Yellow => Style::new().yellow(),
        Tone::Cyan => Style::new().cyan(),
        Tone::Dim => Style::new().dimmed(),
        Tone::Bold => Style::new().bold(),
    };
    text.style(style).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_never_sent_to_the_terminal() {
        assert_eq!(escape_controls("invoice.paid", false), "invoice.paid");
        assert_eq!(escape_controls("x\u{1b}[2J", false), "x\\x1b[2J");
        assert_eq!(escape_controls("a\nb\tc\rd\u{7f}\u{9b}", false), "a\\nb\\tc\\rd\\x7f\\u{9b}");
        assert_eq!(escape_controls("line 1\n\tline 2\u{7}", true), "line 1\n\tline 2\\x07");
        assert_eq!(escape_controls("naïve ✓", false), "naïve ✓");
    }
}
