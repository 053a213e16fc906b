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
        self.branches.iter().any(|b| {
            super::layout::phase_of(b) == super::status::BranchPhase::Working
                || self
                    .runs
                    .get(&b.id)
                    .is_some_and(super::layout::run_in_progress)
        })
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
/// `jwt_secret: …`, `password = …`, `?password=…` in a query), the word
/// after `Bearer`, and tokens that look like credentials.
pub fn mask_line(line: &str) -> String {
    let line = line.replace('\t', " ");
    let mut out = Vec::new();
    let mut mask_next = false;
    let mut previous = "";
    for word in line.split(' ') {
        if word.is_empty() {
            out.push(String::new());
            continue;
        }
        let bearer = |w: &str| {
            matches!(
                w.trim_matches(|c: char| "\"'`,;()[]{}".contains(c))
                    .to_ascii_lowercase()
                    .as_str(),
                "bearer" | "basic" | "token"
            )
        };
        if mask_next {
            if bearer(word) {
                // `Authorization: Bearer x`: the scheme stays, x goes.
                out.push(word.to_string());
            } else {
                out.push(MASK.to_string());
                mask_next = false;
            }
            previous = word;
            continue;
        }
        out.push(mask_word(word));
        let bare = word.trim_matches(|c: char| "\"'`,;()[]{}".contains(c));
        let key = bare.trim_end_matches([':', '=']);
        mask_next = ((bare.ends_with(':') || bare.ends_with('=')) && secret_key(key))
            || (matches!(bare, "=" | ":") && secret_key(previous))
            || matches!(bare.to_ascii_lowercase().as_str(), "bearer" | "basic");
        previous = bare;
    }
    out.join(" ")
}

fn mask_word(word: &str) -> String {
    // postgres://user:password@host → postgres://user:••••••@host
    let word = match word.find("://") {
        Some(scheme_end) => {
            let rest = &word[scheme_end + 3..];
            let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => {
                    let userinfo = &rest[..at];
                    match userinfo.find(':') {
                        Some(colon) => format!(
                            "{}{}:{MASK}{}",
                            &word[..scheme_end + 3],
                            &userinfo[..colon],
                            &rest[at..]
                        ),
                        None => word.to_string(),
                    }
                }
                None => word.to_string(),
            }
        }
        None => word.to_string(),
    };
    // key=value pairs, also inside a query string (`?a=1&password=x`).
    let mut out = String::with_capacity(word.len());
    for piece in word.split_inclusive(['&', '?', ';', ',']) {
        let (body, sep) = match piece.char_indices().last() {
            Some((i, c)) if "&?;,".contains(c) => (&piece[..i], &piece[i..]),
            _ => (piece, ""),
        };
        let masked = ['=', ':'].iter().find_map(|&d| {
            let i = body.find(d)?;
            let (key, value) = (&body[..i], &body[i + 1..]);
            (!value.is_empty() && !value.starts_with("//") && secret_key(key))
                .then(|| format!("{key}{d}{MASK}"))
        });
        out.push_str(masked.as_deref().unwrap_or(body));
        out.push_str(sep);
    }
    if looks_secret(&out) {
        return MASK.to_string();
    }
    out
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
            ("Authorization: Bearer abc.def", "Authorization: Bearer ••••••"),
            ("password = hunter2", "password = ••••••"),
            (
                "url postgres://db/x?sslmode=require&password=hunter2 ok",
                "url postgres://db/x?sslmode=require&password=•••••• ok",
            ),
            ("SECRET:\tvalue1", "SECRET: ••••••"),
            (
                "Waiting for postgresql://postgres:sandbox-db-pass-abc@db.abc.supabase.co:5432/postgres to accept",
                "Waiting for postgresql://postgres:••••••@db.abc.supabase.co:5432/postgres to accept",
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
