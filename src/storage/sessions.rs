//! Sign-in sessions kept in Greenroom's own database (SQLite or PostgreSQL),
//! so several instances on one PostgreSQL share them. A tower-sessions
//! store: records are JSON; expired ones are never loaded and are swept.
//!
//! Every signed-in request loads its session. Under load one person's
//! browser or script asks many times a second, so a record this instance
//! loaded or wrote is served from memory for [`RECENT_FOR`]: one query per
//! session per second instead of one per request. A sign-out, an admin's
//! "end all sessions" or a revoked membership on this instance takes effect
//! at once; on another instance sharing the PostgreSQL database, within
//! that second.

use super::{now_ms, on_pool, Storage};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};

/// How long a loaded session is served from memory.
pub const RECENT_FOR: Duration = Duration::from_secs(1);
/// Bounded, so a flood of sign-ins cannot grow memory without limit.
const RECENT_MAX: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct RecentSessions {
    records: Mutex<HashMap<Id, (Instant, Record)>>,
}

impl RecentSessions {
    fn get(&self, id: &Id) -> Option<Record> {
        let map = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let (at, record) = map.get(id)?;
        let alive = record.expiry_date > time::OffsetDateTime::now_utc();
        (at.elapsed() < RECENT_FOR && alive).then(|| record.clone())
    }

    fn put(&self, record: &Record) {
        let mut map = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= RECENT_MAX {
            map.retain(|_, (at, _)| at.elapsed() < RECENT_FOR);
            if map.len() >= RECENT_MAX {
                map.clear();
            }
        }
        map.insert(record.id, (Instant::now(), record.clone()));
    }

    fn forget(&self, id: &Id) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    fn forget_all_but(&self, keep: Option<&str>) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, _| Some(id.to_string().as_str()) == keep);
    }
}

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
        self.recent_sessions.forget_all_but(keep);
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
                self.recent_sessions.put(record);
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
        // Forgotten first: if the write fails, the next load reads the database.
        self.recent_sessions.forget(&record.id);
        // An update, never an insert: a request still in flight when its
        // session was ended (sign-out, end-all, revocation) must not bring
        // the session back. Sessions are only ever made by `create`.
        let updated = on_pool!(self, |pool, _Db| {
            sqlx::query("UPDATE sessions SET data_json = $1, expires_at_ms = $2 WHERE id = $3")
                .bind(&data)
                .bind(expires)
                .bind(&id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(backend)
        })?;
        if updated == 1 {
            self.recent_sessions.put(record);
        }
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.recent_sessions.get(session_id) {
            return Ok(Some(record));
        }
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
        let record = Record {
            id: *session_id,
            data,
            expiry_date,
        };
        self.recent_sessions.put(&record);
        Ok(Some(record))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.recent_sessions.forget(session_id);
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

impl Storage {
    /// Counts one sign-in attempt from `client` in the minute `minute` (since
    /// the epoch) and answers how many that minute holds, this one included.
    /// The first attempt of a minute forgets the minutes before the last.
    pub async fn count_sign_in_attempt(
        &self,
        client: &str,
        minute: i64,
    ) -> Result<i64, super::StorageError> {
        let attempts = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO sign_in_attempts (client, minute, attempts) VALUES ($1, $2, 1)
                 ON CONFLICT (client, minute)
                 DO UPDATE SET attempts = sign_in_attempts.attempts + 1
                 RETURNING attempts",
            )
            .bind(client)
            .bind(minute)
            .fetch_one(pool)
            .await
        })?;
        Ok(attempts)
    }

    /// Drops the sign-in counts of minutes before `minute`.
    pub async fn forget_sign_in_attempts_before(
        &self,
        minute: i64,
    ) -> Result<(), super::StorageError> {
        on_pool!(self, |pool, _Db| {
            sqlx::query("DELETE FROM sign_in_attempts WHERE minute < $1")
                .bind(minute)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}
