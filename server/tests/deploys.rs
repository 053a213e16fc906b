//! The deploy pages' API over real HTTP, with sync running against the
//! in-process sandbox: pages read the database (viewers cause no vendor
//! calls, one or fifty), the live stream, the CSV export, and the actions
//! through their endpoints, twenty at once.

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::{json_of, signed_in, spawn_with, status_of, text_of, TestApp};

/// Sync on, with a full pass at start and then none during the test unless
/// asked for: vendor traffic in a window is then only what viewers cause.
const QUIET_SYNC: &str = "[sync]\ninterval_secs = 3600\nwatch_interval_ms = 60000\n\n[auth]\nsign_in_attempts_per_minute = 1000\n";

async fn synced_app(toml: &str) -> TestApp {
    let app = spawn_with(toml).await;
    app.synced().await;
    app
}

/// The sandbox's own request log (and other control reads), over HTTP.
async fn sandbox_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn vendor_requests(app: &TestApp) -> usize {
    sandbox_json(&format!("{}/__sandbox/requests", app.sandbox()))
        .await
        .as_array()
        .map(Vec::len)
        .unwrap_or_default()
}

#[tokio::test]
async fn one_viewer_or_fifty_cause_no_vendor_calls_only_sync_does() {
    let app = synced_app(QUIET_SYNC).await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let pages = [
        "/api/overview?project=AllIncompassing",
        "/api/deploys",
        "/api/trends",
        "/",
        "/history",
    ];
    let before = vendor_requests(&app).await;
    for _ in 0..4 {
        for p in pages {
            let res = viewer.get(app.url(p)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{p}");
        }
    }
    let one = vendor_requests(&app).await - before;

    let mut viewers = Vec::new();
    for _ in 0..50 {
        viewers.push(signed_in(&app, "vera-viewer").await.1);
    }
    // Sign-ins talk to the sandbox's OAuth and membership endpoints; count
    // from here on.
    let before = vendor_requests(&app).await;
    let mut tasks = Vec::new();
    for v in viewers {
        let urls: Vec<String> = pages.iter().map(|p| app.url(p)).collect();
        tasks.push(tokio::spawn(async move {
            for u in urls {
                assert_eq!(v.get(&u).send().await.unwrap().status(), 200, "{u}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let fifty = vendor_requests(&app).await - before;
    assert_eq!((one, fifty), (0, 0), "pages read the database only");

    // Only a sync pass talks to the vendors (and the count above could see it).
    let before = vendor_requests(&app).await;
    app.services.ops.clone().syncer.sync_all().await;
    assert!(vendor_requests(&app).await > before);
    app.stop().await;
}

/// The most database calls each page may make for a signed-in person whose
/// session this instance has not seen in the last second (the first
/// number) and for one it has (the second). A page that grows past these
/// fails here: look at what it asks the database for before raising one.
const CALL_BUDGETS: &[(&str, u64, u64)] = &[
    ("/?project=AllIncompassing", 3, 2),
    ("/api/overview?project=AllIncompassing", 2, 1),
    ("/history", 2, 1),
    (
        "/history?project=AllIncompassing&site=staging&state=error",
        2,
        1,
    ),
    ("/api/deploys", 2, 1),
    ("/activity", 2, 1),
    ("DEPLOY", 5, 4),
];

/// A page read to its end: a streamed page is still rendering (and reading
/// the database) after its status line arrives.
async fn page(client: &reqwest::Client, url: String) {
    let res = client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    assert!(!res.text().await.unwrap().is_empty(), "{url}");
}

#[tokio::test]
async fn each_page_stays_within_its_count_of_database_calls() {
    let app = synced_app(&format!("page_cache_ms = 0\n{QUIET_SYNC}")).await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let o: Value = json_of(&viewer, app.url("/api/overview?project=AllIncompassing")).await;
    let d = &o["staging"]["deploy"];
    let deploy = format!(
        "/deploys/{}/{}",
        d["site_id"].as_str().unwrap(),
        d["deploy_id"].as_str().unwrap()
    );
    let storage = &app.services.storage;
    let mut seen = Vec::new();
    for (name, cold_budget, warm_budget) in CALL_BUDGETS {
        let path = if *name == "DEPLOY" {
            deploy.as_str()
        } else {
            name
        };
        // Once to fill what a first view of a filter computes, then after the
        // session has left this instance's memory (cold), then at once (warm).
        // The fewest of a few tries: background work that happens to share
        // the moment (a sync notice, say) is not the page's.
        assert_eq!(status_of(&viewer, app.url(path)).await, 200, "{path}");
        let (mut cold, mut warm) = (u64::MAX, u64::MAX);
        for _ in 0..2 {
            tokio::time::sleep(greenroom::storage::RECENT_FOR + Duration::from_millis(100)).await;
            let before = storage.calls();
            page(&viewer, app.url(path)).await;
            cold = cold.min(storage.calls() - before);
            for _ in 0..2 {
                let before = storage.calls();
                page(&viewer, app.url(path)).await;
                warm = warm.min(storage.calls() - before);
            }
        }
        seen.push(format!("{path}: {cold} cold, {warm} warm"));
        assert!(
            cold <= *cold_budget && warm <= *warm_budget,
            "{path} made {cold} database calls cold (budget {cold_budget}) and {warm} warm (budget {warm_budget}); all pages: {seen:?}"
        );
    }
    println!("database calls per page: {seen:#?}");
    app.stop().await;
}

#[tokio::test]
async fn a_server_rendered_page_that_cannot_be_read_keeps_its_heading() {
    let app = spawn_with(QUIET_SYNC).await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let page = text_of(&viewer, app.url("/runs/abc")).await;
    assert!(page.contains(">Workflow run</h1>"), "{page}");
    assert!(
        page.contains("a run&#x27;s address ends in its number")
            || page.contains("a run's address ends in its number")
    );
    let page = text_of(&viewer, app.url("/runs/987654321")).await;
    assert!(page.contains(">Workflow run</h1>"));
    assert!(page.contains("role=\"alert\""));
    app.stop().await;
}

#[tokio::test]
async fn the_overview_history_and_detail_endpoints_answer_from_the_cache() {
    let app = synced_app(QUIET_SYNC).await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let o: Value = json_of(&viewer, app.url("/api/overview?project=AllIncompassing")).await;
    assert_eq!(o["project"], "AllIncompassing");
    assert_eq!(o["can_act"], false, "a viewer gets no actions");
    let staging = &o["staging"]["deploy"];
    assert_eq!(staging["state"], "ready");
    assert_eq!(staging["site"], "staging");
    assert!(o["deploy_job"]["run_number"].as_i64().unwrap() > 0);
    assert!(o["mark"].as_i64().unwrap() > 0);

    // History: keyset pages without gaps or repeats, and a total.
    let page1: Value = json_of(
        &viewer,
        app.url("/api/deploys?query[project]=AllIncompassing&query[site]=staging"),
    )
    .await;
    let rows = page1["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 50);
    let next = page1["next"].as_str().unwrap();
    let page2: Value = json_of(
        &viewer,
        app.url(&format!(
            "/api/deploys?query[project]=AllIncompassing&query[site]=staging&query[after]={next}"
        )),
    )
    .await;
    let first_of_2 = &page2["rows"][0];
    let last_of_1 = &rows[49];
    assert!(
        first_of_2["created_at_ms"].as_i64() <= last_of_1["created_at_ms"].as_i64()
            && first_of_2["deploy_id"] != last_of_1["deploy_id"]
    );
    let bad = viewer
        .get(app.url("/api/deploys?query[from]=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("not a date"));

    // A deploy's page data, with its run, jobs and steps.
    let d: Value = json_of(
        &viewer,
        app.url(&format!(
            "/api/deploy?site={}&id={}",
            staging["site_id"].as_str().unwrap(),
            staging["deploy_id"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(d["live"], true);
    assert!(!d["run"]["jobs"].as_array().unwrap().is_empty());
    let missing = viewer
        .get(app.url("/api/deploy?site=nope&id=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Trends of the filtered set.
    let t: Value = json_of(
        &viewer,
        app.url("/api/trends?query[project]=AllIncompassing"),
    )
    .await;
    assert!(
        t["weeks"].as_array().unwrap().len() >= 50,
        "a year of weeks"
    );
    assert!(t["total"]["failed"].as_u64().unwrap() > 0);

    // The pages themselves render on the server with the data.
    let html = text_of(&viewer, app.url("/")).await;
    assert!(html.contains("data-testid=\"live-staging\""), "{html}");
    assert!(
        !html.contains("data-testid=\"actions\""),
        "no action buttons for a viewer"
    );
    let html = text_of(&viewer, app.url("/history")).await;
    assert!(html.contains("data-testid=\"history-table\"") && html.contains("<svg"));
    // A filter that cannot be used keeps the form, with what was typed.
    let html = text_of(&viewer, app.url("/history?from=yesterday")).await;
    assert!(html.contains("data-testid=\"history-invalid\""), "{html}");
    assert!(html.contains("value=\"yesterday\""), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn the_csv_export_holds_exactly_the_filtered_deploys() {
    let app = synced_app(QUIET_SYNC).await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let res =
        viewer
            .get(app.url(
                "/history/export?format=csv&project=AllIncompassing&site=production&state=ready",
            ))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("greenroom-deploys.csv"));
    let text = res.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("project,site,deploy_id,"));
    let rows: Vec<&str> = lines.collect();
    let page: Value = json_of(
        &viewer,
        app.url(
            "/api/deploys?query[project]=AllIncompassing&query[site]=production&query[state]=ready",
        ),
    )
    .await;
    assert_eq!(rows.len() as i64, page["total"].as_i64().unwrap());
    assert!(rows
        .iter()
        .all(|r| r.starts_with("AllIncompassing,production,") && r.contains(",ready,")));
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = anonymous
        .get(app.url("/history/export?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signed-in people only");
    app.stop().await;
}

/// Browsers ask for compressed answers; a streamed export must still reach
/// its end through the compression layer (it once panicked there and the
/// download was cut off).
#[tokio::test]
async fn exports_compressed_for_a_browser_arrive_whole() {
    let app = synced_app(QUIET_SYNC).await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    for path in [
        "/history/export?format=csv",
        "/activity/export?format=csv",
        "/activity/export?format=json&action=sessions_end_all",
    ] {
        for encoding in ["br", "gzip"] {
            let res = viewer
                .get(app.url(path))
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path} {encoding}");
            assert_eq!(res.headers()["content-encoding"], encoding, "{path}");
            let body = res.bytes().await;
            assert!(
                body.as_ref().is_ok_and(|b| !b.is_empty()),
                "{path} with {encoding} was cut off: {body:?}"
            );
        }
    }
    // The server is still there for the next request.
    let res = viewer.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_redeploys_over_http_make_one_upstream_call() {
    let app = synced_app(QUIET_SYNC).await;
    let (_, deployer) = signed_in(&app, "dev-deployer").await;
    let plan: Value = json_of(
        &deployer,
        app.url("/api/actions/plan?project=AllIncompassing&kind=redeploy-last-good"),
    )
    .await;
    assert!(plan["blocked"].is_null(), "{plan}");
    assert!(plan["target"]["deploy_id"].is_string() && plan["replaces"]["deploy_id"].is_string());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (c, url, origin) = (
            deployer.clone(),
            app.url("/api/actions/start"),
            app.origin(),
        );
        tasks.push(tokio::spawn(async move {
            let res = c
                .post(url)
                .header("origin", origin)
                .form(&[
                    ("project", "AllIncompassing"),
                    ("kind", "redeploy-last-good"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let started = answers
        .iter()
        .filter(|a| a["already_under_way"] == false)
        .count();
    assert_eq!(started, 1, "{answers:?}");
    let log = sandbox_json(&format!("{}/__sandbox/requests?method=POST", app.sandbox())).await;
    let restores = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/restore"))
        .count();
    assert_eq!(restores, 1, "exactly one upstream call");
    // Followed to the end; the action endpoint shows it.
    let id = answers[0]["action"]["id"].as_i64().unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let a: Value = json_of(&deployer, app.url(&format!("/api/action?id={id}"))).await;
        if a["state"] == "succeeded" {
            break;
        }
        assert!(Instant::now() < until, "{a}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The audit row names where the request came from, and its bounded id.
    let audit = app
        .services
        .storage
        .list_audit(
            &greenroom::storage::AuditFilter {
                action: Some("action.redeploy-last-good".into()),
                ..Default::default()
            },
            None,
            1,
        )
        .await
        .unwrap()
        .remove(0);
    assert_eq!(audit.client_ip.as_deref(), Some("127.0.0.1"), "{audit:?}");
    assert!(
        audit
            .request_id
            .as_deref()
            .is_some_and(|r| !r.is_empty() && r.len() <= 64),
        "{audit:?}"
    );
    // A viewer may not start one (and is audited as refused by the guard).
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let res = viewer
        .post(app.url("/api/actions/start"))
        .header("origin", app.origin())
        .form(&[
            ("project", "AllIncompassing"),
            ("kind", "redeploy-last-good"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn live_streams_are_bounded_per_person_and_come_back_when_closed() {
    let app = spawn_with(
        "[sync]\nenabled = false\n\n[limits]\nlive_streams_per_person = 2\nlive_streams_at_once = 3\n",
    )
    .await;
    let (_, vera) = signed_in(&app, "vera-viewer").await;
    let (_, dev) = signed_in(&app, "dev-deployer").await;
    let (_, ada) = signed_in(&app, "ada-admin").await;
    let url = app.url("/api/live?project=AllIncompassing&since=0");
    let first = vera.get(&url).send().await.unwrap();
    let second = vera.get(&url).send().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = vera.get(&url).send().await.unwrap();
    assert_eq!(third.status(), 429, "a third tab of one person");
    assert_eq!(third.headers()["retry-after"], "5");
    assert!(third
        .text()
        .await
        .unwrap()
        .contains("You already have 2 live views"));
    let devs = dev.get(&url).send().await.unwrap();
    assert_eq!(devs.status(), 200, "someone else is not held back by vera");
    let full = ada.get(&url).send().await.unwrap();
    assert_eq!(full.status(), 429, "three at once on the instance");
    assert!(full.text().await.unwrap().contains("Too many live views"));
    // A closed tab gives its place back (the server notices by the next
    // keep-alive at the latest).
    drop(first);
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let again = vera.get(&url).send().await.unwrap();
        if again.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < until,
            "the closed stream's place comes back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop((second, devs));
    app.stop().await;
}

#[tokio::test]
async fn the_live_stream_announces_a_change_within_two_seconds() {
    let app = synced_app("[sync]\ninterval_secs = 3600\nwatch_interval_ms = 500\n").await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let o: Value = json_of(&viewer, app.url("/api/overview?project=AllIncompassing")).await;
    let mark = o["mark"].as_i64().unwrap();
    let first = viewer
        .get(app.url(&format!("/api/live?project=AllIncompassing&since={mark}")))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "text/event-stream");
    drop(first);
    // Upstream, outside Greenroom, someone starts the deploy job; a pass
    // sees the run and its staging deploy in progress.
    let sandbox = app.sandbox();
    let client = reqwest::Client::new();
    let dispatched = client
        .post(format!(
            "{sandbox}/github/repos/allincompassing/allincompassing/actions/workflows/ci.yml/dispatches"
        ))
        .bearer_auth("someone-else")
        .json(&serde_json::json!({"ref": "develop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dispatched.status(), 204);
    let ops = app.services.ops.clone();
    ops.syncer.sync_all().await;
    let mark = app.services.storage.global_change_mark().await.unwrap();
    let mut res = viewer
        .get(app.url(&format!("/api/live?project=AllIncompassing&since={mark}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Then its state changes upstream: the clock moves ten minutes on.
    let moved = client
        .post(format!("{sandbox}/__sandbox/clock"))
        .json(&serde_json::json!({"advance_ms": 600_000}))
        .send()
        .await
        .unwrap();
    assert!(moved.status().is_success());
    let at = Instant::now();
    let chunk = tokio::time::timeout(Duration::from_secs(2), res.chunk())
        .await
        .expect("an event within 2 s")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&chunk).to_string();
    let new_mark: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(new_mark > mark, "{text}");
    assert!(at.elapsed() < Duration::from_secs(2));
    let unknown = viewer
        .get(app.url("/api/live?project=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}
