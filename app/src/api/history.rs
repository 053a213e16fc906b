//! The history page's data: a page of deploys with its total, and the
//! weekly figures of the same filter.

use crate::model::{ApiError, HistoryPage, HistoryQuery, TrendsView};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/deploys?query[project]=&...`: a page of deploys, newest first.
#[server(prefix = "/api", endpoint = "deploys", input = GetUrl)]
pub async fn get_deploys(#[server(default)] query: HistoryQuery) -> Result<HistoryPage, ApiError> {
    super::with_status(
        async {
            super::authorize("/api/deploys")?;
            let (filter, after) = filter(&query)?;
            page(&filter, after.as_ref()).await
        }
        .await,
    )
}

/// `GET /api/trends?query[project]=&...`: weekly figures of the filtered deploys.
#[server(prefix = "/api", endpoint = "trends", input = GetUrl)]
pub async fn get_trends(#[server(default)] query: HistoryQuery) -> Result<TrendsView, ApiError> {
    super::with_status(
        async {
            super::authorize("/api/trends")?;
            let (filter, _) = filter(&query)?;
            trends(&filter).await
        }
        .await,
    )
}

/// The storage filter and cursor of a history query.
#[cfg(feature = "ssr")]
pub(super) fn filter(
    query: &HistoryQuery,
) -> Result<
    (
        greenroom::storage::DeployFilter,
        Option<greenroom::storage::DeployCursor>,
    ),
    ApiError,
> {
    let services = super::services()?;
    Ok(greenroom::filters::deploy_filter(
        &services.ops.targets,
        &super::convert::deploy_params(query),
    )?)
}

/// A page of the deploys `filter` selects, after `after`, with their total.
#[cfg(feature = "ssr")]
pub(super) async fn page(
    filter: &greenroom::storage::DeployFilter,
    after: Option<&greenroom::storage::DeployCursor>,
) -> Result<HistoryPage, ApiError> {
    use crate::model::HISTORY_PAGE;
    use greenroom::filters::{deploy_cursor, split_page};
    let services = super::services()?;
    let rows = services
        .storage
        .list_deploys(filter, after, HISTORY_PAGE + 1)
        .await?;
    let (rows, next) = split_page(rows, HISTORY_PAGE as usize, |d| deploy_cursor(&d.cursor()));
    let mark = services.ops.overviews.deploys_mark().await?;
    let total = services
        .ops
        .trends
        .total_at(&services.storage, filter, mark)
        .await?;
    Ok(HistoryPage {
        rows: rows.iter().map(super::convert::deploy_row).collect(),
        next,
        total,
    })
}

/// The weekly figures of the deploys `filter` selects.
#[cfg(feature = "ssr")]
pub(super) async fn trends(
    filter: &greenroom::storage::DeployFilter,
) -> Result<TrendsView, ApiError> {
    use super::convert::week_view;
    let services = super::services()?;
    let mark = services.ops.overviews.deploys_mark().await?;
    let t = services
        .ops
        .trends
        .get_at(&services.storage, filter, mark)
        .await?;
    Ok(TrendsView {
        weeks: t.weeks.iter().map(week_view).collect(),
        total: week_view(&t.total),
        contexts: t.contexts.clone(),
    })
}
