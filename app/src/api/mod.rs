//! The server functions: Greenroom's HTTP API under `/api`, one file per
//! page. Each is thin: check the role, call the core, map the result into the
//! view model (`crate::model`). Endpoints are fixed (listed in the README) so
//! that people can script them with `curl` and a session cookie.

pub mod actions;
pub mod activity;
#[cfg(feature = "ssr")]
mod artifacts;
pub mod branches;
#[cfg(feature = "ssr")]
mod convert;
pub mod deploy;
pub mod fragments;
pub mod history;
pub mod overview;
pub mod secrets;
pub mod shell;

#[cfg(feature = "ssr")]
pub use ssr::*;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::model::ApiError;
    use leptos::prelude::*;

    /// Sets the response status from the error, so scripts calling the API
    /// with `curl` see 400, 404, 409 ... rather than 500 for everything.
    pub fn with_status<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
        // A plain HTML form's post is redirected back to its page with the
        // error in the address (server_fn's form redirect); an error status
        // on that redirect would stop the browser from following it.
        let plain_form = use_context::<http::request::Parts>().is_some_and(|p| {
            p.method == http::Method::POST
                && p.headers
                    .get(http::header::ACCEPT)
                    .and_then(|a| a.to_str().ok())
                    .is_some_and(|a| a.contains("text/html"))
        });
        if let (Err(e), false) = (&result, plain_form) {
            if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(code) = http::StatusCode::from_u16(e.status()) {
                    options.set_status(code);
                }
            }
        }
        result
    }

    /// The request's id (set and bounded by the server's request-id layer)
    /// and the client's address (resolved by the server, proxies included),
    /// for the audit log.
    pub(crate) fn request_facts() -> (Option<String>, Option<String>) {
        let Some(parts) = use_context::<http::request::Parts>() else {
            return (None, None);
        };
        let id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(64).collect());
        let ip = parts
            .extensions
            .get::<greenroom::client_ip::ClientIp>()
            .map(|c| c.0.to_string());
        (id, ip)
    }

    /// The signed-in person at `path` (which the policy admits), as the
    /// actor of an action, for the audit log and Slack.
    pub(crate) fn actor(path: &str) -> Result<greenroom::actions::Actor, ApiError> {
        let user =
            authorize(path)?.ok_or_else(|| ApiError::Unauthorized("Sign in to do this.".into()))?;
        let (request_id, client_ip) = request_facts();
        Ok(greenroom::actions::Actor {
            login: user.login.clone(),
            id: Some(user.id),
            role: user.role.as_str().into(),
            request_id,
            client_ip,
        })
    }

    pub(crate) fn services() -> Result<greenroom::Services, ApiError> {
        use_context::<greenroom::Services>().ok_or_else(|| {
            ApiError::Unavailable("Greenroom's services are not available to this request".into())
        })
    }

    /// The one authorization check, for calls made while rendering a page
    /// (which do not pass the HTTP guard): the role `policy` declares for
    /// `path`, against the signed-in person the server put in context.
    pub fn authorize(path: &str) -> Result<Option<greenroom::auth::SessionUser>, ApiError> {
        use crate::policy::{required, Access};
        let user = use_context::<greenroom::auth::SessionUser>();
        match required(path) {
            Some(Access::Public) => Ok(user),
            Some(Access::Role(r)) => match user {
                None => Err(ApiError::Unauthorized("Sign in to do this.".into())),
                Some(u) if u.role < r => Err(ApiError::Forbidden(format!(
                    "Your role ({}) may not do this; it needs {}.",
                    u.role.as_str(),
                    r.as_str()
                ))),
                Some(u) => Ok(Some(u)),
            },
            None => Err(ApiError::Forbidden(
                "This function has no declared role, so nobody may call it.".into(),
            )),
        }
    }

    /// The configured project called `name`, or a 404 that says what to do.
    pub(crate) fn target<'a>(
        ops: &'a greenroom::services::Operations,
        name: &str,
    ) -> Result<&'a greenroom::sync::SyncTarget, ApiError> {
        ops.target(name).ok_or_else(|| {
            ApiError::NotFound(format!(
                "No project is called {name:?}; pick one from the project switcher."
            ))
        })
    }

    /// A page's address query (`a=1&b=2`) as `T`, or a 400 that says what
    /// to do.
    pub(crate) fn read_query<T: serde::de::DeserializeOwned>(query: &str) -> Result<T, ApiError> {
        with_status(serde_urlencoded::from_str(query).map_err(|_| {
            ApiError::BadRequest(
                "The address's filters could not be read; check it and try again.".into(),
            )
        }))
    }

    /// Whether the signed-in person has at least `role`.
    pub(crate) fn has_role(
        user: &Option<greenroom::auth::SessionUser>,
        role: greenroom::domain::Role,
    ) -> bool {
        user.as_ref().is_some_and(|u| u.role >= role)
    }

    impl From<greenroom::StorageError> for ApiError {
        fn from(e: greenroom::StorageError) -> Self {
            ApiError::Unavailable(e.to_string())
        }
    }

    impl From<greenroom::filters::FilterError> for ApiError {
        fn from(e: greenroom::filters::FilterError) -> Self {
            ApiError::BadRequest(e.0)
        }
    }

    impl From<greenroom::actions::ActionError> for ApiError {
        fn from(e: greenroom::actions::ActionError) -> Self {
            use greenroom::actions::ActionError as E;
            match e {
                E::Invalid(m) => ApiError::BadRequest(m),
                E::NotApplicable(m) => ApiError::Conflict(m),
                E::Upstream(m) => ApiError::Upstream(m),
                E::Storage(s) => ApiError::Unavailable(s.to_string()),
            }
        }
    }
}
