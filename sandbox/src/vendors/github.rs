//! GitHub REST under `/github`: Actions runs, jobs and steps, re-runs,
//! cancel, workflow_dispatch, artifacts and their zip downloads, job logs,
//! secrets (names and dates only), variables, environments, deployments,
//! repository contents, branches, commits and comparisons, the signed-in
//! user with org and team membership, and the rate limit. Every response
//! carries GitHub's rate-limit headers and an ETag; `If-None-Match` gets a
//! 304, which (as on GitHub) does not count against the limit.

use super::{json_status, json_with_link, Page, Params};
use crate::artifacts;
use crate::model::{Artifact, Commit, Job, Progress, Run, Step};
use crate::seed::{self, Names, RunOutcomes};
use crate::sim::{Sim, Target};
use crate::util::{iso_secs, sha40, Origin};
use crate::{lock, Shared};
use axum::body::{to_bytes, Body};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

const RATE_LIMIT: u32 = 5000;
const HOUR_MS: i64 = 3_600_000;
pub const WORKFLOW_ID: u64 = 81_234_567;

pub fn routes(state: Shared) -> Router<Shared> {
    let r = "/github/repos/{owner}/{repo}";
    Router::new()
        .route(
            &format!("{r}/actions/workflows/{{workflow}}/runs"),
            get(list_runs),
        )
        .route(&format!("{r}/actions/runs/{{run_id}}"), get(get_run))
        .route(&format!("{r}/actions/runs/{{run_id}}/jobs"), get(list_jobs))
        .route(&format!("{r}/actions/jobs/{{job_id}}/logs"), get(job_logs))
        .route(&format!("{r}/actions/runs/{{run_id}}/rerun"), post(rerun))
        .route(
            &format!("{r}/actions/runs/{{run_id}}/rerun-failed-jobs"),
            post(rerun_failed),
        )
        .route(
            &format!("{r}/actions/runs/{{run_id}}/cancel"),
            post(cancel_run),
        )
        .route(
            &format!("{r}/actions/workflows/{{workflow}}/dispatches"),
            post(dispatch),
        )
        .route(
            &format!("{r}/actions/runs/{{run_id}}/artifacts"),
            get(list_artifacts),
        )
        .route(
            &format!("{r}/actions/artifacts/{{artifact_id}}/{{format}}"),
            get(download_artifact),
        )
        .route(&format!("{r}/actions/secrets"), get(repo_secrets))
        .route(
            &format!("{r}/actions/organization-secrets"),
            get(org_secrets),
        )
        .route(&format!("{r}/actions/variables"), get(repo_variables))
        .route(&format!("{r}/environments"), get(environments))
        .route(
            &format!("{r}/environments/{{env}}/secrets"),
            get(env_secrets),
        )
        .route(
            &format!("{r}/environments/{{env}}/variables"),
            get(env_variables),
        )
        .route(&format!("{r}/deployments"), get(deployments))
        .route(
            &format!("{r}/deployments/{{id}}/statuses"),
            get(deployment_statuses),
        )
        .route(&format!("{r}/contents/{{*path}}"), get(contents))
        .route(&format!("{r}/branches/{{branch}}"), get(get_branch))
        .route(&format!("{r}/compare/{{basehead}}"), get(compare))
        .route(&format!("{r}/commits/{{reference}}"), get(get_commit))
        .route("/github/user", get(user))
        .route("/github/user/orgs", get(user_orgs))
        .route("/github/user/teams", get(user_teams))
        .route(
            "/github/user/memberships/orgs/{org}",
            get(user_org_membership),
        )
        .route("/github/orgs/{org}/members/{username}", get(org_member))
        .route(
            "/github/orgs/{org}/memberships/{username}",
            get(org_membership),
        )
        .route(
            "/github/orgs/{org}/teams/{team}/memberships/{username}",
            get(team_membership),
        )
        .route("/github/rate_limit", get(rate_limit))
        .layer(axum::middleware::from_fn(conditional))
        .layer(axum::middleware::from_fn_with_state(state, rate_limited))
}

/// Downloads (job logs, artifact zips) at the short-lived URLs the API
/// redirects to; like GitHub's, they need no token.
pub fn download_routes() -> Router<Shared> {
    Router::new()
        .route(
            "/github/_downloads/job-logs/{job_id}",
            get(download_job_log),
        )
        .route(
            "/github/_downloads/artifacts/{artifact_id}",
            get(download_zip),
        )
}

/// GitHub's error body.
pub fn error(status: StatusCode, message: &str) -> Response {
    json_status(
        status,
        json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        }),
    )
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// Authentication, the rate limit and its headers, for every API route.
pub async fn rate_limited(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let Some(token) = super::bearer(req.headers()) else {
        return error(StatusCode::UNAUTHORIZED, "Requires authentication");
    };
    let fingerprint = crate::request_log::fingerprint(&token);
    let conditional = req.headers().contains_key(header::IF_NONE_MATCH);
    // As on GitHub, asking for the rate limit costs none of it.
    let free = req.uri().path() == "/github/rate_limit";
    let (remaining, used, reset_s) = {
        let mut sim = lock(&state.sim);
        let now = sim.now();
        let window = now.div_euclid(HOUR_MS);
        let entry = sim.rate_used.entry(fingerprint).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let reset_s = (window + 1) * HOUR_MS / 1000;
        if entry.1 >= RATE_LIMIT {
            let mut res = error(StatusCode::FORBIDDEN, "API rate limit exceeded");
            set_rate_headers(res.headers_mut(), 0, entry.1, reset_s);
            return res;
        }
        // Provisionally counted; a 304 gives it back below.
        if !free {
            entry.1 += 1;
        }
        (RATE_LIMIT - entry.1, entry.1, reset_s)
    };
    let mut res = next.run(req).await;
    let (remaining, used) = if conditional && res.status() == StatusCode::NOT_MODIFIED {
        let mut sim = lock(&state.sim);
        let fp = res
            .extensions()
            .get::<Fingerprint>()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        if let Some(e) = sim.rate_used.get_mut(&fp) {
            e.1 = e.1.saturating_sub(1);
        }
        (remaining + 1, used - 1)
    } else {
        (remaining, used)
    };
    set_rate_headers(res.headers_mut(), remaining, used, reset_s);
    res
}

#[derive(Clone)]
struct Fingerprint(String);

fn set_rate_headers(h: &mut HeaderMap, remaining: u32, used: u32, reset_s: i64) {
    let mut set = |name: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(name, v);
        }
    };
    set("x-ratelimit-limit", RATE_LIMIT.to_string());
    set("x-ratelimit-remaining", remaining.to_string());
    set("x-ratelimit-used", used.to_string());
    set("x-ratelimit-reset", reset_s.to_string());
    set("x-ratelimit-resource", "core".into());
}

/// ETags on successful GETs, and 304 Not Modified when they match.
async fn conditional(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let token = super::bearer(req.headers()).unwrap_or_default();
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // A fast 64-bit hash (SipHash with fixed keys) is enough to tell
    // answers apart; pages of runs are megabytes.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hasher::write(&mut hasher, &bytes);
    let etag = format!("W/\"{:016x}\"", std::hash::Hasher::finish(&hasher));
    if if_none_match.as_deref() == Some(etag.as_str()) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            res.headers_mut().insert(header::ETAG, v);
        }
        res.extensions_mut()
            .insert(Fingerprint(crate::request_log::fingerprint(&token)));
        return res;
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    Response::from_parts(parts, Body::from(bytes))
}

// ------------------------------------------------------------ JSON shapes --

fn api(origin: &str) -> String {
    format!("{origin}/github")
}

pub fn user_json(origin: &str, login: &str, id: u64) -> Value {
    let u = format!("{}/users/{login}", api(origin));
    json!({
        "login": login,
        "id": id,
        "node_id": format!("MDQ6VXNlcn{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": u,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{u}/followers"),
        "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"),
        "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"),
        "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": "User",
        "site_admin": false,
    })
}

fn login_id(sim: &Sim, login: &str) -> u64 {
    sim.ids
        .members
        .iter()
        .find(|m| m.login == login)
        .map(|m| m.id)
        .unwrap_or_else(|| 2000 + (sha40(login.as_bytes()).as_bytes()[0] as u64))
}

fn repo_json(sim: &Sim, origin: &str) -> Value {
    let (owner, repo) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let u = format!("{}/repos/{owner}/{repo}", api(origin));
    let mut v = json!({
        "id": 512_345_678u64,
        "node_id": "R_kgDOHsandbox",
        "name": repo,
        "full_name": format!("{owner}/{repo}"),
        "owner": user_json(origin, owner, 90_001),
        "private": true,
        "html_url": format!("https://github.com/{owner}/{repo}"),
        "description": "AllIncompassing web app",
        "fork": false,
        "url": u,
    });
    for (key, suffix) in [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ] {
        v[key] = json!(format!("{u}{suffix}"));
    }
    v
}

fn repo_url(sim: &Sim, origin: &str) -> String {
    format!(
        "{}/repos/{}/{}",
        api(origin),
        sim.ids.github.owner,
        sim.ids.github.repo
    )
}

fn commit_of<'a>(sim: &'a Sim, sha: &str) -> Option<&'a Commit> {
    sim.commits.iter().find(|c| c.sha == sha)
}

fn step_state(s: &Step, cancelled: Option<i64>, now: i64) -> (&'static str, Option<&'static str>) {
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

fn staging_url(sim: &Sim) -> String {
    format!(
        "https://{}.netlify.app",
        sim.site_name(&sim.ids.netlify.staging_site_id)
            .unwrap_or_default()
    )
}

fn artifact_json(sim: &Sim, origin: &str, run: &Run, a: &Artifact) -> Value {
    let size = artifacts::smoke_zip(run, a, &staging_url(sim)).len();
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

// ----------------------------------------------------------------- checks --

fn repo_ok(sim: &Sim, owner: &str, repo: &str) -> bool {
    owner.eq_ignore_ascii_case(&sim.ids.github.owner)
        && repo.eq_ignore_ascii_case(&sim.ids.github.repo)
}

fn workflow_ok(sim: &Sim, workflow: &str) -> bool {
    workflow == sim.ids.github.workflow || workflow == WORKFLOW_ID.to_string()
}

fn page_or_422(q: &Params) -> Result<Page, Box<Response>> {
    Page::from(q, 30, 100).map_err(|e| Box::new(error(StatusCode::UNPROCESSABLE_ENTITY, &e)))
}

type RepoPath = Path<(String, String)>;

// ----------------------------------------------------------------- routes --

async fn list_runs(
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

fn find_run(sim: &Sim, run_id: u64) -> Option<usize> {
    let now = sim.now();
    sim.runs
        .iter()
        .position(|r| r.id == run_id && r.created_ms <= now)
}

async fn get_run(
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

async fn list_jobs(
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

fn redirect(location: String) -> Response {
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

async fn job_logs(
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

async fn download_job_log(State(state): State<Shared>, Path(job_id): Path<u64>) -> Response {
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

async fn rerun(
    State(state): State<Shared>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    rerun_inner(state, owner, repo, run_id, false).await
}

async fn rerun_failed(
    State(state): State<Shared>,
    Path((owner, repo, run_id)): Path<(String, String, u64)>,
) -> Response {
    rerun_inner(state, owner, repo, run_id, true).await
}

async fn cancel_run(
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
struct DispatchBody {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    inputs: Option<serde_json::Map<String, Value>>,
}

async fn dispatch(
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
    let actor = super::bearer(&headers)
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

async fn list_artifacts(
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

async fn download_artifact(
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

async fn download_zip(State(state): State<Shared>, Path(artifact_id): Path<u64>) -> Response {
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
            artifacts::smoke_zip(run, a, &staging_url(&sim)),
        )
            .into_response(),
        _ => not_found(),
    }
}

fn secrets_page(
    sim: &Sim,
    origin: &str,
    path: &str,
    q: &Params,
    scope: &str,
    with_visibility: bool,
) -> Response {
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

async fn repo_secrets(
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

async fn org_secrets(
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

async fn repo_variables(
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

fn env_ok(sim: &Sim, env: &str) -> bool {
    sim.ids.github.environments.iter().any(|e| e == env)
}

async fn environments(
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

async fn env_secrets(
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

async fn env_variables(
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

async fn deployments(
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

async fn deployment_statuses(
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

async fn contents(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Query<Params>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    if let Some(r) = q.get("ref") {
        if !sim.is_branch(r) && commit_of(&sim, r).is_none() {
            return error(
                StatusCode::NOT_FOUND,
                &format!("No commit found for the ref {r}"),
            );
        }
    }
    let Some(file) = sim.files.iter().find(|f| f.path == path) else {
        return not_found();
    };
    let sha = sha40(format!("blob {}\0{}", file.content.len(), file.content).as_bytes());
    let name = path.rsplit('/').next().unwrap_or(&path);
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let self_url = format!("{}/contents/{path}", repo_url(&sim, &origin));
    let git_url = format!("{}/git/blobs/{sha}", repo_url(&sim, &origin));
    let html_url = format!("https://github.com/{o}/{r}/blob/develop/{path}");
    // GitHub wraps base64 at 60 columns.
    let encoded = base64::engine::general_purpose::STANDARD.encode(file.content.as_bytes());
    let wrapped: Vec<&str> = encoded
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    json_status(
        StatusCode::OK,
        json!({
            "type": "file",
            "encoding": "base64",
            "size": file.content.len(),
            "name": name,
            "path": path,
            "content": wrapped.join("\n") + "\n",
            "sha": sha,
            "url": self_url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": format!("https://raw.githubusercontent.com/{o}/{r}/develop/{path}"),
            "_links": { "self": self_url, "git": git_url, "html": html_url },
        }),
    )
}

fn commit_json(sim: &Sim, origin: &str, c: &Commit) -> Value {
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let u = format!("{}/commits/{}", repo_url(sim, origin), c.sha);
    let parent = sim
        .commits
        .iter()
        .rev()
        .find(|p| p.branch == c.branch && p.at_ms < c.at_ms);
    let parents: Vec<Value> = parent
        .map(|p| {
            json!({
                "sha": p.sha,
                "url": format!("{}/commits/{}", repo_url(sim, origin), p.sha),
                "html_url": format!("https://github.com/{o}/{r}/commit/{}", p.sha),
            })
        })
        .into_iter()
        .collect();
    let person = json!({
        "name": c.author,
        "email": format!("{}@users.noreply.github.com", c.author),
        "date": iso_secs(c.at_ms),
    });
    let user = user_json(origin, &c.author, login_id(sim, &c.author));
    json!({
        "sha": c.sha,
        "node_id": format!("C_kwDO{}", &c.sha[..12.min(c.sha.len())]),
        "url": u,
        "html_url": format!("https://github.com/{o}/{r}/commit/{}", c.sha),
        "comments_url": format!("{u}/comments"),
        "commit": {
            "url": format!("{}/git/commits/{}", repo_url(sim, origin), c.sha),
            "author": person,
            "committer": person,
            "message": c.message,
            "comment_count": 0,
            "tree": {
                "sha": sha40(format!("tree/{}", c.sha).as_bytes()),
                "url": format!("{}/git/trees/{}", repo_url(sim, origin), sha40(format!("tree/{}", c.sha).as_bytes())),
            },
        },
        "author": user,
        "committer": user,
        "parents": parents,
    })
}

async fn get_branch(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, branch)): Path<(String, String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let Some(head) = sim.head_of(&branch) else {
        return error(StatusCode::NOT_FOUND, "Branch not found");
    };
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    let u = format!("{}/branches/{branch}", repo_url(&sim, &origin));
    json_status(
        StatusCode::OK,
        json!({
            "name": branch,
            "commit": commit_json(&sim, &origin, head),
            "_links": { "html": format!("https://github.com/{o}/{r}/tree/{branch}"), "self": u },
            "protected": true,
            "protection": {
                "enabled": true,
                "required_status_checks": {
                    "enforcement_level": "non_admins",
                    "contexts": [sim.ids.github.deploy_job.clone()],
                    "checks": [{ "context": sim.ids.github.deploy_job.clone(), "app_id": null }],
                },
            },
            "protection_url": format!("{u}/protection"),
        }),
    )
}

/// A branch name or a sha, resolved to a commit.
fn resolve<'a>(sim: &'a Sim, reference: &str) -> Option<&'a Commit> {
    sim.head_of(reference).or_else(|| {
        sim.commits
            .iter()
            .find(|c| c.sha == reference || (reference.len() >= 7 && c.sha.starts_with(reference)))
    })
}

async fn get_commit(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    match resolve(&sim, &reference) {
        Some(c) => json_status(StatusCode::OK, commit_json(&sim, &origin, c)),
        None => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {reference}"),
        ),
    }
}

/// `base...head`: how far `head` is ahead of and behind `base`, counting
/// commits by time on each side (the sandbox's branches never merge back).
async fn compare(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((owner, repo, basehead)): Path<(String, String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    if !repo_ok(&sim, &owner, &repo) {
        return not_found();
    }
    let Some((base, head)) = basehead.split_once("...") else {
        return error(StatusCode::NOT_FOUND, "Not Found: use BASE...HEAD");
    };
    let (Some(b), Some(h)) = (resolve(&sim, base), resolve(&sim, head)) else {
        return not_found();
    };
    let now = sim.now();
    let on = |branch: &str, after: i64, upto: i64| -> Vec<&Commit> {
        sim.commits
            .iter()
            .filter(|c| c.branch == branch && c.at_ms > after && c.at_ms <= upto && c.at_ms <= now)
            .collect()
    };
    let (ahead, behind) = if b.branch == h.branch {
        if h.at_ms >= b.at_ms {
            (on(&h.branch, b.at_ms, h.at_ms), Vec::new())
        } else {
            (Vec::new(), on(&b.branch, h.at_ms, b.at_ms))
        }
    } else {
        (on(&h.branch, b.at_ms, h.at_ms), Vec::new())
    };
    let status = match (ahead.is_empty(), behind.is_empty()) {
        (true, true) => "identical",
        (false, true) => "ahead",
        (true, false) => "behind",
        (false, false) => "diverged",
    };
    let (o, r) = (&sim.ids.github.owner, &sim.ids.github.repo);
    // GitHub lists at most 250 commits in a comparison.
    let commits: Vec<Value> = ahead
        .iter()
        .take(250)
        .map(|c| commit_json(&sim, &origin, c))
        .collect();
    json_status(
        StatusCode::OK,
        json!({
            "url": format!("{}/compare/{basehead}", repo_url(&sim, &origin)),
            "html_url": format!("https://github.com/{o}/{r}/compare/{basehead}"),
            "permalink_url": format!("https://github.com/{o}/{r}/compare/{}...{}", b.sha, h.sha),
            "diff_url": format!("https://github.com/{o}/{r}/compare/{basehead}.diff"),
            "patch_url": format!("https://github.com/{o}/{r}/compare/{basehead}.patch"),
            "base_commit": commit_json(&sim, &origin, b),
            "merge_base_commit": commit_json(&sim, &origin, b),
            "status": status,
            "ahead_by": ahead.len(),
            "behind_by": behind.len(),
            "total_commits": ahead.len(),
            "commits": commits,
            "files": [],
        }),
    )
}

/// The member an OAuth token belongs to; other tokens are not users.
fn signed_in<'a>(sim: &'a Sim, headers: &HeaderMap) -> Option<&'a crate::Member> {
    let token = super::bearer(headers)?;
    let login = sim.tokens.get(&token)?;
    sim.ids.members.iter().find(|m| &m.login == login)
}

fn bad_credentials() -> Response {
    error(StatusCode::UNAUTHORIZED, "Bad credentials")
}

async fn user(State(state): State<Shared>, Origin(origin): Origin, headers: HeaderMap) -> Response {
    let sim = lock(&state.sim);
    let Some(m) = signed_in(&sim, &headers) else {
        return bad_credentials();
    };
    let mut v = user_json(&origin, &m.login, m.id);
    let created = iso_secs(sim.anchor_ms - 900 * crate::util::DAY_MS);
    for (k, val) in [
        ("name", json!(m.name)),
        ("company", json!(sim.ids.github.org)),
        ("blog", json!("")),
        ("location", Value::Null),
        (
            "email",
            json!(format!("{}@{}.example", m.login, sim.ids.github.org)),
        ),
        ("hireable", Value::Null),
        ("bio", Value::Null),
        ("public_repos", json!(3)),
        ("public_gists", json!(0)),
        ("followers", json!(4)),
        ("following", json!(2)),
        ("created_at", json!(created)),
        ("updated_at", json!(created)),
    ] {
        v[k] = val;
    }
    json_status(StatusCode::OK, v)
}

fn org_json(sim: &Sim, origin: &str) -> Value {
    let org = &sim.ids.github.org;
    let u = format!("{}/orgs/{org}", api(origin));
    json!({
        "login": org,
        "id": 90_001,
        "node_id": "O_kgDOsandbox",
        "url": u,
        "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events"),
        "hooks_url": format!("{u}/hooks"),
        "issues_url": format!("{u}/issues"),
        "members_url": format!("{u}/members{{/member}}"),
        "public_members_url": format!("{u}/public_members{{/member}}"),
        "avatar_url": "https://avatars.githubusercontent.com/u/90001?v=4",
        "description": "AllIncompassing",
    })
}

async fn user_orgs(
    State(state): State<Shared>,
    Origin(origin): Origin,
    headers: HeaderMap,
) -> Response {
    let sim = lock(&state.sim);
    if signed_in(&sim, &headers).is_none() {
        return bad_credentials();
    }
    json_status(StatusCode::OK, json!([org_json(&sim, &origin)]))
}

fn team_json(sim: &Sim, origin: &str, slug: &str) -> Value {
    let org = &sim.ids.github.org;
    let id = 7_000 + u64::from(sha40(slug.as_bytes()).as_bytes()[0]);
    let u = format!("{}/orgs/{org}/teams/{slug}", api(origin));
    let members = sim
        .ids
        .members
        .iter()
        .filter(|m| m.team.as_deref() == Some(slug))
        .count();
    let mut org_full = org_json(sim, origin);
    for (k, v) in [
        ("has_organization_projects", json!(true)),
        ("has_repository_projects", json!(true)),
        ("public_repos", json!(3)),
        ("public_gists", json!(0)),
        ("followers", json!(0)),
        ("following", json!(0)),
        ("html_url", json!(format!("https://github.com/{org}"))),
        ("type", json!("Organization")),
        (
            "created_at",
            json!(iso_secs(sim.anchor_ms - 900 * crate::util::DAY_MS)),
        ),
        (
            "updated_at",
            json!(iso_secs(sim.anchor_ms - 30 * crate::util::DAY_MS)),
        ),
        ("archived_at", Value::Null),
    ] {
        org_full[k] = v;
    }
    json!({
        "id": id,
        "node_id": format!("T_kwDO{id}"),
        "url": u,
        "html_url": format!("https://github.com/orgs/{org}/teams/{slug}"),
        "name": slug,
        "slug": slug,
        "description": format!("The {slug} team"),
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{u}/members{{/member}}"),
        "repositories_url": format!("{u}/repos"),
        "parent": Value::Null,
        "type": "organization",
        "members_count": members,
        "repos_count": 1,
        "created_at": iso_secs(sim.anchor_ms - 800 * crate::util::DAY_MS),
        "updated_at": iso_secs(sim.anchor_ms - 60 * crate::util::DAY_MS),
        "organization": org_full,
    })
}

async fn user_teams(
    State(state): State<Shared>,
    Origin(origin): Origin,
    headers: HeaderMap,
) -> Response {
    let sim = lock(&state.sim);
    let Some(m) = signed_in(&sim, &headers) else {
        return bad_credentials();
    };
    let list: Vec<Value> = m.team.iter().map(|t| team_json(&sim, &origin, t)).collect();
    json_status(StatusCode::OK, Value::Array(list))
}

fn membership_json(sim: &Sim, origin: &str, m: &crate::Member) -> Value {
    let org = &sim.ids.github.org;
    json!({
        "url": format!("{}/orgs/{org}/memberships/{}", api(origin), m.login),
        "state": "active",
        "role": if m.role == "admin" { "admin" } else { "member" },
        "organization_url": format!("{}/orgs/{org}", api(origin)),
        "organization": org_json(sim, origin),
        "user": user_json(origin, &m.login, m.id),
    })
}

async fn user_org_membership(
    State(state): State<Shared>,
    Origin(origin): Origin,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Response {
    let sim = lock(&state.sim);
    let Some(m) = signed_in(&sim, &headers) else {
        return bad_credentials();
    };
    if !org.eq_ignore_ascii_case(&sim.ids.github.org) {
        return not_found();
    }
    json_status(StatusCode::OK, membership_json(&sim, &origin, m))
}

fn member<'a>(sim: &'a Sim, org: &str, username: &str) -> Option<&'a crate::Member> {
    if !org.eq_ignore_ascii_case(&sim.ids.github.org) {
        return None;
    }
    sim.ids
        .members
        .iter()
        .find(|m| m.login.eq_ignore_ascii_case(username))
}

async fn org_member(
    State(state): State<Shared>,
    Path((org, username)): Path<(String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    match member(&sim, &org, &username) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(),
    }
}

async fn org_membership(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((org, username)): Path<(String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    match member(&sim, &org, &username) {
        Some(m) => json_status(StatusCode::OK, membership_json(&sim, &origin, m)),
        None => not_found(),
    }
}

async fn team_membership(
    State(state): State<Shared>,
    Origin(origin): Origin,
    Path((org, team, username)): Path<(String, String, String)>,
) -> Response {
    let sim = lock(&state.sim);
    match member(&sim, &org, &username).filter(|m| m.team.as_deref() == Some(team.as_str())) {
        Some(m) => json_status(
            StatusCode::OK,
            json!({
                "url": format!("{}/orgs/{org}/teams/{team}/memberships/{}", api(&origin), m.login),
                "role": "member",
                "state": "active",
            }),
        ),
        None => not_found(),
    }
}

async fn rate_limit(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let sim = lock(&state.sim);
    let now = sim.now();
    let window = now.div_euclid(HOUR_MS);
    let fp = super::bearer(&headers)
        .map(|t| crate::request_log::fingerprint(&t))
        .unwrap_or_default();
    let used = sim
        .rate_used
        .get(&fp)
        .filter(|(w, _)| *w == window)
        .map(|(_, u)| *u)
        .unwrap_or(0);
    let reset = (window + 1) * HOUR_MS / 1000;
    let core = json!({ "limit": RATE_LIMIT, "remaining": RATE_LIMIT - used, "reset": reset, "used": used });
    let other =
        |limit: u32| json!({ "limit": limit, "remaining": limit, "reset": reset, "used": 0 });
    json_status(
        StatusCode::OK,
        json!({
            "resources": {
                "core": core,
                "search": other(30),
                "graphql": other(5000),
                "integration_manifest": other(5000),
                "code_search": other(10),
            },
            "rate": core,
        }),
    )
}
