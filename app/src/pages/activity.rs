//! `/activity`: the audit log, newest first, with filters (a GET form, so
//! filtered views can be bookmarked), older pages by cursor, and CSV / JSON
//! export of what the filters select. Admins can end everyone's sessions.
//! Everything on it is rendered on the server (`views::activity`).

use crate::api::fragments::activity_fragment;
use crate::fragment::Fragment;
use crate::model::ActivityQuery;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let current = move || {
        query.with(|q| {
            let filters = ActivityQuery {
                actor: q.get("actor"),
                action: q.get("action"),
                outcome: q.get("outcome"),
                project: q.get("project"),
                from: q.get("from"),
                until: q.get("until"),
                after: q.get("after"),
            };
            (filters, q.get("ended"))
        })
    };
    let page = Resource::new(current, |(query, ended)| async move {
        activity_fragment(query, ended).await.map(Fragment)
    });
    view! {
        <Title text="Activity" />
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading the activity log…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-6 text-red-700">{e.to_string()}</p> }.into_any(),
                Ok(html) => view! { <div inner_html=html.0></div> }.into_any(),
            })}
        </Suspense>
    }
}
