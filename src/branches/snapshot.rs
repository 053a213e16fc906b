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
        let all: Vec<String> = text.lines().map(mask_line).collect();
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

    /// Whether a branch is still being created, migrated or deployed: then
    /// sync checks the list more often.
    pub fn working(&self) -> bool {
        self.branches
            .iter()
            .any(|b| super::layout::phase_of(b) == super::status::BranchPhase::Working)
    }
}

const MASK: &str = "••••••";

/// Words whose value (after `=` or `:`) is a secret.
fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "pass",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "jwt",
        "auth",
        "credential",
        "private",
        "service_role",
        "anon_key",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// A token that looks like a credential on its own: a JWT, a Supabase or
/// Stripe-style key, or a long run of mixed letters and digits.
fn looks_secret(word: &str) -> bool {
    let w = word.trim_matches(|c: char| "\"'`,;()[]{}<>".contains(c));
    if w.starts_with("eyJ") && w.matches('.').count() >= 2 {
        return true;
    }
    if [
        "sbp_",
        "sb_secret_",
        "sb_publishable_",
        "sk_live_",
        "sk_test_",
        "ghp_",
        "github_pat_",
    ]
    .iter()
    .any(|p| w.starts_with(p))
    {
        return true;
    }
    let body = w
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c));
    let digits = w.chars().filter(char::is_ascii_digit).count();
    let letters = w.chars().filter(char::is_ascii_alphabetic).count();
    body && w.len() >= 32 && digits >= 4 && letters >= 8
}

/// One log line with anything secret in it replaced: passwords in
/// connection strings, values of secret-named keys (`PASSWORD=…`,
/// `jwt_secret: …`), and tokens that look like credentials.
pub fn mask_line(line: &str) -> String {
    let mut out = Vec::new();
    let mut mask_next = false;
    for word in line.split(' ') {
        if mask_next && !word.is_empty() {
            out.push(MASK.to_string());
            mask_next = false;
            continue;
        }
        out.push(mask_word(word));
        let key = word.trim_end_matches([':', '=']);
        if (word.ends_with(':') || word.ends_with('=')) && secret_key(key) {
            mask_next = true;
        }
    }
    out.join(" ")
}

fn mask_word(word: &str) -> String {
    // postgres://user:password@host → postgres://user:••••••@host
    if let Some(scheme_end) = word.find("://") {
        let rest = &word[scheme_end + 3..];
        if let Some(at) = rest.rfind('@') {
            let userinfo = &rest[..at];
            if let Some(colon) = userinfo.find(':') {
                return format!(
                    "{}{}:{MASK}{}",
                    &word[..scheme_end + 3],
                    &userinfo[..colon],
                    &rest[at..]
                );
            }
        }
    }
    for sep in ['=', ':'] {
        if let Some(i) = word.find(sep) {
            let (key, value) = (&word[..i], &word[i + 1..]);
            if !value.is_empty() && !value.starts_with("//") && secret_key(key) {
                return format!("{key}{sep}{MASK}");
            }
        }
    }
    if looks_secret(word) {
        return MASK.to_string();
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_log_line_are_masked_and_the_rest_kept() {
        let cases = [
            (
                "connecting to postgresql://postgres:hunter2xyz@db.abc.supabase.co:5432/postgres",
                "connecting to postgresql://postgres:••••••@db.abc.supabase.co:5432/postgres",
            ),
            (
                "PGPASSWORD=s3cr3t-value psql -h db",
                "PGPASSWORD=•••••• psql -h db",
            ),
            ("jwt_secret: abcdefghijklmnop", "jwt_secret: ••••••"),
            ("db_pass=sandbox-db-pass-x", "db_pass=••••••"),
            (
                "key eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl used",
                "key •••••• used",
            ),
            ("token sbp_0123456789abcdef now", "token •••••• now"),
            (
                "ERROR: relation \"public.accounts\" does not exist (SQLSTATE 42P01)",
                "ERROR: relation \"public.accounts\" does not exist (SQLSTATE 42P01)",
            ),
            (
                "Applying migration 20261201093000_add_invoices.sql...",
                "Applying migration 20261201093000_add_invoices.sql...",
            ),
            (
                "see https://supabase.com/docs",
                "see https://supabase.com/docs",
            ),
        ];
        for (raw, masked) in cases {
            assert_eq!(mask_line(raw), masked, "{raw}");
        }
    }

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
}
