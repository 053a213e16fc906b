//! `GET /api/live?project=NAME&since=MARK`: a server-sent event stream that
//! sends the project's change mark (the time sync or an action last changed
//! its data) whenever it moves past what the page already shows. The page
//! then fetches its view again. Streams read the overview's read model
//! (`greenroom::read_model`), which one query per tick keeps current for
//! all of them: however many people watch, neither the database nor any
//! vendor is asked anything more.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// How often each open stream looks at the change mark (in memory).
const POLL: Duration = Duration::from_millis(400);

#[derive(Deserialize)]
pub struct LiveQuery {
    project: String,
    #[serde(default)]
    since: i64,
}

pub async fn live(
    State(services): State<greenroom::Services>,
    Query(q): Query<LiveQuery>,
) -> Response {
    let ops = services.ops.clone();
    let Some(project_id) = ops.target(&q.project).map(|t| t.project_id) else {
        return (StatusCode::NOT_FOUND, "no such project").into_response();
    };
    let overviews = ops.overviews.clone();
    let stopping = ops.stopping.clone();
    let stream = futures_util::stream::unfold(q.since, move |last| {
        let overviews = overviews.clone();
        let mut stopping = stopping.clone();
        async move {
            let mut ticker = tokio::time::interval(POLL);
            loop {
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
                        return Some((Ok::<_, Infallible>(event), mark));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "live view could not read the change mark")
                    }
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
