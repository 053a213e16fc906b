//! The read-only parts of pages as HTML rendered on the server (`views`):
//! each fragment checks its own role, reads through the same plain functions
//! as the page's JSON endpoint, and renders.

use crate::model::{ActivityQuery, ApiError, DeployHtml, HistoryQuery, OverviewHtml, PlanHtml};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/fragments/activity?query[...]&ended=N`: the activity page as
/// HTML (filters, a page of the log, the export links and, for admins, the
/// end-sessions form); `ended` is what that form's redirect reports.
#[server(prefix = "/api", endpoint = "fragments/activity", input = GetUrl)]
pub async fn activity_fragment(
    #[server(default)] query: ActivityQuery,
    #[server(default)] ended: Option<String>,
) -> Result<String, ApiError> {
    let user = super::with_status(super::authorize("/api/fragments/activity"))?;
    let ended = ended.and_then(|n| n.parse::<u64>().ok());
    match super::activity::page(&user, &query).await {
        Ok(page) => Ok(crate::views::activity::html(&query, &page, ended)),
        // A bad filter keeps the form, with what was typed and what is wrong.
        Err(ApiError::BadRequest(problem)) => Ok(crate::views::activity::invalid(&query, &problem)),
        Err(e) => super::with_status(Err(e)),
    }
}

/// `GET /api/fragments/overview?project=NAME`: for the overview page. The
/// project is picked as the page's switcher picks it: the one named (in
/// any case), else the first configured.
#[server(prefix = "/api", endpoint = "fragments/overview", input = GetUrl)]
pub async fn overview_fragment(
    #[server(default)] project: String,
) -> Result<OverviewHtml, ApiError> {
    let user = super::with_status(super::authorize("/api/fragments/overview"))?;
    let (o, setup) = super::with_status(
        async {
            let services = super::services()?;
            let t = services.ops.select(&project).ok_or_else(|| {
                ApiError::NotFound(
                    "No project is configured; add a [[projects]] block to greenroom.toml.".into(),
                )
            })?;
            let setup =
                crate::views::shell::setup_html(&super::convert::project_summary(&t.project));
            Ok((super::overview::view(&user, &services, t).await?, setup))
        }
        .await,
    )?;
    Ok(OverviewHtml {
        html: crate::views::overview::html(&o),
        setup,
        project: o.project.clone(),
        mark: o.mark,
        can_act: o.can_act,
        fixes: o.attention.iter().filter_map(|a| a.fix.clone()).collect(),
    })
}

/// `GET /api/fragments/history?query[...]`: the history page's trends and
/// table, as HTML.
#[server(prefix = "/api", endpoint = "fragments/history", input = GetUrl)]
pub async fn history_fragment(#[server(default)] query: HistoryQuery) -> Result<String, ApiError> {
    use super::history::{filter, page, trends};
    super::with_status(super::authorize("/api/fragments/history"))?;
    let projects: Vec<String> = super::services()?
        .ops
        .targets
        .iter()
        .map(|t| t.project.name.to_string())
        .collect();
    // A bad filter keeps the form, with what was typed and what is wrong.
    let (filter, after) = match filter(&query) {
        Ok(f) => f,
        Err(ApiError::BadRequest(problem)) => {
            return Ok(crate::views::history::invalid(&query, projects, &problem))
        }
        Err(e) => return super::with_status(Err(e)),
    };
    super::with_status(
        async {
            let page = page(&filter, after.as_ref()).await?;
            // The figures cover the whole filtered set, whatever page is shown.
            let trends = trends(&filter).await?;
            let older = page
                .next
                .as_ref()
                .map(|n| format!("/history?{}&after={n}", query.filters_qs()));
            Ok(crate::views::history::html(
                &query, projects, &page, &trends, older,
            ))
        }
        .await,
    )
}

/// `GET /api/fragments/deploy?site=SITE_ID&id=DEPLOY_ID`: for a deploy's page.
#[server(prefix = "/api", endpoint = "fragments/deploy", input = GetUrl)]
pub async fn deploy_fragment(site: String, id: String) -> Result<DeployHtml, ApiError> {
    let user = super::with_status(super::authorize("/api/fragments/deploy"))?;
    let d = super::with_status(super::deploy::detail(&user, &site, &id).await)?;
    let artifacts = match &d.run {
        Some(r) => {
            let services = super::with_status(super::services())?;
            let target = services.ops.target(&d.project);
            Some(super::artifacts::of_run(&services, target, r.run_id).await)
        }
        None => None,
    };
    Ok(DeployHtml {
        html: crate::views::deploy::deploy_html(&d, artifacts.as_ref()),
        project: d.project.clone(),
        can_act: d.can_act,
        actions: d.actions.clone(),
    })
}

/// The pages under `/runs/`: a run (`{id}`), one of its artifacts
/// (`{id}/artifacts/{artifact}`) and one of its jobs' logs
/// (`{id}/jobs/{job}/log`).
#[cfg(feature = "ssr")]
async fn run_pages(rest: &str, query: &str) -> Result<String, ApiError> {
    let parts: Vec<&str> = rest.split('/').collect();
    let number = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
    match parts.as_slice() {
        [id] if number(id).is_some() => run_fragment(number(id).unwrap_or_default()).await,
        [id, "artifacts", a] if number(id).is_some() && number(a).is_some() => {
            super::with_status(super::authorize("/api/fragments/run"))?;
            let (id, a) = (
                number(id).unwrap_or_default(),
                number(a).unwrap_or_default(),
            );
            super::artifacts::artifact_page(id, a as u64, query).await
        }
        [id, "jobs", job, "log"] if number(id).is_some() && number(job).is_some() => {
            super::with_status(super::authorize("/api/fragments/run"))?;
            let (id, job) = (
                number(id).unwrap_or_default(),
                number(job).unwrap_or_default(),
            );
            super::artifacts::job_log_page(id, job, query).await
        }
        _ => super::with_status(Err(ApiError::NotFound(format!(
            "There is no page /runs/{rest}: a run's address ends in its number, as in /runs/123."
        )))),
    }
}

/// `GET /api/fragments/run?id=RUN_ID`: for a run's page.
#[server(prefix = "/api", endpoint = "fragments/run", input = GetUrl)]
pub async fn run_fragment(id: i64) -> Result<String, ApiError> {
    super::with_status(super::authorize("/api/fragments/run"))?;
    let (mut r, target) = super::with_status(super::deploy::run_and_target(id).await)?;
    let services = super::with_status(super::services())?;
    if let Some(t) = target.as_ref().filter(|_| r.status == "completed") {
        let repo = greenroom::sync::repo_of(&t.project);
        let known = services.ops.secrets.known_values(t).await;
        let wait = std::time::Duration::from_secs(3);
        r.results = services
            .ops
            .artifacts
            .summary_within(&repo, (id as u64, r.run_attempt), known, wait)
            .await
            .map(|s| s.line());
    }
    let artifacts = super::artifacts::of_run(&services, target.as_ref(), id).await;
    Ok(crate::views::deploy::run_html(&r, &artifacts))
}

/// `GET /api/fragments/secrets?query[...]`: the secret coverage page's
/// report, findings and matrix as HTML.
#[server(prefix = "/api", endpoint = "fragments/secrets", input = GetUrl)]
pub async fn secrets_fragment(
    #[server(default)] query: crate::model::SecretsQuery,
) -> Result<String, ApiError> {
    let user = super::with_status(super::authorize("/api/fragments/secrets"))?;
    let v = super::with_status(super::secrets::stored(&user, &query).await)?;
    Ok(crate::views::secrets::html(&v, &query))
}

/// `GET /api/fragments/action-plan?project=NAME&kind=KIND`: an action's
/// confirmation (what it would publish, what it replaces, or why it cannot
/// run now) as HTML.
#[server(prefix = "/api", endpoint = "fragments/action-plan", input = GetUrl)]
pub async fn action_plan_fragment(project: String, kind: String) -> Result<PlanHtml, ApiError> {
    let plan = super::actions::plan("/api/fragments/action-plan", &project, &kind).await?;
    Ok(PlanHtml {
        html: crate::views::actions::plan_html(&plan),
        ready: plan.blocked.is_none(),
    })
}

/// `GET /api/fragments/page?path=PATH&query=QUERY`: the whole of a page
/// whose content is read-only (history, activity, a run, secret coverage),
/// as HTML. These pages share one small piece of browser code
/// (`components::server_rendered`) instead of one each: the server picks the
/// page from `path` and checks the role that page's own fragment needs.
#[server(prefix = "/api", endpoint = "fragments/page", input = GetUrl)]
pub async fn page_fragment(
    #[server(default)] path: String,
    #[server(default)] query: String,
) -> Result<String, ApiError> {
    let query = query.trim_start_matches('?');
    match path.trim_end_matches('/') {
        "/history" => {
            let q: HistoryQuery = super::read_query(query)?;
            let body = history_fragment(q.clone()).await?;
            Ok(format!("{}{body}", crate::views::history::heading(&q)))
        }
        "/activity" => {
            #[derive(serde::Deserialize)]
            struct Ended {
                ended: Option<String>,
            }
            let q: ActivityQuery = super::read_query(query)?;
            let e: Ended = super::read_query(query)?;
            activity_fragment(q, e.ended).await
        }
        "/secrets" => super::secrets::page(query).await,
        "/branches" => super::branches::page(query).await,
        p => match p.strip_prefix("/runs/") {
            Some(rest) => run_pages(rest, query).await,
            None => super::with_status(Err(ApiError::NotFound(format!(
                "{p} is not a page this endpoint renders."
            )))),
        },
    }
}
