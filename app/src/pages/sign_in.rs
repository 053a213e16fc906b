//! `/sign-in`: what signing in does, who may, why an attempt was refused,
//! and the way in (a plain link, so it works before the page hydrates).

use crate::api::shell::sign_in_fragment;
use crate::fragment::Fragment;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The sign-in page. Its body (who may sign in, teams and roles, why the
/// last attempt was refused) is rendered on the server (`views::shell`)
/// and is in the first HTML; nothing on it needs the browser.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next")).unwrap_or_default();
    let body = Resource::new_blocking(next, |next| async move {
        sign_in_fragment(next).await.map(Fragment)
    });
    view! {
        <Title text="Sign in" />
        <section class="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold tracking-tight">"Sign in to Greenroom"</h1>
            <Suspense fallback=|| view! { <p class="mt-4 text-slate-600">"Loading…"</p> }>
                {move || body.get().map(|r| match r {
                    Err(e) => view! { <p role="alert" class="mt-4 text-red-700">{e.to_string()}</p> }.into_any(),
                    Ok(html) => view! { <div inner_html=html.0></div> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
