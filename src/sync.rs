//! The background sync: keeps the database current with each project's
//! Netlify deploys (staging and production sites, every context) and the
//! GitHub runs of its workflow (runs, jobs, steps), so that pages read the
//! database and upstream calls depend on projects and intervals, never on
//! how many people are looking.
//!
//! - The first pass of a project loads everything; later passes read the
//!   newest page and write only what is new or changed. GitHub reads are
//!   conditional (the client's ETag cache), so an unchanged list costs no
//!   rate limit.
//! - Between full passes, deploys and runs still in progress are checked
//!   every `watch_interval_ms`: a live view sees a state change within about
//!   a second, and the calls scale with what is in progress.
//! - With several instances on one database, one holds the `sync` lease;
//!   if it dies, the lease expires after one and a half intervals and
//!   another instance takes over.
//! - When a vendor fails, the data stays as it was and the error is kept
//!   with the time it began, for the pages to show.

use crate::config::{Project, SyncConfig};
use crate::domain::DeployState;
use crate::notify::Notifier;
use crate::providers::github::{self, RunFilter};
use crate::providers::netlify::{self, DeployFilter as NetlifyFilter};
use crate::providers::{ErrorKind, ProviderError, VendorClients};
use crate::steps::{smoke_of, StepResult, StoredStep};
use crate::storage::{
    now_ms, BranchHead, DeployRecord, SiteLive, SiteRole, Storage, StorageError, WorkflowJobRecord,
    WorkflowRunRecord,
};
use crate::text::{first_line, parse_ms, short_sha};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The lease the syncing instance holds.
pub const LEASE: &str = "sync";

/// How many items a later pass reads from the top of each list.
const INCREMENTAL_ITEMS: usize = 100;
/// At most this many items on a project's first load (the client's page cap
/// is the hard limit; this keeps a first start on a busy repo reasonable).
const FIRST_LOAD_ITEMS: usize = 20_000;
/// Runs whose jobs are fetched per pass when catching up on history.
const JOB_BACKFILL_PER_PASS: u32 = 25;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Malformed(String),
}

/// A configured project and its row id.
#[derive(Debug, Clone)]
pub struct SyncTarget {
    pub project_id: i64,
    pub project: Project,
}

impl SyncTarget {
    /// The Netlify site id of `site` (`staging` or `production`).
    pub fn site_id(&self, site: &str) -> Option<&str> {
        match site {
            "staging" => Some(self.project.netlify.staging_site_id.as_str()),
            "production" => Some(self.project.netlify.production_site_id.as_str()),
            _ => None,
        }
    }
}

/// What one pass over one project did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub deploys_written: usize,
    pub runs_written: usize,
    pub jobs_fetched: usize,
    pub errors: Vec<String>,
}

/// Runs whose test results one full pass reads at most (each is a download).
const RESULTS_PER_PASS: usize = 5;

pub struct Syncer {
    storage: Storage,
    clients: Arc<VendorClients>,
    notifier: Notifier,
    targets: Vec<SyncTarget>,
    full_passes: AtomicU64,
    /// Secret coverage, checked after each project's full pass.
    secrets: Option<crate::secret_checks::SecretChecks>,
    /// Runs' artifacts: the latest deploy-job run's results are read after
    /// each project's full pass.
    artifacts: Option<Arc<crate::artifacts::Artifacts>>,
    /// Which previews are old enough to read their git branch for.
    branch_rules: crate::branches::AttentionRules,
    /// Whether a branch was in progress when this instance last read each
    /// project's branches, so an idle watch tick needs no snapshot read.
    branches_busy: std::sync::Mutex<std::collections::HashMap<i64, bool>>,
}

impl Syncer {
    pub fn new(
        storage: Storage,
        clients: Arc<VendorClients>,
        notifier: Notifier,
        targets: Vec<SyncTarget>,
    ) -> Self {
        Self {
            storage,
            clients,
            notifier,
            targets,
            full_passes: AtomicU64::new(0),
            secrets: None,
            artifacts: None,
            branch_rules: Default::default(),
            branches_busy: Default::default(),
        }
    }

    /// The `[branches]` rules (how old a preview must be to be read as
    /// possibly forgotten).
    pub fn with_branch_rules(mut self, rules: crate::branches::AttentionRules) -> Self {
        self.branch_rules = rules;
        self
    }

    /// Also reads the test results of each project's latest finished
    /// deploy-job run on every full pass (one download per run, ever), so
    /// that the overview shows them without a vendor call of its own.
    pub fn with_artifacts(mut self, artifacts: Arc<crate::artifacts::Artifacts>) -> Self {
        self.artifacts = Some(artifacts);
        self
    }

    /// Also checks each project's secret coverage on every full pass.
    pub fn with_secrets(mut self, secrets: crate::secret_checks::SecretChecks) -> Self {
        self.secrets = Some(secrets);
        self
    }

    pub fn targets(&self) -> &[SyncTarget] {
        &self.targets
    }

    /// Full passes completed by this instance (for tests and the status page).
    pub fn full_passes(&self) -> u64 {
        self.full_passes.load(Ordering::Relaxed)
    }

    /// One full pass over every project.
    pub async fn sync_all(&self) -> Vec<PassReport> {
        let mut out = Vec::with_capacity(self.targets.len());
        for t in &self.targets {
            let mut report = self.sync_project(t).await;
            if let Some(secrets) = &self.secrets {
                if let Err(e) = secrets.refresh(t).await {
                    tracing::warn!(project = %t.project.name, error = %e, "secret coverage could not be stored");
                    report.errors.push(e.to_string());
                }
            }
            if let Some(artifacts) = &self.artifacts {
                self.read_results(t, artifacts).await;
            }
            out.push(report);
        }
        if self.full_passes.fetch_add(1, Ordering::Relaxed) == 0 {
            // This instance's first pass is the large one (a first load).
            crate::memory::release_freed();
        }
        out
    }

    /// Reads the test results of the project's newest finished deploy-job
    /// runs on its staging branch (the newest [`STRIP`] of them, at most
    /// [`RESULTS_PER_PASS`] not read yet per pass, each run attempt once),
    /// stores each test's outcome for its history, and keeps the newest
    /// run's summary in memory for the overview. A failure is logged and
    /// tried again next pass; the pages then show no results for that run.
    ///
    /// [`STRIP`]: crate::artifacts::history::STRIP
    async fn read_results(&self, t: &SyncTarget, artifacts: &crate::artifacts::Artifacts) {
        use crate::artifacts::{history::STRIP, ArtifactError};
        let p = &t.project;
        let warn = |run: Option<i64>, e: &dyn std::fmt::Display| {
            tracing::warn!(project = %p.name, run, error = %e, "test results could not be read");
        };
        let runs = match self
            .storage
            .runs_with_job(
                t.project_id,
                &p.github.deploy_job,
                Some(p.github.staging_branch.as_str()),
                true,
                STRIP as u32,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return warn(None, &e),
        };
        let read = match self.storage.results_read(&runs).await {
            Ok(r) => r,
            Err(e) => return warn(None, &e),
        };
        let repo = repo_of(p);
        // Test names are stored and shown: masked like everything else.
        let known = match &self.secrets {
            Some(s) => s.known_values(t).await,
            None => crate::mask::Known::default(),
        };
        if let Some(newest) = runs.first() {
            let (id, attempt) = (newest.run_id as u64, newest.run_attempt);
            if let Err(e) = artifacts.summary(&repo, id, attempt, &known).await {
                warn(Some(newest.run_id), &e);
            }
        }
        let unread = runs
            .iter()
            .filter(|r| !read.contains(&(r.run_id, r.run_attempt)))
            .take(RESULTS_PER_PASS);
        for run in unread {
            let read = artifacts
                .results(&repo, run.run_id as u64, run.run_attempt, &known)
                .await;
            let cases = match read {
                Ok(r) => r.cases,
                // Nothing left to read: remembered as read with no results.
                // (A 404 may be a permission GitHub hides: tried again.)
                Err(ArtifactError::Expired) => Vec::new(),
                Err(e) => {
                    warn(Some(run.run_id), &e);
                    continue;
                }
            };
            if let Err(e) = self
                .storage
                .store_test_results(run, &cases, crate::storage::now_ms())
                .await
            {
                warn(Some(run.run_id), &e);
            }
        }
    }

    /// Checks what is in progress in every project.
    pub async fn watch_all(&self) {
        for t in &self.targets {
            self.watch_project(t).await;
        }
    }

    /// A full pass over one project: Netlify, then GitHub, then links. Each
    /// source's status is recorded when its data is written, and the time
    /// it is recorded at is its change mark: what the read model and live
    /// views watch, so nothing written may come after it.
    pub async fn sync_project(&self, t: &SyncTarget) -> PassReport {
        let mut report = PassReport::default();
        match self.sync_netlify(t).await {
            Ok(n) => {
                report.deploys_written = n.0;
                self.record(t, "netlify", Ok(n.1)).await;
            }
            Err(e) => {
                report.errors.push(e.to_string());
                self.record(t, "netlify", Err(&e)).await;
            }
        }
        let github = self.sync_github(t).await;
        let linked = match self.storage.link_deploys_to_runs(t.project_id).await {
            Ok(n) => n > 0,
            Err(e) => {
                report.errors.push(e.to_string());
                false
            }
        };
        match github {
            Ok((runs, jobs, changed)) => {
                report.runs_written = runs;
                report.jobs_fetched = jobs;
                self.record(t, "github", Ok(changed || linked)).await;
            }
            Err(e) => {
                report.errors.push(e.to_string());
                self.record(t, "github", Err(&e)).await;
            }
        }
        if let Err(e) = self.sync_supabase(t, true).await {
            report.errors.push(e.to_string());
        }
        report
    }

    /// The project's Supabase branches (all of them on a full pass; the
    /// list and runs alone between passes), stored for the Branches page.
    /// The source is recorded as failed only when the branch list itself
    /// could not be read; the parts that failed are kept in the snapshot.
    async fn sync_supabase(&self, t: &SyncTarget, full: bool) -> Result<(), SyncError> {
        let Some(sb) = &t.project.supabase else {
            return Ok(());
        };
        let previous = match self.storage.branch_snapshot(t.project_id).await? {
            Some(json) => crate::branches::Snapshot::parse(&json).unwrap_or_default(),
            None => Default::default(),
        };
        let now = now_ms();
        let (next, list_error) = if full {
            crate::branch_sync::read_full(
                &self.clients,
                &sb.project_ref,
                &repo_of(&t.project),
                &self.branch_rules,
                &previous,
                now,
            )
            .await
        } else {
            crate::branch_sync::read_quick(&self.clients, &sb.project_ref, &previous, now).await
        };
        let changed = !next.same_content(&previous);
        self.set_branches_busy(t, next.working());
        let json = serde_json::to_string(&next)
            .map_err(|e| SyncError::Malformed(format!("branch snapshot: {e}")))?;
        self.storage
            .store_branch_snapshot(t.project_id, next.read_at_ms, &json)
            .await?;
        match list_error {
            Some(e) => {
                let e = SyncError::Provider(e);
                self.record(t, "supabase", Err(&e)).await;
                Err(e)
            }
            None => {
                self.record(t, "supabase", Ok(changed)).await;
                Ok(())
            }
        }
    }

    fn set_branches_busy(&self, t: &SyncTarget, busy: bool) {
        self.branches_busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(t.project_id, busy);
    }

    /// Whether a branch of `t` is being created, migrated or deployed: as
    /// this instance last read it, or by an operation under way on any
    /// instance (its branch may not be listed yet). The stored snapshot is
    /// read only when this instance has not read the branches itself.
    async fn branches_working(&self, t: &SyncTarget) -> Result<bool, SyncError> {
        if t.project.supabase.is_none() {
            return Ok(false);
        }
        let remembered = self
            .branches_busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&t.project_id)
            .copied();
        if remembered == Some(true) {
            return Ok(true);
        }
        let operating = self
            .storage
            .recent_actions(t.project_id, "branch-", 5)
            .await?
            .iter()
            .any(|a| a.finished_at_ms.is_none());
        if operating {
            return Ok(true);
        }
        if let Some(busy) = remembered {
            return Ok(busy);
        }
        let busy = match self.storage.branch_snapshot(t.project_id).await? {
            Some(json) => crate::branches::Snapshot::parse(&json).is_ok_and(|s| s.working()),
            None => false,
        };
        self.set_branches_busy(t, busy);
        Ok(busy)
    }

    async fn record(&self, t: &SyncTarget, source: &str, r: Result<bool, &SyncError>) {
        let now = now_ms();
        let written = match r {
            Ok(changed) => {
                self.storage
                    .record_sync_success(t.project_id, source, now, changed)
                    .await
            }
            Err(e) => {
                tracing::warn!(project = %t.project.name, source, error = %e, "sync failed; keeping the last good data");
                self.storage
                    .record_sync_failure(t.project_id, source, now, &e.to_string())
                    .await
            }
        };
        if let Err(e) = written {
            tracing::warn!(project = %t.project.name, source, error = %e, "could not record the sync status");
        }
    }

    async fn first_load_done(&self, t: &SyncTarget, source: &str) -> Result<bool, SyncError> {
        Ok(self
            .storage
            .sync_statuses(t.project_id)
            .await?
            .iter()
            .any(|s| s.source == source && s.full_load_done))
    }

    /// Both sites' deploys and what each serves now. Returns (deploys
    /// written, whether anything changed).
    async fn sync_netlify(&self, t: &SyncTarget) -> Result<(usize, bool), SyncError> {
        let loaded = self.first_load_done(t, "netlify").await?;
        let limit = if loaded {
            INCREMENTAL_ITEMS
        } else {
            FIRST_LOAD_ITEMS
        };
        let mut written = 0;
        let mut changed = false;
        for (role, site) in sites(&t.project) {
            let fetched = self
                .clients
                .netlify
                .list_site_deploys(site, &NetlifyFilter::default(), Some(limit))
                .await?;
            written += self.store_deploys(t, role, &fetched, loaded).await?;
            changed |= self.record_live(t, site).await?;
        }
        Ok((written, changed || written > 0))
    }

    /// Asks Netlify what `site` serves now and stores it; true when it moved.
    async fn record_live(&self, t: &SyncTarget, site: &str) -> Result<bool, SyncError> {
        let live = self.clients.netlify.get_site(site).await?;
        let published = live.published_deploy.as_ref();
        Ok(self
            .storage
            .set_site_live(&SiteLive {
                site_id: site.to_string(),
                project_id: t.project_id,
                deploy_id: published.map(|d| d.id.clone()),
                published_at_ms: published
                    .and_then(|d| d.published_at.as_deref())
                    .and_then(parse_ms),
                synced_at_ms: now_ms(),
            })
            .await?)
    }

    /// Writes the deploys that are new or differ from what is stored, and
    /// alerts on a staging deploy that failed since the first load.
    async fn store_deploys(
        &self,
        t: &SyncTarget,
        role: SiteRole,
        fetched: &[netlify::Deploy],
        alert: bool,
    ) -> Result<usize, SyncError> {
        let Some(site) = fetched.first().map(|d| d.site_id.clone()) else {
            return Ok(0);
        };
        let ids: Vec<String> = fetched.iter().map(|d| d.id.clone()).collect();
        let stored: HashMap<String, DeployRecord> = self
            .storage
            .deploys_by_ids(&site, &ids)
            .await?
            .into_iter()
            .map(|d| (d.deploy_id.clone(), d))
            .collect();
        let now = now_ms();
        let mut changed = Vec::new();
        for d in fetched {
            let mut fresh = deploy_record(t, role, d, now)?;
            let before = stored.get(&fresh.deploy_id);
            if let Some(old) = before {
                if !differs(old, &fresh) {
                    continue;
                }
                fresh.run_id = old.run_id;
                fresh.author = old.author.clone();
            }
            let newly_failed = fresh.state == DeployState::Error
                && before.is_none_or(|o| o.state != DeployState::Error);
            if alert && newly_failed && role == SiteRole::Staging {
                self.alert_failed_deploy(t, &fresh).await;
            }
            changed.push(fresh);
        }
        self.storage.upsert_deploys(&changed).await?;
        Ok(changed.len())
    }

    async fn alert_failed_deploy(&self, t: &SyncTarget, d: &DeployRecord) {
        let text = format!(
            ":red_circle: Staging deploy failed for {}: {} {}{}\n{}",
            t.project.name,
            short_sha(d.commit_sha.as_deref()),
            d.commit_message
                .as_deref()
                .map(|m| format!("\"{}\"", first_line(m)))
                .unwrap_or_default(),
            d.error_message
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default(),
            self.notifier
                .link(&format!("/deploys/{}/{}", d.site_id, d.deploy_id)),
        );
        self.notifier
            .announce(
                &format!("deploy-failed:{}:{}", d.site_id, d.deploy_id),
                &text,
            )
            .await;
    }

    /// Runs of the workflow, the jobs of new or changed runs, and a few more
    /// runs' jobs per pass until history is complete. Returns (runs written,
    /// jobs lists fetched, whether anything changed).
    async fn sync_github(&self, t: &SyncTarget) -> Result<(usize, usize, bool), SyncError> {
        let loaded = self.first_load_done(t, "github").await?;
        let repo = repo_of(&t.project);
        let limit = if loaded {
            INCREMENTAL_ITEMS
        } else {
            FIRST_LOAD_ITEMS
        };
        let runs = self
            .clients
            .github
            .list_workflow_runs(
                &repo,
                &t.project.github.workflow,
                &RunFilter::default(),
                Some(limit),
            )
            .await?;
        let written = self.store_runs(t, &runs).await?;
        let branch = t.project.github.staging_branch.as_str();
        let head = self.clients.github.get_branch(&repo, branch).await?;
        let head_moved = self
            .storage
            .set_branch_head(&BranchHead {
                project_id: t.project_id,
                branch: branch.to_string(),
                sha: head.commit.sha.clone(),
                message: Some(first_line(&head.commit.commit.message).to_string()),
                committed_at_ms: head
                    .commit
                    .commit
                    .author
                    .as_ref()
                    .and_then(|a| a.date.as_deref())
                    .and_then(parse_ms),
                synced_at_ms: now_ms(),
            })
            .await?;
        let mut jobs = 0;
        // Jobs of what changed (the newest first), then a few from history.
        let mut wanted: Vec<i64> = written.iter().map(|r| r.run_id).collect();
        if !loaded {
            wanted.truncate(JOB_BACKFILL_PER_PASS as usize * 2);
        }
        for id in self
            .storage
            .runs_without_jobs(t.project_id, JOB_BACKFILL_PER_PASS)
            .await?
        {
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        for run_id in wanted {
            // Alert only on runs that changed in this pass: a backfill of
            // history must not announce old failures.
            let fresh = loaded && written.iter().any(|r| r.run_id == run_id);
            self.fetch_jobs(t, run_id, fresh).await?;
            jobs += 1;
        }
        Ok((written.len(), jobs, head_moved || !written.is_empty()))
    }

    async fn store_runs(
        &self,
        t: &SyncTarget,
        runs: &[github::WorkflowRun],
    ) -> Result<Vec<WorkflowRunRecord>, SyncError> {
        let ids: Vec<i64> = runs.iter().map(|r| r.id as i64).collect();
        let stored: HashMap<i64, WorkflowRunRecord> = self
            .storage
            .runs_by_ids(&ids)
            .await?
            .into_iter()
            .map(|r| (r.run_id, r))
            .collect();
        let now = now_ms();
        let mut changed = Vec::new();
        for r in runs {
            let fresh = run_record(t, r, now)?;
            if stored.get(&fresh.run_id).is_some_and(|old| {
                old.status == fresh.status
                    && old.conclusion == fresh.conclusion
                    && old.run_attempt == fresh.run_attempt
                    && old.updated_at_ms == fresh.updated_at_ms
            }) {
                continue;
            }
            changed.push(fresh);
        }
        self.storage.upsert_runs(&changed).await?;
        Ok(changed)
    }

    /// Replaces a run's jobs with GitHub's, and alerts on a failed smoke test
    /// of the deploy job once the project's history is loaded.
    async fn fetch_jobs(&self, t: &SyncTarget, run_id: i64, alert: bool) -> Result<(), SyncError> {
        let repo = repo_of(&t.project);
        let jobs = self
            .clients
            .github
            .list_jobs_for_workflow_run(&repo, run_id as u64)
            .await?;
        let records: Vec<WorkflowJobRecord> = jobs.iter().map(job_record).collect();
        let smoke_failed = records.iter().any(|j| {
            j.name == t.project.github.deploy_job && smoke_of(j) == Some(StepResult::Failed)
        });
        self.storage.replace_jobs(run_id, &records).await?;
        if alert && smoke_failed {
            if let Some(run) = self.storage.get_run(run_id).await? {
                let text = format!(
                    ":red_circle: Smoke test failed on staging for {}: run #{} of {} ({})\n{}",
                    t.project.name,
                    run.run_number,
                    short_sha(Some(&run.head_sha)),
                    run.branch.as_deref().unwrap_or("?"),
                    self.notifier.link(&format!("/runs/{run_id}")),
                );
                self.notifier
                    .announce(&format!("smoke-failed:{run_id}:{}", run.run_attempt), &text)
                    .await;
            }
        }
        Ok(())
    }

    /// Checks each deploy and run still in progress; writes what moved. One
    /// item that fails (a deleted deploy, a vendor hiccup) never stops the
    /// others; failures are logged and recorded as the source's sync error,
    /// which the overview shows.
    pub async fn watch_project(&self, t: &SyncTarget) {
        if let Err(e) = self.watch_inner(t).await {
            tracing::warn!(project = %t.project.name, error = %e, "watch pass failed; the next full pass will retry");
        }
    }

    async fn watch_inner(&self, t: &SyncTarget) -> Result<(), SyncError> {
        // Branches in progress are read between passes too (two calls per
        // project per tick, only while one is in progress); a failure is
        // recorded and does not stop the deploy checks.
        match self.branches_working(t).await {
            Ok(true) => {
                let _ = self.sync_supabase(t, false).await;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(project = %t.project.name, error = %e, "could not tell whether branches are in progress")
            }
        }
        let mut deploy_moved = false;
        let mut netlify_failures = Vec::new();
        for d in self.storage.unfinished_deploys(t.project_id).await? {
            match self
                .clients
                .netlify
                .get_site_deploy(&d.site_id, &d.deploy_id)
                .await
            {
                Ok(fresh) => {
                    let n = self
                        .store_deploys(t, d.site_role, std::slice::from_ref(&fresh), true)
                        .await?;
                    deploy_moved |= n > 0;
                }
                Err(e) if matches!(e.kind, ErrorKind::NotFound { .. }) => {
                    tracing::info!(project = %t.project.name, deploy = %d.deploy_id, "Netlify no longer has a deploy in progress; it is marked deleted");
                    self.storage.mark_deploy_gone(&d.deploy_id).await?;
                    deploy_moved = true;
                }
                Err(e) => {
                    tracing::warn!(project = %t.project.name, deploy = %d.deploy_id, error = %e, "could not check a deploy in progress");
                    netlify_failures.push(format!("deploy {}: {e}", d.deploy_id));
                }
            }
        }
        if deploy_moved {
            for (_, site) in sites(&t.project) {
                self.record_live(t, site).await?;
            }
            self.storage
                .record_sync_success(t.project_id, "netlify", now_ms(), true)
                .await?;
        }
        let repo = repo_of(&t.project);
        let unfinished = self.storage.unfinished_runs(t.project_id).await?;
        let mut github_failures = Vec::new();
        let mut run_moved = false;
        for r in &unfinished {
            let checked = async {
                let fresh = self
                    .clients
                    .github
                    .get_workflow_run(&repo, r.run_id as u64)
                    .await?;
                self.store_runs(t, std::slice::from_ref(&fresh)).await?;
                // Jobs move (steps start and end) while the run's own fields may not.
                self.fetch_jobs(t, r.run_id, true).await
            };
            match checked.await {
                Ok(()) => run_moved = true,
                Err(e) => {
                    tracing::warn!(project = %t.project.name, run = r.run_id, error = %e, "could not check a run in progress");
                    github_failures.push(format!("run {}: {e}", r.run_id));
                }
            }
        }
        if run_moved {
            self.storage.link_deploys_to_runs(t.project_id).await?;
            self.storage
                .record_sync_success(t.project_id, "github", now_ms(), true)
                .await?;
        }
        for (source, failures) in [("netlify", netlify_failures), ("github", github_failures)] {
            if let Some(first) = failures.first() {
                let more = match failures.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                self.storage
                    .record_sync_failure(t.project_id, source, now_ms(), &format!("{first}{more}"))
                    .await?;
            }
        }
        Ok(())
    }

    /// Syncs for as long as `stop` says false: a full pass every interval
    /// while this instance holds the lease, in-progress checks in between.
    /// The lease is renewed by a heartbeat of its own, so a long pass does
    /// not let it lapse; the heartbeat ends with this future (also when the
    /// task running it is aborted), and then the lease expires.
    pub async fn run(
        self: Arc<Self>,
        config: SyncConfig,
        holder: String,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let interval = Duration::from_secs(config.interval_secs);
        let tick = Duration::from_millis(config.watch_interval_ms).min(interval);
        let ttl = (config.interval_secs as i64 * 1500).max(3000);
        let every = Duration::from_millis((ttl / 4) as u64).min(tick);
        let holding = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // The first attempt is made before the loop, so it knows at once.
        renew(&self.storage, &holder, ttl, &holding).await;
        let heartbeat = AbortOnDrop(tokio::spawn({
            let (storage, holder, holding) =
                (self.storage.clone(), holder.clone(), holding.clone());
            async move {
                loop {
                    tokio::time::sleep(every).await;
                    renew(&storage, &holder, ttl, &holding).await;
                }
            }
        }));
        let mut next_full: Option<Instant> = None;
        loop {
            let held = holding.load(Ordering::SeqCst);
            if held {
                if next_full.is_none_or(|t| Instant::now() >= t) {
                    for r in self.sync_all().await {
                        for e in r.errors {
                            tracing::debug!(error = %e, "sync pass error");
                        }
                    }
                    next_full = Some(Instant::now() + interval);
                } else {
                    self.watch_all().await;
                }
            } else {
                // Whoever takes the lease starts with a full pass.
                next_full = None;
            }
            // Not holding: look again as often as the heartbeat tries.
            let pause = if held { tick } else { every };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
        drop(heartbeat);
        if holding.load(Ordering::SeqCst) {
            let _ = self.storage.release_lease(LEASE, &holder).await;
        }
    }
}

/// Takes or renews the sync lease for `holder`, and says so when that changes.
async fn renew(storage: &Storage, holder: &str, ttl: i64, holding: &std::sync::atomic::AtomicBool) {
    let held = match storage
        .try_acquire_lease(LEASE, holder, now_ms(), ttl)
        .await
    {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "could not take or renew the sync lease");
            false
        }
    };
    if held != holding.swap(held, Ordering::SeqCst) {
        if held {
            tracing::info!(holder = %holder, "this instance now runs the sync");
        } else {
            tracing::info!(holder = %holder, "another instance runs the sync");
        }
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A project's two sites.
pub fn sites(p: &Project) -> [(SiteRole, &str); 2] {
    [
        (SiteRole::Staging, p.netlify.staging_site_id.as_str()),
        (SiteRole::Production, p.netlify.production_site_id.as_str()),
    ]
}

pub fn repo_of(p: &Project) -> github::Repo {
    github::Repo::new(p.github.repo.owner(), p.github.repo.name())
}

/// An item's creation time; an unreadable one is a malformed answer.
fn created_ms(what: &str, id: &str, text: &str) -> Result<i64, SyncError> {
    parse_ms(text).ok_or_else(|| {
        SyncError::Malformed(format!("{what} {id} has an unreadable created_at {text:?}"))
    })
}

fn deploy_record(
    t: &SyncTarget,
    role: SiteRole,
    d: &netlify::Deploy,
    now: i64,
) -> Result<DeployRecord, SyncError> {
    let created = created_ms("Netlify deploy", &d.id, &d.created_at)?;
    let commit_url = d.commit_url.clone().or_else(|| {
        d.commit_ref
            .as_ref()
            .map(|sha| format!("https://github.com/{}/commit/{sha}", t.project.github.repo))
    });
    Ok(DeployRecord {
        site_id: d.site_id.clone(),
        deploy_id: d.id.clone(),
        project_id: t.project_id,
        site_role: role,
        context: d.context.clone().unwrap_or_else(|| "production".into()),
        branch: d.branch.clone(),
        state: DeployState::from(d.state.clone()),
        commit_sha: d.commit_ref.clone(),
        commit_message: d.title.clone(),
        commit_url,
        author: None,
        deploy_url: d.deploy_ssl_url.clone(),
        error_message: d.error_message.clone(),
        created_at_ms: created,
        published_at_ms: d.published_at.as_deref().and_then(parse_ms),
        updated_at_ms: d
            .updated_at
            .as_deref()
            .and_then(parse_ms)
            .unwrap_or(created),
        build_seconds: d.deploy_time.map(|s| s as i64),
        synced_at_ms: now,
        run_id: None,
    })
}

/// Whether the vendor's view of a deploy differs from the stored one
/// (sync bookkeeping, the linked run and the author are Greenroom's own).
fn differs(old: &DeployRecord, new: &DeployRecord) -> bool {
    old.state != new.state
        || old.published_at_ms != new.published_at_ms
        || old.updated_at_ms != new.updated_at_ms
        || old.error_message != new.error_message
        || old.build_seconds != new.build_seconds
        || old.branch != new.branch
        || old.context != new.context
        || old.commit_sha != new.commit_sha
        || old.commit_message != new.commit_message
        || old.deploy_url != new.deploy_url
}

fn run_record(
    t: &SyncTarget,
    r: &github::WorkflowRun,
    now: i64,
) -> Result<WorkflowRunRecord, SyncError> {
    let created = created_ms("GitHub run", &r.id.to_string(), &r.created_at)?;
    Ok(WorkflowRunRecord {
        run_id: r.id as i64,
        project_id: t.project_id,
        workflow: t.project.github.workflow.clone(),
        run_number: r.run_number as i64,
        run_attempt: i64::from(r.run_attempt.unwrap_or(1)),
        event: r.event.clone(),
        branch: r.head_branch.clone(),
        head_sha: r.head_sha.clone(),
        status: r.status.clone().unwrap_or_else(|| "queued".into()),
        conclusion: r.conclusion.clone(),
        actor: r.actor.as_ref().map(|a| a.login.clone()),
        html_url: Some(r.html_url.clone()),
        created_at_ms: created,
        updated_at_ms: parse_ms(&r.updated_at).unwrap_or(created),
        synced_at_ms: now,
    })
}

fn job_record(j: &github::Job) -> WorkflowJobRecord {
    let steps: Vec<StoredStep> = j
        .steps
        .iter()
        .map(|s| StoredStep {
            name: s.name.clone(),
            number: s.number,
            status: s.status.clone(),
            conclusion: s.conclusion.clone(),
            started_at_ms: s.started_at.as_deref().and_then(parse_ms),
            completed_at_ms: s.completed_at.as_deref().and_then(parse_ms),
        })
        .collect();
    WorkflowJobRecord {
        job_id: j.id as i64,
        run_id: j.run_id as i64,
        name: j.name.clone(),
        status: j.status.clone(),
        conclusion: j.conclusion.clone(),
        started_at_ms: parse_ms(&j.started_at),
        completed_at_ms: j.completed_at.as_deref().and_then(parse_ms),
        steps_json: serde_json::to_string(&steps).unwrap_or_else(|_| "[]".into()),
    }
}
