//! `GET /activity/export?format=csv|json&<filters>`: the audit rows the
//! Activity page's filters select, newest first, as a download. Signed-in
//! people only (the guard sees to it); capped so one request stays bounded.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use greenroom::storage::AuditEvent;
use greenroom::Storage;
use greenroom_app::api::ActivityQuery;
use serde::Deserialize;

/// The most rows one export holds.
pub const MAX_ROWS: usize = 50_000;

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    #[serde(flatten)]
    filters: ActivityQuery,
}

pub async fn activity(State(storage): State<Storage>, Query(q): Query<ExportQuery>) -> Response {
    let format = q.format.as_deref().unwrap_or("csv");
    if format != "csv" && format != "json" {
        return (StatusCode::BAD_REQUEST, "format must be csv or json").into_response();
    }
    let (filter, mut after) = match q.filters.to_filter() {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
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
            greenroom_app::format::utc_timestamp(r.occurred_at_ms),
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
