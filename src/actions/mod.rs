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
//!
//! What happens after the claim runs as a task owned by the server, not by
//! the request: a client that goes away does not stop it. A vendor that
//! does not answer (a timeout, a 5xx, a connection lost mid-way) may still
//! have acted, so such an outcome is `unknown`, never "nothing was changed":
//! the action keeps its key and is reconciled by asking the vendor what
//! happened. Each unfinished action has an owner instance that renews its
//! heartbeat; when the heartbeat stops (a crash, a restart), exactly one live
//! instance adopts the action and finishes it the same way.

mod branches;
mod kind;
pub use branches::{explain_branch, BranchOp, BranchRequest};
pub use kind::{applicable_to, ActionKind};

use crate::config::DeployMethod;
use crate::domain::DeployState;
use crate::notify::Notifier;
use crate::providers::github::{self, RunFilter};
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
/// An unfinished action whose heartbeat is older than this lost its owner.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How long the vendor must show no trace of an unanswered request before
/// Greenroom says nothing was changed (a dispatched run can take a while to
/// be listed).
pub const DEFAULT_RECONCILE_QUIET: Duration = Duration::from_secs(60);
/// Checks spent on finding what happened before the action is left to the
/// person (at the watcher's pace, with errors counted).
const RECONCILE_MAX_CHECKS: u32 = 600;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// What was asked for is not valid (a branch name Supabase refuses).
    #[error("{0}")]
    Invalid(String),
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
    /// The attempt that run was at when planned (re-run only): a higher one
    /// at the vendor means the re-run happened.
    pub run_attempt: Option<i64>,
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
    /// This process's name as an action's owner.
    instance: Arc<str>,
    /// The actions this process is working on now: only these get their
    /// heartbeat renewed, so a task that ends abnormally lets its action go.
    live: Arc<std::sync::Mutex<std::collections::HashMap<i64, usize>>>,
    /// Actions another instance adopted while this one still worked on them
    /// (its heartbeat could not be written in time): this one stops.
    lost: Arc<std::sync::Mutex<std::collections::HashSet<i64>>>,
    lease: Duration,
    reconcile_quiet: Duration,
}

/// Marks an action as worked on by this process while it lives.
struct LiveGuard {
    live: Arc<std::sync::Mutex<std::collections::HashMap<i64, usize>>>,
    id: i64,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        let mut live = lock(&self.live);
        if let Some(n) = live.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                live.remove(&self.id);
            }
        }
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What an unanswered request turned out to have done.
enum Evidence {
    /// The vendor acted: follow this reference to the end.
    Acted(String),
    /// The vendor acted and it is already over (a restored deploy is live).
    Done(String),
    /// No trace of it yet.
    Nothing,
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
        let mut random = [0u8; 4];
        let _ = getrandom::fill(&mut random);
        let instance = format!(
            "{}-{}-{:08x}",
            std::process::id(),
            now_ms(),
            u32::from_be_bytes(random)
        );
        Self {
            storage,
            clients,
            notifier,
            syncer,
            poll,
            instance: instance.into(),
            live: Default::default(),
            lost: Default::default(),
            lease: DEFAULT_LEASE,
            reconcile_quiet: DEFAULT_RECONCILE_QUIET,
        }
    }

    /// Shorter (or longer) times than the defaults, for tests and operators:
    /// how long a silent owner keeps its actions, and how long the vendor
    /// must show no trace of an unanswered request.
    pub fn with_timing(mut self, lease: Duration, reconcile_quiet: Duration) -> Self {
        self.lease = lease;
        self.reconcile_quiet = reconcile_quiet;
        self
    }

    /// This process's name as an action's owner.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether another instance took `id` over: this one must stop on it.
    fn lost(&self, id: i64) -> bool {
        lock(&self.lost).contains(&id)
    }

    fn hold(&self, id: i64) -> LiveGuard {
        *lock(&self.live).entry(id).or_default() += 1;
        LiveGuard {
            live: self.live.clone(),
            id,
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
        let building = latest.as_ref().filter(|d| d.state.is_in_progress());
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
            run_attempt: None,
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
                    plan.run_attempt = Some(r.run_attempt);
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
    /// and follow it in the background. Everything after the claim runs in a
    /// task the server owns: if the caller goes away, it still completes.
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
            "run_attempt": plan.run_attempt,
            "only_failed_jobs": plan.only_failed_jobs,
        });
        // An action already under way wins over "cannot apply": the second
        // click is told what the first one is doing.
        let new = NewAction {
            project_id: t.project_id,
            kind: kind.as_str().into(),
            active_key: key,
            actor_login: Some(actor.login.clone()),
            summary: plan.summary.clone(),
            target_json: target_json.to_string(),
            owner: self.instance.to_string(),
        };
        let (t, actor) = (t.clone(), actor.clone());
        self.claim_and_run(&new, "the action", move |me, action| async move {
            me.carry_out(&t, kind, &actor, plan, target_json, action)
                .await
        })
        .await
    }

    /// Claims `new`; if this request won the claim, runs `work` in a task the
    /// server owns (so a caller that goes away does not stop it) and answers
    /// what it answers. `what` names the work in the error a crashed task
    /// leaves, which the reconciler then finishes.
    async fn claim_and_run<F, Fut>(
        &self,
        new: &NewAction,
        what: &str,
        work: F,
    ) -> Result<Started, ActionError>
    where
        F: FnOnce(Actions, ActionRecord) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<Started, ActionError>> + Send + 'static,
    {
        let claim = self
            .storage
            .claim_action(new, now_ms(), ACTION_WINDOW_MS, STALE_CLAIM_MS)
            .await?;
        let action = match claim {
            Claim::AlreadyUnderWay(a) => return Ok(Started::AlreadyUnderWay(a)),
            Claim::Won(a) => a,
        };
        let guard = self.hold(action.id);
        let me = self.clone();
        let task = tokio::spawn(async move {
            let _guard = guard;
            work(me, action).await
        });
        match task.await {
            Ok(result) => result,
            Err(e) => Err(ActionError::Upstream(format!(
                "Greenroom stopped working on {what} ({e}); it will find out what the vendor did and record it"
            ))),
        }
    }

    /// Audit, announce, call upstream and record the answer, for a claimed
    /// action; then follow it (or reconcile it) in the background.
    async fn carry_out(
        &self,
        t: &SyncTarget,
        kind: ActionKind,
        actor: &Actor,
        plan: ActionPlan,
        target_json: serde_json::Value,
        action: ActionRecord,
    ) -> Result<Started, ActionError> {
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
        // Slack is told in parallel: a slow webhook never delays the vendor call.
        let announced = {
            let notifier = self.notifier.clone();
            let (key, text) = (
                format!("action:{}:started", action.id),
                format!(
                    ":rocket: {} started {} for {}: {}\n{}",
                    actor.login,
                    kind.label().to_lowercase(),
                    t.project.name,
                    plan.summary,
                    self.notifier.link(&format!("/?project={}", t.project.name))
                ),
            );
            tokio::spawn(async move { notifier.announce(&key, &text).await })
        };
        let mut target_json = audit.params;
        self.note_before_call(t, kind, &mut target_json).await;
        if let Err(e) = self
            .storage
            .set_action_target(action.id, &target_json.to_string())
            .await
        {
            tracing::warn!(action = action.id, error = %e, "could not record what the vendor showed before the call");
        }
        if self.lost(action.id) {
            // Another instance adopted the action while this one was slow to
            // reach the call: it finishes it; calling too could act twice.
            return Err(ActionError::Upstream(
                "Another Greenroom instance took this action over; follow it below".into(),
            ));
        }
        match self.call_upstream(t, kind, &plan).await {
            Err(e) if e.outcome_unknown() => {
                let message = format!(
                    "{e}. {} may have acted on it: Greenroom is asking it what happened, and holds the action until it knows.",
                    e.vendor
                );
                self.storage
                    .settle_audit(audit_id, AuditOutcome::Unknown, Some(&message), &[])
                    .await?;
                self.mark_unknown(&action, &message).await?;
                let unknown = self.storage.get_action(action.id).await?.unwrap_or(action);
                let me = self.clone();
                let (target, a) = (t.clone(), unknown.clone());
                let guard = self.hold(a.id);
                tokio::spawn(async move {
                    let _guard = guard;
                    let _ = announced.await;
                    me.reconcile(&target, a).await
                });
                Ok(Started::Started(unknown))
            }
            Err(e) => {
                let message = explain(&e, kind);
                self.storage
                    .settle_audit(audit_id, AuditOutcome::Failed, Some(&message), &[])
                    .await?;
                self.finish(&action, ActionState::Failed, None, Some(&message), "failed")
                    .await?;
                let _ = announced.await;
                self.announce_end(t, &action, kind, false, &message).await;
                Err(ActionError::Upstream(message))
            }
            Ok(upstream_ref) => {
                self.storage
                    .settle_audit(
                        audit_id,
                        AuditOutcome::Succeeded,
                        Some("accepted by the vendor"),
                        std::slice::from_ref(&upstream_ref),
                    )
                    .await?;
                let running = self.accepted(&action, &upstream_ref, None).await?;
                let me = self.clone();
                let (target, watched) = (t.clone(), running.clone());
                let guard = self.hold(watched.id);
                tokio::spawn(async move {
                    let _guard = guard;
                    let _ = announced.await;
                    me.follow(&target, watched).await
                });
                Ok(Started::Started(running))
            }
        }
    }

    /// What the vendor shows just before the call, so that reconciling can
    /// tell this action's run or build from those that existed already (and
    /// a re-run's attempt from GitHub itself, not from a synced copy). A
    /// failure here only leaves reconciling to compare times.
    async fn note_before_call(
        &self,
        t: &SyncTarget,
        kind: ActionKind,
        target: &mut serde_json::Value,
    ) {
        let p = &t.project;
        let noted = match (kind, p.deploy_method) {
            (ActionKind::RerunDeployJob, _) => match target["run_id"].as_u64() {
                Some(run_id) => self
                    .clients
                    .github
                    .get_workflow_run(&repo_of(p), run_id)
                    .await
                    .map(|r| ("run_attempt", serde_json::json!(r.run_attempt.unwrap_or(1)))),
                None => return,
            },
            (ActionKind::DeployStaging, DeployMethod::WorkflowDispatch) => self
                .clients
                .github
                .list_workflow_runs(&repo_of(p), &p.github.workflow, &dispatch_runs(p), Some(20))
                .await
                .map(|runs| {
                    let ids: Vec<u64> = runs.iter().map(|r| r.id).collect();
                    ("known_runs", serde_json::json!(ids))
                }),
            (ActionKind::DeployStaging, DeployMethod::NetlifyBuild) => self
                .clients
                .netlify
                .list_site_builds(p.netlify.staging_site_id.as_str(), Some(20))
                .await
                .map(|builds| {
                    let ids: Vec<String> = builds.into_iter().map(|b| b.id).collect();
                    ("known_builds", serde_json::json!(ids))
                }),
            (ActionKind::RedeployLastGood, _) => return,
        };
        match noted {
            Ok((key, value)) => target[key] = value,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the vendor before an action; reconciling would compare times only")
            }
        }
    }

    /// Records that the vendor took the action (`upstream_ref`), so the
    /// watcher follows it from here.
    async fn accepted(
        &self,
        action: &ActionRecord,
        upstream_ref: &str,
        detail: Option<&str>,
    ) -> Result<ActionRecord, StorageError> {
        let current = self.storage.get_action(action.id).await?;
        let mut progress = progress_of(current.as_ref().unwrap_or(action));
        progress.push(ProgressStep {
            state: "accepted".into(),
            at_ms: now_ms(),
            detail: Some(detail.map_or_else(|| upstream_ref.to_string(), str::to_string)),
        });
        self.storage
            .update_action(
                action.id,
                ActionState::Running,
                Some(upstream_ref),
                None,
                &to_json(&progress),
                now_ms(),
                Some(self.instance()),
            )
            .await?;
        Ok(self
            .storage
            .get_action(action.id)
            .await?
            .unwrap_or_else(|| action.clone()))
    }

    async fn mark_unknown(&self, action: &ActionRecord, message: &str) -> Result<(), StorageError> {
        let current = self.storage.get_action(action.id).await?;
        let mut progress = progress_of(current.as_ref().unwrap_or(action));
        progress.push(ProgressStep {
            state: "outcome unknown".into(),
            at_ms: now_ms(),
            detail: Some(message.to_string()),
        });
        self.storage
            .update_action(
                action.id,
                ActionState::Unknown,
                None,
                Some(message),
                &to_json(&progress),
                now_ms(),
                Some(self.instance()),
            )
            .await
    }

    /// Finds out what an unanswered (or abandoned) action did at the vendor,
    /// records it, and follows it to the end if it was carried out. Only a
    /// vendor that shows no trace of it for `reconcile_quiet` makes it
    /// "nothing was changed".
    async fn reconcile(&self, t: &SyncTarget, action: ActionRecord) {
        let Some(kind) = ActionKind::parse(&action.kind) else {
            let _ = self
                .finish(
                    &action,
                    ActionState::Failed,
                    None,
                    Some("unknown action kind"),
                    "failed",
                )
                .await;
            return;
        };
        // Adopted before its vendor call answered: say so, in the action and
        // in its audit row, until the vendor is asked.
        if action.state == ActionState::Starting {
            let why = "Greenroom stopped before the vendor answered (or before the call was made); asking the vendor what happened";
            if let Some(audit) = action.audit_id {
                let _ = self
                    .storage
                    .settle_audit(audit, AuditOutcome::Unknown, Some(why), &[])
                    .await;
            }
            let _ = self.mark_unknown(&action, why).await;
        }
        let began = std::time::Instant::now();
        let mut last_error: Option<ProviderError> = None;
        for _ in 0..RECONCILE_MAX_CHECKS {
            tokio::time::sleep(self.poll).await;
            if self.lost(action.id) {
                return;
            }
            match self.evidence(t, kind, &action).await {
                Ok(Evidence::Acted(reference)) => {
                    let note = format!(
                        "{} did act on the request (found {reference} after asking it)",
                        vendor_of(t, kind)
                    );
                    if let Some(audit) = action.audit_id {
                        let _ = self
                            .storage
                            .settle_audit(
                                audit,
                                AuditOutcome::Succeeded,
                                Some(&note),
                                std::slice::from_ref(&reference),
                            )
                            .await;
                    }
                    match self.accepted(&action, &reference, Some(&note)).await {
                        Ok(running) => self.follow(t, running).await,
                        Err(e) => {
                            tracing::warn!(action = action.id, error = %e, "could not record a reconciled action")
                        }
                    }
                    return;
                }
                Ok(Evidence::Done(detail)) => {
                    if let Some(audit) = action.audit_id {
                        let _ = self
                            .storage
                            .settle_audit(audit, AuditOutcome::Succeeded, Some(&detail), &[])
                            .await;
                    }
                    self.syncer.sync_project(t).await;
                    let _ = self
                        .finish(
                            &action,
                            ActionState::Succeeded,
                            None,
                            Some(&detail),
                            "finished",
                        )
                        .await;
                    self.announce_end(t, &action, kind, true, &detail).await;
                    return;
                }
                Ok(Evidence::Nothing) => {
                    last_error = None;
                    if began.elapsed() >= self.reconcile_quiet {
                        let detail = format!(
                            "{} shows no trace of the request after {} s of asking: nothing was changed. It can be tried again.",
                            vendor_of(t, kind),
                            self.reconcile_quiet.as_secs().max(1)
                        );
                        if let Some(audit) = action.audit_id {
                            let _ = self
                                .storage
                                .settle_audit(audit, AuditOutcome::Failed, Some(&detail), &[])
                                .await;
                        }
                        let _ = self
                            .finish(
                                &action,
                                ActionState::Failed,
                                None,
                                Some(&detail),
                                "nothing changed",
                            )
                            .await;
                        self.announce_end(t, &action, kind, false, &detail).await;
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(action = action.id, error = %e, "could not ask the vendor what an action did; asking again");
                    last_error = Some(e);
                }
            }
            if began.elapsed() > WATCH_LIMIT {
                break;
            }
        }
        let detail = format!(
            "Greenroom could not find out what {} did{}; check it before trying again",
            vendor_of(t, kind),
            last_error.map(|e| format!(" ({e})")).unwrap_or_default()
        );
        self.give_up(Some((t, kind)), &action, &detail, true).await;
    }

    /// Ends an action whose outcome Greenroom cannot find out: `unknown`,
    /// never `failed`, since the vendor may yet act on it; the key stays held
    /// for the stale window and the page (and Slack, where the project is
    /// known) says to check the vendor. With `settle`, the audit row says
    /// the same.
    async fn give_up(
        &self,
        about: Option<(&SyncTarget, ActionKind)>,
        action: &ActionRecord,
        detail: &str,
        settle: bool,
    ) {
        if let (true, Some(audit)) = (settle, action.audit_id) {
            let _ = self
                .storage
                .settle_audit(audit, AuditOutcome::Unknown, Some(detail), &[])
                .await;
        }
        let mut progress = match self.storage.get_action(action.id).await {
            Ok(Some(a)) => progress_of(&a),
            _ => progress_of(action),
        };
        progress.push(ProgressStep {
            state: "outcome unknown".into(),
            at_ms: now_ms(),
            detail: Some(detail.to_string()),
        });
        if let Err(e) = self
            .storage
            .give_up_action(
                action.id,
                detail,
                &to_json(&progress),
                now_ms(),
                Some(self.instance()),
            )
            .await
        {
            tracing::warn!(action = action.id, error = %e, "could not record that an action's outcome stays unknown");
        }
        if let Some((t, kind)) = about {
            self.announce_unknown(t, kind, action, detail).await;
        }
    }

    /// What the vendor shows of an action Greenroom got no answer for: a
    /// build, deploy or run made since the request, or the restored deploy live.
    async fn evidence(
        &self,
        t: &SyncTarget,
        kind: ActionKind,
        action: &ActionRecord,
    ) -> Result<Evidence, ProviderError> {
        let p = &t.project;
        let target: serde_json::Value =
            serde_json::from_str(&action.target_json).unwrap_or_default();
        // Without a list of what existed before the call (it could not be
        // read), only times tell: the vendor's clock and ours may differ a
        // little. With the list, anything new is the action's, bounded to
        // the last hour so a stale list cannot reach far back.
        let since = action.started_at_ms - 5_000;
        let after = |at: &str| text::parse_ms(at).is_some_and(|c| c >= since);
        let within =
            |at: &str| text::parse_ms(at).is_some_and(|c| c >= action.started_at_ms - 3_600_000);
        match kind {
            ActionKind::RedeployLastGood => {
                let Some(deploy) = target["deploy_id"].as_str() else {
                    return Ok(Evidence::Nothing);
                };
                let site = self
                    .clients
                    .netlify
                    .get_site(p.netlify.staging_site_id.as_str())
                    .await?;
                Ok(
                    if site.published_deploy.map(|d| d.id).as_deref() == Some(deploy) {
                        Evidence::Done(format!(
                            "ready: Netlify publishes deploy {deploy} on staging (it did act on the request)"
                        ))
                    } else {
                        Evidence::Nothing
                    },
                )
            }
            ActionKind::RerunDeployJob => {
                let Some(run_id) = target["run_id"].as_u64() else {
                    return Ok(Evidence::Nothing);
                };
                let prior = target["run_attempt"].as_i64().unwrap_or(1);
                let run = self
                    .clients
                    .github
                    .get_workflow_run(&repo_of(p), run_id)
                    .await?;
                let attempt = i64::from(run.run_attempt.unwrap_or(1));
                Ok(
                    if attempt > prior || run.status.as_deref() != Some("completed") {
                        Evidence::Acted(run_id.to_string())
                    } else {
                        Evidence::Nothing
                    },
                )
            }
            ActionKind::DeployStaging => match p.deploy_method {
                DeployMethod::WorkflowDispatch => {
                    let runs = self
                        .clients
                        .github
                        .list_workflow_runs(
                            &repo_of(p),
                            &p.github.workflow,
                            &dispatch_runs(p),
                            Some(10),
                        )
                        .await?;
                    let known: Option<Vec<u64>> = target["known_runs"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_u64()).collect());
                    let new = |r: &github::WorkflowRun| match &known {
                        Some(k) => !k.contains(&r.id) && within(&r.created_at),
                        None => after(&r.created_at),
                    };
                    Ok(if runs.iter().any(new) {
                        Evidence::Acted(format!("dispatch:{}", p.github.staging_branch))
                    } else {
                        Evidence::Nothing
                    })
                }
                DeployMethod::NetlifyBuild => {
                    let builds = self
                        .clients
                        .netlify
                        .list_site_builds(p.netlify.staging_site_id.as_str(), Some(10))
                        .await?;
                    let known: Option<Vec<&str>> = target["known_builds"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str()).collect());
                    Ok(
                        match builds
                            .iter()
                            .filter(|b| match &known {
                                Some(k) => !k.contains(&b.id.as_str()) && within(&b.created_at),
                                None => after(&b.created_at),
                            })
                            .min_by_key(|b| text::parse_ms(&b.created_at))
                        {
                            Some(b) => Evidence::Acted(format!("build:{}", b.id)),
                            None => Evidence::Nothing,
                        },
                    )
                }
            },
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
                Some(self.instance()),
            )
            .await
    }

    async fn announce_unknown(
        &self,
        t: &SyncTarget,
        kind: ActionKind,
        action: &ActionRecord,
        detail: &str,
    ) {
        let text = format!(
            ":warning: {} for {}: outcome unknown: {detail}\n{}",
            kind.label(),
            t.project.name,
            self.notifier.link(&format!("/?project={}", t.project.name))
        );
        self.notifier
            .announce(&format!("action:{}:ended", action.id), &text)
            .await;
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
            if self.lost(action.id) {
                return;
            }
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
                self.give_up(kind.map(|k| (t, k)), &action, msg, false)
                    .await;
                return;
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn prior_attempt(&self, action: &ActionRecord) -> i64 {
        let planned: serde_json::Value =
            serde_json::from_str(&action.target_json).unwrap_or_default();
        if let Some(attempt) = planned["run_attempt"].as_i64() {
            return attempt;
        }
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
                Some(self.instance()),
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
                        .list_workflow_runs(&repo, &p.github.workflow, &dispatch_runs(p), Some(10))
                        .await?;
                    // The dispatch answers with no id: the run is the oldest
                    // dispatched one that was not there before the call (or,
                    // if that list could not be read, created since the
                    // action began).
                    let planned: serde_json::Value =
                        serde_json::from_str(&action.target_json).unwrap_or_default();
                    let known: Option<Vec<u64>> = planned["known_runs"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_u64()).collect());
                    *dispatched_run = runs
                        .iter()
                        .filter(|r| {
                            let created = text::parse_ms(&r.created_at);
                            match &known {
                                Some(k) => {
                                    !k.contains(&r.id)
                                        && created
                                            .is_some_and(|c| c >= action.started_at_ms - 3_600_000)
                                }
                                None => created.is_some_and(|c| c >= action.started_at_ms - 5_000),
                            }
                        })
                        .map(|r| r.id)
                        .min();
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

    /// Keeps this process's actions alive and adopts the ones whose owner
    /// went silent (a crash, a restart, another instance stopped): those the
    /// vendor accepted are followed again; those whose answer never came are
    /// reconciled. Each orphan is adopted by exactly one instance.
    pub async fn run_reconciler(
        self,
        targets: Vec<SyncTarget>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let tick = (self.lease / 3).max(Duration::from_millis(50));
        loop {
            let _ = self.reconcile_once(&targets).await;
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// One heartbeat and one adoption pass; returns how many actions this
    /// instance adopted.
    pub async fn reconcile_once(&self, targets: &[SyncTarget]) -> usize {
        let ids: Vec<i64> = lock(&self.live).keys().copied().collect();
        match self
            .storage
            .heartbeat_actions(&self.instance, &ids, now_ms())
            .await
        {
            Ok(lost) => {
                for id in lost {
                    tracing::warn!(action = id, "another instance took over an action this one was working on; leaving it to it");
                    lock(&self.lost).insert(id);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the heartbeat of running actions")
            }
        }
        let adopted = match self
            .storage
            .adopt_orphaned_actions(
                &self.instance,
                &ids,
                now_ms(),
                self.lease.as_millis() as i64,
            )
            .await
        {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for actions left unfinished");
                return 0;
            }
        };
        let count = adopted.len();
        for a in adopted {
            // Taken back after another instance had it: this one works on it
            // again, so it is no longer lost to it.
            lock(&self.lost).remove(&a.id);
            let Some(t) = targets.iter().find(|t| t.project_id == a.project_id) else {
                // A project no longer configured: nobody can ask its vendor.
                self.give_up(
                    None,
                    &a,
                    "Its project is no longer configured; check the vendor for what happened",
                    true,
                )
                .await;
                continue;
            };
            tracing::info!(
                action = a.id,
                state = a.state.as_str(),
                "adopted an action its owner left unfinished"
            );
            let (me, t, guard) = (self.clone(), t.clone(), self.hold(a.id));
            tokio::spawn(async move {
                let _guard = guard;
                if BranchOp::parse(&a.kind).is_some() {
                    me.resume_branch(&t, a).await
                } else if a.state == ActionState::Running && a.upstream_ref.is_some() {
                    me.follow(&t, a).await
                } else {
                    me.reconcile(&t, a).await
                }
            });
        }
        count
    }
}

/// The runs a dispatch of the staging branch makes.
fn dispatch_runs(p: &crate::config::Project) -> RunFilter {
    RunFilter {
        branch: Some(p.github.staging_branch.to_string()),
        event: Some("workflow_dispatch".into()),
        status: None,
    }
}

fn vendor_of(t: &SyncTarget, kind: ActionKind) -> Vendor {
    match (kind, t.project.deploy_method) {
        (ActionKind::RedeployLastGood, _)
        | (ActionKind::DeployStaging, DeployMethod::NetlifyBuild) => Vendor::Netlify,
        _ => Vendor::GitHub,
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
        other if other.is_final() => Observed::done(false, other.as_str()),
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
