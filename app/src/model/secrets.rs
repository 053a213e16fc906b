//! The secret coverage page: the matrix as names, states, letters and
//! dates (never a value), the findings with their dismissals, and the
//! filters as typed.

use serde::{Deserialize, Serialize};

/// The page's query: `?project=&problems=1&location=&key=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretsQuery {
    pub project: Option<String>,
    /// `1` (or anything non-empty): only rows with a problem.
    pub problems: Option<String>,
    /// One column, by its heading.
    pub location: Option<String>,
    /// Keys containing this text.
    pub key: Option<String>,
}

impl SecretsQuery {
    /// The query string of these filters (without `?`), for links.
    pub fn qs(&self) -> String {
        crate::format::query_string(&[
            ("project", &self.project),
            ("problems", &self.problems),
            ("location", &self.location),
            ("key", &self.key),
        ])
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretsView {
    pub project: String,
    /// Every configured project, for the project filter.
    pub projects: Vec<String>,
    /// When the report shown was made; `None` before the first check.
    pub checked_at_ms: Option<i64>,
    /// Whether it includes an uploaded `.env.local` (a check made for this
    /// request only, not stored).
    pub env_local_checked: bool,
    /// `ok`, `missing` or `unchecked`, as the CLI's exit code 0, 1, 2.
    pub outcome: String,
    pub columns: Vec<ColumnView>,
    /// Every column's heading, for the location filter.
    pub all_columns: Vec<String>,
    pub rows: Vec<SecretRow>,
    /// Open findings, worst first.
    pub findings: Vec<FindingView>,
    /// Findings hidden by an active dismissal.
    pub dismissed: Vec<FindingView>,
    /// Past dismissals (undone or expired), newest first.
    pub past_dismissals: Vec<DismissalView>,
    pub open_findings: usize,
    /// Files that could not be fully read, as `file:line: why`.
    pub problems: Vec<String>,
    /// Stores that could not be read, and why.
    pub unread: Vec<(String, String)>,
    pub can_dismiss: bool,
    pub can_recheck: bool,
    pub sandbox: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnView {
    pub label: String,
    /// Where the store is edited.
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRow {
    pub key: String,
    /// `required`, `discovered` or `unrequired`.
    pub group: String,
    pub cells: Vec<CellView>,
    pub needs: Vec<NeedView>,
}

/// One cell: its state and what may be shown of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellView {
    /// `readable`, `write-only`, `placeholder`, `absent` or `unknown`.
    pub state: String,
    /// The group letter, `set`, `empty`, `absent` or `unknown`.
    pub text: String,
    /// The longer explanation (dates and who, the reason it is unknown).
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeedView {
    pub target: String,
    pub origin: String,
    /// `present`, `empty`, `missing` or `unknown`.
    pub verdict: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingView {
    pub id: String,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: String,
    pub key: Option<String>,
    pub title: String,
    pub detail: String,
    pub fix: Option<String>,
    pub dismissal: Option<DismissalView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DismissalView {
    pub id: i64,
    pub finding_id: String,
    pub reason: String,
    pub until_ms: Option<i64>,
    pub by: String,
    pub at_ms: i64,
    pub undone_by: Option<String>,
    pub undone_at_ms: Option<i64>,
}
