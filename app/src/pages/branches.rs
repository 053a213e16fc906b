//! `/branches`: a project's Supabase branches, their latest runs, what they
//! cost and the project's backups. Rendered on the server
//! (`views::branches`); the browser only follows the live view and fetches
//! the page again when sync records a change, so a branch being created is
//! watched to its end, also after a reload.

use crate::components::server_rendered::ServerRendered;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn BranchesPage() -> impl IntoView {
    view! {
        <Title text="Branches" />
        <ServerRendered heading="Supabase branches" loading="Loading branches…" live=true />
    }
}
