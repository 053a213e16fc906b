//! The secret coverage page through a whole server: canary values planted
//! in every store of the sandbox and in an uploaded `.env.local` never come
//! back from any page, fragment or API, as any role, nor reach the logs,
//! the database file or Slack; a viewer sees the matrix without the admin's
//! forms; an admin's dismissal is audited, shown and undone.

mod support;

use base64::Engine;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use support::*;

const QUIET_SYNC: &str = "page_cache_ms = 0\n[sync]\ninterval_secs = 3600\nwatch_interval_ms = 60000\n\n[auth]\nsign_in_attempts_per_minute = 1000\n";

/// Everything the server logs, kept in memory for the test to read.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The seeded world with a distinct canary as every value a vendor holds
/// (Netlify variables in every context, secret or not; GitHub variables).
/// Returns the world file and the canaries.
async fn planted_world(dir: &std::path::Path) -> (std::path::PathBuf, Vec<String>) {
    let mut world = greenroom_sandbox::World::seeded(1);
    let sb = greenroom_sandbox::start("127.0.0.1:0".parse().unwrap(), world.clone())
        .await
        .unwrap();
    let (mut env, mut variables, mut files) = {
        let sim = sb.state.sim.lock().unwrap();
        (sim.env.clone(), sim.variables.clone(), sim.files.clone())
    };
    sb.stop().await;
    let mut canaries = Vec::new();
    let mut plant = |n: usize| {
        let c = format!("grcanary{n:03}q7v{}", 1000 + n * 37);
        canaries.push(c.clone());
        c
    };
    let mut n = 0;
    for var in &mut env {
        for v in &mut var.values {
            n += 1;
            v.value = plant(n);
        }
    }
    for v in &mut variables {
        n += 1;
        v.value = plant(n);
    }
    // The repository's files hold values too: netlify.toml's context
    // environments and .env.example's samples.
    for f in &mut files {
        let planted: Vec<(String, String)> = match f.path.as_str() {
            "netlify.toml" => ["production", "staging", "preview"]
                .iter()
                .map(|v| {
                    (
                        format!("VITE_RUNTIME_ENV = \"{v}\""),
                        format!("VITE_RUNTIME_ENV = \"{}\"", {
                            n += 1;
                            plant(n)
                        }),
                    )
                })
                .collect(),
            ".env.example" => vec![
                (
                    "VITE_RUNTIME_ENV=development".into(),
                    format!("VITE_RUNTIME_ENV={}", {
                        n += 1;
                        plant(n)
                    }),
                ),
                (
                    "OPENAI_API_KEY=".into(),
                    format!("OPENAI_API_KEY={}", {
                        n += 1;
                        plant(n)
                    }),
                ),
            ],
            _ => vec![],
        };
        for (from, to) in planted {
            assert!(f.content.contains(&from), "{} holds {from}", f.path);
            f.content = f.content.replacen(&from, &to, 1);
        }
    }
    world.netlify.env = Some(env);
    world.github.variables = Some(variables);
    world.github.files = Some(files);
    let file = dir.join("world.json");
    std::fs::write(&file, serde_json::to_string(&world).unwrap()).unwrap();
    (file, canaries)
}

/// Every form a value could leak in.
fn forms(v: &str) -> Vec<String> {
    vec![
        v.to_string(),
        base64::engine::general_purpose::STANDARD.encode(v),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v),
        url::form_urlencoded::byte_serialize(v.as_bytes()).collect(),
        serde_json::to_string(v)
            .unwrap()
            .trim_matches('"')
            .to_string(),
    ]
}

fn assert_clean(what: &str, text: &[u8], canaries: &[String]) {
    let text = String::from_utf8_lossy(text);
    for c in canaries {
        for f in forms(c) {
            assert!(!text.contains(&f), "a planted value ({c}) is in {what}");
        }
    }
}

/// Posts the secrets page's upload form (`file`: the `.env.local`, if any).
async fn post_upload(
    client: &reqwest::Client,
    app: &TestApp,
    file: Option<String>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("project", "AllIncompassing");
    if let Some(text) = file {
        form = form.part(
            "env_local",
            reqwest::multipart::Part::text(text).file_name(".env.local"),
        );
    }
    client
        .post(app.url("/secrets"))
        .header("origin", app.origin())
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn planted_values_never_leave_greenroom_whoever_looks() {
    let logs = Logs::default();
    let sink = logs.clone();
    let _ = tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let (world, mut canaries) = planted_world(dir.path()).await;
    // Read by the server at start; each test runs in its own process.
    std::env::set_var("GREENROOM_SANDBOX_WORLD", &world);
    let app = spawn_with(QUIET_SYNC).await;
    app.synced().await;
    // The vendors do hand Greenroom the planted values: what is checked
    // below is that they go no further.
    let world_now: Value = reqwest::get(format!("{}/__sandbox/world", app.sandbox()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let vendor_answer = reqwest::Client::new()
        .get(format!(
            "{}/netlify/api/v1/accounts/{}/env?site_id={}",
            app.sandbox(),
            world_now["netlify"]["account_slug"].as_str().unwrap(),
            world_now["netlify"]["staging_site_id"].as_str().unwrap()
        ))
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        canaries.iter().any(|c| vendor_answer.contains(c)),
        "the sandbox serves planted values: {vendor_answer}"
    );
    let upload_canary = "grcanaryupload9x41";
    canaries.push(upload_canary.into());
    let env_local = format!(
        "SUPABASE_URL={upload_canary}\nDEFAULT_ORGANIZATION_ID=\"{upload_canary}\"\nSUPABASE_ANON_KEY='{upload_canary}'\n"
    );

    let gets: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(_, m)| *m == http::Method::GET)
        .map(|(p, _)| format!("{p}?project=AllIncompassing&query[project]=AllIncompassing"))
        .chain(
            [
                "/",
                "/secrets",
                "/secrets?problems=1",
                "/secrets?key=SUPABASE",
                "/history",
                "/activity",
                "/activity/export?format=json",
                "/history/export?format=csv",
            ]
            .map(String::from),
        )
        .collect();
    let mut seen = 0;
    for login in ["vera-viewer", "dev-deployer", "ada-admin"] {
        let (_, client) = signed_in(&app, login).await;
        let (status, _) = post_form(
            &client,
            &app,
            "/api/secrets/recheck",
            &[("project", "AllIncompassing")],
        )
        .await;
        assert_eq!(status, 200, "{login} may re-check");
        for path in &gets {
            let res = client.get(app.url(path)).send().await.unwrap();
            let body = res.bytes().await.unwrap();
            assert_clean(&format!("{path} as {login}"), &body, &canaries);
            seen += 1;
        }
        let (status, html) = post_form(
            &client,
            &app,
            "/api/fragments/secrets-env-local",
            &[("project", "AllIncompassing"), ("text", &env_local)],
        )
        .await;
        assert_eq!(status, 200, "{login}: the .env.local check");
        // The upload's own report (HTML in a JSON string): a .env.local
        // column, and the key the file lacks.
        let page: String = serde_json::from_str(&html).expect("a JSON string");
        assert!(page.contains(">.env.local</th>"), "a .env.local column");
        assert!(
            page.contains("data-finding=\"missing:SUPABASE_ACCESS_TOKEN:env-local\""),
            "the key the file lacks"
        );
        assert_clean(
            &format!("the .env.local check as {login}"),
            html.as_bytes(),
            &canaries,
        );
        // The page's own upload: a plain multipart post to /secrets,
        // answered with the page showing the comparison.
        let res = post_upload(&client, &app, Some(env_local.clone())).await;
        assert_eq!(res.status(), 200, "{login}: the page's upload");
        assert_eq!(
            res.headers()["cache-control"],
            "no-store",
            "a comparison is kept by no cache"
        );
        let page = res.text().await.unwrap();
        assert!(
            page.contains("data-testid=\"env-local-result\""),
            "{login}: compared"
        );
        assert!(
            page.contains("data-finding=\"missing:SUPABASE_ACCESS_TOKEN:env-local\""),
            "the page names the key the file lacks"
        );
        assert_clean(
            &format!("the page's upload as {login}"),
            page.as_bytes(),
            &canaries,
        );
        // Over 64 KiB: refused by name, with the stored check still shown.
        let big = format!("{env_local}{}", "#".repeat(70 * 1024));
        let res = post_upload(&client, &app, Some(big)).await;
        let page = res.text().await.unwrap();
        assert!(page.contains("larger than 64 KiB"), "too big is said");
        assert!(!page.contains("data-testid=\"env-local-result\""));
        assert!(
            page.contains("data-testid=\"secrets-matrix\""),
            "the stored check stays"
        );
        assert_clean(
            &format!("a too-big upload as {login}"),
            page.as_bytes(),
            &canaries,
        );
        // A line the parser refuses is named by number, never echoed.
        let (status, bad) = post_form(
            &client,
            &app,
            "/api/fragments/secrets-env-local",
            &[
                ("project", "AllIncompassing"),
                (
                    "text",
                    &format!("GOOD=1\nexport {upload_canary} nonsense\n"),
                ),
            ],
        )
        .await;
        assert_eq!(status, 200, "a bad line is a finding, not a failure");
        assert!(bad.contains(".env.local:2"), "the line is named");
        assert_clean(
            &format!("a bad .env.local as {login}"),
            bad.as_bytes(),
            &canaries,
        );
    }
    assert!(seen > 30, "the crawl covered the API ({seen} requests)");

    // The page's report is the stored one, and the stored one says what
    // the sandbox's gaps are, in letters and states.
    let (_, admin) = signed_in(&app, "ada-admin").await;
    let v = json_of(
        &admin,
        app.url("/api/secrets?query[project]=AllIncompassing"),
    )
    .await;
    assert!(v["checked_at_ms"].as_i64().is_some());
    assert!(v["rows"].as_array().unwrap().len() > 5);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"].as_str().unwrap().starts_with("missing:")));

    let slack: Value = reqwest::get(format!("{}/__sandbox/slack", app.sandbox()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_clean("Slack messages", slack.to_string().as_bytes(), &canaries);
    let data = app.stop_keeping_data().await;
    let files = walk(data.path());
    assert!(
        files.iter().any(|f| f.to_string_lossy().ends_with(".db")),
        "{files:?}"
    );
    for entry in files {
        // SQLite's -wal and -shm files go when the last connection closes.
        if let Ok(bytes) = std::fs::read(&entry) {
            assert_clean(&format!("{}", entry.display()), &bytes, &canaries);
        }
    }
    let logged = logs.0.lock().unwrap().clone();
    assert!(logged.len() > 1000, "the logs were captured");
    assert_clean("the logs", &logged, &canaries);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn a_viewer_sees_the_matrix_and_an_admin_dismisses_and_undoes() {
    let app = spawn_with(QUIET_SYNC).await;
    app.synced().await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let page = text_of(&viewer, app.url("/secrets?project=AllIncompassing")).await;
    assert!(
        page.contains("data-testid=\"secrets-matrix\""),
        "the matrix is on the page"
    );
    assert!(page.contains("SUPABASE_SERVICE_ROLE_KEY"));
    assert!(
        !page.contains("/api/secrets/dismiss"),
        "no dismiss form for a viewer"
    );
    // Signed out, the upload goes nowhere: to the sign-in page.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = post_upload(&anonymous, &app, None).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/sign-in"));
    // Signed in without a file: the page says what to do.
    let res = post_upload(&viewer, &app, None).await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Choose a .env.local to compare first."));
    let home = text_of(&viewer, app.url("/?project=AllIncompassing")).await;
    assert!(
        home.contains("data-testid=\"secret-findings\""),
        "the overview counts findings"
    );

    let (status, _) = post_form(
        &viewer,
        &app,
        "/api/secrets/dismiss",
        &[
            ("project", "AllIncompassing"),
            ("finding", "x"),
            ("reason", "no"),
        ],
    )
    .await;
    assert_eq!(status, 403, "only admins dismiss");

    let (admin_jar, admin) = signed_in(&app, "ada-admin").await;
    let before = json_of(
        &admin,
        app.url("/api/secrets?query[project]=AllIncompassing"),
    )
    .await;
    assert!(before["can_dismiss"].as_bool().unwrap());
    let open = before["open_findings"].as_u64().unwrap();
    let finding = before["findings"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = post_form(
        &admin,
        &app,
        "/api/secrets/dismiss",
        &[
            ("project", "AllIncompassing"),
            ("finding", &finding),
            ("reason", "   "),
        ],
    )
    .await;
    assert_eq!(status, 400, "a reason is required: {body}");
    let (status, body) = post_form(
        &admin,
        &app,
        "/api/secrets/dismiss",
        &[
            ("project", "AllIncompassing"),
            ("finding", &finding),
            ("reason", "rotating it today"),
            ("until", "2999-01-01"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let dismissal: i64 = body.trim().parse().unwrap();
    let (status, _) = post_form(
        &admin,
        &app,
        "/api/secrets/dismiss",
        &[
            ("project", "AllIncompassing"),
            ("finding", &finding),
            ("reason", "again"),
        ],
    )
    .await;
    assert_eq!(status, 409, "one active dismissal per finding");
    // The page's plain form: refused input comes back to the page, in the
    // address it is redirected to, for the page to show.
    let page_url = app.url("/secrets?project=AllIncompassing");
    let res = stepper(&admin_jar)
        .post(app.url("/api/secrets/dismiss"))
        .header("origin", app.origin())
        .header("referer", &page_url)
        .header("accept", "text/html")
        .form(&[
            ("project", "AllIncompassing"),
            ("finding", finding.as_str()),
            ("reason", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 302);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with(&page_url) && back.contains("__err="),
        "{back}"
    );
    let shown = text_of(&admin, back).await;
    assert!(
        shown.contains("Say why this finding is dismissed"),
        "the page shows why"
    );
    let after = json_of(
        &admin,
        app.url("/api/secrets?query[project]=AllIncompassing"),
    )
    .await;
    assert_eq!(after["open_findings"].as_u64().unwrap(), open - 1);
    let hidden = &after["dismissed"][0];
    assert_eq!(hidden["id"], finding.as_str());
    assert_eq!(hidden["dismissal"]["reason"], "rotating it today");
    assert_eq!(hidden["dismissal"]["by"], "ada-admin");
    let page = text_of(&viewer, app.url("/secrets?project=AllIncompassing")).await;
    assert!(page.contains("rotating it today"), "everyone sees why");
    assert!(!page.contains("undo-dismissal"), "only admins undo");

    // Filters: one key, problems only.
    let only = json_of(
        &admin,
        app.url("/api/secrets?query[project]=AllIncompassing&query[key]=supabase_url"),
    )
    .await;
    let keys: Vec<&str> = only["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k.contains("SUPABASE_URL")),
        "{keys:?}"
    );

    let (status, body) = post_form(
        &admin,
        &app,
        "/api/secrets/undo-dismissal",
        &[
            ("project", "AllIncompassing"),
            ("dismissal", &dismissal.to_string()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let undone = json_of(
        &admin,
        app.url("/api/secrets?query[project]=AllIncompassing"),
    )
    .await;
    assert_eq!(undone["open_findings"].as_u64().unwrap(), open);
    assert_eq!(undone["past_dismissals"][0]["undone_by"], "ada-admin");
    let actions: Vec<String> = audit(&app).await.into_iter().map(|e| e.action).collect();
    assert!(
        actions.contains(&"secrets.dismiss".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"secrets.undo-dismissal".to_string()),
        "{actions:?}"
    );
    app.stop().await;
}
