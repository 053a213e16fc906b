//! A Slack incoming webhook: `POST /slack/services/...` with JSON
//! `{"text": ..., "blocks": [...]}` answers 200 `ok`, as Slack does, and is
//! recorded for `GET /__sandbox/slack`.

use crate::{lock, Shared};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlackMessage {
    pub at_ms: i64,
    /// The webhook path after `/slack/services/`.
    pub hook: String,
    pub text: String,
    pub blocks: Option<serde_json::Value>,
}

pub fn routes() -> Router<Shared> {
    Router::new().route("/slack/services/{*hook}", post(receive))
}

/// Slack's own answers: 200 `ok`, or 400 `invalid_payload` / `no_text`.
async fn receive(
    State(state): State<Shared>,
    Path(hook): Path<String>,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload");
    };
    let text = payload
        .get("text")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_string();
    let blocks = payload.get("blocks").cloned();
    if text.trim().is_empty() && blocks.is_none() {
        return (StatusCode::BAD_REQUEST, "no_text");
    }
    lock(&state.slack).push(SlackMessage {
        at_ms: crate::request_log::now_ms(),
        hook,
        text,
        blocks,
    });
    (StatusCode::OK, "ok")
}
