//! Deployment environments, and the deployments (with their statuses) that
//! the deploy jobs make to staging.

use super::runs::step_state;
use super::{not_found, page_or_422, repo_ok, repo_url, staging_url, user_json, RepoPath};
use crate::model::{Job, Run, Step};
use crate::sim::Sim;
use crate::util::{iso_secs, Origin};
use crate::vendors::{json_status, json_with_link, Params};
use crate::{lock, Shared};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

pub(super) fn env_ok(sim: &Sim, env: &str) -> bool {
    sim.ids.github.environments.iter().any(|e| e == env)
}

pub(super) async fn environments(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo)): RepoPath,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let created = iso_secs(sim.anchor_ms - 300 * crate::util::DAY_MS);
    let list: Vec<Value> = sim
        .ids
        .github
        .environments
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "id": 161_000_000u64 + i as u64,
                "node_id": format!("EN_kwDO{i}"),
                "name": name,
                "url": format!("{}/environments/{name}", repo_url(&sim, &origin)),
                "html_url": format!("https://github.com/{o}/{r}/deployments/activity_log?environments_filter={name}"),
                "created_at": created,
                "updated_at": created,
            })
        })
        .collect();
    json_status(
        StatusCode::OK,
        json!({ "total_count": list.len(), "environments": list }),
    )
}

/// GitHub deployments: one per deploy job that reached its deploy step.
fn deployment_list(sim: &Sim) -> Vec<(&Run, &Job, &Step)> {
    let now = sim.now();
    sim.runs
        .iter()
        .rev()
        .filter_map(|r| {
            let job = r.jobs.get(1)?;
            let step = job
                .steps
                .iter()
                .find(|s| s.name.starts_with("Deploy to Netlify"))?;
            (step.started_ms <= now).then_some((r, job, step))
        })
        .collect()
}

pub(super) async fn deployments(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo)): RepoPath,
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
    let list: Vec<_> = deployment_list(&sim)
        .into_iter()
        .filter(|_| q.get("environment").is_none_or(|e| e == "staging"))
        .filter(|(r, _, _)| q.get("sha").is_none_or(|s| &r.head_sha == s))
        .filter(|(r, _, _)| q.get("ref").is_none_or(|b| &r.branch == b))
        .filter(|_| q.get("task").is_none_or(|t| t == "deploy"))
        .collect();
    let body: Vec<Value> = page
        .slice(&list)
        .iter()
        .map(|(run, job, step)| {
            let u = format!("{}/deployments/{}", repo_url(&sim, &origin), job.id);
            json!({
                "id": job.id,
                "node_id": format!("DE_kwDO{}", job.id),
                "sha": run.head_sha,
                "ref": run.branch,
                "task": "deploy",
                "payload": {},
                "original_environment": "staging",
                "environment": "staging",
                "description": format!("Deploy of {} by CI", &run.head_sha[..7.min(run.head_sha.len())]),
                "creator": user_json(&origin, "github-actions[bot]", 41_898_282),
                "created_at": iso_secs(step.started_ms),
                "updated_at": iso_secs(step.completed_ms.min(sim.now())),
                "statuses_url": format!("{u}/statuses"),
                "repository_url": repo_url(&sim, &origin),
                "url": u,
                "transient_environment": false,
                "production_environment": false,
            })
        })
        .collect();
    let link = page.link(
        &format!("{}/deployments", repo_url(&sim, &origin)),
        &q,
        list.len(),
    );
    json_with_link(Value::Array(body), link)
}

pub(super) async fn deployment_statuses(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let now = sim.now();
    let Some((run, _, step)) = deployment_list(&sim)
        .into_iter()
        .find(|(_, j, _)| j.id == id)
    else {
        return not_found();
    };
    let dep_url = format!("{}/deployments/{id}", repo_url(&sim, &origin));
    let status = |n: u64, state: &str, at: i64| {
        json!({
            "id": id * 10 + n,
            "node_id": format!("DES_kwDO{}", id * 10 + n),
            "state": state,
            "creator": user_json(&origin, "github-actions[bot]", 41_898_282),
            "description": "",
            "environment": "staging",
            "target_url": "",
            "log_url": format!("https://github.com/{}/{}/actions/runs/{}", sim.ids.github.owner, sim.ids.github.repo, run.id),
            "environment_url": staging_url(&sim),
            "deployment_url": dep_url,
            "repository_url": repo_url(&sim, &origin),
            "url": format!("{dep_url}/statuses/{}", id * 10 + n),
            "created_at": iso_secs(at),
            "updated_at": iso_secs(at),
        })
    };
    // Newest first, as GitHub lists them.
    let mut list = Vec::new();
    let (s, c) = step_state(step, run.cancelled_ms, now);
    if s == "completed" {
        let state = match c {
            Some("success") => "success",
            Some("cancelled") | Some("skipped") => "inactive",
            _ => "failure",
        };
        list.push(status(2, state, step.completed_ms.min(now)));
    }
    list.push(status(1, "in_progress", step.started_ms));
    json_status(StatusCode::OK, Value::Array(list))
}
