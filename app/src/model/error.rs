//! The one error type of the API, as the browser receives it: each variant
//! carries a message a person can act on, and maps to an HTTP status.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Errors the API reports to the browser, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// Greenroom itself could not do it (database down, misconfiguration).
    #[error("{0}")]
    Unavailable(String),
    /// The request did not reach Greenroom or its answer could not be read.
    #[error("Greenroom could not be reached ({0}); check your connection and try again")]
    Transport(String),
    /// Not signed in (or the session ended).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// The request itself was wrong (a bad filter, say).
    #[error("{0}")]
    BadRequest(String),
    /// What was asked for does not exist (a deploy, a project).
    #[error("{0}")]
    NotFound(String),
    /// It cannot be done now (nothing to redeploy, a deploy already building).
    #[error("{0}")]
    Conflict(String),
    /// A vendor refused or failed; the text says which and what to do.
    #[error("{0}")]
    Upstream(String),
}

impl ApiError {
    /// The HTTP status a server function answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::BadRequest(_) => 400,
            ApiError::NotFound(_) => 404,
            ApiError::Conflict(_) => 409,
            ApiError::Upstream(_) => 502,
            ApiError::Unavailable(_) | ApiError::Transport(_) => 503,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request's parameters could not be read: the caller's
            // mistake, said in words that name the parameter (serde's
            // "missing field `project`"), cut short so that a long input is
            // never echoed back whole.
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                ApiError::BadRequest(format!(
                    "The request's parameters could not be read: {}. The README's API table lists what each endpoint takes.",
                    clip(&m, 160)
                ))
            }
            other => ApiError::Transport(other.to_string()),
        }
    }
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
