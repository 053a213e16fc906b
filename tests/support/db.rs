//! The two databases every storage-touching test runs on: a real SQLite
//! file in a temporary folder, and a throwaway database on the machine's
//! PostgreSQL (created for the test, dropped after it, even on panic).

#![allow(dead_code)]

use futures::FutureExt;
use greenroom::storage::Backend;
use greenroom::Storage;
use std::future::Future;
use std::panic::AssertUnwindSafe;

/// PostgreSQL for the suite; override with GREENROOM_TEST_POSTGRES_URL (a server URL, no database).
pub fn postgres_server() -> String {
    std::env::var("GREENROOM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Storage) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/greenroom.db").display()
    );
    let storage = Storage::connect(&url).await.expect("open SQLite file");
    assert_eq!(storage.backend(), Backend::Sqlite);
    storage.migrate().await.expect("migrate SQLite");
    test(storage.clone()).await;
    storage.close().await;
}

pub async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(Storage) -> Fut,
    Fut: Future<Output = ()>,
{
    use sqlx::Connection;
    let server = postgres_server();
    let name = format!(
        "greenroom_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {server} is required for the storage suite: {e}")
        });
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let storage = Storage::connect(&format!("{server}/{name}"))
        .await
        .expect("open PostgreSQL");
    assert_eq!(storage.backend(), Backend::Postgres);
    let outcome = AssertUnwindSafe(async {
        storage.migrate().await.expect("migrate PostgreSQL");
        test(storage.clone()).await;
    })
    .catch_unwind()
    .await;
    storage.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
