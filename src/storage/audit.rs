//! The audit log: append-only. A row is written `pending` before an upstream
//! mutation and completed once after it; rows a crash left `pending` become
//! `unknown` at the next start, so nothing is silently lost.

use super::{now_ms, on_pool, Storage, StorageError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    Pending,
    Succeeded,
    Failed,
    /// The process stopped between the upstream call and recording its result.
    Unknown,
    /// Authorization or sign-in was refused; nothing was sent upstream.
    Refused,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Pending => "pending",
            AuditOutcome::Succeeded => "succeeded",
            AuditOutcome::Failed => "failed",
            AuditOutcome::Unknown => "unknown",
            AuditOutcome::Refused => "refused",
        }
    }
}

impl TryFrom<String> for AuditOutcome {
    type Error = StorageError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Ok(match s.as_str() {
            "pending" => AuditOutcome::Pending,
            "succeeded" => AuditOutcome::Succeeded,
            "failed" => AuditOutcome::Failed,
            "unknown" => AuditOutcome::Unknown,
            "refused" => AuditOutcome::Refused,
            other => {
                return Err(StorageError::Corrupt(format!(
                    "unknown audit outcome {other:?}"
                )))
            }
        })
    }
}

/// What is known when an audited action starts. Parameters must not hold secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub actor_login: Option<String>,
    pub actor_id: Option<i64>,
    pub role: Option<String>,
    pub action: String,
    pub project: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub params: serde_json::Value,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at_ms: i64,
    pub completed_at_ms: Option<i64>,
    pub actor_login: Option<String>,
    pub actor_id: Option<i64>,
    pub role: Option<String>,
    pub action: String,
    pub project: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub params_json: String,
    #[sqlx(try_from = "String")]
    pub outcome: AuditOutcome,
    pub message: Option<String>,
    pub upstream_ids_json: String,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor_login: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<AuditOutcome>,
    pub project: Option<String>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

/// The (occurred_at_ms, id) of the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCursor {
    pub occurred_at_ms: i64,
    pub id: i64,
}

const COLUMNS: &str = "id, occurred_at_ms, completed_at_ms, actor_login, actor_id, role, action, project, \
    target_kind, target_id, params_json, outcome, message, upstream_ids_json, request_id, client_ip";

impl Storage {
    /// Records an event with the given outcome; for an action about to call
    /// upstream, use [`AuditOutcome::Pending`] and complete it afterwards.
    pub async fn record_audit(
        &self,
        event: &NewAuditEvent,
        outcome: AuditOutcome,
    ) -> Result<i64, StorageError> {
        let id = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO audit_events (occurred_at_ms, completed_at_ms, actor_login, actor_id, role, action,
                     project, target_kind, target_id, params_json, outcome, upstream_ids_json, request_id, client_ip)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '[]', $12, $13)
                 RETURNING id",
            )
            .bind(now_ms())
            .bind((outcome != AuditOutcome::Pending).then(now_ms))
            .bind(&event.actor_login)
            .bind(event.actor_id)
            .bind(&event.role)
            .bind(&event.action)
            .bind(&event.project)
            .bind(&event.target_kind)
            .bind(&event.target_id)
            .bind(event.params.to_string())
            .bind(outcome.as_str())
            .bind(&event.request_id)
            .bind(&event.client_ip)
            .fetch_one(pool)
            .await
        })?;
        Ok(id)
    }

    /// Records an event that is already over (a sign-in, a refusal), with
    /// what happened.
    pub async fn record_finished_audit(
        &self,
        event: &NewAuditEvent,
        outcome: AuditOutcome,
        message: Option<&str>,
    ) -> Result<i64, StorageError> {
        let id = self.record_audit(event, AuditOutcome::Pending).await?;
        self.complete_audit(id, outcome, message, &[]).await?;
        Ok(id)
    }

    /// Completes a pending event exactly once. Returns false if it was not
    /// pending any more (already completed, or marked unknown at a restart).
    pub async fn complete_audit(
        &self,
        id: i64,
        outcome: AuditOutcome,
        message: Option<&str>,
        upstream_ids: &[String],
    ) -> Result<bool, StorageError> {
        self.close_audit(id, outcome, message, upstream_ids, false)
            .await
    }

    /// Settles an event whose outcome was pending or unknown with what is now
    /// known to be true (the reconciler asked the vendor, or a live instance
    /// finished what a restarting one took for abandoned). Returns false if
    /// it was already settled.
    pub async fn settle_audit(
        &self,
        id: i64,
        outcome: AuditOutcome,
        message: Option<&str>,
        upstream_ids: &[String],
    ) -> Result<bool, StorageError> {
        self.close_audit(id, outcome, message, upstream_ids, true)
            .await
    }

    async fn close_audit(
        &self,
        id: i64,
        outcome: AuditOutcome,
        message: Option<&str>,
        upstream_ids: &[String],
        also_unknown: bool,
    ) -> Result<bool, StorageError> {
        let upstream = serde_json::to_string(upstream_ids)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let done = on_pool!(self, |pool, _Db| {
            sqlx::query(
                "UPDATE audit_events SET outcome = $1, message = $2, upstream_ids_json = $3, completed_at_ms = $4
                 WHERE id = $5 AND (outcome = 'pending' OR ($6 AND outcome = 'unknown'))",
            )
            .bind(outcome.as_str())
            .bind(message)
            .bind(&upstream)
            .bind(now_ms())
            .bind(id)
            .bind(also_unknown)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Marks events still `pending` that began before `started_before_ms` as
    /// `unknown`: the process that wrote them stopped before recording an
    /// outcome. Events of unfinished actions are left alone: their owner (or
    /// the instance that adopts them) settles them with the vendor's answer.
    pub async fn mark_abandoned_audits_unknown(
        &self,
        started_before_ms: i64,
    ) -> Result<u64, StorageError> {
        let done = on_pool!(self, |pool, _Db| {
            sqlx::query(
                "UPDATE audit_events SET outcome = 'unknown', completed_at_ms = $1,
                     message = 'Greenroom stopped before the outcome was recorded; check the vendor for what happened'
                 WHERE outcome = 'pending' AND occurred_at_ms < $2
                   AND id NOT IN (SELECT audit_id FROM actions
                                  WHERE finished_at_ms IS NULL AND audit_id IS NOT NULL)",
            )
            .bind(now_ms())
            .bind(started_before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done)
    }

    /// One page of the audit log, newest first.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        after: Option<AuditCursor>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StorageError> {
        let rows = on_pool!(self, |pool, Db| {
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT {COLUMNS} FROM audit_events WHERE 1 = 1"
            ));
            for (column, value) in [
                ("actor_login", &filter.actor_login),
                ("action", &filter.action),
                ("project", &filter.project),
            ] {
                if let Some(v) = value {
                    q.push(format!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if let Some(o) = filter.outcome {
                q.push(" AND outcome = ").push_bind(o.as_str());
            }
            if let Some(v) = filter.from_ms {
                q.push(" AND occurred_at_ms >= ").push_bind(v);
            }
            if let Some(v) = filter.until_ms {
                q.push(" AND occurred_at_ms < ").push_bind(v);
            }
            if let Some(c) = after {
                q.push(" AND (occurred_at_ms, id) < (")
                    .push_bind(c.occurred_at_ms)
                    .push(", ")
                    .push_bind(c.id)
                    .push(")");
            }
            q.push(" ORDER BY occurred_at_ms DESC, id DESC LIMIT ")
                .push_bind(i64::from(limit));
            q.build_query_as::<AuditEvent>().fetch_all(pool).await
        })?;
        Ok(rows)
    }
}

impl AuditEvent {
    pub fn cursor(&self) -> AuditCursor {
        AuditCursor {
            occurred_at_ms: self.occurred_at_ms,
            id: self.id,
        }
    }
}
