//! The whole server on a free loopback port with a fresh SQLite file, checked
//! over real HTTP: health, readiness, pages, server functions, shutdown.

use greenroom::config::{Credentials, Overrides};
use greenroom::Config;
use greenroom_server::Application;

mod support;

use support::{spawn_with, text_of, TestApp};

async fn spawn_app() -> TestApp {
    spawn_with("").await
}

/// A client signed in as `login` that follows redirects.
async fn signed_in(app: &TestApp, login: &str) -> reqwest::Client {
    support::signed_in(app, login).await.1
}

async fn get_json(url: String) -> serde_json::Value {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn healthz_answers_json_while_the_process_is_up() {
    let app = spawn_app().await;
    let res = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], greenroom::VERSION);
    app.stop().await;
}

#[tokio::test]
async fn readyz_reports_the_database_and_its_migrations() {
    let app = spawn_app().await;
    let res = client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["mode"], "sandbox");
    assert_eq!(body["database"]["reachable"], true);
    assert_eq!(
        body["database"]["migrations_applied"],
        body["database"]["migrations_expected"]
    );
    // Where the database is and which one: for admins only.
    assert!(body["database"].get("backend").is_none(), "{body}");
    assert!(body["database"].get("location").is_none(), "{body}");
    for (who, shown) in [("vera-viewer", false), ("ada-admin", true)] {
        let body: serde_json::Value = signed_in(&app, who)
            .await
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            body["database"].get("backend").is_some(),
            shown,
            "{who}: {body}"
        );
        if shown {
            assert_eq!(body["database"]["backend"], "sqlite");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_503_when_a_migration_is_missing() {
    let app = spawn_app().await;
    // Simulate a database another version rolled back: forget one applied migration.
    let db = app.services.config.database_url.clone();
    let pool = sqlx_sqlite_pool(&db).await;
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&pool)
        .await
        .unwrap();
    let res = client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["database"]["migrations_applied"], 0);
    app.stop().await;
}

async fn sqlx_sqlite_pool(url: &str) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(url).await.unwrap()
}

#[tokio::test]
async fn the_home_page_renders_on_the_server_with_the_sandbox_banner() {
    let app = spawn_app().await;
    let res = signed_in(&app, "vera-viewer")
        .await
        .get(app.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("data-testid=\"sandbox-banner\""),
        "banner missing"
    );
    assert!(html.contains("Everything shown here is simulated"));
    assert!(html.contains(">Greenroom<") || html.contains("Greenroom</a>"));
    assert!(html.contains("AllIncompassing"), "sandbox project shown");
    assert!(html.contains("deploy-staging"));
    assert!(
        html.contains("/pkg/greenroom"),
        "hydration scripts are linked"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let app = spawn_app().await;
    let res = signed_in(&app, "vera-viewer")
        .await
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("This page does not exist"), "{html}");
    assert!(
        html.contains("data-testid=\"sandbox-banner\""),
        "the banner is on every page"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_status_server_function_is_a_stable_json_endpoint() {
    let app = spawn_app().await;
    let viewer = signed_in(&app, "vera-viewer").await;
    let res = viewer.get(app.url("/api/status")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["sandbox"], true);
    assert_eq!(body["database_backend"], "SQLite");
    let shell: serde_json::Value = viewer
        .get(app.url("/api/shell"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shell["projects"][0]["name"], "AllIncompassing");
    assert_eq!(shell["user"]["login"], "vera-viewer");
    let anonymous: serde_json::Value = get_json(app.url("/api/shell")).await;
    assert_eq!(
        anonymous["projects"],
        serde_json::json!([]),
        "projects only for the signed-in"
    );
    app.stop().await;
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let res = client()
        .get(app.url("/sign-in"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("br")
    );
    app.stop().await;
}

#[tokio::test]
async fn pkg_assets_are_served_with_a_cache_policy() {
    let app = spawn_app().await;
    let res = client()
        .get(app.url("/pkg/greenroom.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The test binary has no hash.txt beside it, so names are not hashed: revalidate.
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let res = client().get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_missing_site_folder_is_a_clear_startup_error() {
    let data = tempfile::tempdir().unwrap();
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data.path().to_path_buf()),
        site_dir: Some(data.path().join("nowhere")),
        log_format: None,
    };
    let config = Config::load_with(None, &overrides, Credentials::default()).unwrap();
    let err = Application::build(config).await.err().expect("must fail");
    let text = err.to_string();
    assert!(
        text.contains("site assets not found") && text.contains("nowhere"),
        "{text}"
    );
    assert!(text.contains("cargo leptos build --release"), "{text}");
}

#[tokio::test]
async fn shutdown_finishes_and_releases_the_port() {
    let app = spawn_app().await;
    let addr = app.addr;
    app.stop().await;
    let err = client().get(format!("http://{addr}/healthz")).send().await;
    assert!(err.is_err(), "nothing answers after shutdown");
}

#[tokio::test]
async fn anonymous_pages_are_served_from_the_page_cache_within_its_lifetime() {
    let app = spawn_app().await;
    let first = client().get(app.url("/sign-in")).send().await.unwrap();
    assert!(
        first.headers().get("x-greenroom-cache").is_none(),
        "the first view renders"
    );
    let nonce = |r: &reqwest::Response| {
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        csp.split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_string()
    };
    let first_nonce = nonce(&first);
    let first_body = first.text().await.unwrap();
    let second = client().get(app.url("/sign-in")).send().await.unwrap();
    assert_eq!(second.headers()["x-greenroom-cache"], "hit");
    let second_nonce = nonce(&second);
    assert_ne!(first_nonce, second_nonce);
    // The same page, its scripts given this response's nonce.
    assert_eq!(
        second.text().await.unwrap(),
        first_body.replace(
            &format!("nonce=\"{first_nonce}\""),
            &format!("nonce=\"{second_nonce}\"")
        )
    );
    // Other query strings, requests with cookies and 404s are not served from it.
    let other = client()
        .get(app.url("/sign-in?next=/activity"))
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("x-greenroom-cache").is_none());
    let with_cookie = client()
        .get(app.url("/sign-in"))
        .header("cookie", "a=b")
        .send()
        .await
        .unwrap();
    assert!(with_cookie.headers().get("x-greenroom-cache").is_none());
    // Anonymous views of other pages are sent to sign in, never cached.
    let no_follow = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..2 {
        let missing = no_follow.get(app.url("/missing")).send().await.unwrap();
        assert_eq!(missing.status(), 303);
        assert_eq!(missing.headers()["location"], "/sign-in?next=%2Fmissing");
        assert!(missing.headers().get("x-greenroom-cache").is_none());
    }
    // After the lifetime (1 s by default) the page is rendered again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let later = client().get(app.url("/sign-in")).send().await.unwrap();
    assert!(later.headers().get("x-greenroom-cache").is_none());
    app.stop().await;
}

#[tokio::test]
async fn sandbox_mode_starts_the_sandbox_in_process_and_stops_it_with_the_server() {
    let app = spawn_app().await;
    let status: serde_json::Value = signed_in(&app, "ada-admin")
        .await
        .get(app.url("/api/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sandbox = status["sandbox_url"]
        .as_str()
        .expect("sandbox URL reported")
        .to_string();
    assert!(sandbox.starts_with("http://127.0.0.1:"), "{sandbox}");
    let world: serde_json::Value = get_json(format!("{sandbox}/__sandbox/world")).await;
    // The default project and the sandbox's world name the same things.
    let project = greenroom::config::sandbox_project();
    assert_eq!(
        world["netlify"]["staging_site_id"],
        project.netlify.staging_site_id.as_str()
    );
    assert_eq!(
        world["netlify"]["production_site_id"],
        project.netlify.production_site_id.as_str()
    );
    assert_eq!(
        world["netlify"]["account_slug"],
        project.netlify.account_slug
    );
    assert_eq!(
        format!(
            "{}/{}",
            world["github"]["owner"].as_str().unwrap(),
            world["github"]["repo"].as_str().unwrap()
        ),
        project.github.repo.as_str()
    );
    assert_eq!(world["github"]["workflow"], project.github.workflow);
    assert_eq!(
        world["supabase"]["project_ref"],
        project.supabase.unwrap().project_ref
    );
    let html = text_of(&signed_in(&app, "vera-viewer").await, app.url("/")).await;
    assert!(
        html.contains(&sandbox),
        "the status panel shows the sandbox URL"
    );
    app.stop().await;
    assert!(
        client()
            .get(format!("{sandbox}/__sandbox/world"))
            .send()
            .await
            .is_err(),
        "sandbox stopped"
    );
}

#[tokio::test]
async fn every_response_carries_a_bounded_request_id() {
    let app = spawn_app().await;
    let id_of = |res: &reqwest::Response| {
        res.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string())
    };
    let res = client().get(app.url("/healthz")).send().await.unwrap();
    let fresh = id_of(&res).expect("an id is set");
    assert!(!fresh.is_empty() && fresh.len() <= 64, "{fresh}");
    let res = client()
        .get(app.url("/healthz"))
        .header("x-request-id", "deploy-script-42")
        .send()
        .await
        .unwrap();
    assert_eq!(
        id_of(&res).as_deref(),
        Some("deploy-script-42"),
        "a plain id is kept"
    );
    let long = "x".repeat(5000);
    for bad in [long.as_str(), "<!channel>", "two words"] {
        let res = client()
            .get(app.url("/healthz"))
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let id = id_of(&res).unwrap();
        assert!(id != bad && id.len() <= 64, "{bad:.20} became {id}");
    }
    app.stop().await;
}
