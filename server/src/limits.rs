//! The instance's bounds in force (`[limits]`): how many requests are
//! answered at once, how long one may take to start its answer, how large a
//! body may be, and the slots exports and live streams take. A refusal is
//! answered at once, with the reason and when to try again, so nobody waits
//! on work the server will not do.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use greenroom::limits::{Full, LimitsConfig, Slots};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a refused client is asked to wait before trying again, in seconds.
const RETRY_AFTER_SECS: &str = "5";

pub struct Limits {
    pub exports: Arc<Slots>,
    pub live_streams: Arc<Slots>,
    in_flight: Semaphore,
    timeout: Duration,
    body_bytes: usize,
}

impl Limits {
    pub fn new(config: &LimitsConfig) -> Arc<Self> {
        Arc::new(Self {
            exports: Slots::new(config.exports_at_once, config.exports_per_person),
            live_streams: Slots::new(config.live_streams_at_once, config.live_streams_per_person),
            in_flight: Semaphore::new(config.requests_in_flight),
            timeout: Duration::from_secs(config.request_timeout_secs),
            body_bytes: config.request_body_bytes,
        })
    }
}

/// A refusal for want of a slot: 429 with `Retry-After` and the reason.
#[derive(Debug)]
pub struct Busy(pub String);

impl Busy {
    /// `what` in the plural ("exports", "live views").
    pub fn of(what: &str, full: Full) -> Self {
        Self(match full {
            Full::Person(n) => {
                format!("You already have {n} {what} open or running; close one and try again.")
            }
            Full::Instance => {
                format!("Too many {what} are running right now; try again in a few seconds.")
            }
        })
    }
}

impl IntoResponse for Busy {
    fn into_response(self) -> Response {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
            self.0,
        )
            .into_response()
    }
}

/// The `.env.local` upload bounds its own body (a larger limit, on its route).
fn own_body_limit(req: &Request) -> bool {
    req.method() == Method::POST && req.uri().path() == "/secrets"
}

fn is_probe(req: &Request) -> bool {
    req.method() == Method::GET && matches!(req.uri().path(), "/healthz" | "/readyz")
}

/// Bounds each request: its body's size, a place among the requests in
/// flight (waiting for one within the timeout), and the time until its
/// answer starts. A stream's place is given back at its first byte.
pub async fn bound(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    // Probes are cheap and must answer while the server is busy, or a load
    // balancer takes a busy instance for a dead one.
    if is_probe(&req) {
        return next.run(req).await;
    }
    let req = if own_body_limit(&req) {
        req
    } else {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.body_bytes as u64) {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The request body is larger than {} bytes, the most Greenroom takes.",
                    limits.body_bytes
                ),
            )
                .into_response();
        }
        // A body without a length (chunked) is cut off at the limit while read.
        let max = limits.body_bytes;
        req.map(|body| Body::new(http_body_util::Limited::new(body, max)))
    };
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let Ok(Ok(_place)) = tokio::time::timeout_at(deadline, limits.in_flight.acquire()).await else {
        return too_slow(
            &limits,
            "Greenroom is answering too many requests right now",
        );
    };
    match tokio::time::timeout_at(deadline, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(
                timeout_secs = limits.timeout.as_secs(),
                "a request took longer than the request timeout; answered 503"
            );
            too_slow(&limits, "The answer took too long")
        }
    }
}

fn too_slow(limits: &Limits, why: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
        format!(
            "{why} (limit: {} s); try again in a few seconds. An action you started carries on.",
            limits.timeout.as_secs()
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use axum::Router;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    /// `/hold` signals `entered` once it holds its place, then keeps it
    /// until `release` is notified.
    fn app_with(config: LimitsConfig, entered: Arc<Notify>, release: Arc<Notify>) -> Router {
        let limits = Limits::new(&config);
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    "late"
                }),
            )
            .route(
                "/hold",
                get(move || {
                    let (entered, release) = (entered.clone(), release.clone());
                    async move {
                        entered.notify_one();
                        release.notified().await;
                        "held"
                    }
                }),
            )
            .route("/healthz", get(|| async { "ok" }))
            .route("/echo", post(|body: String| async move { body }))
            .layer(axum::middleware::from_fn_with_state(limits, bound))
    }

    fn app(config: LimitsConfig) -> Router {
        app_with(config, Arc::new(Notify::new()), Arc::new(Notify::new()))
    }

    fn config() -> LimitsConfig {
        LimitsConfig {
            request_timeout_secs: 1,
            request_body_bytes: 1024,
            requests_in_flight: 1,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_request_that_takes_too_long_is_a_503_with_the_reason() {
        let res = app(config())
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "5");
        let text = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        assert!(String::from_utf8_lossy(&text).contains("took too long (limit: 1 s)"));
    }

    #[tokio::test]
    async fn a_request_waits_for_a_place_and_gives_up_at_the_timeout() {
        let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let app = app_with(config(), entered.clone(), release.clone());
        let first = tokio::spawn(
            app.clone()
                .oneshot(Request::get("/hold").body(Body::empty()).unwrap()),
        );
        entered.notified().await;
        let second = app
            .clone()
            .oneshot(Request::post("/echo").body(Body::from("hello")).unwrap())
            .await
            .unwrap();
        assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = axum::body::to_bytes(second.into_body(), 4096)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&text).contains("too many requests"));
        // A probe still answers while every place is taken.
        let probe = app
            .clone()
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(probe.status(), StatusCode::OK);
        release.notify_one();
        let first = first.await.unwrap().unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        // The place is given back: the next request gets in.
        let third = app
            .oneshot(Request::post("/echo").body(Body::from("again")).unwrap())
            .await
            .unwrap();
        assert_eq!(third.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_declared_or_not() {
        let declared = app(config())
            .oneshot(
                Request::post("/echo")
                    .header(header::CONTENT_LENGTH, "2048")
                    .body(Body::from(vec![b'x'; 2048]))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(declared.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let chunks = futures_util::stream::iter(
            (0..4).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 512]))),
        );
        let streamed = app(config())
            .oneshot(
                Request::post("/echo")
                    .body(Body::from_stream(chunks))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(streamed.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let small = app(config())
            .oneshot(Request::post("/echo").body(Body::from("hi")).unwrap())
            .await
            .unwrap();
        assert_eq!(small.status(), StatusCode::OK);
    }

    #[test]
    fn refusals_name_the_bound() {
        let res = Busy::of("exports", Full::Person(2)).into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "5");
        assert!(Busy::of("live views", Full::Instance)
            .0
            .contains("Too many live views"));
    }
}
