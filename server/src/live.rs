//! `GET /api/live?project=NAME&since=MARK`: a server-sent event stream that
//! sends the project's change mark (the time sync or an action last changed
//! its data) whenever it moves past what the page already shows. The page
//! then fetches its view again. Streams read the overview's read model
//! (`greenroom::read_model`), which one query per tick keeps current for
//! all of them: however many people watch, neither the database nor any
//! vendor is asked anything more. Each stream holds a slot: `[limits]`
//! bounds them per person (one per tab) and in all; beyond that the answer
//! is 429 and that tab shows what it loaded without live updates.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// How often each open stream looks at the change mark (in memory).
const POLL: Duration = Duration::from_millis(400);
/// How often an open stream checks that its session still exists: a
/// sign-out, an admin's "end all sessions" or a revoked membership ends the
/// stream within this long.
const SESSION_CHECK: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
pub struct LiveQuery {
    project: String,
    #[serde(default)]
    since: i64,
}

pub async fn live(
    State(services): State<greenroom::Services>,
    State(limits): State<std::sync::Arc<crate::limits::Limits>>,
    user: Option<axum::Extension<greenroom::auth::SessionUser>>,
    session: tower_sessions::Session,
    Query(q): Query<LiveQuery>,
) -> Response {
    let Some(axum::Extension(user)) = user else {
        return (StatusCode::UNAUTHORIZED, "sign in to follow live changes").into_response();
    };
    let session_id = session.id();
    let storage = services.storage.clone();
    let ops = services.ops.clone();
    let Some(project_id) = ops.target(&q.project).map(|t| t.project_id) else {
        return (StatusCode::NOT_FOUND, "no such project").into_response();
    };
    let slot = match limits.live_streams.take(&user.login) {
        Ok(s) => s,
        Err(full) => return crate::limits::Busy::of("live views", full).into_response(),
    };
    let overviews = ops.overviews.clone();
    let stopping = ops.stopping.clone();
    let started = tokio::time::Instant::now();
    let stream = futures_util::stream::unfold((q.since, started), move |(last, checked)| {
        let overviews = overviews.clone();
        let mut stopping = stopping.clone();
        let storage = storage.clone();
        // Given back when the stream ends or its client goes away.
        let _slot = &slot;
        async move {
            let mut ticker = tokio::time::interval(POLL);
            let mut checked = checked;
            loop {
                if checked.elapsed() >= SESSION_CHECK {
                    checked = tokio::time::Instant::now();
                    if !session_lives(&storage, session_id).await {
                        return None;
                    }
                }
                // The server is shutting down: end the stream (the browser's
                // EventSource reconnects to whichever instance serves next).
                if *stopping.borrow() {
                    return None;
                }
                tokio::select! {
                    _ = ticker.tick() => {}
                    changed = stopping.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        continue;
                    }
                }
                match overviews.mark(project_id).await {
                    Ok(mark) if mark > last => {
                        let event = Event::default().data(mark.to_string());
                        return Some((Ok::<_, Infallible>(event), (mark, checked)));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "live view could not read the change mark")
                    }
                }
            }
        }
    });
    // Fused: an unfold panics if polled again after it ended.
    Sse::new(stream.fuse())
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Whether the stream's session still exists (and still holds a person);
/// a database that cannot answer keeps the stream for now.
async fn session_lives(
    storage: &greenroom::Storage,
    id: Option<tower_sessions::session::Id>,
) -> bool {
    use tower_sessions::SessionStore;
    let Some(id) = id else {
        return false;
    };
    match storage.load(&id).await {
        Ok(Some(record)) => record.data.contains_key(greenroom::auth::USER_KEY),
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e, "live view could not check its session; keeping it");
            true
        }
    }
}
