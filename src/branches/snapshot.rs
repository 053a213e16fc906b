//! What sync last read of a project's Supabase branches, as stored for the
//! Branches page to render from: the branches, the host/port/user/version
//! of each one's database (never its password or JWT secret, which are not
//! even deserialised), the latest workflow run of each branch with its log
//! masked, the git branches' last commits, and the backups. Each part keeps
//! its own problem, so one failed read does not blank the others.

use crate::providers::supabase::{ActionRun, Backups, Branch};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many lines of a run's log are kept (its end: where a failed
/// migration says why).
pub const LOG_LINES: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the branch list was last read successfully.
    pub read_at_ms: i64,
    pub branches: Vec<Branch>,
    /// By branch id.
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
    /// The latest run of each branch, by branch id.
    #[serde(default)]
    pub runs: BTreeMap<String, ActionRun>,
    /// Masked logs, by run id (runs that failed or are in progress).
    #[serde(default)]
    pub logs: BTreeMap<String, RunLog>,
    /// The last commit time of each preview's git branch, by git branch.
    #[serde(default)]
    pub commits: BTreeMap<String, i64>,
    #[serde(default)]
    pub backups: Option<Backups>,
    /// What could not be read in the last pass, by part (`branches`,
    /// `runs`, `backups`, ...), in words.
    #[serde(default)]
    pub problems: BTreeMap<String, String>,
}

/// Where a branch's database answers; what a person needs to connect,
/// without the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub host: String,
    pub port: u32,
    pub user: Option<String>,
    pub postgres_version: String,
}

/// A run's log, masked, and the lines that say why it failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLog {
    pub lines: Vec<String>,
    /// Lines that say why it failed (errors, failed statements).
    pub why: Vec<String>,
    /// Lines left out before `lines` (the log's start).
    pub omitted: usize,
}

impl RunLog {
    /// Masks `text` line by line and keeps its end.
    pub fn from_text(text: &str) -> Self {
        let all: Vec<String> = text.lines().map(crate::mask::mask_line).collect();
        let why = all
            .iter()
            .filter(|l| says_why(l))
            .take(20)
            .cloned()
            .collect();
        let omitted = all.len().saturating_sub(LOG_LINES);
        Self {
            lines: all[omitted..].to_vec(),
            why,
            omitted,
        }
    }
}

/// Whether a log line explains a failure.
fn says_why(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    [
        "error",
        "fatal",
        "failed",
        "failure",
        "at statement",
        "sqlstate",
    ]
    .iter()
    .any(|w| l.contains(w))
}

impl Snapshot {
    /// A stored snapshot, as written by sync.
    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Whether `other` says the same, whenever each was read.
    pub fn same_content(&self, other: &Snapshot) -> bool {
        let Snapshot {
            read_at_ms: _,
            branches,
            connections,
            runs,
            logs,
            commits,
            backups,
            problems,
        } = self;
        *branches == other.branches
            && *connections == other.connections
            && *runs == other.runs
            && *logs == other.logs
            && *commits == other.commits
            && *backups == other.backups
            && *problems == other.problems
    }

    /// Whether a branch is still being created, migrated or deployed: then
    /// sync checks the list more often.
    pub fn working(&self) -> bool {
        self.branches.iter().any(|b| {
            super::layout::phase_of(b) == super::status::BranchPhase::Working
                || self
                    .runs
                    .get(&b.id)
                    .is_some_and(super::layout::run_in_progress)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_keeps_its_end_and_the_lines_that_say_why() {
        let mut text: String = (0..250).map(|i| format!("step {i}\n")).collect();
        text.push_str("ERROR: relation \"x\" does not exist\nMigration failed: 1.sql\n");
        let log = RunLog::from_text(&text);
        assert_eq!(log.lines.len(), LOG_LINES);
        assert_eq!(log.omitted, 52);
        assert_eq!(log.lines.last().unwrap(), "Migration failed: 1.sql");
        assert_eq!(log.why.len(), 2);
    }

    #[test]
    fn the_same_content_read_at_another_time_is_no_change() {
        let a = Snapshot {
            read_at_ms: 1,
            ..Default::default()
        };
        let mut b = Snapshot {
            read_at_ms: 2,
            ..Default::default()
        };
        assert!(a.same_content(&b));
        b.problems.insert("runs".into(), "down".into());
        assert!(!a.same_content(&b));
    }
}
