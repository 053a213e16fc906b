//! `/secrets`: one project's secret coverage. The whole page (report,
//! findings, matrix, and the forms) is rendered on the server
//! (`views::secrets`); "Re-check now", dismissing and undoing are plain form
//! posts the server redirects back from, and the `.env.local` upload is a
//! plain multipart post to `/secrets` that the server answers with the
//! comparison (compared in memory, never stored). The browser only sends
//! the upload form as soon as a file is picked or dropped.

use crate::components::server_rendered::ServerRendered;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SecretsPage() -> impl IntoView {
    submit_on_pick();
    view! {
        <Title text="Secrets" />
        <ServerRendered heading="Secret coverage" loading="Loading the latest check…" />
    }
}

/// Sends a form as soon as its `data-autosubmit` file input gets a file
/// (picked or dropped); without a script, its button does.
fn submit_on_pick() {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::change, |ev| {
            let input = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            if let Some(input) = input.filter(|i| i.has_attribute("data-autosubmit")) {
                if let Some(form) = input.form() {
                    let _ = form.request_submit();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }
}
