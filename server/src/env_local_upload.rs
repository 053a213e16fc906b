//! `POST /secrets`: the secret coverage page's `.env.local` upload, a plain
//! multipart form (so it works without a script, and a file dropped on the
//! file box is sent the same way). The file is read into memory, at most
//! 64 KiB, handed to the page's render as `EnvLocalUpload`, compared there
//! and dropped with the response: never written anywhere. The answer is the
//! page itself, showing the comparison (or why the file could not be used).

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::response::{IntoResponse, Response};
use greenroom_app::api::secrets::EnvLocalUpload;
use leptos::prelude::provide_context;

/// The largest `.env.local` compared (the parser's own limit).
pub use greenroom::secrets::discover::dotenv::MAX_BYTES;

/// What the form sent: the project, and the file or why it cannot be used.
struct Posted {
    project: String,
    file: Result<String, String>,
}

/// Reads the form. Only the `project` and `env_local` fields are read; the
/// file's bytes stay in memory and no error repeats them.
async fn read(req: Request) -> Posted {
    let mut posted = Posted {
        project: String::new(),
        file: Err("Choose a .env.local to compare first.".into()),
    };
    let mut form = match Multipart::from_request(req, &()).await {
        Ok(f) => f,
        Err(_) => {
            posted.file =
                Err("The upload was not a file form; pick the file with the page's form.".into());
            return posted;
        }
    };
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                posted.file = Err("The upload was cut short or malformed; try again.".into());
                break;
            }
        };
        match field.name() {
            Some("project") => posted.project = field.text().await.unwrap_or_default(),
            Some("env_local") => {
                let name = field.file_name().unwrap_or("The file").to_string();
                if name.is_empty() {
                    continue;
                }
                let mut bytes = Vec::new();
                let mut too_big = false;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_BYTES => {
                            bytes.extend_from_slice(&chunk)
                        }
                        Ok(Some(_)) => {
                            too_big = true;
                            break;
                        }
                        Ok(None) => break,
                        Err(_) => {
                            posted.file =
                                Err("The upload was cut short or malformed; try again.".into());
                            return posted;
                        }
                    }
                }
                if too_big {
                    // The rest of the body is not read: past the route's
                    // limit that would only fail, and say less.
                    posted.file = Err(format!(
                        "{name} is larger than {} KiB; a .env.local is not. Nothing was compared.",
                        MAX_BYTES / 1024
                    ));
                    return posted;
                }
                posted.file = String::from_utf8(bytes).map_err(|_| {
                    format!("{name} is not UTF-8 text, so it is not a .env.local. Nothing was compared.")
                });
            }
            _ => {}
        }
    }
    posted
}

/// Answers the post with the page (as a GET of `/secrets?project=…` would
/// render it) and the file in the render's context. `context` is what every
/// page render gets (services, the person, the CSP nonce); `app` is the
/// document.
pub async fn upload<C, A, V>(req: Request, context: C, app: A) -> Response
where
    C: Fn() + Clone + Send + Sync + 'static,
    A: Fn() -> V + Clone + Send + Sync + 'static,
    V: leptos::IntoView + 'static,
{
    let headers = req.headers().clone();
    let extensions = req.extensions().clone();
    // The form's address names the project too, in case its field is not
    // read (a refused file stops the reading).
    let named = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "project")
            .map(|(_, v)| v.into_owned())
    });
    let mut posted = read(req).await;
    if posted.project.is_empty() {
        posted.project = named.unwrap_or_default();
    }
    let uri = format!(
        "/secrets?project={}",
        url::form_urlencoded::byte_serialize(posted.project.as_bytes()).collect::<String>()
    );
    let upload = match posted.file {
        Ok(text) => EnvLocalUpload::file(text),
        Err(why) => EnvLocalUpload::refused(why),
    };
    let mut page = Request::new(Body::empty());
    *page.uri_mut() = uri
        .parse()
        .unwrap_or_else(|_| "/secrets".parse().expect("a valid path"));
    *page.headers_mut() = headers;
    *page.extensions_mut() = extensions;
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || {
            context();
            provide_context(upload.clone());
        },
        app,
    );
    let mut response = handler(page).await.into_response();
    // The answer holds this person's comparison: no cache may keep it.
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}
