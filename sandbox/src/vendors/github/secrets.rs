//! Actions secrets (names and dates only) and variables, for the repository,
//! the organization and each environment.

use super::environments::env_ok;
use super::{not_found, page_or_422, repo_ok, repo_url, RepoPath};
use crate::sim::Sim;
use crate::util::{iso_secs, Origin};
use crate::vendors::{json_with_link, Params};
use crate::{lock, Shared};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{json, Value};

/// GitHub's answer to a token without the permission for a store.
fn forbidden(sim: &Sim, store: &str) -> Option<Response> {
    sim.ids
        .github
        .forbidden
        .iter()
        .any(|s| s == store)
        .then(|| {
            crate::vendors::json_status(
                axum::http::StatusCode::FORBIDDEN,
                json!({
                    "message": "Resource not accessible by personal access token",
                    "documentation_url": "https://docs.github.com/rest/actions/secrets",
                    "status": "403",
                }),
            )
        })
}

fn secrets_page(
    sim: &Sim,
    origin: &str,
    path: &str,
    q: &Params,
    scope: &str,
    with_visibility: bool,
) -> Response {
    let store = match scope {
        "repo" => "repo-secrets".to_string(),
        "org" => "org-secrets".to_string(),
        env => format!("environment-secrets:{env}"),
    };
    if let Some(refused) = forbidden(sim, &store) {
        return refused;
    }
    let page = match page_or_422(q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let list: Vec<_> = sim.secrets.iter().filter(|s| s.scope == scope).collect();
    let body: Vec<Value> = page
        .slice(&list)
        .iter()
        .map(|s| {
            let mut v = json!({
                "name": s.name,
                "created_at": iso_secs(s.created_ms),
                "updated_at": iso_secs(s.updated_ms),
            });
            if with_visibility {
                v["visibility"] = json!("private");
            }
            v
        })
        .collect();
    let link = page.link(&format!("{}{path}", repo_url(sim, origin)), q, list.len());
    json_with_link(json!({ "total_count": list.len(), "secrets": body }), link)
}

fn variables_page(sim: &Sim, origin: &str, path: &str, q: &Params, scope: &str) -> Response {
    let store = match scope {
        "repo" => "repo-variables".to_string(),
        "org" => "org-variables".to_string(),
        env => format!("environment-variables:{env}"),
    };
    if let Some(refused) = forbidden(sim, &store) {
        return refused;
    }
    let page = match page_or_422(q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let list: Vec<_> = sim.variables.iter().filter(|v| v.scope == scope).collect();
    let body: Vec<Value> = page
        .slice(&list)
        .iter()
        .map(|v| {
            json!({
                "name": v.name,
                "value": v.value,
                "created_at": iso_secs(v.created_ms),
                "updated_at": iso_secs(v.updated_ms),
            })
        })
        .collect();
    let link = page.link(&format!("{}{path}", repo_url(sim, origin)), q, list.len());
    json_with_link(
        json!({ "total_count": list.len(), "variables": body }),
        link,
    )
}

pub(super) async fn repo_secrets(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo)): RepoPath,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    secrets_page(&sim, &origin, "/actions/secrets", &q, "repo", false)
}

pub(super) async fn org_secrets(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo)): RepoPath,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    secrets_page(
        &sim,
        &origin,
        "/actions/organization-secrets",
        &q,
        "org",
        false,
    )
}

pub(super) async fn repo_variables(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo)): RepoPath,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    variables_page(&sim, &origin, "/actions/variables", &q, "repo")
}

pub(super) async fn org_variables(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo)): RepoPath,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    variables_page(&sim, &origin, "/actions/organization-variables", &q, "org")
}

pub(super) async fn env_secrets(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, env)): Path<(String, String, String)>,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) || !env_ok(&sim, &env) {
        return not_found();
    }
    secrets_page(
        &sim,
        &origin,
        &format!("/environments/{env}/secrets"),
        &q,
        &env,
        false,
    )
}

pub(super) async fn env_variables(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, env)): Path<(String, String, String)>,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) || !env_ok(&sim, &env) {
        return not_found();
    }
    variables_page(
        &sim,
        &origin,
        &format!("/environments/{env}/variables"),
        &q,
        &env,
    )
}
