//! What frames every page: who is signed in, the projects, Greenroom's own
//! health, and what the sign-in page explains.

use serde::{Deserialize, Serialize};

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
    /// When GitHub last confirmed the role, given only when the last
    /// re-check could not get an answer (GitHub slow past the deadline, or
    /// down): the role is then the last known one, kept for a bounded grace,
    /// and the page says so.
    #[serde(default)]
    pub unconfirmed_since_ms: Option<i64>,
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

/// What the browser needs of the shell on every page: the mode, who is
/// signed in and the projects' names (for the switcher). `ShellInfo` is the
/// same for scripts, with each project's setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShellFrame {
    pub sandbox: bool,
    pub user: Option<UserView>,
    pub projects: Vec<String>,
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
