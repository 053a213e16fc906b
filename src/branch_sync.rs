//! Reads a project's Supabase branches into a [`Snapshot`] for the Branches
//! page: on each full sync pass the whole of it (branches, their database
//! details, runs and logs, the git branches' last commits, backups), and
//! between passes, while a branch is being created or migrated, the list
//! and runs alone. Each part that fails keeps what was read before and
//! says why; nothing of a branch's password or JWT secret is read.

use crate::branches::layout::phase_of as phase;
use crate::branches::status::BranchPhase;
use crate::branches::{AttentionRules, Connection, RunLog, Snapshot};
use crate::providers::github::Repo;
use crate::providers::supabase::ActionRun;
use crate::providers::{ProviderError, VendorClients};
use crate::text::parse_ms;
use std::collections::BTreeMap;

/// Database details fetched per pass at most (one call each, once per branch).
const CONFIGS_PER_PASS: usize = 10;
/// Run logs fetched per pass at most.
const LOGS_PER_PASS: usize = 10;
/// Git branches whose last commit is read per pass at most.
const COMMITS_PER_PASS: usize = 10;

/// The latest run of each branch, by branch id.
fn latest_runs(runs: Vec<ActionRun>) -> BTreeMap<String, ActionRun> {
    let mut out: BTreeMap<String, ActionRun> = BTreeMap::new();
    for r in runs {
        let newer = out.get(&r.branch_id).is_none_or(|old| {
            parse_ms(&r.created_at).unwrap_or(0) >= parse_ms(&old.created_at).unwrap_or(0)
        });
        if newer {
            out.insert(r.branch_id.clone(), r);
        }
    }
    out
}

/// The branch list and the latest runs (and the logs of runs that changed
/// on a branch that failed or is still working): the quick part, also
/// read between full passes while something is in progress. Also answers
/// the error that kept the branch list itself from being read, if any.
pub async fn read_quick(
    clients: &VendorClients,
    project_ref: &str,
    previous: &Snapshot,
    now_ms: i64,
) -> (Snapshot, Option<ProviderError>) {
    let mut s = previous.clone();
    match clients.supabase.list_branches(project_ref).await {
        Ok(list) => {
            s.branches = list;
            s.read_at_ms = now_ms;
            s.problems.remove("branches");
            let ids: std::collections::HashSet<&str> =
                s.branches.iter().map(|b| b.id.as_str()).collect();
            s.connections.retain(|id, _| ids.contains(id.as_str()));
        }
        Err(e) => {
            s.problems.insert(
                "branches".into(),
                format!("The branch list could not be read: {e}"),
            );
            return (s, Some(e));
        }
    }
    match clients.supabase.list_action_runs(project_ref).await {
        Ok(runs) => {
            s.runs = latest_runs(runs);
            s.problems.remove("runs");
        }
        Err(e) => {
            s.problems.insert(
                "runs".into(),
                format!("The branches' action runs could not be read: {e}"),
            );
        }
    }
    let mut fetched = 0;
    let mut logs = BTreeMap::new();
    for b in &s.branches {
        let Some(run) = s.runs.get(&b.id) else {
            continue;
        };
        let p = phase(b);
        if !matches!(p, BranchPhase::Failed | BranchPhase::Working) {
            continue;
        }
        let unchanged = previous
            .runs
            .get(&b.id)
            .is_some_and(|old| old.id == run.id && old.updated_at == run.updated_at);
        match previous.logs.get(&run.id) {
            Some(log) if unchanged || fetched >= LOGS_PER_PASS => {
                logs.insert(run.id.clone(), log.clone());
                continue;
            }
            _ if fetched >= LOGS_PER_PASS => continue,
            _ => {}
        }
        fetched += 1;
        match clients
            .supabase
            .get_action_run_logs(project_ref, &run.id)
            .await
        {
            Ok(text) => {
                logs.insert(run.id.clone(), RunLog::from_text(&text));
            }
            Err(e) => {
                if let Some(log) = previous.logs.get(&run.id) {
                    logs.insert(run.id.clone(), log.clone());
                }
                s.problems
                    .insert("logs".into(), format!("A run's log could not be read: {e}"));
            }
        }
    }
    s.logs = logs;
    (s, None)
}

/// Everything: the quick part, then each new branch's database details,
/// the last commit of old previews' git branches, and the backups.
pub async fn read_full(
    clients: &VendorClients,
    project_ref: &str,
    repo: &Repo,
    rules: &AttentionRules,
    previous: &Snapshot,
    now_ms: i64,
) -> (Snapshot, Option<ProviderError>) {
    let (mut s, list_error) = read_quick(clients, project_ref, previous, now_ms).await;
    let missing: Vec<String> = s
        .branches
        .iter()
        .filter(|b| b.deletion_scheduled_at.is_none() && !s.connections.contains_key(&b.id))
        .filter(|b| phase(b) != BranchPhase::Working || b.is_default)
        .map(|b| b.id.clone())
        .take(CONFIGS_PER_PASS)
        .collect();
    s.problems.remove("connections");
    for id in missing {
        match clients.supabase.get_branch_config(&id).await {
            Ok(d) => {
                s.connections.insert(
                    id,
                    Connection {
                        host: d.db_host,
                        port: d.db_port,
                        user: d.db_user,
                        postgres_version: d.postgres_version,
                    },
                );
            }
            Err(e) => {
                s.problems.insert(
                    "connections".into(),
                    format!("A branch's connection details could not be read: {e}"),
                );
            }
        }
    }
    let old_previews: Vec<String> = s
        .branches
        .iter()
        .filter(|b| !b.is_default && !b.persistent)
        .filter(|b| {
            parse_ms(&b.created_at).is_some_and(|c| now_ms - c > rules.stale_preview_after_ms)
        })
        .filter_map(|b| b.git_branch.clone())
        .take(COMMITS_PER_PASS)
        .collect();
    let mut commits = BTreeMap::new();
    s.problems.remove("commits");
    for git in old_previews {
        match clients.github.get_branch(repo, &git).await {
            Ok(head) => {
                if let Some(at) = head
                    .commit
                    .commit
                    .author
                    .and_then(|a| a.date)
                    .and_then(|d| parse_ms(&d))
                {
                    commits.insert(git, at);
                }
            }
            // The git branch is gone (merged and deleted): no new commits.
            Err(e) if matches!(e.kind, crate::providers::ErrorKind::NotFound { .. }) => {
                commits.insert(git, 0);
            }
            Err(e) => {
                if let Some(at) = previous.commits.get(&git) {
                    commits.insert(git.clone(), *at);
                }
                s.problems.insert(
                    "commits".into(),
                    format!("The last commit of git branch {git} could not be read: {e}"),
                );
            }
        }
    }
    s.commits = commits;
    match clients.supabase.list_backups(project_ref).await {
        Ok(b) => {
            s.backups = Some(b);
            s.problems.remove("backups");
        }
        Err(e) => {
            s.problems.insert(
                "backups".into(),
                format!("The backups could not be read: {e}"),
            );
        }
    }
    (s, list_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, branch: &str, at: &str) -> ActionRun {
        ActionRun {
            id: id.into(),
            branch_id: branch.into(),
            run_steps: vec![],
            created_at: at.into(),
            updated_at: at.into(),
        }
    }

    #[test]
    fn each_branch_keeps_its_newest_run() {
        let latest = latest_runs(vec![
            run("r1", "b1", "2026-12-01T10:00:00Z"),
            run("r2", "b1", "2026-12-02T10:00:00Z"),
            run("r3", "b2", "2026-12-01T10:00:00Z"),
            run("r0", "b1", "2026-11-30T10:00:00Z"),
        ]);
        assert_eq!(latest["b1"].id, "r2");
        assert_eq!(latest["b2"].id, "r3");
    }
}
