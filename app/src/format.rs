//! Formatting that must give the same text on the server and in the browser
//! (hydration compares them), so it uses no locale or time zone: UTC only.

/// `2026-11-25 14:02:09 UTC` from Unix milliseconds.
pub fn utc_timestamp(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("{ms} ms"),
    }
}

/// `3d 4h`, `12m 5s`: a duration for people, two units at most.
pub fn duration(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// What a query-string value keeps as it is: RFC 3986's unreserved
/// characters; everything else is percent-encoded.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A value for a URL query string.
pub fn query_escape(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// `key=value&…` of the pairs whose value is set and not empty, each value
/// escaped: the filters of a page as a query string, for links and exports.
pub fn query_string(pairs: &[(&str, &Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .map(|(k, v)| format!("{k}={}", query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The first seven characters of a commit SHA, or an em dash.
pub fn short(sha: &Option<String>) -> String {
    sha.as_deref()
        .map(|s| s.chars().take(7).collect())
        .unwrap_or_else(|| "—".into())
}

/// The first line of a commit message (empty for none).
pub fn first_line(text: &Option<String>) -> String {
    text.as_deref()
        .and_then(|t| t.lines().next())
        .unwrap_or("")
        .to_string()
}

/// `7s`, `3m 2s` for an optional number of seconds; an em dash for none.
pub fn maybe_duration(seconds: Option<i64>) -> String {
    match seconds {
        Some(s) if s >= 0 => duration(s as u64),
        _ => "—".into(),
    }
}

/// `5 minutes ago`-style age between two instants (ms), one unit.
pub fn age(now_ms: i64, then_ms: i64) -> String {
    let s = ((now_ms - then_ms) / 1000).max(0);
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_timestamp(1_795_573_329_999), "2026-11-25 02:22:09 UTC");
        assert_eq!(utc_timestamp(-1000), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn query_values_keep_unreserved_characters_only() {
        assert_eq!(query_escape("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(
            query_escape("ada admin&x=1/é"),
            "ada%20admin%26x%3D1%2F%C3%A9"
        );
    }

    #[test]
    fn durations_use_two_units_at_most() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(125), "2m 5s");
        assert_eq!(duration(3 * 3600 + 61), "3h 1m");
        assert_eq!(duration(2 * 86_400 + 7200), "2d 2h");
    }
}
