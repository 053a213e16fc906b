//! Pages whose read-only part the server renders to HTML (`views`): the
//! HTML with what the interactive part around it needs.

use serde::{Deserialize, Serialize};

/// The overview as the page shows it: its read-only part as HTML rendered on
/// the server, and what the interactive part needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewHtml {
    pub html: String,
    /// The project's setup card, for the page's side column.
    pub setup: String,
    pub project: String,
    pub mark: i64,
    pub can_act: bool,
    /// Action kinds that fix what needs attention now.
    pub fixes: Vec<String>,
}

/// A deploy's page: its read-only part as HTML, and its actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployHtml {
    pub html: String,
    pub project: String,
    pub can_act: bool,
    pub actions: Vec<(String, String)>,
}

/// An on-call action's confirmation: what it would do, as HTML, and whether
/// it may be started now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanHtml {
    pub html: String,
    pub ready: bool,
}
