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
    /// The vendor was asked but its answer never came (a timeout, a 5xx, a
    /// connection lost): it may have acted. While unfinished, Greenroom is
    /// asking it what happened; finished (`finished_at_ms` set) it gave up
    /// asking. The action's key stays held in both cases (see
    /// `Storage::claim_action`). Not `is_final`: nothing says how it ended.
    Unknown,
    Succeeded,
    Failed,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Starting => "starting",
            ActionState::Running => "running",
            ActionState::Unknown => "unknown",
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
            "unknown" => ActionState::Unknown,
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
    /// The instance working on it, which renews `heartbeat_at_ms` while it does.
    pub owner: Option<String>,
    pub heartbeat_at_ms: Option<i64>,
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
    /// The instance claiming it.
    pub owner: String,
}

/// Whether this request won the action or found it already under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    Won(ActionRecord),
    AlreadyUnderWay(ActionRecord),
}

const COLUMNS: &str = "id, project_id, kind, active_key, state, actor_login, audit_id, summary, \
    target_json, upstream_ref, message, progress_json, started_at_ms, updated_at_ms, finished_at_ms, \
    owner, heartbeat_at_ms";

impl Storage {
    /// Claims `action` unless an equal one is under way or finished less than
    /// `window_ms` ago. An unfinished claim whose heartbeat is older than
    /// `stale_ms` no longer blocks (a last resort: the reconciler normally
    /// adopts and finishes it long before). One whose outcome stayed unknown
    /// (the vendor may still act on it) blocks for `stale_ms` after it was
    /// given up, not `window_ms`, so a quick retry cannot do it twice.
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
                       AND ((finished_at_ms IS NOT NULL AND state <> 'unknown' AND finished_at_ms < $2)
                         OR (finished_at_ms IS NOT NULL AND state = 'unknown' AND finished_at_ms < $3)
                         OR (finished_at_ms IS NULL AND COALESCE(heartbeat_at_ms, updated_at_ms) < $3))",
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
                         target_json, progress_json, started_at_ms, updated_at_ms, owner, heartbeat_at_ms)
                     VALUES ($1, $2, $3, 'starting', $4, $5, $6, $7, $8, $8, $9, $8)
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
                .bind(&action.owner)
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
    /// the progress seen so far. A finished action stays finished, and with
    /// `owner` only its owner moves it (an instance whose action another took
    /// over writes nothing).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_action(
        &self,
        id: i64,
        state: ActionState,
        upstream_ref: Option<&str>,
        message: Option<&str>,
        progress_json: &str,
        now: i64,
        owner: Option<&str>,
    ) -> Result<(), StorageError> {
        self.move_action(
            id,
            state,
            state.is_final(),
            upstream_ref,
            message,
            progress_json,
            now,
            owner,
        )
        .await
    }

    /// Ends an action whose outcome could not be found out: it stays
    /// `unknown` (never shown as failed), is no longer followed, and keeps its
    /// key for the stale window (see `claim_action`).
    pub async fn give_up_action(
        &self,
        id: i64,
        message: &str,
        progress_json: &str,
        now: i64,
        owner: Option<&str>,
    ) -> Result<(), StorageError> {
        self.move_action(
            id,
            ActionState::Unknown,
            true,
            None,
            Some(message),
            progress_json,
            now,
            owner,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn move_action(
        &self,
        id: i64,
        state: ActionState,
        finished: bool,
        upstream_ref: Option<&str>,
        message: Option<&str>,
        progress_json: &str,
        now: i64,
        owner: Option<&str>,
    ) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "UPDATE actions SET state = $1, upstream_ref = COALESCE($2, upstream_ref),
                     message = COALESCE($3, message), progress_json = $4, updated_at_ms = $5,
                     finished_at_ms = CASE WHEN $6 THEN $5 ELSE finished_at_ms END
                 WHERE id = $7 AND finished_at_ms IS NULL
                   AND ($8 IS NULL OR owner IS NULL OR owner = $8)",
            )
            .bind(state.as_str())
            .bind(upstream_ref)
            .bind(message)
            .bind(progress_json)
            .bind(now)
            .bind(finished)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Replaces what an action acts on (its JSON), e.g. with what the vendor
    /// showed just before the call, which reconciling compares against.
    pub async fn set_action_target(&self, id: i64, target_json: &str) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query("UPDATE actions SET target_json = $1 WHERE id = $2")
                .bind(target_json)
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

    /// A project's newest actions first, of the kinds that start with
    /// `kind_prefix` (taken literally; `""` for all).
    pub async fn recent_actions(
        &self,
        project_id: i64,
        kind_prefix: &str,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM actions WHERE project_id = $1 AND kind LIKE $2 ESCAPE '\\'
             ORDER BY started_at_ms DESC, id DESC LIMIT $3"
        );
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, ActionRecord>(&sql)
                .bind(project_id)
                .bind(format!("{}%", like_literal(kind_prefix)))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// Renews the heartbeat of the unfinished actions `owner` is working on.
    /// Returns those it no longer owns (another instance adopted them).
    pub async fn heartbeat_actions(
        &self,
        owner: &str,
        ids: &[i64],
        now: i64,
    ) -> Result<Vec<i64>, StorageError> {
        let mut lost = Vec::new();
        for &id in ids {
            let renewed = on_pool!(self, |pool, _Db| {
                sqlx::query(
                    "UPDATE actions SET heartbeat_at_ms = $1
                     WHERE id = $2 AND owner = $3 AND finished_at_ms IS NULL",
                )
                .bind(now)
                .bind(id)
                .bind(owner)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            })?;
            if renewed == 0 {
                let other = on_pool!(self, |pool, _Db| {
                    sqlx::query_scalar::<_, i64>(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM actions
                         WHERE id = $1 AND finished_at_ms IS NULL AND owner <> $2",
                    )
                    .bind(id)
                    .bind(owner)
                    .fetch_one(pool)
                    .await
                })?;
                if other > 0 {
                    lost.push(id);
                }
            }
        }
        Ok(lost)
    }

    /// Takes over the unfinished actions whose heartbeat is older than
    /// `lease_ms` (their instance stopped, or stopped working on them), oldest
    /// first. Each is taken by exactly one caller, however many instances ask
    /// at once: the update only succeeds while the heartbeat is still stale.
    pub async fn adopt_orphaned_actions(
        &self,
        owner: &str,
        working_on: &[i64],
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<ActionRecord>, StorageError> {
        // A claim written without a heartbeat (by an older version during a
        // rolling upgrade) counts from its last update.
        let sql = format!(
            "SELECT {COLUMNS} FROM actions
             WHERE finished_at_ms IS NULL AND COALESCE(heartbeat_at_ms, updated_at_ms) < $1
             ORDER BY started_at_ms, id LIMIT 100"
        );
        let stale = now - lease_ms;
        let candidates = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, ActionRecord>(&sql)
                .bind(stale)
                .fetch_all(pool)
                .await
        })?;
        let mut adopted = Vec::new();
        // Never its own live work, even if a heartbeat write failed.
        for mut a in candidates
            .into_iter()
            .filter(|a| !working_on.contains(&a.id))
        {
            let took = on_pool!(self, |pool, _Db| {
                sqlx::query(
                    "UPDATE actions SET owner = $1, heartbeat_at_ms = $2
                     WHERE id = $3 AND finished_at_ms IS NULL
                       AND COALESCE(heartbeat_at_ms, updated_at_ms) < $4",
                )
                .bind(owner)
                .bind(now)
                .bind(a.id)
                .bind(stale)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            })?;
            if took == 1 {
                a.owner = Some(owner.to_string());
                a.heartbeat_at_ms = Some(now);
                adopted.push(a);
            }
        }
        Ok(adopted)
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

/// `s` for a LIKE pattern with `ESCAPE '\\'`: its `%` and `_` match
/// themselves.
fn like_literal(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
