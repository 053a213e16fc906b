//! The simulated vendor APIs, each under its own prefix.

pub mod github;
pub mod netlify;
pub mod oauth;
pub mod supabase;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use std::collections::HashMap;

pub type Params = HashMap<String, String>;

/// `page` and `per_page` as the vendors read them: pages count from 1.
pub struct Page {
    pub page: usize,
    pub per_page: usize,
}

impl Page {
    pub fn from(q: &Params, default_per_page: usize, max_per_page: usize) -> Result<Self, String> {
        let num = |name: &str, default: usize| -> Result<usize, String> {
            match q.get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<usize>()
                    .map_err(|_| format!("{name} must be a positive integer, got {v:?}")),
            }
        };
        let page = num("page", 1)?.max(1);
        let per_page = num("per_page", default_per_page)?.clamp(1, max_per_page);
        Ok(Self { page, per_page })
    }

    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.page - 1)
            .saturating_mul(self.per_page)
            .min(items.len());
        let end = start.saturating_add(self.per_page).min(items.len());
        &items[start..end]
    }

    /// An RFC 8288 `Link` header for `total` items, as GitHub and Netlify send.
    pub fn link(&self, url_without_query: &str, q: &Params, total: usize) -> Option<HeaderValue> {
        let last = total.div_ceil(self.per_page).max(1);
        let url = |page: usize| {
            let mut pairs: Vec<(String, String)> = q
                .iter()
                .filter(|(k, _)| k.as_str() != "page" && k.as_str() != "per_page")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            pairs.sort();
            pairs.push(("per_page".into(), self.per_page.to_string()));
            pairs.push(("page".into(), page.to_string()));
            let query: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            format!("<{url_without_query}?{}>", query.join("&"))
        };
        let mut parts = Vec::new();
        if self.page < last {
            parts.push(format!("{}; rel=\"next\"", url(self.page + 1)));
            parts.push(format!("{}; rel=\"last\"", url(last)));
        }
        if self.page > 1 {
            parts.push(format!("{}; rel=\"first\"", url(1)));
            parts.push(format!("{}; rel=\"prev\"", url(self.page - 1)));
        }
        if parts.is_empty() {
            return None;
        }
        HeaderValue::from_str(&parts.join(", ")).ok()
    }
}

/// What a query component keeps as it is: RFC 3986's unreserved characters.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query component.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

pub fn json_with_link(body: Value, link: Option<HeaderValue>) -> Response {
    let mut headers = HeaderMap::new();
    if let Some(l) = link {
        headers.insert(header::LINK, l);
    }
    (headers, Json(body)).into_response()
}

pub fn json_status(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// A boolean query flag as the vendors accept it.
pub fn flag(q: &Params, name: &str) -> Option<bool> {
    q.get(name).map(|v| v == "true" || v == "1")
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))
        .or_else(|| v.strip_prefix("token "))?
        .trim();
    (!t.is_empty()).then(|| t.to_string())
}
