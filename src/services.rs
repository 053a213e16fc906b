//! The long-lived handles that server functions and routes work with. Built
//! once by the server and handed to each request through context.

use crate::config::{Config, Mode, Project};
use crate::storage::{Readiness, Storage};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub storage: Storage,
    /// The sandbox's base URL when running against it (issue 3 fills it).
    pub sandbox_url: Option<String>,
    /// Sync, actions, trends and the configured projects.
    pub ops: Operations,
    started: Instant,
    started_at: SystemTime,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("mode", &self.config.mode)
            .field("storage", &self.storage)
            .field("sandbox_url", &self.sandbox_url)
            .finish_non_exhaustive()
    }
}

/// What the deploy pages and actions work with.
#[derive(Clone)]
pub struct Operations {
    pub syncer: Arc<crate::sync::Syncer>,
    pub actions: crate::actions::Actions,
    pub trends: Arc<crate::trends::TrendCache>,
    pub targets: Arc<Vec<crate::sync::SyncTarget>>,
    /// What the overview pages read: kept current from the database.
    pub overviews: crate::read_model::Overviews,
    /// Secret coverage: checks, stored reports, dismissals.
    pub secrets: crate::secret_checks::SecretChecks,
    /// Runs' artifacts: listed, downloaded once, checked, read.
    pub artifacts: Arc<crate::artifacts::Artifacts>,
    /// Turns true when the server begins to shut down: long-lived streams
    /// end then, so that shutdown does not wait on them.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl Operations {
    /// The configured project called `name` (exactly, as in URLs).
    pub fn target(&self, name: &str) -> Option<&crate::sync::SyncTarget> {
        self.targets
            .iter()
            .find(|t| t.project.name.as_str() == name)
    }

    /// The project a page shows for `name`: the one called so (in any
    /// case), else the first configured, as the project switcher picks.
    pub fn select(&self, name: &str) -> Option<&crate::sync::SyncTarget> {
        self.targets
            .iter()
            .find(|t| t.project.name.as_str().eq_ignore_ascii_case(name))
            .or_else(|| self.targets.first())
    }

    /// Run `run_id` as sync stored it, with its configured project; `None`
    /// when no such run is known or its project is no longer configured.
    pub async fn run_and_target(
        &self,
        storage: &Storage,
        run_id: i64,
    ) -> Result<
        Option<(crate::storage::WorkflowRunRecord, &crate::sync::SyncTarget)>,
        crate::StorageError,
    > {
        Ok(storage
            .get_run(run_id)
            .await?
            .and_then(|r| self.target_of(r.project_id).map(|t| (r, t))))
    }

    /// The configured project stored as `project_id`.
    pub fn target_of(&self, project_id: i64) -> Option<&crate::sync::SyncTarget> {
        self.targets.iter().find(|t| t.project_id == project_id)
    }
}

impl Services {
    pub fn new(
        config: Arc<Config>,
        storage: Storage,
        sandbox_url: Option<String>,
        ops: Operations,
    ) -> Self {
        Self {
            config,
            storage,
            sandbox_url,
            ops,
            started: Instant::now(),
            started_at: SystemTime::now(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.config.mode
    }

    pub fn projects(&self) -> &[Project] {
        &self.config.projects
    }

    /// What the status panel and `/readyz` report.
    pub async fn status(&self) -> SystemStatus {
        let database = self.storage.readiness().await.map_err(|e| e.to_string());
        SystemStatus {
            version: crate::VERSION,
            mode: self.mode(),
            sandbox_url: self.sandbox_url.clone(),
            uptime_seconds: self.started.elapsed().as_secs(),
            started_at_ms: self
                .started_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default(),
            checked_at_ms: crate::storage::now_ms(),
            ready: matches!(&database, Ok(r) if r.is_ready()),
            database,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SystemStatus {
    pub version: &'static str,
    pub mode: Mode,
    pub sandbox_url: Option<String>,
    pub uptime_seconds: u64,
    pub started_at_ms: i64,
    pub checked_at_ms: i64,
    pub ready: bool,
    /// The database's readiness, or why it could not be checked.
    pub database: Result<Readiness, String>,
}
