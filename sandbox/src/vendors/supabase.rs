//! The Supabase Management API under `/supabase/v1`: project branches (list,
//! create, get, update, delete, merge, reset, push, restore, diff) and
//! database backups, and the branches' workflow runs (`/actions`: steps and
//! logs). A new or reset branch goes CREATING_PROJECT -> RUNNING_MIGRATIONS
//! -> MIGRATIONS_FAILED | MIGRATIONS_PASSED -> FUNCTIONS_DEPLOYED on the
//! sandbox clock, and its run's steps with it.

use super::{json_status, Params};
use crate::model::{Branch, BranchFault};
use crate::seed::project_ref;
use crate::sim::{Sim, Target};
use crate::util::{iso, DAY_MS};
use crate::{lock, Shared};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/supabase/v1/projects/{ref}/branches",
            get(list_branches).post(create_branch),
        )
        .route(
            "/supabase/v1/projects/{ref}/branches/{name}",
            get(branch_by_name),
        )
        .route(
            "/supabase/v1/branches/{id}",
            get(branch_config)
                .patch(update_branch)
                .delete(delete_branch),
        )
        .route("/supabase/v1/branches/{id}/merge", post(merge))
        .route("/supabase/v1/branches/{id}/reset", post(reset))
        .route("/supabase/v1/branches/{id}/push", post(push))
        .route("/supabase/v1/branches/{id}/restore", post(restore))
        .route("/supabase/v1/branches/{id}/diff", get(diff))
        .route("/supabase/v1/projects/{ref}/database/backups", get(backups))
        .route(
            "/supabase/v1/projects/{ref}/actions",
            get(list_runs).head(count_runs),
        )
        .route("/supabase/v1/projects/{ref}/actions/{run_id}", get(get_run))
        .route(
            "/supabase/v1/projects/{ref}/actions/{run_id}/logs",
            get(run_logs),
        )
        .layer(axum::middleware::from_fn(require_token))
}

pub fn error(status: StatusCode, message: &str) -> Response {
    json_status(status, json!({ "message": message }))
}

async fn require_token(req: Request, next: Next) -> Response {
    if super::bearer(req.headers()).is_none() {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    next.run(req).await
}

fn project_ok(sim: &Sim, r: &str) -> bool {
    r == sim.ids.supabase.project_ref
}

fn no_project() -> Response {
    error(StatusCode::NOT_FOUND, "Project not found")
}

fn no_branch() -> Response {
    error(StatusCode::NOT_FOUND, "Branch not found")
}

fn branch_json(sim: &Sim, b: &Branch) -> Value {
    let (status, preview) = b.status_at(sim.now());
    let mut v = json!({
        "id": b.id,
        "name": b.name,
        "project_ref": b.project_ref,
        "parent_project_ref": sim.ids.supabase.project_ref,
        "is_default": b.is_default,
        "persistent": b.persistent,
        "status": status,
        "preview_project_status": preview,
        "with_data": b.with_data,
        "created_at": iso(b.created_ms),
        // The last time its status changed: a branch stuck creating keeps
        // the time it was created, as Supabase's does.
        "updated_at": iso(
            [b.migrations_ms, b.done_ms, b.functions_ms()]
                .into_iter()
                .filter(|t| *t <= sim.now())
                .fold(b.updated_ms, i64::max)
        ),
    });
    if let Some(g) = &b.git_branch {
        v["git_branch"] = json!(g);
    }
    if let Some(n) = b.pr_number {
        v["pr_number"] = json!(n);
    }
    if let Some(at) = b.deletion_ms {
        v["deletion_scheduled_at"] = json!(iso(at));
    }
    v
}

/// A delete goes through this long (on the sandbox clock, scaled by its
/// pace) after it was asked for; until then the branch can be restored.
const DELETION_GRACE_MS: u64 = 24 * 3_600_000;

/// The simulation, with branches whose deletion grace is over gone.
fn branches_now(state: &Shared) -> std::sync::MutexGuard<'_, Sim> {
    let mut sim = lock(&state.sim);
    let now = sim.now();
    sim.branches.retain(|b| !b.gone(now));
    sim
}

fn find(sim: &Sim, id_or_ref: &str) -> Option<usize> {
    sim.branches
        .iter()
        .position(|b| b.id == id_or_ref || b.project_ref == id_or_ref)
}

async fn list_branches(State(state): State<Shared>, Path(r): Path<String>) -> Response {
    let sim = branches_now(&state);
    if !project_ok(&sim, &r) {
        return no_project();
    }
    let list: Vec<Value> = sim.branches.iter().map(|b| branch_json(&sim, b)).collect();
    json_status(StatusCode::OK, Value::Array(list))
}

#[derive(Deserialize)]
struct CreateBranch {
    branch_name: String,
    git_branch: Option<String>,
    #[serde(default)]
    is_default: bool,
    #[serde(default)]
    persistent: bool,
    #[serde(default)]
    with_data: bool,
    #[allow(dead_code)]
    region: Option<String>,
    #[allow(dead_code)]
    desired_instance_size: Option<String>,
    #[allow(dead_code)]
    release_channel: Option<String>,
    #[allow(dead_code)]
    postgres_engine: Option<String>,
    #[allow(dead_code)]
    secrets: Option<serde_json::Map<String, Value>>,
    #[allow(dead_code)]
    notify_url: Option<String>,
}

/// Plans migrations starting now: about a minute to create the project,
/// then a minute or two of migrations, scaled by the clock's pace.
fn plan(sim: &mut Sim, b: &mut Branch, creating: bool) {
    let now = sim.now();
    let pace = sim.clock.pace;
    let scale = |ms: u64| ((ms as f64) * pace) as i64;
    let create_ms = if creating {
        scale(sim.rng.range(40_000, 90_000)).max(1)
    } else {
        0
    };
    b.updated_ms = now;
    b.run_started_ms = now;
    b.migrations_ms = now + create_ms;
    b.done_ms = b.migrations_ms + scale(sim.rng.range(30_000, 120_000)).max(1);
    b.outcome = sim.outcome(Target::Supabase, 0.1);
    b.functions_fail = false;
    if creating {
        match sim.supabase.next_branches.pop_front() {
            Some(BranchFault::Stuck) => {
                // Never leaves CREATING_PROJECT (ten years is for ever here).
                b.migrations_ms = now + 10 * 365 * 86_400_000;
                b.done_ms = b.migrations_ms + 1;
            }
            Some(BranchFault::MigrationsFailed) => b.outcome = crate::model::Outcome::Failure,
            Some(BranchFault::FunctionsFailed) => {
                b.outcome = crate::model::Outcome::Success;
                b.functions_fail = true;
            }
            None => {}
        }
    }
}

async fn create_branch(
    State(state): State<Shared>,
    Path(r): Path<String>,
    body: Result<Json<CreateBranch>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let mut sim = branches_now(&state);
    if !project_ok(&sim, &r) {
        return no_project();
    }
    let name = body.branch_name.trim().to_string();
    if name.is_empty() {
        return error(StatusCode::BAD_REQUEST, "branch_name must not be empty");
    }
    // Supabase refuses these with a message; the API description documents
    // no status for them, so the sandbox answers as a refused request.
    if !sim.supabase.branching_enabled {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Preview branching is not enabled for this project. Enable branching in the project's settings first.",
        );
    }
    let others = sim.branches.iter().filter(|b| !b.is_default).count();
    if let Some(limit) = sim.supabase.branch_limit {
        if others >= limit {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Branch limit of {limit} reached for this project. Delete a branch before creating another."),
            );
        }
    }
    if sim.branches.iter().any(|b| b.name == name) {
        return error(
            StatusCode::CONFLICT,
            &format!("A branch named {name} already exists"),
        );
    }
    let now = sim.now();
    let id = sim.rng.uuid();
    let project = project_ref(&mut sim.rng);
    let mut b = Branch {
        id,
        name,
        project_ref: project,
        git_branch: body.git_branch,
        is_default: body.is_default,
        persistent: body.persistent,
        with_data: body.with_data,
        pr_number: None,
        created_ms: now,
        updated_ms: now,
        deletion_ms: None,
        run_started_ms: now,
        migrations_ms: now,
        done_ms: now,
        outcome: crate::model::Outcome::Success,
        functions_fail: false,
    };
    plan(&mut sim, &mut b, true);
    let out = branch_json(&sim, &b);
    sim.branches.push(b);
    json_status(StatusCode::CREATED, out)
}

async fn branch_by_name(
    State(state): State<Shared>,
    Path((r, name)): Path<(String, String)>,
) -> Response {
    let sim = branches_now(&state);
    if !project_ok(&sim, &r) {
        return no_project();
    }
    match sim.branches.iter().find(|b| b.name == name) {
        Some(b) => json_status(StatusCode::OK, branch_json(&sim, b)),
        None => no_branch(),
    }
}

/// The branch's database details. Like Supabase's, the answer carries the
/// database password and JWT secret: distinctive values, so that tests can
/// prove Greenroom never lets them out.
async fn branch_config(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let sim = branches_now(&state);
    let Some(i) = find(&sim, &id) else {
        return no_branch();
    };
    let b = &sim.branches[i];
    let (_, preview) = b.status_at(sim.now());
    json_status(
        StatusCode::OK,
        json!({
            "ref": b.project_ref,
            "postgres_version": "17.4.1.054",
            "postgres_engine": "17",
            "release_channel": "ga",
            "status": preview,
            "db_host": format!("db.{}.supabase.co", b.project_ref),
            "db_port": 5432,
            "db_user": "postgres",
            "db_pass": format!("sandbox-db-pass-{}", b.project_ref),
            "jwt_secret": format!("sandbox-jwt-secret-{}", b.project_ref),
        }),
    )
}

#[derive(Deserialize)]
struct UpdateBranch {
    branch_name: Option<String>,
    git_branch: Option<String>,
    persistent: Option<bool>,
    #[allow(dead_code)]
    reset_on_push: Option<bool>,
    #[allow(dead_code)]
    status: Option<String>,
    #[allow(dead_code)]
    request_review: Option<bool>,
    #[allow(dead_code)]
    notify_url: Option<String>,
}

async fn update_branch(
    State(state): State<Shared>,
    Path(id): Path<String>,
    body: Result<Json<UpdateBranch>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let mut sim = branches_now(&state);
    let Some(i) = find(&sim, &id) else {
        return no_branch();
    };
    if let Some(name) = &body.branch_name {
        if name.trim().is_empty() {
            return error(StatusCode::BAD_REQUEST, "branch_name must not be empty");
        }
        if sim
            .branches
            .iter()
            .enumerate()
            .any(|(j, b)| j != i && &b.name == name)
        {
            return error(
                StatusCode::CONFLICT,
                &format!("A branch named {name} already exists"),
            );
        }
    }
    let now = sim.now();
    let b = &mut sim.branches[i];
    if let Some(n) = body.branch_name {
        b.name = n;
    }
    if let Some(g) = body.git_branch {
        b.git_branch = Some(g);
    }
    if let Some(p) = body.persistent {
        b.persistent = p;
    }
    b.updated_ms = now;
    let out = branch_json(&sim, &sim.branches[i]);
    json_status(StatusCode::OK, out)
}

async fn delete_branch(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(_q): Query<Params>,
) -> Response {
    let mut sim = branches_now(&state);
    let Some(i) = find(&sim, &id) else {
        return no_branch();
    };
    if sim.branches[i].is_default {
        return error(
            StatusCode::BAD_REQUEST,
            "The default branch cannot be deleted",
        );
    }
    let at = sim.now() + ((DELETION_GRACE_MS as f64) * sim.clock.pace) as i64;
    let b = &mut sim.branches[i];
    b.deletion_ms = Some(b.deletion_ms.unwrap_or(at));
    json_status(StatusCode::OK, json!({ "message": "ok" }))
}

/// merge / push / reset answer with the id of the workflow that runs them.
fn workflow_started(sim: &mut Sim) -> Response {
    let id = sim.rng.uuid();
    json_status(
        StatusCode::CREATED,
        json!({ "workflow_run_id": id, "message": "ok" }),
    )
}

async fn merge(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let mut sim = branches_now(&state);
    let Some(i) = find(&sim, &id) else {
        return no_branch();
    };
    if sim.branches[i].is_default {
        return error(
            StatusCode::BAD_REQUEST,
            "The default branch cannot be merged into itself",
        );
    }
    // Merging runs the branch's migrations on the parent project.
    let mut parent = sim.branches.iter().position(|b| b.is_default);
    if let Some(p) = parent.take() {
        let mut b = sim.branches[p].clone();
        plan(&mut sim, &mut b, false);
        sim.branches[p] = b;
    }
    workflow_started(&mut sim)
}

async fn reset(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let mut sim = branches_now(&state);
    let Some(i) = find(&sim, &id) else {
        return no_branch();
    };
    let mut b = sim.branches[i].clone();
    plan(&mut sim, &mut b, false);
    sim.branches[i] = b;
    workflow_started(&mut sim)
}

async fn push(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    reset(State(state), Path(id)).await
}

/// Takes a scheduled deletion back while its grace lasts (a branch that was
/// not being deleted is left as it is).
async fn restore(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let mut sim = branches_now(&state);
    let Some(i) = find(&sim, &id) else {
        return no_branch();
    };
    sim.branches[i].deletion_ms = None;
    json_status(
        StatusCode::OK,
        json!({ "message": "Branch restoration initiated" }),
    )
}

async fn diff(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let sim = branches_now(&state);
    let Some(i) = find(&sim, &id) else {
        return no_branch();
    };
    let b = &sim.branches[i];
    let body = if b.is_default {
        String::new()
    } else {
        format!(
            "-- Schema diff of branch {} against production\n\
             create table if not exists public.{}_audit (\n  id bigint generated always as identity primary key,\n  \
             created_at timestamptz not null default now()\n);\n\
             alter table public.invoices enable row level security;\n",
            b.name,
            b.name.replace('-', "_")
        )
    };
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// Seven daily backups, taken at 03:00 UTC of sandbox time (the newest
/// is today's once that hour has passed); with PITR on, the recovery range
/// runs from the oldest to now.
async fn backups(State(state): State<Shared>, Path(r): Path<String>) -> Response {
    let sim = branches_now(&state);
    if !project_ok(&sim, &r) {
        return no_project();
    }
    let now = sim.now();
    let today = now.div_euclid(DAY_MS) * DAY_MS + 3 * 3_600_000;
    let newest = if now >= today { today } else { today - DAY_MS };
    let list: Vec<Value> = (0..7)
        .map(|d| {
            json!({
                "id": 880_000 + d,
                "is_physical_backup": true,
                "status": "COMPLETED",
                "inserted_at": iso(newest - d * DAY_MS),
            })
        })
        .collect();
    let pitr = sim.supabase.pitr_enabled;
    json_status(
        StatusCode::OK,
        json!({
            "region": "eu-central-1",
            "walg_enabled": true,
            "pitr_enabled": pitr,
            "backups": list,
            "physical_backup_data": {
                "earliest_physical_backup_date_unix": (newest - 6 * DAY_MS) / 1000,
                "latest_physical_backup_date_unix": if pitr { now / 1000 } else { newest / 1000 },
            },
        }),
    )
}

fn run_json(sim: &Sim, b: &Branch) -> Value {
    let now = sim.now();
    let steps: Vec<Value> = b
        .run_steps_at(now)
        .into_iter()
        .map(|(name, status, created, updated)| {
            json!({
                "name": name,
                "status": status,
                "created_at": iso(created),
                "updated_at": iso(updated),
            })
        })
        .collect();
    json!({
        "id": b.run_id(),
        "branch_id": b.id,
        "run_steps": steps,
        "git_config": null,
        "workdir": null,
        "check_run_id": null,
        "created_at": iso(b.run_started()),
        "updated_at": iso(b.done_ms.min(now).max(b.run_started())),
    })
}

#[derive(Deserialize)]
struct RunPage {
    offset: Option<f64>,
    limit: Option<f64>,
}

/// The latest run of each branch of the project, newest first; `offset`
/// and `limit` page it as the description allows (limit at least 10).
async fn list_runs(
    State(state): State<Shared>,
    Path(r): Path<String>,
    Query(page): Query<RunPage>,
) -> Response {
    let sim = branches_now(&state);
    if !project_ok(&sim, &r) {
        return no_project();
    }
    let mut branches: Vec<&Branch> = sim.branches.iter().collect();
    branches.sort_by_key(|b| std::cmp::Reverse(b.run_started()));
    let offset = page.offset.unwrap_or(0.0).max(0.0) as usize;
    let limit = page.limit.unwrap_or(100.0).max(10.0) as usize;
    let list: Vec<Value> = branches
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|b| run_json(&sim, b))
        .collect();
    json_status(StatusCode::OK, Value::Array(list))
}

async fn count_runs(State(state): State<Shared>, Path(r): Path<String>) -> Response {
    let sim = branches_now(&state);
    if !project_ok(&sim, &r) {
        return no_project();
    }
    (
        StatusCode::OK,
        [("x-total-count", sim.branches.len().to_string())],
    )
        .into_response()
}

fn run_of<'a>(sim: &'a Sim, run_id: &str) -> Option<&'a Branch> {
    sim.branches.iter().find(|b| b.run_id() == run_id)
}

async fn get_run(
    State(state): State<Shared>,
    Path((r, run_id)): Path<(String, String)>,
) -> Response {
    let sim = branches_now(&state);
    if !project_ok(&sim, &r) {
        return no_project();
    }
    match run_of(&sim, &run_id) {
        Some(b) => json_status(StatusCode::OK, run_json(&sim, b)),
        None => error(StatusCode::NOT_FOUND, "Action run not found"),
    }
}

async fn run_logs(
    State(state): State<Shared>,
    Path((r, run_id)): Path<(String, String)>,
) -> Response {
    let sim = branches_now(&state);
    if !project_ok(&sim, &r) {
        return no_project();
    }
    match run_of(&sim, &run_id) {
        Some(b) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            b.run_log_at(sim.now()),
        )
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "Action run not found"),
    }
}
