//! Greenroom's database: SQLite (a file, WAL) by default, PostgreSQL when the
//! URL says `postgres://`. One set of queries serves both; each backend has its
//! own embedded migrations because their DDL differs slightly.

mod actions;
mod audit;
mod branches;
mod deploys;
mod projects;
mod runs;
mod secrets;
mod sessions;
mod sync_state;
mod test_results;

pub use actions::{ActionRecord, ActionState, Claim, NewAction};
pub use audit::{AuditCursor, AuditEvent, AuditFilter, AuditOutcome, NewAuditEvent};
pub use deploys::{DeployCursor, DeployFact, DeployFilter, DeployRecord, SiteRole};
pub use projects::ProjectRecord;
pub use runs::{WorkflowJobRecord, WorkflowRunRecord};
pub use secrets::{DismissalRecord, SecretReportRecord};
pub use sessions::RECENT_FOR;
pub use sync_state::{BranchHead, ChangeMark, SiteLive, SyncStatus};
pub use test_results::TestResultRecord;

use serde::Serialize;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a query waits for a locked SQLite database or a pooled connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the {backend} database at {location}: {reason}")]
    Connect {
        backend: Backend,
        location: String,
        reason: String,
    },
    #[error(
        "database migrations failed: {0}; the database was left as it was before the failed step"
    )]
    Migrate(String),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// Work on stored data stopped before it finished (a panic or shutdown).
    #[error("{0}; try again")]
    Interrupted(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database; cheap to clone (it is a pool).
#[derive(Clone, Debug)]
pub struct Storage {
    pool: Pool,
    location: String,
    /// Sessions this instance read or wrote lately (see `sessions.rs`).
    recent_sessions: std::sync::Arc<sessions::RecentSessions>,
    /// Database calls made through this handle and its clones: tests hold
    /// each page to its count, and the benchmark reports it.
    calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// What `/readyz` reports about the database.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Readiness {
    pub backend: Backend,
    pub location: String,
    pub migrations_applied: usize,
    pub migrations_expected: usize,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.migrations_applied == self.migrations_expected
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool and `$db` naming its
/// sqlx database type, so one query text and one row type serve both backends.
macro_rules! on_pool {
    ($storage:expr, |$pool:ident, $db:ident| $body:expr) => {{
        $storage
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match &$storage.pool {
            $crate::storage::Pool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::storage::Pool::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    }};
}
pub(crate) use on_pool;

impl Storage {
    /// How many database calls this handle (and its clones) has made.
    pub fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A handle on the same pool whose calls are counted apart: for
    /// background work, so that the count of the pages' handle is what
    /// serving pages costs.
    pub fn counted_apart(&self) -> Self {
        Self {
            calls: Default::default(),
            ..self.clone()
        }
    }

    /// Opens (creating if needed) the database named by `url`. Migrations are
    /// not run here: call [`Storage::migrate`].
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let location = redact_url(url);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(BUSY_TIMEOUT)
                .connect(url)
                .await
                .map_err(|e| StorageError::Connect {
                    backend: Backend::Postgres,
                    location: location.clone(),
                    reason: connect_reason(&e),
                })?;
            return Ok(Self {
                pool: Pool::Postgres(pool),
                location,
                recent_sessions: Default::default(),
                calls: Default::default(),
            });
        }
        let connect_err = |reason: String| StorageError::Connect {
            backend: Backend::Sqlite,
            location: location.clone(),
            reason,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| connect_err(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let file = options.get_filename();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| connect_err(format!("cannot create {}: {e}", dir.display())))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| connect_err(connect_reason(&e)))?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            location,
            recent_sessions: Default::default(),
            calls: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every embedded migration not yet applied; returns how many ran.
    pub async fn migrate(&self) -> Result<usize, StorageError> {
        let before = self.applied_migrations().await.unwrap_or(0);
        let result = on_pool!(self, |pool, _Db| self.migrator().run(pool).await);
        result.map_err(|e| StorageError::Migrate(e.to_string()))?;
        let after = self.applied_migrations().await?;
        Ok(after.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize, StorageError> {
        let versions: Vec<i64> = on_pool!(self, |pool, _Db| {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = true")
                .fetch_all(pool)
                .await
        })?;
        let expected: Vec<i64> = self.migrator().iter().map(|m| m.version).collect();
        Ok(expected.iter().filter(|v| versions.contains(v)).count())
    }

    /// Checks that the database answers and that every migration is applied.
    pub async fn readiness(&self) -> Result<Readiness, StorageError> {
        // One query: reading the migrations table proves the database answers
        // (its absence is an answer too).
        let applied = match self.applied_migrations().await {
            Ok(n) => n,
            // No migrations table yet: reachable, but nothing applied.
            Err(StorageError::Query(sqlx::Error::Database(_))) => 0,
            Err(e) => return Err(e),
        };
        Ok(Readiness {
            backend: self.backend(),
            location: self.location.clone(),
            migrations_applied: applied,
            migrations_expected: self.migrator().iter().count(),
        })
    }

    /// Refreshes the query planner's statistics (after a bulk load).
    pub async fn analyze(&self) -> Result<(), StorageError> {
        on_pool!(self, |pool, _Db| sqlx::query("ANALYZE")
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Closes every pooled connection (tests drop their database after this).
    pub async fn close(&self) {
        on_pool!(self, |pool, _Db| pool.close().await)
    }
}

/// A URL fit for logs and errors: no password, no query string.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.scheme().starts_with("postgres") => {
            if u.password().is_some() {
                let _ = u.set_password(Some("****"));
            }
            u.set_query(None);
            u.to_string()
        }
        _ => url.split('?').next().unwrap_or_default().to_string(),
    }
}

fn connect_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => format!("{io} (is the server running and reachable?)"),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".into(),
        other => other.to_string(),
    }
}

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_urls_are_redacted_for_logs() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db.example.com:5432/greenroom?sslmode=require"),
            "postgres://app:****@db.example.com:5432/greenroom"
        );
        assert_eq!(
            redact_url("sqlite://data/greenroom.db?mode=rwc"),
            "sqlite://data/greenroom.db"
        );
    }
}
