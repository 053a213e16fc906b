//! Each project's Supabase branches as sync last read them (see
//! `crate::branches::snapshot`): one value-free JSON document per project.

use super::{on_pool, Storage, StorageError};

impl Storage {
    /// Replaces the project's stored branch snapshot.
    pub async fn store_branch_snapshot(
        &self,
        project_id: i64,
        read_at_ms: i64,
        snapshot_json: &str,
    ) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO branch_snapshots (project_id, read_at_ms, snapshot_json)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (project_id) DO UPDATE
                 SET read_at_ms = excluded.read_at_ms, snapshot_json = excluded.snapshot_json",
            )
            .bind(project_id)
            .bind(read_at_ms)
            .bind(snapshot_json)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The project's stored branch snapshot as JSON, if sync has read one.
    pub async fn branch_snapshot(&self, project_id: i64) -> Result<Option<String>, StorageError> {
        let row = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar::<_, String>(
                "SELECT snapshot_json FROM branch_snapshots WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }
}
