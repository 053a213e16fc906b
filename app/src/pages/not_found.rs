//! The 404 page, with the right status code on the server.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="mx-auto max-w-xl py-16 text-center">
            <p class="text-sm font-semibold text-emerald-700">"404"</p>
            <h1 class="mt-2 text-3xl font-semibold tracking-tight">"This page does not exist"</h1>
            <p class="mt-4 text-slate-600">
                "The address may be mistyped, or the page may have moved."
            </p>
            <a href="/" class="mt-6 inline-block rounded-md bg-emerald-700 px-4 py-2 text-white hover:bg-emerald-800 focus:outline-none focus:ring-2 focus:ring-emerald-500 focus:ring-offset-2">
                "Back to the overview"
            </a>
        </section>
    }
}
