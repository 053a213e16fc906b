//! The server functions (Greenroom's HTTP API under `/api`) and the types they
//! exchange with the browser. Each function is thin: call the core, map the
//! result into a view type that holds nothing secret.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, JsonEncoding};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Errors the API reports to the browser, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// Greenroom itself could not do it (database down, misconfiguration).
    #[error("{0}")]
    Unavailable(String),
    /// The request did not reach Greenroom or its answer could not be read.
    #[error("Greenroom could not be reached ({0}); check your connection and try again")]
    Transport(String),
    /// Not signed in (or the session ended).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// The request itself was wrong (a bad filter, say).
    #[error("{0}")]
    BadRequest(String),
    /// What was asked for does not exist (a deploy, a project).
    #[error("{0}")]
    NotFound(String),
    /// It cannot be done now (nothing to redeploy, a deploy already building).
    #[error("{0}")]
    Conflict(String),
    /// A vendor refused or failed; the text says which and what to do.
    #[error("{0}")]
    Upstream(String),
}

impl ApiError {
    /// The HTTP status a server function answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::BadRequest(_) => 400,
            ApiError::NotFound(_) => 404,
            ApiError::Conflict(_) => 409,
            ApiError::Upstream(_) => 502,
            ApiError::Unavailable(_) | ApiError::Transport(_) => 503,
        }
    }
}

/// Sets the response status from the error, so scripts calling the API with
/// `curl` see 400, 404, 409 ... rather than 500 for everything.
#[cfg(feature = "ssr")]
pub fn with_status<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    if let Err(e) = &result {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(code) = http::StatusCode::from_u16(e.status()) {
                options.set_status(code);
            }
        }
    }
    result
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ApiError::Transport(value.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub name: String,
    pub staging_url: Option<String>,
    pub production_url: Option<String>,
    pub deploy_method: String,
    pub netlify_account: String,
    pub staging_site_id: String,
    pub production_site_id: String,
    pub repo: String,
    pub workflow: String,
    pub deploy_job: String,
    pub staging_branch: String,
    pub staging_environment: String,
    pub production_environment: String,
    pub supabase_project_ref: Option<String>,
}

/// Who is signed in, as pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub login: String,
    pub name: Option<String>,
    /// `viewer`, `deployer` or `admin`.
    pub role: String,
}

/// What every page needs to draw the frame around it. Projects are given
/// only to someone signed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShellInfo {
    pub version: String,
    pub sandbox: bool,
    pub user: Option<UserView>,
    pub projects: Vec<ProjectSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    pub version: String,
    pub sandbox: bool,
    pub sandbox_url: Option<String>,
    pub ready: bool,
    pub database_backend: Option<String>,
    pub database_location: Option<String>,
    pub migrations_applied: usize,
    pub migrations_expected: usize,
    pub database_error: Option<String>,
    pub uptime_seconds: u64,
    pub checked_at_ms: i64,
}

#[cfg(feature = "ssr")]
pub(crate) fn services() -> Result<greenroom::Services, ApiError> {
    use_context::<greenroom::Services>().ok_or_else(|| {
        ApiError::Unavailable("Greenroom's services are not available to this request".into())
    })
}

/// The one authorization check, for calls made while rendering a page (which
/// do not pass the HTTP guard): the role `policy` declares for `path`,
/// against the signed-in person the server put in context.
#[cfg(feature = "ssr")]
pub fn authorize(path: &str) -> Result<Option<greenroom::auth::SessionUser>, ApiError> {
    use crate::policy::{required, Access};
    let user = use_context::<greenroom::auth::SessionUser>();
    match required(path) {
        Some(Access::Public) => Ok(user),
        Some(Access::Role(r)) => match user {
            None => Err(ApiError::Unauthorized("Sign in to do this.".into())),
            Some(u) if u.role < r => Err(ApiError::Forbidden(format!(
                "Your role ({}) may not do this; it needs {}.",
                u.role.as_str(),
                r.as_str()
            ))),
            Some(u) => Ok(Some(u)),
        },
        None => Err(ApiError::Forbidden(
            "This function has no declared role, so nobody may call it.".into(),
        )),
    }
}

/// `GET /api/shell`: product version, mode, who is signed in, and (for
/// them) the configured projects.
#[server(prefix = "/api", endpoint = "shell", input = GetUrl)]
pub async fn get_shell_info() -> Result<ShellInfo, ApiError> {
    let user = authorize("/api/shell")?;
    let services = services()?;
    Ok(ShellInfo {
        version: greenroom::VERSION.to_string(),
        sandbox: services.mode() == greenroom::Mode::Sandbox,
        projects: if user.is_some() {
            services.projects().iter().map(summarize).collect()
        } else {
            Vec::new()
        },
        user: user.map(|u| UserView {
            login: u.login,
            name: u.name,
            role: u.role.as_str().to_string(),
        }),
    })
}

/// What the sign-in page explains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInState {
    pub sandbox: bool,
    pub org: String,
    /// (team, role) pairs.
    pub teams: Vec<(String, String)>,
    pub default_role: Option<String>,
    /// Why the last attempt in this browser was refused.
    pub refusal: Option<String>,
    pub signed_in: bool,
}

/// `GET /api/sign-in-state`: public.
#[server(prefix = "/api", endpoint = "sign-in-state", input = GetUrl)]
pub async fn get_sign_in_state() -> Result<SignInState, ApiError> {
    let user = authorize("/api/sign-in-state")?;
    let services = services()?;
    let auth = &services.config.auth;
    let refusal = match use_context::<tower_sessions::Session>() {
        Some(s) => s
            .get::<String>(greenroom::auth::REFUSAL_KEY)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    Ok(SignInState {
        sandbox: services.mode() == greenroom::Mode::Sandbox,
        org: auth.org.clone(),
        teams: auth
            .team_roles
            .iter()
            .map(|(t, r)| (t.clone(), r.as_str().to_string()))
            .collect(),
        default_role: auth.default_role.map(|r| r.as_str().to_string()),
        refusal,
        signed_in: user.is_some(),
    })
}

/// One row of the activity log as shown; parameters never hold secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRow {
    pub id: i64,
    pub occurred_at_ms: i64,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub project: Option<String>,
    pub target: Option<String>,
    pub outcome: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ActivityQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub project: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub until: Option<String>,
    /// `occurred_at_ms.id` of the last row seen.
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub rows: Vec<ActivityRow>,
    /// Pass as `after` for the next (older) page.
    pub next: Option<String>,
    pub can_end_sessions: bool,
}

/// Rows per activity page.
pub const ACTIVITY_PAGE: u32 = 50;

/// `GET /api/activity`: the audit log, newest first, filtered.
#[server(prefix = "/api", endpoint = "activity", input = GetUrl)]
pub async fn get_activity(query: ActivityQuery) -> Result<ActivityPage, ApiError> {
    let user = authorize("/api/activity")?;
    let services = services()?;
    let (filter, after) = query.to_filter().map_err(ApiError::BadRequest)?;
    let mut events = services
        .storage
        .list_audit(&filter, after, ACTIVITY_PAGE + 1)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let more = events.len() > ACTIVITY_PAGE as usize;
    events.truncate(ACTIVITY_PAGE as usize);
    let next = more
        .then(|| {
            events
                .last()
                .map(|e| format!("{}.{}", e.occurred_at_ms, e.id))
        })
        .flatten();
    Ok(ActivityPage {
        rows: events.iter().map(ActivityRow::from_event).collect(),
        next,
        can_end_sessions: user.is_some_and(|u| u.role >= greenroom::domain::Role::Admin),
    })
}

/// `GET /api/fragments/activity?query[...]&ended=N`: the activity page as
/// HTML (filters, a page of the log, the export links and, for admins, the
/// end-sessions form); `ended` is what that form's redirect reports.
#[server(prefix = "/api", endpoint = "fragments/activity", input = GetUrl)]
pub async fn activity_fragment(
    #[server(default)] query: ActivityQuery,
    #[server(default)] ended: Option<String>,
) -> Result<String, ApiError> {
    authorize("/api/fragments/activity")?;
    let ended = ended.and_then(|n| n.parse::<u64>().ok());
    match get_activity(query.clone()).await {
        Ok(page) => Ok(crate::views::activity::html(&query, &page, ended)),
        // A bad filter keeps the form, with what was typed and what is wrong.
        Err(ApiError::BadRequest(problem)) => Ok(crate::views::activity::invalid(&query, &problem)),
        Err(e) => Err(e),
    }
}

#[cfg(feature = "ssr")]
impl ActivityRow {
    pub fn from_event(e: &greenroom::storage::AuditEvent) -> Self {
        ActivityRow {
            id: e.id,
            occurred_at_ms: e.occurred_at_ms,
            actor: e.actor_login.clone(),
            role: e.role.clone(),
            action: e.action.clone(),
            project: e.project.clone(),
            target: match (&e.target_kind, &e.target_id) {
                (Some(k), Some(i)) => Some(format!("{k} {i}")),
                (None, Some(i)) => Some(i.clone()),
                _ => None,
            },
            outcome: e.outcome.as_str().to_string(),
            message: e.message.clone(),
        }
    }
}

/// A query parameter with its spaces trimmed; empty counts as absent.
#[cfg(feature = "ssr")]
pub(crate) fn blank(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A `YYYY-MM-DD` parameter as UTC midnight in milliseconds, or what is wrong.
#[cfg(feature = "ssr")]
pub(crate) fn day(v: &Option<String>, what: &str) -> Result<Option<i64>, String> {
    match blank(v) {
        None => Ok(None),
        Some(d) => crate::format::parse_day(&d)
            .map(Some)
            .ok_or_else(|| format!("{what} {d:?} is not a date (YYYY-MM-DD)")),
    }
}

impl ActivityQuery {
    /// The storage filter, or what is wrong with the query.
    #[cfg(feature = "ssr")]
    pub fn to_filter(
        &self,
    ) -> Result<
        (
            greenroom::storage::AuditFilter,
            Option<greenroom::storage::AuditCursor>,
        ),
        String,
    > {
        use greenroom::storage::{AuditCursor, AuditFilter, AuditOutcome};
        let outcome = match blank(&self.outcome) {
            None => None,
            Some(o) => Some(AuditOutcome::try_from(o.clone()).map_err(|_| {
                format!("outcome {o:?} is not one of pending, succeeded, failed, unknown, refused")
            })?),
        };
        let from_ms = day(&self.from, "from")?;
        let until_ms = day(&self.until, "until")?.map(|d| d + 86_400_000);
        let after = match blank(&self.after) {
            None => None,
            Some(a) => {
                let (t, i) = a.split_once('.').ok_or("after is not a page cursor")?;
                Some(AuditCursor {
                    occurred_at_ms: t.parse().map_err(|_| "after is not a page cursor")?,
                    id: i.parse().map_err(|_| "after is not a page cursor")?,
                })
            }
        };
        Ok((
            AuditFilter {
                actor_login: blank(&self.actor),
                action: blank(&self.action),
                outcome,
                project: blank(&self.project),
                from_ms,
                until_ms,
            },
            after,
        ))
    }
}

/// `POST /api/sessions/end-all` (admin): signs everyone else out now.
#[server(prefix = "/api", endpoint = "sessions/end-all")]
pub async fn end_all_sessions() -> Result<u64, ApiError> {
    let user = authorize("/api/sessions/end-all")?
        .ok_or_else(|| ApiError::Unauthorized("Sign in to do this.".into()))?;
    let services = services()?;
    let own = use_context::<tower_sessions::Session>().and_then(|s| s.id().map(|i| i.to_string()));
    greenroom::auth::end_all_sessions(&services.storage, &user, own.as_deref(), None)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))
}

#[cfg(feature = "ssr")]
fn summarize(p: &greenroom::config::Project) -> ProjectSummary {
    use greenroom::config::DeployMethod;
    ProjectSummary {
        name: p.name.to_string(),
        staging_url: p.staging_url.as_ref().map(ToString::to_string),
        production_url: p.production_url.as_ref().map(ToString::to_string),
        deploy_method: match p.deploy_method {
            DeployMethod::WorkflowDispatch => "workflow dispatch".into(),
            DeployMethod::NetlifyBuild => "Netlify build".into(),
        },
        netlify_account: p.netlify.account_slug.clone(),
        staging_site_id: p.netlify.staging_site_id.to_string(),
        production_site_id: p.netlify.production_site_id.to_string(),
        repo: p.github.repo.to_string(),
        workflow: p.github.workflow.clone(),
        deploy_job: p.github.deploy_job.clone(),
        staging_branch: p.github.staging_branch.to_string(),
        staging_environment: p.github.staging_environment.clone(),
        production_environment: p.github.production_environment.clone(),
        supabase_project_ref: p.supabase.as_ref().map(|s| s.project_ref.clone()),
    }
}

/// `GET /api/status`: is Greenroom healthy: database reachable, migrations applied.
#[server(prefix = "/api", endpoint = "status", input = GetUrl)]
pub async fn get_system_status() -> Result<StatusView, ApiError> {
    authorize("/api/status")?;
    let status = services()?.status().await;
    let (backend, location, applied, expected, error) = match &status.database {
        Ok(r) => (
            Some(r.backend.to_string()),
            Some(r.location.clone()),
            r.migrations_applied,
            r.migrations_expected,
            None,
        ),
        Err(e) => (None, None, 0, 0, Some(e.clone())),
    };
    Ok(StatusView {
        version: status.version.to_string(),
        sandbox: status.mode == greenroom::Mode::Sandbox,
        sandbox_url: status.sandbox_url,
        ready: status.ready,
        database_backend: backend,
        database_location: location,
        migrations_applied: applied,
        migrations_expected: expected,
        database_error: error,
        uptime_seconds: status.uptime_seconds,
        checked_at_ms: status.checked_at_ms,
    })
}

/// The shell info loaded by [`crate::App`], for components below it.
pub fn use_shell_info() -> Resource<Result<ShellInfo, ApiError>> {
    expect_context::<Resource<Result<ShellInfo, ApiError>>>()
}
