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
    /// CREATING_PROJECT until this, then RUNNING_MIGRATIONS until `done_ms`.
    pub migrations_ms: i64,
    pub done_ms: i64,
    pub outcome: Outcome,
}

impl Branch {
    /// (`status`, `preview_project_status`) at `now`.
    pub fn status_at(&self, now: i64) -> (&'static str, &'static str) {
        if now < self.migrations_ms {
            ("CREATING_PROJECT", "COMING_UP")
        } else if now < self.done_ms {
            ("RUNNING_MIGRATIONS", "ACTIVE_HEALTHY")
        } else {
            match self.outcome {
                Outcome::Success => ("MIGRATIONS_PASSED", "ACTIVE_HEALTHY"),
                Outcome::Failure => ("MIGRATIONS_FAILED", "ACTIVE_UNHEALTHY"),
            }
        }
    }
}
