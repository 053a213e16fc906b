//! The Branches page through a whole server and the sandbox: branches in
//! Supabase's sections with statuses in words, a failed migration's step
//! and the log lines that say why, connection details without the
//! password or JWT secret (in no page, API answer, or the database file),
//! attention and cost, the backups panel, and a branch finishing its
//! migrations shown within 2 seconds of the sandbox making the change.

mod support;

use std::time::{Duration, Instant};
use support::*;

/// Full passes rarely, in-progress checks every 300 ms.
const WATCHING: &str = "page_cache_ms = 0\n[sync]\ninterval_secs = 3600\nwatch_interval_ms = 300\n\n[auth]\nsign_in_attempts_per_minute = 1000\n";

/// The page as text a person reads (entities back to characters).
async fn page(client: &reqwest::Client, url: String) -> String {
    text_of(client, url)
        .await
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The page once `ok` holds for it (sync shows a change within a watch
/// tick or two); fails after 3 s.
async fn page_when(client: &reqwest::Client, url: String, ok: impl Fn(&str) -> bool) -> String {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let html = page(client, url.clone()).await;
        if ok(&html) {
            return html;
        }
        assert!(
            Instant::now() < until,
            "the page shows the change within 3 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `<article>` of one branch in the page.
fn article<'a>(html: &'a str, name: &str) -> &'a str {
    let at = html
        .find(&format!("data-branch=\"{name}\""))
        .unwrap_or_else(|| panic!("{name} is on the page"));
    let start = html[..at].rfind("<article").unwrap();
    let end = at + html[at..].find("</article>").unwrap();
    &html[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_branches_page_shows_sections_statuses_runs_cost_and_backups_without_secrets() {
    let app = spawn_with(WATCHING).await;
    app.synced().await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    let html = page(&client, app.url("/branches")).await;

    // Sections as Supabase's dashboard has them, each branch in its own.
    let prod = html.find("data-testid=\"section-production\"").unwrap();
    let persistent = html.find("data-testid=\"section-persistent\"").unwrap();
    let preview = html.find("data-testid=\"section-preview\"").unwrap();
    assert!(prod < persistent && persistent < preview);
    let main = html.find("data-branch=\"main\"").unwrap();
    assert!(prod < main && main < persistent, "main is production");
    for name in ["feature-billing", "fix-rls-policies", "preview-login-page"] {
        assert!(html.find(&format!("data-branch=\"{name}\"")).unwrap() > preview);
    }
    assert!(html.contains("No persistent branch."));

    // Statuses in words, with Supabase's own value beside them.
    let main = article(&html, "main");
    assert!(
        main.contains("Edge functions deployed (FUNCTIONS_DEPLOYED)"),
        "{main}"
    );
    assert!(main.contains("Healthy (ACTIVE_HEALTHY)"));
    assert!(main.contains("the project's own (not branch compute)"));
    let failed = article(&html, "fix-rls-policies");
    assert!(failed.contains("data-phase=\"needs attention\""));
    assert!(failed.contains("Migrations failed (MIGRATIONS_FAILED)"));
    // The failed step and the lines of its log that say why.
    assert!(failed.contains("Latest run: failed at migrate"), "{failed}");
    assert!(failed.contains("data-step=\"migrate\" data-step-status=\"DEAD\""));
    assert!(failed.contains("relation \"public.accounts\" does not exist"));
    assert!(failed.contains("Migration failed: 20261201093000_add_invoices.sql"));
    // Its log is shown, with the password Supabase's runner logged masked.
    assert!(
        failed.contains("postgresql://postgres:••••••@db."),
        "{failed}"
    );
    let working = article(&html, "preview-login-page");
    assert!(working.contains("data-phase=\"in progress\""));
    assert!(working.contains("Running migrations (RUNNING_MIGRATIONS)"));

    // Connection details: host, port, user and version; never the secrets.
    let billing = article(&html, "feature-billing");
    assert!(
        billing.contains(".supabase.co:5432 as postgres · Postgres 17.4.1.054"),
        "{billing}"
    );
    assert!(billing.contains("$0.0134 an hour"));

    // Attention and cost.
    assert!(html.contains("fix-rls-policies: Migrations failed"));
    assert!(html.contains("billed by the hour outside the organization's spend cap"));
    // Three preview branches at micro compute for 730 hours.
    assert!(html.contains("$29.43 a month"), "monthly total");

    // Backups: the window, the rows, the dashboard link and the reminder.
    assert!(html.contains("Point-in-time recovery is off."));
    assert!(html.contains("daily backups, newest"));
    assert_eq!(html.matches("data-testid=\"backup-row\"").count(), 7);
    assert!(html.contains("/database/backups/scheduled"));
    assert!(html.contains("re-apply the migrations"));

    // The same as data, for scripts.
    let api = text_of(&client, app.url("/api/branches?project=")).await;
    assert!(api.contains("\"fix-rls-policies\""));

    // Neither the database password nor the JWT secret reaches anything.
    let slack = text_of(
        &reqwest::Client::new(),
        format!("{}/__sandbox/slack", app.sandbox()),
    )
    .await;
    let db = std::fs::read(app.data.path().join("greenroom.db")).unwrap_or_default();
    let wal = std::fs::read(app.data.path().join("greenroom.db-wal")).unwrap_or_default();
    for (what, text) in [
        ("the page", html.as_bytes()),
        ("the API", api.as_bytes()),
        ("the database", &db[..]),
        ("the database's WAL", &wal[..]),
        ("Slack", slack.as_bytes()),
    ] {
        let text = String::from_utf8_lossy(text);
        for secret in [
            "sandbox-db-pass-",
            "sandbox-jwt-secret-",
            "db_pass",
            "jwt_secret",
        ] {
            assert!(!text.contains(secret), "{secret} is in {what}");
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_finishing_its_migrations_shows_within_two_seconds() {
    let app = spawn_with(WATCHING).await;
    app.synced().await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    let html = page(&client, app.url("/branches")).await;
    assert!(article(&html, "preview-login-page").contains("data-phase=\"in progress\""));

    // The sandbox finishes the migration (and deploys the functions).
    let res = reqwest::Client::new()
        .post(format!("{}/__sandbox/clock", app.sandbox()))
        .json(&serde_json::json!({"advance_ms": 3 * 86_400_000_i64}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let changed = Instant::now();
    loop {
        let html = page(&client, app.url("/branches")).await;
        let b = article(&html, "preview-login-page");
        if b.contains("data-phase=\"ready\"") {
            assert!(
                b.contains("Edge functions deployed (FUNCTIONS_DEPLOYED)"),
                "{b}"
            );
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(2),
            "the page shows the change within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_that_cannot_be_read_say_so_and_keep_what_was_read() {
    let app = spawn_with(WATCHING).await;
    app.synced().await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    // Supabase fails every request from now on; a full pass keeps the list.
    let res = reqwest::Client::new()
        .post(format!("{}/__sandbox/faults", app.sandbox()))
        .json(&serde_json::json!({"route": "/supabase/*", "kind": "status", "status": 500}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    app.services.ops.syncer.sync_all().await;
    let html = page(&client, app.url("/branches")).await;
    assert!(html.contains("data-testid=\"branches-problems\""));
    assert!(html.contains("The branch list could not be read"));
    assert!(
        html.contains("data-branch=\"fix-rls-policies\""),
        "what was read stays"
    );
    app.stop().await;
}

/// The seeded project's Supabase ref.
fn project_ref(app: &TestApp) -> String {
    app.services.config.projects[0]
        .supabase
        .as_ref()
        .unwrap()
        .project_ref
        .clone()
}

async fn sandbox_post(app: &TestApp, path: &str, body: serde_json::Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.sandbox()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "{path}: {}",
        res.text().await.unwrap()
    );
}

async fn create(client: &reqwest::Client, app: &TestApp, name: &str) -> (u16, String) {
    post_form(
        client,
        app,
        "/api/branches/create",
        &[
            ("project", ""),
            ("name", name),
            ("git_branch", "feature/e2e"),
            ("kind", "preview"),
            ("confirm", "on"),
        ],
    )
    .await
}

/// Waits for action `id` to end; returns it.
async fn ended(app: &TestApp, id: i64) -> greenroom::storage::ActionRecord {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let a = app.services.storage.get_action(id).await.unwrap().unwrap();
        if a.finished_at_ms.is_some() {
            return a;
        }
        assert!(Instant::now() < until, "action {id} ends: {a:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn action_id(body: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["action"]["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_equal_creates_make_one_branch_followed_to_ready_audited_and_announced() {
    let app = spawn_with(WATCHING).await;
    app.synced().await;
    // Branch creation 100x faster than Supabase's.
    sandbox_post(&app, "/__sandbox/clock", serde_json::json!({"pace": 0.01})).await;
    let (_, client) = signed_in(&app, "dev-deployer").await;
    let answers =
        futures_util::future::join_all((0..20).map(|_| create(&client, &app, "feat-login"))).await;
    let mut ids = std::collections::HashSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        ids.insert(action_id(body));
    }
    assert_eq!(ids.len(), 1, "one action for twenty requests");
    let made: Vec<serde_json::Value> = reqwest::Client::new()
        .get(format!(
            "{}/__sandbox/requests?vendor=supabase&method=POST&path=/supabase/v1/projects/{}/branches",
            app.sandbox(),
            project_ref(&app)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(made.len(), 1, "one upstream create: {made:?}");

    let a = ended(&app, *ids.iter().next().unwrap()).await;
    assert_eq!(a.state, greenroom::storage::ActionState::Succeeded, "{a:?}");
    let progress = greenroom::actions::progress_of(&a);
    let states: Vec<&str> = progress.iter().map(|p| p.state.as_str()).collect();
    assert!(
        states
            .iter()
            .any(|s| s.starts_with("Edge functions deployed")),
        "{states:?}"
    );
    assert!(states.len() >= 4, "every status on the way: {states:?}");

    let audit = audit(&app).await;
    let rows: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "branch.create")
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome, greenroom::storage::AuditOutcome::Succeeded);
    assert_eq!(rows[0].target_id.as_deref(), Some("feat-login"));

    let slack = text_of(
        &reqwest::Client::new(),
        format!("{}/__sandbox/slack", app.sandbox()),
    )
    .await;
    assert_eq!(
        slack.matches("Create preview branch feat-login").count(),
        2,
        "start and end: {slack}"
    );
    assert!(slack.contains("feat-login is ready"));

    // The page shows it ready (within a watch tick or two), and the
    // operation with its progress.
    let until = Instant::now() + Duration::from_secs(3);
    let html = loop {
        let html = page(&client, app.url("/branches")).await;
        if html.contains("data-branch=\"feat-login\"")
            && article(&html, "feat-login").contains("data-phase=\"ready\"")
        {
            break html;
        }
        assert!(Instant::now() < until, "the page shows feat-login ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(html.contains("data-testid=\"branch-operations\""));
    assert!(
        html.contains("data-testid=\"create-branch\""),
        "a deployer has the form"
    );
    assert!(
        !html.contains("data-testid=\"branch-delete\""),
        "but not delete"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refused_create_says_why_and_nothing_is_shown_as_done() {
    let app = spawn_with(WATCHING).await;
    app.synced().await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let (status, _) = create(&viewer, &app, "feat-x").await;
    assert_eq!(status, 403, "viewers do not create");
    let html = page(&viewer, app.url("/branches")).await;
    assert!(!html.contains("data-testid=\"create-branch\""));
    let main = &html[html.find("<main").unwrap()..];
    assert!(
        !main.contains("<button"),
        "a viewer has no buttons on the page: {}",
        &main[main.find("<button").unwrap_or(0)..][..300.min(main.len())]
    );

    let (_, client) = signed_in(&app, "dev-deployer").await;
    let (status, body) = create(&client, &app, "-bad name").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("cannot start with") || body.contains("not allowed"),
        "{body}"
    );
    let (status, body) = post_form(
        &client,
        &app,
        "/api/branches/create",
        &[("name", "feat-y"), ("kind", "preview")],
    )
    .await;
    assert_eq!(status, 400, "unconfirmed: {body}");

    let (status, body) = create(&client, &app, "feature-billing").await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("already exists"), "{body}");

    sandbox_post(
        &app,
        "/__sandbox/supabase",
        serde_json::json!({"branch_limit": 3}),
    )
    .await;
    let (_, body) = create(&client, &app, "feat-limit").await;
    assert!(body.contains("branch limit"), "{body}");

    sandbox_post(
        &app,
        "/__sandbox/supabase",
        serde_json::json!({"branch_limit": null, "branching_enabled": false}),
    )
    .await;
    let (_, body) = create(&client, &app, "feat-disabled").await;
    assert!(body.contains("Branching is not enabled"), "{body}");
    sandbox_post(
        &app,
        "/__sandbox/supabase",
        serde_json::json!({"branching_enabled": true}),
    )
    .await;
    // Nothing was done, so asking again once it is fixed goes through at once.
    sandbox_post(
        &app,
        "/__sandbox/supabase",
        serde_json::json!({"branching_enabled": false}),
    )
    .await;
    let (_, body) = create(&client, &app, "feat-retry").await;
    assert!(body.contains("Branching is not enabled"), "{body}");
    sandbox_post(
        &app,
        "/__sandbox/supabase",
        serde_json::json!({"branching_enabled": true}),
    )
    .await;
    let (status, body) = create(&client, &app, "feat-retry").await;
    assert_eq!(status, 200, "the same name right after a refusal: {body}");

    // Supabase down: the create fails, and no branch of that name exists.
    sandbox_post(
        &app,
        "/__sandbox/faults",
        serde_json::json!({"route": "POST /supabase/v1/projects/*", "kind": "status", "status": 503}),
    )
    .await;
    let (status, body) = create(&client, &app, "feat-down").await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("not answering"), "{body}");

    let audit = audit(&app).await;
    for name in [
        "feature-billing",
        "feat-limit",
        "feat-disabled",
        "feat-down",
    ] {
        let row = audit
            .iter()
            .find(|e| e.action == "branch.create" && e.target_id.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} is audited"));
        assert_eq!(
            row.outcome,
            greenroom::storage::AuditOutcome::Failed,
            "{name}"
        );
    }
    app.services.ops.syncer.sync_all().await;
    let html = page(&client, app.url("/branches")).await;
    for name in ["feat-limit", "feat-disabled", "feat-down"] {
        assert!(
            !html.contains(&format!("data-branch=\"{name}\"")),
            "{name} is not shown"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_deletes_a_preview_by_typing_its_name_and_restores_it() {
    let app = spawn_with(WATCHING).await;
    app.synced().await;
    let html = page(&signed_in(&app, "ada-admin").await.1, app.url("/branches")).await;
    let id_of = |html: &str, name: &str| {
        let a = article(html, name);
        let at = a.find("name=\"branch\" value=\"").unwrap() + 21;
        a[at..at + a[at..].find('"').unwrap()].to_string()
    };
    let billing = id_of(&html, "feature-billing");
    assert!(
        !article(&html, "main").contains("branch-delete"),
        "production has no delete"
    );

    let (_, deployer) = signed_in(&app, "dev-deployer").await;
    let delete = |client: reqwest::Client, branch: String, typed: &'static str| {
        let app = &app;
        async move {
            post_form(
                &client,
                app,
                "/api/branches/delete",
                &[
                    ("project", ""),
                    ("branch", &branch),
                    ("confirm_name", typed),
                ],
            )
            .await
        }
    };
    assert_eq!(
        delete(deployer, billing.clone(), "feature-billing").await.0,
        403
    );

    let (_, admin) = signed_in(&app, "ada-admin").await;
    let (status, body) = delete(admin.clone(), billing.clone(), "feature-bill").await;
    assert_eq!(status, 400, "a wrong name: {body}");
    assert!(body.contains("Type the branch's name"));
    // The production branch, whatever is typed.
    let main = app
        .services
        .storage
        .branch_snapshot(1)
        .await
        .unwrap()
        .unwrap();
    let main = greenroom::branches::Snapshot::parse(&main).unwrap();
    let main_id = main
        .branches
        .iter()
        .find(|b| b.is_default)
        .unwrap()
        .id
        .clone();
    let (status, body) = delete(admin.clone(), main_id, "main").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("never deletes"));

    let (status, body) = delete(admin.clone(), billing.clone(), "feature-billing").await;
    assert_eq!(status, 200, "{body}");
    let a = ended(&app, action_id(&body)).await;
    assert_eq!(a.state, greenroom::storage::ActionState::Succeeded, "{a:?}");
    let html = page_when(&admin, app.url("/branches"), |h| {
        article(h, "feature-billing").contains("Deletion scheduled")
    })
    .await;
    let b = article(&html, "feature-billing");
    assert!(b.contains("data-testid=\"branch-restore\""));

    let (status, body) = post_form(
        &admin,
        &app,
        "/api/branches/restore",
        &[("project", ""), ("branch", &billing)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let a = ended(&app, action_id(&body)).await;
    assert_eq!(a.state, greenroom::storage::ActionState::Succeeded, "{a:?}");
    page_when(&admin, app.url("/branches"), |h| {
        !article(h, "feature-billing").contains("Deletion scheduled")
    })
    .await;
    let audit = audit(&app).await;
    assert!(audit
        .iter()
        .any(|e| e.action == "branch.delete"
            && e.outcome == greenroom::storage::AuditOutcome::Succeeded));
    assert!(audit.iter().any(|e| e.action == "branch.restore"
        && e.outcome == greenroom::storage::AuditOutcome::Succeeded));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_whose_functions_fail_ends_failed_with_the_step_and_why() {
    let app = spawn_with(WATCHING).await;
    app.synced().await;
    sandbox_post(&app, "/__sandbox/clock", serde_json::json!({"pace": 0.01})).await;
    sandbox_post(
        &app,
        "/__sandbox/supabase",
        serde_json::json!({"next_branch": "functions_failed"}),
    )
    .await;
    let (_, client) = signed_in(&app, "dev-deployer").await;
    let (status, body) = create(&client, &app, "feat-functions").await;
    assert_eq!(status, 200, "{body}");
    let a = ended(&app, action_id(&body)).await;
    assert_eq!(a.state, greenroom::storage::ActionState::Failed, "{a:?}");
    assert!(a
        .message
        .unwrap_or_default()
        .contains("Edge functions failed to deploy"));
    let html = page_when(&client, app.url("/branches"), |h| {
        h.contains("data-branch=\"feat-functions\"")
            && article(h, "feat-functions").contains("FUNCTIONS_FAILED")
    })
    .await;
    let b = article(&html, "feat-functions");
    assert!(b.contains("data-phase=\"needs attention\""), "{b}");
    assert!(b.contains("Edge functions failed to deploy (FUNCTIONS_FAILED)"));
    assert!(b.contains("Latest run: failed at deploy"), "{b}");
    assert!(b.contains("failed to bundle function send-invoice"));
    assert!(html.contains("feat-functions: Edge functions failed to deploy."));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_stuck_creating_stays_in_progress_and_is_not_called_done() {
    let app = spawn_with(WATCHING).await;
    app.synced().await;
    sandbox_post(
        &app,
        "/__sandbox/supabase",
        serde_json::json!({"next_branch": "stuck"}),
    )
    .await;
    let (_, client) = signed_in(&app, "dev-deployer").await;
    let (status, body) = create(&client, &app, "feat-stuck").await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let a = app
        .services
        .storage
        .get_action(action_id(&body))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.state, greenroom::storage::ActionState::Running, "{a:?}");
    let states: Vec<String> = greenroom::actions::progress_of(&a)
        .into_iter()
        .map(|p| p.state)
        .collect();
    assert!(
        states
            .iter()
            .any(|s| s.starts_with("Creating its database")),
        "{states:?}"
    );
    let html = page_when(&client, app.url("/branches"), |h| {
        h.contains("data-branch=\"feat-stuck\"")
    })
    .await;
    assert!(article(&html, "feat-stuck").contains("data-phase=\"in progress\""));
    // A second request for the same branch is the same operation.
    let (_, again) = create(&client, &app, "feat-stuck").await;
    assert_eq!(action_id(&again), a.id);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_never_came_is_found_by_name_and_followed() {
    let app = spawn_with(&format!("vendor_timeout_ms = 1500\n{WATCHING}")).await;
    app.synced().await;
    sandbox_post(&app, "/__sandbox/clock", serde_json::json!({"pace": 0.01})).await;
    // Supabase makes the branch, but its answer never arrives.
    sandbox_post(
        &app,
        "/__sandbox/faults",
        serde_json::json!({"route": "POST /supabase/v1/projects/*", "kind": "apply_then_hang", "ms": 5000, "count": 1}),
    )
    .await;
    let (_, client) = signed_in(&app, "dev-deployer").await;
    let (status, body) = create(&client, &app, "feat-hung").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["action"]["state"], "unknown",
        "not called done or failed: {body}"
    );
    let a = ended(&app, action_id(&body)).await;
    assert_eq!(a.state, greenroom::storage::ActionState::Succeeded, "{a:?}");
    let row = audit(&app)
        .await
        .into_iter()
        .find(|e| e.action == "branch.create")
        .unwrap();
    assert_eq!(row.outcome, greenroom::storage::AuditOutcome::Succeeded);
    app.stop().await;
}
