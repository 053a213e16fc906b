//! The browser side of pages whose content is read-only (history,
//! activity, a run, secret coverage): the server renders the page
//! (`/api/fragments/page`) and the browser shows it, fetching it again when
//! the address changes. One component for all of them keeps the browser
//! bundle from carrying a copy of this machinery per page.

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
) -> impl IntoView {
    // This route's own address (not the app's: while the router moves to
    // another page, this one must not fetch that page's address). Made
    // outside the Suspense: one fetch per address, however many times the
    // server walks the view. Blocking, so the page is in the HTML itself
    // and reads without a script.
    let url = use_url();
    let page = Resource::new_blocking(
        move || url.with(|u| (u.path().to_string(), u.search().to_string())),
        |(path, query)| async move { page_fragment(path, query).await.map(Fragment) },
    );
    view! {
        <Suspense fallback=move || view! { <p class="mt-6 text-slate-600">{loading}</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => Either::Left(view! {
                    <h1 class="text-2xl font-semibold tracking-tight">{heading}</h1>
                    <p role="alert" class="mt-6 text-red-700">{e.to_string()}</p>
                }),
                Ok(html) => Either::Right(view! { <div inner_html=html.0></div> }),
            })}
        </Suspense>
    }
}
