//! The request machinery every vendor client shares: the bearer token, bounded
//! retries with jittered backoff for idempotent reads, rate limits honoured
//! (`Retry-After`, GitHub's `x-ratelimit-reset`), pagination followed to the
//! end with a cap and a repeated-page guard, GitHub's conditional requests,
//! and typed decoding whose errors name the field that was missing.

use super::error::{ErrorKind, ProviderError, Vendor};
use crate::secret::Secret;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, ETAG};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How hard a client tries before giving up.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries of one idempotent read in all (1 = no retry).
    pub attempts: u32,
    /// Backoff before the second try; doubled after each, then jittered.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest a rate limit is waited out; longer ones become errors.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(5),
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

/// Where pagination stops.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Items per page asked for.
    pub per_page: usize,
    /// Pages fetched at most before it is called an error.
    pub max_pages: usize,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self {
            per_page: 100,
            max_pages: 200,
        }
    }
}

/// ETags and bodies of earlier answers, by URL (bounded in count and in
/// bytes, oldest dropped). Sync re-reads only the first page of each list
/// after its first full load, so later pages are not kept: the first load's
/// hundreds of pages otherwise stayed in memory for good.
#[derive(Default)]
struct EtagCache {
    entries: HashMap<String, (String, bytes::Bytes)>,
    order: VecDeque<String>,
    bytes: usize,
}

const ETAG_CACHE_ENTRIES: usize = 512;
const ETAG_CACHE_BYTES: usize = 4 * 1024 * 1024;

impl EtagCache {
    fn get(&self, url: &str) -> Option<&(String, bytes::Bytes)> {
        self.entries.get(url)
    }

    fn put(&mut self, url: String, etag: String, body: bytes::Bytes) {
        if body.len() > ETAG_CACHE_BYTES || is_later_page(&url) {
            return;
        }
        if let Some((_, old)) = self.entries.remove(&url) {
            self.bytes -= old.len();
            self.order.retain(|u| u != &url);
        }
        while self.order.len() >= ETAG_CACHE_ENTRIES || self.bytes + body.len() > ETAG_CACHE_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some((_, old)) = self.entries.remove(&oldest) {
                self.bytes -= old.len();
            }
        }
        self.bytes += body.len();
        self.order.push_back(url.clone());
        self.entries.insert(url, (etag, body));
    }
}

/// A list page after the first (`page=2` and on).
fn is_later_page(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.query_pairs().any(|(k, v)| k == "page" && v != "1"))
}

/// One vendor's API: base URL, token and policies.
pub struct Api {
    pub vendor: Vendor,
    base: String,
    token: Secret,
    client: reqwest::Client,
    /// For redirects (downloads) that must not be followed blindly.
    no_redirect: reqwest::Client,
    pub retry: RetryPolicy,
    pub pages: PageLimits,
    headers: HeaderMap,
    etags: Option<Mutex<EtagCache>>,
}

/// A successful answer's parts.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Api {
    pub fn new(
        vendor: Vendor,
        base: &str,
        token: Secret,
        timeouts: super::http::Timeouts,
    ) -> Result<Self, ProviderError> {
        let client = super::http::client(timeouts).map_err(|e| {
            ProviderError::new(
                vendor,
                "client",
                None,
                ErrorKind::Network {
                    detail: e.without_url().to_string(),
                },
            )
        })?;
        let no_redirect = reqwest::Client::builder()
            .user_agent(super::http::user_agent())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                ProviderError::new(
                    vendor,
                    "client",
                    None,
                    ErrorKind::Network {
                        detail: e.without_url().to_string(),
                    },
                )
            })?;
        Ok(Self {
            vendor,
            base: base.trim_end_matches('/').to_string(),
            token,
            client,
            no_redirect,
            retry: RetryPolicy::default(),
            pages: PageLimits::default(),
            headers: HeaderMap::new(),
            etags: None,
        })
    }

    /// A header sent with every request (GitHub's API version, say).
    pub fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
        self
    }

    /// Remember ETags and send `If-None-Match` (GitHub).
    pub fn with_etags(mut self) -> Self {
        self.etags = Some(Mutex::new(EtagCache::default()));
        self
    }

    /// The same API with another token (a signed-in user's), sharing the
    /// connection pool.
    pub fn with_token(&self, token: Secret) -> Self {
        Self {
            vendor: self.vendor,
            base: self.base.clone(),
            token,
            client: self.client.clone(),
            no_redirect: self.no_redirect.clone(),
            retry: self.retry,
            pages: self.pages,
            headers: self.headers.clone(),
            etags: self
                .etags
                .as_ref()
                .map(|_| Mutex::new(EtagCache::default())),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn request(
        &self,
        client: &reqwest::Client,
        method: Method,
        url: &str,
    ) -> reqwest::RequestBuilder {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.token.expose()))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        auth.set_sensitive(true);
        client
            .request(method, url)
            .headers(self.headers.clone())
            .header(AUTHORIZATION, auth)
    }

    fn err(&self, op: &'static str, status: Option<u16>, kind: ErrorKind) -> ProviderError {
        ProviderError::new(self.vendor, op, status, kind)
    }

    /// A GET, retried on 5xx, network errors, timeouts and rate limits.
    pub async fn read(&self, op: &'static str, url: &str) -> Result<Answer, ProviderError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.attempts.max(1);
            let cached = self.etags.as_ref().and_then(|c| lock(c).get(url).cloned());
            let mut req = self.request(&self.client, Method::GET, url);
            if let Some((etag, _)) = &cached {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag.as_str());
            }
            let outcome = match req.send().await {
                Err(e) => Err(ProviderError::from_reqwest(self.vendor, op, e)),
                Ok(res) => self.classify(op, res).await,
            };
            match outcome {
                Ok(answer) if answer.status == StatusCode::NOT_MODIFIED => {
                    return match cached {
                        Some((_, body)) => Ok(Answer {
                            status: StatusCode::OK,
                            body,
                            ..answer
                        }),
                        None => Err(self.err(
                            op,
                            Some(304),
                            ErrorKind::Malformed {
                                detail: "304 Not Modified for a request that was not conditional"
                                    .into(),
                            },
                        )),
                    };
                }
                Ok(answer) => {
                    if let (Some(cache), Some(etag)) = (&self.etags, answer.headers.get(ETAG)) {
                        if let Ok(etag) = etag.to_str() {
                            lock(cache).put(url.to_string(), etag.to_string(), answer.body.clone());
                        }
                    }
                    return Ok(answer);
                }
                Err(e) if last || !e.is_transient() => return Err(e),
                Err(e) => {
                    let wait = match &e.kind {
                        ErrorKind::RateLimited { retry_after } => match retry_after {
                            Some(w) if *w > self.retry.max_rate_limit_wait => return Err(e),
                            Some(w) => *w,
                            None => self.backoff(attempt),
                        },
                        _ => self.backoff(attempt),
                    };
                    tracing::warn!(vendor = %self.vendor, operation = op, attempt, wait_ms = wait.as_millis() as u64, error = %e, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Exponential backoff with full jitter: a random wait up to the cap.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .retry
            .base_delay
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.retry.max_delay);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // Half fixed, half random, so a retry never fires at once.
        cap / 2 + cap.mul_f64(f64::from(nanos % 1000) / 2000.0)
    }

    /// A non-idempotent call: sent once, never retried.
    pub async fn send<B: Serialize + ?Sized>(
        &self,
        op: &'static str,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<Answer, ProviderError> {
        let mut req = self.request(&self.client, method, url);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(self.vendor, op, e))?;
        self.classify(op, res).await
    }

    /// A form POST without the API token (OAuth's token exchange), sent once.
    pub async fn send_form(
        &self,
        op: &'static str,
        url: &str,
        body: String,
    ) -> Result<Answer, ProviderError> {
        let res = self
            .client
            .post(url)
            .header(ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(self.vendor, op, e))?;
        self.classify(op, res).await
    }

    /// A GET answered with a redirect: the `Location` it points to.
    pub async fn redirect_target(
        &self,
        op: &'static str,
        url: &str,
    ) -> Result<String, ProviderError> {
        let res = self
            .request(&self.no_redirect, Method::GET, url)
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(self.vendor, op, e))?;
        let status = res.status();
        if status.is_redirection() {
            return res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| {
                    self.err(
                        op,
                        Some(status.as_u16()),
                        ErrorKind::Malformed {
                            detail: "a redirect without a Location header".into(),
                        },
                    )
                });
        }
        let answer = self.classify(op, res).await?;
        Err(self.err(
            op,
            Some(answer.status.as_u16()),
            ErrorKind::Malformed {
                detail: "expected a redirect to a download".into(),
            },
        ))
    }

    /// Starts downloading a short-lived URL without sending the token to
    /// it. The body is read chunk by chunk ([`Download::chunk`]), so a
    /// caller can stop at its own cap instead of holding whatever the
    /// server chose to send.
    pub async fn open_download(
        &self,
        op: &'static str,
        url: &str,
    ) -> Result<Download, ProviderError> {
        let res = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(self.vendor, op, e))?;
        if !res.status().is_success() {
            // An error answer: classify reads its body for the reason.
            let answer = self.classify(op, res).await?;
            return Err(self.err(
                op,
                Some(answer.status.as_u16()),
                ErrorKind::Malformed {
                    detail: "expected a file, got an answer without one".into(),
                },
            ));
        }
        Ok(Download {
            res,
            vendor: self.vendor,
            op,
        })
    }

    /// Downloads a short-lived URL without sending the token to it, at most
    /// `limit` bytes: a longer body is refused as soon as it says so or
    /// grows past the limit, never held whole.
    pub async fn download(
        &self,
        op: &'static str,
        url: &str,
        limit: usize,
    ) -> Result<bytes::Bytes, ProviderError> {
        let too_large = || {
            self.err(
                op,
                None,
                ErrorKind::Malformed {
                    detail: format!("the download is larger than {limit} bytes"),
                },
            )
        };
        let mut d = self.open_download(op, url).await?;
        if d.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = d.chunk().await? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// Turns an answer into a body or a [`ProviderError`].
    async fn classify(
        &self,
        op: &'static str,
        res: reqwest::Response,
    ) -> Result<Answer, ProviderError> {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .bytes()
            .await
            .map_err(|e| ProviderError::from_reqwest(self.vendor, op, e))?;
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(Answer {
                status,
                headers,
                body,
            });
        }
        let code = Some(status.as_u16());
        let detail = vendor_message(&body)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        let kind = match status.as_u16() {
            401 => ErrorKind::Unauthorized,
            429 => ErrorKind::RateLimited {
                retry_after: retry_after(&headers),
            },
            // GitHub's primary and secondary rate limits arrive as 403.
            403 if is_rate_limit(&headers, &detail) => ErrorKind::RateLimited {
                retry_after: retry_after(&headers),
            },
            403 => ErrorKind::Forbidden { detail },
            404 | 410 => ErrorKind::NotFound { detail },
            500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Rejected { detail },
        };
        Err(self.err(op, code, kind))
    }
}

fn is_rate_limit(headers: &HeaderMap, detail: &str) -> bool {
    headers.contains_key(reqwest::header::RETRY_AFTER)
        || headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            == Some("0")
        || detail.to_ascii_lowercase().contains("rate limit")
}

/// `Retry-After` (seconds or an HTTP date), else GitHub's `x-ratelimit-reset`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let now = SystemTime::now();
    if let Some(v) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
    {
        if let Ok(secs) = v.trim().parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            return Some(at.duration_since(now).unwrap_or_default());
        }
    }
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())?
        .parse::<u64>()
        .ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(reset);
    Some(at.duration_since(now).unwrap_or_default())
}

/// The vendor's own message, cut short; it never holds a token.
fn vendor_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let msg = v
        .get("message")
        .or_else(|| v.get("error_description"))
        .or_else(|| v.get("error"))?
        .as_str()?;
    Some(msg.chars().take(200).collect())
}

/// serde's message without the value it found: `invalid type: string
/// "...", expected u64` quotes what the vendor sent, which may be a secret's
/// value, and these messages reach pages, logs and the CLI.
fn without_value(msg: &str) -> String {
    for prefix in ["invalid type", "invalid value", "unknown variant"] {
        if msg.starts_with(prefix) {
            return match msg.rfind(", expected") {
                Some(i) => format!("{prefix}{}", &msg[i..]),
                None => prefix.to_string(),
            };
        }
    }
    msg.to_string()
}

/// Decodes JSON; a missing or mistyped field is named with its path.
pub fn decode<T: DeserializeOwned>(
    vendor: Vendor,
    op: &'static str,
    body: &[u8],
) -> Result<T, ProviderError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = without_value(&e.into_inner().to_string());
        let detail = if path == "." || path.is_empty() {
            inner
        } else {
            format!("at {path}: {inner}")
        };
        ProviderError::new(vendor, op, None, ErrorKind::Malformed { detail })
    })
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"" || p.trim() == "rel=next")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// Adds query pairs to a URL, encoded.
pub fn with_query(url: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return url.to_string();
    }
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// One page of a list: its items, and the total the vendor claims if any.
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub total: Option<usize>,
}

impl Api {
    /// Follows a paginated list to its end (or `limit` items). Pages come
    /// from the `Link` header, or by counting when a vendor sends none; a
    /// page that repeats items of an earlier one, a link to another host,
    /// more than `max_pages` pages, or fewer items than the vendor's own
    /// total are errors rather than a silently wrong list.
    pub async fn collect<P, T>(
        &self,
        op: &'static str,
        first_url: &str,
        limit: Option<usize>,
        split: impl Fn(P) -> PageOf<T>,
        key: impl Fn(&T) -> String,
    ) -> Result<Vec<T>, ProviderError>
    where
        P: DeserializeOwned,
    {
        let per_page = self.pages.per_page;
        let mut url = with_query(
            first_url,
            &[("per_page", per_page.to_string()), ("page", "1".into())],
        );
        let mut out: Vec<T> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut claimed_total = None;
        for page in 1..=self.pages.max_pages {
            let answer = self.read(op, &url).await?;
            let parsed: P = decode(self.vendor, op, &answer.body)?;
            let PageOf { items, total } = split(parsed);
            claimed_total = total.or(claimed_total);
            let full = items.len() >= per_page;
            for item in items {
                if !seen.insert(key(&item)) {
                    return Err(self.err(op, None, ErrorKind::Malformed {
                        detail: format!("page {page} repeats items of an earlier page; stopped rather than loop"),
                    }));
                }
                out.push(item);
                if limit.is_some_and(|l| out.len() >= l) {
                    return Ok(out);
                }
            }
            let next = match next_link(&answer.headers) {
                Some(n) => Some(n),
                // No Link header: a full page may have a successor.
                None if full && !answer.headers.contains_key(reqwest::header::LINK) => {
                    Some(with_query(
                        first_url,
                        &[
                            ("per_page", per_page.to_string()),
                            ("page", (page + 1).to_string()),
                        ],
                    ))
                }
                None => None,
            };
            match next {
                None => {
                    if let Some(t) = claimed_total {
                        if out.len() < t {
                            return Err(self.err(
                                op,
                                None,
                                ErrorKind::Malformed {
                                    detail: format!(
                                        "the list claims {t} items but its pages held {}",
                                        out.len()
                                    ),
                                },
                            ));
                        }
                    }
                    return Ok(out);
                }
                Some(n) => {
                    if !same_origin(&n, &self.base) {
                        return Err(self.err(
                            op,
                            None,
                            ErrorKind::Malformed {
                                detail: "a page link points to another host; not followed".into(),
                            },
                        ));
                    }
                    url = n;
                }
            }
        }
        Err(self.err(
            op,
            None,
            ErrorKind::Malformed {
                detail: format!("more than {} pages; stopped", self.pages.max_pages),
            },
        ))
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        op: &'static str,
        url: &str,
    ) -> Result<T, ProviderError> {
        let answer = self.read(op, url).await?;
        decode(self.vendor, op, &answer.body)
    }

    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        op: &'static str,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<T, ProviderError> {
        let answer = self.send(op, method, url, body).await?;
        decode(self.vendor, op, &answer.body)
    }

    /// A call whose answer has no body worth reading (204, `{}`).
    pub async fn call_empty<B: Serialize + ?Sized>(
        &self,
        op: &'static str,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<(), ProviderError> {
        self.send(op, method, url, body).await.map(|_| ())
    }

    pub fn accept(self, value: &'static str) -> Self {
        let mut s = self;
        s.headers.insert(ACCEPT, HeaderValue::from_static(value));
        s
    }
}

/// A poisoned cache lock only means a panic mid-update; the cache is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn same_origin(url: &str, base: &str) -> bool {
    match (url::Url::parse(url), url::Url::parse(base)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

/// A download under way: its body, chunk by chunk.
pub struct Download {
    res: reqwest::Response,
    vendor: Vendor,
    op: &'static str,
}

impl Download {
    /// The length the server announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.res.content_length()
    }

    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, ProviderError> {
        self.res
            .chunk()
            .await
            .map_err(|e| ProviderError::from_reqwest(self.vendor, self.op, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decode_error_names_the_field_but_not_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Var {
            count: u64,
            kind: Kind,
        }
        #[derive(Debug, serde::Deserialize)]
        enum Kind {
            A,
        }
        let e = decode::<Var>(
            Vendor::Netlify,
            "op",
            br#"{"count": "sk-canary-1, expected", "kind": "A"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("count") && e.contains("expected u64"), "{e}");
        assert!(!e.contains("canary"), "{e}");
        let e = decode::<Var>(
            Vendor::Netlify,
            "op",
            br#"{"count": 1, "kind": "sk-canary-2"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("kind") && !e.contains("canary"), "{e}");
    }

    #[test]
    fn the_etag_cache_drops_the_oldest_answers_to_stay_within_its_bytes() {
        let mut cache = EtagCache::default();
        let big = bytes::Bytes::from(vec![b'x'; ETAG_CACHE_BYTES / 3]);
        let url =
            |n: u32| format!("https://api.github.test/repos/o/r/runs?per_page=100&page=1&n={n}");
        for n in 1..=4 {
            cache.put(url(n), format!("e{n}"), big.clone());
        }
        assert!(cache.get(&url(1)).is_none(), "the oldest went");
        assert_eq!(cache.get(&url(4)).map(|e| e.0.as_str()), Some("e4"));
        assert!(cache.bytes <= ETAG_CACHE_BYTES);
        // A newer answer for a known URL replaces it and is counted once.
        cache.put(url(4), "e4b".into(), bytes::Bytes::from_static(b"[]"));
        assert_eq!(cache.entries.len(), 3);
        assert_eq!(cache.bytes, 2 * big.len() + 2);
        // An answer larger than the whole cache is not kept, nor a later page.
        let huge = "https://api.github.test/huge".to_string();
        cache.put(
            huge.clone(),
            "h".into(),
            bytes::Bytes::from(vec![0; ETAG_CACHE_BYTES + 1]),
        );
        assert!(cache.get(&huge).is_none());
        let page = |n: u32| format!("https://api.github.test/repos/o/r/runs?per_page=100&page={n}");
        cache.put(page(2), "p2".into(), bytes::Bytes::from_static(b"[]"));
        assert!(cache.get(&page(2)).is_none());
        cache.put(page(1), "p1".into(), bytes::Bytes::from_static(b"[]"));
        assert!(cache.get(&page(1)).is_some());
    }
}
