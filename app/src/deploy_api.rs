//! Server functions behind the overview, history, deploy and run pages, and
//! the on-call actions. Endpoints are fixed (listed in the README) so that a
//! deployer can script them with `curl` and a session cookie. Each reads the
//! database through the core; none calls a vendor, except starting an action.

use crate::api::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

/// A deploy as the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployRow {
    pub site_id: String,
    pub deploy_id: String,
    /// `staging` or `production`.
    pub site: String,
    pub context: String,
    pub branch: Option<String>,
    pub state: String,
    pub commit_sha: Option<String>,
    pub commit_message: Option<String>,
    pub commit_url: Option<String>,
    pub author: Option<String>,
    pub deploy_url: Option<String>,
    pub error_message: Option<String>,
    pub created_at_ms: i64,
    pub published_at_ms: Option<i64>,
    pub updated_at_ms: i64,
    pub build_seconds: Option<i64>,
    pub run_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at_ms: Option<i64>,
    pub completed_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at_ms: Option<i64>,
    pub completed_at_ms: Option<i64>,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub run_id: i64,
    pub run_number: i64,
    pub run_attempt: i64,
    pub event: String,
    pub branch: Option<String>,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub actor: Option<String>,
    pub html_url: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// `passed`, `failed`, `skipped`, `running`, `pending`, or none.
    pub smoke: Option<String>,
    pub jobs: Vec<JobView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressView {
    pub state: String,
    pub at_ms: i64,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionView {
    pub id: i64,
    pub kind: String,
    pub label: String,
    /// `starting`, `running`, `succeeded`, `failed`.
    pub state: String,
    pub actor: Option<String>,
    pub summary: String,
    pub message: Option<String>,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub progress: Vec<ProgressView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionView {
    pub kind: String,
    pub message: String,
    /// The action kind that fixes it (`redeploy-last-good`, ...).
    pub fix: Option<String>,
    pub fix_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncView {
    /// `Netlify` or `GitHub`.
    pub source: String,
    pub last_success_ms: Option<i64>,
    pub error: Option<String>,
    pub error_since_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveView {
    pub deploy: DeployRow,
    pub run_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewView {
    pub project: String,
    pub repo: String,
    pub staging_url: Option<String>,
    pub production_url: Option<String>,
    pub staging: Option<LiveView>,
    pub production: Option<LiveView>,
    pub latest_staging: Option<DeployRow>,
    pub deploy_job: Option<RunView>,
    pub staging_branch: String,
    pub staging_head: Option<String>,
    pub sync: Vec<SyncView>,
    pub attention: Vec<AttentionView>,
    pub actions: Vec<ActionView>,
    /// Whether the person may run the on-call actions.
    pub can_act: bool,
    /// Slack deliveries that failed lately (admins only).
    pub slack_failures: Vec<String>,
    /// The change mark this view was built at (the live view compares it).
    pub mark: i64,
}

/// `GET /api/overview?project=NAME`: what is live, the deploy job, what needs attention.
#[server(prefix = "/api", endpoint = "overview", input = GetUrl)]
pub async fn get_overview(project: String) -> Result<OverviewView, ApiError> {
    crate::api::with_status(
        async move {
            let user = crate::api::authorize("/api/overview")?;
            let (services, ops) = ops()?;
            let t = target(&ops, &project)?;
            let o =
                greenroom::overview::project_overview(&services.storage, t.project_id, &t.project)
                    .await
                    .map_err(unavailable)?;
            let mark = services
                .storage
                .project_change_mark(t.project_id)
                .await
                .map_err(unavailable)?;
            let role = user.map(|u| u.role);
            let admin = role.is_some_and(|r| r >= greenroom::domain::Role::Admin);
            let slack_failures = if admin {
                services
                    .storage
                    .failed_notifications(5)
                    .await
                    .map_err(unavailable)?
                    .into_iter()
                    .map(|(key, at, err)| {
                        format!("{} ({}): {err}", key, greenroom::sync::utc_label(at))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Ok(OverviewView {
                project: t.project.name.to_string(),
                repo: t.project.github.repo.to_string(),
                staging_url: t.project.staging_url.as_ref().map(ToString::to_string),
                production_url: t.project.production_url.as_ref().map(ToString::to_string),
                staging: o.staging_live.map(|l| live_view(&l)),
                production: o.production_live.map(|l| live_view(&l)),
                latest_staging: o.latest_staging.as_ref().map(deploy_row),
                deploy_job: o
                    .deploy_job
                    .as_ref()
                    .map(|j| run_view(&j.run, &j.jobs, j.smoke)),
                staging_branch: t.project.github.staging_branch.to_string(),
                staging_head: o.staging_head.map(|h| h.sha),
                sync: o.sync.iter().map(sync_view).collect(),
                attention: o
                    .attention
                    .iter()
                    .map(|a| AttentionView {
                        kind: a.kind.as_str().to_string(),
                        message: a.message.clone(),
                        fix: a.fix.map(|k| k.as_str().to_string()),
                        fix_label: a.fix.map(|k| k.label().to_string()),
                    })
                    .collect(),
                actions: o.recent_actions.iter().map(action_view).collect(),
                can_act: role.is_some_and(|r| r >= greenroom::domain::Role::Deployer),
                slack_failures,
                mark,
            })
        }
        .await,
    )
}

/// The history page's filters, as query parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HistoryQuery {
    pub project: Option<String>,
    /// `staging` or `production`.
    pub site: Option<String>,
    pub context: Option<String>,
    pub state: Option<String>,
    pub branch: Option<String>,
    pub author: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub until: Option<String>,
    /// `created_at_ms.deploy_id` of the last row seen.
    pub after: Option<String>,
}

impl HistoryQuery {
    /// The query string of the filters (no cursor), for links and exports.
    pub fn filters_qs(&self) -> String {
        crate::format::query_string(&[
            ("project", &self.project),
            ("site", &self.site),
            ("context", &self.context),
            ("state", &self.state),
            ("branch", &self.branch),
            ("author", &self.author),
            ("from", &self.from),
            ("until", &self.until),
        ])
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub rows: Vec<DeployRow>,
    pub next: Option<String>,
    pub total: i64,
}

/// Rows per history page.
pub const HISTORY_PAGE: u32 = 50;

/// `GET /api/deploys?query[project]=&...`: a page of deploys, newest first.
#[server(prefix = "/api", endpoint = "deploys", input = GetUrl)]
pub async fn get_deploys(#[server(default)] query: HistoryQuery) -> Result<HistoryPage, ApiError> {
    crate::api::with_status(
        async move {
            crate::api::authorize("/api/deploys")?;
            let (services, ops) = ops()?;
            let (filter, after) = history_filter(&ops, &query).map_err(ApiError::BadRequest)?;
            deploys_page(&services, &ops, &filter, after.as_ref()).await
        }
        .await,
    )
}

/// A page of the deploys `filter` selects, after `after`, with their total.
#[cfg(feature = "ssr")]
async fn deploys_page(
    services: &greenroom::Services,
    ops: &greenroom::services::Operations,
    filter: &greenroom::storage::DeployFilter,
    after: Option<&greenroom::storage::DeployCursor>,
) -> Result<HistoryPage, ApiError> {
    let mut rows = services
        .storage
        .list_deploys(filter, after, HISTORY_PAGE + 1)
        .await
        .map_err(unavailable)?;
    let more = rows.len() > HISTORY_PAGE as usize;
    rows.truncate(HISTORY_PAGE as usize);
    let next = more
        .then(|| {
            rows.last()
                .map(|d| format!("{}.{}", d.created_at_ms, d.deploy_id))
        })
        .flatten();
    let total = ops
        .trends
        .total(&services.storage, filter)
        .await
        .map_err(unavailable)?;
    Ok(HistoryPage {
        rows: rows.iter().map(deploy_row).collect(),
        next,
        total,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekView {
    pub week_start_ms: i64,
    /// (context, deploys)
    pub by_context: Vec<(String, u32)>,
    pub finished: u32,
    pub failed: u32,
    pub build_p50_s: Option<i64>,
    pub build_p90_s: Option<i64>,
    pub restore_median_s: Option<i64>,
    pub lead_median_s: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendsView {
    pub weeks: Vec<WeekView>,
    pub total: WeekView,
    pub contexts: Vec<String>,
}

/// `GET /api/trends?query[project]=&...`: weekly figures of the filtered deploys.
#[server(prefix = "/api", endpoint = "trends", input = GetUrl)]
pub async fn get_trends(#[server(default)] query: HistoryQuery) -> Result<TrendsView, ApiError> {
    crate::api::with_status(
        async move {
            crate::api::authorize("/api/trends")?;
            let (services, ops) = ops()?;
            let (filter, _) = history_filter(&ops, &query).map_err(ApiError::BadRequest)?;
            trends_view(&services, &ops, &filter).await
        }
        .await,
    )
}

/// The weekly figures of the deploys `filter` selects.
#[cfg(feature = "ssr")]
async fn trends_view(
    services: &greenroom::Services,
    ops: &greenroom::services::Operations,
    filter: &greenroom::storage::DeployFilter,
) -> Result<TrendsView, ApiError> {
    let t = ops
        .trends
        .get(&services.storage, filter)
        .await
        .map_err(unavailable)?;
    let week = |w: &greenroom::trends::WeekStats| WeekView {
        week_start_ms: w.week_start_ms,
        by_context: w.by_context.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        finished: w.finished,
        failed: w.failed,
        build_p50_s: w.build_p50_s,
        build_p90_s: w.build_p90_s,
        restore_median_s: w.restore_median_s,
        lead_median_s: w.lead_median_s,
    };
    Ok(TrendsView {
        weeks: t.weeks.iter().map(week).collect(),
        total: week(&t.total),
        contexts: t.contexts.clone(),
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployDetail {
    pub project: String,
    pub repo: String,
    pub deploy: DeployRow,
    pub run: Option<RunView>,
    /// Whether staging or production serves this deploy now.
    pub live: bool,
    pub can_act: bool,
    /// Action kinds that apply to this deploy.
    pub actions: Vec<(String, String)>,
}

/// `GET /api/deploy?site=SITE_ID&id=DEPLOY_ID`: one deploy with its run.
#[server(prefix = "/api", endpoint = "deploy", input = GetUrl)]
pub async fn get_deploy(site: String, id: String) -> Result<DeployDetail, ApiError> {
    crate::api::with_status(
        async move {
        let user = crate::api::authorize("/api/deploy")?;
        let (services, ops) = ops()?;
        let d = services
            .storage
            .get_deploy(&site, &id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "No deploy {id} of site {site} is known. It may be older than the first sync, or the link is wrong."
                ))
            })?;
        let t = ops
            .targets
            .iter()
            .find(|t| t.project_id == d.project_id)
            .ok_or_else(|| {
                ApiError::NotFound("This deploy belongs to no configured project.".into())
            })?;
        let run = match d.run_id {
            Some(r) => run_detail(&services, r).await?,
            None => None,
        };
        let live = services
            .storage
            .site_live(&site)
            .await
            .map_err(unavailable)?
            .and_then(|l| l.deploy_id)
            .is_some_and(|l| l == d.deploy_id);
        use greenroom::overview::ActionKind;
        let mut actions = Vec::new();
        if d.site_role == greenroom::storage::SiteRole::Staging {
            if d.state == greenroom::domain::DeployState::Error {
                actions.push(ActionKind::RedeployLastGood);
            }
            if d.run_id.is_some() {
                actions.push(ActionKind::RerunDeployJob);
            }
            actions.push(ActionKind::DeployStaging);
        }
        Ok(DeployDetail {
            project: t.project.name.to_string(),
            repo: t.project.github.repo.to_string(),
            deploy: deploy_row(&d),
            run,
            live,
            can_act: user.is_some_and(|u| u.role >= greenroom::domain::Role::Deployer),
            actions: actions
                .into_iter()
                .map(|k| (k.as_str().to_string(), k.label().to_string()))
                .collect(),
        })
        }
        .await,
    )
}

/// `GET /api/run?id=RUN_ID`: one workflow run with its jobs and steps.
#[server(prefix = "/api", endpoint = "run", input = GetUrl)]
pub async fn get_run(id: i64) -> Result<RunView, ApiError> {
    crate::api::with_status(
        async move {
        crate::api::authorize("/api/run")?;
        let (services, _) = ops()?;
        run_detail(&services, id).await?.ok_or_else(|| {
            ApiError::NotFound(format!(
                "No workflow run {id} is known. It may be older than the first sync, or the link is wrong."
            ))
        })
        }
        .await,
    )
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub kind: String,
    pub label: String,
    pub summary: String,
    pub target: Option<DeployRow>,
    pub replaces: Option<DeployRow>,
    pub blocked: Option<String>,
    /// The server's clock, for "3 days old".
    pub now_ms: i64,
}

/// `GET /api/actions/plan?project=NAME&kind=KIND`: what an action would do
/// now, for its confirmation. Kinds: `deploy-staging`, `rerun-deploy-job`,
/// `redeploy-last-good`.
#[server(prefix = "/api", endpoint = "actions/plan", input = GetUrl)]
pub async fn get_action_plan(project: String, kind: String) -> Result<PlanView, ApiError> {
    crate::api::with_status(
        async move {
            crate::api::authorize("/api/actions/plan")?;
            let (_, ops) = ops()?;
            let t = target(&ops, &project)?;
            let k = action_kind(&kind)?;
            let plan = ops.actions.plan(t, k).await.map_err(action_error)?;
            Ok(PlanView {
                kind: k.as_str().into(),
                label: k.label().into(),
                summary: plan.summary,
                target: plan.target.as_ref().map(deploy_row),
                replaces: plan.replaces.as_ref().map(deploy_row),
                blocked: plan.blocked,
                now_ms: greenroom::storage::now_ms(),
            })
        }
        .await,
    )
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartedView {
    pub action: ActionView,
    /// True when an equal action was already under way and nothing was sent.
    pub already_under_way: bool,
}

/// `POST /api/actions/start` with `project=NAME&kind=KIND`: runs an on-call action.
#[server(prefix = "/api", endpoint = "actions/start")]
pub async fn start_action(project: String, kind: String) -> Result<StartedView, ApiError> {
    crate::api::with_status(
        async move {
            let user = crate::api::authorize("/api/actions/start")?
                .ok_or_else(|| ApiError::Unauthorized("Sign in to do this.".into()))?;
            let (_, ops) = ops()?;
            let t = target(&ops, &project)?;
            let k = action_kind(&kind)?;
            let parts = use_context::<http::request::Parts>();
            let actor = greenroom::actions::Actor {
                login: user.login.clone(),
                id: Some(user.id),
                role: user.role.as_str().into(),
                request_id: parts.as_ref().and_then(|p| {
                    p.headers
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                }),
                client_ip: None,
            };
            match ops
                .actions
                .start(t, k, &actor)
                .await
                .map_err(action_error)?
            {
                greenroom::actions::Started::Started(a) => Ok(StartedView {
                    action: action_view(&a),
                    already_under_way: false,
                }),
                greenroom::actions::Started::AlreadyUnderWay(a) => Ok(StartedView {
                    action: action_view(&a),
                    already_under_way: true,
                }),
            }
        }
        .await,
    )
}

/// `GET /api/action?id=ID`: one action and its progress.
#[server(prefix = "/api", endpoint = "action", input = GetUrl)]
pub async fn get_action(id: i64) -> Result<ActionView, ApiError> {
    crate::api::with_status(
        async move {
            crate::api::authorize("/api/action")?;
            let (services, _) = ops()?;
            services
                .storage
                .get_action(id)
                .await
                .map_err(unavailable)?
                .map(|a| action_view(&a))
                .ok_or_else(|| ApiError::NotFound(format!("No action {id}.")))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn ops() -> Result<(greenroom::Services, greenroom::services::Operations), ApiError> {
    let services = crate::api::services()?;
    let ops = services.ops.clone().ok_or_else(|| {
        ApiError::Unavailable("Greenroom's sync is not running in this process".into())
    })?;
    Ok((services, ops))
}

#[cfg(feature = "ssr")]
fn target<'a>(
    ops: &'a greenroom::services::Operations,
    name: &str,
) -> Result<&'a greenroom::sync::SyncTarget, ApiError> {
    ops.target(name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "No project is called {name:?}; pick one from the project switcher."
        ))
    })
}

#[cfg(feature = "ssr")]
fn action_kind(kind: &str) -> Result<greenroom::overview::ActionKind, ApiError> {
    greenroom::overview::ActionKind::parse(kind).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "{kind:?} is not an action; use deploy-staging, rerun-deploy-job or redeploy-last-good"
        ))
    })
}

#[cfg(feature = "ssr")]
fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(e.to_string())
}

#[cfg(feature = "ssr")]
fn action_error(e: greenroom::actions::ActionError) -> ApiError {
    use greenroom::actions::ActionError as E;
    match e {
        E::NotApplicable(m) => ApiError::Conflict(m),
        E::Upstream(m) => ApiError::Upstream(m),
        E::Storage(s) => ApiError::Unavailable(s.to_string()),
    }
}

/// The storage filter of a history query, or what is wrong with it.
#[cfg(feature = "ssr")]
pub fn history_filter(
    ops: &greenroom::services::Operations,
    q: &HistoryQuery,
) -> Result<
    (
        greenroom::storage::DeployFilter,
        Option<greenroom::storage::DeployCursor>,
    ),
    String,
> {
    use crate::api::{blank, day};
    let project = match blank(&q.project) {
        None => None,
        Some(name) => Some(
            ops.target(&name)
                .ok_or_else(|| format!("no project is called {name:?}"))?,
        ),
    };
    let site_id = match (blank(&q.site).as_deref(), project) {
        (None, _) => None,
        (Some(s @ ("staging" | "production")), Some(t)) => Some(if s == "staging" {
            t.project.netlify.staging_site_id.to_string()
        } else {
            t.project.netlify.production_site_id.to_string()
        }),
        (Some("staging" | "production"), None) => {
            return Err("pick a project to filter by site".into())
        }
        (Some(other), _) => return Err(format!("site {other:?} is not staging or production")),
    };
    let from_ms = day(&q.from, "from")?;
    let until_ms = day(&q.until, "until")?.map(|d| d + 86_400_000);
    if let (Some(f), Some(u)) = (from_ms, until_ms) {
        if f >= u {
            return Err("from must be on or before until".into());
        }
    }
    let after = match blank(&q.after) {
        None => None,
        Some(a) => {
            let (t, id) = a.split_once('.').ok_or("after is not a page cursor")?;
            Some(greenroom::storage::DeployCursor {
                created_at_ms: t.parse().map_err(|_| "after is not a page cursor")?,
                deploy_id: id.to_string(),
            })
        }
    };
    Ok((
        greenroom::storage::DeployFilter {
            project_id: project.map(|t| t.project_id),
            site_id,
            context: blank(&q.context),
            state: blank(&q.state),
            branch: blank(&q.branch),
            author: blank(&q.author),
            from_ms,
            until_ms,
        },
        after,
    ))
}

#[cfg(feature = "ssr")]
pub fn deploy_row(d: &greenroom::storage::DeployRecord) -> DeployRow {
    DeployRow {
        site_id: d.site_id.clone(),
        deploy_id: d.deploy_id.clone(),
        site: d.site_role.as_str().into(),
        context: d.context.clone(),
        branch: d.branch.clone(),
        state: d.state.as_str().into(),
        commit_sha: d.commit_sha.clone(),
        commit_message: d.commit_message.clone(),
        commit_url: d.commit_url.clone(),
        author: d.author.clone(),
        deploy_url: d.deploy_url.clone(),
        error_message: d.error_message.clone(),
        created_at_ms: d.created_at_ms,
        published_at_ms: d.published_at_ms,
        updated_at_ms: d.updated_at_ms,
        build_seconds: d.build_seconds,
        run_id: d.run_id,
    }
}

#[cfg(feature = "ssr")]
fn live_view(l: &greenroom::overview::DeployWithRun) -> LiveView {
    LiveView {
        deploy: deploy_row(&l.deploy),
        run_url: l.run.as_ref().and_then(|r| r.html_url.clone()),
    }
}

#[cfg(feature = "ssr")]
fn sync_view(s: &greenroom::storage::SyncStatus) -> SyncView {
    SyncView {
        source: greenroom::overview::source_label(&s.source).to_string(),
        last_success_ms: s.last_success_ms,
        error: s.error.clone(),
        error_since_ms: s.error_since_ms,
    }
}

#[cfg(feature = "ssr")]
fn run_view(
    r: &greenroom::storage::WorkflowRunRecord,
    jobs: &[greenroom::storage::WorkflowJobRecord],
    smoke: Option<greenroom::sync::StepResult>,
) -> RunView {
    RunView {
        run_id: r.run_id,
        run_number: r.run_number,
        run_attempt: r.run_attempt,
        event: r.event.clone(),
        branch: r.branch.clone(),
        head_sha: r.head_sha.clone(),
        status: r.status.clone(),
        conclusion: r.conclusion.clone(),
        actor: r.actor.clone(),
        html_url: r.html_url.clone(),
        created_at_ms: r.created_at_ms,
        updated_at_ms: r.updated_at_ms,
        smoke: smoke.map(|s| s.as_str().to_string()),
        jobs: jobs
            .iter()
            .map(|j| JobView {
                name: j.name.clone(),
                status: j.status.clone(),
                conclusion: j.conclusion.clone(),
                started_at_ms: j.started_at_ms,
                completed_at_ms: j.completed_at_ms,
                steps: greenroom::sync::steps_of(j)
                    .into_iter()
                    .map(|s| StepView {
                        name: s.name,
                        status: s.status,
                        conclusion: s.conclusion,
                        started_at_ms: s.started_at_ms,
                        completed_at_ms: s.completed_at_ms,
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[cfg(feature = "ssr")]
async fn run_detail(services: &greenroom::Services, id: i64) -> Result<Option<RunView>, ApiError> {
    let Some(run) = services.storage.get_run(id).await.map_err(unavailable)? else {
        return Ok(None);
    };
    let jobs = services
        .storage
        .jobs_of_run(id)
        .await
        .map_err(unavailable)?;
    let deploy_job = services
        .ops
        .as_ref()
        .and_then(|o| o.targets.iter().find(|t| t.project_id == run.project_id))
        .map(|t| t.project.github.deploy_job.clone())
        .unwrap_or_default();
    let smoke = jobs
        .iter()
        .find(|j| j.name == deploy_job)
        .and_then(greenroom::sync::smoke_of);
    Ok(Some(run_view(&run, &jobs, smoke)))
}

#[cfg(feature = "ssr")]
pub fn action_view(a: &greenroom::storage::ActionRecord) -> ActionView {
    ActionView {
        id: a.id,
        kind: a.kind.clone(),
        label: greenroom::overview::ActionKind::parse(&a.kind)
            .map(|k| k.label().to_string())
            .unwrap_or_else(|| a.kind.clone()),
        state: a.state.as_str().into(),
        actor: a.actor_login.clone(),
        summary: a.summary.clone(),
        message: a.message.clone(),
        started_at_ms: a.started_at_ms,
        finished_at_ms: a.finished_at_ms,
        progress: greenroom::actions::progress_of(a)
            .into_iter()
            .map(|p| ProgressView {
                state: p.state,
                at_ms: p.at_ms,
                detail: p.detail,
            })
            .collect(),
    }
}

/// The overview as the page shows it: its read-only part as HTML rendered on
/// the server, and what the interactive part needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewHtml {
    pub html: String,
    pub project: String,
    pub mark: i64,
    pub can_act: bool,
    /// Action kinds that fix what needs attention now.
    pub fixes: Vec<String>,
}

/// `GET /api/fragments/overview?project=NAME`: for the overview page.
#[server(prefix = "/api", endpoint = "fragments/overview", input = GetUrl)]
pub async fn overview_fragment(project: String) -> Result<OverviewHtml, ApiError> {
    crate::api::authorize("/api/fragments/overview")?;
    let o = get_overview(project).await?;
    Ok(OverviewHtml {
        html: crate::views::overview::html(&o),
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
    crate::api::authorize("/api/fragments/history")?;
    let (services, ops) = ops()?;
    let projects: Vec<String> = ops
        .targets
        .iter()
        .map(|t| t.project.name.to_string())
        .collect();
    // A bad filter keeps the form, with what was typed and what is wrong.
    let (filter, after) = match history_filter(&ops, &query) {
        Ok(f) => f,
        Err(problem) => return Ok(crate::views::history::invalid(&query, projects, &problem)),
    };
    crate::api::with_status(
        async {
            let page = deploys_page(&services, &ops, &filter, after.as_ref()).await?;
            // The figures cover the whole filtered set, whatever page is shown.
            let trends = trends_view(&services, &ops, &filter).await?;
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

/// A deploy's page: its read-only part as HTML, and its actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployHtml {
    pub html: String,
    pub project: String,
    pub can_act: bool,
    pub actions: Vec<(String, String)>,
}

/// `GET /api/fragments/deploy?site=SITE_ID&id=DEPLOY_ID`: for a deploy's page.
#[server(prefix = "/api", endpoint = "fragments/deploy", input = GetUrl)]
pub async fn deploy_fragment(site: String, id: String) -> Result<DeployHtml, ApiError> {
    crate::api::authorize("/api/fragments/deploy")?;
    let d = get_deploy(site, id).await?;
    Ok(DeployHtml {
        html: crate::views::deploy::deploy_html(&d),
        project: d.project.clone(),
        can_act: d.can_act,
        actions: d.actions.clone(),
    })
}

/// `GET /api/fragments/run?id=RUN_ID`: for a run's page.
#[server(prefix = "/api", endpoint = "fragments/run", input = GetUrl)]
pub async fn run_fragment(id: i64) -> Result<String, ApiError> {
    crate::api::authorize("/api/fragments/run")?;
    let r = get_run(id).await?;
    Ok(crate::views::deploy::run_html(&r))
}
