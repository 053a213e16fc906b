//! Every request gets an `x-request-id`, echoed on its response and written
//! to the audit log. A caller's own id is kept only when it is short and
//! plain (at most 64 of `A-Z a-z 0-9 . _ : -`): anything else is replaced,
//! so nobody can store an unbounded or misleading string in the audit log.

use axum::extract::Request;
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Whether a caller-chosen id may be kept.
pub fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Drops an unacceptable (or repeated) incoming id, so the layer after it
/// sets a fresh one.
pub async fn drop_unacceptable(mut req: Request, next: Next) -> Response {
    let ids: Vec<_> = req.headers().get_all(&HEADER).iter().collect();
    let keep = ids.len() == 1 && ids[0].to_str().is_ok_and(acceptable);
    if !keep {
        req.headers_mut().remove(&HEADER);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(acceptable("req-1"));
        assert!(acceptable("3f2a1c0e-9b7d-4c1a-8f00-1234567890ab"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"a".repeat(65)));
        assert!(!acceptable("id with spaces"));
        assert!(!acceptable("<script>"));
    }
}
