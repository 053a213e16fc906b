//! One deploy as every page that lists deploys shows it: the overview, the
//! history, a deploy's page and an action's confirmation.

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
