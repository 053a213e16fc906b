//! Faults injected on demand (`POST /__sandbox/faults`): an error status, a
//! slow answer, no answer, an answer withheld after the work is done, a
//! malformed body, 429 with `Retry-After`, or
//! broken pagination (a page cut short, or every page the first one again),
//! for the requests whose method and path match, N times or until cleared.

use crate::{lock, Shared};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;

/// How long a `timeout` fault holds a request before giving up with 504. Long
/// enough for any client timeout, short enough that nothing hangs for ever.
const TIMEOUT_HOLD: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// Answer with this status and a JSON error body.
    Status { status: u16 },
    /// Wait this long, then answer normally.
    Latency { ms: u64 },
    /// Never answer (until the client gives up).
    Timeout,
    /// Carry the request out at once, then withhold the answer for `ms`
    /// (or until the client goes away): the vendor did it, but the answer
    /// never arrived.
    ApplyThenHang { ms: u64 },
    /// 200 with a body that is not valid JSON.
    Malformed,
    /// 429 with `Retry-After`; `status: 403` gives GitHub's secondary
    /// rate limit instead.
    RateLimit {
        retry_after_secs: u64,
        #[serde(default)]
        status: Option<u16>,
    },
    /// A list page holding only its first `keep` items (links unchanged), as
    /// a vendor cutting a page short would send.
    TruncatedPagination { keep: usize },
    /// Every page answered with the first page (a cursor that never moves).
    RepeatedPage,
}

// No `deny_unknown_fields` here: serde cannot combine it with `flatten`; the
// flattened `FaultKind` still refuses fields its variant does not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// `"METHOD /path"` or `"/path"`; `*` in the path matches any characters.
    pub route: String,
    #[serde(flatten)]
    pub fault: FaultKind,
    /// How many matching requests it hits; absent = until cleared.
    #[serde(default)]
    pub count: Option<u32>,
}

#[derive(Default)]
pub struct FaultTable {
    faults: Mutex<Vec<FaultSpec>>,
}

impl FaultTable {
    pub fn add(&self, spec: FaultSpec) -> Result<(), String> {
        let status_ok = |s: u16| (400..=599).contains(&s);
        if let FaultKind::Status { status } = spec.fault {
            if !status_ok(status) {
                return Err(format!("status {status} is not an error status (400-599)"));
            }
        }
        if spec.count == Some(0) {
            return Err("count must be at least 1 (omit it for 'until cleared')".into());
        }
        let (_, path) = split_route(&spec.route);
        if !path.starts_with('/') {
            return Err(format!(
                "route {:?} must be a path starting with '/', optionally after a method",
                spec.route
            ));
        }
        lock(&self.faults).push(spec);
        Ok(())
    }

    pub fn list(&self) -> Vec<FaultSpec> {
        lock(&self.faults).clone()
    }

    pub fn clear(&self) {
        lock(&self.faults).clear();
    }

    /// The first fault matching this request, using up one of its count.
    fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        let i = faults.iter().position(|f| {
            let (m, p) = split_route(&f.route);
            m.is_none_or(|m| m.eq_ignore_ascii_case(method)) && glob(p, path)
        })?;
        let fault = faults[i].fault.clone();
        match &mut faults[i].count {
            Some(1) => {
                faults.remove(i);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(fault)
    }
}

fn split_route(route: &str) -> (Option<&str>, &str) {
    match route.trim().split_once(' ') {
        Some((m, p)) => (Some(m), p.trim()),
        None => (None, route.trim()),
    }
}

/// `*` matches any run of characters (including `/`); everything else is literal.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Waits `d`, or less if the sandbox stops meanwhile.
async fn hold(state: &Shared, d: Duration) {
    let mut stopping = state.stopping.subscribe();
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stopping.wait_for(|s| *s) => {}
    }
}

pub async fn apply(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let Some(fault) = state.faults.take(req.method().as_str(), req.uri().path()) else {
        return next.run(req).await;
    };
    match fault {
        FaultKind::Latency { ms } => {
            hold(&state, Duration::from_millis(ms)).await;
            next.run(req).await
        }
        FaultKind::Status { status } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({ "message": format!("sandbox fault: {status}") });
            (code, axum::Json(body)).into_response()
        }
        FaultKind::Timeout => {
            hold(&state, TIMEOUT_HOLD).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        FaultKind::ApplyThenHang { ms } => {
            // Its own task: the work is done even if the client leaves at once
            // (the connection's future is dropped then, with this sleep).
            let done = tokio::spawn(next.run(req)).await;
            hold(&state, Duration::from_millis(ms)).await;
            done.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        FaultKind::Malformed => {
            let mut res = Response::new(Body::from("{\"id\": \"trunc"));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            res
        }
        FaultKind::RepeatedPage => {
            let (mut parts, body) = req.into_parts();
            let query: Vec<&str> = parts
                .uri
                .query()
                .unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("page="))
                .collect();
            let uri = if query.is_empty() {
                parts.uri.path().to_string()
            } else {
                format!("{}?{}", parts.uri.path(), query.join("&"))
            };
            if let Ok(u) = uri.parse() {
                parts.uri = u;
            }
            next.run(Request::from_parts(parts, body)).await
        }
        FaultKind::TruncatedPagination { keep } => {
            let res = next.run(req).await;
            let (parts, body) = res.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024 * 1024).await else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                return Response::from_parts(parts, Body::from(bytes));
            };
            match &mut json {
                serde_json::Value::Array(items) => items.truncate(keep),
                serde_json::Value::Object(map) => {
                    for v in map.values_mut() {
                        if let serde_json::Value::Array(items) = v {
                            items.truncate(keep);
                        }
                    }
                }
                _ => {}
            }
            let mut parts = parts;
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.remove(header::ETAG);
            Response::from_parts(parts, Body::from(json.to_string()))
        }
        FaultKind::RateLimit {
            retry_after_secs,
            status,
        } => {
            let body = serde_json::json!({
                "message": "You have exceeded a secondary rate limit (sandbox fault)"
            });
            let code = match status {
                Some(403) => StatusCode::FORBIDDEN,
                _ => StatusCode::TOO_MANY_REQUESTS,
            };
            let mut res = (code, axum::Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_any_run_of_characters() {
        assert!(glob(
            "/netlify/api/v1/sites/*/deploys",
            "/netlify/api/v1/sites/abc/deploys"
        ));
        assert!(glob("*", "/anything/at/all"));
        assert!(glob("/slack/*", "/slack/services/T/B/x"));
        assert!(!glob("/slack/*", "/github/user"));
        assert!(!glob("/a/*/c", "/a/b/d"));
        assert!(glob("/exact", "/exact"));
        assert!(!glob("/exact", "/exact/more"));
    }
}
