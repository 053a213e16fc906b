//! Deploys and workflow runs as the overview, history, deploy and run pages
//! show them.

use super::actions::ActionView;
use super::deploy_row::DeployRow;
use serde::{Deserialize, Serialize};

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
    pub job_id: i64,
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
    /// What its test reports say ("1 of 9 failed: …"), once read from its
    /// artifacts; finished runs only.
    pub results: Option<String>,
    pub jobs: Vec<JobView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionView {
    pub kind: String,
    pub message: String,
    /// The action kind that fixes it (`redeploy-last-good`, ...).
    pub fix: Option<String>,
    pub fix_label: Option<String>,
    /// The run it is about, if any (`/runs/{id}` says why).
    pub run_id: Option<i64>,
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
    /// Open secret coverage findings; `None` before the first check.
    pub secret_findings: Option<usize>,
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
