//! The browser side of pages whose content is read-only (history,
//! activity, a run, secret coverage, branches): the server renders the page
//! (`/api/fragments/page`) and the browser shows it, fetching it again when
//! the address changes, or, for a live page, when the project's change mark
//! moves. One component for all of them keeps the browser bundle from
//! carrying a copy of this machinery per page.

use crate::api::fragments::page_fragment;
use crate::fragment::Fragment;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_url;

#[component]
pub fn ServerRendered(
    /// The page's heading, shown above an error (the page's own HTML has
    /// it otherwise).
    heading: &'static str,
    /// Shown while the page loads after a navigation in the browser.
    loading: &'static str,
    /// Follow the live view: the page's HTML names its project and change
    /// mark (`data-live-project`, `data-live-mark`), and the page is fetched
    /// again whenever the server announces a newer mark.
    #[prop(optional)]
    live: bool,
) -> impl IntoView {
    // This route's own address (not the app's: while the router moves to
    // another page, this one must not fetch that page's address). Made
    // outside the Transition: one fetch per address, however many times the
    // server walks the view. Blocking, so the page is in the HTML itself
    // and reads without a script.
    let url = use_url();
    let (mark, set_mark) = signal(0_i64);
    let page = Resource::new_blocking(
        move || url.with(|u| (u.path().to_string(), u.search().to_string(), mark.get())),
        |(path, query, _)| async move { page_fragment(path, query).await.map(Fragment) },
    );
    if live {
        let watching = StoredValue::new(None::<String>);
        Effect::new(move |_| {
            if page.get().is_some() {
                if let Some((project, since)) = live_facts() {
                    if watching.with_value(|w| w.as_deref() != Some(project.as_str())) {
                        watching.set_value(Some(project.clone()));
                        crate::live::watch_changes(project, since, set_mark);
                    }
                }
            }
        });
        on_cleanup(crate::live::stop);
    }
    let show = move || {
        page.get().map(|r| match r {
            Err(e) => Either::Left(view! {
                <h1 class="text-2xl font-semibold tracking-tight">{heading}</h1>
                <p role="alert" class="mt-6 text-red-700">{e.to_string()}</p>
            }),
            Ok(html) => Either::Right(view! { <div inner_html=html.0></div> }),
        })
    };
    // A Transition: a refresh (a live change, a filter) keeps what is shown
    // until the new page is there; the fallback shows on a first load only.
    // One kind of boundary for every page keeps the bundle small.
    view! {
        <Transition fallback=move || view! { <p class="mt-6 text-slate-600">{loading}</p> }>
            {show}
        </Transition>
    }
}

/// The project and change mark the rendered page names, if it does.
fn live_facts() -> Option<(String, i64)> {
    #[cfg(feature = "hydrate")]
    {
        let el = document()
            .query_selector("[data-live-project]")
            .ok()
            .flatten()?;
        let project = el.get_attribute("data-live-project")?;
        let mark = el
            .get_attribute("data-live-mark")
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        Some((project, mark))
    }
    #[cfg(not(feature = "hydrate"))]
    None
}
