//! The activity page, rendered on the server: the filters (a plain GET
//! form, so filtered views can be bookmarked), a page of the audit log with
//! the link to older entries, the export links, and for admins the plain
//! form that ends every other session. Nothing on it needs the browser
//! bundle.

use crate::format::utc_timestamp;
use crate::model::{ActivityPage, ActivityQuery};
use leptos::prelude::*;

const OUTCOMES: &[&str] = &["pending", "succeeded", "failed", "unknown", "refused"];

/// The filters: query name, label, input type.
const FILTERS: &[(&str, &str, &str)] = &[
    ("actor", "Actor", "text"),
    ("action", "Action", "text"),
    ("outcome", "Outcome", "select"),
    ("project", "Project", "text"),
    ("from", "From", "date"),
    ("until", "Until", "date"),
];

const HEADERS: [&str; 6] = ["Time", "Actor", "Action", "Target", "Outcome", "Detail"];

/// The page for `query`; `ended` is how many sessions the end-sessions form
/// just ended (its redirect says so).
pub fn html(query: &ActivityQuery, page: &ActivityPage, ended: Option<u64>) -> String {
    let qs = query.filters_qs();
    let body = if page.rows.is_empty() {
        view! {
            <p class="mt-6 text-slate-600" data-testid="activity-empty">"Nothing matches these filters yet."</p>
        }
        .into_any()
    } else {
        view! {
            <Table page=page.clone() />
            {page.next.clone().map(|n| view! {
                <p class="mt-3 text-sm"><a class="underline" href=format!("/activity?{qs}&after={n}")>"Older entries"</a></p>
            })}
        }
        .into_any()
    };
    let sessions = page
        .can_end_sessions
        .then(|| view! { <EndSessions ended /> });
    view! {
        <Header qs=qs.clone() />
        <Filters query=query.clone() />
        {body}
        {sessions}
    }
    .to_html()
}

/// The filters as typed, and why they cannot be used.
pub fn invalid(query: &ActivityQuery, problem: &str) -> String {
    view! {
        <Header qs=query.filters_qs() />
        <Filters query=query.clone() />
        <p role="alert" class="mt-6 text-red-700" data-testid="activity-invalid">{format!("These filters cannot be used: {problem}.")}</p>
    }
    .to_html()
}

#[component]
fn Header(qs: String) -> impl IntoView {
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold tracking-tight">"Activity"</h1>
            <p class="text-sm">
                "Export what is shown: "
                <a rel="external" data-testid="export-csv" class="underline" href=format!("/activity/export?format=csv&{qs}")>"CSV"</a>
                " · "
                <a rel="external" data-testid="export-json" class="underline" href=format!("/activity/export?format=json&{qs}")>"JSON"</a>
            </p>
        </div>
    }
}

#[component]
fn Filters(query: ActivityQuery) -> impl IntoView {
    let value = |k: &str| {
        match k {
            "actor" => query.actor.clone(),
            "action" => query.action.clone(),
            "outcome" => query.outcome.clone(),
            "project" => query.project.clone(),
            "from" => query.from.clone(),
            "until" => query.until.clone(),
            _ => None,
        }
        .unwrap_or_default()
    };
    view! {
        <form method="get" action="/activity" class="mt-4 grid grid-cols-2 gap-3 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:grid-cols-4 lg:grid-cols-7">
            {FILTERS.iter().map(|(name, label, kind)| {
                let current = value(name);
                if *kind == "select" {
                    view! {
                        <label class="flex flex-col gap-1">{*label}
                            <select name=*name class="rounded border border-slate-300 px-2 py-1">
                                {std::iter::once("").chain(OUTCOMES.iter().copied()).map(|o| view! {
                                    <option value=o selected=o == current>{if o.is_empty() { "any" } else { o }}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    }.into_any()
                } else {
                    view! {
                        <label class="flex flex-col gap-1">{*label}
                            <input type=*kind name=*name class="rounded border border-slate-300 px-2 py-1" value=current />
                        </label>
                    }.into_any()
                }
            }).collect_view()}
            <div class="flex items-end"><button type="submit" class="rounded-md bg-slate-900 px-3 py-1.5 text-white">"Filter"</button></div>
        </form>
    }
}

#[component]
fn Table(page: ActivityPage) -> impl IntoView {
    view! {
        <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full text-left text-sm" data-testid="activity-table">
                <thead class="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                    <tr>{HEADERS.map(|h| view! { <th scope="col" class="px-3 py-2">{h}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {page.rows.into_iter().map(|row| {
                        let actor = match (&row.actor, &row.role) {
                            (Some(a), Some(r)) => format!("{a} ({r})"),
                            (Some(a), None) => a.clone(),
                            _ => "—".into(),
                        };
                        let cells = [
                            utc_timestamp(row.occurred_at_ms),
                            actor,
                            row.action.clone(),
                            row.target.clone().or(row.project.clone()).unwrap_or_default(),
                            row.outcome.clone(),
                            row.message.clone().unwrap_or_default(),
                        ];
                        view! {
                            <tr class="border-t border-slate-100" data-outcome=row.outcome.clone()>
                                {cells.map(|c| view! { <td class="px-3 py-2">{c}</td> }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn EndSessions(ended: Option<u64>) -> impl IntoView {
    view! {
        <section class="mt-8 rounded-lg border border-red-200 bg-white p-4">
            <h2 class="font-semibold">"Sessions"</h2>
            <p class="mt-1 text-sm text-slate-700">"Sign everyone else out now, for example after removing someone from the team."</p>
            <form method="post" action="/sessions/end-all">
                <button type="submit" data-testid="end-all-sessions" class="mt-2 rounded-md border border-red-300 px-3 py-1.5 text-sm text-red-800 hover:bg-red-50">"End every other session"</button>
            </form>
            {ended.map(|n| view! { <p role="status" class="mt-2 text-sm">{format!("{n} sessions ended.")}</p> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_encoded() {
        let q = ActivityQuery {
            actor: Some("ada admin".into()),
            action: Some("a&b".into()),
            outcome: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(q.filters_qs(), "actor=ada%20admin&action=a%26b");
    }
}
