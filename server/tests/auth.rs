//! Sign-in, sessions, authorization and web security over real HTTP, against
//! the in-process sandbox's OAuth page: each refusal leaves an audit row.

mod support;

use greenroom::storage::AuditOutcome;
use greenroom_app::policy::{self, Access};
use reqwest::cookie::CookieStore;
use std::sync::Arc;
use support::*;

fn plain() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn refusal_text(client: &reqwest::Client, app: &TestApp) -> String {
    let state: serde_json::Value = client
        .get(app.url("/api/sign-in-state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state["refusal"].as_str().unwrap_or_default().to_string()
}

fn follow(jar: &Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .cookie_provider(jar.clone())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_member_signs_in_with_the_role_of_their_team_and_the_id_rotates() {
    let app = spawn_with("").await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let started = start_sign_in(&app, &jar, Some("/activity?outcome=refused")).await;
    let before = jar.cookies(&app.url("/").parse().unwrap()).unwrap();
    assert!(before.to_str().unwrap().contains("greenroom_session="));
    let callback = choose(&started, "dev-deployer").await;
    let res = stepper(&jar).get(callback).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/activity?outcome=refused",
        "back where they were going"
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http in tests");
    let after = jar.cookies(&app.url("/").parse().unwrap()).unwrap();
    assert_ne!(before, after, "a new session id at sign-in");
    let shell: serde_json::Value = follow(&jar)
        .get(app.url("/api/shell"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shell["user"]["login"], "dev-deployer");
    assert_eq!(shell["user"]["role"], "deployer");
    let rows = audit(&app).await;
    assert!(rows.iter().any(|r| r.action == "sign_in"
        && r.outcome == AuditOutcome::Succeeded
        && r.actor_login.as_deref() == Some("dev-deployer")
        && r.role.as_deref() == Some("deployer")));
    app.stop().await;
}

#[tokio::test]
async fn a_forged_state_is_refused_and_audited() {
    let app = spawn_with("").await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let started = start_sign_in(&app, &jar, None).await;
    let callback = choose(&started, "ada-admin").await;
    let forged = callback.replace(&format!("state={}", started.state), "state=forged");
    assert_ne!(forged, callback);
    let res = stepper(&jar).get(forged).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/sign-in");
    assert!(refusal_text(&follow(&jar), &app)
        .await
        .contains("state did not match"));
    let shell: serde_json::Value = follow(&jar)
        .get(app.url("/api/shell"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(shell["user"].is_null(), "not signed in");
    let rows = audit(&app).await;
    let row = rows.iter().find(|r| r.action == "sign_in").unwrap();
    assert_eq!(row.outcome, AuditOutcome::Refused);
    assert!(row.params_json.contains("state_mismatch"));
    app.stop().await;
}

#[tokio::test]
async fn a_code_from_another_sign_in_fails_the_pkce_check() {
    let app = spawn_with("").await;
    let (attacker, victim) = (
        Arc::new(reqwest::cookie::Jar::default()),
        Arc::new(reqwest::cookie::Jar::default()),
    );
    let theirs = start_sign_in(&app, &attacker, None).await;
    let code_url = choose(&theirs, "ada-admin").await;
    let code = url::Url::parse(&code_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    // The victim's own sign-in, fed the attacker's code: the state is the
    // victim's, but the code was issued for another PKCE challenge.
    let mine = start_sign_in(&app, &victim, None).await;
    let injected = app.url(&format!("/auth/callback?code={code}&state={}", mine.state));
    let res = stepper(&victim).get(injected).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/sign-in");
    assert!(refusal_text(&follow(&victim), &app)
        .await
        .contains("invalid_grant"));
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let app = spawn_with("").await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let started = start_sign_in(&app, &jar, None).await;
    let callback = choose(&started, "vera-viewer").await;
    assert_eq!(
        stepper(&jar).get(&callback).send().await.unwrap().headers()["location"],
        "/"
    );
    // The same callback again, in a fresh browser and in the same one.
    let other = Arc::new(reqwest::cookie::Jar::default());
    let res = stepper(&other).get(&callback).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/sign-in");
    let res = stepper(&jar).get(&callback).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/sign-in");
    let refused = audit(&app)
        .await
        .into_iter()
        .filter(|r| r.outcome == AuditOutcome::Refused)
        .count();
    assert_eq!(refused, 2);
    app.stop().await;
}

#[tokio::test]
async fn the_redirect_after_sign_in_stays_on_this_site() {
    let app = spawn_with("").await;
    for next in [
        "https://evil.example/x",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let started = start_sign_in(&app, &jar, Some(next)).await;
        let callback = choose(&started, "vera-viewer").await;
        let res = stepper(&jar).get(callback).send().await.unwrap();
        assert_eq!(res.headers()["location"], "/", "{next}");
    }
    app.stop().await;
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = spawn_with("").await;
    let (jar, client) = signed_in(&app, "vera-viewer").await;
    let cookie = jar
        .cookies(&app.url("/").parse().unwrap())
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let res = stepper(&jar)
        .post(app.url("/auth/sign-out"))
        .header("origin", app.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/sign-in");
    // The old cookie, replayed by hand, no longer opens anything.
    let res = plain()
        .get(app.url("/activity"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/sign-in"));
    let res = plain()
        .get(app.url("/api/status"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    drop(client);
    assert!(audit(&app).await.iter().any(|r| r.action == "sign_out"));
    app.stop().await;
}

#[tokio::test]
async fn an_open_live_stream_ends_when_its_session_does() {
    let app = spawn_with("").await;
    let (jar, client) = signed_in(&app, "vera-viewer").await;
    let mut stream = client
        .get(app.url("/api/live?project=AllIncompassing&since=9999999999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let res = stepper(&jar)
        .post(app.url("/auth/sign-out"))
        .header("origin", app.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its session");
    app.stop().await;
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = spawn_with("[auth]\nsession_idle_secs = 1\n").await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    assert_eq!(status_of(&client, app.url("/api/status")).await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(status_of(&client, app.url("/api/status")).await, 401);
    app.stop().await;
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_even_when_used() {
    let app = spawn_with("[auth]\nsession_absolute_secs = 1\n").await;
    let (_, client) = signed_in(&app, "vera-viewer").await;
    for _ in 0..3 {
        assert_eq!(status_of(&client, app.url("/api/status")).await, 200);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(status_of(&client, app.url("/api/status")).await, 401);
    app.stop().await;
}

#[tokio::test]
async fn someone_removed_from_their_team_is_locked_out_at_the_next_check() {
    let app = spawn_with("[auth]\nmembership_check_secs = 1\ndefault_role = \"none\"\n").await;
    let (_, client) = signed_in(&app, "dev-deployer").await;
    assert_eq!(status_of(&client, app.url("/api/status")).await, 200);
    let res = plain()
        .post(format!("{}/__sandbox/members", app.sandbox()))
        .json(&serde_json::json!({ "login": "dev-deployer", "team": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(status_of(&client, app.url("/api/status")).await, 401);
    let rows = audit(&app).await;
    let revoked = rows
        .iter()
        .find(|r| r.action == "session_revoked")
        .expect("audited");
    assert!(revoked
        .message
        .as_deref()
        .unwrap()
        .contains("none of its teams"));
    // And they cannot sign in again.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let started = start_sign_in(&app, &jar, None).await;
    let callback = choose(&started, "dev-deployer").await;
    let res = stepper(&jar).get(callback).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/sign-in");
    let why = refusal_text(&follow(&jar), &app).await;
    assert!(
        why.contains("allincompassing") && why.contains("developers"),
        "{why}"
    );
    app.stop().await;
}

/// GitHub answers membership checks only after 30 s: signed-in people's
/// requests do not wait for it (one re-check runs, in the background).
#[tokio::test]
async fn a_slow_github_never_holds_up_signed_in_requests() {
    let app = spawn_with("[auth]\nmembership_check_secs = 1\n").await;
    let (_, client) = signed_in(&app, "dev-deployer").await;
    let shell = |client: reqwest::Client| {
        let url = app.url("/api/shell");
        async move {
            let v: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap();
            v["user"]["unconfirmed_since_ms"].clone()
        }
    };
    assert!(shell(client.clone()).await.is_null(), "just confirmed");
    let res = plain()
        .post(format!("{}/__sandbox/faults", app.sandbox()))
        .json(&serde_json::json!({"route": "GET /github/orgs/*", "kind": "latency", "ms": 30000}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut times = Vec::new();
    for _ in 0..20 {
        let t = std::time::Instant::now();
        assert_eq!(status_of(&client, app.url("/api/status")).await, 200);
        times.push(t.elapsed());
    }
    times.sort();
    // The request that starts the re-check waits 0.3 s at most; the rest
    // not at all.
    assert!(
        times[19] < std::time::Duration::from_millis(1500),
        "{times:?}"
    );
    assert!(
        times[18] < std::time::Duration::from_millis(250),
        "{times:?}"
    );
    let requests: serde_json::Value = plain()
        .get(format!("{}/__sandbox/requests", app.sandbox()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let checks = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap_or_default()
                .contains("/memberships/dev-deployer")
                && r["path"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("/github/orgs/")
                && !r["path"].as_str().unwrap_or_default().contains("/teams/")
        })
        .count();
    // One at sign-in and one re-check, however many requests came.
    assert!(checks <= 2, "{checks} org membership calls");
    // A re-check still under way is no reason to doubt the role.
    assert!(shell(client.clone()).await.is_null(), "still asking GitHub");
    app.stop().await;
}

/// GitHub answers membership re-checks with errors: the person keeps their
/// last role for the grace, and the page says it is unconfirmed.
#[tokio::test]
async fn a_role_github_cannot_confirm_is_shown_as_unconfirmed() {
    let app = spawn_with("[auth]\nmembership_check_secs = 2\n").await;
    let (_, client) = signed_in(&app, "dev-deployer").await;
    let user = |client: reqwest::Client| {
        let url = app.url("/api/shell");
        async move {
            let v: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap();
            v["user"].clone()
        }
    };
    assert!(user(client.clone()).await["unconfirmed_since_ms"].is_null());
    let res = plain()
        .post(format!("{}/__sandbox/faults", app.sandbox()))
        .json(&serde_json::json!({"route": "GET /github/orgs/*", "kind": "status", "status": 502}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(25);
    let seen = loop {
        let u = user(client.clone()).await;
        if u["unconfirmed_since_ms"].as_i64().is_some() || std::time::Instant::now() > deadline {
            break u;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(seen["unconfirmed_since_ms"].as_i64().is_some(), "{seen}");
    assert_eq!(seen["role"], "deployer", "the last known role is kept");
    app.stop().await;
}

/// Someone back after longer than the grace (four check intervals) has no
/// last role to go on with: their request waits for GitHub's answer, even a
/// slow one, and they stay signed in.
#[tokio::test]
async fn someone_back_after_a_break_is_rechecked_not_signed_out() {
    let app = spawn_with("[auth]\nmembership_check_secs = 1\n").await;
    let (_, client) = signed_in(&app, "dev-deployer").await;
    tokio::time::sleep(std::time::Duration::from_millis(4200)).await;
    let res = plain()
        .post(format!("{}/__sandbox/faults", app.sandbox()))
        .json(&serde_json::json!({"route": "GET /github/orgs/*", "kind": "latency", "ms": 1200}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(status_of(&client, app.url("/api/status")).await, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_cross_origin_post_is_refused() {
    let app = spawn_with("").await;
    let (jar, _) = signed_in(&app, "ada-admin").await;
    for origin in [Some("http://evil.example"), None] {
        let mut req = stepper(&jar).post(app.url("/api/sessions/end-all"));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403, "origin {origin:?}");
    }
    let res = stepper(&jar)
        .post(app.url("/api/sessions/end-all"))
        .header("referer", format!("{}/activity", app.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a same-origin Referer is enough");
    let res = stepper(&jar)
        .post(app.url("/auth/sign-out"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no cross-site sign-out either");
    let refused: Vec<_> = audit(&app)
        .await
        .into_iter()
        .filter(|r| r.action == "cross_origin")
        .collect();
    assert_eq!(refused.len(), 3, "each refusal is audited");
    assert!(refused.iter().all(|r| r.outcome == AuditOutcome::Refused));
    assert!(
        refused
            .iter()
            .all(|r| r.actor_login.as_deref() == Some("ada-admin") && r.client_ip.is_some()),
        "with who and from where: {refused:?}"
    );
    assert!(refused
        .iter()
        .any(|r| r.params_json.contains("evil.example")));
    // Anonymous refusals are refused all the same, but cannot fill the log.
    for _ in 0..30 {
        let res = plain()
            .post(app.url("/auth/sign-out"))
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
    }
    let anonymous = audit(&app)
        .await
        .into_iter()
        .filter(|r| r.action == "cross_origin" && r.actor_login.is_none())
        .count();
    // (Twice the limit at most: the burst may straddle a minute.)
    assert!(
        anonymous <= 2 * greenroom_server::security::ANONYMOUS_AUDITS_PER_MINUTE as usize,
        "{anonymous} anonymous rows"
    );
    assert!(anonymous >= 1);
    app.stop().await;
}

/// Every server function Leptos registered, from its registry: each has a
/// declared role; anonymous callers get 401, a viewer calling a mutating one
/// 403, and the declared role gets past the guard.
#[tokio::test]
async fn every_server_function_is_held_to_its_declared_role() {
    let app = spawn_with("").await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let (_, deployer) = signed_in(&app, "dev-deployer").await;
    let (_, admin) = signed_in(&app, "ada-admin").await;
    let anonymous = plain();
    let mut paths: Vec<(&str, http_method::Method)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, m)| (p, http_method::from(m)))
        .collect();
    // Mutating ones last: ending every session must not sign out the others
    // before their turn.
    paths.sort_by_key(|(p, m)| (policy::mutates(p), *p, *m));
    assert!(paths.len() >= 5, "{paths:?}");
    let mut mutating = 0;
    for (path, method) in &paths {
        let access = policy::required(path)
            .unwrap_or_else(|| panic!("{path} has no declared role in app/src/policy.rs"));
        let call = |c: &reqwest::Client| {
            let req = match method {
                http_method::Method::Get => c.get(app.url(path)),
                http_method::Method::Post => c
                    .post(app.url(path))
                    .header("origin", app.origin())
                    .header("content-type", "application/x-www-form-urlencoded"),
            };
            async move { req.send().await.unwrap().status().as_u16() }
        };
        let role_client = |r: greenroom::domain::Role| match r {
            greenroom::domain::Role::Viewer => &viewer,
            greenroom::domain::Role::Deployer => &deployer,
            greenroom::domain::Role::Admin => &admin,
        };
        match access {
            Access::Public => {
                let status = call(&anonymous).await;
                assert!(
                    ![401, 403].contains(&status) && status < 500,
                    "{path} is public: {status}"
                );
            }
            Access::Role(r) => {
                assert_eq!(call(&anonymous).await, 401, "{path} anonymous");
                if policy::mutates(path) {
                    mutating += 1;
                    if r > greenroom::domain::Role::Viewer {
                        assert_eq!(call(&viewer).await, 403, "{path} as a viewer");
                    }
                }
                // Allowed, and never a server error (the bare address lacks
                // its parameters: that is a 400 with a message).
                let status = call(role_client(r)).await;
                assert!(
                    ![401, 403].contains(&status) && status < 500,
                    "{path} as {r:?}: {status}"
                );
            }
        }
    }
    assert!(mutating >= 1, "the matrix covers a mutating function");
    let refused = audit(&app)
        .await
        .into_iter()
        .filter(|r| r.action == "authorize")
        .count();
    assert!(refused >= 1, "refused authorizations are audited");
    app.stop().await;
}

/// Missing, repeated and malformed parameters are the caller's mistake: 400
/// with a message naming the parameter, in the API's error shape, never a
/// 500 and never the whole input echoed back.
#[tokio::test]
async fn bad_parameters_are_a_400_that_names_them() {
    let app = spawn_with("").await;
    let (_, admin) = signed_in(&app, "ada-admin").await;
    let long = "x".repeat(5000);
    let cases: Vec<(&str, String, &str)> = vec![
        ("GET", "/api/action".into(), "id"),
        ("GET", "/api/actions/plan".into(), "project"),
        ("GET", "/api/activity".into(), "query"),
        ("GET", "/api/deploy".into(), "site"),
        ("GET", "/api/overview".into(), "project"),
        ("GET", "/api/run".into(), "id"),
        ("POST", "/api/actions/start".into(), "project"),
        ("GET", "/api/run?id=abc".into(), ""),
        ("GET", "/api/run?id=1&id=2".into(), ""),
        ("GET", format!("/api/action?id={long}"), ""),
    ];
    for (method, path, names) in cases {
        let req = if method == "GET" {
            admin.get(app.url(&path))
        } else {
            admin
                .post(app.url(&path))
                .header("origin", app.origin())
                .header("content-type", "application/x-www-form-urlencoded")
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert_eq!(status, 400, "{method} {path}: {body}");
        let error: greenroom_app::model::ApiError = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: not the API's error shape ({e}): {body}"));
        let greenroom_app::model::ApiError::BadRequest(message) = error else {
            panic!("{method} {path}: {body}")
        };
        assert!(
            message.contains(&format!("`{names}`")) || names.is_empty(),
            "{method} {path} names {names}: {message}"
        );
        assert!(
            body.len() < 600,
            "{method} {path} echoes its input: {} bytes",
            body.len()
        );
    }
    app.stop().await;
}

mod http_method {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub enum Method {
        Get,
        Post,
    }

    pub fn from(m: http::Method) -> Method {
        if m == http::Method::GET {
            Method::Get
        } else {
            Method::Post
        }
    }
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_the_security_headers() {
    let app = spawn_with("").await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let res = plain().get(app.url("/sign-in")).send().await.unwrap();
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.headers()["referrer-policy"], "same-origin");
        assert!(
            res.headers().get("strict-transport-security").is_none(),
            "http"
        );
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_string();
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "the inline scripts carry the header's nonce"
        );
        nonces.push(nonce);
    }
    assert_ne!(
        nonces[0], nonces[1],
        "a fresh nonce per response, also from the page cache"
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address() {
    let app = spawn_with("[auth]\nsign_in_attempts_per_minute = 3\n").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            plain()
                .get(app.url("/auth/login"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, vec![303, 303, 303, 429]);
    app.stop().await;
}

/// Behind a trusted reverse proxy the client's address comes from its
/// header: the limit counts each client apart, and the audit log names the
/// client, not the proxy. A header from anyone else counts for nothing.
#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_its_own_address() {
    let app =
        spawn_with("[auth]\nsign_in_attempts_per_minute = 2\n[proxy]\ntrusted = [\"127.0.0.1\"]\n")
            .await;
    let login = |from: &'static str| {
        let req = plain()
            .get(app.url("/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.50, {from}"));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let a: Vec<u16> = vec![
        login("198.51.100.1").await,
        login("198.51.100.1").await,
        login("198.51.100.1").await,
    ];
    assert_eq!(a, vec![303, 303, 429], "one client over its limit");
    assert_eq!(login("198.51.100.2").await, 303, "another client is not");
    let res = plain()
        .post(app.url("/auth/sign-out"))
        .header("origin", "http://evil.example")
        .header("x-forwarded-for", "198.51.100.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let row = audit(&app)
        .await
        .into_iter()
        .find(|r| r.action == "cross_origin")
        .expect("audited");
    assert_eq!(row.client_ip.as_deref(), Some("198.51.100.9"));
    app.stop().await;

    // Without a trusted proxy the header is ignored.
    let app = spawn_with("").await;
    let res = plain()
        .post(app.url("/auth/sign-out"))
        .header("origin", "http://evil.example")
        .header("x-forwarded-for", "198.51.100.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let row = audit(&app)
        .await
        .into_iter()
        .find(|r| r.action == "cross_origin")
        .expect("audited");
    assert_eq!(row.client_ip.as_deref(), Some("127.0.0.1"));
    app.stop().await;
}

#[tokio::test]
async fn audit_rows_left_pending_by_a_crash_are_unknown_at_the_next_start() {
    let app = spawn_with("").await;
    let id = app
        .services
        .storage
        .record_audit(
            &greenroom::storage::NewAuditEvent {
                action: "deploy_staging".into(),
                ..Default::default()
            },
            AuditOutcome::Pending,
        )
        .await
        .unwrap();
    let data = app.stop_keeping_data().await;
    let site = data.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let overrides = greenroom::config::Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data.path().to_path_buf()),
        site_dir: Some(site),
        log_format: None,
    };
    let config =
        greenroom::Config::load_with(None, &overrides, greenroom::config::Credentials::default())
            .unwrap();
    let again = greenroom_server::Application::build(config).await.unwrap();
    let rows = again
        .services()
        .storage
        .list_audit(&Default::default(), None, 10)
        .await
        .unwrap();
    let row = rows
        .iter()
        .find(|r| r.id == id)
        .expect("the row survives the restart");
    assert_eq!(row.outcome, AuditOutcome::Unknown);
    assert!(row
        .message
        .as_deref()
        .unwrap()
        .contains("stopped before the outcome was recorded"));
}

/// Two instances on one PostgreSQL, with the same session key: a session
/// made on one is good on the other, and ending it on one ends it on both.
#[tokio::test]
async fn instances_sharing_a_postgres_database_share_sessions() {
    use sqlx::Connection;
    let server = std::env::var("GREENROOM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("greenroom_sessions_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 is required");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    // Only this test's process sees this variable (nextest runs each test alone).
    std::env::set_var(
        "GREENROOM_SESSION_KEY",
        "c2hhcmVkLXNlc3Npb24ta2V5LWZvci10aGUtdHdvLWluc3RhbmNlcy1vZi10aGlzLXRlc3QtMDEyMzQ1Njc4OQ==",
    );
    let toml = format!("database_url = \"{server}/{name}\"\n");
    let a = spawn_with(&toml).await;
    let b = spawn_with(&toml).await;
    let (jar, on_a) = signed_in(&a, "ada-admin").await;
    assert_eq!(status_of(&on_a, a.url("/api/status")).await, 200);
    // The same cookie, presented to the other instance.
    let cookie = jar
        .cookies(&a.url("/").parse().unwrap())
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let on_b = plain()
        .get(b.url("/api/status"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(on_b.status(), 200, "the session is shared");
    let res = plain()
        .post(b.url("/auth/sign-out"))
        .header("cookie", &cookie)
        .header("origin", b.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let again_on_b = plain()
        .get(b.url("/api/status"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again_on_b.status(),
        401,
        "ended at once where it was signed out"
    );
    // The other instance may have read the session within the last second
    // and keeps it that long (storage::sessions::RECENT_FOR), no longer.
    let deadline = std::time::Instant::now()
        + greenroom::storage::RECENT_FOR
        + std::time::Duration::from_millis(500);
    while status_of(&on_a, a.url("/api/status")).await != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the session was still valid on the other instance after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    a.stop().await;
    b.stop().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_activity_export_gives_the_filtered_log_as_csv_or_json_to_the_signed_in() {
    let app = spawn_with("").await;
    let (_, client) = signed_in(&app, "ada-admin").await;
    let csv = client
        .get(app.url("/activity/export?format=csv&action=sign_in"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,occurred_at,actor,role,action,project,target,params,outcome,message,client_ip,request_id"
    );
    let row = lines.next().expect("the sign-in row");
    assert!(
        row.contains(",ada-admin,admin,sign_in,") && row.contains(",succeeded,"),
        "{row}"
    );
    assert!(row.contains("127.0.0.1"), "admins see the address: {row}");
    // A viewer gets what the Activity page shows: no address, request id or parameters.
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let text = viewer
        .get(app.url("/activity/export?format=csv&action=sign_in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,occurred_at,actor,role,action,project,target,outcome,message"
    );
    assert!(lines.all(|l| !l.contains("127.0.0.1")), "{text}");
    let json: serde_json::Value = viewer
        .get(app.url("/activity/export?format=json&action=sign_in"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = json.as_array().unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        for hidden in [
            "client_ip",
            "request_id",
            "params_json",
            "upstream_ids_json",
            "actor_id",
        ] {
            assert!(r.get(hidden).is_none(), "{hidden} shown to a viewer: {r}");
        }
    }
    // What a signed-in person downloads or reads is never stored by a cache.
    for path in [
        "/activity/export?format=csv",
        "/history/export?format=csv",
        "/",
        "/history",
        "/api/shell-frame",
    ] {
        let res = viewer.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{path}"
        );
    }
    let json: serde_json::Value = client
        .get(app.url("/activity/export?format=json&outcome=refused"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json, serde_json::json!([]), "nothing refused yet");
    assert_eq!(
        status_of(&client, app.url("/activity/export?format=xml")).await,
        400
    );
    assert_eq!(
        status_of(&client, app.url("/activity/export?from=yesterday")).await,
        400,
        "a bad date says so"
    );
    let anonymous = plain()
        .get(app.url("/activity/export?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303, "sign in first");
    app.stop().await;
}

#[tokio::test]
async fn the_activity_pages_end_all_form_is_for_admins_only() {
    let app = spawn_with("").await;
    let (viewer_jar, _) = signed_in(&app, "vera-viewer").await;
    let (admin_jar, _) = signed_in(&app, "ada-admin").await;
    let post = |jar: &Arc<reqwest::cookie::Jar>| {
        stepper(jar)
            .post(app.url("/sessions/end-all"))
            .header("origin", app.origin())
            .send()
    };
    assert_eq!(post(&viewer_jar).await.unwrap().status(), 403);
    let res = post(&admin_jar).await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/activity?ended=1",
        "the viewer's session ended"
    );
    let rows = audit(&app).await;
    assert!(rows
        .iter()
        .any(|r| r.action == "authorize" && r.target_id.as_deref() == Some("/sessions/end-all")));
    assert!(rows
        .iter()
        .any(|r| r.action == "sessions_end_all" && r.outcome == AuditOutcome::Succeeded));
    app.stop().await;
}

#[tokio::test]
async fn the_activity_page_is_rendered_on_the_server_with_its_filters_and_their_errors() {
    let app = spawn_with("").await;
    let (_, viewer) = signed_in(&app, "vera-viewer").await;
    let page = text_of(&viewer, app.url("/activity?action=sign_in")).await;
    assert!(page.contains(r#"data-testid="activity-table""#), "{page}");
    assert!(page.contains("vera-viewer (viewer)"));
    assert!(page.contains("/activity/export?format=csv&amp;action=sign_in"));
    assert!(
        !page.contains("end-all-sessions"),
        "viewers get no end-sessions form"
    );
    // A bad filter keeps the form with what was typed and says what is wrong.
    let page = text_of(&viewer, app.url("/activity?from=yesterday")).await;
    assert!(page.contains(r#"data-testid="activity-invalid""#), "{page}");
    assert!(page.contains(r#"value="yesterday""#));
    // Admins see the form, and what it just did.
    let (_, admin) = signed_in(&app, "ada-admin").await;
    let page = text_of(&admin, app.url("/activity?ended=3")).await;
    assert!(page.contains("end-all-sessions"));
    assert!(page.contains("3 sessions ended."));
    app.stop().await;
}
