//! The activity page's data: the audit log, filtered, and ending sessions.

use crate::model::{ActivityPage, ActivityQuery, ApiError};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/activity`: the audit log, newest first, filtered.
#[server(prefix = "/api", endpoint = "activity", input = GetUrl)]
pub async fn get_activity(query: ActivityQuery) -> Result<ActivityPage, ApiError> {
    super::with_status(
        async {
            let user = super::authorize("/api/activity")?;
            page(&user, &query).await
        }
        .await,
    )
}

/// A page of the audit log that `query` selects.
#[cfg(feature = "ssr")]
pub(super) async fn page(
    user: &Option<greenroom::auth::SessionUser>,
    query: &ActivityQuery,
) -> Result<ActivityPage, ApiError> {
    use crate::model::ACTIVITY_PAGE;
    use greenroom::filters::{audit_cursor, audit_filter, split_page};
    let services = super::services()?;
    let (filter, after) = audit_filter(&super::convert::audit_params(query))?;
    let events = services
        .storage
        .list_audit(&filter, after, ACTIVITY_PAGE + 1)
        .await?;
    let (events, next) = split_page(events, ACTIVITY_PAGE as usize, |e| {
        audit_cursor(&e.cursor())
    });
    Ok(ActivityPage {
        rows: events.iter().map(super::convert::activity_row).collect(),
        next,
        can_end_sessions: super::has_role(user, greenroom::domain::Role::Admin),
    })
}

/// `POST /api/sessions/end-all` (admin): signs everyone else out now.
#[server(prefix = "/api", endpoint = "sessions/end-all")]
pub async fn end_all_sessions() -> Result<u64, ApiError> {
    super::with_status(
        async {
            let user = super::authorize("/api/sessions/end-all")?
                .ok_or_else(|| ApiError::Unauthorized("Sign in to do this.".into()))?;
            let services = super::services()?;
            let own = use_context::<tower_sessions::Session>()
                .and_then(|s| s.id().map(|i| i.to_string()));
            let (_, client_ip) = super::request_facts();
            Ok(greenroom::auth::end_all_sessions(
                &services.storage,
                &user,
                own.as_deref(),
                client_ip,
            )
            .await?)
        }
        .await,
    )
}
