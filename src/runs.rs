//! A workflow run put together with its jobs and the smoke result of its
//! deploy job: the one assembly that the overview, the run and deploy pages
//! and the action planner read.

use crate::steps::{smoke_of, StepResult};
use crate::storage::{Storage, StorageError, WorkflowJobRecord, WorkflowRunRecord};
use serde::Serialize;

/// A run with its jobs and the smoke result of the deploy job.
#[derive(Debug, Clone, Serialize)]
pub struct RunWithJobs {
    pub run: WorkflowRunRecord,
    pub jobs: Vec<WorkflowJobRecord>,
    /// `None` when the deploy job never reached its smoke step (or the run
    /// has no such job).
    pub smoke: Option<StepResult>,
}

impl RunWithJobs {
    pub fn new(run: WorkflowRunRecord, jobs: Vec<WorkflowJobRecord>, deploy_job: &str) -> Self {
        let smoke = deploy_job_smoke(&jobs, deploy_job);
        Self { run, jobs, smoke }
    }
}

/// How the smoke test of the job named `deploy_job` came out, if it ran.
pub fn deploy_job_smoke(jobs: &[WorkflowJobRecord], deploy_job: &str) -> Option<StepResult> {
    jobs.iter()
        .find(|j| j.name == deploy_job)
        .and_then(smoke_of)
}

/// Run `run_id` with its jobs, if it is stored.
pub async fn load(
    storage: &Storage,
    run_id: i64,
    deploy_job: &str,
) -> Result<Option<RunWithJobs>, StorageError> {
    let Some(run) = storage.get_run(run_id).await? else {
        return Ok(None);
    };
    let jobs = storage.jobs_of_run(run_id).await?;
    Ok(Some(RunWithJobs::new(run, jobs, deploy_job)))
}
