//! Sync bookkeeping: per project and source, when sync last succeeded and
//! what it has been failing with; the deploy each site serves now; and the
//! lease that lets one instance of many run the sync.

use super::{on_pool, Storage, StorageError};
use serde::Serialize;

/// What sync last did for one project and one source (`netlify`, `github`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SyncStatus {
    pub project_id: i64,
    pub source: String,
    pub last_attempt_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    /// The error of the last attempt, if it failed (never holds a secret:
    /// provider errors carry no token or URL).
    pub error: Option<String>,
    /// When the current run of failures began.
    pub error_since_ms: Option<i64>,
    pub full_load_done: bool,
    pub changed_at_ms: Option<i64>,
}

/// The columns of a project's change mark; `FROM projects p` follows. The
/// sums change when any one row changes, even to a time below the newest
/// (two actions updated out of order, instances whose clocks differ).
const MARKS: &str = "SELECT p.id,
     (SELECT COALESCE(MAX(s.changed_at_ms), 0) FROM sync_status s WHERE s.project_id = p.id),
     (SELECT COALESCE(MAX(a.updated_at_ms), 0) FROM actions a WHERE a.project_id = p.id),
     (SELECT COALESCE(MAX(s.last_attempt_ms), 0) FROM sync_status s WHERE s.project_id = p.id),
     (SELECT COALESCE(MAX(s.changed_at_ms), 0) FROM sync_status s
          WHERE s.project_id = p.id AND s.source = 'netlify'),
     (SELECT CAST(COALESCE(SUM(s.changed_at_ms), 0) AS BIGINT) FROM sync_status s WHERE s.project_id = p.id),
     (SELECT CAST(COALESCE(SUM(a.updated_at_ms), 0) AS BIGINT) FROM actions a WHERE a.project_id = p.id)";

type MarkRow = (i64, i64, i64, i64, i64, i64, i64);

impl From<MarkRow> for ChangeMark {
    fn from(
        (project_id, synced, acted, attempted_ms, deploys_mark, synced_sum, acted_sum): MarkRow,
    ) -> Self {
        ChangeMark {
            project_id,
            mark: synced.max(acted),
            attempted_ms,
            deploys_mark,
            sums: (synced_sum, acted_sum),
        }
    }
}

/// A project's change mark and when sync last tried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeMark {
    pub project_id: i64,
    /// The newest change sync or an action recorded.
    pub mark: i64,
    /// The last sync attempt (a page shows how fresh its data is).
    pub attempted_ms: i64,
    /// When sync last found one of its deploys new or changed (as
    /// [`Storage::deploys_change_mark`], for this project).
    pub deploys_mark: i64,
    /// Sums of the sync and action times behind `mark`: they move whenever
    /// one of them does, which the maxima alone need not.
    pub sums: (i64, i64),
}

/// The deploy a site serves now, as Netlify last said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SiteLive {
    pub site_id: String,
    pub project_id: i64,
    pub deploy_id: Option<String>,
    pub published_at_ms: Option<i64>,
    pub synced_at_ms: i64,
}

impl Storage {
    /// Records a successful sync of `source`; `changed` says whether it found
    /// anything new or different (live views watch that time).
    pub async fn record_sync_success(
        &self,
        project_id: i64,
        source: &str,
        now: i64,
        changed: bool,
    ) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO sync_status (project_id, source, last_attempt_ms, last_success_ms, error,
                     error_since_ms, full_load_done, changed_at_ms)
                 VALUES ($1, $2, $3, $3, NULL, NULL, $4, $5)
                 ON CONFLICT (project_id, source) DO UPDATE SET
                     last_attempt_ms = excluded.last_attempt_ms,
                     last_success_ms = excluded.last_success_ms,
                     error = NULL, error_since_ms = NULL, full_load_done = excluded.full_load_done,
                     changed_at_ms = COALESCE(excluded.changed_at_ms, sync_status.changed_at_ms)",
            )
            .bind(project_id)
            .bind(source)
            .bind(now)
            .bind(true)
            .bind(changed.then_some(now))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Records a failed sync: the data stays as it was; the error and since
    /// when it has been failing are kept for the pages.
    pub async fn record_sync_failure(
        &self,
        project_id: i64,
        source: &str,
        now: i64,
        error: &str,
    ) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO sync_status (project_id, source, last_attempt_ms, last_success_ms, error,
                     error_since_ms, full_load_done, changed_at_ms)
                 VALUES ($1, $2, $3, NULL, $4, $3, $5, $3)
                 ON CONFLICT (project_id, source) DO UPDATE SET
                     last_attempt_ms = excluded.last_attempt_ms,
                     error = excluded.error,
                     error_since_ms = COALESCE(sync_status.error_since_ms, excluded.error_since_ms),
                     changed_at_ms = CASE WHEN sync_status.error IS NULL
                                          THEN excluded.changed_at_ms ELSE sync_status.changed_at_ms END",
            )
            .bind(project_id)
            .bind(source)
            .bind(now)
            .bind(error)
            .bind(false)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    pub async fn sync_statuses(&self, project_id: i64) -> Result<Vec<SyncStatus>, StorageError> {
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, SyncStatus>(
                "SELECT project_id, source, last_attempt_ms, last_success_ms, error, error_since_ms,
                     full_load_done, changed_at_ms
                 FROM sync_status WHERE project_id = $1 ORDER BY source",
            )
            .bind(project_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    pub async fn set_site_live(&self, live: &SiteLive) -> Result<bool, StorageError> {
        let changed = on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO site_live (site_id, project_id, deploy_id, published_at_ms, synced_at_ms)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (site_id) DO UPDATE SET
                     project_id = excluded.project_id, deploy_id = excluded.deploy_id,
                     published_at_ms = excluded.published_at_ms, synced_at_ms = excluded.synced_at_ms
                 WHERE site_live.deploy_id IS DISTINCT FROM excluded.deploy_id
                    OR site_live.published_at_ms IS DISTINCT FROM excluded.published_at_ms",
            )
            .bind(&live.site_id)
            .bind(live.project_id)
            .bind(&live.deploy_id)
            .bind(live.published_at_ms)
            .bind(live.synced_at_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(changed == 1)
    }

    pub async fn site_live(&self, site_id: &str) -> Result<Option<SiteLive>, StorageError> {
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, SiteLive>(
                "SELECT site_id, project_id, deploy_id, published_at_ms, synced_at_ms
                 FROM site_live WHERE site_id = $1",
            )
            .bind(site_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// The deploy `site_id` serves now, as the last sync recorded it.
    pub async fn serving_deploy(
        &self,
        site_id: &str,
    ) -> Result<Option<super::DeployRecord>, StorageError> {
        match self.site_live(site_id).await?.and_then(|l| l.deploy_id) {
            Some(id) => self.get_deploy(site_id, &id).await,
            None => Ok(None),
        }
    }

    /// Takes or renews the lease `name` for `holder` until `now + ttl_ms`.
    /// True when `holder` holds it afterwards: it was free, expired, or
    /// already theirs.
    pub async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool, StorageError> {
        let n = on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET
                     holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
                 WHERE leases.holder = excluded.holder OR leases.expires_at_ms < $4",
            )
            .bind(name)
            .bind(holder)
            .bind(now + ttl_ms)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Gives the lease up at once (a clean shutdown), if `holder` has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    pub async fn lease_holder(&self, name: &str) -> Result<Option<(String, i64)>, StorageError> {
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT holder, expires_at_ms FROM leases WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }
}

/// The head commit of a branch, as GitHub last said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BranchHead {
    pub project_id: i64,
    pub branch: String,
    pub sha: String,
    pub message: Option<String>,
    pub committed_at_ms: Option<i64>,
    pub synced_at_ms: i64,
}

impl Storage {
    /// Stores a branch head; true when it moved.
    pub async fn set_branch_head(&self, head: &BranchHead) -> Result<bool, StorageError> {
        let n = on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO branch_heads (project_id, branch, sha, message, committed_at_ms, synced_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (project_id, branch) DO UPDATE SET
                     sha = excluded.sha, message = excluded.message,
                     committed_at_ms = excluded.committed_at_ms, synced_at_ms = excluded.synced_at_ms
                 WHERE branch_heads.sha <> excluded.sha",
            )
            .bind(head.project_id)
            .bind(&head.branch)
            .bind(&head.sha)
            .bind(&head.message)
            .bind(head.committed_at_ms)
            .bind(head.synced_at_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    pub async fn branch_head(
        &self,
        project_id: i64,
        branch: &str,
    ) -> Result<Option<BranchHead>, StorageError> {
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, BranchHead>(
                "SELECT project_id, branch, sha, message, committed_at_ms, synced_at_ms
                 FROM branch_heads WHERE project_id = $1 AND branch = $2",
            )
            .bind(project_id)
            .bind(branch)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// When sync last found a deploy new or changed (Netlify's source), for
    /// any project: what the history figures depend on.
    pub async fn deploys_change_mark(&self) -> Result<i64, StorageError> {
        let mark = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COALESCE(MAX(changed_at_ms), 0) FROM sync_status WHERE source = 'netlify'",
            )
            .fetch_one(pool)
            .await
        })?;
        Ok(mark)
    }

    /// Every project's change mark (the newest change any sync or action
    /// recorded for it: a live view refreshes when it moves) and the time
    /// of its last sync attempt, in one query: what the overview
    /// read model compares to know which projects to read again.
    pub async fn change_marks(&self) -> Result<Vec<ChangeMark>, StorageError> {
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, MarkRow>(&format!("{MARKS} FROM projects p"))
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(ChangeMark::from).collect())
    }

    /// [`Storage::change_marks`] of one project (all zeros for an unknown id).
    pub async fn change_mark(&self, project_id: i64) -> Result<ChangeMark, StorageError> {
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, MarkRow>(&format!("{MARKS} FROM projects p WHERE p.id = $1"))
                .bind(project_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(ChangeMark::from).unwrap_or(ChangeMark {
            project_id,
            mark: 0,
            attempted_ms: 0,
            deploys_mark: 0,
            sums: (0, 0),
        }))
    }

    /// The newest change recorded for any project.
    pub async fn global_change_mark(&self) -> Result<i64, StorageError> {
        let mark = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COALESCE(MAX(t), 0) FROM (
                     SELECT MAX(changed_at_ms) AS t FROM sync_status
                     UNION ALL
                     SELECT MAX(updated_at_ms) AS t FROM actions
                 ) marks",
            )
            .fetch_one(pool)
            .await
        })?;
        Ok(mark)
    }
}
