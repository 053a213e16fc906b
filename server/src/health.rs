//! `/healthz` (the process answers) and `/readyz` (it can do its job: the
//! database answers and every migration is applied), as JSON for probes.
//! Where the database is, which backend, and why it fails are for admins
//! (and the log): a probe needs only the verdict.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok", "version": greenroom::VERSION }))
}

pub async fn readyz(
    State(services): State<greenroom::Services>,
    user: Option<axum::Extension<greenroom::auth::SessionUser>>,
) -> impl IntoResponse {
    let admin = user.is_some_and(|u| u.role >= greenroom::domain::Role::Admin);
    let status = services.status().await;
    let code = if status.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let database = match &status.database {
        Ok(r) if admin => json!({
            "reachable": true,
            "backend": r.backend,
            "location": r.location,
            "migrations_applied": r.migrations_applied,
            "migrations_expected": r.migrations_expected,
        }),
        Ok(r) => json!({
            "reachable": true,
            "migrations_applied": r.migrations_applied,
            "migrations_expected": r.migrations_expected,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database does not answer");
            if admin {
                json!({ "reachable": false, "error": e })
            } else {
                json!({ "reachable": false })
            }
        }
    };
    let body = json!({
        "status": if status.ready { "ready" } else { "not_ready" },
        "version": status.version,
        "mode": status.mode,
        "database": database,
    });
    (code, Json(body))
}
