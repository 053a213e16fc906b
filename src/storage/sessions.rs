//! Sign-in sessions kept in Greenroom's own database (SQLite or PostgreSQL),
//! so several instances on one PostgreSQL share them. A tower-sessions
//! store: records are JSON; expired ones are never loaded and are swept.

use super::{now_ms, on_pool, Storage};
use async_trait::async_trait;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

impl Storage {
    /// Inserts unless the id exists; false when it does.
    async fn insert_session(&self, record: &Record) -> session_store::Result<bool> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        let id = record.id.to_string();
        let expires = expiry_ms(record);
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO sessions (id, data_json, expires_at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(&data)
            .bind(expires)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(backend)
        })
    }

    /// Ends every session but `keep` (an admin's own); returns how many.
    pub async fn delete_sessions_except(
        &self,
        keep: Option<&str>,
    ) -> Result<u64, super::StorageError> {
        let keep = keep.unwrap_or("").to_string();
        on_pool!(self, |pool, _Db| {
            Ok(sqlx::query("DELETE FROM sessions WHERE id <> $1")
                .bind(&keep)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }

    /// How many sessions are stored (expired ones included until swept).
    pub async fn session_count(&self) -> Result<i64, super::StorageError> {
        on_pool!(self, |pool, _Db| {
            Ok(
                sqlx::query_scalar::<_, i64>("SELECT CAST(COUNT(*) AS BIGINT) FROM sessions")
                    .fetch_one(pool)
                    .await?,
            )
        })
    }
}

#[async_trait]
impl SessionStore for Storage {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id practically never collides; if it does, draw again.
        for _ in 0..8 {
            if self.insert_session(record).await? {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(backend("could not find a free session id"))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        let id = record.id.to_string();
        let expires = expiry_ms(record);
        on_pool!(self, |pool, _Db| {
            sqlx::query(
                "INSERT INTO sessions (id, data_json, expires_at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET data_json = excluded.data_json, expires_at_ms = excluded.expires_at_ms",
            )
            .bind(&id)
            .bind(&data)
            .bind(expires)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend)
        })
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let id = session_id.to_string();
        let row: Option<(String, i64)> = on_pool!(self, |pool, _Db| {
            sqlx::query_as(
                "SELECT data_json, expires_at_ms FROM sessions WHERE id = $1 AND expires_at_ms > $2",
            )
            .bind(&id)
            .bind(now_ms())
            .fetch_optional(pool)
            .await
            .map_err(backend)
        })?;
        let Some((data, expires)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(backend)?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires) * 1_000_000)
                .map_err(backend)?;
        Ok(Some(Record {
            id: *session_id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let id = session_id.to_string();
        on_pool!(self, |pool, _Db| {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(&id)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(backend)
        })
    }
}

#[async_trait]
impl ExpiredDeletion for Storage {
    async fn delete_expired(&self) -> session_store::Result<()> {
        on_pool!(self, |pool, _Db| {
            sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= $1")
                .bind(now_ms())
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(backend)
        })
    }
}
