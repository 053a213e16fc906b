//! The control API under `/__sandbox/`, for tests and scripts; it answers
//! loopback clients only.
//!
//! | method, path | what |
//! | --- | --- |
//! | `GET /__sandbox/world` | the world: ids of sites, repo, project, members and roles |
//! | `GET /__sandbox/requests?vendor=&path=&method=` | requests received by vendor routes |
//! | `GET /__sandbox/faults` | faults in force |
//! | `POST /__sandbox/faults` | add a fault (JSON [`FaultSpec`]) |
//! | `DELETE /__sandbox/faults` | clear all faults |
//! | `GET /__sandbox/slack` | messages posted to the Slack webhook |
//! | `POST /__sandbox/reset` | restore the world, forget requests, faults, messages |

use crate::faults::FaultSpec;
use crate::request_log::RequestFilter;
use crate::{lock, Shared};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::net::SocketAddr;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/__sandbox/world", get(world))
        .route("/__sandbox/requests", get(requests))
        .route(
            "/__sandbox/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/__sandbox/slack", get(slack))
        .route("/__sandbox/reset", post(reset))
        .layer(axum::middleware::from_fn(loopback_only))
}

async fn loopback_only(req: Request, next: Next) -> Response {
    let from_loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(addr)| addr.ip().is_loopback());
    if !from_loopback {
        return error(
            StatusCode::FORBIDDEN,
            "the sandbox control API answers loopback clients only",
        );
    }
    next.run(req).await
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn world(State(state): State<Shared>) -> Response {
    Json(lock(&state.world).clone()).into_response()
}

async fn requests(
    State(state): State<Shared>,
    filter: Result<Query<RequestFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(f)) => Json(state.requests.list(&f)).into_response(),
        Err(e) => error(
            StatusCode::BAD_REQUEST,
            &format!("{e}; filters are vendor, path and method"),
        ),
    }
}

async fn list_faults(State(state): State<Shared>) -> Response {
    Json(state.faults.list()).into_response()
}

async fn add_fault(
    State(state): State<Shared>,
    spec: Result<Json<FaultSpec>, JsonRejection>,
) -> Response {
    let spec = match spec {
        Ok(Json(s)) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    match state.faults.add(spec) {
        Ok(()) => (StatusCode::CREATED, Json(state.faults.list())).into_response(),
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn clear_faults(State(state): State<Shared>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn slack(State(state): State<Shared>) -> Response {
    Json(lock(&state.slack).clone()).into_response()
}

async fn reset(State(state): State<Shared>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}
