//! The sandbox over real HTTP on a free loopback port: the control API, the
//! request log, fault injection and the Slack webhook.

use greenroom_sandbox::{start, RunningSandbox, World};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn sandbox() -> RunningSandbox {
    start("127.0.0.1:0".parse().unwrap(), World::seeded(7))
        .await
        .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get_json(url: String) -> Value {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn post_slack(base: &str, body: Value) -> reqwest::Response {
    client()
        .post(format!("{base}/slack/services/T000/B000/XXXX"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn add_fault(base: &str, spec: Value) -> reqwest::Response {
    client()
        .post(format!("{base}/__sandbox/faults"))
        .json(&spec)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn it_refuses_to_listen_beyond_loopback() {
    let err = start("0.0.0.0:0".parse().unwrap(), World::seeded(1))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[tokio::test]
async fn the_world_endpoint_names_sites_repo_project_and_members() {
    let sb = sandbox().await;
    let world: Value = get_json(format!("{}/__sandbox/world", sb.base_url())).await;
    assert_eq!(world["seed"], 7);
    assert_eq!(world["github"]["workflow"], "ci.yml");
    let roles: Vec<&str> = world["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["viewer", "deployer", "admin"]);
    sb.stop().await;
}

#[tokio::test]
async fn the_slack_webhook_answers_like_slack_and_records_messages() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let ok = post_slack(&base, json!({"text": "Staging deploy of abc123 started"})).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "ok");
    let empty = post_slack(&base, json!({"text": "  "})).await;
    assert_eq!(
        (empty.status().as_u16(), empty.text().await.unwrap()),
        (400, "no_text".to_string())
    );
    let garbage = client()
        .post(format!("{base}/slack/services/T/B/X"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (garbage.status().as_u16(), garbage.text().await.unwrap()),
        (400, "invalid_payload".to_string())
    );
    let messages: Value = get_json(format!("{base}/__sandbox/slack")).await;
    assert_eq!(messages.as_array().unwrap().len(), 1);
    assert_eq!(messages[0]["text"], "Staging deploy of abc123 started");
    assert_eq!(messages[0]["hook"], "T000/B000/XXXX");
    sb.stop().await;
}

#[tokio::test]
async fn the_request_log_records_vendor_calls_with_a_token_fingerprint_only() {
    let sb = sandbox().await;
    let base = sb.base_url();
    client()
        .post(format!("{base}/slack/services/T/B/X?x=1"))
        .bearer_auth("xoxb-sandbox-canary-token")
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    post_slack(&base, json!({"text": "again"})).await;
    let log: Value = get_json(format!("{base}/__sandbox/requests?vendor=slack")).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/slack/services/T/B/X");
    assert_eq!(log[0]["query"], "x=1");
    assert_eq!(log[0]["status"], 200);
    let token = log[0]["token"].as_str().unwrap();
    assert!(
        token.starts_with("sha256:") && !token.contains("canary"),
        "{token}"
    );
    assert!(log[1]["token"].is_null());
    let none: Value = get_json(format!("{base}/__sandbox/requests?vendor=github")).await;
    assert_eq!(
        none.as_array().unwrap().len(),
        0,
        "control calls are not logged as vendor calls"
    );
    let bad = client()
        .get(format!("{base}/__sandbox/requests?colour=red"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    sb.stop().await;
}

#[tokio::test]
async fn a_status_fault_hits_exactly_count_matching_requests() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let added = add_fault(
        &base,
        json!({"route": "POST /slack/*", "kind": "status", "status": 503, "count": 2}),
    )
    .await;
    assert_eq!(added.status(), 201);
    let codes: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(
                post_slack(&base, json!({"text": "x"}))
                    .await
                    .status()
                    .as_u16(),
            );
        }
        v
    };
    assert_eq!(codes, [503, 503, 200]);
    let left: Value = get_json(format!("{base}/__sandbox/faults")).await;
    assert_eq!(
        left.as_array().unwrap().len(),
        0,
        "used-up faults disappear"
    );
    sb.stop().await;
}

#[tokio::test]
async fn rate_limit_latency_and_malformed_faults_behave_as_described() {
    let sb = sandbox().await;
    let base = sb.base_url();
    add_fault(&base, json!({"route": "/slack/services/RL/*", "kind": "rate_limit", "retry_after_secs": 3, "count": 1})).await;
    let limited = client()
        .post(format!("{base}/slack/services/RL/B/X"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "3");

    add_fault(
        &base,
        json!({"route": "/slack/services/SLOW/*", "kind": "latency", "ms": 300, "count": 1}),
    )
    .await;
    let t = Instant::now();
    let slow = client()
        .post(format!("{base}/slack/services/SLOW/B/X"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    add_fault(
        &base,
        json!({"route": "/slack/services/BAD/*", "kind": "malformed"}),
    )
    .await;
    for _ in 0..2 {
        let bad = client()
            .post(format!("{base}/slack/services/BAD/B/X"))
            .json(&json!({"text": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 200);
        assert!(
            serde_json::from_str::<Value>(&bad.text().await.unwrap()).is_err(),
            "body is not JSON"
        );
    }
    let cleared = client()
        .delete(format!("{base}/__sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert_eq!(post_slack(&base, json!({"text": "x"})).await.status(), 200);
    sb.stop().await;
}

#[tokio::test]
async fn a_timeout_fault_holds_the_request_until_the_client_gives_up() {
    let sb = sandbox().await;
    let base = sb.base_url();
    add_fault(
        &base,
        json!({"route": "/slack/*", "kind": "timeout", "count": 1}),
    )
    .await;
    let quick = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let err = quick
        .post(format!("{base}/slack/services/T/B/X"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    sb.stop().await;
}

#[tokio::test]
async fn bad_fault_specs_are_refused_with_a_reason() {
    let sb = sandbox().await;
    let base = sb.base_url();
    for (spec, expect) in [
        (
            json!({"route": "/x", "kind": "status", "status": 200}),
            "not an error status",
        ),
        (json!({"route": "/x", "kind": "explode"}), "unknown variant"),
        (json!({"route": "x", "kind": "timeout"}), "must be a path"),
        (
            json!({"route": "/x", "kind": "timeout", "count": 0}),
            "at least 1",
        ),
    ] {
        let res = add_fault(&base, spec.clone()).await;
        assert_eq!(res.status(), 400, "{spec}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains(expect),
            "{spec}: {body}"
        );
    }
    sb.stop().await;
}

#[tokio::test]
async fn reset_forgets_requests_faults_and_messages() {
    let sb = sandbox().await;
    let base = sb.base_url();
    post_slack(&base, json!({"text": "x"})).await;
    add_fault(
        &base,
        json!({"route": "/slack/*", "kind": "status", "status": 500}),
    )
    .await;
    assert_eq!(
        client()
            .post(format!("{base}/__sandbox/reset"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    for what in ["requests", "faults", "slack"] {
        let v: Value = get_json(format!("{base}/__sandbox/{what}")).await;
        assert_eq!(v.as_array().unwrap().len(), 0, "{what} after reset");
    }
    assert_eq!(post_slack(&base, json!({"text": "x"})).await.status(), 200);
    sb.stop().await;
}

#[test]
fn a_world_file_is_checked_on_load() {
    let dir = std::env::temp_dir().join(format!("greenroom-world-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(&good, serde_json::to_string(&World::seeded(3)).unwrap()).unwrap();
    assert_eq!(World::load(&good).unwrap(), World::seeded(3));

    let mut bad_role = serde_json::to_value(World::seeded(3)).unwrap();
    bad_role["members"][1]["role"] = json!("owner");
    let path = dir.join("bad-role.json");
    std::fs::write(&path, bad_role.to_string()).unwrap();
    let err = World::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("members[1].role") && err.contains("owner"),
        "{err}"
    );

    let path = dir.join("unknown.json");
    let mut extra = serde_json::to_value(World::seeded(3)).unwrap();
    extra["netlfy"] = json!({});
    std::fs::write(&path, extra.to_string()).unwrap();
    let err = World::load(&path).unwrap_err().to_string();
    assert!(err.contains("unknown field `netlfy`"), "{err}");

    let err = World::load(&dir.join("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_misspelt_fault_field_is_refused() {
    let sb = sandbox().await;
    let res = add_fault(
        &sb.base_url(),
        json!({"route": "/x", "kind": "latency", "ms": 5, "msec": 5}),
    )
    .await;
    assert_eq!(res.status(), 400);
    sb.stop().await;
}
