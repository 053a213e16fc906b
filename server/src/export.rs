//! Downloads of what a page's filters select, newest first:
//! `GET /activity/export?format=csv|json&<filters>` (the audit log) and
//! `GET /history/export?format=csv&<filters>` (deploys). Signed-in people
//! only (the guard sees to it). Each is streamed a page of rows at a time,
//! so its memory stays one page whatever its size, and capped in rows; how
//! many run at once, in all and per person, is bounded by `[limits]`
//! (beyond that: 429 with `Retry-After`, see `crate::limits`).
//! The activity export holds what the Activity page shows; the client
//! address, request id, parameters and vendor ids of each row are for admins
//! only.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use greenroom::filters::{audit_filter, deploy_filter, AuditParams, DeployParams};
use greenroom::limits::Slot;
use greenroom::storage::{
    AuditCursor, AuditEvent, AuditFilter, DeployCursor, DeployFilter, DeployRecord,
};
use greenroom::text::utc_timestamp;
use greenroom::Storage;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The most rows one export holds.
pub const MAX_ROWS: usize = 50_000;
/// Rows read from the database per step of a stream.
const PAGE: u32 = 1000;

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    #[serde(flatten)]
    filters: AuditParams,
}

/// A row of the activity export as a non-admin gets it: the page's fields.
#[derive(serde::Serialize)]
struct SharedAuditRow<'a> {
    id: i64,
    occurred_at_ms: i64,
    completed_at_ms: Option<i64>,
    actor_login: Option<&'a str>,
    role: Option<&'a str>,
    action: &'a str,
    project: Option<&'a str>,
    target_kind: Option<&'a str>,
    target_id: Option<&'a str>,
    outcome: &'a str,
    message: Option<&'a str>,
}

impl<'a> From<&'a AuditEvent> for SharedAuditRow<'a> {
    fn from(r: &'a AuditEvent) -> Self {
        Self {
            id: r.id,
            occurred_at_ms: r.occurred_at_ms,
            completed_at_ms: r.completed_at_ms,
            actor_login: r.actor_login.as_deref(),
            role: r.role.as_deref(),
            action: &r.action,
            project: r.project.as_deref(),
            target_kind: r.target_kind.as_deref(),
            target_id: r.target_id.as_deref(),
            outcome: r.outcome.as_str(),
            message: r.message.as_deref(),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Json,
}

fn activity_csv_line(r: &AuditEvent, admin: bool) -> String {
    let mut fields = vec![
        r.id.to_string(),
        utc_timestamp(r.occurred_at_ms),
        r.actor_login.clone().unwrap_or_default(),
        r.role.clone().unwrap_or_default(),
        r.action.clone(),
        r.project.clone().unwrap_or_default(),
        match (&r.target_kind, &r.target_id) {
            (Some(k), Some(i)) => format!("{k} {i}"),
            (_, Some(i)) => i.clone(),
            _ => String::new(),
        },
        r.params_json.clone(),
        r.outcome.as_str().to_string(),
        r.message.clone().unwrap_or_default(),
        r.client_ip.clone().unwrap_or_default(),
        r.request_id.clone().unwrap_or_default(),
    ];
    if !admin {
        // The page's fields only: no parameters, address or request id.
        fields.truncate(10);
        fields.remove(7);
    }
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// A stream's state: where the next page starts, rows so far, and the
/// slot it holds until it ends.
struct Cursor<C> {
    after: Option<C>,
    written: usize,
    first: bool,
    done: bool,
    _slot: Slot,
}

pub async fn activity(
    State(storage): State<Storage>,
    State(limits): State<Arc<crate::limits::Limits>>,
    user: Option<axum::Extension<greenroom::auth::SessionUser>>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let admin = user
        .as_ref()
        .is_some_and(|u| u.role >= greenroom::domain::Role::Admin);
    let format = match q.format.as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "json" => Format::Json,
        _ => return (StatusCode::BAD_REQUEST, "format must be csv or json").into_response(),
    };
    let (filter, after) = match audit_filter(&q.filters) {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let who = user.map(|u| u.login.clone()).unwrap_or_default();
    let slot = match limits.exports.take(&who) {
        Ok(s) => s,
        Err(full) => return crate::limits::Busy::of("exports", full).into_response(),
    };
    // The first page is read before answering, so a database that cannot
    // answer is a 503, not a download cut short.
    if let Err(e) = storage.list_audit(&filter, after, 1).await {
        tracing::warn!(error = %e, "activity export refused: the database did not answer");
        return unavailable();
    }
    let state = Cursor::<AuditCursor> {
        after,
        written: 0,
        first: true,
        done: false,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(
        (state, storage, filter),
        move |(mut c, storage, filter): (Cursor<AuditCursor>, Storage, AuditFilter)| async move {
            if c.done {
                return None;
            }
            let page = match storage.list_audit(&filter, c.after, PAGE).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "activity export stopped: the database did not answer");
                    c.done = true;
                    return Some((
                        Err(std::io::Error::other("the database did not answer")),
                        (c, storage, filter),
                    ));
                }
            };
            let room = MAX_ROWS - c.written;
            let take = page.len().min(room);
            c.done = page.len() < PAGE as usize || take == room;
            c.after = page.last().map(|e| e.cursor());
            let mut out = String::new();
            if c.first {
                out.push_str(match (format, admin) {
                    (Format::Json, _) => "[",
                    (Format::Csv, true) => "id,occurred_at,actor,role,action,project,target,params,outcome,message,client_ip,request_id\n",
                    (Format::Csv, false) => "id,occurred_at,actor,role,action,project,target,outcome,message\n",
                });
            }
            for (i, r) in page[..take].iter().enumerate() {
                match format {
                    Format::Csv => out.push_str(&activity_csv_line(r, admin)),
                    Format::Json => {
                        if c.written + i > 0 {
                            out.push(',');
                        }
                        out.push('\n');
                        let row = if admin {
                            serde_json::to_string(r)
                        } else {
                            serde_json::to_string(&SharedAuditRow::from(r))
                        };
                        out.push_str(&row.unwrap_or_default());
                    }
                }
            }
            c.first = false;
            c.written += take;
            if c.done && format == Format::Json {
                out.push_str("\n]");
            }
            Some((
                Ok::<_, std::io::Error>(Bytes::from(out)),
                (c, storage, filter),
            ))
        },
    );
    let (content_type, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "greenroom-activity.csv"),
        Format::Json => ("application/json", "greenroom-activity.json"),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        // Fused: the compression layer polls a body again after its end,
        // and an unfold panics when polled past its last item.
        Body::from_stream(stream.fuse()),
    )
        .into_response()
}

/// The database could not be read: the reason goes to the log, not to
/// whoever asked (it can name hosts and tables).
fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        "Greenroom's database did not answer; try the export again in a few seconds.",
    )
        .into_response()
}

/// The most deploys one export holds (a year of a busy team is ~10,000).
pub const MAX_DEPLOY_ROWS: usize = 200_000;

#[derive(Deserialize)]
pub struct HistoryExportQuery {
    format: Option<String>,
    #[serde(flatten)]
    filters: DeployParams,
}

fn deploy_csv_line(d: &DeployRecord, projects: &HashMap<i64, String>) -> String {
    let fields = [
        projects.get(&d.project_id).cloned().unwrap_or_default(),
        d.site_role.as_str().to_string(),
        d.deploy_id.clone(),
        d.context.clone(),
        d.branch.clone().unwrap_or_default(),
        d.state.as_str().to_string(),
        d.commit_sha.clone().unwrap_or_default(),
        d.commit_message
            .as_deref()
            .and_then(|m| m.lines().next())
            .unwrap_or_default()
            .to_string(),
        d.author.clone().unwrap_or_default(),
        utc_timestamp(d.created_at_ms),
        d.published_at_ms.map(utc_timestamp).unwrap_or_default(),
        d.build_seconds.map(|s| s.to_string()).unwrap_or_default(),
        d.error_message.clone().unwrap_or_default(),
        d.run_id.map(|r| r.to_string()).unwrap_or_default(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// The deploys the history page's filters select, as CSV.
pub async fn history(
    State(services): State<greenroom::Services>,
    State(limits): State<Arc<crate::limits::Limits>>,
    user: Option<axum::Extension<greenroom::auth::SessionUser>>,
    Query(q): Query<HistoryExportQuery>,
) -> Response {
    if q.format.as_deref().unwrap_or("csv") != "csv" {
        return (StatusCode::BAD_REQUEST, "format must be csv").into_response();
    }
    let ops = &services.ops;
    let (filter, _) = match deploy_filter(&ops.targets, &q.filters) {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let who = user.map(|u| u.login.clone()).unwrap_or_default();
    let slot = match limits.exports.take(&who) {
        Ok(s) => s,
        Err(full) => return crate::limits::Busy::of("exports", full).into_response(),
    };
    let storage = services.storage.clone();
    if let Err(e) = storage.list_deploys(&filter, None, 1).await {
        tracing::warn!(error = %e, "history export refused: the database did not answer");
        return unavailable();
    }
    let projects: Arc<HashMap<i64, String>> = Arc::new(
        ops.targets
            .iter()
            .map(|t| (t.project_id, t.project.name.to_string()))
            .collect(),
    );
    let state = Cursor::<DeployCursor> {
        after: None,
        written: 0,
        first: true,
        done: false,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(
        (state, storage, filter),
        move |(mut c, storage, filter): (Cursor<DeployCursor>, Storage, DeployFilter)| {
            let projects = projects.clone();
            async move {
                if c.done {
                    return None;
                }
                let page = match storage
                    .list_deploys(&filter, c.after.as_ref(), PAGE * 5)
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "history export stopped: the database did not answer");
                        c.done = true;
                        return Some((
                            Err(std::io::Error::other("the database did not answer")),
                            (c, storage, filter),
                        ));
                    }
                };
                let room = MAX_DEPLOY_ROWS - c.written;
                let take = page.len().min(room);
                c.done = page.len() < (PAGE * 5) as usize || take == room;
                c.after = page.last().map(|d| d.cursor());
                let mut out = String::new();
                if c.first {
                    out.push_str("project,site,deploy_id,context,branch,state,commit_sha,commit_message,author,created_at,published_at,build_seconds,error_message,run_id\n");
                    c.first = false;
                }
                for d in &page[..take] {
                    out.push_str(&deploy_csv_line(d, &projects));
                }
                c.written += take;
                Some((
                    Ok::<_, std::io::Error>(Bytes::from(out)),
                    (c, storage, filter),
                ))
            }
        },
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"greenroom-deploys.csv\"",
            ),
        ],
        Body::from_stream(stream.fuse()),
    )
        .into_response()
}

/// RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is defused so a
/// spreadsheet never runs a cell as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
