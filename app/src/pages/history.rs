//! `/history`: every deploy, filtered (a GET form, so views can be
//! bookmarked and work before hydration), older pages by key, trend charts
//! of the filtered set with their definitions, and CSV export of it. The
//! table and charts are rendered on the server (`views::history`).

use crate::api::use_shell_info;
use crate::deploy_api::{history_fragment, HistoryQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const SITES: &[&str] = &["staging", "production"];
const CONTEXTS: &[&str] = &["production", "branch-deploy", "deploy-preview"];
const STATES: &[&str] = &[
    "ready",
    "error",
    "cancelled",
    "building",
    "processing",
    "enqueued",
    "new",
];

#[component]
pub fn HistoryPage() -> impl IntoView {
    let query = use_query_map();
    let current = move || {
        query.with(|q| HistoryQuery {
            project: q.get("project"),
            site: q.get("site"),
            context: q.get("context"),
            state: q.get("state"),
            branch: q.get("branch"),
            author: q.get("author"),
            from: q.get("from"),
            until: q.get("until"),
            after: q.get("after"),
        })
    };
    let history = Resource::new(current, history_fragment);
    let value = move |k: &'static str| query.with_untracked(|q| q.get(k)).unwrap_or_default();
    let qs = current().filters_qs();
    let export = format!("/history/export?format=csv&{qs}");
    let info = use_shell_info();
    let projects = move || {
        info.get()
            .and_then(Result::ok)
            .map(|i| i.projects.into_iter().map(|p| p.name).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let select = move |name: &'static str, label: &'static str, options: Vec<String>| {
        let current = value(name);
        view! {
            <label class="flex flex-col gap-1">{label}
                <select name=name class="rounded border border-slate-300 px-2 py-1">
                    <option value="" selected=current.is_empty()>"any"</option>
                    {options.into_iter().map(|o| {
                        let selected = o == current;
                        view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    };
    let text = move |name: &'static str, label: &'static str, kind: &'static str| {
        view! {
            <label class="flex flex-col gap-1">{label}
                <input type=kind name=name value=value(name) class="rounded border border-slate-300 px-2 py-1" />
            </label>
        }
    };
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    view! {
        <Title text="History" />
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold tracking-tight">"Deploy history"</h1>
            <a rel="external" class="text-sm underline" data-testid="export-csv" href=export>"Export these deploys as CSV"</a>
        </div>
        <form method="get" action="/history" class="mt-4 grid grid-cols-2 gap-3 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:grid-cols-4 lg:grid-cols-9">
            <Suspense fallback=|| ()>{move || select("project", "Project", projects())}</Suspense>
            {select("site", "Site", owned(SITES))}
            {select("context", "Context", owned(CONTEXTS))}
            {select("state", "State", owned(STATES))}
            {text("branch", "Branch", "text")}
            {text("author", "Author", "text")}
            {text("from", "From", "date")}
            {text("until", "Until", "date")}
            <div class="flex items-end"><button type="submit" class="rounded-md bg-slate-900 px-3 py-1.5 text-white">"Filter"</button></div>
        </form>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading deploys and their trends…"</p> }>
            {move || history.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-6 text-red-700">{e.to_string()}</p> }.into_any(),
                Ok(html) => view! { <div inner_html=html></div> }.into_any(),
            })}
        </Suspense>
    }
}
