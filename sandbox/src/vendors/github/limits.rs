//! GitHub's rate limit and conditional requests: the middleware every API
//! route passes through, and `GET /rate_limit`, which reports the limit.

use super::{error, HOUR_MS, RATE_LIMIT};
use crate::vendors::{bearer, json_status};
use crate::{lock, Shared};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Authentication, the rate limit and its headers, for every API route.
pub async fn rate_limited(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let Some(token) = bearer(req.headers()) else {
        return error(StatusCode::UNAUTHORIZED, "Requires authentication");
    };
    let fingerprint = crate::request_log::fingerprint(&token);
    let conditional = req.headers().contains_key(header::IF_NONE_MATCH);
    // As on GitHub, asking for the rate limit costs none of it.
    let free = req.uri().path() == "/github/rate_limit";
    let (remaining, used, reset_s) = {
        let mut sim = lock(&state.sim);
        let now = sim.now();
        let window = now.div_euclid(HOUR_MS);
        let entry = sim.rate_used.entry(fingerprint).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let reset_s = (window + 1) * HOUR_MS / 1000;
        if entry.1 >= RATE_LIMIT {
            let mut res = error(StatusCode::FORBIDDEN, "API rate limit exceeded");
            set_rate_headers(res.headers_mut(), 0, entry.1, reset_s);
            return res;
        }
        // Provisionally counted; a 304 gives it back below.
        if !free {
            entry.1 += 1;
        }
        (RATE_LIMIT - entry.1, entry.1, reset_s)
    };
    let mut res = next.run(req).await;
    let (remaining, used) = if conditional && res.status() == StatusCode::NOT_MODIFIED {
        let mut sim = lock(&state.sim);
        let fp = res
            .extensions()
            .get::<Fingerprint>()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        if let Some(e) = sim.rate_used.get_mut(&fp) {
            e.1 = e.1.saturating_sub(1);
        }
        (remaining + 1, used - 1)
    } else {
        (remaining, used)
    };
    set_rate_headers(res.headers_mut(), remaining, used, reset_s);
    res
}

#[derive(Clone)]
struct Fingerprint(String);

fn set_rate_headers(h: &mut HeaderMap, remaining: u32, used: u32, reset_s: i64) {
    let mut set = |name: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(name, v);
        }
    };
    set("x-ratelimit-limit", RATE_LIMIT.to_string());
    set("x-ratelimit-remaining", remaining.to_string());
    set("x-ratelimit-used", used.to_string());
    set("x-ratelimit-reset", reset_s.to_string());
    set("x-ratelimit-resource", "core".into());
}

/// ETags on successful GETs, and 304 Not Modified when they match.
pub(super) async fn conditional(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let token = bearer(req.headers()).unwrap_or_default();
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // A fast 64-bit hash (SipHash with fixed keys) is enough to tell
    // answers apart; pages of runs are megabytes.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hasher::write(&mut hasher, &bytes);
    let etag = format!("W/\"{:016x}\"", std::hash::Hasher::finish(&hasher));
    if if_none_match.as_deref() == Some(etag.as_str()) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            res.headers_mut().insert(header::ETAG, v);
        }
        res.extensions_mut()
            .insert(Fingerprint(crate::request_log::fingerprint(&token)));
        return res;
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    Response::from_parts(parts, Body::from(bytes))
}

pub(super) async fn rate_limit(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let sim = lock(&state.sim);
    let now = sim.now();
    let window = now.div_euclid(HOUR_MS);
    let fp = bearer(&headers)
        .map(|t| crate::request_log::fingerprint(&t))
        .unwrap_or_default();
    let used = sim
        .rate_used
        .get(&fp)
        .filter(|(w, _)| *w == window)
        .map(|(_, u)| *u)
        .unwrap_or(0);
    let reset = (window + 1) * HOUR_MS / 1000;
    let core = json!({ "limit": RATE_LIMIT, "remaining": RATE_LIMIT - used, "reset": reset, "used": used });
    let other =
        |limit: u32| json!({ "limit": limit, "remaining": limit, "reset": reset, "used": 0 });
    json_status(
        StatusCode::OK,
        json!({
            "resources": {
                "core": core,
                "search": other(30),
                "graphql": other(5000),
                "integration_manifest": other(5000),
                "code_search": other(10),
            },
            "rate": core,
        }),
    )
}
