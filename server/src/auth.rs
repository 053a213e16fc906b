//! Sign-in, sign-out and the one guard every request passes.
//!
//! `/auth/login` starts the GitHub OAuth flow (state + PKCE kept in the
//! pre-sign-in session), `/auth/callback` finishes it, checks membership and
//! rotates the session id, `/auth/sign-out` (POST) ends the session on the
//! server. The guard loads the signed-in person (enforcing the absolute
//! session lifetime and re-checking membership at the configured interval),
//! sends anonymous page views to `/sign-in`, and holds every server function
//! to the role `greenroom_app::policy` declares for it.

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use greenroom::auth::membership;
use greenroom::auth::rate_limit::SignInLimiter;
use greenroom::auth::recheck::{Rechecks, Seen, Verdict, Wait, CHECK_DEADLINE};
use greenroom::auth::redirect::safe_next;
use greenroom::auth::signin::OAuthApp;
use greenroom::auth::RoleUnconfirmed;
use greenroom::auth::{
    constant_time_eq, PendingSignIn, SessionUser, PENDING_KEY, PENDING_TTL_MS, REFUSAL_KEY,
    USER_KEY,
};
use greenroom::config::AuthConfig;
use greenroom::providers::github::GitHubClient;
use greenroom::storage::{now_ms, AuditOutcome, NewAuditEvent};
use greenroom::Storage;
use greenroom_app::policy::{self, Access};
use serde::Deserialize;
use std::sync::Arc;
use tower_sessions::Session;

#[derive(Clone)]
pub struct AuthState {
    pub storage: Storage,
    /// Membership re-checks in flight or done (single flight per login).
    pub rechecks: Arc<Rechecks>,
    pub config: Arc<AuthConfig>,
    pub oauth: Arc<OAuthApp>,
    /// Greenroom's own GitHub client (membership checks).
    pub github: Arc<GitHubClient>,
    pub limiter: Arc<SignInLimiter>,
}

/// How long the request that starts a due membership re-check waits for it
/// before going on with the last known role (the re-check finishes in the
/// background; requests that find it running do not wait).
const RECHECK_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// Where the request came from, for the audit log and the rate limit.
fn client_ip(req_ext: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    crate::client_address::of(req_ext)
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(100).collect())
}

fn event(
    action: &str,
    user: Option<&SessionUser>,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
) -> NewAuditEvent {
    NewAuditEvent {
        actor_login: user.map(|u| u.login.clone()),
        actor_id: user.map(|u| u.id),
        role: user.map(|u| u.role.as_str().to_string()),
        action: action.into(),
        params: serde_json::json!({}),
        request_id: request_id(headers),
        client_ip: ip.map(|i| i.to_string()),
        ..Default::default()
    }
}

async fn audit(storage: &Storage, e: NewAuditEvent, outcome: AuditOutcome, message: Option<&str>) {
    if let Err(err) = storage.record_finished_audit(&e, outcome, message).await {
        tracing::error!(error = %err, action = %e.action, "could not write the audit log");
    }
}

fn too_many(wait_s: u64) -> Response {
    let mut res = (
        StatusCode::TOO_MANY_REQUESTS,
        format!("Too many sign-in attempts from your address; try again in {wait_s} s."),
    )
        .into_response();
    if let Ok(v) = wait_s.to_string().parse() {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Starts a sign-in: remembers state, PKCE verifier and where to go after.
pub async fn login(
    State(auth): State<AuthState>,
    session: Session,
    Query(q): Query<LoginQuery>,
    req: Request,
) -> Response {
    if let Some(ip) = client_ip(req.extensions()) {
        if let Err(wait) = auth.limiter.attempt(&auth.storage, ip, now_ms()).await {
            return too_many(wait);
        }
    }
    let started = auth.oauth.start();
    let pending = PendingSignIn {
        state: started.state,
        pkce_verifier: started.pkce_verifier,
        next: safe_next(q.next.as_deref()),
        started_at_ms: now_ms(),
    };
    let _ = session.remove::<String>(REFUSAL_KEY).await;
    if let Err(e) = session.insert(PENDING_KEY, &pending).await {
        tracing::error!(error = %e, "could not store the sign-in in progress");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable: the session store failed. Try again.",
        )
            .into_response();
    }
    Redirect::to(&started.authorize_url).into_response()
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Finishes a sign-in; on any refusal, says why on the sign-in page.
pub async fn callback(
    State(auth): State<AuthState>,
    session: Session,
    Query(q): Query<CallbackQuery>,
    req: Request,
) -> Response {
    let ip = client_ip(req.extensions());
    let headers = req.headers().clone();
    if let Some(ip) = ip {
        if let Err(wait) = auth.limiter.attempt(&auth.storage, ip, now_ms()).await {
            return too_many(wait);
        }
    }
    let refuse = |why: String, code: &'static str| {
        let storage = auth.storage.clone();
        let session = session.clone();
        let headers = headers.clone();
        async move {
            let mut e = event("sign_in", None, ip, &headers);
            e.params = serde_json::json!({ "reason": code });
            audit(&storage, e, AuditOutcome::Refused, Some(&why)).await;
            let _ = session.remove::<PendingSignIn>(PENDING_KEY).await;
            let _ = session.insert(REFUSAL_KEY, &why).await;
            Redirect::to("/sign-in").into_response()
        }
    };
    let pending: Option<PendingSignIn> = session.get(PENDING_KEY).await.ok().flatten();
    let Some(pending) = pending else {
        return refuse(
            "No sign-in was in progress in this browser (or it was already used). Start again."
                .into(),
            "no_pending",
        )
        .await;
    };
    if now_ms() - pending.started_at_ms > PENDING_TTL_MS {
        return refuse("The sign-in took too long. Start again.".into(), "expired").await;
    }
    if !q
        .state
        .as_deref()
        .is_some_and(|s| constant_time_eq(s, &pending.state))
    {
        return refuse(
            "The sign-in could not be verified (its state did not match). Start again.".into(),
            "state_mismatch",
        )
        .await;
    }
    if let Some(err) = q.error {
        return refuse(format!("GitHub did not sign you in ({err})."), "denied").await;
    }
    let Some(code) = q.code else {
        return refuse("GitHub sent no code. Start again.".into(), "no_code").await;
    };
    // Used once: a replayed callback finds no sign-in in progress.
    let _ = session.remove::<PendingSignIn>(PENDING_KEY).await;
    let token = match auth.oauth.finish(&code, &pending.pkce_verifier).await {
        Ok(t) => t,
        Err(e) => return refuse(format!("Signing in failed: {e}"), "exchange_failed").await,
    };
    let who = match auth.github.as_user(token).get_authenticated_user().await {
        Ok(u) => u,
        Err(e) => {
            return refuse(
                format!("GitHub could not say who you are: {e}"),
                "user_failed",
            )
            .await
        }
    };
    let role = match membership::role_of(&auth.github, &auth.config, &who.login).await {
        Ok(Ok(role)) => role,
        Ok(Err(refusal)) => {
            let code = refusal.code();
            let mut e = event("sign_in", None, ip, &headers);
            e.actor_login = Some(who.login.clone());
            e.actor_id = Some(who.id as i64);
            e.params = serde_json::json!({ "reason": code });
            audit(
                &auth.storage,
                e,
                AuditOutcome::Refused,
                Some(&refusal.to_string()),
            )
            .await;
            let _ = session.insert(REFUSAL_KEY, refusal.to_string()).await;
            return Redirect::to("/sign-in").into_response();
        }
        Err(e) => {
            return refuse(
                format!("Membership could not be checked: {e}"),
                "membership_failed",
            )
            .await
        }
    };
    let now = now_ms();
    let user = SessionUser {
        login: who.login,
        id: who.id as i64,
        name: who.name,
        role,
        signed_in_at_ms: now,
        checked_at_ms: now,
    };
    // A new id at sign-in: a session fixed before sign-in is worthless after.
    if let Err(e) = session.cycle_id().await {
        tracing::error!(error = %e, "could not rotate the session id");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable: the session store failed. Try again.",
        )
            .into_response();
    }
    let _ = session.remove::<String>(REFUSAL_KEY).await;
    if session.insert(USER_KEY, &user).await.is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable: the session store failed. Try again.",
        )
            .into_response();
    }
    audit(
        &auth.storage,
        event("sign_in", Some(&user), ip, &headers),
        AuditOutcome::Succeeded,
        None,
    )
    .await;
    Redirect::to(&pending.next).into_response()
}

/// Ends the session on the server (the row is deleted) and forgets the cookie.
pub async fn sign_out(State(auth): State<AuthState>, session: Session, req: Request) -> Response {
    let user: Option<SessionUser> = session.get(USER_KEY).await.ok().flatten();
    if let Some(u) = &user {
        audit(
            &auth.storage,
            event(
                "sign_out",
                Some(u),
                client_ip(req.extensions()),
                req.headers(),
            ),
            AuditOutcome::Succeeded,
            None,
        )
        .await;
    }
    let _ = session.flush().await;
    Redirect::to("/sign-in").into_response()
}

/// The signed-in person, after the absolute lifetime and membership checks.
async fn current_user(
    auth: &AuthState,
    session: &Session,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
) -> Option<(SessionUser, Option<RoleUnconfirmed>)> {
    let mut user: SessionUser = session.get(USER_KEY).await.ok().flatten()?;
    let mut unconfirmed = None;
    let now = now_ms();
    if now - user.signed_in_at_ms > auth.config.session_absolute.as_millis() as i64 {
        let _ = session.flush().await;
        return None;
    }
    let interval = auth.config.membership_check.as_millis() as i64;
    if now - user.checked_at_ms > interval {
        let past_grace = now - user.checked_at_ms > 4 * interval;
        let (github, config, login) =
            (auth.github.clone(), auth.config.clone(), user.login.clone());
        let seen = auth
            .rechecks
            .due(
                &user.login,
                user.checked_at_ms,
                now,
                // Past the grace there is no last role to go on with: wait
                // for GitHub's answer (bounded by the check's deadline).
                if past_grace {
                    Wait::Always(CHECK_DEADLINE + std::time::Duration::from_secs(1))
                } else {
                    Wait::IfStarted(RECHECK_WAIT)
                },
                move || async move {
                    match membership::role_of(&github, &config, &login).await {
                        Ok(Ok(role)) => Verdict::Role(role),
                        Ok(Err(refusal)) => Verdict::Refused(refusal),
                        Err(e) => Verdict::Unknown(e.to_string()),
                    }
                },
            )
            .await;
        match seen {
            Seen::Done {
                verdict: Verdict::Role(role),
                at_ms,
            } => {
                user.role = role;
                user.checked_at_ms = at_ms;
                let _ = session.insert(USER_KEY, &user).await;
            }
            Seen::Done {
                verdict: Verdict::Refused(refusal),
                ..
            } => {
                audit(
                    &auth.storage,
                    event("session_revoked", Some(&user), ip, headers),
                    AuditOutcome::Refused,
                    Some(&refusal.to_string()),
                )
                .await;
                let _ = session.flush().await;
                return None;
            }
            // GitHub slow or unreachable: keep the last role for a while
            // (four check intervals), not for ever.
            outcome if !past_grace => {
                if let Seen::Done {
                    verdict: Verdict::Unknown(e),
                    ..
                } = outcome
                {
                    tracing::warn!(error = %e, login = %user.login, "membership re-check failed; keeping the last known role for now");
                    unconfirmed = Some(RoleUnconfirmed(user.checked_at_ms));
                }
            }
            _ => {
                tracing::warn!(login = %user.login, "membership unconfirmed for too long; signing out");
                let _ = session.flush().await;
                return None;
            }
        }
    }
    Some((user, unconfirmed))
}

/// Paths that need no sign-in at all.
fn is_open(path: &str) -> bool {
    path == "/sign-in"
        || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/favicon.ico"
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// The guard: every request except [`is_open`] ones. What a signed-in
/// person is shown is theirs: no cache may keep it (`no-store`), unless the
/// response says otherwise (the fingerprinted assets under `/pkg`).
pub async fn guard(State(auth): State<AuthState>, mut req: Request, next: Next) -> Response {
    let session = req.extensions().get::<Session>().cloned();
    let ip = client_ip(req.extensions());
    let found = match &session {
        Some(s) => current_user(&auth, s, ip, req.headers()).await,
        None => None,
    };
    let user = found.as_ref().map(|(u, _)| u.clone());
    if let Some((u, unconfirmed)) = found {
        req.extensions_mut().insert(u);
        if let Some(mark) = unconfirmed {
            req.extensions_mut().insert(mark);
        }
    }
    let signed_in = user.is_some();
    let mut res = admit(&auth, user, ip, req, next).await;
    if signed_in
        && !res
            .headers()
            .contains_key(axum::http::header::CACHE_CONTROL)
    {
        res.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    res
}

/// Lets the request through, refuses it, or sends it to sign in.
async fn admit(
    auth: &AuthState,
    user: Option<SessionUser>,
    ip: Option<std::net::IpAddr>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/api/") {
        let needed = match policy::required(&path) {
            Some(Access::Public) => return next.run(req).await,
            Some(Access::Role(r)) => r,
            None => {
                tracing::error!(%path, "a server function without a declared role was refused");
                return json_error(
                    StatusCode::FORBIDDEN,
                    "This function has no declared role, so nobody may call it.",
                );
            }
        };
        return match &user {
            None => json_error(StatusCode::UNAUTHORIZED, "Sign in to do this."),
            Some(u) if u.role < needed => {
                let mut e = event("authorize", Some(u), ip, req.headers());
                e.target_kind = Some("function".into());
                e.target_id = Some(path.clone());
                let msg = format!(
                    "{} needs the {} role; {} has {}",
                    path,
                    needed.as_str(),
                    u.login,
                    u.role.as_str()
                );
                audit(&auth.storage, e, AuditOutcome::Refused, Some(&msg)).await;
                json_error(
                    StatusCode::FORBIDDEN,
                    &format!(
                        "Your role ({}) may not do this; it needs {}.",
                        u.role.as_str(),
                        needed.as_str()
                    ),
                )
            }
            Some(_) => next.run(req).await,
        };
    }
    if is_open(&path) || user.is_some() {
        return next.run(req).await;
    }
    let wanted = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let next_path = safe_next(Some(wanted));
    let target = if next_path == "/" {
        "/sign-in".to_string()
    } else {
        format!(
            "/sign-in?next={}",
            url::form_urlencoded::byte_serialize(next_path.as_bytes()).collect::<String>()
        )
    };
    Redirect::to(&target).into_response()
}

/// `POST /sessions/end-all`: the Activity page's plain form (no script
/// needed) for what `/api/sessions/end-all` does; admins only.
pub async fn end_all_sessions_form(
    State(auth): State<AuthState>,
    session: Session,
    req: Request,
) -> Response {
    let ip = client_ip(req.extensions());
    let Some(user) = req.extensions().get::<SessionUser>().cloned() else {
        return Redirect::to("/sign-in?next=%2Factivity").into_response();
    };
    if user.role < greenroom::domain::Role::Admin {
        let mut e = event("authorize", Some(&user), ip, req.headers());
        e.target_kind = Some("route".into());
        e.target_id = Some("/sessions/end-all".into());
        audit(
            &auth.storage,
            e,
            AuditOutcome::Refused,
            Some("ending sessions needs the admin role"),
        )
        .await;
        return json_error(
            StatusCode::FORBIDDEN,
            "Only an admin may end other people's sessions.",
        );
    }
    let own = session.id().map(|i| i.to_string());
    match greenroom::auth::end_all_sessions(
        &auth.storage,
        &user,
        own.as_deref(),
        ip.map(|i| i.to_string()),
    )
    .await
    {
        Ok(n) => Redirect::to(&format!("/activity?ended={n}")).into_response(),
        Err(e) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("Sessions could not be ended: {e}"),
        ),
    }
}
