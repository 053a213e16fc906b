//! The simulated vendors over real HTTP: the seeded world is deterministic
//! and realistic, time moves builds, runs and branches through the vendors'
//! real states (sped up or advanced by the clock control), outcomes can be
//! forced, sign-in goes through the OAuth page, and world files round-trip.

use greenroom_sandbox::model::DEPLOY_STATES;
use greenroom_sandbox::sim::Sim;
use greenroom_sandbox::{start, RunningSandbox, World};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TOKEN: &str = "Bearer sandbox-test";

async fn sandbox(seed: u64) -> RunningSandbox {
    start("127.0.0.1:0".parse().unwrap(), World::seeded(seed))
        .await
        .unwrap()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = http().request(method, url).header("authorization", TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(url: String) -> Value {
    let (status, body) = call(reqwest::Method::GET, url.clone(), None).await;
    assert_eq!(status, 200, "{url}: {body}");
    body
}

async fn post(url: String, body: Value) -> (u16, Value) {
    call(reqwest::Method::POST, url, Some(body)).await
}

/// Polls `url` until `field` reaches one of `terminal` (within 10 s);
/// returns the distinct values seen, in order, and the last answer.
async fn watch(url: String, field: &str, terminal: &[&str]) -> (Vec<String>, Value) {
    let started = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let v = get(url.clone()).await;
        let s = v[field].as_str().unwrap().to_string();
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if terminal.contains(&s.as_str()) {
            return (seen, v);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{url} stuck: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn the_same_seed_gives_the_same_world_and_another_seed_another() {
    let mut a = World::seeded(42);
    a.anchor_ms = Some(1_790_000_000_000);
    let mut c = a.clone();
    c.seed = 43;
    let (x, y, z) = (Sim::new(a.clone()), Sim::new(a), Sim::new(c));
    assert_eq!(x.deploys, y.deploys);
    assert_eq!(x.runs, y.runs);
    assert_ne!(x.deploys, z.deploys);
}

#[test]
fn the_seeded_year_is_realistic() {
    let mut w = World::seeded(1);
    w.anchor_ms = Some(1_790_000_000_000);
    let sim = Sim::new(w.clone());
    let day = 86_400_000;
    let (first, last) = (sim.deploys.first().unwrap(), sim.deploys.last().unwrap());
    assert!(
        last.created_ms - first.created_ms > 350 * day,
        "about a year"
    );
    let count = |site: &str, ctx: &str| {
        sim.deploys
            .iter()
            .filter(|d| d.site_id == site && d.context == ctx)
            .count()
    };
    assert!(count(&w.netlify.staging_site_id, "branch-deploy") > 500);
    assert!(count(&w.netlify.production_site_id, "production") > 60);
    assert!(count(&w.netlify.production_site_id, "deploy-preview") > 200);
    let failed = sim
        .deploys
        .iter()
        .filter(|d| d.outcome == greenroom_sandbox::model::Outcome::Failure)
        .count();
    assert!(
        failed > 20 && failed < sim.deploys.len() / 5,
        "{failed} failures"
    );
    assert!(
        sim.deploys.iter().any(|d| d.cancelled_ms.is_some()),
        "cancellations"
    );
    // A failed production deploy is followed by a fix.
    let prod: Vec<_> = sim
        .deploys
        .iter()
        .filter(|d| d.context == "production")
        .collect();
    assert!(prod.windows(2).any(|p| p[0].outcome != p[1].outcome));
    // Runs: build and deploy jobs with steps, some failing, artifacts.
    assert!(sim.runs.len() > 500);
    assert!(sim
        .runs
        .iter()
        .all(|r| r.jobs.len() == 2 && r.jobs[0].name == "build"));
    assert!(
        sim.runs.iter().any(|r| r.jobs[1].steps.is_empty()),
        "deploy skipped after a failed build"
    );
    assert!(sim.runs.iter().filter(|r| !r.artifacts.is_empty()).count() > 400);
    assert!(sim
        .runs
        .iter()
        .any(|r| r.artifacts.iter().any(|a| !a.smoke_passed)));
    // Env vars with gaps, placeholders and mismatches.
    let staging_keys: Vec<&str> = sim
        .env
        .iter()
        .filter(|v| v.site_id == w.netlify.staging_site_id)
        .map(|v| v.key.as_str())
        .collect();
    assert!(!staging_keys.contains(&"SUPABASE_ACCESS_TOKEN"));
    assert!(sim
        .env
        .iter()
        .any(|v| !v.is_secret && v.values.iter().any(|x| x.value == "changeme")));
    // A service-role key where the browser gets it.
    assert!(
        sim.env
            .iter()
            .any(|v| v.key.starts_with("VITE_")
                && v.values.iter().any(|x| x.value.starts_with("eyJ")))
    );
    // Secrets: ci.yml references DEFAULT_ORGANIZATION_ID, which GitHub lacks.
    let ci = sim
        .files
        .iter()
        .find(|f| f.path.ends_with("ci.yml"))
        .unwrap();
    assert!(ci.content.contains("secrets.DEFAULT_ORGANIZATION_ID"));
    assert!(!sim
        .secrets
        .iter()
        .any(|s| s.name == "DEFAULT_ORGANIZATION_ID"));
    assert!(sim
        .files
        .iter()
        .any(|f| f.path == "netlify.toml" && f.content.contains("[context.staging]")));
    // Branches in several states.
    let states: std::collections::HashSet<_> = sim
        .branches
        .iter()
        .map(|b| b.status_at(1_790_000_000_000 + 3_600_000).0)
        .collect();
    assert!(states.len() >= 3, "{states:?}");
}

#[tokio::test]
async fn a_triggered_netlify_build_goes_through_netlifys_states() {
    let sb = sandbox(5).await;
    let base = sb.base_url();
    let site = sb
        .state
        .sim
        .lock()
        .unwrap()
        .ids
        .netlify
        .staging_site_id
        .clone();
    post(format!("{base}/__sandbox/clock"), json!({ "pace": 0.005 })).await;
    let (status, build) = post(
        format!("{base}/netlify/api/v1/sites/{site}/builds?branch=develop"),
        json!(null),
    )
    .await;
    assert_eq!(status, 200, "{build}");
    assert_eq!(build["done"], false);
    let deploy_url = format!(
        "{base}/netlify/api/v1/sites/{site}/deploys/{}",
        build["deploy_id"].as_str().unwrap()
    );
    let (seen, last) = watch(deploy_url, "state", &["ready", "error"]).await;
    let order: Vec<usize> = seen
        .iter()
        .map(|s| DEPLOY_STATES.iter().position(|x| x == s).unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "states in order: {seen:?}"
    );
    assert!(seen.len() >= 3, "saw the way there: {seen:?}");
    let (_, b) = call(
        reqwest::Method::GET,
        format!(
            "{base}/netlify/api/v1/builds/{}",
            build["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(b["done"], true);
    if last["state"] == "ready" {
        let site_now = get(format!("{base}/netlify/api/v1/sites/{site}")).await;
        assert_eq!(
            site_now["published_deploy"]["id"], last["id"],
            "a ready develop build is published"
        );
    }
    sb.stop().await;
}

#[tokio::test]
async fn outcomes_can_be_forced_and_the_clock_advanced() {
    let sb = sandbox(5).await;
    let base = sb.base_url();
    let site = sb
        .state
        .sim
        .lock()
        .unwrap()
        .ids
        .netlify
        .production_site_id
        .clone();
    let (s, _) = post(
        format!("{base}/__sandbox/outcomes"),
        json!({ "target": "netlify", "outcome": "failure" }),
    )
    .await;
    assert_eq!(s, 201);
    let (_, build) = post(
        format!("{base}/netlify/api/v1/sites/{site}/builds"),
        json!(null),
    )
    .await;
    let url = format!(
        "{base}/netlify/api/v1/sites/{site}/deploys/{}",
        build["deploy_id"].as_str().unwrap()
    );
    assert_eq!(get(url.clone()).await["state"], "new");
    let (_, clock) = post(
        format!("{base}/__sandbox/clock"),
        json!({ "advance_ms": 600_000 }),
    )
    .await;
    assert_eq!(clock["offset_ms"], 600_000);
    let d = get(url).await;
    assert_eq!(d["state"], "error");
    assert!(d["error_message"].as_str().unwrap().len() > 5);
    let (bad, _) = post(
        format!("{base}/__sandbox/clock"),
        json!({ "advance_ms": -1 }),
    )
    .await;
    assert_eq!(bad, 400, "time does not go back");
    sb.stop().await;
}

#[tokio::test]
async fn a_dispatched_workflow_runs_its_jobs_and_a_forced_smoke_failure_fails_it() {
    let sb = sandbox(9).await;
    let base = sb.base_url();
    let (owner, repo) = {
        let sim = sb.state.sim.lock().unwrap();
        (sim.ids.github.owner.clone(), sim.ids.github.repo.clone())
    };
    let r = format!("{base}/github/repos/{owner}/{repo}");
    post(format!("{base}/__sandbox/clock"), json!({ "pace": 0.003 })).await;
    post(
        format!("{base}/__sandbox/outcomes"),
        json!({ "target": "netlify", "outcome": "success" }),
    )
    .await;
    post(
        format!("{base}/__sandbox/outcomes"),
        json!({ "target": "github", "outcome": "success" }),
    )
    .await;
    post(
        format!("{base}/__sandbox/outcomes"),
        json!({ "target": "github", "outcome": "failure" }),
    )
    .await;
    let (s, _) = post(
        format!("{r}/actions/workflows/ci.yml/dispatches"),
        json!({ "ref": "develop" }),
    )
    .await;
    assert_eq!(s, 204);
    let first = get(format!("{r}/actions/workflows/ci.yml/runs?per_page=1")).await;
    let run = &first["workflow_runs"][0];
    assert_eq!(run["event"], "workflow_dispatch");
    assert_eq!(run["status"], "queued");
    let id = run["id"].as_u64().unwrap();
    let (statuses, done) = watch(format!("{r}/actions/runs/{id}"), "status", &["completed"]).await;
    assert_eq!(statuses.first().map(String::as_str), Some("queued"));
    assert!(
        statuses.contains(&"in_progress".to_string()),
        "{statuses:?}"
    );
    assert_eq!(done["conclusion"], "failure");
    let jobs = get(format!("{r}/actions/runs/{id}/jobs")).await;
    let steps = &jobs["jobs"][1]["steps"];
    let smoke = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Smoke test staging")
        .unwrap();
    assert_eq!(smoke["conclusion"], "failure");
    // Re-running it starts a second attempt.
    let (s, _) = post(
        format!("{r}/actions/runs/{id}/rerun-failed-jobs"),
        json!({}),
    )
    .await;
    assert_eq!(s, 201);
    let again = get(format!("{r}/actions/runs/{id}")).await;
    assert_eq!(again["run_attempt"], 2);
    assert_ne!(again["status"], "completed");
    sb.stop().await;
}

#[tokio::test]
async fn a_new_supabase_branch_migrates_then_is_ready() {
    let sb = sandbox(2).await;
    let base = sb.base_url();
    let project = sb
        .state
        .sim
        .lock()
        .unwrap()
        .ids
        .supabase
        .project_ref
        .clone();
    post(format!("{base}/__sandbox/clock"), json!({ "pace": 0.005 })).await;
    post(
        format!("{base}/__sandbox/outcomes"),
        json!({ "target": "supabase", "outcome": "success" }),
    )
    .await;
    let (s, b) = post(
        format!("{base}/supabase/v1/projects/{project}/branches"),
        json!({ "branch_name": "try-it", "git_branch": "feature/try" }),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["status"], "CREATING_PROJECT");
    let (seen, _) = watch(
        format!("{base}/supabase/v1/projects/{project}/branches/try-it"),
        "status",
        &["MIGRATIONS_PASSED", "MIGRATIONS_FAILED"],
    )
    .await;
    assert_eq!(seen.last().map(String::as_str), Some("MIGRATIONS_PASSED"));
    assert!(seen.contains(&"RUNNING_MIGRATIONS".to_string()), "{seen:?}");
    let (dup, _) = post(
        format!("{base}/supabase/v1/projects/{project}/branches"),
        json!({ "branch_name": "try-it" }),
    )
    .await;
    assert_eq!(dup, 409);
    // Edge functions follow the passed migrations.
    let (seen, _) = watch(
        format!("{base}/supabase/v1/projects/{project}/branches/try-it"),
        "status",
        &["FUNCTIONS_DEPLOYED"],
    )
    .await;
    assert_eq!(seen.last().map(String::as_str), Some("FUNCTIONS_DEPLOYED"));
    sb.stop().await;
}

#[tokio::test]
async fn a_deleted_branch_can_be_restored_until_its_grace_is_over() {
    let sb = sandbox(2).await;
    let base = sb.base_url();
    let project = sb
        .state
        .sim
        .lock()
        .unwrap()
        .ids
        .supabase
        .project_ref
        .clone();
    let by_name = format!("{base}/supabase/v1/projects/{project}/branches/feature-billing");
    let id = get(by_name.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let branch = format!("{base}/supabase/v1/branches/{id}");
    let (s, _) = call(reqwest::Method::DELETE, branch.clone(), None).await;
    assert_eq!(s, 200);
    let scheduled = get(by_name.clone()).await;
    assert!(
        scheduled["deletion_scheduled_at"].is_string(),
        "{scheduled}"
    );
    let (s, _) = post(format!("{branch}/restore"), json!({})).await;
    assert_eq!(s, 200);
    assert!(get(by_name.clone()).await["deletion_scheduled_at"].is_null());
    let (s, _) = call(reqwest::Method::DELETE, branch.clone(), None).await;
    assert_eq!(s, 200);
    post(
        format!("{base}/__sandbox/clock"),
        json!({ "advance_ms": 25 * 3_600_000 }),
    )
    .await;
    let (s, _) = call(reqwest::Method::GET, by_name, None).await;
    assert_eq!(s, 404, "gone after the grace");
    let (s, _) = post(format!("{branch}/restore"), json!({})).await;
    assert_eq!(s, 404, "too late to restore");
    sb.stop().await;
}

#[tokio::test]
async fn sign_in_lets_a_tester_choose_a_member_and_exchanges_the_code_once() {
    let sb = sandbox(1).await;
    let base = sb.base_url();
    let page = http()
        .get(format!("{base}/github/login/oauth/authorize?client_id=app1&redirect_uri=http://127.0.0.1:9/cb&state=xyz"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for login in ["vera-viewer", "dev-deployer", "ada-admin"] {
        assert!(page.contains(login), "the page offers {login}");
    }
    let res = http()
        .post(format!("{base}/github/login/oauth/authorize"))
        .form(&[
            ("login", "dev-deployer"),
            ("client_id", "app1"),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("state", "xyz"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("http://127.0.0.1:9/cb?code="),
        "{location}"
    );
    assert!(location.ends_with("&state=xyz"));
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let exchange = || {
        http()
            .post(format!("{base}/github/login/oauth/access_token"))
            .header("accept", "application/json")
            .form(&[
                ("client_id", "app1"),
                ("client_secret", "s"),
                ("code", code.as_str()),
            ])
            .send()
    };
    let token: Value = exchange().await.unwrap().json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("gho_"));
    let again: Value = exchange().await.unwrap().json().await.unwrap();
    assert_eq!(again["error"], "bad_verification_code", "a code works once");
    let me: Value = http()
        .get(format!("{base}/github/user"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "dev-deployer");
    let stranger = http()
        .get(format!("{base}/github/user"))
        .bearer_auth("not-a-user-token")
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
    sb.stop().await;
}

#[tokio::test]
async fn the_full_world_round_trips_through_a_world_file() {
    let sb = sandbox(4).await;
    let full = get(format!("{}/__sandbox/world?full=true", sb.base_url())).await;
    sb.stop().await;
    let dir = tempdir();
    let path = dir.join("world.json");
    std::fs::write(&path, serde_json::to_vec(&full).unwrap()).unwrap();
    let loaded = World::load(&path).unwrap();
    let sim = Sim::new(loaded);
    assert_eq!(
        sim.deploys.len(),
        full["netlify"]["deploys"].as_array().unwrap().len()
    );
    // A partial file: the ids and one deploy; everything else is generated.
    let mut partial = full.clone();
    let one = partial["netlify"]["deploys"][0].clone();
    partial["netlify"]["deploys"] = json!([one]);
    partial["github"].as_object_mut().unwrap().remove("runs");
    std::fs::write(&path, serde_json::to_vec(&partial).unwrap()).unwrap();
    let sim = Sim::new(World::load(&path).unwrap());
    assert_eq!(sim.deploys.len(), 1);
    assert!(sim.runs.len() > 100, "runs generated from the seed");
    // A bad deploy is refused with the place named.
    partial["netlify"]["deploys"][0]["site_id"] = json!("nope");
    std::fs::write(&path, serde_json::to_vec(&partial).unwrap()).unwrap();
    let err = World::load(&path).unwrap_err().to_string();
    assert!(err.contains("netlify.deploys[0].site_id"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("greenroom-sim-{}-{}", std::process::id(), line!()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn a_code_issued_with_pkce_needs_the_matching_verifier() {
    use base64::Engine;
    use sha2::Digest;
    let sb = sandbox(1).await;
    let base = sb.base_url();
    let verifier = "a-verifier-of-at-least-forty-three-characters-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let code = || async {
        let res = http()
            .post(format!("{base}/github/login/oauth/authorize"))
            .form(&[
                ("login", "ada-admin"),
                ("client_id", "app1"),
                ("redirect_uri", "http://127.0.0.1:9/cb"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .unwrap();
        let location = res.headers()["location"].to_str().unwrap().to_string();
        location
            .split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string()
    };
    let exchange = |code: String, verifier: Option<&'static str>| {
        let base = base.clone();
        async move {
            let mut form = vec![
                ("client_id", "app1".to_string()),
                ("client_secret", "s".into()),
                ("code", code),
            ];
            if let Some(v) = verifier {
                form.push(("code_verifier", v.to_string()));
            }
            let v: Value = http()
                .post(format!("{base}/github/login/oauth/access_token"))
                .header("accept", "application/json")
                .form(&form)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v
        }
    };
    assert_eq!(
        exchange(code().await, None).await["error"],
        "invalid_request"
    );
    assert_eq!(
        exchange(code().await, Some("the-wrong-verifier")).await["error"],
        "invalid_grant"
    );
    let ok = exchange(code().await, Some(verifier)).await;
    assert!(
        ok["access_token"].as_str().unwrap().starts_with("gho_"),
        "{ok}"
    );
    sb.stop().await;
}

#[tokio::test]
async fn secret_values_never_come_back_and_a_world_cannot_break_netlifys_secret_rules() {
    let sb = sandbox(1).await;
    let base = sb.base_url();
    let full = get(format!("{base}/__sandbox/world?full=true")).await;
    let account = full["netlify"]["account_slug"]
        .as_str()
        .unwrap()
        .to_string();
    for site in ["staging_site_id", "production_site_id"] {
        let id = full["netlify"][site].as_str().unwrap();
        for context in ["", "&context_name=dev", "&context_name=production"] {
            let vars = get(format!(
                "{base}/netlify/api/v1/accounts/{account}/env?site_id={id}{context}"
            ))
            .await;
            for var in vars.as_array().unwrap() {
                assert!(var["updated_by"]["full_name"].is_string(), "{var}");
                if var["is_secret"] == json!(true) {
                    for v in var["values"].as_array().unwrap() {
                        assert!(
                            v.get("value").is_none(),
                            "a secret value came back: {}",
                            var["key"]
                        );
                    }
                    let scopes = var["scopes"].as_array().unwrap();
                    assert!(!scopes.contains(&json!("post-processing")), "{var}");
                }
                if var["key"].as_str().unwrap().starts_with("VITE_") {
                    assert_eq!(var["scopes"], json!(["builds"]));
                }
            }
        }
    }
    sb.stop().await;

    let dir = std::env::temp_dir().join(format!("greenroom-secret-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("world.json");
    let mut world = full.clone();
    let secret = world["netlify"]["env"]
        .as_array()
        .unwrap()
        .iter()
        .position(|v| v["is_secret"] == json!(true))
        .unwrap();
    for (context, scopes, wanted) in [
        ("dev", None, "cannot have a value for `dev`"),
        ("all", None, "cannot have a value for `all`"),
        (
            "production",
            Some(json!(["builds", "post-processing"])),
            "post-processing",
        ),
        ("staging", None, "unknown context"),
    ] {
        world["netlify"]["env"][secret]["values"] = json!([{"context": context, "value": "v"}]);
        world["netlify"]["env"][secret]["scopes"] = scopes.unwrap_or(json!(null));
        if world["netlify"]["env"][secret]["scopes"].is_null() {
            world["netlify"]["env"][secret]
                .as_object_mut()
                .unwrap()
                .remove("scopes");
        }
        std::fs::write(&path, serde_json::to_vec(&world).unwrap()).unwrap();
        let err = World::load(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("netlify.env[{secret}]")) && err.contains(wanted),
            "{context}: {err}"
        );
    }
    let mut world = full;
    world["github"]["forbidden"] = json!(["environment-secrets:nowhere"]);
    std::fs::write(&path, serde_json::to_vec(&world).unwrap()).unwrap();
    assert!(World::load(&path)
        .unwrap_err()
        .to_string()
        .contains("github.forbidden"));
    std::fs::remove_dir_all(dir).ok();
}
