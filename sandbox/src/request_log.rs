//! Every request a vendor route receives, so tests can count upstream calls
//! (`GET /__sandbox/requests`). Tokens are never stored: only a short
//! fingerprint telling which token was used.

use crate::{lock, Shared};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::Mutex;

/// The most recent requests kept; older ones are dropped first.
const CAPACITY: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub seq: u64,
    pub at_ms: i64,
    pub vendor: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// `sha256:` and the first 12 hex digits of the bearer token, if any.
    pub token: Option<String>,
    pub user_agent: Option<String>,
    /// Whether the request was conditional (`If-None-Match`).
    #[serde(default)]
    pub conditional: bool,
    /// The status answered; 0 when the client went away before the answer.
    pub status: u16,
    /// JSON bodies, kept only while body capture is on (contract tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
}

#[derive(Default)]
pub struct RequestLog {
    inner: Mutex<(u64, VecDeque<LoggedRequest>)>,
    /// Whether to keep JSON bodies; off by default to keep the log small.
    pub capture_bodies: std::sync::atomic::AtomicBool,
}

/// Bodies larger than this are not kept.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Filters of `GET /__sandbox/requests`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFilter {
    pub vendor: Option<String>,
    /// Keeps requests whose path starts with this.
    pub path: Option<String>,
    pub method: Option<String>,
}

impl RequestLog {
    fn push(&self, mut entry: LoggedRequest) {
        let mut guard = lock(&self.inner);
        guard.0 += 1;
        entry.seq = guard.0;
        if guard.1.len() == CAPACITY {
            guard.1.pop_front();
        }
        guard.1.push_back(entry);
    }

    pub fn list(&self, filter: &RequestFilter) -> Vec<LoggedRequest> {
        lock(&self.inner)
            .1
            .iter()
            .filter(|r| filter.vendor.as_ref().is_none_or(|v| &r.vendor == v))
            .filter(|r| {
                filter
                    .path
                    .as_ref()
                    .is_none_or(|p| r.path.starts_with(p.as_str()))
            })
            .filter(|r| {
                filter
                    .method
                    .as_ref()
                    .is_none_or(|m| r.method.eq_ignore_ascii_case(m))
            })
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        lock(&self.inner).1.clear();
    }
}

/// The vendor a path belongs to: its first segment.
pub fn vendor_of(path: &str) -> &str {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

fn token_fingerprint(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
        .unwrap_or(value);
    Some(fingerprint(token))
}

/// `sha256:` and the first 12 hex digits of the token's digest.
pub fn fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A request whose client went away before it was answered is still logged,
/// with status 0: the sandbox may have carried it out (`apply_then_hang`).
struct Unanswered(Option<(Shared, LoggedRequest)>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some((state, entry)) = self.0.take() {
            state.requests.push(entry);
        }
    }
}

pub async fn record(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let entry = LoggedRequest {
        seq: 0,
        at_ms: now_ms(),
        vendor: vendor_of(req.uri().path()).to_string(),
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
        token: token_fingerprint(&req),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        conditional: req.headers().contains_key(header::IF_NONE_MATCH),
        status: 0,
        request_body: None,
        response_body: None,
        response_type: None,
    };
    let capture = state
        .requests
        .capture_bodies
        .load(std::sync::atomic::Ordering::Relaxed);
    if !capture {
        let mut pending = Unanswered(Some((state.clone(), entry)));
        let res = next.run(req).await;
        if let Some((state, entry)) = pending.0.take() {
            state.requests.push(LoggedRequest {
                status: res.status().as_u16(),
                ..entry
            });
        }
        return res;
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let request_body = serde_json::from_slice(&bytes).ok();
    let res = next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await;
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let response_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_json = response_type.as_deref().is_some_and(|t| t.contains("json"));
    state.requests.push(LoggedRequest {
        status: parts.status.as_u16(),
        request_body,
        response_body: if is_json {
            serde_json::from_slice(&bytes).ok()
        } else {
            None
        },
        response_type,
        ..entry
    });
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
