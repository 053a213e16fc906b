//! The core's records turned into the view model: what pages may show of
//! them, and nothing secret.

use crate::model::*;
use greenroom::storage::{ActionRecord, AuditEvent, DeployRecord, SyncStatus};

pub fn project_summary(p: &greenroom::config::Project) -> ProjectSummary {
    use greenroom::config::DeployMethod;
    ProjectSummary {
        name: p.name.to_string(),
        staging_url: p.staging_url.as_ref().map(ToString::to_string),
        production_url: p.production_url.as_ref().map(ToString::to_string),
        deploy_method: match p.deploy_method {
            DeployMethod::WorkflowDispatch => "workflow dispatch".into(),
            DeployMethod::NetlifyBuild => "Netlify build".into(),
        },
        netlify_account: p.netlify.account_slug.clone(),
        staging_site_id: p.netlify.staging_site_id.to_string(),
        production_site_id: p.netlify.production_site_id.to_string(),
        repo: p.github.repo.to_string(),
        workflow: p.github.workflow.clone(),
        deploy_job: p.github.deploy_job.clone(),
        staging_branch: p.github.staging_branch.to_string(),
        staging_environment: p.github.staging_environment.clone(),
        production_environment: p.github.production_environment.clone(),
        supabase_project_ref: p.supabase.as_ref().map(|s| s.project_ref.clone()),
    }
}

pub fn activity_row(e: &AuditEvent) -> ActivityRow {
    ActivityRow {
        id: e.id,
        occurred_at_ms: e.occurred_at_ms,
        actor: e.actor_login.clone(),
        role: e.role.clone(),
        action: e.action.clone(),
        project: e.project.clone(),
        target: match (&e.target_kind, &e.target_id) {
            (Some(k), Some(i)) => Some(format!("{k} {i}")),
            (None, Some(i)) => Some(i.clone()),
            _ => None,
        },
        outcome: e.outcome.as_str().to_string(),
        message: e.message.clone(),
    }
}

pub fn audit_params(q: &ActivityQuery) -> greenroom::filters::AuditParams {
    greenroom::filters::AuditParams {
        actor: q.actor.clone(),
        action: q.action.clone(),
        outcome: q.outcome.clone(),
        project: q.project.clone(),
        from: q.from.clone(),
        until: q.until.clone(),
        after: q.after.clone(),
    }
}

pub fn deploy_params(q: &HistoryQuery) -> greenroom::filters::DeployParams {
    greenroom::filters::DeployParams {
        project: q.project.clone(),
        site: q.site.clone(),
        context: q.context.clone(),
        state: q.state.clone(),
        branch: q.branch.clone(),
        author: q.author.clone(),
        from: q.from.clone(),
        until: q.until.clone(),
        after: q.after.clone(),
    }
}

pub fn deploy_row(d: &DeployRecord) -> DeployRow {
    DeployRow {
        site_id: d.site_id.clone(),
        deploy_id: d.deploy_id.clone(),
        site: d.site_role.as_str().into(),
        context: d.context.clone(),
        branch: d.branch.clone(),
        state: d.state.as_str().into(),
        commit_sha: d.commit_sha.clone(),
        commit_message: d.commit_message.clone(),
        commit_url: d.commit_url.clone(),
        author: d.author.clone(),
        deploy_url: d.deploy_url.clone(),
        error_message: d.error_message.clone(),
        created_at_ms: d.created_at_ms,
        published_at_ms: d.published_at_ms,
        updated_at_ms: d.updated_at_ms,
        build_seconds: d.build_seconds,
        run_id: d.run_id,
    }
}

pub fn live_view(l: &greenroom::overview::DeployWithRun) -> LiveView {
    LiveView {
        deploy: deploy_row(&l.deploy),
        run_url: l.run.as_ref().and_then(|r| r.html_url.clone()),
    }
}

pub fn sync_view(s: &SyncStatus) -> SyncView {
    SyncView {
        source: greenroom::overview::source_label(&s.source).to_string(),
        last_success_ms: s.last_success_ms,
        error: s.error.clone(),
        error_since_ms: s.error_since_ms,
    }
}

pub fn attention_view(a: &greenroom::overview::Attention) -> AttentionView {
    AttentionView {
        kind: a.kind.as_str().to_string(),
        message: a.message.clone(),
        fix: a.fix.map(|k| k.as_str().to_string()),
        fix_label: a.fix.map(|k| k.label().to_string()),
        run_id: a.run_id,
    }
}

pub fn run_view(r: &greenroom::runs::RunWithJobs) -> RunView {
    let run = &r.run;
    RunView {
        run_id: run.run_id,
        run_number: run.run_number,
        run_attempt: run.run_attempt,
        event: run.event.clone(),
        branch: run.branch.clone(),
        head_sha: run.head_sha.clone(),
        status: run.status.clone(),
        conclusion: run.conclusion.clone(),
        actor: run.actor.clone(),
        html_url: run.html_url.clone(),
        created_at_ms: run.created_at_ms,
        updated_at_ms: run.updated_at_ms,
        smoke: r.smoke.map(|s| s.as_str().to_string()),
        results: None,
        jobs: r
            .jobs
            .iter()
            .map(|j| JobView {
                job_id: j.job_id,
                name: j.name.clone(),
                status: j.status.clone(),
                conclusion: j.conclusion.clone(),
                started_at_ms: j.started_at_ms,
                completed_at_ms: j.completed_at_ms,
                steps: greenroom::steps::steps_of(j)
                    .into_iter()
                    .map(|s| StepView {
                        name: s.name,
                        status: s.status,
                        conclusion: s.conclusion,
                        started_at_ms: s.started_at_ms,
                        completed_at_ms: s.completed_at_ms,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// An action started, or the one already under way that it met.
pub fn started_view(s: greenroom::actions::Started) -> StartedView {
    use greenroom::actions::Started;
    let (action, already_under_way) = match s {
        Started::Started(a) => (a, false),
        Started::AlreadyUnderWay(a) => (a, true),
    };
    StartedView {
        action: action_view(&action),
        already_under_way,
    }
}

pub fn action_view(a: &ActionRecord) -> ActionView {
    ActionView {
        id: a.id,
        kind: a.kind.clone(),
        label: greenroom::actions::ActionKind::parse(&a.kind)
            .map(|k| k.label().to_string())
            .or_else(|| greenroom::actions::BranchOp::parse(&a.kind).map(|o| o.label().to_string()))
            .unwrap_or_else(|| a.kind.clone()),
        state: a.state.as_str().into(),
        actor: a.actor_login.clone(),
        summary: a.summary.clone(),
        message: a.message.clone(),
        started_at_ms: a.started_at_ms,
        finished_at_ms: a.finished_at_ms,
        progress: greenroom::actions::progress_of(a)
            .into_iter()
            .map(|p| ProgressView {
                state: p.state,
                at_ms: p.at_ms,
                detail: p.detail,
            })
            .collect(),
    }
}

pub fn week_view(w: &greenroom::trends::WeekStats) -> WeekView {
    WeekView {
        week_start_ms: w.week_start_ms,
        by_context: w.by_context.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        finished: w.finished,
        failed: w.failed,
        build_p50_s: w.build_p50_s,
        build_p90_s: w.build_p90_s,
        restore_median_s: w.restore_median_s,
        lead_median_s: w.lead_median_s,
    }
}

pub fn action_kinds(kinds: &[greenroom::actions::ActionKind]) -> Vec<(String, String)> {
    kinds
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect()
}
