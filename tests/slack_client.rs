//! The Slack webhook client against the sandbox over real HTTP: delivery,
//! Slack's refusals, faults, and no secret in any error text.

use greenroom::providers::http::{client, Timeouts};
use greenroom::providers::slack::{SlackMessage, SlackWebhook};
use greenroom::providers::{ErrorKind, Vendor};
use greenroom::Secret;
use greenroom_sandbox::{start, RunningSandbox, World};
use serde_json::{json, Value};
use std::time::Duration;

const HOOK: &str = "/slack/services/T0CANARY/B0CANARY/secretpart123";

async fn setup(timeouts: Timeouts) -> (RunningSandbox, SlackWebhook, String) {
    let sb = start("127.0.0.1:0".parse().unwrap(), World::seeded(1))
        .await
        .unwrap();
    let url = format!("{}{HOOK}", sb.base_url());
    let hook = SlackWebhook::new(client(timeouts).unwrap(), Secret::new(url.clone()));
    (sb, hook, url)
}

async fn control(
    sb: &RunningSandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", sb.base_url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    res.json().await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_message_is_delivered_once_with_greenrooms_user_agent() {
    let (sb, hook, _) = setup(Timeouts::default()).await;
    hook.post(&SlackMessage::text(
        "Staging deploy of 3f2a1c0 finished: ready",
    ))
    .await
    .unwrap();
    let messages = control(&sb, reqwest::Method::GET, "/__sandbox/slack", None).await;
    assert_eq!(messages.as_array().unwrap().len(), 1);
    assert_eq!(
        messages[0]["text"],
        "Staging deploy of 3f2a1c0 finished: ready"
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_failing_post_is_not_retried_and_says_what_happened() {
    let (sb, hook, url) = setup(Timeouts::default()).await;
    control(
        &sb,
        reqwest::Method::POST,
        "/__sandbox/faults",
        Some(json!({"route": "/slack/*", "kind": "status", "status": 503, "count": 1})),
    )
    .await;
    let err = hook.post(&SlackMessage::text("x")).await.unwrap_err();
    assert_eq!(
        (err.vendor, err.status, err.kind.clone()),
        (Vendor::Slack, Some(503), ErrorKind::Unavailable)
    );
    let text = err.to_string();
    assert!(
        text.contains("Slack") && text.contains("postMessage") && text.contains("503"),
        "{text}"
    );
    assert!(
        !text.contains(&url) && !text.contains("secretpart123"),
        "no secret in: {text}"
    );
    let log = control(
        &sb,
        reqwest::Method::GET,
        "/__sandbox/requests?vendor=slack",
        None,
    )
    .await;
    assert_eq!(
        log.as_array().unwrap().len(),
        1,
        "a mutation is never retried blindly"
    );
    sb.stop().await;
}

#[tokio::test]
async fn rate_limits_report_when_to_try_again() {
    let (sb, hook, _) = setup(Timeouts::default()).await;
    control(
        &sb,
        reqwest::Method::POST,
        "/__sandbox/faults",
        Some(json!({"route": "/slack/*", "kind": "rate_limit", "retry_after_secs": 7, "count": 1})),
    )
    .await;
    let err = hook.post(&SlackMessage::text("x")).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert!(err.to_string().contains("try again in 7 s"), "{err}");
    sb.stop().await;
}

#[tokio::test]
async fn slacks_own_refusals_are_named() {
    let (sb, hook, _) = setup(Timeouts::default()).await;
    let err = hook.post(&SlackMessage::text("   ")).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Rejected {
            detail: "no_text".into()
        }
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_malformed_answer_and_a_timeout_are_errors_without_the_url() {
    let (sb, hook, url) = setup(Timeouts {
        connect: Duration::from_secs(2),
        total: Duration::from_millis(400),
    })
    .await;
    control(
        &sb,
        reqwest::Method::POST,
        "/__sandbox/faults",
        Some(json!({"route": "/slack/*", "kind": "malformed", "count": 1})),
    )
    .await;
    let err = hook.post(&SlackMessage::text("x")).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Malformed { .. }), "{err}");
    control(
        &sb,
        reqwest::Method::POST,
        "/__sandbox/faults",
        Some(json!({"route": "/slack/*", "kind": "timeout", "count": 1})),
    )
    .await;
    let err = hook.post(&SlackMessage::text("x")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(
            !text.contains(&url) && !text.contains("secretpart123"),
            "no secret in: {text}"
        );
    }
    sb.stop().await;
}

#[tokio::test]
async fn an_unreachable_webhook_is_a_transient_network_error_without_the_url() {
    let sb = start("127.0.0.1:0".parse().unwrap(), World::seeded(1))
        .await
        .unwrap();
    let url = format!("{}{HOOK}", sb.base_url());
    sb.stop().await; // nothing listens there any more
    let hook = SlackWebhook::new(
        client(Timeouts::default()).unwrap(),
        Secret::new(url.clone()),
    );
    let err = hook.post(&SlackMessage::text("x")).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Network { .. }), "{err}");
    assert!(!err.to_string().contains("secretpart123"), "{err}");
    assert!(err.is_transient());
    assert_eq!(Vendor::Slack.credential_var(), "SLACK_WEBHOOK_URL");
}
