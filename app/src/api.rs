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

/// What every page needs to draw the frame around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShellInfo {
    pub version: String,
    pub sandbox: bool,
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
fn services() -> Result<greenroom::Services, ApiError> {
    use_context::<greenroom::Services>().ok_or_else(|| {
        ApiError::Unavailable("Greenroom's services are not available to this request".into())
    })
}

/// `GET /api/shell`: product version, mode and the configured projects.
#[server(prefix = "/api", endpoint = "shell", input = GetUrl)]
pub async fn get_shell_info() -> Result<ShellInfo, ApiError> {
    let services = services()?;
    Ok(ShellInfo {
        version: greenroom::VERSION.to_string(),
        sandbox: services.mode() == greenroom::Mode::Sandbox,
        projects: services.projects().iter().map(summarize).collect(),
    })
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
