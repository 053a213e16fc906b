//! The right HTTP status for an API error the server function never saw.
//!
//! A server function sets its status from its `ApiError` (`with_status`), but
//! when its parameters cannot be read (missing, repeated, malformed) the
//! framework answers before the function runs, with 500. The error it sends
//! is already an `ApiError` (`BadRequest`, see `FromServerFnError`); this
//! layer reads such a 500 and answers with the status that error names.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use greenroom_app::model::ApiError;

/// Error bodies are short; anything longer is left as it is.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn correct_status(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !api || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(e) = serde_json::from_slice::<ApiError>(&bytes) {
        if let Ok(code) = StatusCode::from_u16(e.status()) {
            parts.status = code;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
