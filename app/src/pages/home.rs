//! The home page: what is live on staging and production, the deploy job,
//! what needs attention with the on-call actions, and (aside) the project's
//! setup and Greenroom's own health.

use crate::api::fragments::overview_fragment;
use crate::api::shell::status_fragment;
use crate::components::action_dialog::ActionButton;
use crate::components::shell::{selected_project, use_shell_info};
use crate::fragment::Fragment;
use crate::model::{ApiError, OverviewHtml, StartedView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn HomePage() -> impl IntoView {
    let info = use_shell_info();
    let query = use_query_map();
    let project = move || {
        let wanted = query.with(|q| q.get("project"));
        info.get()
            .and_then(Result::ok)
            .map(|i| selected_project(&i.projects, wanted))
    };
    // Made here, outside the Suspense below: a resource made inside it would
    // be made (and its data fetched) again each time the server walks the
    // view while rendering. The server picks the project as the switcher
    // does (the named one, else the first).
    let (mark, set_mark) = signal(0_i64);
    let (bump, set_bump) = signal(0_u32);
    let overview = Resource::new(
        move || {
            let wanted = query.with(|q| q.get("project")).unwrap_or_default();
            (wanted, mark.get(), bump.get())
        },
        |(p, _, _)| async move {
            overview_fragment(p).await.map(|mut o| {
                let html = Fragment(std::mem::take(&mut o.html));
                let setup = Fragment(std::mem::take(&mut o.setup));
                (html, setup, o)
            })
        },
    );
    view! {
        <Title text="Overview" />
        <div class="grid gap-6 lg:grid-cols-3">
            <section class="space-y-6 lg:col-span-2" aria-labelledby="project-heading">
                <Suspense fallback=|| view! { <p class="text-slate-500">"Loading project…"</p> }>
                    {move || match project() {
                        Some(Some(_)) => view! { <Overview overview set_mark set_bump /> }.into_any(),
                        Some(None) => view! {
                            <div class="rounded-lg border border-dashed border-slate-300 bg-white p-6">
                                <h1 id="project-heading" class="text-xl font-semibold">"No project configured"</h1>
                                <p class="mt-2 text-slate-600">
                                    "Add a [[projects]] block to greenroom.toml (see greenroom.example.toml) and restart Greenroom."
                                </p>
                            </div>
                        }.into_any(),
                        None => ().into_any(),
                    }}
                </Suspense>
            </section>
            <aside class="space-y-6">
                <StatusPanel />
                <Suspense fallback=|| ()>
                    {move || overview.get().and_then(Result::ok).map(|(_, setup, _)| view! { <div inner_html=setup.0></div> })}
                </Suspense>
            </aside>
        </div>
    }
}

/// The overview's HTML, the project's setup card, and what the buttons need.
type OverviewData = Result<(Fragment, Fragment, OverviewHtml), ApiError>;

/// What is live, the deploy job, what needs attention and the on-call
/// actions of one project; refreshed by the live view when data changes.
/// The read-only part is rendered on the server (`views::overview`); only
/// the buttons and the live subscription run in the browser.
#[component]
fn Overview(
    overview: Resource<OverviewData>,
    set_mark: WriteSignal<i64>,
    set_bump: WriteSignal<u32>,
) -> impl IntoView {
    // The project whose live stream is open: a new one when the switcher
    // picks another project.
    let watching = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok((_, _, o))) = overview.get() {
            if watching.with_value(|w| w.as_deref() != Some(o.project.as_str())) {
                watching.set_value(Some(o.project.clone()));
                crate::live::watch_changes(o.project.clone(), o.mark, set_mark);
            }
        }
    });
    on_cleanup(crate::live::stop);
    let on_started = Callback::new(move |_| set_bump.update(|n| *n += 1));
    view! {
        <Transition fallback=|| view! { <p class="text-slate-500" data-testid="overview-loading">"Loading what is live…"</p> }>
            {move || overview.get().map(|r| match r {
                Err(e) => view! {
                    <h1 id="project-heading" class="text-2xl font-semibold tracking-tight">"Overview"</h1>
                    <p role="alert" class="text-red-700">{e.to_string()}</p>
                }.into_any(),
                Ok((html, _, f)) => {
                    let actions = f.can_act.then(|| view! { <ActionsPanel project=f.project.clone() fixes=f.fixes.clone() on_started /> });
                    view! {
                        <h1 id="project-heading" class="text-2xl font-semibold tracking-tight">{f.project.clone()}</h1>
                        <div class="space-y-6" inner_html=html.0></div>
                        {actions}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

/// The three on-call buttons; the ones that fix what needs attention now
/// are the prominent ones.
#[component]
fn ActionsPanel(
    project: String,
    fixes: Vec<String>,
    on_started: Callback<StartedView>,
) -> impl IntoView {
    const KINDS: [(&str, &str); 3] = [
        ("redeploy-last-good", "Redeploy last good build"),
        ("rerun-deploy-job", "Re-run the deploy job"),
        ("deploy-staging", "Deploy develop to staging"),
    ];
    view! {
        <section aria-labelledby="actions-heading" class="mt-6 rounded-lg border border-slate-200 bg-white p-4" data-testid="actions">
            <h2 id="actions-heading" class="font-semibold">"On-call actions"</h2>
            <div class="mt-3 flex flex-wrap items-start gap-3">
                {KINDS.map(|(kind, label)| {
                    let primary = fixes.iter().any(|f| f == kind);
                    view! { <ActionButton project=project.clone() kind label on_started primary /> }
                }).collect_view()}
            </div>
        </section>
    }
}

/// Greenroom's own health, as `/readyz` sees it, with a button to check again.
#[component]
fn StatusPanel() -> impl IntoView {
    // The facts are rendered on the server (`views::shell`); a re-check
    // fetches them again.
    let initial = Resource::new(|| (), |_| async { status_fragment().await.map(Fragment) });
    let recheck = Action::new(|_: &()| async { status_fragment().await.map(Fragment) });
    let current = move || recheck.value().get().or_else(|| initial.get());
    let checking = recheck.pending();

    view! {
        <section aria-labelledby="status-heading" class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="status-panel">
            <div class="flex items-center justify-between gap-2">
                <h2 id="status-heading" class="text-lg font-semibold">"Greenroom status"</h2>
                <button
                    type="button"
                    class="shrink-0 whitespace-nowrap rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-emerald-500 disabled:opacity-50"
                    on:click=move |_| { recheck.dispatch(()); }
                    disabled=move || checking.get()
                >
                    {move || if checking.get() { "Checking…" } else { "Check again" }}
                </button>
            </div>
            <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Checking…"</p> }>
                {move || current().map(|result| match result {
                    Ok(facts) => view! { <div inner_html=facts.0></div> }.into_any(),
                    Err(e) => view! { <p role="alert" class="mt-4 text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
