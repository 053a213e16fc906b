//! `/history`: every deploy, filtered (a GET form, so views can be
//! bookmarked and work before hydration), older pages by key, trend charts
//! of the filtered set with their definitions, and CSV export of it. The
//! filters, charts and table are rendered on the server (`views::history`).

use crate::components::server_rendered::ServerRendered;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HistoryPage() -> impl IntoView {
    view! {
        <Title text="History" />
        <ServerRendered heading="Deploy history" loading="Loading deploys and their trends…" />
    }
}
