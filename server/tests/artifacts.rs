//! A run's artifacts through a whole server and the sandbox: listed on the
//! run page with expired ones marked; opened once for everyone (one
//! download, cached under the data directory); test reports with failures
//! first and their screenshot; logs escaped, coloured and masked, a page at
//! a time; images served only as sniffed images, HTML only as a download,
//! every file with nosniff and a sandbox policy; each hostile archive
//! refused naming its rule; an expired or forbidden artifact said in words.

mod support;

use serde_json::{json, Value};
use support::*;

const SYNCED: &str = "page_cache_ms = 0\n[sync]\ninterval_secs = 3600\nwatch_interval_ms = 60000\n\n[auth]\nsign_in_attempts_per_minute = 1000\n";

async fn sandbox_json(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The page as text a person reads (entities back to characters).
async fn page(client: &reqwest::Client, url: String) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res
        .text()
        .await
        .unwrap()
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    (status, text)
}

/// A seeded run Greenroom has synced whose smoke artifact is still kept:
/// (run id, artifact id, whether its smoke passed).
async fn live_artifact(app: &TestApp, smoke_passed: bool) -> (i64, u64) {
    let world = sandbox_json(format!("{}/__sandbox/world?full=true", app.sandbox())).await;
    let now = sandbox_json(format!("{}/__sandbox/clock", app.sandbox())).await["now_ms"]
        .as_i64()
        .unwrap();
    let mut runs: Vec<&Value> = world["github"]["runs"].as_array().unwrap().iter().collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r["id"].as_u64()));
    for r in runs {
        let id = r["id"].as_i64().unwrap();
        for a in r["artifacts"].as_array().into_iter().flatten() {
            let kept =
                a["expires_ms"].as_i64().unwrap() > now && a["created_ms"].as_i64().unwrap() <= now;
            if kept
                && a["smoke_passed"].as_bool() == Some(smoke_passed)
                && app.services.storage.get_run(id).await.unwrap().is_some()
            {
                return (id, a["id"].as_u64().unwrap());
            }
        }
    }
    panic!("the sandbox has a synced run with a kept artifact (smoke passed: {smoke_passed})");
}

async fn plant(app: &TestApp, run_id: i64, shape: &str, expired: bool) -> u64 {
    let res = reqwest::Client::new()
        .post(format!("{}/__sandbox/artifacts", app.sandbox()))
        .json(&json!({ "run_id": run_id, "shape": shape, "expired": expired }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
}

/// A fresh smoke artifact of run `run_id` whose download GitHub answers
/// with `status`.
async fn plant_refused(app: &TestApp, run_id: i64, status: u16) -> u64 {
    let id = plant(app, run_id, "smoke", false).await;
    // A run's list is read again at most once a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let route = format!("GET /github/repos/*/actions/artifacts/{id}/zip");
    reqwest::Client::new()
        .post(format!("{}/__sandbox/faults", app.sandbox()))
        .json(&json!({ "route": route, "kind": "status", "status": status }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    id
}

/// How many times the sandbox served artifact `id`'s zip.
async fn downloads_of(app: &TestApp, id: u64) -> usize {
    let log = sandbox_json(format!(
        "{}/__sandbox/requests?path=/github/_downloads/artifacts/{id}",
        app.sandbox()
    ))
    .await;
    log.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str() == Some(&format!("/github/_downloads/artifacts/{id}")))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_smoke_run_opens_in_greenroom_once_for_everyone() {
    let app = spawn_with(SYNCED).await;
    app.synced().await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    let (run, artifact) = live_artifact(&app, false).await;

    // The run page lists it, with a link to open it.
    let (status, html) = page(&client, app.url(&format!("/runs/{run}"))).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-testid=\"run-artifacts\""), "{html}");
    let href = format!("/runs/{run}/artifacts/{artifact}");
    assert!(
        html.contains(&href),
        "the run page links the artifact: {html}"
    );
    assert!(
        html.contains(&format!("/runs/{run}/jobs/")),
        "job logs are linked"
    );
    // Its test results in a line, read from the artifact.
    assert!(html.contains("Tests: 1 of 9 failed: "), "{html}");
    // The overview shows the latest run's results, which sync read.
    let (_, home) = page(&client, app.url("/?project=AllIncompassing")).await;
    assert!(home.contains("data-testid=\"test-results\""), "{home}");

    // Five people open it at once: one download serves them all.
    let opens = (0..5).map(|_| page(&client, app.url(&href)));
    let pages = futures_util::future::join_all(opens).await;
    for (status, html) in &pages {
        assert_eq!(*status, 200, "{html}");
    }
    let html = &pages[0].1;
    assert_eq!(downloads_of(&app, artifact).await, 1, "one download");
    let cached: Vec<_> = std::fs::read_dir(app.data.path().join("artifacts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        cached
            .iter()
            .any(|n| n.ends_with(&format!("+{artifact}.zip"))),
        "cached under the data directory: {cached:?}"
    );

    // Failures first, with the message, and the screenshot it refers to.
    assert!(html.contains("1 of 9 tests failed."), "{html}");
    let first_case = html.find("data-testid=\"test-case\"").unwrap();
    assert!(
        html[first_case..first_case + 200].contains("data-outcome=\"failed\""),
        "the failing case comes first"
    );
    assert!(html.contains("expected status 200, got 500"), "{html}");
    assert!(
        html.contains("Attachment screenshots/dashboard.png"),
        "{html}"
    );
    // Both reports are read: the smoke one and the Vitest-style unit one.
    assert!(
        html.contains("Test report reports/unit/junit.xml"),
        "{html}"
    );
    assert!(html.contains("1 skipped"), "{html}");
    let shot = format!("{href}/raw?path=screenshots%2Fdashboard.png");
    assert!(
        html.contains(&shot),
        "the screenshot is shown inline: {html}"
    );
    assert!(html.contains("playwright-report/index.html"), "{html}");

    // The image is served as what its bytes are, never sniffed further.
    let res = client.get(app.url(&shot)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert!(res.bytes().await.unwrap().starts_with(b"\x89PNG"));

    // The HTML report is a download, never a page of Greenroom.
    let res = client
        .get(app.url(&format!("{href}/raw?path=playwright-report%2Findex.html")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));

    // The organization id the smoke test printed: a value Greenroom can
    // read from Netlify, so never shown (nor is any other it reads).
    let world = sandbox_json(format!("{}/__sandbox/world?full=true", app.sandbox())).await;
    let org = world["netlify"]["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["key"] == "DEFAULT_ORGANIZATION_ID")
        .flat_map(|v| v["values"].as_array().unwrap().iter())
        .find(|v| v["context"] == "branch-deploy")
        .and_then(|v| v["value"].as_str())
        .expect("the sandbox's staging organization id")
        .to_string();
    assert!(org.len() > 10, "{org}");

    // The smoke log: escaped, coloured, and its anon key masked.
    let (status, log) = page(&client, app.url(&format!("{href}?file=smoke.log"))).await;
    assert_eq!(status, 200, "{log}");
    assert!(log.contains("data-testid=\"log\""), "{log}");
    assert!(
        log.contains("text-red-700"),
        "the failing mark is red: {log}"
    );
    assert!(log.contains("(masked)"), "{log}");
    assert!(
        !log.contains("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"),
        "the JWT is masked"
    );
    assert!(!log.contains('\u{1b}'), "no raw escapes reach the page");
    assert!(log.contains("> organization: "), "{log}");
    assert!(!log.contains(&org), "a value read from Netlify is masked");
    // As a download too, masked.
    let text = text_of(&client, app.url(&format!("{href}/raw?path=smoke.log"))).await;
    assert!(text.contains("playwright test smoke/"), "{text}");
    assert!(
        !text.contains("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"),
        "{text}"
    );
    assert!(!text.contains(&org) && !text.contains('\u{1b}'), "{text}");
    // The HTML report downloads as text with the same masking.
    let report = text_of(
        &client,
        app.url(&format!("{href}/raw?path=playwright-report%2Findex.html")),
    )
    .await;
    assert!(report.contains("Playwright report"), "{report}");

    // A file the artifact does not have.
    let (_, missing) = page(&client, app.url(&format!("{href}?file=nope.log"))).await;
    assert!(
        missing.contains("The artifact has no text file \"nope.log\""),
        "{missing}"
    );
    assert_eq!(
        status_of(&client, app.url(&format!("{href}/raw?path=nope.png"))).await,
        404
    );
    // Someone not signed in is sent to sign in.
    let anonymous = stepper(&std::sync::Arc::new(reqwest::cookie::Jar::default()));
    let res = anonymous.get(app.url(&shot)).send().await.unwrap();
    assert_eq!(res.status(), 303, "redirected to sign in");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_log_is_shown_masked_and_an_unknown_page_is_clamped() {
    let app = spawn_with(SYNCED).await;
    app.synced().await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    let (run, _) = live_artifact(&app, true).await;
    let jobs = app.services.storage.jobs_of_run(run).await.unwrap();
    let job = &jobs[0];
    let (status, html) = page(
        &client,
        app.url(&format!("/runs/{run}/jobs/{}/log?page=99", job.job_id)),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&format!("Log of job {}", job.name)), "{html}");
    assert!(
        html.contains("##[group]Run"),
        "the log's lines are shown: {html}"
    );
    assert!(html.contains("data-line=\"1\""), "one page: clamped to it");
    let (status, html) = page(&client, app.url(&format!("/runs/{run}/jobs/1/log"))).await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("has no job 1"), "{html}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_expired_and_forbidden_artifacts_are_refused_in_words() {
    let app = spawn_with(SYNCED).await;
    app.synced().await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    let (run, _) = live_artifact(&app, true).await;

    for (shape, rule) in [
        ("zip-slip", "has a path outside the archive"),
        ("symlink", "is a symbolic link"),
        ("bomb", "a zip bomb"),
        ("not-zip", "is not a zip archive"),
    ] {
        let id = plant(&app, run, shape, false).await;
        // A run's list is read again at most once a second.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let url = app.url(&format!("/runs/{run}/artifacts/{id}"));
        let (_, html) = page(&client, url.clone()).await;
        assert!(html.contains(rule), "{shape}: {html}");
        // Refused once, remembered: asking again downloads nothing more.
        let (_, again) = page(&client, url).await;
        assert!(again.contains(rule), "{shape}: {again}");
        assert_eq!(downloads_of(&app, id).await, 1, "{shape}");
        // Only the artifacts themselves are ever written, never their files.
        let written: Vec<String> = std::fs::read_dir(app.data.path().join("artifacts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(written.iter().all(|n| n.ends_with(".zip")), "{written:?}");
    }

    // A nested archive: the artifact opens, the inner one is listed only.
    let nested = plant(&app, run, "nested", false).await;
    // A run's list is read again at most once a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let href = format!("/runs/{run}/artifacts/{nested}");
    let (status, html) = page(&client, app.url(&href)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Archives inside"), "{html}");
    assert!(html.contains("more-results.zip"), "{html}");
    assert_eq!(
        status_of(
            &client,
            app.url(&format!("{href}/raw?path=more-results.zip"))
        )
        .await,
        403
    );

    // An expired artifact is marked on the run page and says so when opened.
    // (The run page reuses its list for 30 s; opening an artifact the list
    // lacks reads it again.)
    let expired = plant(&app, run, "smoke", true).await;
    // A run's list is read again at most once a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, html) = page(
        &client,
        app.url(&format!("/runs/{run}/artifacts/{expired}")),
    )
    .await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("has expired"), "{html}");
    let (_, run_page) = page(&client, app.url(&format!("/runs/{run}"))).await;
    assert!(run_page.contains("data-expired=\"true\""), "{run_page}");
    assert_eq!(
        status_of(
            &client,
            app.url(&format!(
                "/runs/{run}/artifacts/{expired}/raw?path=junit.xml"
            ))
        )
        .await,
        410
    );

    // GitHub answering 410 for one its list still calls kept (it expired
    // between the list and the download): said as expired, not as an error.
    let gone = plant_refused(&app, run, 410).await;
    let (status, html) = page(&client, app.url(&format!("/runs/{run}/artifacts/{gone}"))).await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("has expired"), "{html}");

    // GitHub refusing the download (a token without actions:read).
    let fresh = plant_refused(&app, run, 403).await;
    let (status, html) = page(&client, app.url(&format!("/runs/{run}/artifacts/{fresh}"))).await;
    assert_eq!(status, 502, "{html}");
    assert!(html.to_lowercase().contains("permission"), "{html}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_reads_recent_results_so_each_test_shows_its_latest_results() {
    let app = spawn_with(SYNCED).await;
    app.synced().await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    let t = app.services.ops.target("AllIncompassing").unwrap();
    let runs = app
        .services
        .storage
        .runs_with_job(t.project_id, "deploy-staging", Some("develop"), true, 20)
        .await
        .unwrap();
    let read = app.services.storage.results_read(&runs).await.unwrap();
    assert_eq!(
        read.len(),
        5,
        "a full pass reads five runs' results: {read:?}"
    );
    assert!(
        read.contains(&(runs[0].run_id, runs[0].run_attempt)),
        "newest first"
    );
    // The newest read run that uploaded an artifact (a failed build uploads none).
    let mut found = None;
    for r in runs
        .iter()
        .filter(|r| read.contains(&(r.run_id, r.run_attempt)))
    {
        let (_, run_page) = page(&client, app.url(&format!("/runs/{}", r.run_id))).await;
        if let Some(at) = run_page.find(&format!("/runs/{}/artifacts/", r.run_id)) {
            let href: String = run_page[at..].chars().take_while(|c| *c != '"').collect();
            found = Some((r.run_id, href));
            break;
        }
    }
    let (newest, href) = found.expect("a read run with an artifact");
    let (status, html) = page(&client, app.url(&href)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-testid=\"result-strip\""), "{html}");
    // Five runs read: each test's strip holds up to five results, linked.
    let strip_at = html.find("data-testid=\"result-strip\"").unwrap();
    let strip = &html[strip_at..strip_at + html[strip_at..].find("</span>").unwrap()];
    let marks = strip.matches("data-outcome=").count();
    assert!((1..=5).contains(&marks), "{strip}");
    assert!(strip.contains(&format!("/runs/{newest}")), "{strip}");
    app.stop().await;
}
