//! The activity page: rows of the audit log and its filters.

use serde::{Deserialize, Serialize};

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

impl ActivityQuery {
    /// The query string of the filters (no cursor), for links and exports.
    pub fn filters_qs(&self) -> String {
        crate::format::query_string(&[
            ("actor", &self.actor),
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("project", &self.project),
            ("from", &self.from),
            ("until", &self.until),
        ])
    }
}
