//! The deploy cache: every Netlify deploy of every configured site, written by
//! sync and read by the pages, newest first with keyset pagination.

use super::{on_pool, Storage, StorageError};
use crate::domain::DeployState;
use serde::{Deserialize, Serialize};

/// Which of a project's two sites a deploy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteRole {
    Staging,
    Production,
}

impl SiteRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteRole::Staging => "staging",
            SiteRole::Production => "production",
        }
    }
}

impl TryFrom<String> for SiteRole {
    type Error = StorageError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "staging" => Ok(SiteRole::Staging),
            "production" => Ok(SiteRole::Production),
            other => Err(StorageError::Corrupt(format!(
                "unknown site role {other:?}"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DeployRecord {
    pub site_id: String,
    pub deploy_id: String,
    pub project_id: i64,
    #[sqlx(try_from = "String")]
    pub site_role: SiteRole,
    pub context: String,
    pub branch: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: DeployState,
    pub commit_sha: Option<String>,
    pub commit_message: Option<String>,
    pub commit_url: Option<String>,
    pub author: Option<String>,
    pub deploy_url: Option<String>,
    pub error_message: Option<String>,
    pub created_at_ms: i64,
    pub published_at_ms: Option<i64>,
    pub updated_at_ms: i64,
    pub build_seconds: Option<i64>,
    pub synced_at_ms: i64,
    /// The workflow run that produced it (same commit and branch), once linked.
    pub run_id: Option<i64>,
}

/// Which deploys a history query wants; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployFilter {
    pub project_id: Option<i64>,
    pub site_id: Option<String>,
    pub context: Option<String>,
    pub state: Option<String>,
    pub branch: Option<String>,
    pub author: Option<String>,
    /// Inclusive lower bound on `created_at_ms`.
    pub from_ms: Option<i64>,
    /// Exclusive upper bound on `created_at_ms`.
    pub until_ms: Option<i64>,
}

/// The position after the last row of a page: the next page starts strictly older.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployCursor {
    pub created_at_ms: i64,
    pub deploy_id: String,
}

const COLUMNS: &str =
    "site_id, deploy_id, project_id, site_role, context, branch, state, commit_sha, \
    commit_message, commit_url, author, deploy_url, error_message, created_at_ms, published_at_ms, \
    updated_at_ms, build_seconds, synced_at_ms, run_id";

impl Storage {
    /// Inserts new deploys and updates changed ones, in one transaction.
    pub async fn upsert_deploys(&self, deploys: &[DeployRecord]) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            let mut tx = pool.begin().await?;
            for d in deploys {
                sqlx::query(
                    "INSERT INTO deploys (site_id, deploy_id, project_id, site_role, context, branch, state,
                         commit_sha, commit_message, commit_url, author, deploy_url, error_message,
                         created_at_ms, published_at_ms, updated_at_ms, build_seconds, synced_at_ms, run_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
                     ON CONFLICT (site_id, deploy_id) DO UPDATE SET
                         state = excluded.state, branch = excluded.branch, context = excluded.context,
                         commit_sha = excluded.commit_sha, commit_message = excluded.commit_message,
                         commit_url = excluded.commit_url, author = excluded.author,
                         deploy_url = excluded.deploy_url, error_message = excluded.error_message,
                         published_at_ms = excluded.published_at_ms, updated_at_ms = excluded.updated_at_ms,
                         build_seconds = excluded.build_seconds, synced_at_ms = excluded.synced_at_ms,
                         run_id = COALESCE(excluded.run_id, deploys.run_id)",
                )
                .bind(&d.site_id)
                .bind(&d.deploy_id)
                .bind(d.project_id)
                .bind(d.site_role.as_str())
                .bind(&d.context)
                .bind(&d.branch)
                .bind(d.state.as_str())
                .bind(&d.commit_sha)
                .bind(&d.commit_message)
                .bind(&d.commit_url)
                .bind(&d.author)
                .bind(&d.deploy_url)
                .bind(&d.error_message)
                .bind(d.created_at_ms)
                .bind(d.published_at_ms)
                .bind(d.updated_at_ms)
                .bind(d.build_seconds)
                .bind(d.synced_at_ms)
                .bind(d.run_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn get_deploy(
        &self,
        site_id: &str,
        deploy_id: &str,
    ) -> Result<Option<DeployRecord>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM deploys WHERE site_id = $1 AND deploy_id = $2");
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, DeployRecord>(&sql)
                .bind(site_id)
                .bind(deploy_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }

    /// One page of deploys matching `filter`, newest first, strictly after `after`.
    pub async fn list_deploys(
        &self,
        filter: &DeployFilter,
        after: Option<&DeployCursor>,
        limit: u32,
    ) -> Result<Vec<DeployRecord>, StorageError> {
        let rows = on_pool!(self, |pool, Db| {
            let mut q =
                sqlx::QueryBuilder::<Db>::new(format!("SELECT {COLUMNS} FROM deploys WHERE 1 = 1"));
            push_filter(&mut q, filter);
            if let Some(c) = after {
                // Row-value comparison keeps the (time, id) index usable on both backends.
                q.push(" AND (created_at_ms, deploy_id) < (")
                    .push_bind(c.created_at_ms)
                    .push(", ")
                    .push_bind(c.deploy_id.clone())
                    .push(")");
            }
            q.push(" ORDER BY created_at_ms DESC, deploy_id DESC LIMIT ")
                .push_bind(i64::from(limit));
            q.build_query_as::<DeployRecord>().fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// The newest deploy of a site in the given state (e.g. the last `ready` one).
    pub async fn latest_deploy_in_state(
        &self,
        site_id: &str,
        state: &DeployState,
    ) -> Result<Option<DeployRecord>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM deploys WHERE site_id = $1 AND state = $2
             ORDER BY created_at_ms DESC, deploy_id DESC LIMIT 1"
        );
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, DeployRecord>(&sql)
                .bind(site_id)
                .bind(state.as_str())
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }

    pub async fn count_deploys(&self, project_id: i64) -> Result<i64, StorageError> {
        let n = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM deploys WHERE project_id = $1")
                .bind(project_id)
                .fetch_one(pool)
                .await
        })?;
        Ok(n)
    }
}

impl DeployRecord {
    /// The cursor that continues a listing after this row.
    pub fn cursor(&self) -> DeployCursor {
        DeployCursor {
            created_at_ms: self.created_at_ms,
            deploy_id: self.deploy_id.clone(),
        }
    }
}

impl Storage {
    /// The stored deploys of `site_id` among `ids` (sync compares them with
    /// what the vendor sent, to write only what changed).
    pub async fn deploys_by_ids(
        &self,
        site_id: &str,
        ids: &[String],
    ) -> Result<Vec<DeployRecord>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(ids.len());
        // Bounded IN lists: both backends cap bind parameters.
        for chunk in ids.chunks(500) {
            let rows = on_pool!(self, |pool, Db| {
                let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                    "SELECT {COLUMNS} FROM deploys WHERE site_id = "
                ));
                q.push_bind(site_id).push(" AND deploy_id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id.clone());
                }
                q.push(")");
                q.build_query_as::<DeployRecord>().fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Deploys of a project Netlify is working on now, oldest first.
    pub async fn unfinished_deploys(
        &self,
        project_id: i64,
    ) -> Result<Vec<DeployRecord>, StorageError> {
        let states = crate::domain::DeployState::IN_PROGRESS
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {COLUMNS} FROM deploys WHERE project_id = $1
               AND state IN ({states})
             ORDER BY created_at_ms, deploy_id"
        );
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, DeployRecord>(&sql)
                .bind(project_id)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// Records that Netlify no longer has a deploy (it answered 404 for it),
    /// so it is not watched any more.
    pub async fn mark_deploy_gone(&self, deploy_id: &str) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "UPDATE deploys SET state = 'deleted',
                     error_message = COALESCE(error_message, 'Netlify no longer has this deploy')
                 WHERE deploy_id = $1",
            )
            .bind(deploy_id)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Links a project's unlinked deploys to the newest run of the same
    /// commit and branch, and fills a missing author from that run's actor.
    pub async fn link_deploys_to_runs(&self, project_id: i64) -> Result<u64, StorageError> {
        let n = on_pool!(self, |pool, _Db| {
            sqlx::query(
                "UPDATE deploys SET
                     run_id = (SELECT r.run_id FROM workflow_runs r
                               WHERE r.project_id = deploys.project_id AND r.head_sha = deploys.commit_sha
                                 AND r.branch = deploys.branch
                               ORDER BY r.created_at_ms DESC, r.run_id DESC LIMIT 1),
                     author = COALESCE(author, (SELECT r.actor FROM workflow_runs r
                               WHERE r.project_id = deploys.project_id AND r.head_sha = deploys.commit_sha
                                 AND r.branch = deploys.branch
                               ORDER BY r.created_at_ms DESC, r.run_id DESC LIMIT 1))
                 WHERE project_id = $1 AND run_id IS NULL AND commit_sha IS NOT NULL
                   AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.project_id = deploys.project_id
                               AND r.head_sha = deploys.commit_sha AND r.branch = deploys.branch)",
            )
            .bind(project_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// The newest deploy of a site matching `branch` (any when `None`),
    /// optionally only in `state`, created strictly before `before_ms`.
    pub async fn latest_site_deploy(
        &self,
        site_id: &str,
        branch: Option<&str>,
        state: Option<&str>,
        before_ms: Option<i64>,
    ) -> Result<Option<DeployRecord>, StorageError> {
        let row = on_pool!(self, |pool, Db| {
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT {COLUMNS} FROM deploys WHERE site_id = "
            ));
            q.push_bind(site_id)
                .push(" AND context <> 'deploy-preview'");
            if let Some(b) = branch {
                q.push(" AND branch = ").push_bind(b);
            }
            if let Some(s) = state {
                q.push(" AND state = ").push_bind(s);
            }
            if let Some(t) = before_ms {
                q.push(" AND created_at_ms < ").push_bind(t);
            }
            q.push(" ORDER BY created_at_ms DESC, deploy_id DESC LIMIT 1");
            q.build_query_as::<DeployRecord>()
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }

    /// How many deploys match `filter` (the history page's total).
    pub async fn count_matching_deploys(&self, filter: &DeployFilter) -> Result<i64, StorageError> {
        let n = on_pool!(self, |pool, Db| {
            let mut q = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) FROM deploys WHERE 1 = 1");
            push_filter(&mut q, filter);
            q.build_query_scalar::<i64>().fetch_one(pool).await
        })?;
        Ok(n)
    }

    /// What the trend charts need of every deploy matching `filter`, oldest
    /// first: a narrow row, so a year of deploys is a few megabytes.
    pub async fn deploy_facts(
        &self,
        filter: &DeployFilter,
    ) -> Result<Vec<DeployFact>, StorageError> {
        let rows = on_pool!(self, |pool, Db| {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT site_role, context, state, created_at_ms, published_at_ms, updated_at_ms, build_seconds,
                     (SELECT r.created_at_ms FROM workflow_runs r WHERE r.run_id = deploys.run_id) AS run_created_at_ms
                 FROM deploys WHERE 1 = 1",
            );
            push_filter(&mut q, filter);
            q.push(" ORDER BY created_at_ms, deploy_id");
            q.build_query_as::<DeployFact>().fetch_all(pool).await
        })?;
        Ok(rows)
    }
}

/// One deploy as the trend charts see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeployFact {
    pub site_role: String,
    pub context: String,
    pub state: String,
    pub created_at_ms: i64,
    pub published_at_ms: Option<i64>,
    pub updated_at_ms: i64,
    pub build_seconds: Option<i64>,
    /// When the run that produced it started (the push), if linked.
    pub run_created_at_ms: Option<i64>,
}

/// Adds `filter`'s conditions to a query that already has a WHERE clause.
fn push_filter<'a, Db: sqlx::Database>(q: &mut sqlx::QueryBuilder<'a, Db>, filter: &'a DeployFilter)
where
    i64: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
    String: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
{
    if let Some(v) = filter.project_id {
        q.push(" AND project_id = ").push_bind(v);
    }
    for (column, value) in [
        ("site_id", &filter.site_id),
        ("context", &filter.context),
        ("state", &filter.state),
        ("branch", &filter.branch),
        ("author", &filter.author),
    ] {
        if let Some(v) = value {
            q.push(format!(" AND {column} = ")).push_bind(v.clone());
        }
    }
    if let Some(v) = filter.from_ms {
        q.push(" AND created_at_ms >= ").push_bind(v);
    }
    if let Some(v) = filter.until_ms {
        q.push(" AND created_at_ms < ").push_bind(v);
    }
}
