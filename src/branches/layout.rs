//! How the Branches page arranges what Supabase answers: which section a
//! branch belongs in (as Supabase's dashboard groups them), which branches
//! are billed as branch compute, what a run step's container state means,
//! and which step of a run failed.

use super::status::{BranchPhase, BranchStatus, ProjectStatus};
use crate::providers::supabase::{ActionRun, Branch};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// The default branch: the project itself.
    Production,
    Persistent,
    Preview,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Production, Section::Persistent, Section::Preview];

    pub fn of(b: &Branch) -> Self {
        if b.is_default {
            Self::Production
        } else if b.persistent {
            Self::Persistent
        } else {
            Self::Preview
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Persistent => "persistent",
            Self::Preview => "preview",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Production => "Production branch",
            Self::Persistent => "Persistent branches",
            Self::Preview => "Preview branches",
        }
    }

    /// What an empty section means.
    pub fn empty(self) -> &'static str {
        match self {
            Self::Production => {
                "Supabase lists no production branch: branching may not be enabled on this project."
            }
            Self::Persistent => {
                "No persistent branch. Persistent branches stay until deleted (staging, QA)."
            }
            Self::Preview => "No preview branch. Preview branches come and go with pull requests.",
        }
    }
}

/// The branch's phase from its two statuses.
pub fn phase_of(b: &Branch) -> BranchPhase {
    let preview = b
        .preview_project_status
        .as_deref()
        .map(ProjectStatus::parse);
    BranchPhase::of(&BranchStatus::parse(&b.status), preview.as_ref())
}

/// Whether the branch runs billed branch compute now: every branch but the
/// production one (the project's own compute), unless it is paused.
pub fn billed(b: &Branch) -> bool {
    !b.is_default && phase_of(b) != BranchPhase::Stopped
}

/// Whether a workflow run is still going: a step runs, or steps wait and
/// none has died (after a failed step, the rest never start).
pub fn run_in_progress(run: &ActionRun) -> bool {
    let steps = &run.run_steps;
    steps
        .iter()
        .any(|s| matches!(s.status.as_str(), "RUNNING" | "RESTARTING"))
        || (steps.iter().any(|s| s.status == "CREATED")
            && !steps.iter().any(|s| s.status == "DEAD"))
}

/// A run step's container state in words.
pub fn step_words(status: &str) -> String {
    match status {
        "CREATED" => "waiting".into(),
        "RUNNING" => "running".into(),
        "EXITED" => "finished".into(),
        "DEAD" => "failed".into(),
        "PAUSED" => "paused".into(),
        "REMOVING" => "being removed".into(),
        "RESTARTING" => "restarting".into(),
        other => format!("not recognised ({other})"),
    }
}

/// The step of `run` that failed: one whose container died, else (for a
/// branch whose migrations failed) the migrate step.
pub fn failed_step(run: &ActionRun, status: &BranchStatus) -> Option<String> {
    if let Some(s) = run.run_steps.iter().find(|s| s.status == "DEAD") {
        return Some(s.name.clone());
    }
    let wanted = match status {
        BranchStatus::MigrationsFailed => "migrate",
        BranchStatus::FunctionsFailed => "deploy",
        _ => return None,
    };
    run.run_steps
        .iter()
        .find(|s| s.name == wanted)
        .map(|s| s.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::supabase::RunStep;

    fn branch(is_default: bool, persistent: bool, status: &str, preview: &str) -> Branch {
        Branch {
            id: "b".into(),
            name: "n".into(),
            project_ref: "r".into(),
            parent_project_ref: "p".into(),
            is_default,
            persistent,
            status: status.into(),
            created_at: "2026-12-01T00:00:00Z".into(),
            updated_at: "2026-12-01T00:00:00Z".into(),
            git_branch: None,
            preview_project_status: Some(preview.into()),
            with_data: false,
            pr_number: None,
            review_requested_at: None,
            deletion_scheduled_at: None,
        }
    }

    #[test]
    fn sections_follow_the_dashboard_and_production_is_not_branch_compute() {
        let prod = branch(true, true, "FUNCTIONS_DEPLOYED", "ACTIVE_HEALTHY");
        let staging = branch(false, true, "FUNCTIONS_DEPLOYED", "ACTIVE_HEALTHY");
        let preview = branch(false, false, "RUNNING_MIGRATIONS", "COMING_UP");
        let paused = branch(false, false, "FUNCTIONS_DEPLOYED", "INACTIVE");
        assert_eq!(Section::of(&prod), Section::Production);
        assert_eq!(Section::of(&staging), Section::Persistent);
        assert_eq!(Section::of(&preview), Section::Preview);
        assert!(!billed(&prod));
        assert!(billed(&staging) && billed(&preview));
        assert!(!billed(&paused));
    }

    #[test]
    fn the_failed_step_is_the_dead_one_or_the_one_the_status_names() {
        let step = |name: &str, status: &str| RunStep {
            name: name.into(),
            status: status.into(),
            created_at: String::new(),
            updated_at: String::new(),
        };
        let mut run = ActionRun {
            id: "r".into(),
            branch_id: "b".into(),
            run_steps: vec![step("clone", "EXITED"), step("migrate", "DEAD")],
            created_at: String::new(),
            updated_at: String::new(),
        };
        assert_eq!(
            failed_step(&run, &BranchStatus::RunningMigrations).as_deref(),
            Some("migrate")
        );
        run.run_steps[1].status = "EXITED".into();
        assert_eq!(failed_step(&run, &BranchStatus::FunctionsDeployed), None);
        assert_eq!(
            failed_step(&run, &BranchStatus::MigrationsFailed).as_deref(),
            Some("migrate")
        );
        assert!(!run_in_progress(&run));
        run.run_steps.push(step("seed", "CREATED"));
        assert!(run_in_progress(&run), "a step still waits");
        run.run_steps[1].status = "DEAD".into();
        assert!(
            !run_in_progress(&run),
            "the rest never start after a failure"
        );
        assert_eq!(step_words("DEAD"), "failed");
        assert_eq!(step_words("ZOMBIE"), "not recognised (ZOMBIE)");
    }
}
