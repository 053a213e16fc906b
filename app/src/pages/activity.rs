//! `/activity`: the audit log, newest first, with filters (a GET form, so
//! filtered views can be bookmarked), older pages by cursor, and CSV / JSON
//! export of what the filters select. Admins can end everyone's sessions.

use crate::api::{get_activity, ActivityQuery};
use crate::format::utc_timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let current = move || {
        query.with(|q| ActivityQuery {
            actor: q.get("actor"),
            action: q.get("action"),
            outcome: q.get("outcome"),
            project: q.get("project"),
            from: q.get("from"),
            until: q.get("until"),
            after: q.get("after"),
        })
    };
    let page = Resource::new(current, get_activity);
    let filters_qs = move || {
        let q = current();
        let mut pairs = Vec::new();
        for (k, v) in [
            ("actor", q.actor),
            ("action", q.action),
            ("outcome", q.outcome),
            ("project", q.project),
            ("from", q.from),
            ("until", q.until),
        ] {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                pairs.push(format!("{k}={}", v.replace('&', "%26").replace(' ', "+")));
            }
        }
        pairs.join("&")
    };
    // Filters change only by submitting the form (a full page load), so the
    // values are read once, not tracked.
    let value = move |k: &'static str| query.with_untracked(|q| q.get(k)).unwrap_or_default();
    let qs = filters_qs();
    let (csv_href, json_href, older_qs) = (
        format!("/activity/export?format=csv&{qs}"),
        format!("/activity/export?format=json&{qs}"),
        qs,
    );
    let headers = ["Time", "Actor", "Action", "Target", "Outcome", "Detail"];
    let ended = move || query.with(|q| q.get("ended"));
    view! {
        <Title text="Activity" />
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold tracking-tight">"Activity"</h1>
            <p class="text-sm">
                "Export what is shown: "
                <a rel="external" data-testid="export-csv" class="underline" href=csv_href>"CSV"</a>
                " · "
                <a rel="external" data-testid="export-json" class="underline" href=json_href>"JSON"</a>
            </p>
        </div>
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
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading the activity log…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-6 text-red-700">{e.to_string()}</p> }.into_any(),
                Ok(p) if p.rows.is_empty() => view! {
                    <p class="mt-6 text-slate-600" data-testid="activity-empty">"Nothing matches these filters yet."</p>
                }.into_any(),
                Ok(p) => {
                    let next = p.next.clone();
                    let admin = p.can_end_sessions;
                    view! {
                        <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                            <table class="min-w-full text-left text-sm" data-testid="activity-table">
                                <thead class="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                                    <tr>{headers.map(|h| view! { <th scope="col" class="px-3 py-2">{h}</th> }).collect_view()}</tr>
                                </thead>
                                <tbody>
                                    {p.rows.into_iter().map(|row| {
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
                        {next.map(|n| view! {
                            <p class="mt-3 text-sm"><a class="underline" href=format!("/activity?{older_qs}&after={n}")>"Older entries"</a></p>
                        })}
                        {admin.then(|| view! {
                            <section class="mt-8 rounded-lg border border-red-200 bg-white p-4">
                                <h2 class="font-semibold">"Sessions"</h2>
                                <p class="mt-1 text-sm text-slate-700">"Sign everyone else out now, for example after removing someone from the team."</p>
                                <form method="post" action="/sessions/end-all">
                                    <button type="submit" data-testid="end-all-sessions" class="mt-2 rounded-md border border-red-300 px-3 py-1.5 text-sm text-red-800 hover:bg-red-50">"End every other session"</button>
                                </form>
                                {ended().map(|n| view! { <p role="status" class="mt-2 text-sm">{format!("{n} sessions ended.")}</p> })}
                            </section>
                        })}
                    }.into_any()
                }
            })}
        </Suspense>
    }
}
