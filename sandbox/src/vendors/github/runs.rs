//! Actions workflow runs and their jobs, steps and logs: listing, re-runs,
//! cancelling and `workflow_dispatch`.

use super::users::login_id;
use super::{
    commit_of, error, not_found, page_or_422, redirect, repo_json, repo_ok, repo_url, user_json,
    workflow_ok, WORKFLOW_ID,
};
use crate::artifacts;
use crate::model::{Commit, Job, Progress, Run, Step};
use crate::seed::{self, Names, RunOutcomes};
use crate::sim::{Sim, Target};
use crate::util::{iso_secs, sha40, Origin};
use crate::vendors::{bearer, json_status, json_with_link, Params};
use crate::{lock, Shared};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub(super) fn step_state(
    s: &Step,
    cancelled: Option<i64>,
    now: i64,
) -> (&'static str, Option<&'static str>) {
    if let Some(c) = cancelled {
        if c <= now && c < s.completed_ms {
            return (
                "completed",
                Some(if c < s.started_ms {
                    "skipped"
                } else {
                    "cancelled"
                }),
            );
        }
    }
    if now < s.started_ms {
        ("queued", None)
    } else if now < s.completed_ms {
        ("in_progress", None)
    } else {
        (
            "completed",
            Some(match s.outcome {
                crate::model::Outcome::Success => "success",
                crate::model::Outcome::Failure => "failure",
            }),
        )
    }
}

/// `repository` is [`repo_json`], built once per answer: it is the same for every
/// run and the largest part of one.
fn run_json(sim: &Sim, origin: &str, repository: &Value, run: &Run) -> Value {
    let now = sim.now();
    let p = run.progress(now);
    let u = format!("{}/actions/runs/{}", repo_url(sim, origin), run.id);
    let actor = user_json(origin, &run.actor, login_id(sim, &run.actor));
    let (owner, repo) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let head_commit = commit_of(sim, &run.head_sha).map(|c| {
        json!({
            "id": c.sha,
            "tree_id": sha40(format!("tree/{}", c.sha).as_bytes()),
            "message": c.message,
            "timestamp": iso_secs(c.at_ms),
            "author": { "name": c.author, "email": format!("{}@users.noreply.github.com", c.author) },
            "committer": { "name": "GitHub", "email": "noreply@github.com" },
        })
    });
    let started = run
        .steps()
        .map(|s| s.started_ms)
        .min()
        .unwrap_or(run.created_ms);
    json!({
        "id": run.id,
        "name": "CI",
        "node_id": format!("WFR_kwLO{}", run.id),
        "check_suite_id": run.id + 3,
        "check_suite_node_id": format!("CS_kwDO{}", run.id + 3),
        "head_branch": run.branch,
        "head_sha": run.head_sha,
        "path": format!(".github/workflows/{}", sim.ids.github.workflow),
        "display_title": run.title,
        "run_number": run.run_number,
        "event": run.event,
        "status": p.status(),
        "conclusion": p.conclusion(),
        "workflow_id": WORKFLOW_ID,
        "url": u,
        "html_url": format!("https://github.com/{owner}/{repo}/actions/runs/{}", run.id),
        "pull_requests": [],
        "created_at": iso_secs(run.created_ms),
        "updated_at": iso_secs(run.updated_ms(now)),
        "actor": actor,
        "triggering_actor": actor,
        "run_attempt": run.run_attempt,
        "run_started_at": iso_secs(started.min(now).max(run.created_ms)),
        "jobs_url": format!("{u}/jobs"),
        "logs_url": format!("{u}/logs"),
        "check_suite_url": format!("{}/check-suites/{}", repo_url(sim, origin), run.id + 3),
        "artifacts_url": format!("{u}/artifacts"),
        "cancel_url": format!("{u}/cancel"),
        "rerun_url": format!("{u}/rerun"),
        "previous_attempt_url": if run.run_attempt > 1 {
            json!(format!("{u}/attempts/{}", run.run_attempt - 1))
        } else {
            Value::Null
        },
        "workflow_url": format!("{}/actions/workflows/{WORKFLOW_ID}", repo_url(sim, origin)),
        "head_commit": head_commit,
        "repository": repository,
        "head_repository": repository,
    })
}

fn job_json(sim: &Sim, origin: &str, run: &Run, job: &Job) -> Value {
    let now = sim.now();
    let p = crate::model::progress(&job.steps, run.cancelled_ms, now);
    let (owner, repo) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let started = job.steps.first().map(|s| s.started_ms);
    let completed = job.steps.last().map(|s| s.completed_ms);
    let run_end = run.updated_ms(now);
    let steps: Vec<Value> = job
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (status, conclusion) = step_state(s, run.cancelled_ms, now);
            json!({
                "name": s.name,
                "status": status,
                "conclusion": conclusion,
                "number": i + 1,
                "started_at": (s.started_ms <= now).then(|| iso_secs(s.started_ms)),
                "completed_at": (status == "completed").then(|| iso_secs(s.completed_ms.min(now))),
            })
        })
        .collect();
    let completed_at = match p {
        Progress::Completed(_) => Some(iso_secs(completed.unwrap_or(run_end).min(now))),
        _ => None,
    };
    json!({
        "id": job.id,
        "run_id": run.id,
        "run_url": format!("{}/actions/runs/{}", repo_url(sim, origin), run.id),
        "run_attempt": run.run_attempt,
        "node_id": format!("CR_kwDO{}", job.id),
        "head_sha": run.head_sha,
        "head_branch": run.branch,
        "workflow_name": "CI",
        "url": format!("{}/actions/jobs/{}", repo_url(sim, origin), job.id),
        "html_url": format!("https://github.com/{owner}/{repo}/actions/runs/{}/job/{}", run.id, job.id),
        "status": p.status(),
        "conclusion": p.conclusion(),
        "created_at": iso_secs(run.created_ms),
        "started_at": iso_secs(started.unwrap_or(run_end).min(now).max(run.created_ms)),
        "completed_at": completed_at,
        "name": job.name,
        "steps": steps,
        "check_run_url": format!("{}/check-runs/{}", repo_url(sim, origin), job.id),
        "labels": ["ubuntu-latest"],
        "runner_id": (p != Progress::Queued).then_some(job.id % 100),
        "runner_name": (p != Progress::Queued).then_some(job.runner.clone()),
        "runner_group_id": (p != Progress::Queued).then_some(2),
        "runner_group_name": (p != Progress::Queued).then_some("GitHub Actions"),
    })
}

pub(super) async fn list_runs(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, workflow)): Path<(String, String, String)>,
    Query(q): Query<Params>,
) -> Response {
    let page = match page_or_422(&q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) || !workflow_ok(&sim, &workflow) {
        return not_found();
    }
    let now = sim.now();
    let matching: Vec<&Run> = sim
        .runs
        .iter()
        .rev()
        .filter(|r| r.created_ms <= now)
        .filter(|r| q.get("branch").is_none_or(|b| &r.branch == b))
        .filter(|r| q.get("event").is_none_or(|e| &r.event == e))
        .filter(|r| q.get("head_sha").is_none_or(|s| &r.head_sha == s))
        .filter(|r| q.get("actor").is_none_or(|a| &r.actor == a))
        .filter(|r| {
            q.get("status").is_none_or(|s| {
                let p = r.progress(now);
                p.status() == s || p.conclusion() == Some(s.as_str())
            })
        })
        .collect();
    let repo_v = repo_json(&sim, &origin);
    let runs: Vec<Value> = page
        .slice(&matching)
        .iter()
        .map(|r| run_json(&sim, &origin, &repo_v, r))
        .collect();
    let link = page.link(
        &format!(
            "{}/actions/workflows/{workflow}/runs",
            repo_url(&sim, &origin)
        ),
        &q,
        matching.len(),
    );
    json_with_link(
        json!({ "total_count": matching.len(), "workflow_runs": runs }),
        link,
    )
}

pub(super) fn find_run(sim: &Sim, run_id: u64) -> Option<usize> {
    let now = sim.now();
    sim.runs
        .iter()
        .position(|r| r.id == run_id && r.created_ms <= now)
}

pub(super) async fn get_run(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    match find_run(&sim, run_id) {
        Some(i) => {
            let repo_v = repo_json(&sim, &origin);
            json_status(
                StatusCode::OK,
                run_json(&sim, &origin, &repo_v, &sim.runs[i]),
            )
        }
        None => not_found(),
    }
}

pub(super) async fn list_jobs(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
    Query(q): Query<Params>,
) -> Response {
    let page = match page_or_422(&q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let Some(i) = find_run(&sim, run_id) else {
        return not_found();
    };
    let run = &sim.runs[i];
    let jobs: Vec<&Job> = run.jobs.iter().collect();
    let body: Vec<Value> = page
        .slice(&jobs)
        .iter()
        .map(|j| job_json(&sim, &origin, run, j))
        .collect();
    let link = page.link(
        &format!("{}/actions/runs/{run_id}/jobs", repo_url(&sim, &origin)),
        &q,
        jobs.len(),
    );
    json_with_link(json!({ "total_count": jobs.len(), "jobs": body }), link)
}

fn find_job(sim: &Sim, job_id: u64) -> Option<(&Run, &Job)> {
    let now = sim.now();
    sim.runs
        .iter()
        .filter(|r| r.created_ms <= now)
        .find_map(|r| r.jobs.iter().find(|j| j.id == job_id).map(|j| (r, j)))
}

pub(super) async fn job_logs(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, job_id)): Path<(String, String, u64)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) || find_job(&sim, job_id).is_none() {
        return not_found();
    }
    redirect(format!("{origin}/github/_downloads/job-logs/{job_id}"))
}

pub(super) async fn download_job_log(
    State(state): State<Shared>,
    Path(job_id): Path<u64>,
) -> Response {
    let sim = lock(&state.sim);
    match find_job(&sim, job_id) {
        Some((run, job)) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            artifacts::job_log(run, job, sim.now()),
        )
            .into_response(),
        None => not_found(),
    }
}

/// Plans a new attempt of a run starting now, keeping jobs that passed when
/// only failed jobs are re-run.
fn new_attempt(sim: &mut Sim, i: usize, only_failed: bool) {
    let now = sim.now();
    let pace = sim.clock.pace;
    let names = Names::of(&sim.ids);
    let outcomes = RunOutcomes {
        build: sim.outcome(Target::Github, 0.0),
        netlify: sim.outcome(Target::Netlify, 0.06),
        smoke: sim.outcome(Target::Github, 0.08),
    };
    let old = sim.runs[i].clone();
    let commit = commit_of(sim, &old.head_sha).cloned().unwrap_or(Commit {
        sha: old.head_sha.clone(),
        branch: old.branch.clone(),
        message: old.title.clone(),
        author: old.actor.clone(),
        at_ms: old.created_ms,
    });
    let build_passed = old.jobs.first().is_some_and(|j| {
        crate::model::progress(&j.steps, old.cancelled_ms, now) == Progress::Completed("success")
    });
    let mut rng = sim.rng.clone();
    let (mut run, deploy) = seed::plan_run(
        &mut rng,
        &names,
        old.id,
        old.run_number,
        &old.event,
        &commit,
        &old.actor,
        now,
        pace,
        outcomes,
    );
    sim.rng = rng;
    if only_failed && build_passed {
        // The build job keeps its earlier result; the deploy job re-runs.
        run.jobs[0] = old.jobs[0].clone();
    }
    run.run_attempt = old.run_attempt + 1;
    run.created_ms = old.created_ms;
    // New job ids for the new attempt, as GitHub gives.
    for job in run
        .jobs
        .iter_mut()
        .skip(usize::from(only_failed && build_passed))
    {
        job.id += u64::from(run.run_attempt) * 1_000_000_000_000;
    }
    sim.runs[i] = run;
    sim.deploys.extend(deploy);
}

async fn rerun_inner(
    state: Shared,
    owner: String,
    repo: String,
    run_id: u64,
    only_failed: bool,
) -> Response {
    let mut sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let Some(i) = find_run(&sim, run_id) else {
        return not_found();
    };
    let p = sim.runs[i].progress(sim.now());
    if !matches!(p, Progress::Completed(_)) {
        return error(StatusCode::FORBIDDEN, "This workflow is already running");
    }
    if only_failed && p == Progress::Completed("success") {
        return error(
            StatusCode::FORBIDDEN,
            "This workflow run has no failed jobs to re-run",
        );
    }
    new_attempt(&mut sim, i, only_failed);
    json_status(StatusCode::CREATED, json!({}))
}

pub(super) async fn rerun(
    State(state): State<Shared>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    rerun_inner(state, owner, repo, run_id, false).await
}

pub(super) async fn rerun_failed(
    State(state): State<Shared>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    rerun_inner(state, owner, repo, run_id, true).await
}

pub(super) async fn cancel_run(
    State(state): State<Shared>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    let mut sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let Some(i) = find_run(&sim, run_id) else {
        return not_found();
    };
    let now = sim.now();
    if matches!(sim.runs[i].progress(now), Progress::Completed(_)) {
        return error(
            StatusCode::CONFLICT,
            "Cannot cancel a workflow run that is completed.",
        );
    }
    sim.runs[i].cancelled_ms = Some(now);
    // The deploy the job was making stops too.
    let sha = sim.runs[i].head_sha.clone();
    for d in sim
        .deploys
        .iter_mut()
        .filter(|d| d.commit_ref == sha && d.done_ms > now)
    {
        d.cancelled_ms = Some(now.max(d.created_ms));
    }
    json_status(StatusCode::ACCEPTED, json!({}))
}

#[derive(serde::Deserialize)]
pub(super) struct DispatchBody {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    inputs: Option<serde_json::Map<String, Value>>,
}

pub(super) async fn dispatch(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path((owner, repo, workflow)): Path<(String, String, String)>,
    body: Result<Json<DispatchBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, &e.body_text()),
    };
    let mut sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) || !workflow_ok(&sim, &workflow) {
        return not_found();
    }
    if body.inputs.as_ref().is_some_and(|i| i.len() > 25) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "inputs are limited to 25 keys",
        );
    }
    let branch = body
        .reference
        .strip_prefix("refs/heads/")
        .unwrap_or(&body.reference)
        .to_string();
    let Some(head) = sim.head_of(&branch).cloned() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No ref found for: {}", body.reference),
        );
    };
    let actor = bearer(&headers)
        .and_then(|t| sim.tokens.get(&t).cloned())
        .unwrap_or_else(|| "greenroom[bot]".into());
    let id = sim.next_run_id();
    let number = sim.runs.iter().map(|r| r.run_number).max().unwrap_or(0) + 1;
    let now = sim.now();
    let pace = sim.clock.pace;
    let outcomes = RunOutcomes {
        build: sim.outcome(Target::Github, 0.0),
        netlify: sim.outcome(Target::Netlify, 0.06),
        smoke: sim.outcome(Target::Github, 0.08),
    };
    let names = Names::of(&sim.ids);
    let mut rng = sim.rng.clone();
    let (mut run, deploy) = seed::plan_run(
        &mut rng,
        &names,
        id,
        number,
        "workflow_dispatch",
        &head,
        &actor,
        now,
        pace,
        outcomes,
    );
    sim.rng = rng;
    if branch != "develop" {
        // The deploy job only runs for develop.
        run.jobs[1].steps.clear();
        run.artifacts.clear();
    } else {
        sim.deploys.extend(deploy);
    }
    sim.runs.push(run);
    StatusCode::NO_CONTENT.into_response()
}
