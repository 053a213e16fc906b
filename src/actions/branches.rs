//! Supabase branch operations: create (deployer), delete and restore
//! (admin). Each goes the way of the on-call actions: claimed in the
//! database by project and branch name (any number of equal requests, one
//! upstream call), audited before the call and settled after, announced in
//! Slack at its start and end, and followed to a terminal state by a task
//! the server owns, which an instance that outlives a crashed owner adopts.
//! A vendor that does not answer is asked by name what it did before
//! anything is called done or failed.

use super::*;
use crate::branches::layout::phase_of;
use crate::branches::{check_branch_name, BranchPhase, BranchStatus, ProjectStatus};
use crate::providers::supabase::{Branch, CreateBranch};
use serde::Deserialize;

/// A branch operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchOp {
    Create,
    Delete,
    Restore,
}

impl BranchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "branch-create",
            Self::Delete => "branch-delete",
            Self::Restore => "branch-restore",
        }
    }

    pub fn parse(kind: &str) -> Option<Self> {
        [Self::Create, Self::Delete, Self::Restore]
            .into_iter()
            .find(|o| o.as_str() == kind)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Create => "Create a Supabase branch",
            Self::Delete => "Delete a Supabase branch",
            Self::Restore => "Restore a Supabase branch",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Delete => "delete",
            Self::Restore => "restore",
        }
    }
}

/// What a person asked for; the target of the action, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchRequest {
    pub name: String,
    #[serde(default)]
    pub git_branch: Option<String>,
    #[serde(default)]
    pub persistent: bool,
    #[serde(default)]
    pub with_data: bool,
    /// The branch's id (delete, restore).
    #[serde(default)]
    pub branch_id: Option<String>,
}

/// A Supabase answer in words a person can act on.
pub fn explain_branch(e: &ProviderError, op: BranchOp, name: &str) -> String {
    let detail = match &e.kind {
        ErrorKind::Rejected { detail }
        | ErrorKind::NotFound { detail }
        | ErrorKind::Forbidden { detail } => detail.to_ascii_lowercase(),
        _ => String::new(),
    };
    let verb = op.verb();
    match &e.kind {
        ErrorKind::Unauthorized => format!(
            "Supabase rejected Greenroom's token, so nothing was done: set a valid SUPABASE_ACCESS_TOKEN ({e})."
        ),
        _ if detail.contains("branching")
            && (detail.contains("not enabled") || detail.contains("disabled")) =>
        {
            "Branching is not enabled on this Supabase project: enable it in Supabase's dashboard (Project Settings → Branching), then try again.".into()
        }
        _ if op == BranchOp::Create && detail.contains("limit") => format!(
            "The project has reached its branch limit, so {name} was not created: delete a branch you no longer need, then try again."
        ),
        _ if e.status == Some(409) || detail.contains("already exists") => format!(
            "A branch named {name} already exists in Supabase: pick another name, or open the existing one below."
        ),
        ErrorKind::Forbidden { .. } => format!(
            "The Supabase token may not {verb} branches of this project: give its owner the Developer role or above, or use another token ({e})."
        ),
        ErrorKind::NotFound { .. } => format!(
            "Supabase has no branch {name} (it may have been deleted already): {e}."
        ),
        ErrorKind::RateLimited { .. } => format!("Supabase is rate-limiting Greenroom: {e}."),
        ErrorKind::Unavailable
        | ErrorKind::Timeout
        | ErrorKind::Network { .. }
        | ErrorKind::Interrupted { .. }
        | ErrorKind::Malformed { .. } => {
            format!("Supabase is not answering ({e}); nothing was done. Try again once it is back.")
        }
        ErrorKind::Rejected { .. } => format!("Supabase refused to {verb} {name}: {e}."),
    }
}

/// Where a branch is, in words (`Running migrations · Healthy`).
fn words_of(b: &Branch) -> String {
    let mut w = BranchStatus::parse(&b.status).words();
    if let Some(p) = b.preview_project_status.as_deref() {
        w.push_str(" · database: ");
        w.push_str(&ProjectStatus::parse(p).words());
    }
    w
}

impl Actions {
    /// Creates branch `req.name` of `t`'s Supabase project as `actor`.
    pub async fn create_branch(
        &self,
        t: &SyncTarget,
        actor: &Actor,
        mut req: BranchRequest,
    ) -> Result<Started, ActionError> {
        req.name = check_branch_name(&req.name)
            .map_err(|p| ActionError::Invalid(p.to_string()))?
            .to_string();
        req.git_branch = req
            .git_branch
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty());
        req.branch_id = None;
        let summary = format!(
            "Create {} branch {}{}",
            if req.persistent {
                "persistent"
            } else {
                "preview"
            },
            req.name,
            req.git_branch
                .as_deref()
                .map(|g| format!(" from git branch {g}"))
                .unwrap_or_default()
        );
        self.start_branch_op(t, actor, BranchOp::Create, req, summary)
            .await
    }

    /// Deletes (schedules the deletion of) the branch `branch_id`; `typed`
    /// must be its name. Never the production branch.
    pub async fn delete_branch(
        &self,
        t: &SyncTarget,
        actor: &Actor,
        branch_id: &str,
        typed: &str,
    ) -> Result<Started, ActionError> {
        let b = self.stored_branch(t, branch_id).await?;
        if b.is_default {
            return Err(ActionError::NotApplicable(
                "The production branch is the project itself: Greenroom never deletes it.".into(),
            ));
        }
        if typed.trim() != b.name {
            return Err(ActionError::Invalid(format!(
                "Type the branch's name ({}) exactly to delete it.",
                b.name
            )));
        }
        if b.deletion_scheduled_at.is_some() {
            return Err(ActionError::NotApplicable(format!(
                "{} is already scheduled for deletion.",
                b.name
            )));
        }
        let req = BranchRequest {
            name: b.name.clone(),
            git_branch: b.git_branch.clone(),
            persistent: b.persistent,
            with_data: b.with_data,
            branch_id: Some(b.id.clone()),
        };
        let summary = format!("Delete branch {}", b.name);
        self.start_branch_op(t, actor, BranchOp::Delete, req, summary)
            .await
    }

    /// Takes back the scheduled deletion of branch `branch_id`.
    pub async fn restore_branch(
        &self,
        t: &SyncTarget,
        actor: &Actor,
        branch_id: &str,
    ) -> Result<Started, ActionError> {
        let b = self.stored_branch(t, branch_id).await?;
        if b.deletion_scheduled_at.is_none() {
            return Err(ActionError::NotApplicable(format!(
                "{} is not scheduled for deletion: there is nothing to restore.",
                b.name
            )));
        }
        let req = BranchRequest {
            name: b.name.clone(),
            branch_id: Some(b.id.clone()),
            ..Default::default()
        };
        let summary = format!("Restore branch {} (cancel its deletion)", b.name);
        self.start_branch_op(t, actor, BranchOp::Restore, req, summary)
            .await
    }

    /// The branch `id` as sync last stored it.
    async fn stored_branch(&self, t: &SyncTarget, id: &str) -> Result<Branch, ActionError> {
        let snapshot = match self.storage.branch_snapshot(t.project_id).await? {
            Some(json) => crate::branches::Snapshot::parse(&json).unwrap_or_default(),
            None => Default::default(),
        };
        snapshot
            .branches
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| {
                ActionError::NotApplicable(
                    "Greenroom does not know that branch (it may be gone): reload the page.".into(),
                )
            })
    }

    fn project_ref(t: &SyncTarget) -> Result<&str, ActionError> {
        t.project
            .supabase
            .as_ref()
            .map(|s| s.project_ref.as_str())
            .ok_or_else(|| {
                ActionError::NotApplicable(format!(
                    "{} has no Supabase project configured ([projects.supabase] in greenroom.toml).",
                    t.project.name
                ))
            })
    }

    async fn start_branch_op(
        &self,
        t: &SyncTarget,
        actor: &Actor,
        op: BranchOp,
        req: BranchRequest,
        summary: String,
    ) -> Result<Started, ActionError> {
        Self::project_ref(t)?;
        let target_json =
            serde_json::to_string(&req).map_err(|e| ActionError::Upstream(e.to_string()))?;
        let new = NewAction {
            project_id: t.project_id,
            kind: op.as_str().into(),
            active_key: format!("{}:{}:{}", t.project.name, op.as_str(), req.name),
            actor_login: Some(actor.login.clone()),
            summary: summary.clone(),
            target_json,
            owner: self.instance.to_string(),
        };
        let (t, actor) = (t.clone(), actor.clone());
        self.claim_and_run(&new, "the branch", move |me, action| async move {
            me.carry_out_branch(&t, op, &actor, req, summary, action)
                .await
        })
        .await
    }

    async fn carry_out_branch(
        &self,
        t: &SyncTarget,
        op: BranchOp,
        actor: &Actor,
        req: BranchRequest,
        summary: String,
        action: ActionRecord,
    ) -> Result<Started, ActionError> {
        let project_ref = Self::project_ref(t)?.to_string();
        let audit = NewAuditEvent {
            actor_login: Some(actor.login.clone()),
            actor_id: actor.id,
            role: Some(actor.role.clone()),
            action: format!("branch.{}", op.verb()),
            project: Some(t.project.name.to_string()),
            target_kind: Some("supabase_branch".into()),
            target_id: Some(req.name.clone()),
            params: serde_json::to_value(&req).unwrap_or_default(),
            request_id: actor.request_id.clone(),
            client_ip: actor.client_ip.clone(),
        };
        let audit_id = self
            .storage
            .record_audit(&audit, AuditOutcome::Pending)
            .await?;
        self.storage.set_action_audit(action.id, audit_id).await?;
        let announced = {
            let notifier = self.notifier.clone();
            let (key, text) = (
                format!("action:{}:started", action.id),
                format!(
                    ":seedling: {} started for {}: {summary}\n{}",
                    actor.login,
                    t.project.name,
                    self.notifier
                        .link(&format!("/branches?project={}", t.project.name))
                ),
            );
            tokio::spawn(async move { notifier.announce(&key, &text).await })
        };
        if self.lost(action.id) {
            return Err(ActionError::Upstream(
                "Another Greenroom instance took this over; follow it below".into(),
            ));
        }
        let sb = &self.clients.supabase;
        let id = req.branch_id.clone().unwrap_or_default();
        let called: Result<String, ProviderError> = match op {
            BranchOp::Create => sb
                .create_branch(
                    &project_ref,
                    &CreateBranch {
                        branch_name: req.name.clone(),
                        git_branch: req.git_branch.clone(),
                        persistent: Some(req.persistent),
                        with_data: Some(req.with_data),
                    },
                )
                .await
                .map(|b| b.id),
            BranchOp::Delete => sb.delete_branch(&id).await.map(|_| id.clone()),
            BranchOp::Restore => sb.restore_branch(&id).await.map(|_| id.clone()),
        };
        let called = match called {
            // No answer at all: Supabase may have acted, and may list it
            // only later. The outcome is unknown until it shows or stays
            // absent for the quiet time; the key stays held meanwhile.
            Err(e) if matches!(e.kind, ErrorKind::Timeout | ErrorKind::Interrupted { .. }) => {
                let message = format!(
                    "{e}. Supabase may have acted on it: Greenroom is asking it, and holds the operation until it knows."
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
                    me.reconcile_branch(&target, a).await
                });
                return Ok(Started::Started(unknown));
            }
            // Supabase answered that it failed (its documented 500) or
            // broke off: look once whether it acted anyway.
            Err(e) if e.outcome_unknown() => {
                match self.branch_evidence(&project_ref, op, &req, &action).await {
                    Some(upstream) => Ok(upstream),
                    None => Err(e),
                }
            }
            other => other,
        };
        match called {
            Err(e) => {
                let message = explain_branch(&e, op, &req.name);
                self.storage
                    .settle_audit(audit_id, AuditOutcome::Failed, Some(&message), &[])
                    .await?;
                self.finish(&action, ActionState::Failed, None, Some(&message), "failed")
                    .await?;
                // Supabase did nothing (it refused, or shows no trace of it):
                // the same request may be made again at once, once fixed.
                self.storage.release_action_key(action.id).await?;
                let _ = announced.await;
                self.announce_branch_end(t, &action, Some(false), &message)
                    .await;
                Err(ActionError::Upstream(message))
            }
            Ok(upstream) => {
                self.storage
                    .settle_audit(
                        audit_id,
                        AuditOutcome::Succeeded,
                        Some("accepted by Supabase"),
                        std::slice::from_ref(&upstream),
                    )
                    .await?;
                let running = self.accepted(&action, &upstream, None).await?;
                let me = self.clone();
                let (target, watched) = (t.clone(), running.clone());
                let guard = self.hold(watched.id);
                tokio::spawn(async move {
                    let _guard = guard;
                    let _ = announced.await;
                    me.follow_branch(&target, watched).await
                });
                Ok(Started::Started(running))
            }
        }
    }

    /// What Supabase shows of an operation it did not answer: the branch's
    /// id when the operation took effect.
    async fn branch_evidence(
        &self,
        project_ref: &str,
        op: BranchOp,
        req: &BranchRequest,
        action: &ActionRecord,
    ) -> Option<String> {
        let found = self
            .clients
            .supabase
            .get_branch(project_ref, &req.name)
            .await;
        // A branch of that name made before this request is not its doing
        // (a minute's slack for clocks that differ).
        let since = action.started_at_ms - 60_000;
        match (op, found) {
            (BranchOp::Create, Ok(b))
                if crate::text::parse_ms(&b.created_at).is_some_and(|c| c >= since) =>
            {
                Some(b.id)
            }
            (BranchOp::Delete, Ok(b)) if b.deletion_scheduled_at.is_some() => Some(b.id),
            (BranchOp::Delete, Err(e)) if matches!(e.kind, ErrorKind::NotFound { .. }) => {
                req.branch_id.clone()
            }
            (BranchOp::Restore, Ok(b)) if b.deletion_scheduled_at.is_none() => Some(b.id),
            _ => None,
        }
    }

    /// Follows a branch operation Supabase accepted until the branch is
    /// ready or failed (create), scheduled for deletion or gone (delete),
    /// or back (restore), recording each state seen.
    pub(super) async fn follow_branch(&self, t: &SyncTarget, action: ActionRecord) {
        let Some(op) = BranchOp::parse(&action.kind) else {
            return;
        };
        let req: BranchRequest = serde_json::from_str(&action.target_json).unwrap_or_default();
        let Ok(project_ref) = Self::project_ref(t).map(str::to_string) else {
            self.give_up(None, &action, "Its project has no Supabase project configured any more; check Supabase for what happened", true).await;
            return;
        };
        let started = std::time::Instant::now();
        let mut last = String::new();
        let mut errors = 0u32;
        loop {
            if self.lost(action.id) {
                return;
            }
            let seen = self
                .clients
                .supabase
                .get_branch(&project_ref, &req.name)
                .await;
            let (state, end): (String, Option<(bool, String)>) = match (op, seen) {
                (BranchOp::Create, Ok(b)) => {
                    let w = words_of(&b);
                    let end = match phase_of(&b) {
                        // Migrations passed, but the run may still seed and
                        // deploy edge functions: ready once it is over.
                        BranchPhase::Ready if self.run_going(&project_ref, &b.id).await => None,
                        BranchPhase::Ready => Some((true, format!("{} is ready: {w}", b.name))),
                        BranchPhase::Failed => Some((false, format!("{} failed: {w}", b.name))),
                        BranchPhase::Stopped => Some((true, format!("{} is paused: {w}", b.name))),
                        _ => None,
                    };
                    (w, end)
                }
                (BranchOp::Delete, Ok(b)) if b.deletion_scheduled_at.is_some() => (
                    "deletion scheduled".into(),
                    Some((
                        true,
                        format!(
                            "{} is scheduled for deletion at {}; it can be restored until then",
                            b.name,
                            b.deletion_scheduled_at.as_deref().unwrap_or("?")
                        ),
                    )),
                ),
                (BranchOp::Delete, Err(e)) if matches!(e.kind, ErrorKind::NotFound { .. }) => (
                    "deleted".into(),
                    Some((true, format!("{} is deleted", req.name))),
                ),
                (BranchOp::Restore, Ok(b)) if b.deletion_scheduled_at.is_none() => (
                    "restored".into(),
                    Some((true, format!("{} is restored: {}", b.name, words_of(&b)))),
                ),
                (BranchOp::Create, Err(e)) if matches!(e.kind, ErrorKind::NotFound { .. }) => (
                    "gone".into(),
                    Some((false, format!("Supabase no longer lists {}", req.name))),
                ),
                (_, Ok(b)) => (words_of(&b), None),
                (_, Err(e)) => {
                    errors += 1;
                    tracing::warn!(action = action.id, error = %e, "could not check a branch operation");
                    (last.clone(), None)
                }
            };
            if !state.is_empty() && state != last {
                last = state.clone();
                let _ = self
                    .record_progress(&action, &Observed::at(&state, None))
                    .await;
            }
            if let Some((ok, message)) = end {
                let (final_state, label) = if ok {
                    (ActionState::Succeeded, "succeeded")
                } else {
                    (ActionState::Failed, "failed")
                };
                let _ = self
                    .finish(&action, final_state, None, Some(&message), label)
                    .await;
                // Over: the branch's own state now guards a repeat (a name
                // taken, a deletion already scheduled), not the key.
                let _ = self.storage.release_action_key(action.id).await;
                self.announce_branch_end(t, &action, Some(ok), &message)
                    .await;
                return;
            }
            if started.elapsed() > WATCH_LIMIT || errors > RECONCILE_MAX_CHECKS {
                let detail = "Supabase did not show an end within 40 minutes (a known way branches get stuck); check the branch's action runs";
                self.give_up(None, &action, detail, false).await;
                self.announce_branch_end(t, &action, None, detail).await;
                return;
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// An adopted branch operation: followed if Supabase accepted it,
    /// else asked by name what happened.
    pub(super) async fn resume_branch(&self, t: &SyncTarget, action: ActionRecord) {
        if action.state == ActionState::Running && action.upstream_ref.is_some() {
            return self.follow_branch(t, action).await;
        }
        self.reconcile_branch(t, action).await
    }

    /// Whether the branch's latest workflow run is still going (an
    /// unreadable list counts as going: the next look decides).
    async fn run_going(&self, project_ref: &str, branch_id: &str) -> bool {
        match self.clients.supabase.list_action_runs(project_ref).await {
            Ok(runs) => runs
                .iter()
                .filter(|r| r.branch_id == branch_id)
                .max_by_key(|r| crate::text::parse_ms(&r.created_at).unwrap_or(0))
                .is_some_and(crate::branches::layout::run_in_progress),
            Err(_) => true,
        }
    }

    /// Finds out what an unanswered operation did: followed once Supabase
    /// shows it; failed (nothing done) once it has shown no trace of it
    /// for the quiet time.
    async fn reconcile_branch(&self, t: &SyncTarget, action: ActionRecord) {
        let (Some(op), Ok(project_ref)) = (
            BranchOp::parse(&action.kind),
            Self::project_ref(t).map(str::to_string),
        ) else {
            return;
        };
        let req: BranchRequest = serde_json::from_str(&action.target_json).unwrap_or_default();
        let asked = std::time::Instant::now();
        let mut found = None;
        loop {
            if self.lost(action.id) {
                return;
            }
            found = found.or(self.branch_evidence(&project_ref, op, &req, &action).await);
            if found.is_some() || asked.elapsed() >= self.reconcile_quiet {
                break;
            }
            tokio::time::sleep(self.poll).await;
        }
        match found {
            Some(upstream) => {
                if let Some(audit) = action.audit_id {
                    let _ = self
                        .storage
                        .settle_audit(
                            audit,
                            AuditOutcome::Succeeded,
                            Some("Supabase shows it was done"),
                            std::slice::from_ref(&upstream),
                        )
                        .await;
                }
                if let Ok(running) = self.accepted(&action, &upstream, None).await {
                    self.follow_branch(t, running).await;
                }
            }
            None => {
                let message = format!(
                    "Supabase did not answer, and shows no sign that it did {} {} after {} s: nothing was done",
                    op.verb(),
                    req.name,
                    self.reconcile_quiet.as_secs()
                );
                if let Some(audit) = action.audit_id {
                    let _ = self
                        .storage
                        .settle_audit(audit, AuditOutcome::Failed, Some(&message), &[])
                        .await;
                }
                let _ = self
                    .finish(&action, ActionState::Failed, None, Some(&message), "failed")
                    .await;
                let _ = self.storage.release_action_key(action.id).await;
                self.announce_branch_end(t, &action, Some(false), &message)
                    .await;
            }
        }
    }

    /// Slack's end message: done, failed, or (`None`) outcome unknown.
    async fn announce_branch_end(
        &self,
        t: &SyncTarget,
        action: &ActionRecord,
        ok: Option<bool>,
        detail: &str,
    ) {
        let text = format!(
            "{} {} for {}: {detail}\n{}",
            match ok {
                Some(true) => ":white_check_mark:",
                Some(false) => ":x:",
                None => ":warning: outcome unknown:",
            },
            action.summary,
            t.project.name,
            self.notifier
                .link(&format!("/branches?project={}", t.project.name))
        );
        self.notifier
            .announce(&format!("action:{}:ended", action.id), &text)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Vendor;

    fn err(status: u16, kind: ErrorKind) -> ProviderError {
        ProviderError {
            vendor: Vendor::Supabase,
            operation: "v1-create-a-branch",
            status: Some(status),
            kind,
        }
    }

    #[test]
    fn each_refusal_is_told_in_words() {
        let rejected = |s: u16, d: &str| {
            explain_branch(
                &err(s, ErrorKind::Rejected { detail: d.into() }),
                BranchOp::Create,
                "feat-x",
            )
        };
        assert!(
            rejected(422, "Preview branching is not enabled for this project")
                .starts_with("Branching is not enabled")
        );
        assert!(rejected(422, "Branch limit of 3 reached").contains("branch limit"));
        assert!(rejected(409, "conflict").contains("already exists"));
        assert!(rejected(400, "A branch named feat-x already exists").contains("already exists"));
        assert!(explain_branch(
            &err(
                403,
                ErrorKind::Forbidden {
                    detail: "missing scope".into()
                }
            ),
            BranchOp::Create,
            "feat-x"
        )
        .contains("may not create branches"));
        assert!(
            explain_branch(&err(401, ErrorKind::Unauthorized), BranchOp::Create, "x")
                .contains("SUPABASE_ACCESS_TOKEN")
        );
        assert!(
            explain_branch(&err(503, ErrorKind::Unavailable), BranchOp::Create, "x")
                .contains("nothing was done")
        );
    }
}
