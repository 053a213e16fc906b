//! What a project's backups can restore: point-in-time recovery to any second
//! of a range, or one of the daily backups, with warnings when the newest
//! backup is old or the last one failed. Restoring itself stays in Supabase's
//! dashboard.

use crate::providers::supabase::Backups;
use crate::text::utc_label;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const DAY_MS: i64 = 86_400_000;
/// A daily backup runs at about the same time each day; this much slack keeps
/// one that runs a little late from raising the warning for an hour.
const STALE_AFTER_MS: i64 = DAY_MS + 2 * 3_600_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreWindow {
    /// Point-in-time recovery; `since_ms` is absent when Supabase did not say
    /// where its range starts.
    PointInTime { since_ms: Option<i64> },
    /// Daily backups; the newest completed one.
    Daily { newest_ms: i64 },
    /// No completed backup: nothing can be restored.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupWarning {
    /// The newest completed backup (or the end of the recovery range) is
    /// more than a day old (26 hours: a day and the slack of a late run).
    Stale { newest_ms: i64 },
    /// The most recent backup attempt failed.
    LastFailed { at_ms: i64 },
    /// Backups whose time could not be read (left out of the window).
    UnreadableTimes { count: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub pitr_enabled: bool,
    pub window: RestoreWindow,
    pub warnings: Vec<BackupWarning>,
}

/// Backup times: RFC 3339, and the same without a zone (read as UTC), with a
/// space for the `T` or an hours-only offset (`+00`), as Postgres writes them.
pub fn parse_backup_time(text: &str) -> Option<i64> {
    let text = text.trim();
    let mut s = text.replacen(' ', "T", 1);
    if let Some((_, time)) = s.rsplit_once('T') {
        if let Some(i) = time.rfind(['+', '-']) {
            if time.len() - i == 3 {
                s.push_str(":00");
            }
        }
    }
    let zoned = s.ends_with('Z') || s.ends_with('z') || {
        let tail = s.rsplit_once('T').map(|(_, t)| t).unwrap_or("");
        tail.contains('+') || tail.contains('-')
    };
    if !zoned {
        s.push('Z');
    }
    let t = OffsetDateTime::parse(&s, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub fn summarize_backups(backups: &Backups, now_ms: i64) -> BackupSummary {
    let mut unreadable = 0;
    let mut timed: Vec<(i64, &str)> = Vec::with_capacity(backups.backups.len());
    for b in &backups.backups {
        match parse_backup_time(&b.inserted_at) {
            Some(ms) => timed.push((ms, b.status.as_str())),
            None => unreadable += 1,
        }
    }
    timed.sort_by_key(|(ms, _)| *ms);
    let newest_completed = timed
        .iter()
        .rev()
        .find(|(_, status)| *status == "COMPLETED")
        .map(|(ms, _)| *ms);
    let range = &backups.physical_backup_data;
    let window = if backups.pitr_enabled {
        RestoreWindow::PointInTime {
            since_ms: range.earliest_physical_backup_date_unix.map(|s| s * 1000),
        }
    } else {
        match newest_completed {
            Some(newest_ms) => RestoreWindow::Daily { newest_ms },
            None => RestoreWindow::Nothing,
        }
    };
    let newest = if backups.pitr_enabled {
        range
            .latest_physical_backup_date_unix
            .map(|s| s * 1000)
            .or(newest_completed)
    } else {
        newest_completed
    };
    let mut warnings = Vec::new();
    if let Some(newest_ms) = newest {
        if now_ms - newest_ms > STALE_AFTER_MS {
            warnings.push(BackupWarning::Stale { newest_ms });
        }
    }
    if let Some((at_ms, "FAILED")) = timed.last() {
        warnings.push(BackupWarning::LastFailed { at_ms: *at_ms });
    }
    if unreadable > 0 {
        warnings.push(BackupWarning::UnreadableTimes { count: unreadable });
    }
    BackupSummary {
        pitr_enabled: backups.pitr_enabled,
        window,
        warnings,
    }
}

/// `3 min`, `5 h`, `2 days`: how long ago, coarsely.
pub fn age_words(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0 => "under a minute".into(),
        1..=59 => format!("{minutes} min"),
        60..=2879 => format!("{} h", minutes / 60),
        _ => format!("{} days", minutes / 1440),
    }
}

impl RestoreWindow {
    pub fn words(&self, now_ms: i64) -> String {
        match self {
            Self::PointInTime { since_ms: Some(ms) } => {
                format!("any second since {}", utc_label(*ms))
            }
            Self::PointInTime { since_ms: None } => {
                "point-in-time recovery (Supabase did not say from when)".into()
            }
            Self::Daily { newest_ms } => format!(
                "daily backups, newest {} ago",
                age_words(now_ms - newest_ms)
            ),
            Self::Nothing => "no completed backup: nothing can be restored yet".into(),
        }
    }
}

impl BackupWarning {
    pub fn words(&self, now_ms: i64) -> String {
        match self {
            Self::Stale { newest_ms } => format!(
                "The newest backup is {} old ({}).",
                age_words(now_ms - newest_ms),
                utc_label(*newest_ms)
            ),
            Self::LastFailed { at_ms } => {
                format!("The last backup failed ({}).", utc_label(*at_ms))
            }
            Self::UnreadableTimes { count } => {
                format!("{count} backup(s) carry a time Greenroom cannot read and are left out.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::supabase::{Backup, PhysicalBackupData};

    const NOW: i64 = 1_764_000_000_000;

    fn backup(status: &str, at: &str) -> Backup {
        Backup {
            id: 1,
            is_physical_backup: true,
            status: status.into(),
            inserted_at: at.into(),
        }
    }

    fn backups(pitr: bool, list: Vec<Backup>) -> Backups {
        Backups {
            region: "eu-central-1".into(),
            pitr_enabled: pitr,
            walg_enabled: true,
            backups: list,
            physical_backup_data: PhysicalBackupData::default(),
        }
    }

    #[test]
    fn vendor_times_with_and_without_a_zone() {
        let z = parse_backup_time("2025-11-24T09:12:00Z").unwrap();
        assert_eq!(parse_backup_time("2025-11-24 09:12:00"), Some(z));
        assert_eq!(parse_backup_time("2025-11-24T09:12:00.000"), Some(z));
        assert_eq!(parse_backup_time("2025-11-24T10:12:00+01:00"), Some(z));
        assert_eq!(
            parse_backup_time("2025-11-24 09:12:00.123+00"),
            Some(z + 123)
        );
        assert_eq!(parse_backup_time("yesterday"), None);
    }

    #[test]
    fn daily_backups_say_how_old_the_newest_is_and_warn_when_it_failed() {
        let b = backups(
            false,
            vec![
                backup("COMPLETED", "2025-11-23T02:00:00Z"),
                backup("COMPLETED", "2025-11-24T02:00:00Z"),
                backup("FAILED", "2025-11-24T14:00:00Z"),
            ],
        );
        let at = parse_backup_time("2025-11-24T16:00:00Z").unwrap();
        let summary = summarize_backups(&b, at);
        assert_eq!(summary.window.words(at), "daily backups, newest 14 h ago");
        assert_eq!(summary.warnings.len(), 1);
        assert!(summary.warnings[0].words(at).contains("last backup failed"));

        let later = at + 2 * DAY_MS;
        let summary = summarize_backups(&b, later);
        assert!(matches!(summary.warnings[0], BackupWarning::Stale { .. }));
        assert!(summary.warnings[0]
            .words(later)
            .starts_with("The newest backup is 2 days old"));
    }

    #[test]
    fn pitr_names_its_range_and_nothing_completed_restores_nothing() {
        let mut b = backups(true, vec![backup("COMPLETED", "garbled")]);
        b.physical_backup_data = PhysicalBackupData {
            earliest_physical_backup_date_unix: Some(1_763_975_520),
            latest_physical_backup_date_unix: Some(NOW / 1000 - 60),
        };
        let summary = summarize_backups(&b, NOW);
        assert_eq!(
            summary.window.words(NOW),
            "any second since 2025-11-24 09:12 UTC"
        );
        assert_eq!(
            summary.warnings,
            vec![BackupWarning::UnreadableTimes { count: 1 }]
        );

        let none = summarize_backups(
            &backups(false, vec![backup("PENDING", "2025-11-24T02:00:00Z")]),
            NOW,
        );
        assert_eq!(none.window, RestoreWindow::Nothing);
    }
}
