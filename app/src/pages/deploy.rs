//! `/deploys/:site/:id` and `/runs/:id`: one deploy's timeline, error, commit
//! and linked workflow run (jobs, steps, durations), with the actions that
//! apply; one run on its own. The read-only part is rendered on the server
//! (`views::deploy`); the action buttons run in the browser.

use crate::api::fragments::deploy_fragment;
use crate::components::action_dialog::ActionButton;
use crate::components::server_rendered::ServerRendered;
use crate::fragment::Fragment;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn DeployPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        params.with(|p| {
            (
                p.get("site").unwrap_or_default(),
                p.get("id").unwrap_or_default(),
            )
        })
    };
    let detail = Resource::new(key, |(site, id)| async move {
        deploy_fragment(site, id)
            .await
            .map(|mut d| (Fragment(std::mem::take(&mut d.html)), d))
    });
    let on_started = Callback::new(|_| ());
    view! {
        <Title text="Deploy" />
        <Suspense fallback=|| view! { <p class="text-slate-600">"Loading the deploy…"</p> }>
            {move || detail.get().map(|r| match r {
                Err(e) => view! {
                    <h1 class="text-2xl font-semibold">"Deploy not available"</h1>
                    <p role="alert" class="mt-2 text-red-700">{e.to_string()}</p>
                    <p class="mt-4"><a class="underline" href="/history">"Back to the history"</a></p>
                }.into_any(),
                Ok((html, f)) => {
                    let project = f.project.clone();
                    let actions = (f.can_act && !f.actions.is_empty()).then(|| view! {
                        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" data-testid="actions">
                            <h2 class="font-semibold">"Actions"</h2>
                            <div class="mt-3 flex flex-wrap gap-3">
                                {f.actions.clone().into_iter().map(|(kind, label)| view! {
                                    <ActionButton project=project.clone() kind label on_started />
                                }).collect_view()}
                            </div>
                            <p class="mt-2 text-xs text-slate-500">"Progress shows on the overview."</p>
                        </section>
                    });
                    view! { <div inner_html=html.0></div>{actions} }.into_any()
                }
            })}
        </Suspense>
    }
}

/// `/runs/:id`: one workflow run on its own, rendered on the server.
#[component]
pub fn RunPage() -> impl IntoView {
    view! {
        <Title text="Workflow run" />
        <ServerRendered heading="Workflow run" loading="Loading the run…" />
    }
}

/// `/runs/:id/artifacts/:artifact`: one artifact opened, rendered on the
/// server.
#[component]
pub fn ArtifactPage() -> impl IntoView {
    view! {
        <Title text="Artifact" />
        <ServerRendered heading="Artifact" loading="Opening the artifact…" />
    }
}

/// `/runs/:id/jobs/:job/log`: a job's log, rendered on the server.
#[component]
pub fn JobLogPage() -> impl IntoView {
    view! {
        <Title text="Job log" />
        <ServerRendered heading="Job log" loading="Loading the log…" />
    }
}
