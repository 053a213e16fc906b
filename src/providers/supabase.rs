//! The Supabase Management API: project branches and database backups.
//! Operation names are the `operationId`s of Supabase's API description.

use super::api::{Api, RetryPolicy};
use super::error::{ProviderError, Vendor};
use super::http::Timeouts;
use super::netlify::seg;
use crate::secret::Secret;
use reqwest::Method;
use serde::{Deserialize, Serialize};

pub const DEFAULT_BASE: &str = "https://api.supabase.com";

/// A branch; `status` is Supabase's (`CREATING_PROJECT`, `RUNNING_MIGRATIONS`,
/// `MIGRATIONS_PASSED`, `MIGRATIONS_FAILED`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    pub id: String,
    pub name: String,
    pub project_ref: String,
    pub parent_project_ref: String,
    pub is_default: bool,
    pub persistent: bool,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub git_branch: Option<String>,
    #[serde(default)]
    pub preview_project_status: Option<String>,
    #[serde(default)]
    pub with_data: bool,
    #[serde(default)]
    pub pr_number: Option<i64>,
    #[serde(default)]
    pub review_requested_at: Option<String>,
    /// Set once a delete was asked for; the branch can be restored until then.
    #[serde(default)]
    pub deletion_scheduled_at: Option<String>,
}

/// A branch's database; the password and JWT secret are not read at all
/// (serde drops fields a struct does not name).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BranchDetail {
    #[serde(rename = "ref")]
    pub project_ref: String,
    pub status: String,
    pub postgres_version: String,
    pub db_host: String,
    pub db_port: u32,
    #[serde(default)]
    pub db_user: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateBranch {
    pub branch_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_data: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateBranch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BranchAction {
    pub workflow_run_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    pub id: i64,
    pub is_physical_backup: bool,
    pub status: String,
    pub inserted_at: String,
}

/// The range point-in-time recovery covers, in Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhysicalBackupData {
    #[serde(default)]
    pub earliest_physical_backup_date_unix: Option<i64>,
    #[serde(default)]
    pub latest_physical_backup_date_unix: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backups {
    pub region: String,
    pub pitr_enabled: bool,
    pub walg_enabled: bool,
    pub backups: Vec<Backup>,
    /// Required by the description; read leniently so that a missing range
    /// shows as unknown instead of failing the whole backups panel.
    #[serde(default)]
    pub physical_backup_data: PhysicalBackupData,
}

/// One step of a branch workflow run. `status` is a container state
/// (`CREATED`, `RUNNING`, `EXITED`, `DEAD`, `PAUSED`, `REMOVING`,
/// `RESTARTING`); `EXITED` does not say whether the step succeeded, the log
/// does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStep {
    pub name: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A branch workflow run (clone, pull, health, configure, migrate, seed,
/// deploy), as `/v1/projects/{ref}/actions` lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRun {
    pub id: String,
    pub branch_id: String,
    pub run_steps: Vec<RunStep>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Deserialize)]
struct Message {
    #[allow(dead_code)]
    message: String,
}

pub struct SupabaseClient {
    api: Api,
}

impl SupabaseClient {
    /// `base` is `https://api.supabase.com`, or the sandbox's
    /// `http://127.0.0.1:PORT/supabase`.
    pub fn new(base: &str, token: Secret, timeouts: Timeouts) -> Result<Self, ProviderError> {
        Ok(Self {
            api: Api::new(Vendor::Supabase, base, token, timeouts)?,
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.api.retry = retry;
        self
    }

    fn url(&self, path: &str) -> String {
        self.api.url(path)
    }

    pub async fn list_branches(&self, project_ref: &str) -> Result<Vec<Branch>, ProviderError> {
        self.api
            .get(
                "v1-list-all-branches",
                &self.url(&format!("/v1/projects/{}/branches", seg(project_ref))),
            )
            .await
    }

    pub async fn create_branch(
        &self,
        project_ref: &str,
        body: &CreateBranch,
    ) -> Result<Branch, ProviderError> {
        let url = self.url(&format!("/v1/projects/{}/branches", seg(project_ref)));
        self.api
            .call("v1-create-a-branch", Method::POST, &url, Some(body))
            .await
    }

    pub async fn get_branch(&self, project_ref: &str, name: &str) -> Result<Branch, ProviderError> {
        let url = self.url(&format!(
            "/v1/projects/{}/branches/{}",
            seg(project_ref),
            seg(name)
        ));
        self.api.get("v1-get-a-branch", &url).await
    }

    pub async fn get_branch_config(&self, branch_id: &str) -> Result<BranchDetail, ProviderError> {
        self.api
            .get(
                "v1-get-a-branch-config",
                &self.url(&format!("/v1/branches/{}", seg(branch_id))),
            )
            .await
    }

    pub async fn update_branch(
        &self,
        branch_id: &str,
        body: &UpdateBranch,
    ) -> Result<Branch, ProviderError> {
        let url = self.url(&format!("/v1/branches/{}", seg(branch_id)));
        self.api
            .call("v1-update-a-branch-config", Method::PATCH, &url, Some(body))
            .await
    }

    pub async fn delete_branch(&self, branch_id: &str) -> Result<(), ProviderError> {
        let url = self.url(&format!("/v1/branches/{}", seg(branch_id)));
        self.api
            .call::<(), Message>("v1-delete-a-branch", Method::DELETE, &url, None)
            .await
            .map(|_| ())
    }

    async fn action(
        &self,
        op: &'static str,
        branch_id: &str,
        verb: &str,
    ) -> Result<BranchAction, ProviderError> {
        let url = self.url(&format!("/v1/branches/{}/{verb}", seg(branch_id)));
        self.api
            .call(op, Method::POST, &url, Some(&serde_json::json!({})))
            .await
    }

    /// Promotes the branch's migrations to the parent project.
    pub async fn merge_branch(&self, branch_id: &str) -> Result<BranchAction, ProviderError> {
        self.action("v1-merge-a-branch", branch_id, "merge").await
    }

    pub async fn reset_branch(&self, branch_id: &str) -> Result<BranchAction, ProviderError> {
        self.action("v1-reset-a-branch", branch_id, "reset").await
    }

    pub async fn push_branch(&self, branch_id: &str) -> Result<BranchAction, ProviderError> {
        self.action("v1-push-a-branch", branch_id, "push").await
    }

    pub async fn restore_branch(&self, branch_id: &str) -> Result<(), ProviderError> {
        let url = self.url(&format!("/v1/branches/{}/restore", seg(branch_id)));
        self.api
            .call::<(), Message>("v1-restore-a-branch", Method::POST, &url, None)
            .await
            .map(|_| ())
    }

    /// The schema diff against production, as SQL text.
    pub async fn diff_branch(&self, branch_id: &str) -> Result<String, ProviderError> {
        let url = self.url(&format!("/v1/branches/{}/diff", seg(branch_id)));
        let answer = self.api.read("v1-diff-a-branch", &url).await?;
        Ok(String::from_utf8_lossy(&answer.body).into_owned())
    }

    /// The project's branch workflow runs (the first page, up to 100).
    pub async fn list_action_runs(
        &self,
        project_ref: &str,
    ) -> Result<Vec<ActionRun>, ProviderError> {
        self.api
            .get(
                "v1-list-action-runs",
                &self.url(&format!(
                    "/v1/projects/{}/actions?offset=0&limit=100",
                    seg(project_ref)
                )),
            )
            .await
    }

    pub async fn get_action_run(
        &self,
        project_ref: &str,
        run_id: &str,
    ) -> Result<ActionRun, ProviderError> {
        self.api
            .get(
                "v1-get-action-run",
                &self.url(&format!(
                    "/v1/projects/{}/actions/{}",
                    seg(project_ref),
                    seg(run_id)
                )),
            )
            .await
    }

    /// A run's log as plain text, as Supabase's runner wrote it: not
    /// escaped, and it may carry secrets: escape and mask it before showing
    /// it to anyone.
    pub async fn get_action_run_logs(
        &self,
        project_ref: &str,
        run_id: &str,
    ) -> Result<String, ProviderError> {
        let url = self.url(&format!(
            "/v1/projects/{}/actions/{}/logs",
            seg(project_ref),
            seg(run_id)
        ));
        let answer = self.api.read("v1-get-action-run-logs", &url).await?;
        Ok(String::from_utf8_lossy(&answer.body).into_owned())
    }

    pub async fn list_backups(&self, project_ref: &str) -> Result<Backups, ProviderError> {
        self.api
            .get(
                "v1-list-all-backups",
                &self.url(&format!(
                    "/v1/projects/{}/database/backups",
                    seg(project_ref)
                )),
            )
            .await
    }
}
