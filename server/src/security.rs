//! Web-security layers every response and every mutating request passes:
//! a Content-Security-Policy whose script nonce Leptos' inline scripts carry
//! (no `unsafe-inline` for scripts), framing and sniffing forbidden, a
//! same-origin referrer policy, HSTS on https, and a same-origin check on
//! every request that can change something.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

/// This request's CSP nonce; Leptos receives it through context.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

#[derive(Clone, Debug)]
pub struct Security {
    /// `scheme://host[:port]` of the public base URL.
    pub origin: String,
    pub https: bool,
    /// Where refused cross-origin requests are recorded.
    pub storage: greenroom::Storage,
    /// Anonymous refusals written to the audit log, per address and minute:
    /// nobody signed in can fill the log (the rest are logged only).
    pub anonymous_audits: std::sync::Arc<greenroom::auth::rate_limit::SignInLimiter>,
}

/// Audit rows an anonymous address may cause per minute.
pub const ANONYMOUS_AUDITS_PER_MINUTE: u32 = 10;

impl Security {
    pub fn new(public_url: &Url, storage: greenroom::Storage) -> Self {
        Self {
            origin: public_url.origin().ascii_serialization(),
            https: public_url.scheme() == "https",
            storage,
            anonymous_audits: std::sync::Arc::new(greenroom::auth::rate_limit::SignInLimiter::new(
                ANONYMOUS_AUDITS_PER_MINUTE,
            )),
        }
    }
}

pub fn csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the security headers; gives each request a fresh nonce.
pub async fn headers(State(sec): State<Security>, mut req: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new().to_string();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A response that set its own, stricter policy keeps it (an artifact's
    // file is served with `sandbox`).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(v) = HeaderValue::from_str(&csp(&nonce)) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if sec.https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// Refuses a request that can change something unless its `Origin` (or, when
/// a browser sends none, its `Referer`) is Greenroom's own.
pub async fn same_origin(State(sec): State<Security>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let claimed = h
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
        .map(str::to_string)
        .or_else(|| {
            h.get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| Url::parse(r).ok())
                .map(|u| u.origin().ascii_serialization())
        });
    if claimed.as_deref() == Some(sec.origin.as_str()) {
        return next.run(req).await;
    }
    tracing::warn!(origin = ?claimed, path = %req.uri().path(), "cross-origin request refused");
    let user = req
        .extensions()
        .get::<greenroom::auth::SessionUser>()
        .cloned();
    let ip = crate::client_address::of(req.extensions());
    let write = user.is_some()
        || ip.is_some_and(|ip| {
            sec.anonymous_audits
                .attempt_here(ip, greenroom::storage::now_ms())
                .is_ok()
        });
    let event = greenroom::storage::NewAuditEvent {
        actor_login: user.as_ref().map(|u| u.login.clone()),
        actor_id: user.as_ref().map(|u| u.id),
        role: user.as_ref().map(|u| u.role.as_str().to_string()),
        action: "cross_origin".into(),
        target_kind: Some("path".into()),
        target_id: Some(req.uri().path().chars().take(200).collect()),
        params: serde_json::json!({ "origin": claimed.as_deref().map(|o| o.chars().take(200).collect::<String>()) }),
        client_ip: ip.map(|ip| ip.to_string()),
        ..Default::default()
    };
    if !write {
        // Logged above; the audit log holds no more of this address now.
    } else if let Err(e) = sec
        .storage
        .record_finished_audit(
            &event,
            greenroom::storage::AuditOutcome::Refused,
            Some("the request did not come from Greenroom's own origin"),
        )
        .await
    {
        tracing::error!(error = %e, "could not write the audit log");
    }
    (
        StatusCode::FORBIDDEN,
        axum::Json(serde_json::json!({
            "error": "This request did not come from Greenroom's own pages (Origin or Referer missing or foreign), so it was refused."
        })),
    )
        .into_response()
}
