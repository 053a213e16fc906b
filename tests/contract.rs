//! Contract tests: Greenroom's vendor clients drive the sandbox through every
//! operation Greenroom uses; each request the sandbox received and each
//! response it sent is then checked against the vendor's own API
//! description in specs/ (path, method, parameters, body, status,
//! response schema). A response that violates its schema fails the test, so
//! the sandbox cannot drift from the vendors, and neither can the clients.

#[path = "support/openapi.rs"]
mod openapi;

use greenroom::providers::github::{GitHubClient, Repo, RunFilter};
use greenroom::providers::http::Timeouts;
use greenroom::providers::netlify::{DeployFilter, NetlifyClient};
use greenroom::providers::supabase::{CreateBranch, SupabaseClient, UpdateBranch};
use greenroom::secret::Secret;
use greenroom_sandbox::request_log::{LoggedRequest, RequestFilter};
use greenroom_sandbox::{start, World};
use openapi::Spec;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

fn specs_dir() -> PathBuf {
    // The repository's own copy (specs/README.md says where each came from),
    // so that a clone passes on its own.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs");
    assert!(
        dir.join("netlify-swagger.yml").exists(),
        "the vendor API descriptions are missing from {}",
        dir.display()
    );
    dir
}

/// Every operation Greenroom uses (specs/README.md), as
/// `vendor METHOD template`.
const USED: &[&str] = &[
    "netlify GET /sites/{site_id}",
    "netlify GET /sites/{site_id}/deploys",
    "netlify GET /sites/{site_id}/deploys/{deploy_id}",
    "netlify POST /sites/{site_id}/deploys/{deploy_id}/restore",
    "netlify POST /deploys/{deploy_id}/cancel",
    "netlify POST /deploys/{deploy_id}/lock",
    "netlify POST /deploys/{deploy_id}/unlock",
    "netlify GET /sites/{site_id}/builds",
    "netlify POST /sites/{site_id}/builds",
    "netlify GET /builds/{build_id}",
    "netlify GET /sites/{site_id}/build_hooks",
    "netlify GET /sites/{site_id}/deployed-branches",
    "netlify GET /accounts/{account_id}/env",
    "netlify GET /accounts/{account_id}/env/{key}",
    "netlify GET /hooks",
    "github GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
    "github GET /repos/{owner}/{repo}/actions/runs/{run_id}",
    "github GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
    "github GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs",
    "github POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun",
    "github POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs",
    "github POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel",
    "github POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
    "github GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts",
    "github GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}",
    "github GET /repos/{owner}/{repo}/actions/secrets",
    "github GET /repos/{owner}/{repo}/actions/organization-secrets",
    "github GET /repos/{owner}/{repo}/actions/variables",
    "github GET /repos/{owner}/{repo}/actions/organization-variables",
    "github GET /repos/{owner}/{repo}/environments",
    "github GET /repos/{owner}/{repo}/environments/{environment_name}/secrets",
    "github GET /repos/{owner}/{repo}/environments/{environment_name}/variables",
    "github GET /repos/{owner}/{repo}/deployments",
    "github GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
    "github GET /repos/{owner}/{repo}/contents/{path}",
    "github GET /repos/{owner}/{repo}/branches/{branch}",
    "github GET /repos/{owner}/{repo}/compare/{basehead}",
    "github GET /repos/{owner}/{repo}/commits/{ref}",
    "github GET /user",
    "github GET /user/orgs",
    "github GET /user/teams",
    "github GET /user/memberships/orgs/{org}",
    "github GET /orgs/{org}/teams/{team_slug}/memberships/{username}",
    "github GET /orgs/{org}/memberships/{username}",
    "github GET /rate_limit",
    "supabase GET /v1/projects/{ref}/branches",
    "supabase POST /v1/projects/{ref}/branches",
    "supabase GET /v1/projects/{ref}/branches/{name}",
    "supabase GET /v1/branches/{branch_id_or_ref}",
    "supabase PATCH /v1/branches/{branch_id_or_ref}",
    "supabase DELETE /v1/branches/{branch_id_or_ref}",
    "supabase POST /v1/branches/{branch_id_or_ref}/merge",
    "supabase POST /v1/branches/{branch_id_or_ref}/reset",
    "supabase POST /v1/branches/{branch_id_or_ref}/push",
    "supabase POST /v1/branches/{branch_id_or_ref}/restore",
    "supabase GET /v1/branches/{branch_id_or_ref}/diff",
    "supabase GET /v1/projects/{ref}/database/backups",
    "supabase GET /v1/projects/{ref}/actions",
    "supabase GET /v1/projects/{ref}/actions/{run_id}",
    "supabase GET /v1/projects/{ref}/actions/{run_id}/logs",
];

/// Paths the sandbox serves outside the API descriptions: GitHub's OAuth
/// pages and the short-lived download URLs the API redirects to.
fn outside_descriptions(path: &str) -> bool {
    path.starts_with("/github/login/oauth/") || path.starts_with("/github/_downloads/")
}

/// Signs a member in through the sandbox's OAuth page; returns their token.
async fn sign_in(base: &str, login: &str) -> Secret {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .post(format!("{base}/github/login/oauth/authorize"))
        .form(&[
            ("login", login),
            ("client_id", "greenroom-test"),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let gh = GitHubClient::new(
        &format!("{base}/github"),
        &format!("{base}/github"),
        Secret::new("unused"),
        Timeouts::default(),
    )
    .unwrap();
    gh.exchange_code(
        "greenroom-test",
        &Secret::new("client-secret"),
        &code,
        "http://127.0.0.1:9/callback",
    )
    .await
    .expect("the code is exchanged for a token")
}

#[tokio::test]
async fn every_operation_greenroom_uses_matches_the_vendor_descriptions() {
    let sb = start("127.0.0.1:0".parse().unwrap(), World::seeded(11))
        .await
        .unwrap();
    sb.state
        .requests
        .capture_bodies
        .store(true, Ordering::Relaxed);
    let base = sb.base_url();
    let world = sb.state.sim.lock().unwrap().ids.clone();
    let t = Timeouts::default();
    // Small pages, so following them is exercised whatever the seeded year
    // holds on the day the test runs (its production count varies by date).
    let netlify = NetlifyClient::new(
        &format!("{base}/netlify/api/v1"),
        Secret::new("nf-token"),
        t,
    )
    .unwrap()
    .with_page_limits(greenroom::providers::api::PageLimits {
        per_page: 20,
        max_pages: 200,
    });
    let github = GitHubClient::new(
        &format!("{base}/github"),
        &format!("{base}/github"),
        Secret::new("gh-token"),
        t,
    )
    .unwrap();
    let supabase =
        SupabaseClient::new(&format!("{base}/supabase"), Secret::new("sb-token"), t).unwrap();
    let (staging, production) = (
        &world.netlify.staging_site_id,
        &world.netlify.production_site_id,
    );
    let account = &world.netlify.account_slug;
    let repo = Repo::new(&world.github.owner, &world.github.repo);
    let workflow = &world.github.workflow;
    let project = &world.supabase.project_ref;

    // Netlify.
    let site = netlify.get_site(staging).await.unwrap();
    let published = site
        .published_deploy
        .expect("staging has a published deploy");
    let deploys = netlify
        .list_site_deploys(
            production,
            &DeployFilter {
                production: Some(true),
                ..Default::default()
            },
            Some(45),
        )
        .await
        .unwrap();
    assert_eq!(deploys.len(), 45, "pages are followed past the first");
    let earlier = deploys
        .iter()
        .skip(3)
        .find(|d| d.state == "ready")
        .expect("an earlier ready deploy");
    netlify
        .get_site_deploy(production, &earlier.id)
        .await
        .unwrap();
    let restored = netlify
        .restore_site_deploy(production, &earlier.id)
        .await
        .unwrap();
    assert_eq!(restored.id, earlier.id);
    netlify
        .list_site_deploys(
            staging,
            &DeployFilter {
                branch: Some("develop".into()),
                state: Some("ready".into()),
                ..Default::default()
            },
            Some(5),
        )
        .await
        .unwrap();
    netlify
        .list_site_deploys(
            production,
            &DeployFilter {
                deploy_previews: Some(true),
                ..Default::default()
            },
            Some(5),
        )
        .await
        .unwrap();
    netlify.lock_deploy(&published.id).await.unwrap();
    netlify.unlock_deploy(&published.id).await.unwrap();
    let build = netlify
        .create_site_build(staging, Some("develop"), true)
        .await
        .unwrap();
    netlify.get_site_build(&build.id).await.unwrap();
    netlify
        .cancel_site_deploy(build.deploy_id.as_deref().unwrap())
        .await
        .unwrap();
    netlify.list_site_builds(staging, Some(3)).await.unwrap();
    netlify.list_site_build_hooks(staging).await.unwrap();
    netlify.list_site_deployed_branches(staging).await.unwrap();
    let vars = netlify
        .get_env_vars(account, Some(staging), Some("branch-deploy"))
        .await
        .unwrap();
    netlify
        .get_env_var(account, &vars[0].key, Some(staging))
        .await
        .unwrap();
    netlify.list_hooks_by_site_id(production).await.unwrap();

    // GitHub.
    let runs = github
        .list_workflow_runs(
            &repo,
            workflow,
            &RunFilter {
                branch: Some("develop".into()),
                event: Some("push".into()),
                status: Some("completed".into()),
            },
            Some(120),
        )
        .await
        .unwrap();
    assert_eq!(runs.len(), 120);
    let failed = runs
        .iter()
        .find(|r| r.conclusion.as_deref() == Some("failure"))
        .expect("a failed run");
    let with_artifacts = runs
        .iter()
        .find(|r| r.conclusion.as_deref() == Some("success"))
        .unwrap();
    github
        .get_workflow_run(&repo, with_artifacts.id)
        .await
        .unwrap();
    let jobs = github
        .list_jobs_for_workflow_run(&repo, with_artifacts.id)
        .await
        .unwrap();
    let log = github.download_job_logs(&repo, jobs[1].id).await.unwrap();
    assert!(log.contains("Deploy to Netlify"), "{log}");
    let artifacts = github
        .list_workflow_run_artifacts(&repo, with_artifacts.id)
        .await
        .unwrap();
    let mut download = github
        .open_artifact_download(&repo, artifacts[0].id)
        .await
        .unwrap();
    let mut zip = Vec::new();
    while let Some(chunk) = download.chunk().await.unwrap() {
        zip.extend_from_slice(&chunk);
    }
    assert_eq!(zip.len() as u64, artifacts[0].size_in_bytes);
    // The sandbox's artifact is a real deflated zip that passes Greenroom's
    // checks, with a JUnit report and PNG screenshots inside.
    {
        use greenroom::artifacts::{archive, junit, sniff, EntryKind, Limits};
        let limits = Limits::default();
        let checked = archive::check(std::io::Cursor::new(&zip), &limits).unwrap();
        let report =
            archive::read_entry(std::io::Cursor::new(&zip), &checked, "junit.xml", &limits)
                .unwrap();
        let report = junit::parse("junit.xml", &report).unwrap();
        assert!(report.counts().total >= 5, "{:?}", report.counts());
        let shot = checked
            .entries
            .iter()
            .find(|e| e.kind == EntryKind::Image)
            .expect("a screenshot");
        let bytes =
            archive::read_entry(std::io::Cursor::new(&zip), &checked, &shot.path, &limits).unwrap();
        assert_eq!(sniff::image(&bytes), Some(sniff::Image::Png));
    }
    github.rerun_failed_jobs(&repo, failed.id).await.unwrap();
    github.cancel_workflow_run(&repo, failed.id).await.unwrap();
    github
        .rerun_workflow(&repo, with_artifacts.id)
        .await
        .unwrap();
    github
        .create_workflow_dispatch(&repo, workflow, "develop", Default::default())
        .await
        .unwrap();
    github.list_repo_secrets(&repo).await.unwrap();
    github.list_repo_organization_secrets(&repo).await.unwrap();
    github.list_repo_variables(&repo).await.unwrap();
    let org_vars = github
        .list_repo_organization_variables(&repo)
        .await
        .unwrap();
    assert!(!org_vars.is_empty());
    let envs = github.get_all_environments(&repo).await.unwrap();
    github
        .list_environment_secrets(&repo, &envs[0].name)
        .await
        .unwrap();
    github
        .list_environment_variables(&repo, &envs[0].name)
        .await
        .unwrap();
    let deployments = github
        .list_deployments(&repo, Some("staging"), Some(3))
        .await
        .unwrap();
    github
        .list_deployment_statuses(&repo, deployments[0].id)
        .await
        .unwrap();
    for path in ["netlify.toml", ".github/workflows/ci.yml", ".env.example"] {
        github
            .get_content(&repo, path, Some("develop"))
            .await
            .unwrap();
    }
    let branch = github.get_branch(&repo, "develop").await.unwrap();
    github
        .compare_commits(&repo, "main", "develop")
        .await
        .unwrap();
    github.get_commit(&repo, &branch.commit.sha).await.unwrap();
    github.rate_limit().await.unwrap();
    let member = world.members.iter().find(|m| m.team.is_some()).unwrap();
    let as_user = github.as_user(sign_in(&base, &member.login).await);
    as_user.get_authenticated_user().await.unwrap();
    as_user.list_user_orgs().await.unwrap();
    as_user.list_user_teams().await.unwrap();
    as_user
        .get_org_membership(&world.github.org)
        .await
        .unwrap()
        .expect("a member");
    as_user
        .get_team_membership(
            &world.github.org,
            member.team.as_deref().unwrap(),
            &member.login,
        )
        .await
        .unwrap()
        .expect("in their team");

    github
        .get_org_membership_for_user(&world.github.org, &member.login)
        .await
        .unwrap()
        .expect("a member, seen with the server's token");
    assert!(github
        .get_org_membership_for_user(&world.github.org, "not-a-member")
        .await
        .unwrap()
        .is_none());

    // Supabase.
    let branches = supabase.list_branches(project).await.unwrap();
    let created = supabase
        .create_branch(
            project,
            &CreateBranch {
                branch_name: "contract-test".into(),
                git_branch: Some("feature/contract".into()),
                persistent: Some(false),
                with_data: Some(false),
            },
        )
        .await
        .unwrap();
    supabase.get_branch(project, "contract-test").await.unwrap();
    let config = supabase.get_branch_config(&created.id).await.unwrap();
    // The answer carries the password and JWT secret; the client keeps neither.
    let kept = format!("{config:?}");
    assert!(
        !kept.contains("sandbox-db-pass") && !kept.contains("sandbox-jwt-secret"),
        "{kept}"
    );
    supabase
        .update_branch(
            &created.id,
            &UpdateBranch {
                persistent: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    supabase.diff_branch(&created.id).await.unwrap();
    supabase.push_branch(&created.id).await.unwrap();
    supabase.reset_branch(&created.id).await.unwrap();
    supabase.restore_branch(&created.id).await.unwrap();
    let feature = branches.iter().find(|b| !b.is_default).unwrap();
    supabase.merge_branch(&feature.id).await.unwrap();
    supabase.delete_branch(&created.id).await.unwrap();
    supabase.list_backups(project).await.unwrap();
    let runs = supabase.list_action_runs(project).await.unwrap();
    assert!(!runs.is_empty(), "every branch has a run");
    let run = supabase.get_action_run(project, &runs[0].id).await.unwrap();
    assert_eq!(run.run_steps.len(), 7);
    assert!(!supabase
        .get_action_run_logs(project, &run.id)
        .await
        .unwrap()
        .is_empty());

    // Every request and response against the descriptions.
    let dir = specs_dir();
    let mut specs = [
        Spec::load(&dir.join("netlify-swagger.yml"), "netlify", "/netlify"),
        Spec::load(&dir.join("github-rest-subset.json"), "github", "/github"),
        Spec::load(
            &dir.join("supabase-management-openapi.json"),
            "supabase",
            "/supabase",
        ),
    ];
    let log: Vec<LoggedRequest> = sb.state.requests.list(&RequestFilter::default());
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    let mut checked = 0;
    for r in log.iter().filter(|r| !outside_descriptions(&r.path)) {
        let Some(spec) = specs.iter_mut().find(|s| s.name == r.vendor) else {
            problems.push(format!("{} {}: not a described vendor", r.method, r.path));
            continue;
        };
        let m = match spec.find(&r.method, &r.path) {
            Ok(m) => m,
            Err(e) => {
                problems.push(format!("{} {}: {e}", r.method, r.path));
                continue;
            }
        };
        if let Err(e) = spec.check_request(&m, &r.path, r.query.as_deref(), r.request_body.as_ref())
        {
            problems.push(format!("{} {} request: {e}", r.method, r.path));
        }
        if let Err(e) = spec.check_response(
            &m,
            r.status,
            r.response_type.as_deref(),
            r.response_body.as_ref(),
        ) {
            problems.push(format!("{} {} response: {e}", r.method, r.path));
        }
        if r.status < 400 {
            covered.insert(format!("{} {} {}", r.vendor, r.method, m.template));
        }
        checked += 1;
    }
    let missing: Vec<&&str> = USED.iter().filter(|u| !covered.contains(**u)).collect();
    assert!(
        problems.is_empty(),
        "{} of {checked} exchanges break the contract:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        missing.is_empty(),
        "operations never exercised: {missing:?}"
    );
    assert!(checked >= USED.len());
    sb.stop().await;
}

/// The validator itself must catch a violation, or the test above proves
/// nothing.
#[test]
fn a_response_that_breaks_its_schema_is_caught() {
    let dir = specs_dir();
    let mut netlify = Spec::load(&dir.join("netlify-swagger.yml"), "netlify", "/netlify");
    let path = "/netlify/api/v1/sites/abc/deploys/def";
    let m = netlify.find("GET", path).unwrap();
    assert_eq!(m.operation_id, "getSiteDeploy");
    let good =
        serde_json::json!({ "id": "def", "state": "ready", "created_at": "2026-01-01T00:00:00Z" });
    netlify
        .check_response(&m, 200, Some("application/json"), Some(&good))
        .unwrap();
    let bad = serde_json::json!({ "id": 42, "state": "ready" });
    let err = netlify
        .check_response(&m, 200, Some("application/json"), Some(&bad))
        .unwrap_err();
    assert!(err.contains("/id"), "{err}");
    assert!(netlify
        .check_request(&m, path, Some("no_such_param=1"), None)
        .is_err());

    let mut github = Spec::load(&dir.join("github-rest-subset.json"), "github", "/github");
    let path = "/github/repos/o/r/actions/runs/1/jobs";
    let m = github.find("GET", path).unwrap();
    assert!(github
        .check_request(&m, path, Some("per_page=abc"), None)
        .is_err());
    let missing_required = serde_json::json!({ "jobs": [] });
    assert!(github
        .check_response(&m, 200, Some("application/json"), Some(&missing_required))
        .is_err());
    assert!(
        github.check_response(&m, 418, None, None).is_err(),
        "an undescribed status fails"
    );

    let mut supabase = Spec::load(
        &dir.join("supabase-management-openapi.json"),
        "supabase",
        "/supabase",
    );
    let path = "/supabase/v1/projects/p/branches";
    let m = supabase.find("POST", path).unwrap();
    let no_name = serde_json::json!({ "git_branch": "x" });
    assert!(
        supabase
            .check_request(&m, path, None, Some(&no_name))
            .is_err(),
        "branch_name is required"
    );
}
