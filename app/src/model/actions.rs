//! The on-call actions as pages show them: one action with its progress, the
//! plan a confirmation states, and what starting one answered.

use super::deploy_row::DeployRow;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressView {
    pub state: String,
    pub at_ms: i64,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionView {
    pub id: i64,
    pub kind: String,
    pub label: String,
    /// `starting`, `running`, `unknown` (no answer came; being reconciled),
    /// `succeeded`, `failed`.
    pub state: String,
    pub actor: Option<String>,
    pub summary: String,
    pub message: Option<String>,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub progress: Vec<ProgressView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub kind: String,
    pub label: String,
    pub summary: String,
    pub target: Option<DeployRow>,
    pub replaces: Option<DeployRow>,
    pub blocked: Option<String>,
    /// The server's clock, for "3 days old".
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartedView {
    pub action: ActionView,
    /// True when an equal action was already under way and nothing was sent.
    pub already_under_way: bool,
}
