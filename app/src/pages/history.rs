//! `/history`: every deploy, filtered (a GET form, so views can be
//! bookmarked and work before hydration), older pages by key, trend charts
//! of the filtered set with their definitions, and CSV export of it. The
//! filters, charts and table are rendered on the server (`views::history`).

use crate::api::fragments::history_fragment;
use crate::fragment::Fragment;
use crate::model::HistoryQuery;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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
    let history = Resource::new(current, |q| async move {
        history_fragment(q).await.map(Fragment)
    });
    let qs = current().filters_qs();
    let export = format!("/history/export?format=csv&{qs}");
    view! {
        <Title text="History" />
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold tracking-tight">"Deploy history"</h1>
            <a rel="external" class="text-sm underline" data-testid="export-csv" href=export>"Export these deploys as CSV"</a>
        </div>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading deploys and their trends…"</p> }>
            {move || history.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-6 text-red-700">{e.to_string()}</p> }.into_any(),
                Ok(html) => view! { <div inner_html=html.0></div> }.into_any(),
            })}
        </Suspense>
    }
}
