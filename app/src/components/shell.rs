//! The frame around every page: the sandbox banner, the header with the
//! product name and, with several projects, the project switcher.

use crate::model::{ApiError, ShellFrame};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// The project named in `?project=`, else the first configured one.
pub fn selected_project(projects: &[String], wanted: Option<String>) -> Option<String> {
    wanted
        .and_then(|w| {
            projects
                .iter()
                .find(|p| p.eq_ignore_ascii_case(&w))
                .cloned()
        })
        .or_else(|| projects.first().cloned())
}

#[component]
pub fn SandboxBanner() -> impl IntoView {
    let info = use_shell_info();
    move || {
        info.get().and_then(Result::ok).filter(|i| i.sandbox).map(|_| {
            view! {
                <div
                    role="status"
                    data-testid="sandbox-banner"
                    class="bg-amber-100 border-b border-amber-300 px-4 py-2 text-center text-sm text-amber-900"
                >
                    <strong class="font-semibold">"Sandbox mode."</strong>
                    " Everything shown here is simulated: no vendor tokens are configured, so Greenroom talks to its built-in sandbox instead of Netlify, GitHub and Supabase."
                </div>
            }
        })
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let info = use_shell_info();
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-6xl items-center justify-between gap-4 px-4 py-3 sm:px-6">
                <a href="/" class="flex items-center gap-2 text-lg font-semibold tracking-tight text-emerald-800">
                    <span aria-hidden="true" class="inline-block h-3 w-3 rounded-full bg-emerald-600"></span>
                    "Greenroom"
                </a>
                {move || match info.get() {
                    Some(Ok(i)) => {
                        let switcher = (i.projects.len() > 1)
                            .then(|| view! { <ProjectSwitcher projects=i.projects.clone() /> });
                        let user = i.user.clone().map(|u| view! { <UserMenu user=u /> });
                        view! {
                            <div class="flex items-center gap-4">
                                {user.is_some().then(|| view! {
                                    <nav aria-label="Main" class="flex gap-4 text-sm">
                                        <a href="/" class="text-slate-700 underline-offset-2 hover:underline">"Overview"</a>
                                        <a href="/history" class="text-slate-700 underline-offset-2 hover:underline">"History"</a>
                                        <a href="/secrets" class="text-slate-700 underline-offset-2 hover:underline">"Secrets"</a>
                                        <a href="/branches" class="text-slate-700 underline-offset-2 hover:underline">"Branches"</a>
                                        <a href="/activity" class="text-slate-700 underline-offset-2 hover:underline">"Activity"</a>
                                    </nav>
                                })}
                                {switcher}
                                {user}
                            </div>
                        }.into_any()
                    }
                    Some(Err(e)) => view! {
                        <p role="alert" class="text-sm text-red-700">{e.to_string()}</p>
                    }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </header>
    }
}

/// Who is signed in, their role, and a sign-out that works without JS (a
/// same-origin POST the server answers by ending the session).
#[component]
fn UserMenu(user: crate::model::UserView) -> impl IntoView {
    let shown = user.name.clone().unwrap_or_else(|| user.login.clone());
    view! {
        <div class="flex items-center gap-3 text-sm" data-testid="user-menu">
            <span>
                <span class="font-medium">{shown}</span>
                " "
                <span data-testid="user-role" class="rounded bg-slate-100 px-1.5 py-0.5 text-xs uppercase tracking-wide text-slate-700">{user.role.clone()}</span>
                {user.unconfirmed_since_ms.map(|ms| view! {
                    " "
                    <span role="status" data-testid="role-unconfirmed" class="text-xs text-amber-800">
                        {format!("GitHub is not answering: role last confirmed {}", crate::format::utc_timestamp(ms))}
                    </span>
                })}
            </span>
            <form method="post" action="/auth/sign-out">
                <button type="submit" class="rounded-md border border-slate-300 px-2 py-1 hover:bg-slate-50">"Sign out"</button>
            </form>
        </div>
    }
}

/// A plain GET form, so it works before hydration and without JS; once
/// hydrated, changing the selection navigates at once.
#[component]
fn ProjectSwitcher(projects: Vec<String>) -> impl IntoView {
    let names = projects.clone();
    let query = use_query_map();
    let current = move || {
        let wanted = query.with(|q| q.get("project"));
        selected_project(&projects, wanted).unwrap_or_default()
    };
    let navigate = use_navigate();
    let on_change = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        navigate(&format!("/?project={name}"), Default::default());
    };
    view! {
        <form method="get" action="/" class="flex items-center gap-2 text-sm">
            <label for="project-switcher" class="text-slate-600">"Project"</label>
            <select
                id="project-switcher"
                name="project"
                class="rounded-md border border-slate-300 bg-white px-2 py-1"
                on:change=on_change
                prop:value=current.clone()
            >
                {names
                    .into_iter()
                    .map(|name| {
                        let selected = name == current();
                        view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                    })
                    .collect_view()}
            </select>
            <noscript>
                <button type="submit" class="rounded-md border border-slate-300 px-2 py-1">"Switch"</button>
            </noscript>
        </form>
    }
}

/// The shell info loaded by [`crate::App`], for components below it.
pub fn use_shell_info() -> Resource<Result<ShellFrame, ApiError>> {
    expect_context::<Resource<Result<ShellFrame, ApiError>>>()
}
