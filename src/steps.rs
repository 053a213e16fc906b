//! The steps of a workflow job as Greenroom stores them, and how its smoke
//! test came out.

use crate::storage::WorkflowJobRecord;

/// A step of a job as stored in `steps_json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredStep {
    pub name: String,
    pub number: u32,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at_ms: Option<i64>,
    pub completed_at_ms: Option<i64>,
}

/// The steps stored for a job (an unreadable list reads as none).
pub fn steps_of(j: &WorkflowJobRecord) -> Vec<StoredStep> {
    serde_json::from_str(&j.steps_json).unwrap_or_default()
}

/// How one step (the smoke test) came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepResult {
    Passed,
    Failed,
    Skipped,
    Running,
    Pending,
}

impl StepResult {
    pub fn as_str(self) -> &'static str {
        match self {
            StepResult::Passed => "passed",
            StepResult::Failed => "failed",
            StepResult::Skipped => "skipped",
            StepResult::Running => "running",
            StepResult::Pending => "pending",
        }
    }
}

/// The smoke test of a deploy job: its step whose name says "smoke" and is
/// not the upload of its artifacts. `None` when the job has no such step
/// (it stopped before, or the workflow has none).
pub fn smoke_of(j: &WorkflowJobRecord) -> Option<StepResult> {
    let steps = steps_of(j);
    let s = steps.iter().find(|s| {
        let n = s.name.to_ascii_lowercase();
        n.contains("smoke") && !n.contains("upload")
    })?;
    Some(match (s.status.as_str(), s.conclusion.as_deref()) {
        ("completed", Some("success")) => StepResult::Passed,
        ("completed", Some("skipped")) => StepResult::Skipped,
        ("completed", _) => StepResult::Failed,
        ("in_progress", _) => StepResult::Running,
        _ => StepResult::Pending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(steps: serde_json::Value) -> WorkflowJobRecord {
        WorkflowJobRecord {
            job_id: 1,
            run_id: 1,
            name: "deploy-staging".into(),
            status: "completed".into(),
            conclusion: Some("failure".into()),
            started_at_ms: None,
            completed_at_ms: None,
            steps_json: steps.to_string(),
        }
    }

    #[test]
    fn the_smoke_step_is_found_by_name_and_not_confused_with_its_upload() {
        let step = |name: &str, status: &str, conclusion: Option<&str>| {
            serde_json::json!({"name": name, "number": 1, "status": status, "conclusion": conclusion,
                "started_at_ms": null, "completed_at_ms": null})
        };
        let j = job(serde_json::json!([
            step("Deploy to Netlify (staging)", "completed", Some("success")),
            step("Smoke test staging", "completed", Some("failure")),
            step("Upload smoke artifacts", "completed", Some("success")),
        ]));
        assert_eq!(smoke_of(&j), Some(StepResult::Failed));
        let j = job(serde_json::json!([step(
            "Smoke test staging",
            "in_progress",
            None
        )]));
        assert_eq!(smoke_of(&j), Some(StepResult::Running));
        let j = job(serde_json::json!([step(
            "Upload smoke artifacts",
            "completed",
            Some("success")
        )]));
        assert_eq!(smoke_of(&j), None);
        assert_eq!(smoke_of(&job(serde_json::json!("not a list"))), None);
    }
}
