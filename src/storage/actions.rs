//! On-call actions and the Slack notifications sent about them, stored so
//! that several instances agree: the unique `active_key` makes exactly one
//! request win an action within its window, and the notification key makes
//! each event announced once.

use super::{on_pool, Storage, StorageError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionState {
    /// Claimed; the upstream call has not answered yet.
    Starting,
    /// The vendor accepted it; Greenroom is watching it to the end.
    Running,
    Succeeded,
    Failed,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Starting => "starting",
            ActionState::Running => "running",
            ActionState::Succeeded => "succeeded",
            ActionState::Failed => "failed",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, ActionState::Succeeded | ActionState::Failed)
    }
}

impl TryFrom<String> for ActionState {
    type Error = StorageError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Ok(match s.as_str() {
            "starting" => ActionState::Starting,
            "running" => ActionState::Running,
            "succeeded" => ActionState::Succeeded,
            "failed" => ActionState::Failed,
            other => {
                return Err(StorageError::Corrupt(format!(
                    "unknown action state {other:?}"
                )))
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ActionRecord {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub active_key: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: ActionState,
    pub actor_login: Option<String>,
    pub audit_id: Option<i64>,
    /// One line saying what the action does ("Publish deploy 64a… of abc1234").
    pub summary: String,
    /// What the action acts on, as JSON (no secrets).
    pub target_json: String,
    /// The vendor's id for what it started (a deploy id, a run id).
    pub upstream_ref: Option<String>,
    pub message: Option<String>,
    /// `[{"state": "...", "at_ms": ...}, ...]`: the states seen, in order.
    pub progress_json: String,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// An action about to be claimed.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub project_id: i64,
    pub kind: String,
    /// Equal keys are the same action: at most one is active at a time.
    pub active_key: String,
    pub actor_login: Option<String>,
    pub summary: String,
    pub target_json: String,
}

/// Whether this request won the action or found it already under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    Won(ActionRecord),
    AlreadyUnderWay(ActionRecord),
}

const COLUMNS: &str = "id, project_id, kind, active_key, state, actor_login, audit_id, summary, \
    target_json, upstream_ref, message, progress_json, started_at_ms, updated_at_ms, finished_at_ms";

impl Storage {
    /// Claims `action` unless an equal one is under way or finished less than
    /// `window_ms` ago. An unfinished claim older than `stale_ms` (its
    /// instance died) no longer blocks.
    pub async fn claim_action(
        &self,
        action: &NewAction,
        now: i64,
        window_ms: i64,
        stale_ms: i64,
    ) -> Result<Claim, StorageError> {
        let select = format!("SELECT {COLUMNS} FROM actions WHERE id = $1");
        let by_key = format!("SELECT {COLUMNS} FROM actions WHERE active_key = $1");
        // Bounded: each pass either inserts, finds the holder, or frees a key
        // whose holder vanished in between.
        for _ in 0..3 {
            on_pool!(self, |pool, _Db| {
                sqlx::query(
                    "UPDATE actions SET active_key = NULL
                     WHERE active_key = $1
                       AND ((finished_at_ms IS NOT NULL AND finished_at_ms < $2)
                         OR (finished_at_ms IS NULL AND updated_at_ms < $3))",
                )
                .bind(&action.active_key)
                .bind(now - window_ms)
                .bind(now - stale_ms)
                .execute(pool)
                .await
                .map(|_| ())
            })?;
            let inserted: Option<i64> = on_pool!(self, |pool, _Db| {
                sqlx::query_scalar(
                    "INSERT INTO actions (project_id, kind, active_key, state, actor_login, summary,
                         target_json, progress_json, started_at_ms, updated_at_ms)
                     VALUES ($1, $2, $3, 'starting', $4, $5, $6, $7, $8, $8)
                     ON CONFLICT (active_key) DO NOTHING
                     RETURNING id",
                )
                .bind(action.project_id)
                .bind(&action.kind)
                .bind(&action.active_key)
                .bind(&action.actor_login)
                .bind(&action.summary)
                .bind(&action.target_json)
                .bind(
                    serde_json::json!([{ "state": "requested", "at_ms": now }]).to_string(),
                )
                .bind(now)
                .fetch_optional(pool)
                .await
            })?;
            if let Some(id) = inserted {
                let row = on_pool!(self, |pool, _Db| {
                    sqlx::query_as::<_, ActionRecord>(&select)
                        .bind(id)
                        .fetch_one(pool)
                        .await
                })?;
                return Ok(Claim::Won(row));
            }
            let holder = on_pool!(self, |pool, _Db| {
                sqlx::query_as::<_, ActionRecord>(&by_key)
                    .bind(&action.active_key)
                    .fetch_optional(pool)
                    .await
            })?;
            if let Some(h) = holder {
                return Ok(Claim::AlreadyUnderWay(h));
            }
        }
        Err(StorageError::Corrupt(format!(
            "could not claim action {} nor find who holds it",
            action.active_key
        )))
    }

    pub async fn set_action_audit(&self, id: i64, audit_id: i64) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query("UPDATE actions SET audit_id = $1 WHERE id = $2")
                .bind(audit_id)
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Moves an action on: its state, what upstream called it, a message, and
    /// the progress seen so far. A finished action stays finished.
    pub async fn update_action(
        &self,
        id: i64,
        state: ActionState,
        upstream_ref: Option<&str>,
        message: Option<&str>,
        progress_json: &str,
        now: i64,
    ) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "UPDATE actions SET state = $1, upstream_ref = COALESCE($2, upstream_ref),
                     message = COALESCE($3, message), progress_json = $4, updated_at_ms = $5,
                     finished_at_ms = CASE WHEN $6 THEN $5 ELSE finished_at_ms END
                 WHERE id = $7 AND finished_at_ms IS NULL",
            )
            .bind(state.as_str())
            .bind(upstream_ref)
            .bind(message)
            .bind(progress_json)
            .bind(now)
            .bind(state.is_final())
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Frees an action's key at once (it was refused before anything was sent).
    pub async fn release_action_key(&self, id: i64) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query("UPDATE actions SET active_key = NULL WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    pub async fn get_action(&self, id: i64) -> Result<Option<ActionRecord>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM actions WHERE id = $1");
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, ActionRecord>(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }

    /// A project's newest actions first.
    pub async fn recent_actions(
        &self,
        project_id: i64,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM actions WHERE project_id = $1
             ORDER BY started_at_ms DESC, id DESC LIMIT $2"
        );
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, ActionRecord>(&sql)
                .bind(project_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// Actions not finished, oldest first (an instance resumes watching them).
    pub async fn unfinished_actions(&self) -> Result<Vec<ActionRecord>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM actions WHERE finished_at_ms IS NULL ORDER BY started_at_ms, id"
        );
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, ActionRecord>(&sql)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// Claims the right to announce `event_key`: true exactly once per key,
    /// across instances.
    pub async fn claim_notification(
        &self,
        event_key: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        let n = on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO notifications (event_key, created_at_ms) VALUES ($1, $2)
                 ON CONFLICT (event_key) DO NOTHING",
            )
            .bind(event_key)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    pub async fn complete_notification(
        &self,
        event_key: &str,
        delivered: bool,
        error: Option<&str>,
    ) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query("UPDATE notifications SET delivered = $1, error = $2 WHERE event_key = $3")
                .bind(delivered)
                .bind(error)
                .bind(event_key)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Notifications Slack did not take, newest first: shown to admins.
    pub async fn failed_notifications(
        &self,
        limit: u32,
    ) -> Result<Vec<(String, i64, String)>, StorageError> {
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, (String, i64, String)>(
                "SELECT event_key, created_at_ms, COALESCE(error, '') FROM notifications
                 WHERE delivered = $1 ORDER BY created_at_ms DESC LIMIT $2",
            )
            .bind(false)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }
}
