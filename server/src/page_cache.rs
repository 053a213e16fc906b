//! A short-lived cache of rendered pages ("micro-caching"). Rendering a page
//! costs ~0.3–0.5 ms of CPU; under load many people ask for the same page
//! within a second, and the data under it changes far less often than that.
//!
//! Two layers use it. [`serve_cached`] sits outside sign-in and caches only
//! anonymous `GET`s: a request carrying a cookie or an `Authorization`
//! header bypasses it. [`serve_cached_personal`] sits inside the sign-in
//! guard and caches a signed-in person's pages under their login and role,
//! so a page is only ever served again to the person it was rendered for
//! (the overview and history pages under load, issue 5). Only `GET`s of
//! HTML pages that rendered with 200 are kept. The TTL is `page_cache_ms`
//! (0 turns both off); live views do not go through it (they read the API).
//! Entries are bounded in number, so random query strings cannot grow
//! memory without limit.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MAX_ENTRIES: usize = 512;
/// An expired copy is served, while one request renders a new one, for at
/// most this many times the TTL.
const STALE_GRACE: u32 = 3;
/// Larger pages are served but not cached.
const MAX_BODY: usize = 2 * 1024 * 1024;
/// Paths that are never pages.
const NOT_PAGES: &[&str] = &["/api/", "/pkg/", "/healthz", "/readyz"];
/// Pages whose forms redirect back to them: the page after a dismissal or
/// a re-check must show it, not a copy from a second ago.
const NEVER_CACHED: &[&str] = &["/secrets"];

#[derive(Clone)]
pub struct PageCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

struct Entry {
    stored: Instant,
    /// A request is rendering a fresh copy; others get this one meanwhile.
    refreshing: bool,
    headers: HeaderMap,
    /// The page cut where its CSP nonce was: each request's own nonce goes
    /// between the pieces (one copy of the page per hit, no search).
    pieces: Vec<Bytes>,
}

impl PageCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    /// The key of an anonymous page request, if it may be cached.
    fn key_for(&self, req: &Request) -> Option<String> {
        let h = req.headers();
        if h.contains_key(header::COOKIE) || h.contains_key(header::AUTHORIZATION) {
            return None;
        }
        self.page_key(req)
    }

    /// The key of a signed-in person's page request: their login and role
    /// first, so nobody else can ever hit it.
    fn personal_key_for(&self, req: &Request) -> Option<String> {
        let user = req.extensions().get::<greenroom::auth::SessionUser>()?;
        let page = self.page_key(req)?;
        Some(format!(
            "{}\u{0}{}\u{0}{page}",
            user.login,
            user.role.as_str()
        ))
    }

    fn page_key(&self, req: &Request) -> Option<String> {
        if self.ttl.is_zero() || req.method() != Method::GET {
            return None;
        }
        let path = req.uri().path();
        if NOT_PAGES
            .iter()
            .chain(NEVER_CACHED)
            .any(|p| path.starts_with(p))
            || path.contains('.')
        {
            return None;
        }
        Some(
            req.uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or(path)
                .to_string(),
        )
    }

    /// A copy to serve, if any. When a copy has expired, the first request
    /// to see it renders a new one (gets `None`) and, for a short grace
    /// period, the requests that arrive meanwhile get the previous copy: one
    /// render per expiry instead of one per waiting request.
    fn get(&self, key: &str, nonce: Option<&str>) -> Option<Response> {
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get_mut(key)?;
        let age = entry.stored.elapsed();
        if age >= self.ttl {
            if entry.refreshing && age < self.ttl * STALE_GRACE {
                // Served as it was while it is refreshed.
            } else {
                entry.refreshing = true;
                return None;
            }
        }
        let body = match (entry.pieces.as_slice(), nonce) {
            ([whole], _) => whole.clone(),
            (pieces, Some(new)) => join(pieces, new.as_bytes()),
            // A page rendered with a nonce served without one: no script of it may run.
            (pieces, None) => join(pieces, b""),
        };
        let mut res = Response::new(Body::from(body));
        *res.headers_mut() = entry.headers.clone();
        res.headers_mut()
            .insert("x-greenroom-cache", HeaderValue::from_static("hit"));
        Some(res)
    }

    fn put(&self, key: String, headers: HeaderMap, body: Bytes, nonce: Option<&str>) {
        let pieces = match nonce {
            Some(n) => split_at_nonce(&body, n),
            None => vec![body],
        };
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, e| e.stored.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                stored: Instant::now(),
                refreshing: false,
                headers,
                pieces,
            },
        );
    }
}

/// `body` cut around each `nonce="…"` value (the pieces share its memory).
fn split_at_nonce(body: &Bytes, nonce: &str) -> Vec<Bytes> {
    let needle = format!("nonce=\"{nonce}\"");
    let value_at = "nonce=\"".len();
    let mut pieces = Vec::new();
    let mut start = 0;
    while let Some(i) = find(&body[start..], needle.as_bytes()) {
        let at = start + i + value_at;
        pieces.push(body.slice(start..at));
        start = at + nonce.len();
    }
    pieces.push(body.slice(start..));
    pieces
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn join(pieces: &[Bytes], nonce: &[u8]) -> Bytes {
    let len = pieces.iter().map(Bytes::len).sum::<usize>() + nonce.len() * (pieces.len() - 1);
    let mut out = Vec::with_capacity(len);
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(nonce);
        }
        out.extend_from_slice(p);
    }
    Bytes::from(out)
}

/// Axum middleware for anonymous pages: serve from the cache, or render and remember.
pub async fn serve_cached(State(cache): State<PageCache>, req: Request, next: Next) -> Response {
    let Some(key) = cache.key_for(&req) else {
        return next.run(req).await;
    };
    cached_or_rendered(cache, key, req, next).await
}

/// Axum middleware for signed-in pages (inside the guard, which has put the
/// person in the request): the same, per person.
pub async fn serve_cached_personal(
    State(cache): State<PageCache>,
    req: Request,
    next: Next,
) -> Response {
    let Some(key) = cache.personal_key_for(&req) else {
        return next.run(req).await;
    };
    cached_or_rendered(cache, key, req, next).await
}

async fn cached_or_rendered(cache: PageCache, key: String, req: Request, next: Next) -> Response {
    let nonce = req
        .extensions()
        .get::<crate::security::CspNonce>()
        .map(|n| n.0.clone());
    if let Some(hit) = cache.get(&key, nonce.as_deref()) {
        return hit;
    }
    let res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if res.status() != StatusCode::OK || !is_html || res.headers().contains_key(header::SET_COOKIE)
    {
        return res;
    }
    let (parts, body) = res.into_parts();
    match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            cache.put(key, parts.headers.clone(), bytes.clone(), nonce.as_deref());
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => {
            tracing::warn!(error = %e, "page too large or failed while rendering; not cached");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered; try again.",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hit_gets_its_own_nonce_in_every_place() {
        let page = Bytes::from_static(
            b"<script nonce=\"aaa\">1</script><p>nonce=\"aaa\"</p><style nonce=\"aaa\"></style>",
        );
        let pieces = split_at_nonce(&page, "aaa");
        assert_eq!(pieces.len(), 4);
        assert_eq!(
            join(&pieces, b"zz9"),
            Bytes::from_static(
                b"<script nonce=\"zz9\">1</script><p>nonce=\"zz9\"</p><style nonce=\"zz9\"></style>"
            )
        );
        let plain = split_at_nonce(&Bytes::from_static(b"<p>no scripts</p>"), "aaa");
        assert_eq!(plain.len(), 1);
    }
}
