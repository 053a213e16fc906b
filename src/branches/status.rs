//! A branch carries two statuses: its own `status` (the migrations and
//! functions workflow) and `preview_project_status` (the branch's database
//! project). Every value Supabase's API description lists is named here;
//! anything else is kept as written and never taken as finished, so a value
//! Supabase adds later shows as "not recognised" instead of as healthy.

use std::fmt;

/// The branch's workflow status, as `BranchResponse.status` enumerates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchStatus {
    CreatingProject,
    RunningMigrations,
    MigrationsPassed,
    MigrationsFailed,
    FunctionsDeployed,
    FunctionsFailed,
    Other(String),
}

impl BranchStatus {
    pub fn parse(text: &str) -> Self {
        match text {
            "CREATING_PROJECT" => Self::CreatingProject,
            "RUNNING_MIGRATIONS" => Self::RunningMigrations,
            "MIGRATIONS_PASSED" => Self::MigrationsPassed,
            "MIGRATIONS_FAILED" => Self::MigrationsFailed,
            "FUNCTIONS_DEPLOYED" => Self::FunctionsDeployed,
            "FUNCTIONS_FAILED" => Self::FunctionsFailed,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn words(&self) -> String {
        match self {
            Self::CreatingProject => "Creating its database".into(),
            Self::RunningMigrations => "Running migrations".into(),
            Self::MigrationsPassed => "Migrations applied".into(),
            Self::MigrationsFailed => "Migrations failed".into(),
            Self::FunctionsDeployed => "Edge functions deployed".into(),
            Self::FunctionsFailed => "Edge functions failed to deploy".into(),
            Self::Other(raw) => format!("Status not recognised ({raw})"),
        }
    }
}

/// The branch's database project, as `preview_project_status` enumerates it
/// (the same fifteen values as a project's own status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectStatus {
    Inactive,
    ActiveHealthy,
    ActiveUnhealthy,
    ComingUp,
    Unknown,
    GoingDown,
    InitFailed,
    Removed,
    Restoring,
    Upgrading,
    Pausing,
    RestoreFailed,
    Restarting,
    PauseFailed,
    Resizing,
    Other(String),
}

impl ProjectStatus {
    pub const ALL: [&'static str; 15] = [
        "INACTIVE",
        "ACTIVE_HEALTHY",
        "ACTIVE_UNHEALTHY",
        "COMING_UP",
        "UNKNOWN",
        "GOING_DOWN",
        "INIT_FAILED",
        "REMOVED",
        "RESTORING",
        "UPGRADING",
        "PAUSING",
        "RESTORE_FAILED",
        "RESTARTING",
        "PAUSE_FAILED",
        "RESIZING",
    ];

    pub fn parse(text: &str) -> Self {
        match text {
            "INACTIVE" => Self::Inactive,
            "ACTIVE_HEALTHY" => Self::ActiveHealthy,
            "ACTIVE_UNHEALTHY" => Self::ActiveUnhealthy,
            "COMING_UP" => Self::ComingUp,
            "UNKNOWN" => Self::Unknown,
            "GOING_DOWN" => Self::GoingDown,
            "INIT_FAILED" => Self::InitFailed,
            "REMOVED" => Self::Removed,
            "RESTORING" => Self::Restoring,
            "UPGRADING" => Self::Upgrading,
            "PAUSING" => Self::Pausing,
            "RESTORE_FAILED" => Self::RestoreFailed,
            "RESTARTING" => Self::Restarting,
            "PAUSE_FAILED" => Self::PauseFailed,
            "RESIZING" => Self::Resizing,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn words(&self) -> String {
        match self {
            Self::Inactive => "Paused".into(),
            Self::ActiveHealthy => "Healthy".into(),
            Self::ActiveUnhealthy => "Running but unhealthy".into(),
            Self::ComingUp => "Starting up".into(),
            Self::Unknown => "Supabase does not know its state".into(),
            Self::GoingDown => "Shutting down".into(),
            Self::InitFailed => "Failed to start".into(),
            Self::Removed => "Removed".into(),
            Self::Restoring => "Restoring from a backup".into(),
            Self::Upgrading => "Upgrading".into(),
            Self::Pausing => "Pausing".into(),
            Self::RestoreFailed => "Restore failed".into(),
            Self::Restarting => "Restarting".into(),
            Self::PauseFailed => "Pause failed".into(),
            Self::Resizing => "Resizing its compute".into(),
            Self::Other(raw) => format!("Status not recognised ({raw})"),
        }
    }
}

/// Where a branch stands, from both statuses together: what the page colours
/// and what decides whether it is still watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchPhase {
    /// Something is under way: watch it (and flag it when it takes too long).
    Working,
    /// Usable: migrations applied and the database healthy.
    Ready,
    /// A step failed or the database is unhealthy; a person has to act.
    Failed,
    /// Paused or removed: nothing will change by itself.
    Stopped,
    /// A value Greenroom does not recognise, or Supabase's own UNKNOWN:
    /// never shown as fine, never taken as finished.
    Unknown,
}

impl BranchPhase {
    /// Both statuses, read together. `preview` is absent for the production
    /// branch, whose database is the project itself.
    pub fn of(status: &BranchStatus, preview: Option<&ProjectStatus>) -> Self {
        use ProjectStatus as P;
        let workflow = match status {
            BranchStatus::MigrationsFailed | BranchStatus::FunctionsFailed => return Self::Failed,
            BranchStatus::CreatingProject | BranchStatus::RunningMigrations => Self::Working,
            BranchStatus::MigrationsPassed | BranchStatus::FunctionsDeployed => Self::Ready,
            BranchStatus::Other(_) => Self::Unknown,
        };
        let project = match preview {
            None | Some(P::ActiveHealthy) => Self::Ready,
            Some(P::InitFailed | P::RestoreFailed | P::PauseFailed | P::ActiveUnhealthy) => {
                return Self::Failed
            }
            Some(
                P::ComingUp
                | P::GoingDown
                | P::Restoring
                | P::Upgrading
                | P::Pausing
                | P::Restarting
                | P::Resizing,
            ) => Self::Working,
            Some(P::Inactive | P::Removed) => Self::Stopped,
            Some(P::Unknown | P::Other(_)) => Self::Unknown,
        };
        match (workflow, project) {
            (Self::Working, _) | (_, Self::Working) => Self::Working,
            (Self::Unknown, _) | (_, Self::Unknown) => Self::Unknown,
            (_, Self::Stopped) => Self::Stopped,
            _ => Self::Ready,
        }
    }

    /// Whether the branch has come to rest: nothing will change by itself,
    /// so it need not be polled more often (in progress and unknown phases
    /// are not settled).
    pub fn settled(self) -> bool {
        !matches!(self, Self::Working | Self::Unknown)
    }
}

impl fmt::Display for BranchPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Working => "in progress",
            Self::Ready => "ready",
            Self::Failed => "needs attention",
            Self::Stopped => "stopped",
            Self::Unknown => "unknown",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_value_has_its_own_words() {
        let mut seen = std::collections::HashSet::new();
        for raw in ProjectStatus::ALL {
            let status = ProjectStatus::parse(raw);
            assert!(!matches!(status, ProjectStatus::Other(_)), "{raw}");
            assert!(seen.insert(status.words()), "{raw} shares its words");
        }
        assert_eq!(
            ProjectStatus::parse("HIBERNATING").words(),
            "Status not recognised (HIBERNATING)"
        );
    }

    /// Every value the vendored API description lists is named, so a
    /// description update that adds one fails here until it has words.
    #[test]
    fn every_value_of_the_api_description_is_recognised() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../specs/supabase-management-openapi.json"))
                .unwrap();
        let branch = &spec["components"]["schemas"]["BranchResponse"]["properties"];
        let values = |v: &serde_json::Value| -> Vec<String> {
            v["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect()
        };
        let statuses = values(&branch["status"]);
        assert_eq!(statuses.len(), 6);
        for s in statuses {
            assert!(
                !matches!(BranchStatus::parse(&s), BranchStatus::Other(_)),
                "{s}"
            );
        }
        let projects = values(&branch["preview_project_status"]);
        assert_eq!(projects.len(), ProjectStatus::ALL.len());
        for s in projects {
            assert!(
                !matches!(ProjectStatus::parse(&s), ProjectStatus::Other(_)),
                "{s}"
            );
        }
    }

    #[test]
    fn a_failure_in_either_status_wins_and_work_in_either_keeps_it_watched() {
        let healthy = ProjectStatus::ActiveHealthy;
        let phase = |s: &str, p: Option<&str>| {
            BranchPhase::of(
                &BranchStatus::parse(s),
                p.map(ProjectStatus::parse).as_ref(),
            )
        };
        assert_eq!(
            phase("MIGRATIONS_FAILED", Some("COMING_UP")),
            BranchPhase::Failed
        );
        assert_eq!(
            phase("RUNNING_MIGRATIONS", Some("INIT_FAILED")),
            BranchPhase::Failed
        );
        assert_eq!(
            phase("CREATING_PROJECT", Some("COMING_UP")),
            BranchPhase::Working
        );
        assert_eq!(
            phase("MIGRATIONS_PASSED", Some("RESIZING")),
            BranchPhase::Working
        );
        assert_eq!(
            phase("FUNCTIONS_DEPLOYED", Some("ACTIVE_HEALTHY")),
            BranchPhase::Ready
        );
        assert_eq!(phase("MIGRATIONS_PASSED", None), BranchPhase::Ready);
        assert_eq!(
            phase("FUNCTIONS_DEPLOYED", Some("INACTIVE")),
            BranchPhase::Stopped
        );
        assert_eq!(
            phase("FUNCTIONS_DEPLOYED", Some("UNKNOWN")),
            BranchPhase::Unknown
        );
        assert_eq!(
            phase("QUEUED", Some("ACTIVE_HEALTHY")),
            BranchPhase::Unknown
        );
        assert!(!BranchPhase::Unknown.settled());
        assert!(!BranchPhase::Working.settled());
        assert!(BranchPhase::of(&BranchStatus::FunctionsDeployed, Some(&healthy)).settled());
    }
}
