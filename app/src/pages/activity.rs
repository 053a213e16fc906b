//! `/activity`: the audit log, newest first, with filters (a GET form, so
//! filtered views can be bookmarked), older pages by cursor, and CSV / JSON
//! export of what the filters select. Admins can end everyone's sessions.
//! Everything on it is rendered on the server (`views::activity`).

use crate::components::server_rendered::ServerRendered;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ActivityPage() -> impl IntoView {
    view! {
        <Title text="Activity" />
        <ServerRendered heading="Activity" loading="Loading the activity log…" />
    }
}
