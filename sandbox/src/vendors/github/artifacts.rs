//! Actions artifacts: the list for a run, and the redirect to and the
//! download of their zips.

use super::runs::find_run;
use super::{error, not_found, page_or_422, redirect, repo_ok, repo_url, staging_url};
use crate::artifacts;
use crate::model::{Artifact, Run};
use crate::sim::Sim;
use crate::util::{iso_secs, Origin};
use crate::vendors::{json_with_link, Params};
use crate::{lock, Shared};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The organization id staging's branch deploys use (readable in Netlify).
fn org_id(sim: &Sim) -> String {
    sim.env
        .iter()
        .filter(|v| {
            v.site_id == sim.ids.netlify.staging_site_id && v.key == "DEFAULT_ORGANIZATION_ID"
        })
        .flat_map(|v| v.values.iter())
        .find(|v| v.context == "branch-deploy")
        .map(|v| v.value.clone())
        .unwrap_or_default()
}

fn artifact_json(sim: &Sim, origin: &str, run: &Run, a: &Artifact) -> Value {
    let size = artifacts::zip_of(run, a, &staging_url(sim), &org_id(sim)).len();
    let u = format!("{}/actions/artifacts/{}", repo_url(sim, origin), a.id);
    json!({
        "id": a.id,
        "node_id": format!("MDg6QXJ0aWZhY3Q{}", a.id),
        "name": a.name,
        "size_in_bytes": size,
        "url": u,
        "archive_download_url": format!("{u}/zip"),
        "expired": a.expires_ms <= sim.now(),
        "created_at": iso_secs(a.created_ms),
        "updated_at": iso_secs(a.created_ms),
        "expires_at": iso_secs(a.expires_ms),
        "workflow_run": {
            "id": run.id,
            "repository_id": 512_345_678u64,
            "head_repository_id": 512_345_678u64,
            "head_branch": run.branch,
            "head_sha": run.head_sha,
        },
    })
}

pub(super) async fn list_artifacts(
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
    let now = sim.now();
    let list: Vec<&Artifact> = run
        .artifacts
        .iter()
        .filter(|a| a.created_ms <= now)
        .filter(|a| q.get("name").is_none_or(|n| &a.name == n))
        .collect();
    let body: Vec<Value> = page
        .slice(&list)
        .iter()
        .map(|a| artifact_json(&sim, &origin, run, a))
        .collect();
    let link = page.link(
        &format!(
            "{}/actions/runs/{run_id}/artifacts",
            repo_url(&sim, &origin)
        ),
        &q,
        list.len(),
    );
    json_with_link(
        json!({ "total_count": list.len(), "artifacts": body }),
        link,
    )
}

fn find_artifact(sim: &Sim, id: u64) -> Option<(&Run, &Artifact)> {
    let now = sim.now();
    sim.runs.iter().find_map(|r| {
        r.artifacts
            .iter()
            .find(|a| a.id == id && a.created_ms <= now)
            .map(|a| (r, a))
    })
}

pub(super) async fn download_artifact(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, artifact_id, format)): Path<(String, String, u64, String)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) || format != "zip" {
        return not_found();
    }
    match find_artifact(&sim, artifact_id) {
        None => not_found(),
        Some((_, a)) if a.expires_ms <= sim.now() => {
            error(StatusCode::GONE, "Artifact has expired")
        }
        Some(_) => redirect(format!(
            "{origin}/github/_downloads/artifacts/{artifact_id}"
        )),
    }
}

pub(super) async fn download_zip(
    State(state): State<Shared>,
    Path(artifact_id): Path<u64>,
) -> Response {
    let sim = lock(&state.sim);
    match find_artifact(&sim, artifact_id) {
        Some((run, a)) if a.expires_ms > sim.now() => (
            [
                (header::CONTENT_TYPE, "application/zip".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename={}.zip", a.name),
                ),
            ],
            artifacts::zip_of(run, a, &staging_url(&sim), &org_id(&sim)),
        )
            .into_response(),
        _ => not_found(),
    }
}
