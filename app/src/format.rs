//! Formatting that must give the same text on the server and in the browser
//! (hydration compares them), so it uses no locale or time zone: UTC only.

/// `2026-11-25 14:02:09 UTC` from Unix milliseconds.
pub fn utc_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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

/// `YYYY-MM-DD` (UTC midnight) to Unix milliseconds; `None` if not a real date.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant), then checked by going back.
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * i64::from(mm) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400_000)
}

/// A value for a URL query string: everything but unreserved characters
/// percent-encoded.
pub fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
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

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
    fn durations_use_two_units_at_most() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(125), "2m 5s");
        assert_eq!(duration(3 * 3600 + 61), "3h 1m");
        assert_eq!(duration(2 * 86_400 + 7200), "2d 2h");
    }
}

#[cfg(test)]
mod day_tests {
    use super::*;

    #[test]
    fn days_parse_and_impossible_dates_do_not() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2026-11-25"), Some(1_795_564_800_000));
        assert_eq!(
            parse_day("2024-02-29").map(utc_timestamp).as_deref(),
            Some("2024-02-29 00:00:00 UTC")
        );
        for bad in ["2026-02-30", "2026-13-01", "yesterday", "2026-1", ""] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }
}
