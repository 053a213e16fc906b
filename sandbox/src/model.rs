//! The things the simulated vendors hold. Each carries its *planned* times
//! (when it starts, when each phase ends) rather than a current state: the
//! state a response shows is worked out from the sandbox clock when asked,
//! so time moves without a background task, and advancing the clock moves
//! everything at once. Things planned to appear later (the Netlify deploy a
//! workflow job will make) exist already and stay hidden until their time.

use serde::{Deserialize, Serialize};

/// Whether something planned will succeed; deterministic per seed, or forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

// ---------------------------------------------------------------- Netlify --

/// A Netlify deploy. Phase times are absolute (ms since the epoch): the
/// deploy is `new` from `created_ms`, `enqueued`, `building` from
/// `building_ms`, `processing` from `processing_ms`, and `ready` or `error`
/// from `done_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    pub id: String,
    pub site_id: String,
    pub build_id: String,
    /// `production`, `branch-deploy` or `deploy-preview`.
    pub context: String,
    pub branch: String,
    pub commit_ref: String,
    pub title: String,
    pub created_ms: i64,
    pub building_ms: i64,
    pub processing_ms: i64,
    pub done_ms: i64,
    pub outcome: Outcome,
    /// Shown when the outcome is a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_id: Option<u64>,
    /// Set by `POST /deploys/{id}/cancel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_ms: Option<i64>,
    /// Set by a restore: when this deploy was published again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_ms: Option<i64>,
    #[serde(default)]
    pub locked: bool,
}

/// Netlify's deploy states as a deploy passes through them.
pub const DEPLOY_STATES: &[&str] = &[
    "new",
    "enqueued",
    "building",
    "processing",
    "ready",
    "error",
];

impl Deploy {
    /// The state at `now`, and the error message if it failed.
    pub fn state_at(&self, now: i64) -> (&'static str, Option<String>) {
        if let Some(c) = self.cancelled_ms {
            if c <= now && c < self.done_ms {
                return ("error", Some("Canceled build".into()));
            }
        }
        if now >= self.done_ms {
            return match self.outcome {
                Outcome::Success => ("ready", None),
                Outcome::Failure => {
                    (
                        "error",
                        Some(self.error_message.clone().unwrap_or_else(|| {
                            "Build script returned non-zero exit code: 2".into()
                        })),
                    )
                }
            };
        }
        if now >= self.processing_ms {
            ("processing", None)
        } else if now >= self.building_ms {
            ("building", None)
        } else if now >= self.created_ms + (self.building_ms - self.created_ms) / 3 {
            ("enqueued", None)
        } else {
            ("new", None)
        }
    }

    pub fn visible_at(&self, now: i64) -> bool {
        self.created_ms <= now
    }

    /// When it became ready, if it has.
    pub fn ready_at(&self, now: i64) -> Option<i64> {
        (self.state_at(now).0 == "ready").then_some(self.done_ms)
    }

    pub fn finished_at(&self, now: i64) -> Option<i64> {
        match self.state_at(now).0 {
            "ready" => Some(self.done_ms),
            "error" => Some(self.cancelled_ms.unwrap_or(self.done_ms).min(self.done_ms)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvValue {
    /// `all`, `dev`, `branch-deploy`, `deploy-preview`, `production` or `branch`.
    pub context: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_parameter: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub site_id: String,
    pub key: String,
    #[serde(default)]
    pub is_secret: bool,
    pub values: Vec<EnvValue>,
    /// `builds`, `functions`, `runtime`, `post-processing`; absent = all four.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    pub updated_ms: i64,
    /// The full name of whoever last changed it, as Netlify reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// Netlify's scopes for env vars.
pub const ENV_SCOPES: &[&str] = &["builds", "functions", "runtime", "post-processing"];
/// Netlify's contexts for env var values.
pub const ENV_CONTEXTS: &[&str] = &[
    "all",
    "dev",
    "dev-server",
    "branch-deploy",
    "deploy-preview",
    "production",
    "branch",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildHook {
    pub id: String,
    pub site_id: String,
    pub title: String,
    pub branch: String,
    pub created_ms: i64,
}

// ----------------------------------------------------------------- GitHub --

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    pub started_ms: i64,
    pub completed_ms: i64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub id: u64,
    pub name: String,
    pub runner: String,
    /// Steps in order; a job whose steps are empty never ran (skipped).
    pub steps: Vec<Step>,
}

/// Status and conclusion of something with planned steps, at `now`.
pub fn progress(steps: &[Step], cancelled_ms: Option<i64>, now: i64) -> Progress {
    let (Some(first), Some(last)) = (steps.first(), steps.last()) else {
        return Progress::Completed("skipped");
    };
    if let Some(c) = cancelled_ms {
        if c <= now && c < last.completed_ms {
            return Progress::Completed("cancelled");
        }
    }
    if now < first.started_ms {
        return Progress::Queued;
    }
    if now < last.completed_ms {
        return Progress::InProgress;
    }
    if steps.iter().any(|s| s.outcome == Outcome::Failure) {
        Progress::Completed("failure")
    } else {
        Progress::Completed("success")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Queued,
    InProgress,
    Completed(&'static str),
}

impl Progress {
    pub fn status(self) -> &'static str {
        match self {
            Progress::Queued => "queued",
            Progress::InProgress => "in_progress",
            Progress::Completed(_) => "completed",
        }
    }

    pub fn conclusion(self) -> Option<&'static str> {
        match self {
            Progress::Completed(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// Whether the smoke tests inside passed (shapes the JUnit XML and log).
    pub smoke_passed: bool,
    /// What the zip holds: the smoke results, or a hostile archive planted
    /// for the tests (`POST /__sandbox/artifacts`).
    #[serde(default, skip_serializing_if = "ArtifactShape::is_smoke")]
    pub shape: ArtifactShape,
}

/// The shapes of archive the sandbox can serve as an artifact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactShape {
    /// JUnit reports, logs, screenshots, an HTML report, nested folders.
    #[default]
    Smoke,
    /// An entry whose path climbs out of the archive (`../`).
    ZipSlip,
    /// An entry that is a symbolic link.
    Symlink,
    /// A small file that inflates far over the ratio cap.
    Bomb,
    /// An archive inside the archive.
    Nested,
    /// Bytes that are not a zip at all.
    NotZip,
}

impl ArtifactShape {
    pub fn is_smoke(&self) -> bool {
        *self == Self::Smoke
    }
}

/// One attempt of a run of the workflow. A re-run replaces the jobs with a
/// new plan and counts up `run_attempt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    pub id: u64,
    pub run_number: u64,
    pub run_attempt: u32,
    /// `push` or `workflow_dispatch`.
    pub event: String,
    pub branch: String,
    pub head_sha: String,
    pub title: String,
    pub actor: String,
    pub created_ms: i64,
    pub jobs: Vec<Job>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_ms: Option<i64>,
}

impl Run {
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.jobs.iter().flat_map(|j| j.steps.iter())
    }

    pub fn progress(&self, now: i64) -> Progress {
        let jobs: Vec<Progress> = self
            .jobs
            .iter()
            .map(|j| progress(&j.steps, self.cancelled_ms, now))
            .collect();
        if let Some(c) = self.cancelled_ms {
            if c <= now
                && jobs
                    .iter()
                    .any(|p| matches!(p, Progress::Completed("cancelled")))
            {
                return Progress::Completed("cancelled");
            }
        }
        if jobs.iter().all(|p| *p == Progress::Queued) {
            return Progress::Queued;
        }
        if jobs
            .iter()
            .any(|p| matches!(p, Progress::Queued | Progress::InProgress))
        {
            return Progress::InProgress;
        }
        if jobs.contains(&Progress::Completed("failure")) {
            Progress::Completed("failure")
        } else {
            Progress::Completed("success")
        }
    }

    /// When the last step ended (or will).
    pub fn updated_ms(&self, now: i64) -> i64 {
        self.steps()
            .flat_map(|s| [s.started_ms, s.completed_ms])
            .filter(|t| *t <= now)
            .max()
            .unwrap_or(self.created_ms)
            .max(self.created_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    pub sha: String,
    pub branch: String,
    pub message: String,
    pub author: String,
    pub at_ms: i64,
}

/// A secret's name and dates; the sandbox, like GitHub, has no value to give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretName {
    pub name: String,
    /// `repo`, `org`, or an environment's name.
    pub scope: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    pub value: String,
    /// `repo` or an environment's name.
    pub scope: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoFile {
    pub path: String,
    pub content: String,
}

// --------------------------------------------------------------- Supabase --

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub id: String,
    pub name: String,
    /// The branch's own project ref.
    pub project_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub persistent: bool,
    #[serde(default)]
    pub with_data: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_number: Option<u32>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// When a delete asked for goes through; until then the branch is
    /// listed with `deletion_scheduled_at` and can be restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_ms: Option<i64>,
    /// When its latest workflow (create, reset, push) began; 0 in worlds
    /// written before runs were kept, read as `created_ms`.
    #[serde(default)]
    pub run_started_ms: i64,
    /// CREATING_PROJECT until this, then RUNNING_MIGRATIONS until `done_ms`.
    pub migrations_ms: i64,
    pub done_ms: i64,
    pub outcome: Outcome,
    /// Migrations pass but the edge functions fail to deploy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub functions_fail: bool,
}

/// What the next branch made does, when a test forces it
/// (`POST /__sandbox/supabase {"next_branch": ...}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchFault {
    /// Stays CREATING_PROJECT (a known Supabase failure).
    Stuck,
    /// Migrations fail.
    MigrationsFailed,
    /// Migrations pass, edge functions fail.
    FunctionsFailed,
}

/// The steps of a branch workflow run, in Supabase's order.
pub const RUN_STEPS: [&str; 7] = [
    "clone",
    "pull",
    "health",
    "configure",
    "migrate",
    "seed",
    "deploy",
];

impl Branch {
    /// Deleted for good: its grace after a delete is over.
    pub fn gone(&self, now: i64) -> bool {
        self.deletion_ms.is_some_and(|at| now >= at)
    }

    pub fn run_started(&self) -> i64 {
        if self.run_started_ms > 0 {
            self.run_started_ms
        } else {
            self.created_ms
        }
    }

    /// When its edge functions are deployed, after a migration that passed.
    pub fn functions_ms(&self) -> i64 {
        self.done_ms + ((self.done_ms - self.migrations_ms) / 4).max(1)
    }

    /// The id of the branch's latest workflow run.
    pub fn run_id(&self) -> String {
        let short: String = self.id.chars().filter(|c| *c != '-').take(12).collect();
        format!("run_{short}{:x}", self.run_started())
    }

    /// Each step of the latest run at `now`: (name, Docker-style status,
    /// started, last changed). Steps before `migrate` share the project's
    /// creation; `migrate` runs until `done_ms`; `seed` and `deploy` follow a
    /// success until `functions_ms`, and a failed migration leaves `migrate`
    /// DEAD and the rest never started.
    pub fn run_steps_at(&self, now: i64) -> Vec<(&'static str, &'static str, i64, i64)> {
        let start = self.run_started();
        let prep_end = self.migrations_ms.max(start);
        let prep = |i: i64| start + (prep_end - start) * i / 4;
        let seeded = self.done_ms + (self.functions_ms() - self.done_ms) / 2;
        let mut out = Vec::with_capacity(RUN_STEPS.len());
        for (i, name) in RUN_STEPS.iter().enumerate() {
            let i = i as i64;
            let (begin, end) = match i {
                0..=3 => (prep(i), prep(i + 1)),
                4 => (prep_end, self.done_ms),
                5 => (self.done_ms, seeded),
                _ => (seeded, self.functions_ms()),
            };
            let status = if now < begin {
                "CREATED"
            } else if now >= end
                && ((i == 4 && self.outcome == Outcome::Failure) || (i == 6 && self.functions_fail))
            {
                "DEAD"
            } else if i > 4 && self.outcome == Outcome::Failure {
                "CREATED"
            } else if now < end {
                "RUNNING"
            } else {
                "EXITED"
            };
            let changed = match status {
                "CREATED" => begin.min(now),
                "RUNNING" => begin,
                _ => end,
            };
            out.push((*name, status, begin.min(now), changed));
        }
        out
    }

    /// The latest run's log up to `now`, as Supabase's runner writes it.
    pub fn run_log_at(&self, now: i64) -> String {
        let mut log = String::new();
        for (name, status, _, _) in self.run_steps_at(now) {
            match (name, status) {
                (_, "CREATED") => {}
                ("clone", _) => log.push_str("Cloning repository at the branch's head...\n"),
                ("pull", _) => log.push_str("Pulling images for the branch's project...\n"),
                // As Supabase's runner logs it: with the password, which
                // Greenroom must mask.
                ("health", _) => log.push_str(&format!(
                    "Waiting for postgresql://postgres:sandbox-db-pass-{r}@db.{r}.supabase.co:5432/postgres to accept connections...\n",
                    r = self.project_ref
                )),
                ("configure", _) => log.push_str("Applying config.toml to the branch project...\n"),
                ("migrate", "RUNNING") => {
                    log.push_str("Applying migration 20261201093000_add_invoices.sql...\n")
                }
                ("migrate", "DEAD") => log.push_str(
                    "Applying migration 20261201093000_add_invoices.sql...\n\
                     ERROR: relation \"public.accounts\" does not exist (SQLSTATE 42P01)\n\
                     At statement 3: alter table public.accounts add column plan text\n\
                     Migration failed: 20261201093000_add_invoices.sql\n",
                ),
                ("migrate", _) => log.push_str(
                    "Applying migration 20261201093000_add_invoices.sql...\nMigrations applied.\n",
                ),
                ("seed", _) => log.push_str("Seeding data from supabase/seed.sql...\n"),
                ("deploy", "DEAD") => log.push_str(
                    "Deploying edge functions...\n\
                     Error: failed to bundle function send-invoice: Module not found \"npm:stripe@99\"\n\
                     Edge functions failed to deploy.\n",
                ),
                ("deploy", _) => log.push_str("Deploying edge functions... done.\n"),
                _ => {}
            }
        }
        log
    }

    /// (`status`, `preview_project_status`) at `now`: CREATING_PROJECT,
    /// RUNNING_MIGRATIONS, then MIGRATIONS_FAILED, or MIGRATIONS_PASSED
    /// until the edge functions are deployed (FUNCTIONS_DEPLOYED).
    pub fn status_at(&self, now: i64) -> (&'static str, &'static str) {
        if now < self.migrations_ms {
            ("CREATING_PROJECT", "COMING_UP")
        } else if now < self.done_ms {
            ("RUNNING_MIGRATIONS", "ACTIVE_HEALTHY")
        } else {
            match self.outcome {
                Outcome::Success if now < self.functions_ms() => {
                    ("MIGRATIONS_PASSED", "ACTIVE_HEALTHY")
                }
                Outcome::Success if self.functions_fail => ("FUNCTIONS_FAILED", "ACTIVE_HEALTHY"),
                Outcome::Success => ("FUNCTIONS_DEPLOYED", "ACTIVE_HEALTHY"),
                Outcome::Failure => ("MIGRATIONS_FAILED", "ACTIVE_UNHEALTHY"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(outcome: Outcome) -> Branch {
        Branch {
            id: "0b1f3c2e-8d4a-4f6b-9c1d-2e3f4a5b6c7d".into(),
            name: "feature-x".into(),
            project_ref: "abcdefghijklmnopqrst".into(),
            git_branch: None,
            is_default: false,
            persistent: false,
            with_data: false,
            pr_number: None,
            created_ms: 1_000,
            updated_ms: 1_000,
            deletion_ms: None,
            run_started_ms: 0,
            migrations_ms: 1_100,
            done_ms: 1_200,
            outcome,
            functions_fail: false,
        }
    }

    fn statuses(b: &Branch, now: i64) -> Vec<&'static str> {
        b.run_steps_at(now).into_iter().map(|s| s.1).collect()
    }

    #[test]
    fn a_run_moves_through_its_steps_with_the_branch() {
        let ok = branch(Outcome::Success);
        assert_eq!(
            statuses(&ok, 1_050),
            ["EXITED", "EXITED", "RUNNING", "CREATED", "CREATED", "CREATED", "CREATED"]
        );
        assert_eq!(ok.status_at(1_150).0, "RUNNING_MIGRATIONS");
        assert_eq!(statuses(&ok, 1_150)[4], "RUNNING");
        assert_eq!(ok.status_at(1_210).0, "MIGRATIONS_PASSED");
        assert_eq!(statuses(&ok, 1_210)[5], "RUNNING");
        assert_eq!(ok.status_at(1_300).0, "FUNCTIONS_DEPLOYED");
        assert!(statuses(&ok, 1_300).iter().all(|s| *s == "EXITED"));
        assert!(ok.run_log_at(1_300).contains("Migrations applied."));
        assert!(ok.run_id().starts_with("run_0b1f3c2e8d4a"));
    }

    #[test]
    fn a_failed_migration_leaves_its_step_dead_and_says_why() {
        let failed = branch(Outcome::Failure);
        assert_eq!(
            statuses(&failed, 1_300),
            ["EXITED", "EXITED", "EXITED", "EXITED", "DEAD", "CREATED", "CREATED"]
        );
        let log = failed.run_log_at(1_300);
        assert!(
            log.contains("ERROR: relation \"public.accounts\" does not exist"),
            "{log}"
        );
        assert!(!log.contains("Seeding"));
    }
}
