//! The overview page's data: what is live, the deploy job, what needs
//! attention, recent actions.

use crate::model::{ApiError, OverviewView};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/overview?project=NAME`: what is live, the deploy job, what needs attention.
#[server(prefix = "/api", endpoint = "overview", input = GetUrl)]
pub async fn get_overview(project: String) -> Result<OverviewView, ApiError> {
    super::with_status(
        async {
            let user = super::authorize("/api/overview")?;
            let services = super::services()?;
            let t = super::target(&services.ops, &project)?;
            view(&user, &services, t).await
        }
        .await,
    )
}

/// The overview of project `t`, for `user`.
#[cfg(feature = "ssr")]
pub(super) async fn view(
    user: &Option<greenroom::auth::SessionUser>,
    services: &greenroom::Services,
    t: &greenroom::sync::SyncTarget,
) -> Result<OverviewView, ApiError> {
    use super::convert::{action_view, attention_view, deploy_row, live_view, run_view, sync_view};
    use greenroom::domain::Role;
    let (mark, o) = services.ops.overviews.get(&services.storage, t).await?;
    let slack_failures = if super::has_role(user, Role::Admin) {
        services
            .storage
            .failed_notifications(5)
            .await?
            .into_iter()
            .map(|(key, at, err)| format!("{} ({}): {err}", key, greenroom::text::utc_label(at)))
            .collect()
    } else {
        Vec::new()
    };
    // Test results come from the run's artifacts, which sync reads after
    // each full pass: the overview reads them from memory only.
    let mut deploy_job = o.deploy_job.as_ref().map(run_view);
    if let Some(r) = deploy_job.as_mut().filter(|r| r.status == "completed") {
        let repo = greenroom::sync::repo_of(&t.project);
        r.results = services
            .ops
            .artifacts
            .summary_held(&repo, r.run_id as u64, r.run_attempt)
            .map(|s| s.line());
    }
    Ok(OverviewView {
        project: t.project.name.to_string(),
        repo: t.project.github.repo.to_string(),
        staging_url: t.project.staging_url.as_ref().map(ToString::to_string),
        production_url: t.project.production_url.as_ref().map(ToString::to_string),
        staging: o.staging_live.as_ref().map(live_view),
        production: o.production_live.as_ref().map(live_view),
        latest_staging: o.latest_staging.as_ref().map(deploy_row),
        deploy_job,
        staging_branch: t.project.github.staging_branch.to_string(),
        staging_head: o.staging_head.as_ref().map(|h| h.sha.clone()),
        sync: o.sync.iter().map(sync_view).collect(),
        attention: o.attention.iter().map(attention_view).collect(),
        actions: o.recent_actions.iter().map(action_view).collect(),
        can_act: super::has_role(user, Role::Deployer),
        slack_failures,
        mark,
        secret_findings: services.ops.secrets.open_count(t.project_id).await?,
    })
}
