//! The deploy and run pages' data: one deploy with its run and the actions
//! that apply to it; one workflow run with its jobs and steps.

use crate::model::{ApiError, DeployDetail, RunView};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/deploy?site=SITE_ID&id=DEPLOY_ID`: one deploy with its run.
#[server(prefix = "/api", endpoint = "deploy", input = GetUrl)]
pub async fn get_deploy(site: String, id: String) -> Result<DeployDetail, ApiError> {
    super::with_status(
        async {
            let user = super::authorize("/api/deploy")?;
            detail(&user, &site, &id).await
        }
        .await,
    )
}

/// `GET /api/run?id=RUN_ID`: one workflow run with its jobs and steps.
#[server(prefix = "/api", endpoint = "run", input = GetUrl)]
pub async fn get_run(id: i64) -> Result<RunView, ApiError> {
    super::with_status(
        async {
            super::authorize("/api/run")?;
            run(id).await
        }
        .await,
    )
}

/// Deploy `id` of site `site`, as `user` may see it.
#[cfg(feature = "ssr")]
pub(super) async fn detail(
    user: &Option<greenroom::auth::SessionUser>,
    site: &str,
    id: &str,
) -> Result<DeployDetail, ApiError> {
    use super::convert::{action_kinds, deploy_row, run_view};
    let services = super::services()?;
    let d = services.storage.get_deploy(site, id).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "No deploy {id} of site {site} is known. It may be older than the first sync, or the link is wrong."
        ))
    })?;
    let t = services.ops.target_of(d.project_id).ok_or_else(|| {
        ApiError::NotFound("This deploy belongs to no configured project.".into())
    })?;
    let run = match d.run_id {
        Some(r) => {
            greenroom::runs::load(&services.storage, r, &t.project.github.deploy_job).await?
        }
        None => None,
    };
    let mut run = run.as_ref().map(run_view);
    if let Some(r) = run.as_mut().filter(|r| r.status == "completed") {
        let repo = greenroom::sync::repo_of(&t.project);
        let known = services.ops.secrets.known_values(t).await;
        let wait = std::time::Duration::from_secs(3);
        r.results = services
            .ops
            .artifacts
            .summary_within(&repo, (r.run_id as u64, r.run_attempt), known, wait)
            .await
            .map(|s| s.line());
    }
    let live = services
        .storage
        .site_live(site)
        .await?
        .and_then(|l| l.deploy_id)
        .is_some_and(|l| l == d.deploy_id);
    Ok(DeployDetail {
        project: t.project.name.to_string(),
        repo: t.project.github.repo.to_string(),
        deploy: deploy_row(&d),
        run,
        live,
        can_act: super::has_role(user, greenroom::domain::Role::Deployer),
        actions: action_kinds(&greenroom::actions::applicable_to(&d)),
    })
}

/// Run `id` with its jobs and steps.
#[cfg(feature = "ssr")]
pub(super) async fn run(id: i64) -> Result<RunView, ApiError> {
    Ok(run_and_target(id).await?.0)
}

/// Run `id` with its jobs and steps, and its configured project (none
/// when the project is no longer configured).
#[cfg(feature = "ssr")]
pub(super) async fn run_and_target(
    id: i64,
) -> Result<(RunView, Option<greenroom::sync::SyncTarget>), ApiError> {
    let services = super::services()?;
    let not_found = || {
        ApiError::NotFound(format!(
            "No workflow run {id} is known. It may be older than the first sync, or the link is wrong."
        ))
    };
    let stored = services.storage.get_run(id).await?.ok_or_else(not_found)?;
    let target = services.ops.target_of(stored.project_id).cloned();
    let deploy_job = target
        .as_ref()
        .map(|t| t.project.github.deploy_job.to_string())
        .unwrap_or_default();
    let jobs = services.storage.jobs_of_run(id).await?;
    let r = greenroom::runs::RunWithJobs::new(stored, jobs, &deploy_job);
    Ok((super::convert::run_view(&r), target))
}
