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

async fn synced(app: &TestApp) {
    let until = Instant::now() + Duration::from_secs(90);
    while app.services.ops.syncer.full_passes() == 0 {
        assert!(Instant::now() < until, "the first sync pass finishes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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
    synced(&app).await;
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
    let db = std::fs::read(app.data.path().join("greenroom.db")).unwrap_or_default();
    let wal = std::fs::read(app.data.path().join("greenroom.db-wal")).unwrap_or_default();
    for (what, text) in [
        ("the page", html.as_bytes()),
        ("the API", api.as_bytes()),
        ("the database", &db[..]),
        ("the database's WAL", &wal[..]),
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
    synced(&app).await;
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
    synced(&app).await;
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
