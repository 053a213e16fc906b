//! Downloads of what a page's filters select, newest first:
//! `GET /activity/export?format=csv|json&<filters>` (the audit log) and
//! `GET /history/export?format=csv&<filters>` (deploys). Signed-in people
//! only (the guard sees to it); capped so one request stays bounded.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use greenroom::filters::{audit_filter, deploy_filter, AuditParams, DeployParams};
use greenroom::storage::AuditEvent;
use greenroom::text::utc_timestamp;
use greenroom::Storage;
use serde::Deserialize;

/// The most rows one export holds.
pub const MAX_ROWS: usize = 50_000;

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    #[serde(flatten)]
    filters: AuditParams,
}

pub async fn activity(State(storage): State<Storage>, Query(q): Query<ExportQuery>) -> Response {
    let format = q.format.as_deref().unwrap_or("csv");
    if format != "csv" && format != "json" {
        return (StatusCode::BAD_REQUEST, "format must be csv or json").into_response();
    }
    let (filter, mut after) = match audit_filter(&q.filters) {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut rows: Vec<AuditEvent> = Vec::new();
    loop {
        let page = match storage.list_audit(&filter, after, 1000).await {
            Ok(p) => p,
            Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
        };
        let done = page.len() < 1000;
        after = page.last().map(|e| e.cursor());
        rows.extend(page);
        if done || rows.len() >= MAX_ROWS {
            rows.truncate(MAX_ROWS);
            break;
        }
    }
    if format == "json" {
        let body = serde_json::to_vec_pretty(&rows).unwrap_or_default();
        return (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"greenroom-activity.json\"",
                ),
            ],
            body,
        )
            .into_response();
    }
    let mut out = String::from(
        "id,occurred_at,actor,role,action,project,target,params,outcome,message,client_ip\n",
    );
    for r in &rows {
        let fields = [
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
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"greenroom-activity.csv\"",
            ),
        ],
        out,
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

/// The deploys the history page's filters select, as CSV.
pub async fn history(
    State(services): State<greenroom::Services>,
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
    let projects: std::collections::HashMap<i64, String> = ops
        .targets
        .iter()
        .map(|t| (t.project_id, t.project.name.to_string()))
        .collect();
    let mut out = String::from(
        "project,site,deploy_id,context,branch,state,commit_sha,commit_message,author,created_at,published_at,build_seconds,error_message,run_id\n",
    );
    let mut after = None;
    let mut written = 0;
    loop {
        let page = match services
            .storage
            .list_deploys(&filter, after.as_ref(), 5000)
            .await
        {
            Ok(p) => p,
            Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
        };
        let done = page.len() < 5000;
        after = page.last().map(|d| d.cursor());
        for d in &page {
            if written >= MAX_DEPLOY_ROWS {
                break;
            }
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
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
            written += 1;
        }
        if done || written >= MAX_DEPLOY_ROWS {
            break;
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"greenroom-deploys.csv\"",
            ),
        ],
        out,
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
    use super::csv_field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
