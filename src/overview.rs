//! What the overview page shows for a project, worked out from the database
//! alone: what each site serves, the latest run of the deploy job and its
//! smoke test, how fresh the data is, and what needs attention with the
//! action that fixes it.

use crate::actions::ActionKind;
use crate::config::Project;
use crate::domain::DeployState;
use crate::runs::RunWithJobs;
use crate::steps::StepResult;
use crate::storage::{
    ActionRecord, BranchHead, DeployRecord, SiteRole, Storage, StorageError, SyncStatus,
    WorkflowRunRecord,
};
use crate::text;
use serde::Serialize;

/// A deploy with the run that produced it, if linked.
#[derive(Debug, Clone, Serialize)]
pub struct DeployWithRun {
    pub deploy: DeployRecord,
    pub run: Option<WorkflowRunRecord>,
}

/// Something on-call should look at, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attention {
    pub kind: AttentionKind,
    pub message: String,
    /// The on-call action that fixes it, if one does.
    pub fix: Option<ActionKind>,
    /// The workflow run it is about, whose page says why (its jobs, logs
    /// and smoke artifacts).
    pub run_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    FailedStagingDeploy,
    FailedSmoke,
    FailedDeployJob,
    StagingBehind,
    SyncError,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectOverview {
    pub project_id: i64,
    pub staging_live: Option<DeployWithRun>,
    pub production_live: Option<DeployWithRun>,
    /// The newest deploy of the staging branch on the staging site, in any state.
    pub latest_staging: Option<DeployRecord>,
    pub deploy_job: Option<RunWithJobs>,
    pub staging_head: Option<BranchHead>,
    pub sync: Vec<SyncStatus>,
    pub attention: Vec<Attention>,
    pub recent_actions: Vec<ActionRecord>,
}

/// Builds the overview of `project` (stored as `project_id`).
pub async fn project_overview(
    storage: &Storage,
    project_id: i64,
    project: &Project,
) -> Result<ProjectOverview, StorageError> {
    let staging_site = project.netlify.staging_site_id.as_str();
    let production_site = project.netlify.production_site_id.as_str();
    let branch = project.github.staging_branch.as_str();
    let staging_live = live_of(storage, staging_site).await?;
    let production_live = live_of(storage, production_site).await?;
    let latest_staging = storage
        .latest_site_deploy(staging_site, Some(branch), None, None)
        .await?;
    let deploy_job = match storage
        .latest_run_with_job(project_id, &project.github.deploy_job, Some(branch))
        .await?
    {
        Some(run) => {
            let jobs = storage.jobs_of_run(run.run_id).await?;
            Some(RunWithJobs::new(run, jobs, &project.github.deploy_job))
        }
        None => None,
    };
    let staging_head = storage.branch_head(project_id, branch).await?;
    let sync_status = storage.sync_statuses(project_id).await?;
    let recent_actions = storage.recent_actions(project_id, "", 5).await?;
    let attention = attention_of(
        project,
        staging_live.as_ref().map(|l| &l.deploy),
        latest_staging.as_ref(),
        deploy_job.as_ref(),
        staging_head.as_ref(),
        &sync_status,
    );
    Ok(ProjectOverview {
        project_id,
        staging_live,
        production_live,
        latest_staging,
        deploy_job,
        staging_head,
        sync: sync_status,
        attention,
        recent_actions,
    })
}

/// What a site serves now: the published deploy Netlify named, else the
/// newest ready non-preview deploy.
async fn live_of(storage: &Storage, site_id: &str) -> Result<Option<DeployWithRun>, StorageError> {
    let deploy = match storage.serving_deploy(site_id).await? {
        Some(d) => Some(d),
        None => {
            storage
                .latest_site_deploy(site_id, None, Some("ready"), None)
                .await?
        }
    };
    let Some(deploy) = deploy else {
        return Ok(None);
    };
    let run = match deploy.run_id {
        Some(id) => storage.get_run(id).await?,
        None => None,
    };
    Ok(Some(DeployWithRun { deploy, run }))
}

/// The rules for "needs attention", one per item, in the order on-call
/// should read them.
pub fn attention_of(
    project: &Project,
    staging_live: Option<&DeployRecord>,
    latest_staging: Option<&DeployRecord>,
    deploy_job: Option<&RunWithJobs>,
    head: Option<&BranchHead>,
    sync_status: &[SyncStatus],
) -> Vec<Attention> {
    let mut out = Vec::new();
    if let Some(d) = latest_staging.filter(|d| d.state == DeployState::Error) {
        out.push(Attention {
            kind: AttentionKind::FailedStagingDeploy,
            message: format!(
                "The latest staging deploy ({} {}) failed{}.",
                text::short_sha(d.commit_sha.as_deref()),
                d.commit_message
                    .as_deref()
                    .map(|m| format!("\"{}\"", text::first_line(m)))
                    .unwrap_or_default(),
                d.error_message
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            fix: Some(ActionKind::RedeployLastGood),
            run_id: None,
        });
    }
    if let Some(j) = deploy_job {
        let finished_failed = j.run.status == "completed"
            && matches!(j.run.conclusion.as_deref(), Some("failure" | "timed_out"));
        if j.smoke == Some(StepResult::Failed) {
            out.push(Attention {
                kind: AttentionKind::FailedSmoke,
                message: format!(
                    "The smoke test of run #{} ({}) failed on staging.",
                    j.run.run_number,
                    text::short_sha(Some(&j.run.head_sha))
                ),
                fix: Some(ActionKind::RerunDeployJob),
                run_id: Some(j.run.run_id),
            });
        } else if finished_failed
            && !out
                .iter()
                .any(|a| a.kind == AttentionKind::FailedStagingDeploy)
        {
            out.push(Attention {
                kind: AttentionKind::FailedDeployJob,
                message: format!(
                    "Run #{} of {} ({}) failed before staging was updated.",
                    j.run.run_number,
                    project.github.workflow,
                    text::short_sha(Some(&j.run.head_sha))
                ),
                fix: Some(ActionKind::RerunDeployJob),
                run_id: Some(j.run.run_id),
            });
        }
    }
    if let (Some(head), Some(live)) = (head, staging_live) {
        let building_head = latest_staging.is_some_and(|d| {
            d.commit_sha.as_deref() == Some(head.sha.as_str()) && d.state.is_in_progress()
        });
        if live.commit_sha.as_deref() != Some(head.sha.as_str()) && !building_head {
            out.push(Attention {
                kind: AttentionKind::StagingBehind,
                message: format!(
                    "Staging serves {} but {} is at {}{}.",
                    text::short_sha(live.commit_sha.as_deref()),
                    head.branch,
                    text::short_sha(Some(&head.sha)),
                    head.message
                        .as_deref()
                        .map(|m| format!(" \"{m}\""))
                        .unwrap_or_default()
                ),
                fix: Some(ActionKind::DeployStaging),
                run_id: None,
            });
        }
    }
    for s in sync_status {
        if let Some(e) = &s.error {
            out.push(Attention {
                kind: AttentionKind::SyncError,
                message: format!(
                    "{} data is stale: sync has failed since {}: {e}",
                    source_label(&s.source),
                    s.error_since_ms
                        .map(text::utc_label)
                        .unwrap_or_else(|| "the last attempt".into())
                ),
                fix: None,
                run_id: None,
            });
        }
    }
    out
}

impl AttentionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttentionKind::FailedStagingDeploy => "failed_staging_deploy",
            AttentionKind::FailedSmoke => "failed_smoke",
            AttentionKind::FailedDeployJob => "failed_deploy_job",
            AttentionKind::StagingBehind => "staging_behind",
            AttentionKind::SyncError => "sync_error",
        }
    }
}

pub fn source_label(source: &str) -> &str {
    match source {
        "netlify" => "Netlify",
        "github" => "GitHub",
        "supabase" => "Supabase",
        other => other,
    }
}

/// Which of a project's sites `site_id` is, if either.
pub fn role_of(project: &Project, site_id: &str) -> Option<SiteRole> {
    if project.netlify.staging_site_id.as_str() == site_id {
        Some(SiteRole::Staging)
    } else if project.netlify.production_site_id.as_str() == site_id {
        Some(SiteRole::Production)
    } else {
        None
    }
}
