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
