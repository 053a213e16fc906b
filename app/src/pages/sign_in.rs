//! `/sign-in`: what signing in does, who may, why an attempt was refused,
//! and the way in (a plain link, so it works before the page hydrates).

use crate::api::shell::get_sign_in_state;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let state = Resource::new_blocking(|| (), |_| get_sign_in_state());
    let query = use_query_map();
    let login_href = move || {
        let next = query.with(|q| q.get("next")).unwrap_or_default();
        if next.is_empty() {
            "/auth/login".to_string()
        } else {
            format!("/auth/login?next={}", crate::format::query_escape(&next))
        }
    };
    view! {
        <Title text="Sign in" />
        <section class="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold tracking-tight">"Sign in to Greenroom"</h1>
            <Suspense fallback=|| view! { <p class="mt-4 text-slate-600">"Loading…"</p> }>
                {move || state.get().map(|r| match r {
                    Err(e) => view! { <p role="alert" class="mt-4 text-red-700">{e.to_string()}</p> }.into_any(),
                    Ok(s) => {
                        let teams = s.teams.clone();
                        let default_role = s.default_role.clone();
                        view! {
                            {s.refusal.clone().map(|why| view! {
                                <div role="alert" data-testid="refusal" class="mt-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900">
                                    <strong class="font-semibold">"You were not signed in. "</strong>{why}
                                </div>
                            })}
                            <p class="mt-4 text-slate-700">
                                "Greenroom uses your GitHub account. Members of the GitHub organization "
                                <strong>{s.org.clone()}</strong>
                                " may sign in; your teams there decide what you may do. Greenroom reads your public profile once to know who you are and keeps no GitHub token of yours."
                            </p>
                            {s.sandbox.then(|| view! {
                                <p class="mt-3 text-sm text-amber-900">
                                    "Sandbox mode: the GitHub page you are sent to is the sandbox's. Pick which team member to be."
                                </p>
                            })}
                            <h2 class="mt-6 text-sm font-semibold uppercase tracking-wide text-slate-500">"Teams and roles"</h2>
                            <p class="mt-2 text-sm" data-testid="team-roles">
                                {teams.iter().map(|(t, r)| format!("{t} → {r}")).collect::<Vec<_>>().join(" · ")}
                            </p>
                            <p class="mt-1 text-sm text-slate-600">{match default_role {
                                Some(r) => format!("Members in none of these teams: {r}."),
                                None => "Members in none of these teams may not sign in.".to_string(),
                            }}</p>

                            {if s.signed_in {
                                view! { <p class="mt-6"><a href="/" class="text-emerald-800 underline">"You are signed in: go to Greenroom"</a></p> }.into_any()
                            } else {
                                view! {
                                    <p class="mt-6">
                                        <a
                                            href=login_href
                                            rel="external"
                                            data-testid="sign-in-with-github"
                                            class="inline-block rounded-md bg-slate-900 px-4 py-2 font-medium text-white hover:bg-slate-700 focus:outline-none focus:ring-2 focus:ring-emerald-500"
                                        >
                                            "Sign in with GitHub"
                                        </a>
                                    </p>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}
