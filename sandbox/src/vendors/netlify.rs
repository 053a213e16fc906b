//! Netlify API v1 under `/netlify/api/v1`: sites, deploys (list, get,
//! restore, cancel, lock), builds, build hooks, deployed branches, account
//! env vars with per-context values, and deploy notification hooks.

use super::{flag, json_status, json_with_link, Page, Params};
use crate::model::Deploy;
use crate::seed;
use crate::sim::{Sim, Target};
use crate::util::{iso, Origin};
use crate::{lock, Shared};
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

const PREFIX: &str = "/netlify/api/v1";
/// Netlify's default and largest page.
const PER_PAGE: usize = 100;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(&p("/sites/{site_id}"), get(get_site))
        .route(&p("/sites/{site_id}/deploys"), get(list_deploys))
        .route(&p("/sites/{site_id}/deploys/{deploy_id}"), get(get_deploy))
        .route(
            &p("/sites/{site_id}/deploys/{deploy_id}/restore"),
            post(restore),
        )
        .route(&p("/deploys/{deploy_id}/cancel"), post(cancel))
        .route(&p("/deploys/{deploy_id}/lock"), post(lock_deploy))
        .route(&p("/deploys/{deploy_id}/unlock"), post(unlock_deploy))
        .route(
            &p("/sites/{site_id}/builds"),
            get(list_builds).post(create_build),
        )
        .route(&p("/builds/{build_id}"), get(get_build))
        .route(&p("/sites/{site_id}/build_hooks"), get(list_build_hooks))
        .route(
            &p("/sites/{site_id}/deployed-branches"),
            get(deployed_branches),
        )
        .route(&p("/accounts/{account_id}/env"), get(list_env))
        .route(&p("/accounts/{account_id}/env/{key}"), get(get_env))
        .route(&p("/hooks"), get(list_hooks))
        .layer(axum::middleware::from_fn(require_token))
}

fn p(path: &str) -> String {
    format!("{PREFIX}{path}")
}

/// Netlify's error body: `{"code": N, "message": "..."}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    json_status(
        status,
        json!({ "code": status.as_u16(), "message": message }),
    )
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

async fn require_token(req: Request, next: Next) -> Response {
    if super::bearer(req.headers()).is_none() {
        return error(
            StatusCode::UNAUTHORIZED,
            "Access Denied: a personal access token is required (Authorization: Bearer ...)",
        );
    }
    next.run(req).await
}

fn site_json(sim: &Sim, site_id: &str) -> Option<Value> {
    let name = sim.site_name(site_id)?;
    let url = format!("https://{name}.netlify.app");
    let mut site = json!({
        "id": site_id,
        "site_id": site_id,
        "state": "current",
        "plan": "nf_team_dev",
        "name": name,
        "url": url,
        "ssl_url": url,
        "admin_url": format!("https://app.netlify.com/sites/{name}"),
        "screenshot_url": format!("https://d33wubrfki0l68.cloudfront.net/{name}.png"),
        "created_at": iso(sim.anchor_ms - 400 * crate::util::DAY_MS),
        "updated_at": iso(sim.now()),
        "user_id": "5e1f0a2b3c4d5e6f7a8b9c0d",
        "ssl": true,
        "force_ssl": true,
        "managed_dns": true,
        "deploy_url": url,
        "account_name": sim.ids.netlify.account_slug,
        "account_slug": sim.ids.netlify.account_slug,
        "git_provider": "github",
        "build_settings": {
            "provider": "github",
            "repo_url": format!("https://github.com/{}/{}", sim.ids.github.owner, sim.ids.github.repo),
            "repo_branch": sim.site_branch(site_id),
            "cmd": "npm run build",
            "dir": "dist",
        },
    });
    if let Some((i, at)) = sim.published(site_id) {
        site["published_deploy"] = deploy_json(sim, &sim.deploys[i], Some(at));
    }
    Some(site)
}

/// What rendering a deploy needs of the world, copied out so that a page of
/// deploys is rendered without holding the sandbox's lock.
pub struct DeployCtx {
    now: i64,
    production_site: String,
    production_name: String,
    staging_name: String,
    owner: String,
    repo: String,
}

impl DeployCtx {
    pub fn of(sim: &Sim) -> Self {
        let site = |id: &str| sim.site_name(id).unwrap_or_default();
        Self {
            now: sim.now(),
            production_site: sim.ids.netlify.production_site_id.clone(),
            production_name: site(&sim.ids.netlify.production_site_id),
            staging_name: site(&sim.ids.netlify.staging_site_id),
            owner: sim.ids.github.owner.clone(),
            repo: sim.ids.github.repo.clone(),
        }
    }

    fn site_name(&self, site_id: &str) -> &str {
        if site_id == self.production_site {
            &self.production_name
        } else {
            &self.staging_name
        }
    }
}

/// A deploy as Netlify shows it at sandbox time. `published_at` is given
/// when the caller knows it is (or was) published.
pub fn deploy_json(sim: &Sim, d: &Deploy, published_at: Option<i64>) -> Value {
    deploy_json_in(&DeployCtx::of(sim), d, published_at)
}

pub fn deploy_json_in(ctx: &DeployCtx, d: &Deploy, published_at: Option<i64>) -> Value {
    let now = ctx.now;
    let (state, error_message) = d.state_at(now);
    let name = ctx.site_name(&d.site_id);
    let url = format!("https://{name}.netlify.app");
    let deploy_url = format!("https://{}--{name}.netlify.app", d.id);
    let updated = [d.created_ms, d.building_ms, d.processing_ms, d.done_ms]
        .into_iter()
        .chain(d.cancelled_ms)
        .chain(d.restored_ms)
        .filter(|t| *t <= now)
        .max()
        .unwrap_or(d.created_ms);
    let mut v = json!({
        "id": d.id,
        "site_id": d.site_id,
        "build_id": d.build_id,
        "user_id": "5e1f0a2b3c4d5e6f7a8b9c0d",
        "state": state,
        "name": name,
        "url": url,
        "ssl_url": url,
        "admin_url": format!("https://app.netlify.com/sites/{name}"),
        "deploy_url": deploy_url,
        "deploy_ssl_url": deploy_url,
        "branch": d.branch,
        "commit_ref": d.commit_ref,
        "commit_url": format!(
            "https://github.com/{}/{}/commit/{}",
            ctx.owner, ctx.repo, d.commit_ref
        ),
        "context": d.context,
        "title": d.title,
        "draft": false,
        "skipped": false,
        "locked": d.locked,
        "framework": "vite",
        "required": [],
        "required_functions": [],
        "created_at": iso(d.created_ms),
        "updated_at": iso(updated),
    });
    if let Some(msg) = error_message {
        v["error_message"] = json!(msg);
    }
    if let Some(done) = d.finished_at(now) {
        v["deploy_time"] = json!((done - d.building_ms.min(done)) / 1000);
    }
    let published = published_at
        .or_else(|| (state == "ready" && d.context != "deploy-preview").then_some(d.done_ms));
    if let Some(at) = published {
        v["published_at"] = json!(iso(at));
    }
    if let Some(r) = d.review_id {
        v["review_id"] = json!(r);
        v["review_url"] = json!(format!(
            "https://github.com/{}/{}/pull/{r}",
            ctx.owner, ctx.repo
        ));
    }
    v
}

fn known_site(sim: &Sim, site_id: &str) -> bool {
    sim.site_name(site_id).is_some()
}

async fn get_site(State(state): State<Shared>, Path(site_id): Path<String>) -> Response {
    let sim = lock(&state.sim);
    match site_json(&sim, &site_id) {
        Some(v) => json_status(StatusCode::OK, v),
        None => not_found(),
    }
}

async fn list_deploys(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path(site_id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let page = match Page::from(&q, PER_PAGE, PER_PAGE) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let sim = lock(&state.sim);
    if !known_site(&sim, &site_id) {
        return not_found();
    }
    let now = sim.now();
    let published = sim.published(&site_id);
    if flag(&q, "latest-published") == Some(true) {
        let list: Vec<Value> = published
            .map(|(i, at)| deploy_json(&sim, &sim.deploys[i], Some(at)))
            .into_iter()
            .collect();
        return json_with_link(Value::Array(list), None);
    }
    let want_state = q.get("state");
    let matching: Vec<&Deploy> = sim
        .deploys
        .iter()
        .rev()
        .filter(|d| d.site_id == site_id && d.visible_at(now))
        .filter(|d| q.get("branch").is_none_or(|b| &d.branch == b))
        .filter(|d| match flag(&q, "production") {
            Some(true) => d.context == "production",
            Some(false) => d.context != "production",
            None => true,
        })
        .filter(|d| match flag(&q, "deploy-previews") {
            Some(true) => d.context == "deploy-preview",
            Some(false) => d.context != "deploy-preview",
            None => true,
        })
        .filter(|d| want_state.is_none_or(|s| d.state_at(now).0 == s))
        .collect();
    let total = matching.len();
    let published_id = published.map(|(i, at)| (sim.deploys[i].id.clone(), at));
    let page_items: Vec<Deploy> = page.slice(&matching).iter().map(|d| (*d).clone()).collect();
    let ctx = DeployCtx::of(&sim);
    drop(sim);
    let body: Vec<Value> = page_items
        .iter()
        .map(|d| {
            let at = published_id
                .as_ref()
                .filter(|(id, _)| *id == d.id)
                .map(|(_, at)| *at);
            deploy_json_in(&ctx, d, at)
        })
        .collect();
    let link = page.link(
        &format!("{origin}{PREFIX}/sites/{site_id}/deploys"),
        &q,
        total,
    );
    json_with_link(Value::Array(body), link)
}

fn find_deploy(sim: &Sim, deploy_id: &str) -> Option<usize> {
    let now = sim.now();
    sim.deploys
        .iter()
        .position(|d| d.id == deploy_id && d.visible_at(now))
}

fn published_at_of(sim: &Sim, i: usize) -> Option<i64> {
    sim.published(&sim.deploys[i].site_id)
        .filter(|(p, _)| *p == i)
        .map(|(_, at)| at)
}

async fn get_deploy(
    State(state): State<Shared>,
    Path((site_id, deploy_id)): Path<(String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    match find_deploy(&sim, &deploy_id).filter(|i| sim.deploys[*i].site_id == site_id) {
        Some(i) => json_status(
            StatusCode::OK,
            deploy_json(&sim, &sim.deploys[i], published_at_of(&sim, i)),
        ),
        None => not_found(),
    }
}

/// Publishes an earlier ready deploy again.
async fn restore(
    State(state): State<Shared>,
    Path((site_id, deploy_id)): Path<(String, String)>,
) -> Response {
    let mut sim = lock(&state.sim);
    let Some(i) = find_deploy(&sim, &deploy_id).filter(|i| sim.deploys[*i].site_id == site_id)
    else {
        return not_found();
    };
    let now = sim.now();
    if sim.deploys[i].state_at(now).0 != "ready" {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Only a deploy in the ready state can be published",
        );
    }
    if sim.deploys[i].context == "deploy-preview" {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "A deploy preview cannot be published",
        );
    }
    sim.deploys[i].restored_ms = Some(now);
    let at = published_at_of(&sim, i);
    json_status(StatusCode::CREATED, deploy_json(&sim, &sim.deploys[i], at))
}

async fn cancel(State(state): State<Shared>, Path(deploy_id): Path<String>) -> Response {
    let mut sim = lock(&state.sim);
    let Some(i) = find_deploy(&sim, &deploy_id) else {
        return not_found();
    };
    let now = sim.now();
    if sim.deploys[i].finished_at(now).is_some() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The deploy has already finished and cannot be cancelled",
        );
    }
    sim.deploys[i].cancelled_ms = Some(now);
    json_status(
        StatusCode::CREATED,
        deploy_json(&sim, &sim.deploys[i], None),
    )
}

async fn set_lock(state: Shared, deploy_id: String, locked: bool) -> Response {
    let mut sim = lock(&state.sim);
    let Some(i) = find_deploy(&sim, &deploy_id) else {
        return not_found();
    };
    if locked {
        let site = sim.deploys[i].site_id.clone();
        for d in sim.deploys.iter_mut().filter(|d| d.site_id == site) {
            d.locked = false;
        }
    }
    sim.deploys[i].locked = locked;
    let at = published_at_of(&sim, i);
    json_status(StatusCode::OK, deploy_json(&sim, &sim.deploys[i], at))
}

async fn lock_deploy(State(state): State<Shared>, Path(deploy_id): Path<String>) -> Response {
    set_lock(state, deploy_id, true).await
}

async fn unlock_deploy(State(state): State<Shared>, Path(deploy_id): Path<String>) -> Response {
    set_lock(state, deploy_id, false).await
}

fn build_json(sim: &Sim, d: &Deploy) -> Value {
    let (state, error_message) = d.state_at(sim.now());
    let mut v = json!({
        "id": d.build_id,
        "deploy_id": d.id,
        "sha": d.commit_ref,
        "done": state == "ready" || state == "error",
        "created_at": iso(d.created_ms),
    });
    if let Some(e) = error_message {
        v["error"] = json!(e);
    }
    v
}

async fn list_builds(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path(site_id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let page = match Page::from(&q, PER_PAGE, PER_PAGE) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let sim = lock(&state.sim);
    if !known_site(&sim, &site_id) {
        return not_found();
    }
    let now = sim.now();
    let matching: Vec<&Deploy> = sim
        .deploys
        .iter()
        .rev()
        .filter(|d| d.site_id == site_id && d.visible_at(now))
        .collect();
    let body: Vec<Value> = page
        .slice(&matching)
        .iter()
        .map(|d| build_json(&sim, d))
        .collect();
    let link = page.link(
        &format!("{origin}{PREFIX}/sites/{site_id}/builds"),
        &q,
        matching.len(),
    );
    json_with_link(Value::Array(body), link)
}

/// Starts a build of a branch (the site's own branch when none is given);
/// its deploy moves through Netlify's states on the sandbox clock.
async fn create_build(
    State(state): State<Shared>,
    Path(site_id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let mut sim = lock(&state.sim);
    if !known_site(&sim, &site_id) {
        return not_found();
    }
    let branch = q
        .get("branch")
        .cloned()
        .unwrap_or_else(|| sim.site_branch(&site_id).to_string());
    let Some(head) = sim.head_of(&branch).cloned() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Branch {branch:?} was not found in the linked repository"),
        );
    };
    let context = if site_id == sim.ids.netlify.production_site_id && branch == "main" {
        "production"
    } else {
        "branch-deploy"
    };
    let outcome = sim.outcome(Target::Netlify, 0.06);
    let now = sim.now();
    let pace = sim.clock.pace;
    let title = q
        .get("title")
        .cloned()
        .unwrap_or_else(|| format!("Triggered build of {branch}"));
    let mut rng = sim.rng.clone();
    let deploy = seed::plan_git_deploy(
        &mut rng, &site_id, context, &branch, &head.sha, &title, now, pace, outcome,
    );
    sim.rng = rng;
    let body = build_json(&sim, &deploy);
    sim.deploys.push(deploy);
    json_status(StatusCode::OK, body)
}

async fn get_build(State(state): State<Shared>, Path(build_id): Path<String>) -> Response {
    let sim = lock(&state.sim);
    let now = sim.now();
    match sim
        .deploys
        .iter()
        .find(|d| d.build_id == build_id && d.visible_at(now))
    {
        Some(d) => json_status(StatusCode::OK, build_json(&sim, d)),
        None => not_found(),
    }
}

async fn list_build_hooks(State(state): State<Shared>, Path(site_id): Path<String>) -> Response {
    let sim = lock(&state.sim);
    if !known_site(&sim, &site_id) {
        return not_found();
    }
    let hooks: Vec<Value> = sim
        .build_hooks
        .iter()
        .filter(|h| h.site_id == site_id)
        .map(|h| {
            json!({
                "id": h.id,
                "title": h.title,
                "branch": h.branch,
                "site_id": h.site_id,
                "url": format!("https://api.netlify.com/build_hooks/{}", h.id),
                "created_at": iso(h.created_ms),
            })
        })
        .collect();
    json_status(StatusCode::OK, Value::Array(hooks))
}

async fn deployed_branches(State(state): State<Shared>, Path(site_id): Path<String>) -> Response {
    let sim = lock(&state.sim);
    let Some(name) = sim.site_name(&site_id) else {
        return not_found();
    };
    let now = sim.now();
    let mut seen = std::collections::BTreeMap::new();
    for d in sim.deploys.iter().filter(|d| {
        d.site_id == site_id && d.context != "deploy-preview" && d.ready_at(now).is_some()
    }) {
        seen.insert(d.branch.clone(), d);
    }
    let list: Vec<Value> = seen
        .iter()
        .map(|(branch, d)| {
            let slug: String = branch
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let url = format!("https://{slug}--{name}.netlify.app");
            json!({
                "id": crate::util::sha40(format!("{site_id}/{branch}").as_bytes())[..24],
                "deploy_id": d.id,
                "name": branch,
                "slug": slug,
                "url": url,
                "ssl_url": url,
            })
        })
        .collect();
    json_status(StatusCode::OK, Value::Array(list))
}

fn account_ok(sim: &Sim, account_id: &str) -> bool {
    account_id == sim.ids.netlify.account_slug
}

/// A secret's values never come back (the world refuses a secret with a
/// `dev` or `all` value, the only ones Netlify would show).
fn env_json(var: &crate::model::EnvVar) -> Value {
    let values: Vec<Value> = var
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut out = json!({
                "id": crate::util::sha40(format!("{}/{}/{i}", var.site_id, var.key).as_bytes())[..32],
                "context": v.context,
            });
            if let Some(p) = &v.context_parameter {
                out["context_parameter"] = json!(p);
            }
            if !var.is_secret {
                out["value"] = json!(v.value);
            }
            out
        })
        .collect();
    let scopes: Vec<&str> = match &var.scopes {
        Some(s) => s.iter().map(String::as_str).collect(),
        // A secret is never in post-processing (Netlify refuses it there).
        None => crate::model::ENV_SCOPES
            .iter()
            .copied()
            .filter(|s| !var.is_secret || *s != "post-processing")
            .collect(),
    };
    let mut out = json!({
        "key": var.key,
        "scopes": scopes,
        "values": values,
        "is_secret": var.is_secret,
        "updated_at": iso(var.updated_ms),
    });
    if let Some(name) = &var.updated_by {
        let login: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        out["updated_by"] = json!({
            "id": crate::util::sha40(name.as_bytes())[..24],
            "full_name": name,
            "email": format!("{login}@example.com"),
        });
    }
    out
}

async fn list_env(
    State(state): State<Shared>,
    Path(account_id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !account_ok(&sim, &account_id) {
        return not_found();
    }
    if let Some(site) = q.get("site_id") {
        if !known_site(&sim, site) {
            return not_found();
        }
    }
    let list: Vec<Value> = sim
        .env
        .iter()
        .filter(|v| q.get("site_id").is_none_or(|s| &v.site_id == s))
        .filter(|v| {
            q.get("context_name").is_none_or(|c| {
                v.values
                    .iter()
                    .any(|val| &val.context == c || val.context == "all")
            })
        })
        .map(env_json)
        .collect();
    json_status(StatusCode::OK, Value::Array(list))
}

async fn get_env(
    State(state): State<Shared>,
    Path((account_id, key)): Path<(String, String)>,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !account_ok(&sim, &account_id) {
        return not_found();
    }
    match sim
        .env
        .iter()
        .find(|v| v.key == key && q.get("site_id").is_none_or(|s| &v.site_id == s))
    {
        Some(v) => json_status(StatusCode::OK, env_json(v)),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("Environment variable {key} not found"),
        ),
    }
}

async fn list_hooks(State(state): State<Shared>, Query(q): Query<Params>) -> Response {
    let sim = lock(&state.sim);
    let Some(site_id) = q.get("site_id") else {
        return error(StatusCode::BAD_REQUEST, "site_id is required");
    };
    if !known_site(&sim, site_id) {
        return not_found();
    }
    let created = iso(sim.anchor_ms - 250 * crate::util::DAY_MS);
    let hooks: Vec<Value> = ["deploy_failed", "deploy_created"]
        .iter()
        .map(|event| {
            json!({
                "id": crate::util::sha40(format!("{site_id}/{event}").as_bytes())[..24],
                "site_id": site_id,
                "type": "email",
                "event": event,
                "data": { "email": format!("deploys@{}.example", sim.ids.netlify.account_slug) },
                "created_at": created,
                "updated_at": created,
                "disabled": false,
            })
        })
        .collect();
    json_status(StatusCode::OK, Value::Array(hooks))
}
