//! GitHub REST under `/github`: Actions runs, jobs and steps, re-runs,
//! cancel, workflow_dispatch, artifacts and their zip downloads, job logs,
//! secrets (names and dates only), variables, environments, deployments,
//! repository contents, branches, commits and comparisons, the signed-in
//! user with org and team membership, and the rate limit. Every response
//! carries GitHub's rate-limit headers and an ETag; `If-None-Match` gets a
//! 304, which (as on GitHub) does not count against the limit.

mod artifacts;
mod environments;
mod limits;
mod repos;
mod runs;
mod secrets;
mod users;

pub use limits::rate_limited;

use super::{json_status, Page, Params};
use crate::model::Commit;
use crate::sim::Sim;
use crate::Shared;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

const RATE_LIMIT: u32 = 5000;
const HOUR_MS: i64 = 3_600_000;
pub const WORKFLOW_ID: u64 = 81_234_567;

pub fn routes(state: Shared) -> Router<Shared> {
    let r = "/github/repos/{owner}/{repo}";
    Router::new()
        .route(
            &format!("{r}/actions/workflows/{{workflow}}/runs"),
            get(runs::list_runs),
        )
        .route(&format!("{r}/actions/runs/{{run_id}}"), get(runs::get_run))
        .route(
            &format!("{r}/actions/runs/{{run_id}}/jobs"),
            get(runs::list_jobs),
        )
        .route(
            &format!("{r}/actions/jobs/{{job_id}}/logs"),
            get(runs::job_logs),
        )
        .route(
            &format!("{r}/actions/runs/{{run_id}}/rerun"),
            post(runs::rerun),
        )
        .route(
            &format!("{r}/actions/runs/{{run_id}}/rerun-failed-jobs"),
            post(runs::rerun_failed),
        )
        .route(
            &format!("{r}/actions/runs/{{run_id}}/cancel"),
            post(runs::cancel_run),
        )
        .route(
            &format!("{r}/actions/workflows/{{workflow}}/dispatches"),
            post(runs::dispatch),
        )
        .route(
            &format!("{r}/actions/runs/{{run_id}}/artifacts"),
            get(artifacts::list_artifacts),
        )
        .route(
            &format!("{r}/actions/artifacts/{{artifact_id}}/{{format}}"),
            get(artifacts::download_artifact),
        )
        .route(&format!("{r}/actions/secrets"), get(secrets::repo_secrets))
        .route(
            &format!("{r}/actions/organization-secrets"),
            get(secrets::org_secrets),
        )
        .route(
            &format!("{r}/actions/variables"),
            get(secrets::repo_variables),
        )
        .route(
            &format!("{r}/actions/organization-variables"),
            get(secrets::org_variables),
        )
        .route(
            &format!("{r}/environments"),
            get(environments::environments),
        )
        .route(
            &format!("{r}/environments/{{env}}/secrets"),
            get(secrets::env_secrets),
        )
        .route(
            &format!("{r}/environments/{{env}}/variables"),
            get(secrets::env_variables),
        )
        .route(&format!("{r}/deployments"), get(environments::deployments))
        .route(
            &format!("{r}/deployments/{{id}}/statuses"),
            get(environments::deployment_statuses),
        )
        .route(&format!("{r}/contents/{{*path}}"), get(repos::contents))
        .route(&format!("{r}/branches/{{branch}}"), get(repos::get_branch))
        .route(&format!("{r}/compare/{{basehead}}"), get(repos::compare))
        .route(
            &format!("{r}/commits/{{reference}}"),
            get(repos::get_commit),
        )
        .route("/github/user", get(users::user))
        .route("/github/user/orgs", get(users::user_orgs))
        .route("/github/user/teams", get(users::user_teams))
        .route(
            "/github/user/memberships/orgs/{org}",
            get(users::user_org_membership),
        )
        .route(
            "/github/orgs/{org}/members/{username}",
            get(users::org_member),
        )
        .route(
            "/github/orgs/{org}/memberships/{username}",
            get(users::org_membership),
        )
        .route(
            "/github/orgs/{org}/teams/{team}/memberships/{username}",
            get(users::team_membership),
        )
        .route("/github/rate_limit", get(limits::rate_limit))
        .layer(axum::middleware::from_fn(limits::conditional))
        .layer(axum::middleware::from_fn_with_state(state, rate_limited))
}

/// Downloads (job logs, artifact zips) at the short-lived URLs the API
/// redirects to; like GitHub's, they need no token.
pub fn download_routes() -> Router<Shared> {
    Router::new()
        .route(
            "/github/_downloads/job-logs/{job_id}",
            get(runs::download_job_log),
        )
        .route(
            "/github/_downloads/artifacts/{artifact_id}",
            get(artifacts::download_zip),
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

fn staging_url(sim: &Sim) -> String {
    format!(
        "https://{}.netlify.app",
        sim.site_name(&sim.ids.netlify.staging_site_id)
            .unwrap_or_default()
    )
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

fn redirect(location: String) -> Response {
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}
