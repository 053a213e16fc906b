//! Greenroom's user interface: pages, components and the server functions
//! they call. No I/O of its own: under `ssr`, server functions call the core
//! library through the [`greenroom::Services`] the server provides.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod format;
pub mod fragment;
pub mod live;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod policy;
#[cfg(feature = "ssr")]
pub mod views;

use components::shell::{Header, SandboxBanner};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full bg-slate-50">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options=options.clone() />
                <HashedStylesheet options id="leptos" />
                <MetaTags />
            </head>
            <body class="h-full text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Mode and projects are needed by every page; load them once, blocking, so
    // the banner and the switcher are in the first HTML even without JS.
    let shell_info = Resource::new_blocking(|| (), |_| api::shell::get_shell_frame());
    provide_context(shell_info);
    mark_hydrated();

    view! {
        <Title formatter=|page: String| if page.is_empty() { "Greenroom".to_string() } else { format!("{page} · Greenroom") } />
        <Router>
            <div class="min-h-full">
                <Suspense fallback=|| ()>
                    <SandboxBanner />
                    <Header />
                </Suspense>
                <main class="mx-auto max-w-6xl px-4 py-8 sm:px-6">
                    <Routes fallback=pages::not_found::NotFound>
                        <Route path=path!("/") view=pages::home::HomePage />
                        <Route path=path!("/sign-in") view=pages::sign_in::SignInPage />
                        <Route path=path!("/activity") view=pages::activity::ActivityPage />
                        <Route path=path!("/history") view=pages::history::HistoryPage />
                        <Route path=path!("/secrets") view=pages::secrets::SecretsPage />
                        <Route path=path!("/branches") view=pages::branches::BranchesPage />
                        <Route path=path!("/deploys/:site/:id") view=pages::deploy::DeployPage />
                        <Route path=path!("/runs/:id") view=pages::deploy::RunPage />
                        <Route path=path!("/runs/:id/artifacts/:artifact") view=pages::deploy::ArtifactPage />
                        <Route path=path!("/runs/:id/jobs/:job/log") view=pages::deploy::JobLogPage />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// Sets `data-hydrated` on `<body>` once the client has taken over, so browser
/// tests (and people debugging) can tell a live page from server HTML.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// The browser entry point: hydrates the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
