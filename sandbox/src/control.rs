//! The control API under `/__sandbox/`, for tests and scripts; it answers
//! loopback clients only.
//!
//! | method, path | what |
//! | --- | --- |
//! | `GET /__sandbox/world` | the world: ids of sites, repo, project, members and roles |
//! | `GET /__sandbox/world?full=true` | the whole state as a world file (every deploy, run, var...) |
//! | `GET /__sandbox/clock` | sandbox time: `now_ms`, `offset_ms`, `pace` |
//! | `POST /__sandbox/clock` | `{"advance_ms": N}` moves time on; `{"pace": 0.01}` makes new builds, runs and migrations 100x faster |
//! | `GET /__sandbox/outcomes` | outcomes queued per target |
//! | `POST /__sandbox/outcomes` | `{"target": "netlify"\|"github"\|"supabase", "outcome": "success"\|"failure", "count": N}` forces the next N outcomes |
//! | `DELETE /__sandbox/outcomes` | forget forced outcomes |
//! | `GET /__sandbox/requests?vendor=&path=&method=` | requests received by vendor routes |
//! | `GET /__sandbox/faults` | faults in force |
//! | `POST /__sandbox/faults` | add a fault (JSON [`FaultSpec`]) |
//! | `DELETE /__sandbox/faults` | clear all faults |
//! | `POST /__sandbox/members` | `{"login": "...", "team": "developers" \| null}` moves a member to another team (or none), as removing someone from a GitHub team would |
//! | `GET /__sandbox/slack` | messages posted to the Slack webhook |
//! | `GET /__sandbox/supabase` | the Supabase project's modes |
//! | `POST /__sandbox/supabase` | `{"branching_enabled": false, "branch_limit": 2, "pitr_enabled": true, "next_branch": "stuck" \| "migrations_failed" \| "functions_failed"}` (any of them) switches them, or queues what the next branch created does |
//! | `POST /__sandbox/artifacts` | `{"run_id": N, "shape": "smoke"\|"zip-slip"\|"symlink"\|"bomb"\|"nested"\|"not-zip", "expired": false}` uploads an artifact of that shape to run N now (or one already expired); answers its `id` |
//! | `POST /__sandbox/reset` | restore the world, forget requests, faults, messages |

use crate::faults::FaultSpec;
use crate::request_log::RequestFilter;
use crate::{lock, Shared};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::net::SocketAddr;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/__sandbox/world", get(world))
        .route("/__sandbox/clock", get(clock).post(set_clock))
        .route(
            "/__sandbox/outcomes",
            get(outcomes).post(force_outcome).delete(clear_outcomes),
        )
        .route("/__sandbox/requests", get(requests))
        .route(
            "/__sandbox/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/__sandbox/members", post(set_member_team))
        .route("/__sandbox/slack", get(slack))
        .route(
            "/__sandbox/supabase",
            get(supabase_modes).post(set_supabase_modes),
        )
        .route("/__sandbox/artifacts", post(add_artifact))
        .route("/__sandbox/reset", post(reset))
        .layer(axum::middleware::from_fn(loopback_only))
}

async fn loopback_only(req: Request, next: Next) -> Response {
    let from_loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(addr)| addr.ip().is_loopback());
    if !from_loopback {
        return error(
            StatusCode::FORBIDDEN,
            "the sandbox control API answers loopback clients only",
        );
    }
    next.run(req).await
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldQuery {
    #[serde(default)]
    full: bool,
}

async fn world(
    State(state): State<Shared>,
    q: Result<Query<WorldQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error(
            StatusCode::BAD_REQUEST,
            "the only filter is full=true|false",
        );
    };
    let sim = lock(&state.sim);
    if q.full {
        Json(sim.to_world()).into_response()
    } else {
        Json(sim.ids.clone()).into_response()
    }
}

fn clock_json(sim: &crate::sim::Sim) -> serde_json::Value {
    json!({
        "now_ms": sim.now(),
        "now": crate::util::iso(sim.now()),
        "offset_ms": sim.clock.offset_ms,
        "pace": sim.clock.pace,
    })
}

async fn clock(State(state): State<Shared>) -> Response {
    Json(clock_json(&lock(&state.sim))).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_ms: Option<i64>,
    pace: Option<f64>,
}

async fn set_clock(
    State(state): State<Shared>,
    body: Result<Json<ClockChange>, JsonRejection>,
) -> Response {
    let change = match body {
        Ok(Json(c)) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    if change.advance_ms.is_some_and(|a| a < 0) {
        return error(
            StatusCode::BAD_REQUEST,
            "advance_ms must not be negative: time only moves on",
        );
    }
    if change.pace.is_some_and(|p| !(p > 0.0 && p <= 100.0)) {
        return error(
            StatusCode::BAD_REQUEST,
            "pace must be above 0 and at most 100",
        );
    }
    let mut sim = lock(&state.sim);
    if let Some(a) = change.advance_ms {
        sim.clock.offset_ms += a;
    }
    if let Some(p) = change.pace {
        sim.clock.pace = p;
    }
    Json(clock_json(&sim)).into_response()
}

async fn supabase_modes(State(state): State<Shared>) -> Response {
    Json(lock(&state.sim).supabase.clone()).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SupabaseChange {
    branching_enabled: Option<bool>,
    /// A number, or `null` for no limit.
    #[serde(default, deserialize_with = "present")]
    branch_limit: Option<Option<usize>>,
    pitr_enabled: Option<bool>,
    /// Queues what the next branch created does.
    next_branch: Option<crate::model::BranchFault>,
}

/// A field that is there, even as `null` (`Some(None)`); absent is `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<usize>>, D::Error> {
    use serde::Deserialize;
    Option::<usize>::deserialize(d).map(Some)
}

async fn set_supabase_modes(
    State(state): State<Shared>,
    body: Result<Json<SupabaseChange>, JsonRejection>,
) -> Response {
    let change = match body {
        Ok(Json(c)) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let mut sim = lock(&state.sim);
    if let Some(on) = change.branching_enabled {
        sim.supabase.branching_enabled = on;
    }
    if let Some(limit) = change.branch_limit {
        sim.supabase.branch_limit = limit;
    }
    if let Some(on) = change.pitr_enabled {
        sim.supabase.pitr_enabled = on;
    }
    if let Some(fault) = change.next_branch {
        sim.supabase.next_branches.push_back(fault);
    }
    Json(sim.supabase.clone()).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceOutcome {
    target: crate::sim::Target,
    outcome: crate::model::Outcome,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

async fn outcomes(State(state): State<Shared>) -> Response {
    let sim = lock(&state.sim);
    let map: std::collections::BTreeMap<String, Vec<crate::model::Outcome>> = sim
        .forced
        .iter()
        .map(|(t, q)| (format!("{t:?}").to_lowercase(), q.iter().copied().collect()))
        .collect();
    Json(map).into_response()
}

async fn force_outcome(
    State(state): State<Shared>,
    body: Result<Json<ForceOutcome>, JsonRejection>,
) -> Response {
    let f = match body {
        Ok(Json(f)) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    if f.count == 0 || f.count > 1000 {
        return error(StatusCode::BAD_REQUEST, "count must be between 1 and 1000");
    }
    {
        let mut sim = lock(&state.sim);
        let q = sim.forced.entry(f.target).or_default();
        q.extend(std::iter::repeat_n(f.outcome, f.count as usize));
    }
    (StatusCode::CREATED, outcomes(State(state)).await).into_response()
}

async fn clear_outcomes(State(state): State<Shared>) -> StatusCode {
    lock(&state.sim).forced.clear();
    StatusCode::NO_CONTENT
}

async fn requests(
    State(state): State<Shared>,
    filter: Result<Query<RequestFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(f)) => Json(state.requests.list(&f)).into_response(),
        Err(e) => error(
            StatusCode::BAD_REQUEST,
            &format!("{e}; filters are vendor, path and method"),
        ),
    }
}

async fn list_faults(State(state): State<Shared>) -> Response {
    Json(state.faults.list()).into_response()
}

async fn add_fault(
    State(state): State<Shared>,
    spec: Result<Json<FaultSpec>, JsonRejection>,
) -> Response {
    let spec = match spec {
        Ok(Json(s)) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    match state.faults.add(spec) {
        Ok(()) => (StatusCode::CREATED, Json(state.faults.list())).into_response(),
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn clear_faults(State(state): State<Shared>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewArtifact {
    run_id: u64,
    shape: crate::model::ArtifactShape,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    expired: bool,
}

async fn add_artifact(
    State(state): State<Shared>,
    body: Result<Json<NewArtifact>, JsonRejection>,
) -> Response {
    let new = match body {
        Ok(Json(n)) => n,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let mut sim = lock(&state.sim);
    let now = sim.now();
    let id = sim
        .runs
        .iter()
        .flat_map(|r| r.artifacts.iter().map(|a| a.id))
        .max()
        .unwrap_or(0)
        + 1;
    let Some(run) = sim.runs.iter_mut().find(|r| r.id == new.run_id) else {
        return error(StatusCode::NOT_FOUND, "no run with that id");
    };
    let retention = crate::seed::ARTIFACT_RETENTION_MS;
    let created_ms = if new.expired {
        now - retention - 1
    } else {
        now
    };
    run.artifacts.push(crate::model::Artifact {
        id,
        name: new.name.unwrap_or_else(|| format!("planted-{id}")),
        created_ms,
        expires_ms: created_ms + retention,
        smoke_passed: false,
        shape: new.shape,
    });
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberTeam {
    login: String,
    team: Option<String>,
}

async fn set_member_team(
    State(state): State<Shared>,
    body: Result<Json<MemberTeam>, JsonRejection>,
) -> Response {
    let change = match body {
        Ok(Json(c)) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let mut sim = lock(&state.sim);
    match sim.ids.members.iter_mut().find(|m| m.login == change.login) {
        Some(m) => {
            m.team = change.team.filter(|t| !t.trim().is_empty());
            Json(m.clone()).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            &format!("no member {:?} in the world", change.login),
        ),
    }
}

async fn slack(State(state): State<Shared>) -> Response {
    Json(lock(&state.slack).clone()).into_response()
}

async fn reset(State(state): State<Shared>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}
