//! `GET /runs/{run}/artifacts/{artifact}/raw?path=P`: one file of a run's
//! artifact, for signed-in people (the guard sees to it). What is served
//! depends on what the file is, never on what it claims:
//! - an image only once its bytes are sniffed as PNG, JPEG, GIF or WebP,
//!   with that type;
//! - a log, or any other file that is UTF-8 text (an HTML report, a HAR,
//!   a file without an extension), as a download of its plain text with
//!   escapes dropped and secrets masked line by line, as the page shows it;
//! - HTML and anything else as a download (`attachment`,
//!   `application/octet-stream`), so nothing in an artifact ever runs as a
//!   page of Greenroom's origin; a binary file (a video) as it is;
//! - an archive inside the artifact not at all.
//!
//! Every answer carries `X-Content-Type-Options: nosniff` and
//! `Content-Security-Policy: sandbox`.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use greenroom::artifacts::{sniff, ArtifactError, EntryKind};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct RawQuery {
    #[serde(default)]
    path: String,
}

/// What a file of an artifact is served with, whatever it is.
const SANDBOX: &str =
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";

fn refuse(status: StatusCode, text: impl Into<String>) -> Response {
    let mut res = (status, text.into()).into_response();
    harden(&mut res);
    res
}

fn harden(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SANDBOX),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

fn artifact_error(e: ArtifactError) -> Response {
    let status = match e {
        ArtifactError::Expired => StatusCode::GONE,
        ArtifactError::Gone => StatusCode::NOT_FOUND,
        ArtifactError::Refused(_) => StatusCode::CONFLICT,
        ArtifactError::Vendor(_) => StatusCode::BAD_GATEWAY,
        ArtifactError::Disk(_) | ArtifactError::Evicted => StatusCode::SERVICE_UNAVAILABLE,
    };
    refuse(status, e.to_string())
}

/// The file's name for a download: its last path part, in characters a
/// `Content-Disposition` header carries safely.
fn download_name(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if clean.is_empty() || clean.chars().all(|c| c == '.') {
        "file".into()
    } else {
        clean
    }
}

fn download(bytes: Vec<u8>, content_type: &'static str, path: &str) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", download_name(path)))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    harden(&mut res);
    res
}

pub async fn raw(
    State(services): State<greenroom::Services>,
    Path((run_id, artifact_id)): Path<(i64, u64)>,
    Query(q): Query<RawQuery>,
) -> Response {
    let ops = &services.ops;
    let (_, target) = match ops.run_and_target(&services.storage, run_id).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "No such run of a configured project.",
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "an artifact file was refused: the database did not answer");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "Greenroom's database did not answer; try again shortly.",
            );
        }
    };
    let repo = greenroom::sync::repo_of(&target.project);
    let found = match ops.artifacts.find(&repo, run_id as u64, artifact_id).await {
        Ok(a) => a,
        Err(e) => return artifact_error(e),
    };
    match found {
        None => return refuse(StatusCode::NOT_FOUND, "The run has no such artifact."),
        Some(a) if a.expired => return artifact_error(ArtifactError::Expired),
        Some(_) => {}
    }
    let opened = match ops.artifacts.open(&repo, artifact_id).await {
        Ok(o) => o,
        Err(e) => return artifact_error(e),
    };
    let Some(entry) = opened.checked.entry(&q.path).cloned() else {
        return refuse(StatusCode::NOT_FOUND, "The artifact has no such file.");
    };
    match entry.kind {
        EntryKind::Archive => refuse(
            StatusCode::FORBIDDEN,
            "Archives inside an artifact are never opened or served.",
        ),
        EntryKind::Image => match ops.artifacts.file(&opened, &entry.path).await {
            Ok(bytes) => match sniff::image(&bytes) {
                Some(image) => {
                    let mut res = bytes.into_response();
                    let h = res.headers_mut();
                    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(image.mime()));
                    // Immutable, like the artifact; but only for this person.
                    h.insert(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("private, max-age=3600"),
                    );
                    harden(&mut res);
                    res
                }
                None => refuse(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "This file is named as an image, but its bytes are not PNG, JPEG, GIF or WebP; it is not served.",
                ),
            },
            Err(e) => artifact_error(e),
        },
        EntryKind::Text | EntryKind::Xml | EntryKind::Html | EntryKind::Other => {
            let bytes = match ops.artifacts.file(&opened, &entry.path).await {
                Ok(b) => b,
                Err(e) => return artifact_error(e),
            };
            let text_type = matches!(entry.kind, EntryKind::Text | EntryKind::Xml);
            // A log is text even with a stray byte (read as U+FFFD): it is
            // masked like any other, never sent raw.
            let text = match String::from_utf8(bytes) {
                Ok(t) => Ok(t),
                Err(e) if text_type => Ok(String::from_utf8_lossy(e.as_bytes()).into_owned()),
                Err(e) => Err(e),
            };
            match text {
                Ok(text) => {
                    let known = ops.secrets.known_values(target).await;
                    let masked = greenroom::artifacts::log::text_masked(&text, &known);
                    let content_type = if text_type {
                        "text/plain; charset=utf-8"
                    } else {
                        "application/octet-stream"
                    };
                    download(masked.into_bytes(), content_type, &entry.path)
                }
                // Binary (a video, a font): nothing to mask as text.
                Err(e) => download(e.into_bytes(), "application/octet-stream", &entry.path),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_plain() {
        assert_eq!(download_name("report/index.html"), "index.html");
        assert_eq!(download_name("a/\"evil\r\nx.html"), "_evil__x.html");
        assert_eq!(download_name("dir/"), "file");
        assert_eq!(download_name(".."), "file");
    }
}
