//! The Branches page: a project's Supabase branches in the dashboard's
//! sections, their statuses in words, latest runs with masked logs,
//! connection details without secrets, what needs attention, what they
//! cost, and the project's backups.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchesView {
    pub project: String,
    /// Whether the project has a `[projects.supabase]` section at all.
    pub configured: bool,
    /// When sync last read the branch list; `None` before the first read.
    pub read_at_ms: Option<i64>,
    pub now_ms: i64,
    /// The change mark the page shows (the live view refreshes past it).
    pub mark: i64,
    /// Production, persistent, preview (empty sections included).
    pub sections: Vec<BranchSection>,
    /// Every branch's attention items, worst first, with the branch named.
    pub attention: Vec<String>,
    pub cost: CostView,
    pub backups: Option<BackupsView>,
    /// What sync could not read, in words.
    pub problems: Vec<String>,
    /// Deployers and above may create branches; admins delete and restore.
    pub can_create: bool,
    pub can_delete: bool,
    /// The newest branch operations (create, delete, restore), with progress.
    pub operations: Vec<super::ActionView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchSection {
    /// `production`, `persistent` or `preview`.
    pub key: String,
    pub title: String,
    /// What an empty section means.
    pub empty: String,
    pub branches: Vec<BranchView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchView {
    pub id: String,
    pub name: String,
    /// The default branch (the project itself): never deleted from here.
    pub production: bool,
    pub git_branch: Option<String>,
    /// `in progress`, `ready`, `needs attention`, `stopped`, `unknown`.
    pub phase: String,
    pub status: String,
    pub status_words: String,
    pub database: Option<String>,
    pub database_words: Option<String>,
    pub persistent: bool,
    pub created_ms: Option<i64>,
    pub updated_ms: Option<i64>,
    pub pr_number: Option<i64>,
    pub pr_url: Option<String>,
    pub deletion_scheduled_ms: Option<i64>,
    /// Hourly compute cost (`$0.0134`); `None` for the production branch.
    pub hourly: Option<String>,
    pub connection: Option<ConnectionView>,
    pub run: Option<BranchRunView>,
    pub attention: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub host: String,
    pub port: u32,
    pub user: Option<String>,
    pub postgres_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchRunView {
    pub id: String,
    pub started_ms: Option<i64>,
    pub steps: Vec<BranchRunStep>,
    /// The step that failed, if one did.
    pub failed_step: Option<String>,
    /// The log lines that say why (masked).
    pub why: Vec<String>,
    /// The end of the log (masked), and how many lines came before it.
    pub log: Vec<String>,
    pub omitted: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchRunStep {
    pub name: String,
    pub status: String,
    pub status_words: String,
    /// How long it ran, for a step that ran.
    pub duration: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostView {
    pub size: String,
    /// One branch's compute per hour; `None` when the size has no price.
    pub hourly: Option<String>,
    /// Branches billed now (every branch but production, unless stopped).
    pub running: usize,
    /// Those branches for a month (730 hours).
    pub monthly: Option<String>,
    pub warning: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupsView {
    pub pitr_enabled: bool,
    /// "Any second since …" or "Daily backups, newest 2 h ago".
    pub window: String,
    pub warnings: Vec<String>,
    pub backups: Vec<BackupRow>,
    /// Where Supabase's dashboard restores this project.
    pub restore_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupRow {
    pub status: String,
    pub at_ms: Option<i64>,
    pub kind: String,
}
