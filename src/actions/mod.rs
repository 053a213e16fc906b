//! The three on-call actions: deploy the staging branch, re-run the deploy
//! job, redeploy the last good build. Each one:
//!
//! 1. is planned from the database (what it will act on, what it replaces),
//!    and refused with a reason when it cannot apply (nothing to redeploy,
//!    a deploy already building);
//! 2. is claimed in the database: of any number of requests for the same
//!    action and project within its window, across tabs and instances,
//!    exactly one goes on, the others are told it is under way;
//! 3. writes its audit row `pending` before the upstream call and completes
//!    it after;
//! 4. announces its start and its end in Slack, once each;
//! 5. is watched to the end by the instance that started it, which records
//!    every state it sees, so a live view (and a reloaded page) can follow.

mod kind;
pub use kind::{applicable_to, ActionKind};

use crate::config::DeployMethod;
use crate::domain::DeployState;
use crate::notify::Notifier;
use crate::providers::github::RunFilter;
use crate::providers::{ErrorKind, ProviderError, Vendor, VendorClients};
use crate::runs;
use crate::steps::StepResult;
use crate::storage::{
    now_ms, ActionRecord, ActionState, AuditOutcome, Claim, DeployRecord, NewAction, NewAuditEvent,
    Storage, StorageError,
};
use crate::sync::{repo_of, SyncTarget, Syncer};
use crate::text;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// A finished action blocks an equal one for this long (a double click, a
/// second tab, another instance).
pub const ACTION_WINDOW_MS: i64 = 60_000;
/// An unfinished claim older than this belonged to an instance that died.
pub const STALE_CLAIM_MS: i64 = 45 * 60_000;
/// How long the watcher follows an action before giving up on it.
const WATCH_LIMIT: Duration = Duration::from_secs(40 * 60);

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{0}")]
    NotApplicable(String),
    #[error("{0}")]
    Upstream(String),
    #[error("Greenroom could not record the action: {0}")]
    Storage(#[from] StorageError),
}

/// Who asks, for the audit log and the messages.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub login: String,
    pub id: Option<i64>,
    pub role: String,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

/// What an action will do, for its confirmation dialog.
#[derive(Debug, Clone, Serialize)]
pub struct ActionPlan {
    pub kind: ActionKind,
    /// One sentence: what will happen.
    pub summary: String,
    /// The deploy that will be published (redeploy only).
    pub target: Option<DeployRecord>,
    /// What it replaces: the deploy staging serves now.
    pub replaces: Option<DeployRecord>,
    /// The run that will be re-run (re-run only), and whether only its failed jobs.
    pub run_id: Option<i64>,
    pub only_failed_jobs: bool,
    /// Why it cannot be done now, if it cannot.
    pub blocked: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub enum Started {
    /// This request started it.
    Started(ActionRecord),
    /// It was already under way (or just finished); nothing was sent.
    AlreadyUnderWay(ActionRecord),
}

/// Everything the actions need; cheap to clone.
#[derive(Clone)]
pub struct Actions {
    storage: Storage,
    clients: Arc<VendorClients>,
    notifier: Notifier,
    syncer: Arc<Syncer>,
    /// How often the watcher asks the vendor while following an action.
    poll: Duration,
}

/// A state seen while following an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ProgressStep {
    pub state: String,
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

pub fn progress_of(a: &ActionRecord) -> Vec<ProgressStep> {
    serde_json::from_str(&a.progress_json).unwrap_or_default()
}

impl Actions {
    pub fn new(
        storage: Storage,
        clients: Arc<VendorClients>,
        notifier: Notifier,
        syncer: Arc<Syncer>,
        poll: Duration,
    ) -> Self {
        Self {
            storage,
            clients,
            notifier,
            syncer,
            poll,
        }
    }

    /// What `kind` would do for `t` now, from the database.
    pub async fn plan(&self, t: &SyncTarget, kind: ActionKind) -> Result<ActionPlan, ActionError> {
        let p = &t.project;
        let site = p.netlify.staging_site_id.as_str();
        let branch = p.github.staging_branch.as_str();
        let live = self.storage.serving_deploy(site).await?;
        let latest = self
            .storage
            .latest_site_deploy(site, Some(branch), None, None)
            .await?;
        let building = latest.as_ref().filter(|d| !d.state.is_final());
        let deploy_run = self
            .storage
            .latest_run_with_job(t.project_id, &p.github.deploy_job, Some(branch))
            .await?;
        let run_active = deploy_run.as_ref().filter(|r| r.status != "completed");
        let mut plan = ActionPlan {
            kind,
            summary: String::new(),
            target: None,
            replaces: live.clone(),
            run_id: None,
            only_failed_jobs: false,
            blocked: None,
        };
        match kind {
            ActionKind::DeployStaging => {
                plan.summary = match p.deploy_method {
                    DeployMethod::WorkflowDispatch => format!(
                        "Start {} on {} (workflow_dispatch); its {} job deploys to staging.",
                        p.github.workflow, branch, p.github.deploy_job
                    ),
                    DeployMethod::NetlifyBuild => {
                        format!("Start a Netlify build of {branch} on the staging site.")
                    }
                };
                if let Some(d) = building {
                    plan.blocked = Some(format!(
                        "A staging deploy is already {} ({}); wait for it to finish.",
                        d.state,
                        text::short_sha(d.commit_sha.as_deref())
                    ));
                } else if let Some(r) = run_active {
                    plan.blocked = Some(format!(
                        "Run #{} of {} is already {}; wait for it to finish.",
                        r.run_number,
                        p.github.workflow,
                        r.status.replace('_', " ")
                    ));
                }
            }
            ActionKind::RerunDeployJob => match &deploy_run {
                None => {
                    plan.summary = "Re-run the deploy job.".into();
                    plan.blocked = Some(format!(
                        "No run of the {} job is known yet; deploy {branch} to staging instead.",
                        p.github.deploy_job
                    ));
                }
                Some(r) => {
                    let failed = matches!(
                        r.conclusion.as_deref(),
                        Some("failure" | "timed_out" | "cancelled")
                    );
                    plan.run_id = Some(r.run_id);
                    plan.only_failed_jobs = failed;
                    plan.summary = if failed {
                        format!(
                            "Re-run the failed jobs of run #{} ({}, {}).",
                            r.run_number,
                            text::short_sha(Some(&r.head_sha)),
                            r.conclusion.as_deref().unwrap_or("failed")
                        )
                    } else {
                        format!(
                            "Re-run all of run #{} ({}).",
                            r.run_number,
                            text::short_sha(Some(&r.head_sha))
                        )
                    };
                    if r.status != "completed" {
                        plan.blocked = Some(format!(
                            "Run #{} is still {}; it can be re-run once it finishes.",
                            r.run_number,
                            r.status.replace('_', " ")
                        ));
                    }
                }
            },
            ActionKind::RedeployLastGood => {
                let target = self.last_good(t, live.as_ref()).await?;
                plan.summary = match &target {
                    Some(d) => format!(
                        "Publish deploy {} of {} {} on staging again.",
                        d.deploy_id,
                        text::short_sha(d.commit_sha.as_deref()),
                        d.commit_message
                            .as_deref()
                            .map(|m| format!("\"{}\"", text::first_line(m)))
                            .unwrap_or_default()
                    ),
                    None => "Publish the last good staging deploy again.".into(),
                };
                if target.is_none() {
                    plan.blocked = Some(
                        "Nothing to redeploy: staging has no earlier successful deploy than the one it serves."
                            .into(),
                    );
                }
                plan.target = target;
            }
        }
        Ok(plan)
    }

    /// The newest ready deploy of the staging site, other than the one it
    /// serves, whose smoke test (if its run is known) did not fail.
    async fn last_good(
        &self,
        t: &SyncTarget,
        live: Option<&DeployRecord>,
    ) -> Result<Option<DeployRecord>, ActionError> {
        let site = t.project.netlify.staging_site_id.as_str();
        let mut before = None;
        // Bounded: look back through at most 50 candidates.
        for _ in 0..50 {
            let Some(d) = self
                .storage
                .latest_site_deploy(site, None, Some("ready"), before)
                .await?
            else {
                return Ok(None);
            };
            before = Some(d.created_at_ms);
            if live.is_some_and(|l| l.deploy_id == d.deploy_id) {
                continue;
            }
            let smoke_failed = match d.run_id {
                Some(run) => {
                    let jobs = self.storage.jobs_of_run(run).await?;
                    runs::deploy_job_smoke(&jobs, &t.project.github.deploy_job)
                        == Some(StepResult::Failed)
                }
                None => false,
            };
            if !smoke_failed {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    /// Runs `kind` for `t` as `actor`: claim, audit, call upstream, announce,
    /// and follow it in the background.
    pub async fn start(
        &self,
        t: &SyncTarget,
        kind: ActionKind,
        actor: &Actor,
    ) -> Result<Started, ActionError> {
        let plan = self.plan(t, kind).await?;
        let key = format!("{}:{}", t.project.name, kind.as_str());
        let target_json = serde_json::json!({
            "deploy_id": plan.target.as_ref().map(|d| d.deploy_id.clone()),
            "commit": plan.target.as_ref().and_then(|d| d.commit_sha.clone()),
            "replaces": plan.replaces.as_ref().map(|d| d.deploy_id.clone()),
            "run_id": plan.run_id,
            "only_failed_jobs": plan.only_failed_jobs,
        });
        // An action already under way wins over "cannot apply": the second
        // click is told what the first one is doing.
        let claim = self
            .storage
            .claim_action(
                &NewAction {
                    project_id: t.project_id,
                    kind: kind.as_str().into(),
                    active_key: key,
                    actor_login: Some(actor.login.clone()),
                    summary: plan.summary.clone(),
                    target_json: target_json.to_string(),
                },
                now_ms(),
                ACTION_WINDOW_MS,
                STALE_CLAIM_MS,
            )
            .await?;
        let action = match claim {
            Claim::AlreadyUnderWay(a) => return Ok(Started::AlreadyUnderWay(a)),
            Claim::Won(a) => a,
        };
        let audit = NewAuditEvent {
            actor_login: Some(actor.login.clone()),
            actor_id: actor.id,
            role: Some(actor.role.clone()),
            action: format!("action.{}", kind.as_str()),
            project: Some(t.project.name.to_string()),
            target_kind: Some(
                match kind {
                    ActionKind::RedeployLastGood => "deploy",
                    ActionKind::RerunDeployJob => "workflow_run",
                    ActionKind::DeployStaging => "branch",
                }
                .into(),
            ),
            target_id: Some(match kind {
                ActionKind::RedeployLastGood => plan
                    .target
                    .as_ref()
                    .map(|d| d.deploy_id.clone())
                    .unwrap_or_default(),
                ActionKind::RerunDeployJob => {
                    plan.run_id.map(|r| r.to_string()).unwrap_or_default()
                }
                ActionKind::DeployStaging => t.project.github.staging_branch.to_string(),
            }),
            params: target_json,
            request_id: actor.request_id.clone(),
            client_ip: actor.client_ip.clone(),
        };
        if let Some(reason) = plan.blocked.clone() {
            let audit_id = self
                .storage
                .record_finished_audit(&audit, AuditOutcome::Refused, Some(&reason))
                .await?;
            self.storage.set_action_audit(action.id, audit_id).await?;
            self.finish(&action, ActionState::Failed, None, Some(&reason), "refused")
                .await?;
            // Refused before anything was sent: free the key at once so the
            // real action can be asked for as soon as it applies.
            self.storage.release_action_key(action.id).await?;
            return Err(ActionError::NotApplicable(reason));
        }
        let audit_id = self
            .storage
            .record_audit(&audit, AuditOutcome::Pending)
            .await?;
        self.storage.set_action_audit(action.id, audit_id).await?;
        self.notifier
            .announce(
                &format!("action:{}:started", action.id),
                &format!(
                    ":rocket: {} started {} for {}: {}\n{}",
                    actor.login,
                    kind.label().to_lowercase(),
                    t.project.name,
                    plan.summary,
                    self.notifier.link(&format!("/?project={}", t.project.name))
                ),
            )
            .await;
        match self.call_upstream(t, kind, &plan).await {
            Err(e) => {
                let message = explain(&e, kind);
                self.storage
                    .complete_audit(audit_id, AuditOutcome::Failed, Some(&message), &[])
                    .await?;
                self.finish(&action, ActionState::Failed, None, Some(&message), "failed")
                    .await?;
                self.announce_end(t, &action, kind, false, &message).await;
                Err(ActionError::Upstream(message))
            }
            Ok(upstream_ref) => {
                self.storage
                    .complete_audit(
                        audit_id,
                        AuditOutcome::Succeeded,
                        Some("accepted by the vendor"),
                        std::slice::from_ref(&upstream_ref),
                    )
                    .await?;
                let mut progress = progress_of(&action);
                progress.push(ProgressStep {
                    state: "accepted".into(),
                    at_ms: now_ms(),
                    detail: Some(upstream_ref.clone()),
                });
                self.storage
                    .update_action(
                        action.id,
                        ActionState::Running,
                        Some(&upstream_ref),
                        None,
                        &to_json(&progress),
                        now_ms(),
                    )
                    .await?;
                let running = self.storage.get_action(action.id).await?.unwrap_or(action);
                let me = self.clone();
                let (target, watched) = (t.clone(), running.clone());
                tokio::spawn(async move { me.follow(&target, watched).await });
                Ok(Started::Started(running))
            }
        }
    }

    /// The one upstream mutation of `kind`; returns the vendor's reference.
    async fn call_upstream(
        &self,
        t: &SyncTarget,
        kind: ActionKind,
        plan: &ActionPlan,
    ) -> Result<String, ProviderError> {
        let p = &t.project;
        let repo = repo_of(p);
        match kind {
            ActionKind::RedeployLastGood => {
                let target = plan.target.as_ref().expect("planned with a target");
                let d = self
                    .clients
                    .netlify
                    .restore_site_deploy(&target.site_id, &target.deploy_id)
                    .await?;
                Ok(d.id)
            }
            ActionKind::RerunDeployJob => {
                let run_id = plan.run_id.expect("planned with a run") as u64;
                if plan.only_failed_jobs {
                    self.clients.github.rerun_failed_jobs(&repo, run_id).await?;
                } else {
                    self.clients.github.rerun_workflow(&repo, run_id).await?;
                }
                Ok(run_id.to_string())
            }
            ActionKind::DeployStaging => match p.deploy_method {
                DeployMethod::WorkflowDispatch => {
                    self.clients
                        .github
                        .create_workflow_dispatch(
                            &repo,
                            &p.github.workflow,
                            p.github.staging_branch.as_str(),
                            serde_json::Map::new(),
                        )
                        .await?;
                    Ok(format!("dispatch:{}", p.github.staging_branch))
                }
                DeployMethod::NetlifyBuild => {
                    let b = self
                        .clients
                        .netlify
                        .create_site_build(
                            p.netlify.staging_site_id.as_str(),
                            Some(p.github.staging_branch.as_str()),
                            false,
                        )
                        .await?;
                    Ok(format!("build:{}", b.id))
                }
            },
        }
    }

    async fn finish(
        &self,
        action: &ActionRecord,
        state: ActionState,
        upstream_ref: Option<&str>,
        message: Option<&str>,
        label: &str,
    ) -> Result<(), StorageError> {
        let mut progress = match self.storage.get_action(action.id).await? {
            Some(a) => progress_of(&a),
            None => progress_of(action),
        };
        // The last state seen already carries the detail of a normal end.
        let repeats = progress.last().and_then(|p| p.detail.as_deref()) == message;
        progress.push(ProgressStep {
            state: label.into(),
            at_ms: now_ms(),
            detail: message.filter(|_| !repeats).map(str::to_string),
        });
        self.storage
            .update_action(
                action.id,
                state,
                upstream_ref,
                message,
                &to_json(&progress),
                now_ms(),
            )
            .await
    }

    async fn announce_end(
        &self,
        t: &SyncTarget,
        action: &ActionRecord,
        kind: ActionKind,
        ok: bool,
        detail: &str,
    ) {
        let text = format!(
            "{} {} for {} {}: {detail}\n{}",
            if ok { ":white_check_mark:" } else { ":x:" },
            kind.label(),
            t.project.name,
            if ok { "finished" } else { "failed" },
            self.notifier.link(&format!("/?project={}", t.project.name))
        );
        self.notifier
            .announce(&format!("action:{}:ended", action.id), &text)
            .await;
    }

    /// Follows a started action to its end, recording each new state.
    pub async fn follow(&self, t: &SyncTarget, action: ActionRecord) {
        let kind = ActionKind::parse(&action.kind);
        let started = std::time::Instant::now();
        let mut last_state = String::new();
        let mut dispatched_run: Option<u64> = None;
        let prior_attempt = self.prior_attempt(&action).await;
        loop {
            let observed = match kind {
                Some(k) => {
                    self.observe(t, k, &action, &mut dispatched_run, prior_attempt)
                        .await
                }
                None => Ok(Observed::done(false, "unknown action kind")),
            };
            match observed {
                Ok(o) => {
                    if o.state != last_state {
                        last_state = o.state.clone();
                        let _ = self.record_progress(&action, &o).await;
                    }
                    if let Some(ok) = o.finished {
                        let detail = o.detail.clone().unwrap_or_else(|| o.state.clone());
                        let state = if ok {
                            ActionState::Succeeded
                        } else {
                            ActionState::Failed
                        };
                        // One pass first, so that when the action reads as
                        // over, the pages already show its result.
                        self.syncer.sync_project(t).await;
                        let _ = self
                            .finish(
                                &action,
                                state,
                                None,
                                Some(&detail),
                                if ok { "finished" } else { "failed" },
                            )
                            .await;
                        if let Some(k) = kind {
                            self.announce_end(t, &action, k, ok, &detail).await;
                        }
                        return;
                    }
                }
                Err(e) => {
                    tracing::debug!(action = action.id, error = %e, "could not check an action's progress; trying again");
                }
            }
            if started.elapsed() > WATCH_LIMIT {
                let msg = "Greenroom stopped following this action after 40 minutes; check the vendor for its outcome";
                let _ = self
                    .finish(&action, ActionState::Failed, None, Some(msg), "timed out")
                    .await;
                return;
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn prior_attempt(&self, action: &ActionRecord) -> i64 {
        let run_id = action
            .upstream_ref
            .as_deref()
            .and_then(|r| r.parse::<i64>().ok());
        match run_id {
            Some(id) => self
                .storage
                .get_run(id)
                .await
                .ok()
                .flatten()
                .map(|r| r.run_attempt)
                .unwrap_or(1),
            None => 0,
        }
    }

    async fn record_progress(
        &self,
        action: &ActionRecord,
        o: &Observed,
    ) -> Result<(), StorageError> {
        let current = self.storage.get_action(action.id).await?;
        let mut progress = current.as_ref().map(progress_of).unwrap_or_default();
        progress.push(ProgressStep {
            state: o.state.clone(),
            at_ms: now_ms(),
            detail: o.detail.clone(),
        });
        self.storage
            .update_action(
                action.id,
                ActionState::Running,
                None,
                None,
                &to_json(&progress),
                now_ms(),
            )
            .await
    }

    /// Where an action stands at the vendor now.
    async fn observe(
        &self,
        t: &SyncTarget,
        kind: ActionKind,
        action: &ActionRecord,
        dispatched_run: &mut Option<u64>,
        prior_attempt: i64,
    ) -> Result<Observed, ProviderError> {
        let p = &t.project;
        let repo = repo_of(p);
        let reference = action.upstream_ref.clone().unwrap_or_default();
        match kind {
            ActionKind::RedeployLastGood => {
                let site = self
                    .clients
                    .netlify
                    .get_site(p.netlify.staging_site_id.as_str())
                    .await?;
                let live = site.published_deploy.map(|d| d.id);
                Ok(if live.as_deref() == Some(reference.as_str()) {
                    Observed::done(true, "ready: staging serves the restored deploy")
                } else {
                    Observed::at("publishing", None)
                })
            }
            ActionKind::DeployStaging if reference.starts_with("build:") => {
                let build = self
                    .clients
                    .netlify
                    .get_site_build(reference.trim_start_matches("build:"))
                    .await?;
                let Some(deploy_id) = build.deploy_id else {
                    return Ok(Observed::at("enqueued", None));
                };
                let d = self
                    .clients
                    .netlify
                    .get_site_deploy(p.netlify.staging_site_id.as_str(), &deploy_id)
                    .await?;
                Ok(deploy_observed(&d.state, d.error_message))
            }
            ActionKind::DeployStaging => {
                if dispatched_run.is_none() {
                    let runs = self
                        .clients
                        .github
                        .list_workflow_runs(
                            &repo,
                            &p.github.workflow,
                            &RunFilter {
                                branch: Some(p.github.staging_branch.to_string()),
                                event: Some("workflow_dispatch".into()),
                                status: None,
                            },
                            Some(10),
                        )
                        .await?;
                    // The dispatch answers with no id: the run is the newest
                    // dispatched one created since the action began.
                    *dispatched_run = runs
                        .iter()
                        .filter(|r| {
                            text::parse_ms(&r.created_at)
                                .is_some_and(|c| c >= action.started_at_ms - 5_000)
                        })
                        .map(|r| r.id)
                        .max();
                }
                match *dispatched_run {
                    None => Ok(Observed::at("waiting for the run to appear", None)),
                    Some(id) => self.run_observed(t, id, 0).await,
                }
            }
            ActionKind::RerunDeployJob => {
                let id = reference.parse::<u64>().unwrap_or_default();
                self.run_observed(t, id, prior_attempt).await
            }
        }
    }

    /// A run's progress as states a person follows: queued, the deploy
    /// job's current step, then its conclusion. Before the re-run's new
    /// attempt shows up, the run still reads as the previous attempt.
    async fn run_observed(
        &self,
        t: &SyncTarget,
        run_id: u64,
        prior_attempt: i64,
    ) -> Result<Observed, ProviderError> {
        let repo = repo_of(&t.project);
        let run = self.clients.github.get_workflow_run(&repo, run_id).await?;
        if i64::from(run.run_attempt.unwrap_or(1)) <= prior_attempt
            && run.status.as_deref() == Some("completed")
        {
            return Ok(Observed::at("re-run requested", None));
        }
        let status = run.status.clone().unwrap_or_else(|| "queued".into());
        if status == "completed" {
            let conclusion = run.conclusion.clone().unwrap_or_else(|| "unknown".into());
            let ok = conclusion == "success";
            return Ok(Observed::done(
                ok,
                &format!("run #{} completed: {conclusion}", run.run_number),
            ));
        }
        let jobs = self
            .clients
            .github
            .list_jobs_for_workflow_run(&repo, run_id)
            .await?;
        let step = jobs
            .iter()
            .rev()
            .flat_map(|j| j.steps.iter().map(move |s| (j, s)))
            .find(|(_, s)| s.status == "in_progress")
            .map(|(j, s)| format!("{}: {}", j.name, s.name));
        Ok(Observed::at(
            &step.unwrap_or_else(|| status.replace('_', " ")),
            Some(format!("run #{}", run.run_number)),
        ))
    }

    /// Picks up actions an earlier process left unfinished: those that
    /// reached the vendor are followed again; those that never did are
    /// failed with an "outcome unknown" note.
    pub async fn resume_unfinished(&self, targets: &[SyncTarget]) {
        let Ok(unfinished) = self.storage.unfinished_actions().await else {
            return;
        };
        for a in unfinished {
            let Some(t) = targets.iter().find(|t| t.project_id == a.project_id) else {
                continue;
            };
            if a.state == ActionState::Running && a.upstream_ref.is_some() {
                let me = self.clone();
                let t = t.clone();
                tokio::spawn(async move { me.follow(&t, a).await });
            } else {
                let _ = self
                    .finish(
                        &a,
                        ActionState::Failed,
                        None,
                        Some("Greenroom stopped before the vendor answered; check the vendor for what happened"),
                        "outcome unknown",
                    )
                    .await;
            }
        }
    }
}

struct Observed {
    state: String,
    detail: Option<String>,
    /// `Some(success)` once it is over.
    finished: Option<bool>,
}

impl Observed {
    fn at(state: &str, detail: Option<String>) -> Self {
        Self {
            state: state.into(),
            detail,
            finished: None,
        }
    }
    fn done(ok: bool, detail: &str) -> Self {
        Self {
            state: if ok { "ready" } else { "failed" }.into(),
            detail: Some(detail.into()),
            finished: Some(ok),
        }
    }
}

fn deploy_observed(state: &str, error: Option<String>) -> Observed {
    match DeployState::from(state.to_string()) {
        DeployState::Ready => Observed::done(true, "ready"),
        DeployState::Error => Observed::done(
            false,
            &format!(
                "error{}",
                error.map(|e| format!(": {e}")).unwrap_or_default()
            ),
        ),
        DeployState::Cancelled => Observed::done(false, "cancelled"),
        other => Observed::at(other.as_str(), None),
    }
}

fn to_json(progress: &[ProgressStep]) -> String {
    serde_json::to_string(progress).unwrap_or_else(|_| "[]".into())
}

/// A vendor error as on-call should read it, with what to do. For a
/// refused permission it names the token and the permission the action needs.
pub fn explain(e: &ProviderError, kind: ActionKind) -> String {
    match (&e.kind, e.vendor) {
        (ErrorKind::Forbidden { detail }, Vendor::GitHub)
            if detail.contains("already running") || detail.contains("no failed jobs") =>
        {
            format!("GitHub refused: {detail}.")
        }
        (ErrorKind::Forbidden { .. } | ErrorKind::Unauthorized, Vendor::GitHub) => format!(
            "{e}. {} needs the \"actions: write\" permission (fine-grained token) or the \"repo\" and \"workflow\" scopes (classic token) on the repository.",
            Vendor::GitHub.credential_var()
        ),
        (ErrorKind::Forbidden { .. } | ErrorKind::Unauthorized, Vendor::Netlify) => format!(
            "{e}. {} must belong to a Netlify user who may deploy the staging site (Developer role or above on the team).",
            Vendor::Netlify.credential_var()
        ),
        (ErrorKind::NotFound { .. }, Vendor::Netlify) if kind == ActionKind::RedeployLastGood => {
            "Netlify no longer has that deploy (it was deleted or the site changed); nothing was published. Greenroom will pick another once sync catches up.".into()
        }
        _ => format!("{e}. Nothing was changed."),
    }
}
