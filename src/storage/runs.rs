//! GitHub Actions runs and their jobs, cached for the pages and for linking a
//! deploy to the run that produced it (by commit SHA and branch).

use super::{on_pool, Storage, StorageError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct WorkflowRunRecord {
    pub run_id: i64,
    pub project_id: i64,
    pub workflow: String,
    pub run_number: i64,
    pub run_attempt: i64,
    pub event: String,
    pub branch: Option<String>,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub actor: Option<String>,
    pub html_url: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub synced_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct WorkflowJobRecord {
    pub job_id: i64,
    pub run_id: i64,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at_ms: Option<i64>,
    pub completed_at_ms: Option<i64>,
    /// The job's steps as a JSON array, stored as GitHub gave them (trimmed).
    pub steps_json: String,
}

const RUN_COLUMNS: &str =
    "run_id, project_id, workflow, run_number, run_attempt, event, branch, head_sha, \
    status, conclusion, actor, html_url, created_at_ms, updated_at_ms, synced_at_ms";

impl Storage {
    pub async fn upsert_runs(&self, runs: &[WorkflowRunRecord]) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            let mut tx = pool.begin().await?;
            for r in runs {
                sqlx::query(
                    "INSERT INTO workflow_runs (run_id, project_id, workflow, run_number, run_attempt, event,
                         branch, head_sha, status, conclusion, actor, html_url, created_at_ms, updated_at_ms,
                         synced_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                     ON CONFLICT (run_id) DO UPDATE SET
                         run_attempt = excluded.run_attempt, status = excluded.status,
                         conclusion = excluded.conclusion, updated_at_ms = excluded.updated_at_ms,
                         synced_at_ms = excluded.synced_at_ms",
                )
                .bind(r.run_id)
                .bind(r.project_id)
                .bind(&r.workflow)
                .bind(r.run_number)
                .bind(r.run_attempt)
                .bind(&r.event)
                .bind(&r.branch)
                .bind(&r.head_sha)
                .bind(&r.status)
                .bind(&r.conclusion)
                .bind(&r.actor)
                .bind(&r.html_url)
                .bind(r.created_at_ms)
                .bind(r.updated_at_ms)
                .bind(r.synced_at_ms)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Replaces the jobs stored for a run with `jobs` (a run's jobs change as it re-runs).
    pub async fn replace_jobs(
        &self,
        run_id: i64,
        jobs: &[WorkflowJobRecord],
    ) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM workflow_jobs WHERE run_id = $1")
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
            for j in jobs {
                sqlx::query(
                    "INSERT INTO workflow_jobs (job_id, run_id, name, status, conclusion, started_at_ms,
                         completed_at_ms, steps_json)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(j.job_id)
                .bind(run_id)
                .bind(&j.name)
                .bind(&j.status)
                .bind(&j.conclusion)
                .bind(j.started_at_ms)
                .bind(j.completed_at_ms)
                .bind(&j.steps_json)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn jobs_of_run(&self, run_id: i64) -> Result<Vec<WorkflowJobRecord>, StorageError> {
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, WorkflowJobRecord>(
                "SELECT job_id, run_id, name, status, conclusion, started_at_ms, completed_at_ms, steps_json
                 FROM workflow_jobs WHERE run_id = $1 ORDER BY started_at_ms, job_id",
            )
            .bind(run_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Newest runs of a project first; `before` is the (created_at_ms, run_id) of the last row seen.
    pub async fn list_runs(
        &self,
        project_id: i64,
        before: Option<(i64, i64)>,
        limit: u32,
    ) -> Result<Vec<WorkflowRunRecord>, StorageError> {
        let (t, id) = before.unwrap_or((i64::MAX, i64::MAX));
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs
             WHERE project_id = $1 AND (created_at_ms, run_id) < ($2, $3)
             ORDER BY created_at_ms DESC, run_id DESC LIMIT $4"
        );
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, WorkflowRunRecord>(&sql)
                .bind(project_id)
                .bind(t)
                .bind(id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// The newest run for a commit on a branch: how a deploy finds its run.
    pub async fn run_for_commit(
        &self,
        head_sha: &str,
        branch: &str,
    ) -> Result<Option<WorkflowRunRecord>, StorageError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE head_sha = $1 AND branch = $2
             ORDER BY created_at_ms DESC, run_id DESC LIMIT 1"
        );
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, WorkflowRunRecord>(&sql)
                .bind(head_sha)
                .bind(branch)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }
}

impl Storage {
    pub async fn get_run(&self, run_id: i64) -> Result<Option<WorkflowRunRecord>, StorageError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE run_id = $1");
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, WorkflowRunRecord>(&sql)
                .bind(run_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }

    /// The stored runs among `ids` (sync writes only what changed).
    pub async fn runs_by_ids(&self, ids: &[i64]) -> Result<Vec<WorkflowRunRecord>, StorageError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let rows = on_pool!(self, |pool, Db| {
                let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                    "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE run_id IN ("
                ));
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                q.push(")");
                q.build_query_as::<WorkflowRunRecord>()
                    .fetch_all(pool)
                    .await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Runs of a project not completed yet, oldest first.
    pub async fn unfinished_runs(
        &self,
        project_id: i64,
    ) -> Result<Vec<WorkflowRunRecord>, StorageError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE project_id = $1 AND status <> 'completed'
             ORDER BY created_at_ms, run_id"
        );
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, WorkflowRunRecord>(&sql)
                .bind(project_id)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// The newest runs of a project whose jobs have not been fetched yet.
    pub async fn runs_without_jobs(
        &self,
        project_id: i64,
        limit: u32,
    ) -> Result<Vec<i64>, StorageError> {
        let ids = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar::<_, i64>(
                "SELECT r.run_id FROM workflow_runs r
                 WHERE r.project_id = $1
                   AND NOT EXISTS (SELECT 1 FROM workflow_jobs j WHERE j.run_id = r.run_id)
                 ORDER BY r.created_at_ms DESC, r.run_id DESC LIMIT $2",
            )
            .bind(project_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?;
        Ok(ids)
    }

    /// The newest run of a project that has a job named `job` (the deploy
    /// job), on `branch` when given.
    pub async fn latest_run_with_job(
        &self,
        project_id: i64,
        job: &str,
        branch: Option<&str>,
    ) -> Result<Option<WorkflowRunRecord>, StorageError> {
        Ok(self
            .runs_with_job(project_id, job, branch, false, 1)
            .await?
            .into_iter()
            .next())
    }

    /// The newest `limit` runs of a project that have a job named `job`, on
    /// `branch` when given, and only completed ones when `completed`.
    pub async fn runs_with_job(
        &self,
        project_id: i64,
        job: &str,
        branch: Option<&str>,
        completed: bool,
        limit: u32,
    ) -> Result<Vec<WorkflowRunRecord>, StorageError> {
        let cols = RUN_COLUMNS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = on_pool!(self, |pool, Db| {
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT {cols} FROM workflow_runs r WHERE r.project_id = "
            ));
            q.push_bind(project_id);
            if let Some(b) = branch {
                q.push(" AND r.branch = ").push_bind(b);
            }
            if completed {
                q.push(" AND r.status = 'completed'");
            }
            q.push(" AND EXISTS (SELECT 1 FROM workflow_jobs j WHERE j.run_id = r.run_id AND j.name = ")
                .push_bind(job)
                .push(" AND (j.steps_json <> '[]' OR j.status <> 'completed'))")
                .push(" ORDER BY r.created_at_ms DESC, r.run_id DESC LIMIT ")
                .push_bind(i64::from(limit));
            q.build_query_as::<WorkflowRunRecord>()
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }
}
