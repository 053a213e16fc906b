//! Test results of finished runs, as sync read them from their artifacts:
//! one row per test and run attempt, for each test's recent results and
//! whether it is flaky.

use super::runs::WorkflowRunRecord;
use super::{on_pool, Storage, StorageError};
use std::collections::HashMap;

/// One test's result in one run attempt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TestResultRecord {
    pub test_key: String,
    pub run_id: i64,
    pub run_attempt: i64,
    pub run_number: i64,
    pub head_sha: String,
    pub run_at_ms: i64,
    /// `passed`, `failed`, `error`, `skipped`, or `flaky` (failed and
    /// passed within the attempt: a retry).
    pub outcome: String,
}

impl Storage {
    /// Which of `runs` (at their current attempt) have had their results
    /// read already.
    pub async fn results_read(
        &self,
        runs: &[WorkflowRunRecord],
    ) -> Result<Vec<(i64, i64)>, StorageError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let rows = on_pool!(self, |pool, Db| {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT run_id, run_attempt FROM test_result_reads WHERE run_id IN (",
            );
            let mut list = q.separated(", ");
            for r in runs {
                list.push_bind(r.run_id);
            }
            q.push(")");
            q.build_query_as::<(i64, i64)>().fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Stores a run attempt's results (`(test_key, outcome)`) and marks it
    /// read, in one transaction; an attempt read before is left as it was.
    pub async fn store_test_results(
        &self,
        run: &WorkflowRunRecord,
        results: &[(String, String)],
        read_at_ms: i64,
    ) -> Result<(), StorageError> {
        on_pool!(self, |pool, Db| {
            let mut tx = pool.begin().await?;
            let marked = sqlx::query(
                "INSERT INTO test_result_reads (project_id, run_id, run_attempt, read_at_ms)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (run_id, run_attempt) DO NOTHING",
            )
            .bind(run.project_id)
            .bind(run.run_id)
            .bind(run.run_attempt)
            .bind(read_at_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 1 {
                for chunk in results.chunks(500) {
                    let mut q = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO test_results (project_id, run_id, run_attempt, run_number, \
                         head_sha, run_at_ms, test_key, outcome) ",
                    );
                    q.push_values(chunk, |mut b, (key, outcome)| {
                        b.push_bind(run.project_id)
                            .push_bind(run.run_id)
                            .push_bind(run.run_attempt)
                            .push_bind(run.run_number)
                            .push_bind(&run.head_sha)
                            .push_bind(run.created_at_ms)
                            .push_bind(key)
                            .push_bind(outcome);
                    });
                    q.push(" ON CONFLICT (project_id, run_id, run_attempt, test_key) DO NOTHING");
                    q.build().execute(&mut *tx).await?;
                }
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// The latest `per_test` results of each of `keys` in the project,
    /// newest first.
    pub async fn test_histories(
        &self,
        project_id: i64,
        keys: &[String],
        per_test: usize,
    ) -> Result<HashMap<String, Vec<TestResultRecord>>, StorageError> {
        let mut out: HashMap<String, Vec<TestResultRecord>> = HashMap::new();
        for chunk in keys.chunks(200) {
            let rows = on_pool!(self, |pool, Db| {
                let mut q = sqlx::QueryBuilder::<Db>::new(
                    "SELECT test_key, run_id, run_attempt, run_number, head_sha, run_at_ms, outcome \
                     FROM test_results WHERE project_id = ",
                );
                q.push_bind(project_id).push(" AND test_key IN (");
                let mut list = q.separated(", ");
                for k in chunk {
                    list.push_bind(k);
                }
                q.push(") ORDER BY run_at_ms DESC, run_id DESC, run_attempt DESC");
                q.build_query_as::<TestResultRecord>().fetch_all(pool).await
            })?;
            for r in rows {
                let list = out.entry(r.test_key.clone()).or_default();
                if list.len() < per_test {
                    list.push(r);
                }
            }
        }
        Ok(out)
    }
}
