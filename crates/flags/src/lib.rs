//! What the command lines of both binaries (`hookrelayd`, `hookrelay`) share: one parser
//! for durations ([`parse_duration`]: `30s`, `10m`, `2h`, `7d`, `1w`, `250ms`, a bare number
//! of seconds) and one for sizes ([`parse_size`]: `25MiB`, `1GiB`, `500KB`, a bare number of
//! bytes), their compact display, and the `--version` text with the git commit and build date.
//! Every size or duration flag of either binary goes through these, so they read alike.

use std::time::Duration;

/// `--version` of both binaries: `0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-01)`. The commit
/// is `unknown` when the source was built outside a git checkout.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HOOKRELAY_GIT_COMMIT"),
    ", built ",
    env!("HOOKRELAY_BUILD_DATE"),
    ")"
);

/// Parses a duration: a number with a unit (`250ms`, `30s`, `10m`, `2h`, `7d`, `1w`, also
/// spelled out: `5min`, `2 hours`; parts may be combined: `1h 30m`) or a bare number of
/// seconds. Parsed by `humantime`, whose `M` is a month and `m` a minute.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("{text:?} is too long"));
    }
    humantime::parse_duration(text)
        .map_err(|err| format!("{text:?} is not a duration like 30s, 10m, 2h, 7d or 1w ({err})"))
}

/// Parses a size: a number with a binary (`KiB`, `MiB`, `GiB`, `TiB`, or `K`, `M`, `G`, `T`)
/// or decimal (`KB`, `MB`, `GB`, `TB`) unit, case-insensitive, or a bare number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 =
        number.parse().map_err(|_| format!("{text:?} is not a size like 25MiB, 1GiB or 4096"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "tib" | "t" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return Err(format!("unknown unit {unit:?} in {text:?}: use B, KiB, MiB, GiB or TiB")),
    };
    number.checked_mul(multiplier).ok_or_else(|| format!("{text:?} is too large"))
}

/// [`parse_size`] for sizes held in memory (`usize`).
pub fn parse_memory_size(text: &str) -> Result<usize, String> {
    usize::try_from(parse_size(text)?).map_err(|_| format!("{text:?} is too large"))
}

/// A duration as [`parse_duration`] reads it back, largest units first: `7d`, `30s`,
/// `1h 30m`, `250ms`, `0s`.
pub fn format_duration(duration: Duration) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut seconds = duration.as_secs();
    let mut parts = Vec::new();
    for (size, unit) in UNITS {
        if seconds >= size {
            parts.push(format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    let millis = duration.subsec_millis();
    if millis > 0 || parts.is_empty() && duration.subsec_nanos() > 0 {
        parts.push(format!("{millis}ms"));
    }
    if parts.is_empty() { "0s".to_owned() } else { parts.join(" ") }
}

/// A size as [`parse_size`] reads it back: the largest binary unit that divides it exactly
/// (`25MiB`, `1GiB`), else bytes (`1500B`).
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    for (shift, unit) in UNITS {
        if bytes > 0 && bytes.trailing_zeros() >= shift {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_weeks_and_bare_seconds() {
        let cases = [
            ("30s", 30),
            ("90", 90),
            ("10m", 600),
            ("2h", 7_200),
            ("7d", 7 * 86_400),
            ("1w", 7 * 86_400),
            ("1h 30m", 5_400),
            ("1.5h", 5_400),
            (" 5min ", 300),
        ];
        for (text, seconds) in cases {
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(seconds)), "{text}");
        }
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "d", "7x", "-1s", "soon"] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(err.contains("like 30s"), "{bad}: {err}");
        }
    }

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("25MiB"), Ok(25 * 1024 * 1024));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("64kib"), Ok(64 * 1024));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("2 MB"), Ok(2_000_000));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999TiB").is_err());
        assert_eq!(parse_memory_size("25MiB"), Ok(25 * 1024 * 1024));
    }

    #[test]
    fn durations_and_sizes_display_as_they_are_typed() {
        for text in ["7d", "30s", "1h 30m", "250ms", "0s", "1d 2h 3m 4s"] {
            let parsed = parse_duration(text).expect(text);
            assert_eq!(format_duration(parsed), text);
        }
        for text in ["25MiB", "1GiB", "64KiB", "1500B", "0B", "2TiB"] {
            let parsed = parse_size(text).expect(text);
            assert_eq!(format_size(parsed), text);
        }
    }

    #[test]
    fn the_version_names_a_commit_and_a_date() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")), "{VERSION}");
        assert!(VERSION.contains("(commit ") && VERSION.contains(", built 20"), "{VERSION}");
    }
}
