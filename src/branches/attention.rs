//! Which branches need a person: one stuck in a step for longer than a limit
//! (branches stuck creating are a known Supabase failure), failed migrations
//! or functions, a database that failed, and preview branches left running
//! while nothing happens on their git branch, with what they have cost.

use super::cost::{usd, PriceTable};
use super::status::{BranchPhase, BranchStatus, ProjectStatus};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionRules {
    /// A branch still in progress after this long is called stuck.
    pub stuck_after_ms: i64,
    /// A preview branch older than this, on a git branch without a commit
    /// for as long, is called forgotten.
    pub stale_preview_after_ms: i64,
}

impl Default for AttentionRules {
    fn default() -> Self {
        Self {
            stuck_after_ms: 20 * MINUTE_MS,
            stale_preview_after_ms: 7 * DAY_MS,
        }
    }
}

/// What attention needs to know of one branch.
#[derive(Debug, Clone, Copy)]
pub struct BranchFacts<'a> {
    pub is_default: bool,
    pub persistent: bool,
    pub status: &'a BranchStatus,
    pub preview: Option<&'a ProjectStatus>,
    pub created_ms: i64,
    /// When the branch's status last changed, as Supabase stamps it.
    pub updated_ms: i64,
    pub git_branch: Option<&'a str>,
    /// The newest commit on `git_branch`, when it could be read.
    pub last_commit_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BranchAttention {
    Stuck { for_ms: i64 },
    MigrationsFailed,
    FunctionsFailed,
    DatabaseFailed { status: String },
    ForgottenPreview { age_ms: i64, cost_usd: Option<f64> },
}

pub fn attention_for(
    facts: &BranchFacts<'_>,
    rules: &AttentionRules,
    prices: &PriceTable,
    now_ms: i64,
) -> Vec<BranchAttention> {
    let mut out = Vec::new();
    let phase = BranchPhase::of(facts.status, facts.preview);
    if phase == BranchPhase::Working && now_ms - facts.updated_ms > rules.stuck_after_ms {
        out.push(BranchAttention::Stuck {
            for_ms: now_ms - facts.updated_ms,
        });
    }
    match facts.status {
        BranchStatus::MigrationsFailed => out.push(BranchAttention::MigrationsFailed),
        BranchStatus::FunctionsFailed => out.push(BranchAttention::FunctionsFailed),
        _ => {}
    }
    if let Some(
        p @ (ProjectStatus::InitFailed
        | ProjectStatus::RestoreFailed
        | ProjectStatus::PauseFailed
        | ProjectStatus::ActiveUnhealthy),
    ) = facts.preview
    {
        out.push(BranchAttention::DatabaseFailed { status: p.words() });
    }
    let age_ms = now_ms - facts.created_ms;
    let quiet = match (facts.git_branch, facts.last_commit_ms) {
        (None, _) => true,
        (Some(_), Some(commit_ms)) => now_ms - commit_ms > rules.stale_preview_after_ms,
        // The git branch could not be read: not called forgotten on a guess.
        (Some(_), None) => false,
    };
    let running = !matches!(phase, BranchPhase::Stopped);
    if !facts.is_default
        && !facts.persistent
        && running
        && age_ms > rules.stale_preview_after_ms
        && quiet
    {
        out.push(BranchAttention::ForgottenPreview {
            age_ms,
            cost_usd: prices.cost_between(facts.created_ms, now_ms),
        });
    }
    out
}

impl BranchAttention {
    pub fn words(&self) -> String {
        match self {
            Self::Stuck { for_ms } => format!(
                "In progress for {} min with no change: Supabase branches can get stuck; check its action runs, then delete and re-create it.",
                for_ms / MINUTE_MS
            ),
            Self::MigrationsFailed => {
                "Migrations failed: the failed step's log says why.".into()
            }
            Self::FunctionsFailed => "Edge functions failed to deploy.".into(),
            Self::DatabaseFailed { status } => format!("Its database: {status}."),
            Self::ForgottenPreview { age_ms, cost_usd } => format!(
                "Preview branch {} days old with no new commits; it has cost {} so far.",
                age_ms / DAY_MS,
                cost_usd.map_or_else(|| "an unknown amount (no price for its size)".into(), usd)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    fn facts<'a>(status: &'a BranchStatus, preview: Option<&'a ProjectStatus>) -> BranchFacts<'a> {
        BranchFacts {
            is_default: false,
            persistent: false,
            status,
            preview,
            created_ms: NOW - 3_600_000,
            updated_ms: NOW - 60_000,
            git_branch: Some("feature/x"),
            last_commit_ms: Some(NOW - 60_000),
        }
    }

    fn check(f: &BranchFacts<'_>) -> Vec<BranchAttention> {
        attention_for(f, &AttentionRules::default(), &PriceTable::default(), NOW)
    }

    #[test]
    fn stuck_only_past_the_limit_and_only_while_in_progress() {
        let creating = BranchStatus::CreatingProject;
        let coming = ProjectStatus::ComingUp;
        let mut f = facts(&creating, Some(&coming));
        assert!(check(&f).is_empty());
        f.updated_ms = NOW - 21 * MINUTE_MS;
        assert_eq!(
            check(&f),
            vec![BranchAttention::Stuck {
                for_ms: 21 * MINUTE_MS
            }]
        );
        let done = BranchStatus::FunctionsDeployed;
        let healthy = ProjectStatus::ActiveHealthy;
        let mut f = facts(&done, Some(&healthy));
        f.updated_ms = NOW - 90 * MINUTE_MS;
        assert!(check(&f).is_empty());
    }

    #[test]
    fn failures_are_named() {
        let failed = BranchStatus::MigrationsFailed;
        let init = ProjectStatus::InitFailed;
        let got = check(&facts(&failed, Some(&init)));
        assert_eq!(
            got,
            vec![
                BranchAttention::MigrationsFailed,
                BranchAttention::DatabaseFailed {
                    status: "Failed to start".into()
                }
            ]
        );
    }

    #[test]
    fn a_quiet_old_preview_is_flagged_with_its_cost_but_not_a_persistent_or_paused_one() {
        let done = BranchStatus::FunctionsDeployed;
        let healthy = ProjectStatus::ActiveHealthy;
        let mut f = facts(&done, Some(&healthy));
        f.created_ms = NOW - 10 * DAY_MS;
        f.last_commit_ms = Some(NOW - 8 * DAY_MS);
        let got = check(&f);
        assert_eq!(got.len(), 1);
        assert!(got[0].words().contains("10 days old"), "{}", got[0].words());
        assert!(got[0].words().contains("$3.23"), "{}", got[0].words());

        f.last_commit_ms = Some(NOW - DAY_MS);
        assert!(check(&f).is_empty(), "a recent commit keeps it");
        f.last_commit_ms = None;
        assert!(check(&f).is_empty(), "an unread git branch is not a reason");
        f.git_branch = None;
        assert_eq!(check(&f).len(), 1, "no git branch: nothing will update it");
        f.persistent = true;
        assert!(check(&f).is_empty());
        f.persistent = false;
        let paused = ProjectStatus::Inactive;
        f.preview = Some(&paused);
        assert!(check(&f).is_empty());
    }
}
