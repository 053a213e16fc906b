//! Text that messages, errors and exports share: vendor times parsed, UTC
//! labels (no locale, no zone), short commit ids and first lines.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

/// Milliseconds since the epoch from an RFC 3339 time, as vendors write them.
pub fn parse_ms(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// `2026-11-25 14:02 UTC`: times in messages and errors (no locale, no zone).
pub fn utc_label(ms: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => format!("{ms} ms"),
    }
}

/// Text made safe for a Slack message: `&`, `<` and `>` become the entities
/// Slack documents, so that a commit message holding `<!channel>` or
/// `<https://evil|a link>` is shown as written instead of pinging the channel
/// or turning into a link. Greenroom's own links are plain URLs, which Slack
/// still links.
pub fn slack_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

pub fn short_sha(sha: Option<&str>) -> String {
    sha.map(|s| s.chars().take(7).collect())
        .unwrap_or_else(|| "unknown commit".into())
}

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// `2026-11-25 14:02:09 UTC` from Unix milliseconds: times in exports and
/// on pages, to the second.
pub fn utc_timestamp(ms: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
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

/// `YYYY-MM-DD` as UTC midnight in Unix milliseconds; `None` when it is not
/// a real date between 1970 and 9999.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next()?.parse().ok()?;
    let d: u8 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) {
        return None;
    }
    let date = Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_times_parse_to_milliseconds() {
        assert_eq!(parse_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(
            parse_ms("2026-11-25T02:22:09.999Z"),
            Some(1_795_573_329_999)
        );
        assert_eq!(
            parse_ms("2026-11-25T03:22:09+01:00"),
            Some(1_795_573_329_000)
        );
        assert_eq!(parse_ms("yesterday"), None);
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_timestamp(1_795_573_329_999), "2026-11-25 02:22:09 UTC");
        assert_eq!(utc_timestamp(-1000), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn days_parse_and_impossible_dates_do_not() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2026-11-25"), Some(1_795_564_800_000));
        assert_eq!(
            parse_day("2024-02-29").map(utc_timestamp).as_deref(),
            Some("2024-02-29 00:00:00 UTC")
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "yesterday",
            "2026-1",
            "",
            "1969-12-31",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn slack_control_sequences_are_shown_as_written() {
        assert_eq!(
            slack_escape("fix <!channel> & <https://x.test|click> <@U1>"),
            "fix &lt;!channel&gt; &amp; &lt;https://x.test|click&gt; &lt;@U1&gt;"
        );
        assert_eq!(slack_escape("plain text: ok"), "plain text: ok");
        // Escaping twice shows the entity, never the control sequence.
        assert!(!slack_escape(&slack_escape("<!here>")).contains('<'));
    }
}
