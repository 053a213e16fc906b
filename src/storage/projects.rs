//! Configured projects, mirrored into the database so that cached rows
//! (deploys, runs) can reference them and survive a rename in the config.

use super::{now_ms, on_pool, Storage, StorageError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ProjectRecord {
    pub id: i64,
    pub name: String,
    pub config_json: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Storage {
    /// Inserts the project or refreshes its stored configuration; returns the row.
    pub async fn upsert_project(
        &self,
        name: &str,
        config_json: &str,
    ) -> Result<ProjectRecord, StorageError> {
        let now = now_ms();
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, ProjectRecord>(
                "INSERT INTO projects (name, config_json, created_at_ms, updated_at_ms)
                 VALUES ($1, $2, $3, $3)
                 ON CONFLICT (name) DO UPDATE SET
                     config_json = excluded.config_json,
                     updated_at_ms = CASE WHEN projects.config_json = excluded.config_json
                                          THEN projects.updated_at_ms ELSE excluded.updated_at_ms END
                 RETURNING id, name, config_json, created_at_ms, updated_at_ms",
            )
            .bind(name)
            .bind(config_json)
            .bind(now)
            .fetch_one(pool)
            .await
        })?;
        Ok(row)
    }

    pub async fn list_projects(&self) -> Result<Vec<ProjectRecord>, StorageError> {
        let rows = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, ProjectRecord>(
                "SELECT id, name, config_json, created_at_ms, updated_at_ms FROM projects ORDER BY name",
            )
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    pub async fn project_by_name(&self, name: &str) -> Result<Option<ProjectRecord>, StorageError> {
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_as::<_, ProjectRecord>(
                "SELECT id, name, config_json, created_at_ms, updated_at_ms FROM projects WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }
}

impl Storage {
    /// Removes a project that is no longer configured, with its cached deploys
    /// and runs (the audit log keeps its rows: they name the project by text).
    pub async fn delete_project(&self, id: i64) -> Result<bool, StorageError> {
        let n = on_pool!(self, |pool, _Db| {
            sqlx::query("DELETE FROM projects WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
