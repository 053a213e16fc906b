//! Secret coverage at rest: each project's latest report (the engine's
//! value-free output, as JSON) and the findings admins dismissed.

use super::{now_ms, on_pool, Storage, StorageError};
use serde::Serialize;

/// A project's latest stored report, still as the JSON it was written as.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SecretReportRecord {
    pub project_id: i64,
    pub checked_at_ms: i64,
    pub report_json: String,
}

/// A dismissal of one finding, active or undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DismissalRecord {
    pub id: i64,
    pub project_id: i64,
    pub finding_id: String,
    pub reason: String,
    pub until_ms: Option<i64>,
    pub dismissed_by: String,
    pub dismissed_at_ms: i64,
    pub undone_by: Option<String>,
    pub undone_at_ms: Option<i64>,
}

impl DismissalRecord {
    /// Whether it still hides its finding at `now`.
    pub fn active_at(&self, now: i64) -> bool {
        self.undone_at_ms.is_none() && self.until_ms.is_none_or(|u| u > now)
    }
}

const DISMISSAL_COLUMNS: &str = "id, project_id, finding_id, reason, until_ms, dismissed_by, \
    dismissed_at_ms, undone_by, undone_at_ms";

impl Storage {
    /// Stores the project's report if the stored one is still the one read
    /// before the check (`expected`: its `checked_at_ms`, `None` when there
    /// was none). Returns false when another check stored one meanwhile:
    /// the caller reads again and decides. A compare-and-swap works the
    /// same on both backends and lets exactly one instance move a project
    /// from a given report to the next.
    pub async fn store_secret_report(
        &self,
        project_id: i64,
        expected: Option<i64>,
        checked_at_ms: i64,
        report_json: &str,
    ) -> Result<bool, StorageError> {
        let n = on_pool!(self, |pool, _Db| {
            match expected {
                None => sqlx::query(
                    "INSERT INTO secret_reports (project_id, checked_at_ms, report_json)
                     VALUES ($1, $2, $3) ON CONFLICT (project_id) DO NOTHING",
                )
                .bind(project_id)
                .bind(checked_at_ms)
                .bind(report_json)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
                Some(previous) => sqlx::query(
                    "UPDATE secret_reports SET checked_at_ms = $3, report_json = $4
                     WHERE project_id = $1 AND checked_at_ms = $2",
                )
                .bind(project_id)
                .bind(previous)
                .bind(checked_at_ms)
                .bind(report_json)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            }
        })?;
        Ok(n == 1)
    }

    pub async fn secret_report(
        &self,
        project_id: i64,
    ) -> Result<Option<SecretReportRecord>, StorageError> {
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, SecretReportRecord>(
                "SELECT project_id, checked_at_ms, report_json FROM secret_reports
                 WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// Dismisses a finding; returns the dismissal's id, or `None` when the
    /// finding already has an active dismissal. One whose date has passed
    /// is closed first (as undone at its date, by nobody).
    pub async fn dismiss_finding(
        &self,
        project_id: i64,
        finding_id: &str,
        reason: &str,
        until_ms: Option<i64>,
        by: &str,
    ) -> Result<Option<i64>, StorageError> {
        let now = now_ms();
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "UPDATE secret_dismissals SET undone_at_ms = until_ms
                 WHERE project_id = $1 AND finding_id = $2 AND undone_at_ms IS NULL
                   AND until_ms IS NOT NULL AND until_ms <= $3",
            )
            .bind(project_id)
            .bind(finding_id)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        let inserted = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO secret_dismissals (project_id, finding_id, reason, until_ms,
                     dismissed_by, dismissed_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(project_id)
            .bind(finding_id)
            .bind(reason)
            .bind(until_ms)
            .bind(by)
            .bind(now)
            .fetch_one(pool)
            .await
        });
        match inserted {
            Ok(id) => Ok(Some(id)),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Undoes a dismissal of the project. Returns it as it was, or `None`
    /// when there is no such active dismissal.
    pub async fn undo_dismissal(
        &self,
        project_id: i64,
        id: i64,
        by: &str,
    ) -> Result<Option<DismissalRecord>, StorageError> {
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, DismissalRecord>(&format!(
                "UPDATE secret_dismissals SET undone_by = $3, undone_at_ms = $4
                 WHERE id = $1 AND project_id = $2 AND undone_at_ms IS NULL
                 RETURNING {DISMISSAL_COLUMNS}"
            ))
            .bind(id)
            .bind(project_id)
            .bind(by)
            .bind(now_ms())
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// The project's dismissals, newest first: every one not undone (they
    /// hide findings, so none may be cut off) and the latest undone ones.
    pub async fn dismissals(&self, project_id: i64) -> Result<Vec<DismissalRecord>, StorageError> {
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, DismissalRecord>(&format!(
                "SELECT {DISMISSAL_COLUMNS} FROM secret_dismissals
                 WHERE project_id = $1 AND (undone_at_ms IS NULL OR id IN (
                     SELECT id FROM secret_dismissals WHERE project_id = $1
                     AND undone_at_ms IS NOT NULL ORDER BY undone_at_ms DESC LIMIT 50))
                 ORDER BY dismissed_at_ms DESC, id DESC"
            ))
            .bind(project_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }
}
