//! `/healthz` (the process answers) and `/readyz` (it can do its job: the
//! database answers and every migration is applied), as JSON for probes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok", "version": greenroom::VERSION }))
}

pub async fn readyz(State(services): State<greenroom::Services>) -> impl IntoResponse {
    let status = services.status().await;
    let code = if status.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let database = match &status.database {
        Ok(r) => json!({
            "reachable": true,
            "backend": r.backend,
            "location": r.location,
            "migrations_applied": r.migrations_applied,
            "migrations_expected": r.migrations_expected,
        }),
        Err(e) => json!({ "reachable": false, "error": e }),
    };
    let body = json!({
        "status": if status.ready { "ready" } else { "not_ready" },
        "version": status.version,
        "mode": status.mode,
        "database": database,
    });
    (code, Json(body))
}
